-- FS2: MariaDB 10.11.19 runs this statement forever (KILL does not stop
-- it); sqld answers no rows. Replay with care: the MariaDB connection
-- times out and the server must be restarted.
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 CHAR(10), c1 FLOAT, c2 TIME, c3 INT UNSIGNED NOT NULL, c4 TINYINT UNSIGNED NOT NULL, c5 DATE NOT NULL, PRIMARY KEY (c5), UNIQUE KEY i0 (c4, c2), UNIQUE KEY i1 (c3), KEY i2 (c4, c1)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES ('_', 1e30, '41:11:26', 126, 255, '2004-03-18');
UPDATE t SET c0 = 'b' WHERE c3 <> 0;
INSERT INTO t VALUES ('A', NULL, '-18:50:08', 4294967295, 0, '2011-08-25');
UPDATE t SET c2 = '838:59:59' WHERE c4 <> 45;
SELECT AVG(c4), COUNT(c0) FROM t WHERE (((c0 = 'abc' AND c2 IN ('33:36:14')) OR (c2 <> NULL AND c0 IS NULL)) OR c4 IN (186, 1, 10, 115)) INTERSECT ALL SELECT AVG(c4), COUNT(c0) FROM t WHERE c1 <=> NULL EXCEPT ALL SELECT AVG(c4), COUNT(c0) FROM t WHERE c1 < 0.1;
