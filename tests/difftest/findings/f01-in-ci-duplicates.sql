-- IN list holding collation-equal strings, on a ci primary key.
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 CHAR(3) NOT NULL, c1 INT, PRIMARY KEY (c0)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES ('a', 1);
SELECT * FROM t WHERE c0 IN ('a', 'A');
SELECT COUNT(*) FROM t WHERE c0 IN ('a', 'a ');
DELETE FROM t WHERE c0 IN ('A', 'a');
SELECT * FROM t WHERE c0 IN ('b', 'b');
INSERT INTO t VALUES ('b', 2);
SELECT * FROM t WHERE c0 IN ('b', 'b');
