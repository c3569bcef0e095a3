#!/usr/bin/env python3
# test_sql_users.py: accounts, privileges and KILL on a real sqld
# (--store=local, a temporary data dir, root's password from
# --root-password), driven by pymysql and the mariadb CLI: logins with
# mysql_native_password and caching_sha2_password, good and bad, grants and
# revokes seen by live and new connections, everything kept across a
# restart, KILL QUERY of a statement waiting for a row lock, KILL
# CONNECTION, and a mariadb-dump round trip as root with a password.
# Prints cmocka-style lines for tests/run-suites.sh.
import subprocess
import sys
import threading
import time

import pymysql

import sqldfx
from sqldfx import eq, err, q

ROOT_PW = "r00t pw"

srv = sqldfx.Sqld("dsql-users-", [])
stop = srv.stop


def start(root_password=ROOT_PW):
    srv.args = ["--store=local", "--root-password=" + root_password]
    srv.start()


def conn(user="root", password=ROOT_PW, **kw):
    args = dict(user=user, password=password, autocommit=True)
    args.update(kw)
    return srv.connect(**args)


def login_err(**kw):
    try:
        conn(**kw).close()
    except pymysql.MySQLError as e:
        return e.args[0]
    return None


def cli(user, password, sql):
    args = ["mariadb", "-h127.0.0.1", "-P%d" % srv.port, "-u" + user,
            "--skip-ssl", "--batch", "--skip-column-names",
            "--connect-timeout=30"]
    if password:
        args.append("-p" + password)
    return subprocess.run(args, input=sql, capture_output=True, text=True,
                          timeout=60)


def root_login():
    eq("no password", login_err(password=""), 1045)
    eq("wrong password", login_err(password="nope"), 1045)
    eq("unknown user", login_err(user="ghost", password="x"), 1045)
    c = conn()
    eq("grants", q(c, "SHOW GRANTS"),
       [("GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION",)])
    eq("user", q(c, "SELECT USER(), CURRENT_USER()"),
       [("root@127.0.0.1", "root@%")])
    c.close()
    out = cli("root", ROOT_PW, "SELECT 1;\n")
    eq("cli stderr", out.stderr, "")
    eq("cli stdout", out.stdout, "1\n")
    out = cli("root", "bad", "SELECT 1;\n")
    eq("cli refused", out.returncode != 0, True)
    eq("cli 1045", "ERROR 1045" in out.stderr, True)


def users_and_plugins():
    c = conn()
    q(c, "CREATE USER 'nat'@'%' IDENTIFIED BY 'np', "
         "'sha'@'%' IDENTIFIED WITH caching_sha2_password BY 'sp', "
         "'loc'@'localhost' IDENTIFIED BY 'lp', "
         "'far'@'10.%' IDENTIFIED BY 'fp'")
    eq("exists", err(c, "CREATE USER nat"), 1396)
    for user, pw in (("nat", "np"), ("sha", "sp"), ("loc", "lp")):
        u = conn(user=user, password=pw)
        eq(user + " current", q(u, "SELECT 1"), [(1,)])
        u.close()
        eq(user + " wrong", login_err(user=user, password=pw + "x"), 1045)
        eq(user + " empty", login_err(user=user, password=""), 1045)
        out = cli(user, pw, "SELECT 2;\n")
        eq(user + " cli", (out.stdout, out.stderr), ("2\n", ""))
        out = cli(user, pw + "x", "SELECT 2;\n")
        eq(user + " cli refused", "ERROR 1045" in out.stderr, True)
    # 'far'@'10.%' does not match a loopback client.
    eq("host pattern", login_err(user="far", password="fp"), 1045)
    # ALTER USER and SET PASSWORD.
    q(c, "ALTER USER sha IDENTIFIED BY 'sp2'")
    eq("old sha", login_err(user="sha", password="sp"), 1045)
    u = conn(user="sha", password="sp2")
    q(u, "SET PASSWORD = 'sp3'")
    eq("others", err(u, "SET PASSWORD FOR nat = 'x'"), 1227)
    eq("create", err(u, "CREATE USER z"), 1227)
    u.close()
    conn(user="sha", password="sp3").close()
    q(c, "SET PASSWORD FOR nat = 'np2'")
    conn(user="nat", password="np2").close()
    q(c, "DROP USER loc@localhost")
    eq("dropped", login_err(user="loc", password="lp"), 1045)
    eq("drop again", err(c, "DROP USER loc@localhost"), 1396)
    c.close()


def grants_live_and_new():
    c = conn()
    q(c, "CREATE DATABASE app")
    q(c, "CREATE TABLE app.t (id INT PRIMARY KEY, v INT)")
    q(c, "CREATE TABLE app.secret (id INT PRIMARY KEY)")
    q(c, "INSERT INTO app.t VALUES (1, 10), (2, 20)")
    q(c, "CREATE USER g IDENTIFIED BY 'gp'")
    live = conn(user="g", password="gp")
    eq("no select", err(live, "SELECT * FROM app.t"), 1142)
    eq("no use", err(live, "USE app"), 1044)
    eq("no db", ("app",) in q(live, "SHOW DATABASES"), False)
    eq("no create db", err(live, "CREATE DATABASE mine"), 1044)
    eq("no global set", err(live, "SET GLOBAL wait_timeout = 5"), 1227)
    q(c, "GRANT SELECT ON app.* TO g")
    q(c, "GRANT INSERT, UPDATE, DELETE ON app.t TO g")
    # The live connection sees the grants at its next statement.
    eq("live select", q(live, "SELECT v FROM app.t ORDER BY id"),
       [(10,), (20,)])
    q(live, "USE app")
    q(live, "INSERT INTO t VALUES (3, 30)")
    q(live, "UPDATE t SET v = 31 WHERE id = 3")
    eq("secret insert", err(live, "INSERT INTO secret VALUES (1)"), 1142)
    eq("drop", err(live, "DROP TABLE t"), 1142)
    eq("databases", q(live, "SHOW DATABASES"),
       [("app",), ("information_schema",)])
    eq("tables", q(live, "SHOW TABLES"), [("secret",), ("t",)])
    new = conn(user="g", password="gp", database="app")
    eq("new select", q(new, "SELECT COUNT(*) FROM t"), [(3,)])
    eq("grants", q(new, "SHOW GRANTS"),
       [("GRANT USAGE ON *.* TO `g`@`%`",),
        ("GRANT SELECT ON `app`.* TO `g`@`%`",),
        ("GRANT INSERT, UPDATE, DELETE ON `app`.`t` TO `g`@`%`",)])
    new.close()
    # Revokes too.
    q(c, "REVOKE SELECT ON app.* FROM g")
    eq("live revoked", err(live, "SELECT * FROM t"), 1142)
    eq("live tables", q(live, "SHOW TABLES"), [("t",)])
    eq("is tables", q(live, "SELECT TABLE_NAME FROM information_schema.TABLES "
                            "WHERE TABLE_SCHEMA = 'app'"), [("t",)])
    new = conn(user="g", password="gp")
    eq("new revoked", err(new, "SELECT * FROM app.t"), 1142)
    eq("no table needed", q(new, "SELECT 1"), [(1,)])
    new.close()
    out = cli("g", "gp", "SELECT * FROM app.t;\n")
    eq("cli denied", "ERROR 1142" in out.stderr, True)
    live.close()
    c.close()


def restart_keeps_accounts():
    eq("exit", stop(), 0)
    start(root_password="another")  # ignored: root exists
    eq("old root password", login_err(password="another"), 1045)
    c = conn()
    eq("users kept", q(c, "SHOW GRANTS FOR sha"),
       [("GRANT USAGE ON *.* TO `sha`@`%`",)])
    c.close()
    u = conn(user="g", password="gp")
    eq("grants kept", q(u, "SHOW GRANTS"),
       [("GRANT USAGE ON *.* TO `g`@`%`",),
        ("GRANT INSERT, UPDATE, DELETE ON `app`.`t` TO `g`@`%`",)])
    eq("still revoked", err(u, "SELECT * FROM app.t"), 1142)
    u.close()
    conn(user="sha", password="sp3").close()  # caching_sha2, fast path
    conn(user="nat", password="np2").close()


def wait_state(c, cid, state):
    deadline = time.time() + 60
    while time.time() < deadline:
        for row in q(c, "SHOW PROCESSLIST"):
            if row[0] == cid and row[6] == state:
                return
        time.sleep(0.02)
    raise AssertionError("connection %d never showed %r" % (cid, state))


def blocked_statement(c, sql, out):
    try:
        out["rows"] = q(c, sql)
    except pymysql.MySQLError as e:
        out["err"] = e.args[0]


def block_on_row(admin, holder, waiter, row):
    """holder locks app.t's row; waiter's FOR UPDATE of it runs on a thread
    until it waits for the lock (seen through admin). Returns the thread,
    the dict its outcome lands in, and waiter's connection id."""
    q(holder, "BEGIN")
    eq("lock", len(q(holder, "SELECT v FROM app.t WHERE id = %d "
                             "FOR UPDATE" % row)), 1)
    wid = q(waiter, "SELECT CONNECTION_ID()")[0][0]
    q(waiter, "SET innodb_lock_wait_timeout = 600")
    q(waiter, "BEGIN")
    out = {}
    th = threading.Thread(target=blocked_statement, args=(
        waiter, "SELECT v FROM app.t WHERE id = %d FOR UPDATE" % row, out))
    th.start()
    wait_state(admin, wid, "Waiting for row lock")
    return th, out, wid


def kill_query_in_lock_wait():
    c = conn()
    q(c, "CREATE USER k IDENTIFIED BY 'kp'")
    q(c, "GRANT SELECT, UPDATE ON app.* TO k")
    holder = conn()
    waiter = conn(user="k", password="kp")
    th, out, wid = block_on_row(c, holder, waiter, 1)
    # Not the owner and no SUPER: 1095.
    other = conn(user="g", password="gp")
    eq("not owner", err(other, "KILL QUERY %d" % wid), 1095)
    other.close()
    # The owner may kill its own statement from another connection.
    own = conn(user="k", password="kp")
    q(own, "KILL QUERY %d" % wid)
    th.join(60)
    eq("joined", th.is_alive(), False)
    eq("interrupted", out, {"err": 1317})
    # The connection and its transaction go on.
    eq("still usable", q(waiter, "SELECT 7"), [(7,)])
    q(waiter, "ROLLBACK")
    q(holder, "COMMIT")
    eq("lock free now", q(waiter, "SELECT v FROM app.t WHERE id = 1 "
                                  "FOR UPDATE"), [(10,)])
    own.close()
    waiter.close()
    holder.close()
    c.close()


def kill_connection():
    c = conn()
    idle = conn(user="k", password="kp")
    iid = q(idle, "SELECT CONNECTION_ID()")[0][0]
    q(c, "KILL CONNECTION %d" % iid)
    # The server closes it: the next statement finds the connection gone.
    e = err(idle, "SELECT 1")
    eq("closed", e in (2006, 2013, 1317), True)
    ids = [r[0] for r in q(c, "SHOW PROCESSLIST")]
    deadline = time.time() + 60
    while iid in ids and time.time() < deadline:
        time.sleep(0.02)
        ids = [r[0] for r in q(c, "SHOW PROCESSLIST")]
    eq("gone from processlist", iid in ids, False)
    # A connection in a lock wait is interrupted and closed.
    holder = conn()
    busy = conn()
    th, out, bid = block_on_row(c, holder, busy, 2)
    q(c, "KILL %d" % bid)
    th.join(60)
    eq("joined", th.is_alive(), False)
    eq("killed", out.get("err") in (1317, 2013), True)
    eq("then closed", err(busy, "SELECT 1") in (2006, 2013, 1317), True)
    q(holder, "COMMIT")
    holder.close()
    # COM_PROCESS_KILL (pymysql's kill()) does the same.
    victim = conn()
    vid = q(victim, "SELECT CONNECTION_ID()")[0][0]
    c.kill(vid)
    eq("com kill", err(victim, "SELECT 1") in (2006, 2013, 1317), True)
    c.close()


def dump_round_trip_as_root():
    c = conn()
    q(c, "CREATE DATABASE shop")
    q(c, "CREATE TABLE shop.items (id INT PRIMARY KEY, sku VARCHAR(20), "
         "price DECIMAL(10,2))")
    q(c, "INSERT INTO shop.items VALUES (1, 'a', 1.50), (2, 'b''2', NULL)")
    before = q(c, "SELECT * FROM shop.items ORDER BY id")
    create = q(c, "SHOW CREATE TABLE shop.items")
    dump = subprocess.run(["mariadb-dump", "-h127.0.0.1", "-P%d" % srv.port,
                           "-uroot", "-p" + ROOT_PW, "--skip-ssl",
                           "--databases", "shop"],
                          capture_output=True, text=True, timeout=60)
    eq("dump stderr", dump.stderr, "")
    q(c, "DROP DATABASE shop")
    out = cli("root", ROOT_PW, dump.stdout)
    eq("import stderr", out.stderr, "")
    eq("rows", q(c, "SELECT * FROM shop.items ORDER BY id"), before)
    eq("definition", q(c, "SHOW CREATE TABLE shop.items"), create)
    # A user without privileges on shop cannot dump it.
    dump = subprocess.run(["mariadb-dump", "-h127.0.0.1", "-P%d" % srv.port,
                           "-ug", "-pgp", "--skip-ssl", "--databases",
                           "shop"],
                          capture_output=True, text=True, timeout=60)
    eq("dump refused", dump.returncode != 0, True)
    c.close()


srv.args = ["--store=local", "--root-password=" + ROOT_PW]
sys.exit(sqldfx.run(srv, (root_login, users_and_plugins, grants_live_and_new,
                          restart_keeps_accounts, kill_query_in_lock_wait,
                          kill_connection, dump_round_trip_as_root)))
