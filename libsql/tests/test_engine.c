/* test_engine.c: the SQL engine end to end through the protocol engine:
 * DDL and the catalog (kept across a restart on RocksDB), SHOW and
 * DESCRIBE, system variables and SET, USE, errors MySQL gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static void databases_and_use(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d1", "OK 1 0 0");
    Q(&c, "CREATE DATABASE d1",
      "ERR 1007 Can't create database 'd1'; database exists");
    Q(&c, "CREATE DATABASE IF NOT EXISTS d1", "OK 0 0 1");
    Q(&c, "SHOW WARNINGS",
      "Note|1007|Can't create database 'd1'; database exists");
    Q(&c, "CREATE SCHEMA d0", "OK 1 0 0");
    Q(&c, "SHOW DATABASES", "d0\nd1\ninformation_schema");
    Q(&c, "SHOW DATABASES LIKE 'd%'", "d0\nd1");
    Q(&c, "USE nosuch", "ERR 1049 Unknown database 'nosuch'");
    Q(&c, "CREATE TABLE t (a INT)", "ERR 1046 No database selected");
    Q(&c, "USE d1", "OK 0 0 0");
    Q(&c, "DROP DATABASE d0", "OK 0 0 0");
    Q(&c, "DROP DATABASE d0",
      "ERR 1008 Can't drop database 'd0'; database doesn't exist");
    Q(&c, "DROP DATABASE IF EXISTS d0", "OK 0 0 1");
    Q(&c, "SHOW DATABASES", "d1\ninformation_schema");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void tables_describe_and_show_create(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d; USE d", "OK 1 0 0\n--\nOK 0 0 0");
    Q(&c,
      "CREATE TABLE t (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY "
      "KEY, name VARCHAR(20) NOT NULL DEFAULT 'x', k INT, price "
      "DECIMAL(10,2) DEFAULT 0, UNIQUE KEY uk (name), KEY (k, price)) "
      "ENGINE=InnoDB COMMENT='the t'",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE t (a INT)", "ERR 1050 Table 't' already exists");
    Q(&c, "CREATE TABLE IF NOT EXISTS t (a INT)", "OK 0 0 1");
    Q(&c, "SHOW TABLES", "t");
    c.headers = true;
    Q(&c, "DESCRIBE t",
      "Field|Type|Null|Key|Default|Extra\n"
      "id|bigint unsigned|NO|PRI|NULL|auto_increment\n"
      "name|varchar(20)|NO|UNI|x|\n"
      "k|int|YES|MUL|NULL|\n"
      "price|decimal(10,2)|YES||0.00|");
    c.headers = false;
    Q(&c, "SHOW CREATE TABLE t",
      "t|CREATE TABLE `t` (\n"
      "  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n"
      "  `name` varchar(20) NOT NULL DEFAULT 'x',\n"
      "  `k` int DEFAULT NULL,\n"
      "  `price` decimal(10,2) DEFAULT '0.00',\n"
      "  PRIMARY KEY (`id`),\n"
      "  UNIQUE KEY `uk` (`name`),\n"
      "  KEY `k` (`k`,`price`)\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci "
      "COMMENT='the t'");
    Q(&c, "SHOW INDEX FROM t",
      "t|0|PRIMARY|1|id|A|0|NULL|NULL||BTREE|||YES|NULL\n"
      "t|0|uk|1|name|A|0|NULL|NULL||BTREE|||YES|NULL\n"
      "t|1|k|1|k|A|0|NULL|NULL|YES|BTREE|||YES|NULL\n"
      "t|1|k|2|price|A|0|NULL|NULL|YES|BTREE|||YES|NULL");
    Q(&c, "DESCRIBE t 'n%'", "name|varchar(20)|NO|UNI|x|");
    Q(&c, "DESCRIBE nosuch", "ERR 1146 Table 'd.nosuch' doesn't exist");
    /* Definitions MySQL refuses. */
    Q(&c, "CREATE TABLE e (a INT, a INT)",
      "ERR 1060 Duplicate column name 'a'");
    Q(&c, "CREATE TABLE e (a INT PRIMARY KEY, b INT PRIMARY KEY)",
      "ERR 1068 Multiple primary key defined");
    Q(&c, "CREATE TABLE e (a INT, KEY (b))",
      "ERR 1072 Key column 'b' doesn't exist in table");
    Q(&c, "CREATE TABLE e (a INT AUTO_INCREMENT)",
      "ERR 1075 Incorrect table definition; there can be only one auto "
      "column and it must be defined as a key");
    Q(&c, "CREATE TABLE e (a INT NOT NULL DEFAULT NULL)",
      "ERR 1067 Invalid default value for 'a'");
    Q(&c, "CREATE TABLE e (a INT, KEY i (a), KEY i (a))",
      "ERR 1061 Duplicate key name 'i'");
    Q(&c, "CREATE TABLE e (a DECIMAL(66,2))",
      "ERR 1426 Too-big precision 66 specified for 'a'. Maximum is 65.");
    Q(&c, "CREATE TABLE e (a TEXT, KEY (a))",
      "ERR 1170 BLOB/TEXT column 'a' used in key specification without a "
      "key length");
    Q(&c, "CREATE TEMPORARY TABLE e (a INT)",
      "ERR 1235 This version of sqld doesn't yet support 'TEMPORARY tables'");
    Q(&c, "SHOW TABLES", "t");
    /* LIKE, RENAME, TRUNCATE, DROP. */
    Q(&c, "CREATE TABLE t2 LIKE t", "OK 0 0 0");
    Q(&c, "RENAME TABLE t2 TO t3", "OK 0 0 0");
    Q(&c, "SHOW FULL TABLES", "t|BASE TABLE\nt3|BASE TABLE");
    Q(&c, "RENAME TABLE t3 TO t", "ERR 1050 Table 't' already exists");
    Q(&c, "TRUNCATE TABLE t3", "OK 0 0 0");
    Q(&c, "SHOW COLUMNS FROM t3 LIKE 'k'", "k|int|YES|MUL|NULL|");
    Q(&c, "DROP TABLE t3, nosuch", "ERR 1051 Unknown table 'd.nosuch'");
    Q(&c, "DROP TABLE IF EXISTS t3, nosuch", "OK 0 0 1");
    Q(&c, "SHOW TABLES", "t");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void catalog_survives_restart(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, true);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "CREATE TABLE d.t (a INT PRIMARY KEY, b CHAR(3) COLLATE "
          "utf8mb4_bin, KEY (b))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE d.u (a INT)", "OK 0 0 0");
    Q(&c, "DROP TABLE d.u", "OK 0 0 0");
    sqlfx_disconnect(&c);
    sqlfx_reopen(&f);
    sqlfx_connect(&f, &c, 2);
    Q(&c, "SHOW TABLES FROM d", "t");
    Q(&c, "SHOW FULL COLUMNS FROM d.t",
      "a|int|NULL|NO|PRI|NULL||select,insert,update,references|\n"
      "b|char(3)|utf8mb4_bin|YES|MUL|NULL||select,insert,update,references|");
    Q(&c, "CREATE TABLE d.u (a INT)", "OK 0 0 0");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void variables_and_set(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, c2;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "SHOW VARIABLES LIKE 'autocommit'", "autocommit|ON");
    Q(&c, "SET autocommit = 0", "OK 0 0 0");
    Q(&c, "SHOW SESSION VARIABLES LIKE 'autocommit'", "autocommit|OFF");
    Q(&c, "SET @@session.autocommit = ON, sql_mode = 'traditional'",
      "OK 0 0 0");
    Q(&c, "SHOW VARIABLES LIKE 'sql_mode'",
      "sql_mode|STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
      "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,TRADITIONAL,"
      "NO_ENGINE_SUBSTITUTION");
    Q(&c, "SET sql_mode = 'nonsense'",
      "ERR 1231 Variable 'sql_mode' can't be set to the value of "
      "'nonsense'");
    Q(&c, "SET nosuch = 1", "ERR 1193 Unknown system variable 'nosuch'");
    Q(&c, "SET version = 'x'",
      "ERR 1238 Variable 'version' is a read only variable");
    Q(&c, "SET max_connections = 10",
      "ERR 1229 Variable 'max_connections' is a GLOBAL variable and should "
      "be set with SET GLOBAL");
    Q(&c, "SET autocommit = 'maybe'",
      "ERR 1231 Variable 'autocommit' can't be set to the value of 'maybe'");
    Q(&c, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
      "OK 0 0 0");
    Q(&c, "SHOW VARIABLES LIKE 'transaction_isolation'",
      "transaction_isolation|READ-COMMITTED");
    Q(&c, "SET NAMES utf8mb4 COLLATE utf8mb4_bin", "OK 0 0 0");
    Q(&c, "SHOW VARIABLES LIKE 'collation_connection'",
      "collation_connection|utf8mb4_bin");
    Q(&c, "SET GLOBAL wait_timeout = 100", "OK 0 0 0");
    /* A global change is what new sessions start with. */
    sqlfx_connect(&f, &c2, 2);
    Q(&c2, "SHOW VARIABLES LIKE 'wait_timeout'", "wait_timeout|100");
    Q(&c, "SHOW VARIABLES LIKE 'wait_timeout'", "wait_timeout|28800");
    Q(&c2, "SET wait_timeout = DEFAULT", "OK 0 0 0");
    Q(&c2, "SHOW PROCESSLIST", "2|root|localhost|NULL|Query|0|executing|"
                                "SHOW PROCESSLIST\n"
                                "1|root|localhost|NULL|Sleep|0||NULL");
    sqlfx_disconnect(&c2);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void transactions_and_status(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "START TRANSACTION; ROLLBACK", "OK 0 0 0\n--\nOK 0 0 0");
    Q(&c, "", "ERR 1065 Query was empty");
    Q(&c, "SELEC 1",
      "ERR 1064 You have an error in your SQL syntax; check the manual that "
      "corresponds to your MySQL server version for the right syntax to use "
      "near 'SELEC 1' at line 1");
    /* An error ends a multi-statement query. */
    Q(&c, "BEGIN; USE nosuch; COMMIT",
      "OK 0 0 0\n--\nERR 1049 Unknown database 'nosuch'");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "CREATE USER u", "OK 0 0 0"); /* test_acct.c has the rest */
    Q(&c, "SHOW ENGINES", "InnoDB|DEFAULT|Snapshot-isolated transactions on "
                          "libmvcc (every table)|YES|NO|NO");
    Q(&c, "SHOW TRIGGERS", "");
    Q(&c, "LOCK TABLES t READ; UNLOCK TABLES", "OK 0 0 0\n--\nOK 0 0 0");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void information_schema(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "CREATE TABLE d.t (id INT PRIMARY KEY AUTO_INCREMENT, v "
          "VARCHAR(5) DEFAULT 'z', n DECIMAL(5,1), UNIQUE KEY uv (v))",
      "OK 0 0 0");
    Q(&c, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM "
          "information_schema.SCHEMATA ORDER BY 1",
      "d|utf8mb4\ninformation_schema|utf8mb3");
    Q(&c, "SELECT table_name, table_type, engine FROM "
          "information_schema.tables WHERE table_schema = 'd'",
      "t|BASE TABLE|InnoDB");
    Q(&c, "SELECT column_name, ordinal_position, column_default, "
          "is_nullable, data_type, character_maximum_length, "
          "numeric_precision, numeric_scale, column_type, column_key, extra "
          "FROM information_schema.columns WHERE table_name = 't'",
      "id|1|NULL|NO|int|NULL|10|0|int|PRI|auto_increment\n"
      "v|2|z|YES|varchar|5|NULL|NULL|varchar(5)|UNI|\n"
      "n|3|NULL|YES|decimal|NULL|5|1|decimal(5,1)||");
    Q(&c, "SELECT index_name, seq_in_index, column_name, non_unique FROM "
          "information_schema.statistics WHERE table_schema = 'd'",
      "PRIMARY|1|id|0\nuv|1|v|0");
    Q(&c, "SELECT * FROM information_schema.nosuch",
      "ERR 1109 Unknown table 'nosuch' in information_schema");
    Q(&c, "USE information_schema", "OK 0 0 0");
    Q(&c, "SHOW TABLES LIKE '%S'",
      "TABLES\nCOLUMNS\nSTATISTICS\nENGINES\nCHARACTER_SETS\nCOLLATIONS\n"
      "TRIGGERS\nROUTINES\nVIEWS\nEVENTS\nPARTITIONS\n"
      "REFERENTIAL_CONSTRAINTS\nUSER_PRIVILEGES\nSCHEMA_PRIVILEGES\n"
      "TABLE_PRIVILEGES");
    Q(&c, "SELECT COUNT(*) FROM tables WHERE table_schema = 'd'", "1");
    Q(&c, "SELECT trigger_name FROM triggers", "");
    /* SET takes expressions: user and system variables. */
    Q(&c, "SET @a = 1 + 2, @m = @@sql_mode, sql_mode = ''", "OK 0 0 0");
    Q(&c, "SELECT @a, @@sql_mode", "3|");
    Q(&c, "SET sql_mode = @m", "OK 0 0 0");
    /* SHOW ... WHERE filters on the result's columns. */
    Q(&c, "SHOW VARIABLES WHERE Variable_name IN ('autocommit', 'port')",
      "autocommit|ON\nport|4000");
    Q(&c, "SHOW DATABASES WHERE `Database` LIKE 'in%'", "information_schema");
    Q(&c, "SHOW VARIABLES WHERE nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT @@sql_mode = @m", "1");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(databases_and_use),
        cmocka_unit_test(tables_describe_and_show_create),
        cmocka_unit_test(catalog_survives_restart),
        cmocka_unit_test(variables_and_set),
        cmocka_unit_test(transactions_and_status),
        cmocka_unit_test(information_schema),
    };
    return cmocka_run_group_tests_name("libsql/engine", tests, NULL, NULL);
}
