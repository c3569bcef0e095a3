-- A constant expression that overflows, on an empty table.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
SELECT id FROM t WHERE (10 * 9223372036854775807) >= 0;
UPDATE t SET id = 1 WHERE 0.5 <= ROUND(9223372036854775807, -1);
