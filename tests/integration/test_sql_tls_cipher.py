"""test_sql_tls_cipher.py: sqld's Ssl_version and Ssl_cipher are the
session's own negotiated protocol and suite (librpc's rpc_stream_tls_info,
shown in OpenSSL's names: daemons/sqld/README.md "TLS"), checked against
what the client itself reports it negotiated: python's ssl socket
.cipher() under pymysql, and the mariadb CLI's `status`. Each suite sqld
offers is forced in turn, with an ECDSA (--tls-auto) and an RSA
certificate."""
import os
import re
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqldfx import Sqld, eq, q, run  # noqa: E402

srv = Sqld("sqltlsc.", ["--tls-auto"])

ECDSA_SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-CHACHA20-POLY1305"]
RSA_SUITES = ["ECDHE-RSA-AES128-GCM-SHA256",
              "ECDHE-RSA-AES256-GCM-SHA384",
              "ECDHE-RSA-CHACHA20-POLY1305"]


def ctx(cipher=None):
    """A client context that trusts anything; offers only cipher (a TLS
    1.2 suite) when given."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if cipher:
        c.set_ciphers(cipher)
    return c


def status(c):
    return dict(q(c, "SHOW SESSION STATUS LIKE 'Ssl%'"))


def check_pymysql(server, cipher, want):
    """Connects offering cipher (None: python's defaults); sqld's answer
    must be what the client's socket negotiated, and that is want."""
    c = server.connect(ssl=ctx(cipher))
    name, version, _bits = c._sock.cipher()
    st = status(c)
    eq("Ssl_version vs client", st["Ssl_version"], version)
    eq("Ssl_cipher vs client", st["Ssl_cipher"], name)
    eq("Ssl_cipher", st["Ssl_cipher"], want)
    eq("Ssl_version", st["Ssl_version"], "TLSv1.2")
    c.close()


def pymysql_default():
    # librpc's preference (ChaCha20 first) among python's offers.
    check_pymysql(srv, None, "ECDHE-ECDSA-CHACHA20-POLY1305")


def pymysql_each_ecdsa_suite():
    for s in ECDSA_SUITES:
        check_pymysql(srv, s, s)


def plain_shows_nothing():
    c = srv.connect()
    eq("plain", status(c), {"Ssl_cipher": "", "Ssl_version": ""})
    c.close()


def mariadb_status(server, cipher):
    """(cipher the CLI reports in `status`, Ssl_cipher sqld reports) for
    one mariadb --ssl session, offering only cipher when given."""
    cmd = ["mariadb", "-h", "127.0.0.1", "-P", str(server.port), "-u",
           "root", "--ssl", "--batch", "--connect-timeout=30"]
    if cipher:
        cmd.append("--ssl-cipher=" + cipher)
    out = subprocess.run(
        cmd, input="status\nSHOW SESSION STATUS LIKE 'Ssl_cipher';\n",
        capture_output=True, text=True, timeout=60)
    eq("mariadb rc (%s)" % out.stderr.strip(), out.returncode, 0)
    m = re.search(r"SSL:\s+Cipher in use is (\S+)", out.stdout)
    if not m:
        raise AssertionError("no SSL line in: " + out.stdout)
    m2 = re.search(r"^Ssl_cipher\t(\S*)$", out.stdout, re.M)
    if not m2:
        raise AssertionError("no Ssl_cipher row in: " + out.stdout)
    return m.group(1), m2.group(1)


def mariadb_cli():
    got = mariadb_status(srv, None)
    eq("default", got[1], got[0])
    eq("default suite", got[0], "ECDHE-ECDSA-CHACHA20-POLY1305")
    for s in ECDSA_SUITES:
        eq(s, mariadb_status(srv, s), (s, s))


def rsa_certificate():
    """A second sqld with an RSA certificate: the ECDHE-RSA names."""
    d = os.path.join(srv.tmp, "rsa")
    os.makedirs(d, exist_ok=True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=sqld-rsa-test"],
                   check=True, capture_output=True, timeout=120)
    rsa = Sqld("sqltlsr.", ["--tls-cert=" + cert, "--tls-key=" + key])
    try:
        rsa.start()
        check_pymysql(rsa, None, "ECDHE-RSA-CHACHA20-POLY1305")
        for s in RSA_SUITES:
            check_pymysql(rsa, s, s)
        eq("mariadb", mariadb_status(rsa, RSA_SUITES[0]),
           (RSA_SUITES[0], RSA_SUITES[0]))
    finally:
        rsa.stop()
        shutil.rmtree(rsa.tmp, ignore_errors=True)


sys.exit(run(srv, [pymysql_default, pymysql_each_ecdsa_suite,
                   plain_shows_nothing, mariadb_cli, rsa_certificate]))
