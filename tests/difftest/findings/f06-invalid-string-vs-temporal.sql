-- A string that is no date against a DATE/DATETIME/TIME column.
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20), d DATE, dt DATETIME, tm TIME) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (1, 'abc', '2020-01-02', '2020-01-02 03:04:05', '12:00:00');
SELECT s < d, s < dt, s < tm, s = d FROM t;
