-- FS1: MariaDB answers 1060 for two result columns of one name when a
-- UNION has an INTERSECT on its right (it materializes that part); the
-- same blocks joined by one operator alone give rows there too. sqld (as
-- MySQL 8) answers the rows.
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 VARCHAR(3) NOT NULL, c1 VARCHAR(1) NOT NULL, PRIMARY KEY (c0, c1));
INSERT INTO t VALUES ('abc', 'b');
SELECT c0, COUNT(c0), COUNT(c0) FROM t GROUP BY c0 UNION SELECT c0, COUNT(c0), COUNT(c0) FROM t GROUP BY c0 INTERSECT SELECT c0, COUNT(c0), COUNT(c0) FROM t GROUP BY c0;
