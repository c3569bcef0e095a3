-- ROUND(-int_column, -1): the result type.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, c INT) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, -510);
SELECT ROUND(-c, -1), ROUND(c, -1) FROM t;
