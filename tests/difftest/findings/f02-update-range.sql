-- UPDATE SET col = expression stores values out of the column's range.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, d DECIMAL(2,2), i TINYINT, n INT NOT NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, 0.98, 127, 5);
UPDATE t SET d = d + 1;
UPDATE t SET i = i + 1;
UPDATE t SET n = NULL;
SELECT * FROM t ORDER BY id;
