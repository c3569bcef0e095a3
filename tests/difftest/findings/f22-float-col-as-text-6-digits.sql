-- seed 703 round 4532 statement 9
-- why: row 4: mariadb ("it's", '1', '1'), sqld ("it's", '1.0000001', '1')
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 FLOAT NOT NULL, c1 VARCHAR(3), c2 CHAR(5) NOT NULL, c3 TEXT, PRIMARY KEY (c0), UNIQUE KEY i0 (c0)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1.5e-7, '  l', 'it''s', '0');
UPDATE t SET c0 = c0 + 1 WHERE c0 NOT BETWEEN -406.0 AND -2.5;
SELECT CAST(c0 AS CHAR) FROM t;
