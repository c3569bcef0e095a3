/* test_enumset.c: ENUM and SET columns end to end (stored as index /
 * bitmask: string context gives the member, numeric context the number,
 * ORDER BY the member order, strict-mode 1265 and the non-strict warning
 * with the '' error value, FIND_IN_SET, an index on an ENUM, SHOW CREATE
 * TABLE), and the integer overflow errors (1690 for + - * on BIGINT and
 * BIGINT UNSIGNED, 1264 on insert in strict mode), as MySQL 8.0's manual
 * ("The ENUM Type", "The SET Type", "Out-of-Range and Overflow Handling")
 * describes them. DESIGN.md, "Values and types".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(sql, want) assert_string_equal(sqlfx_q(&c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q("CREATE TABLE e (id INT PRIMARY KEY, sz ENUM('small', 'medium', "
      "'large') NOT NULL DEFAULT 'medium', fl SET('a', 'b', 'c', 'd'), "
      "KEY (sz))",
      "OK 0 0 0");
    Q("INSERT INTO e VALUES (1, 'large', 'a,c'), (2, 'small', ''), "
      "(3, 'MEDIUM', 'd,a'), (4, 2, 5), (5, 'large ', NULL)",
      "OK 5 0 0");
    Q("INSERT INTO e (id) VALUES (6)", "OK 1 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void contexts(void **state)
{
    (void)state;
    /* Members as declared (case and trailing spaces folded), SET members
     * in declaration order, numbers naming index / bitmask. */
    Q("SELECT * FROM e ORDER BY id",
      "1|large|a,c\n2|small|\n3|medium|a,d\n4|medium|a,c\n5|large|NULL\n"
      "6|medium|NULL");
    Q("SELECT id, sz + 0, fl + 0, CAST(sz AS SIGNED), sz = 'large', "
      "sz = 3, CONCAT(sz, '!'), LENGTH(fl) FROM e ORDER BY id",
      "1|3|5|3|1|1|large!|3\n2|1|0|1|0|0|small!|0\n3|2|9|2|0|0|medium!|3\n"
      "4|2|5|2|0|0|medium!|3\n5|3|NULL|3|1|1|large!|NULL\n"
      "6|2|NULL|2|0|0|medium!|NULL");
    Q("SELECT id FROM e WHERE sz = 'medium' ORDER BY id", "3\n4\n6");
    Q("SELECT id FROM e WHERE sz > 1 ORDER BY id", "1\n3\n4\n5\n6");
    Q("SELECT id FROM e WHERE sz IN ('small', 'large') ORDER BY id",
      "1\n2\n5");
    /* Ranges compare the text, so the index on sz (member order) is not
     * used for them; a number compares with the index. */
    Q("SELECT id FROM e WHERE sz > 'large' ORDER BY id", "2\n3\n4\n6");
    Q("SELECT id FROM e WHERE sz BETWEEN 'm' AND 'n' ORDER BY id",
      "3\n4\n6");
    Q("SELECT id, sz * 1.5, -sz, sz - 5 FROM e WHERE id < 3 ORDER BY id",
      "1|4.5|-3|-2\n2|1.5|-1|-4");
    Q("SELECT id FROM e WHERE FIND_IN_SET('c', fl) ORDER BY id", "1\n4");
    Q("SELECT id FROM e WHERE fl & 1 ORDER BY id", "1\n3\n4");
    Q("SELECT id FROM e WHERE fl = 'a,d' ORDER BY id", "3");
    /* MIN/MAX compare the text (the manual, "The ENUM Type"). */
    Q("SELECT MAX(sz), MIN(sz) FROM e", "small|large");
    Q("SELECT e1.id, e2.id FROM e e1 JOIN e e2 ON e1.sz = e2.sz "
      "WHERE e1.id < e2.id ORDER BY 1, 2",
      "1|5\n3|4\n3|6\n4|6");
}

/* ORDER BY and GROUP BY go by index, not by text. */
static void ordering(void **state)
{
    (void)state;
    Q("SELECT id, sz FROM e ORDER BY sz, id",
      "2|small\n3|medium\n4|medium\n6|medium\n1|large\n5|large");
    Q("SELECT sz, COUNT(*) FROM e GROUP BY sz ORDER BY sz",
      "small|1\nmedium|3\nlarge|2");
    Q("SELECT DISTINCT sz FROM e ORDER BY sz DESC", "large\nmedium\nsmall");
    Q("SELECT id, fl FROM e WHERE fl IS NOT NULL ORDER BY fl, id",
      "2|\n1|a,c\n4|a,c\n3|a,d");
}

static void errors(void **state)
{
    (void)state;
    Q("INSERT INTO e VALUES (7, 'huge', 'a')",
      "ERR 1265 Data truncated for column 'sz' at row 1");
    Q("INSERT INTO e VALUES (7, 'small', 'a,x')",
      "ERR 1265 Data truncated for column 'fl' at row 1");
    Q("INSERT INTO e VALUES (7, 9, 'a')",
      "ERR 1265 Data truncated for column 'sz' at row 1");
    Q("INSERT INTO e VALUES (7, 'small', 99)",
      "ERR 1265 Data truncated for column 'fl' at row 1");
    /* Non-strict: the '' error value (index 0) and the known members. */
    Q("SET sql_mode = ''", "OK 0 0 0");
    Q("INSERT INTO e VALUES (7, 'huge', 'a,x')", "OK 1 0 2");
    Q("SHOW WARNINGS",
      "Warning|1265|Data truncated for column 'sz' at row 1\n"
      "Warning|1265|Data truncated for column 'fl' at row 1");
    Q("SELECT id, sz, sz + 0, fl, fl + 0 FROM e WHERE id = 7",
      "7||0|a|1");
    Q("SELECT id, sz FROM e ORDER BY sz, id LIMIT 2", "7|\n2|small");
    Q("SET sql_mode = DEFAULT", "OK 0 0 0");
    Q("DELETE FROM e WHERE id = 7", "OK 1 0 0");
}

/* Writes through the index on sz, and the table's definition. */
static void updates(void **state)
{
    (void)state;
    Q("UPDATE e SET sz = 'small' WHERE sz = 'large'", "OK 2 0 0");
    Q("SELECT id FROM e WHERE sz = 'small' ORDER BY id", "1\n2\n5");
    Q("UPDATE e SET sz = sz + 1 WHERE id = 1", "OK 1 0 0");
    Q("UPDATE e SET fl = CONCAT(fl, ',b') WHERE id = 1", "OK 1 0 0");
    Q("SELECT sz, fl FROM e WHERE id = 1", "medium|a,b,c");
    Q("UPDATE e SET sz = 'large' WHERE id IN (1, 5)", "OK 2 0 0");
    Q("UPDATE e SET fl = 'a,c' WHERE id = 1", "OK 1 0 0");
    Q("SHOW CREATE TABLE e",
      "e|CREATE TABLE `e` (\n  `id` int NOT NULL,\n"
      "  `sz` enum('small','medium','large') NOT NULL DEFAULT 'medium',\n"
      "  `fl` set('a','b','c','d') DEFAULT NULL,\n  PRIMARY KEY (`id`),\n"
      "  KEY `sz` (`sz`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
      "COLLATE=utf8mb4_general_ci");
}

/* ALTER TABLE keeps each row's member when the members move, and
 * converts to and from other types by the text. */
static void alter(void **state)
{
    (void)state;
    Q("CREATE TABLE a (id INT PRIMARY KEY, e ENUM('x','y','z'), "
      "s SET('p','q'), KEY (e))",
      "OK 0 0 0");
    Q("INSERT INTO a VALUES (1, 'y', 'p,q'), (2, 'x', 'q'), (3, 'z', 'p')",
      "OK 3 0 0");
    Q("ALTER TABLE a MODIFY e ENUM('z','y','x','w')", "OK 0 0 0");
    Q("SELECT id, e, e + 0 FROM a ORDER BY id", "1|y|2\n2|x|3\n3|z|1");
    Q("SELECT id FROM a WHERE e = 'z'", "3");
    Q("ALTER TABLE a MODIFY s SET('q','p')", "OK 0 0 0");
    Q("SELECT id, s, s + 0 FROM a ORDER BY id", "1|q,p|3\n2|q|1\n3|p|2");
    Q("ALTER TABLE a MODIFY e VARCHAR(5)", "OK 0 0 0");
    Q("SELECT id, e FROM a ORDER BY id", "1|y\n2|x\n3|z");
    Q("ALTER TABLE a MODIFY e ENUM('x','y','z')", "OK 0 0 0");
    Q("SELECT id, e, e + 0 FROM a ORDER BY e", "2|x|1\n1|y|2\n3|z|3");
    Q("DROP TABLE a", "OK 0 0 0");
}

/* The manual's "Out-of-Range and Overflow Handling". */
static void overflow(void **state)
{
    (void)state;
    Q("SELECT 9223372036854775807 + 1",
      "ERR 1690 BIGINT value is out of range in "
      "'(9223372036854775807 + 1)'");
    Q("SELECT 18446744073709551615 + 1",
      "ERR 1690 BIGINT UNSIGNED value is out of range in "
      "'(18446744073709551615 + 1)'");
    Q("SELECT 4294967296 * 4294967296",
      "ERR 1690 BIGINT value is out of range in "
      "'(4294967296 * 4294967296)'");
    Q("SELECT 9223372036854775807 + 1.0, 9223372036854775807 + 1e0",
      "9223372036854775808.0|9.223372036854776e18");
    Q("CREATE TABLE o (a TINYINT, b INT UNSIGNED, c BIGINT)", "OK 0 0 0");
    Q("INSERT INTO o VALUES (128, 0, 0)",
      "ERR 1264 Out of range value for column 'a' at row 1");
    Q("INSERT INTO o VALUES (0, -1, 0)",
      "ERR 1264 Out of range value for column 'b' at row 1");
    Q("INSERT INTO o VALUES (0, 0, 9223372036854775808)",
      "ERR 1264 Out of range value for column 'c' at row 1");
    Q("INSERT INTO o VALUES (1, 2, 9223372036854775807)", "OK 1 0 0");
    Q("SELECT c + a FROM o",
      "ERR 1690 BIGINT value is out of range in '(c + a)'");
    Q("SELECT a - b FROM o",
      "ERR 1690 BIGINT UNSIGNED value is out of range in '(a - b)'");
    Q("SELECT c - a, c * 1 FROM o", "9223372036854775806|9223372036854775807");
    Q("UPDATE o SET c = c + 1",
      "ERR 1690 BIGINT value is out of range in '(c + 1)'");
    Q("DROP TABLE o", "OK 0 0 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contexts), cmocka_unit_test(ordering),
        cmocka_unit_test(errors),   cmocka_unit_test(updates),
        cmocka_unit_test(alter),
        cmocka_unit_test(overflow),
    };
    return cmocka_run_group_tests_name("libsql/enumset", tests, setup,
                                       teardown);
}
