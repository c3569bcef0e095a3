-- A DECIMAL quotient used further: how many digits it keeps.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, c0 DECIMAL(11,3), c2 TINYINT UNSIGNED) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, 641737.053, 54);
SELECT (0.5 / c2) * 2020, 0.5 / c2 FROM t;
SELECT c0 DIV (2 / c0), 2 / c0 FROM t;
