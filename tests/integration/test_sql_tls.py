"""test_sql_tls.py: sqld with TLS for MySQL clients (docs/tls.md): a
--tls-auto server generates its certificate, pymysql and the mariadb CLI
connect over TLS and see Ssl_cipher / Ssl_version, require_secure_transport
refuses plain logins with 3159, a client that sends garbage instead of a
ClientHello loses only its own connection, and caching_sha2_password's full
authentication (--auth-sha2-cache) runs over TLS, or by the RSA exchange
with --tls-auto's key pair, and is refused over plain TCP without one."""
import os
import socket
import struct
import subprocess
import sys
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqldfx import Sqld, eq, err, q, run  # noqa: E402

srv = Sqld("sqltls.", ["--tls-auto", "--auth-sha2-cache"])


def cert():
    return os.path.join(srv.tmp, "data", "server-cert.pem")


def tls(**kw):
    return srv.connect(ssl={"ca": cert()}, **kw)


def status(c):
    return dict(q(c, "SHOW SESSION STATUS LIKE 'Ssl%'"))


def login_err(**kw):
    try:
        srv.connect(**kw).close()
    except pymysql.MySQLError as e:
        return e.args[0]
    return None


def auto_cert():
    pem = open(cert()).read()
    eq("pem", pem.startswith("-----BEGIN CERTIFICATE-----"), True)
    mode = os.stat(os.path.join(srv.tmp, "data", "server-key.pem")).st_mode
    eq("key private", mode & 0o077, 0)
    # A restart keeps the pair it generated.
    srv.stop()
    srv.start()
    eq("same cert", open(cert()).read(), pem)


def pymysql_verified():
    # ca given: pymysql checks the chain and the name 127.0.0.1.
    c = tls()
    eq("query", q(c, "SELECT 1 + 1"), [(2,)])
    st = status(c)
    eq("version", st["Ssl_version"], "TLSv1.2")
    eq("cipher set", st["Ssl_cipher"] != "", True)
    eq("global form", dict(q(c, "SHOW STATUS LIKE 'Ssl_cipher'")),
       {"Ssl_cipher": st["Ssl_cipher"]})
    eq("have_ssl", q(c, "SELECT @@have_ssl"), [("YES",)])
    q(c, "CREATE DATABASE t")
    # Records of 16 KiB and more, both ways.
    big = "x" * 300000
    eq("big in", q(c, "SELECT LENGTH(%s)", (big,)), [(300000,)])
    eq("big out", q(c, "SELECT REPEAT('x', 300000)"), [(big,)])
    c.close()


def pymysql_unverified():
    c = srv.connect(ssl={"check_hostname": False, "verify_mode": False})
    eq("cipher set", status(c)["Ssl_cipher"] != "", True)
    c.close()
    p = srv.connect()
    eq("plain", status(p), {"Ssl_cipher": "", "Ssl_version": ""})
    p.close()


def mariadb_cli():
    base = ["mariadb", "-h", "127.0.0.1", "-P", str(srv.port), "-u", "root",
            "-N", "-B"]
    sql = "SHOW STATUS LIKE 'Ssl_version';\n"
    out = subprocess.run(base + ["--ssl"], input=sql, capture_output=True,
                         text=True, timeout=60)
    eq("cli --ssl", (out.stdout, out.returncode), ("Ssl_version\tTLSv1.2\n",
                                                  0))
    out = subprocess.run(
        base + ["--ssl-ca=" + cert(), "--ssl-verify-server-cert"],
        input="SHOW STATUS LIKE 'Ssl_version';\n", capture_output=True,
        text=True, timeout=60)
    eq("cli verified", (out.stdout, out.stderr), ("Ssl_version\tTLSv1.2\n",
                                                  ""))


def require_secure_transport():
    c = tls()
    q(c, "SET GLOBAL require_secure_transport = ON")
    try:
        eq("plain refused", login_err(), 3159)
        t = tls()
        eq("tls allowed", q(t, "SELECT @@require_secure_transport"), [(1,)])
        t.close()
    finally:
        q(c, "SET GLOBAL require_secure_transport = OFF")
    p = srv.connect()
    p.close()
    c.close()
    # The setting: a second server that starts with it on, from its YAML
    # config (the keys are the flags' names).
    other = Sqld("sqltls2.", [])
    cfg = os.path.join(other.tmp, "sqld.yaml")
    with open(cfg, "w") as f:
        f.write("tls-auto: true\nrequire-secure-transport: true\n")
    other.args.append("--config=" + cfg)
    try:
        other.start()
        try:
            other.connect().close()
            raise AssertionError("plain login accepted")
        except pymysql.MySQLError as e:
            eq("flag 3159", e.args[0], 3159)
        t = other.connect(ssl={"check_hostname": False,
                               "verify_mode": False})
        eq("flag global", q(t, "SELECT @@global.require_secure_transport"),
           [(1,)])
        t.close()
    finally:
        other.stop()
        import shutil
        shutil.rmtree(other.tmp, ignore_errors=True)


def read_packet(s):
    hdr = b""
    while len(hdr) < 4:
        b = s.recv(4 - len(hdr))
        if not b:
            raise AssertionError("closed before a packet")
        hdr += b
    n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        if not b:
            raise AssertionError("closed inside a packet")
        body += b
    return body


def garbage_after_ssl_request():
    keep = srv.connect()  # a client that must not notice
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    greeting = read_packet(s)
    eq("protocol 10", greeting[0], 10)
    # SSLRequest: caps (PROTOCOL_41 | SSL | SECURE_CONNECTION), max packet,
    # charset, 23 zero bytes; sequence id 1.
    caps = 0x200 | 0x800 | 0x8000
    body = struct.pack("<IIB23x", caps, 1 << 24, 45)
    s.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"\x00" * 64)
    # The server answers with at most an alert, then closes.
    s.settimeout(60)
    got = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        b = s.recv(4096)
        if not b:
            break
        got += b
    else:
        raise AssertionError("connection not closed")
    eq("closed, little said", len(got) < 64, True)
    s.close()
    eq("others served", q(keep, "SELECT 7"), [(7,)])
    keep.close()
    c = tls()
    eq("new tls client", q(c, "SELECT 8"), [(8,)])
    c.close()


def sha2_full_auth_tls():
    # A server with a certificate but no RSA pair (tls-cert, not
    # tls-auto): full authentication only over TLS.
    key = os.path.join(srv.tmp, "data", "server-key.pem")
    other = Sqld("sqltls3.", ["--tls-cert=" + cert(), "--tls-key=" + key,
                              "--auth-sha2-cache"])
    try:
        other.start()

        def login(**kw):
            try:
                other.connect(**kw).close()
            except pymysql.MySQLError as e:
                return e.args[0]
            return None

        c = other.connect()
        q(c, "CREATE USER 'sh'@'%' IDENTIFIED WITH caching_sha2_password "
             "BY 'pw1'")
        # Nobody logged in yet: a plain client cannot do full authentication.
        eq("plain before", login(user="sh", password="pw1"), 1251)
        eq("wrong over tls", login(user="sh", password="nope",
                                   ssl={"ca": cert()}), 1045)
        # Full authentication over TLS fills the cache ...
        eq("full path", login(user="sh", password="pw1", ssl={"ca": cert()}),
           None)
        # ... so the fast path (scramble only) works without TLS.
        eq("fast path", login(user="sh", password="pw1"), None)
        eq("fast path wrong", login(user="sh", password="pw2"), 1045)
        # A GRANT keeps the cache entry; a new password empties it.
        q(c, "GRANT SELECT ON *.* TO 'sh'@'%'")
        eq("after grant", login(user="sh", password="pw1"), None)
        q(c, "ALTER USER 'sh'@'%' IDENTIFIED BY 'pw2'")
        eq("plain after alter", login(user="sh", password="pw2"), 1251)
        eq("tls after alter", login(user="sh", password="pw2",
                                    ssl={"ca": cert()}), None)
        eq("fast after alter", login(user="sh", password="pw2"), None)
        c.close()
        # A restart empties it too.
        other.stop()
        other.start()
        eq("plain after restart", login(user="sh", password="pw2"), 1251)
    finally:
        other.stop()
        import shutil
        shutil.rmtree(other.tmp, ignore_errors=True)


def sha2_full_auth_rsa():
    # tls-auto with auth-sha2-cache: an RSA pair too, so a plain client
    # does full authentication by MySQL's RSA exchange (PyMySQL asks for
    # the public key and encrypts with OAEP).
    for f in ("private_key.pem", "public_key.pem"):
        eq(f, os.path.exists(os.path.join(srv.tmp, "data", f)), True)
    c = tls()
    q(c, "CREATE USER 'rs'@'%' IDENTIFIED WITH caching_sha2_password "
         "BY 'rp'")
    eq("rsa wrong", login_err(user="rs", password="nope"), 1045)
    r = srv.connect(user="rs", password="rp")
    eq("rsa full path", q(r, "SELECT CURRENT_USER(), @@have_ssl"),
       [("rs@%", "YES")])
    r.close()
    eq("fast path", login_err(user="rs", password="rp"), None)
    q(c, "ALTER USER 'rs'@'%' IDENTIFIED BY 'rp2'")
    eq("rsa after alter", login_err(user="rs", password="rp2"), None)
    eq("old password", login_err(user="rs", password="rp"), 1045)
    c.close()


sys.exit(run(srv, [auto_cert, pymysql_verified, pymysql_unverified,
                   mariadb_cli, require_secure_transport,
                   garbage_after_ssl_request, sha2_full_auth_tls,
                   sha2_full_auth_rsa]))
