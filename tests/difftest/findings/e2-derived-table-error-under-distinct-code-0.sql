-- seed 803 round 3081 statement 2 (E2, fixed by 584b2a3; with the fix sqld's 1690 against MariaDB's rows is F12/FJ2: MariaDB merges the CTE and never evaluates the row)
-- why: outcome: mariadb rows, sqld err (ERROR 0, no message)
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 BIGINT NOT NULL, c1 FLOAT NOT NULL, c2 VARCHAR(20), c3 FLOAT NOT NULL, PRIMARY KEY (c1, c0), KEY i0 (c0, c1), KEY i1 (c3), KEY i2 (c3)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (-9223372036854775808, -392.623, '_', 594.3);
WITH c AS (SELECT * FROM t WHERE c1 >= (c0 + c0)) SELECT DISTINCT c3 FROM c WHERE c1 <=> 821.019 ORDER BY c3;
