-- ROUND(x, 2) of a large double: fixed-decimal text of 300+ digits.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, c DOUBLE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, 1.7e308), (2, 1e100), (3, 1e30);
SELECT ROUND(c, 2) FROM t ORDER BY id;
SELECT ROUND(1.7e308, 2);
