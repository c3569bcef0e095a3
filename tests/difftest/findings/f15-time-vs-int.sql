-- TIME against an integer column.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, tm TIME, i INT) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, '838:59:59', 20200102), (2, '12:00:00', 120000);
SELECT id, tm < i, tm = i FROM t ORDER BY id;
