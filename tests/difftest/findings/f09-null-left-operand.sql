-- A comparison whose left side is NULL still evaluates its right side.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, c DOUBLE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, 3.4e38);
SELECT * FROM t WHERE (NULL - c) = (c DIV 0.5);
