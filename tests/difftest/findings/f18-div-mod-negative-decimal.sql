-- Integer division and remainder by a negative DECIMAL, compared.
DROP TABLE IF EXISTS t;
CREATE TABLE t (c1 SMALLINT NOT NULL PRIMARY KEY, c2 DECIMAL(13,2)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES (32767, -99999999999.99);
SELECT c1 DIV c2, c2 MOD c2, (c1 DIV c2) = (c2 MOD c2), (c1 DIV c2) = 0, (c2 MOD c2) = 0 FROM t;
SELECT c1 FROM t WHERE (c1 DIV c2) = (c2 MOD c2);
