"""sqldfx.py: the harness the python integration suites share (imported;
not a suite itself: the runner takes test_*.py only). A sqld of the
suite's own on a free port in a scratch directory, pymysql helpers, and
the cmocka-style lines tests/run-suites.sh reads."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import pymysql

BUILD = os.environ.get("BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "default")
SQLD = os.path.join(BUILD, "daemons", "bin", "sqld")


class Sqld:
    """One sqld: args after --data-dir, --log.file and --listen (port 0,
    read back from its log)."""

    def __init__(self, prefix, args):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        log = os.path.join(self.tmp, "sqld.log")
        open(log, "a").close()
        size = os.path.getsize(log)
        self.proc = subprocess.Popen(
            [SQLD, "--data-dir=" + os.path.join(self.tmp, "data"),
             "--log.file=" + log, "--listen=127.0.0.1:0"] + self.args)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(log) as f:
                f.seek(size)
                m = re.search(r"serving MySQL on 127\.0\.0\.1:(\d+)",
                              f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("sqld did not start: " + open(log).read())

    def stop(self):
        """SIGTERM and wait: its exit status (None if not running)."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def connect(self, **kw):
        args = dict(host="127.0.0.1", port=self.port, user="root",
                    connect_timeout=30)
        args.update(kw)
        return pymysql.connect(**args)


def q(c, sql, args=None):
    with c.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def err(c, sql):
    """The MySQL error number sql fails with, or None."""
    try:
        q(c, sql)
    except pymysql.MySQLError as e:
        return e.args[0]
    return None


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def run(srv, cases):
    """Start srv, run each case (a function) as a cmocka-style test, stop
    srv and remove its directory; the exit status for the suite."""
    passed, failed = 0, []
    try:
        srv.start()
        for fn in cases:
            name = fn.__name__
            print("[ RUN      ] " + name, flush=True)
            try:
                fn()
                print("[       OK ] " + name, flush=True)
                passed += 1
            except Exception:
                traceback.print_exc(file=sys.stdout)
                print("[  FAILED  ] " + name, flush=True)
                failed.append(name)
    finally:
        try:
            srv.stop()
        except Exception:
            if srv.proc:
                srv.proc.kill()
                srv.proc.wait()
        shutil.rmtree(srv.tmp, ignore_errors=True)
    print("[  PASSED  ] %d test(s)." % passed)
    if failed:
        print("[  FAILED  ] %d test(s), listed below:" % len(failed))
        for n in failed:
            print("[  FAILED  ] " + n)
    return 1 if failed else 0
