-- seed 802 round 5633 statement 4 (E3, plan-dependent: MariaDB scans PRIMARY, sqld the range on i0 whose c0 the UPDATE sets; FINDINGS session 12): a strict UPDATE whose WHERE divides by zero on a row both servers read
-- why: outcome: mariadb err (1365 Division by 0), sqld ok
DROP TABLE IF EXISTS t;
CREATE TABLE t (c0 DATETIME(3) NOT NULL, c1 DATETIME NOT NULL, c2 DOUBLE NOT NULL, PRIMARY KEY (c2), UNIQUE KEY i0 (c1, c0)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO t VALUES ('2008-08-28 18:05:03', '2010-10-13 12:14:40', 0);
INSERT INTO t VALUES ('1990-08-25 03:43:44.301', '2027-01-20 11:11:28', -995.452);
INSERT INTO t VALUES ('2000-02-29 12:00:00', '2026-06-28 04:51:04', 953.5);
INSERT INTO t VALUES ('2012-04-25 12:21:57.640', '2014-07-02 02:21:11', -926.0);
UPDATE t SET c0 = '1999-10-10 11:01:14.791' WHERE (c1 BETWEEN '1993-11-13 16:31:17' AND '9999-12-31 23:59:59' AND 100 < (c2 / c2));
SELECT * FROM t ORDER BY c2;
