-- seed 701 round 11024 statement 19
-- why: outcome: mariadb err, sqld ok
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 SMALLINT, c1 VARCHAR(3) NOT NULL, c2 DATE NOT NULL, PRIMARY KEY (c2, c1), KEY i0 (c1), UNIQUE KEY i1 (c0, c2), KEY i2 (c2, c0)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
UPDATE t, (SELECT 1 AS one) AS z SET c0 = c0 + -1 WHERE c0 NOT IN (NULL, NULL);
SELECT * FROM t ORDER BY c2, c1;
