#!/usr/bin/env python3
"""emberctl and the /tier admin API against a real emberd without cold mappings: the routes answer
JSON 404 "no cold mappings configured", emberctl reports it (exit 1), finds the admin port through
--port-file, names the URL it cannot reach, and refuses bad command lines (exit 2).

The routes and emberctl's output with a tier manager behind them are unit-tested in-process
(src/app/emberd/admin_tier_test.cc, src/app/emberctl/ctl_test.cc).

Run: EMBER_BIN=build/src/app/emberd/emberd EMBERCTL_BIN=build/src/app/emberctl/emberctl \\
     python3 tests/integration/test_emberctl.py
"""

import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def emberctl_bin():
    b = os.environ.get("EMBERCTL_BIN") or os.path.join(harness.REPO, "build", "src", "app", "emberctl",
                                                        "emberctl")
    if not os.path.exists(b):
        raise RuntimeError(f"emberctl not found at {b!r}; build it or set EMBERCTL_BIN")
    return b


def emberctl(*args, env_admin=None):
    env = dict(os.environ)
    env.pop("EMBER_ADMIN", None)
    if env_admin:
        env["EMBER_ADMIN"] = env_admin
    p = subprocess.run([emberctl_bin(), *args], capture_output=True, text=True, timeout=60, env=env,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def admin(srv, method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{srv.admin_port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class EmberctlTest(harness.ServerTestCase):
    def test_tier_routes_without_mappings_answer_json_404(self):
        for method, path in (("GET", "/tier"), ("POST", "/tier/flush?bucket=b&prefix=p"),
                             ("GET", "/tier/flush?bucket=b&barrier=1&wait=1"),
                             ("GET", "/tier/object?bucket=b&key=a%20b"), ("DELETE", "/tier/stage/x")):
            status, headers, body = admin(self.srv, method, path)
            self.assertEqual(status, 404, f"{method} {path}: {body!r}")
            self.assertEqual(headers.get("Content-Type"), "application/json")
            self.assertEqual(json.loads(body), {"error": "NotFound", "message": "no cold mappings configured"})
        # The other paths keep their behaviour.
        self.assertEqual(admin(self.srv, "GET", "/healthz")[0], 200)
        self.assertEqual(admin(self.srv, "POST", "/metrics")[0], 405)
        self.assertEqual(admin(self.srv, "DELETE", "/healthz")[0], 405)
        self.assertServerHealthy()

    def test_emberctl_reports_the_server_error(self):
        for args in (("tier",), ("status", "b/k"), ("flush", "b/p"), ("flush", "b", "--wait", "--timeout", "5s")):
            code, out, err = emberctl("--port-file", self.srv.port_file, *args)
            self.assertEqual(code, 1, f"{args}: {out!r} {err!r}")
            self.assertEqual(err, "emberctl: no cold mappings configured (NotFound)\n")
            self.assertEqual(out, "")
        code, out, err = emberctl("tier", "--admin", f"http://127.0.0.1:{self.srv.admin_port}")
        self.assertEqual((code, err), (1, "emberctl: no cold mappings configured (NotFound)\n"))
        code, out, err = emberctl("tier", env_admin=f"127.0.0.1:{self.srv.admin_port}")
        self.assertEqual((code, err), (1, "emberctl: no cold mappings configured (NotFound)\n"))

    def test_emberctl_names_the_url_it_cannot_reach(self):
        port = harness.free_port()
        code, out, err = emberctl("--admin", f"http://127.0.0.1:{port}", "tier")
        self.assertEqual(code, 1)
        self.assertIn(f"cannot reach emberd's admin endpoint at http://127.0.0.1:{port} (", err)
        code, out, err = emberctl("--port-file", os.path.join(self.srv.tmp, "missing.json"), "tier")
        self.assertEqual(code, 1)
        self.assertIn("cannot read the port file", err)

    def test_usage(self):
        code, out, err = emberctl("--help")
        self.assertEqual(code, 0)
        self.assertIn("Exit status:", out)
        for args in ((), ("nope",), ("flush",), ("flush", "b/p", "--timeout", "1h"), ("status", "bucket-only"),
                     ("flush", "b/p", "--wait", "--timeout", "soon")):
            code, out, err = emberctl(*args)
            self.assertEqual(code, 2, f"{args}: {out!r} {err!r}")


def setUpModule():
    harness.start_module_server()


def tearDownModule():
    harness.stop_module_server()


if __name__ == "__main__":
    harness.main(timeout=200)
