-- <=> with a constant on the primary key, next to an expression that overflows.
DROP TABLE IF EXISTS t;
CREATE TABLE t (c1 SMALLINT NOT NULL PRIMARY KEY, c3 DOUBLE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (-916, 1.7e308);
SELECT c1 FROM t WHERE POW(c3, 2) > 0 AND c1 <=> 507;
SELECT c1 FROM t WHERE POW(c3, 2) > 0 AND c1 = 507;
