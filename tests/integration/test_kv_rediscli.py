#!/usr/bin/env python3
"""KV endpoint through redis-cli (Debian's redis-tools 7.0): one-shot commands with raw and formatted
(--no-raw, -3, --csv) output, errors and -e, -r repeats, -x (value from stdin), commands read from stdin,
--scan with --pattern, --bigkeys, --pipe mass insertion (10,000 SETs; it ends with an ECHO marker),
INFO, and --user / --pass against a server with users.

redis-cli is not a Python module, but the helpers (server start, redis-py checks) need redis-py: run with
/usr/bin/python3 like the other KV files.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_kv_rediscli.py
     EMBER_KV_TARGET=redis /usr/bin/python3 tests/integration/test_kv_rediscli.py
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvutil  # noqa: E402
from kvutil import ALICE, READER, encode  # noqa: E402


def setUpModule():
    kvutil.require_cli()
    kvutil.start_module_target()


def tearDownModule():
    kvutil.stop_module_target()


class CliTest(kvutil.KvTestCase):
    def cli(self, *args, **kw):
        return self.srv.cli(*args, **kw)

    def out(self, *args, **kw):
        return self.cli(*args, **kw).stdout_s

    def test_basic_commands(self):
        k = self.k()
        self.assertEqual(self.out("SET", k, "hello world"), "OK\n")
        self.assertEqual(self.out("GET", k), "hello world\n")
        self.assertEqual(self.out("--no-raw", "GET", k), '"hello world"\n')
        self.assertEqual(self.out("GET", k + "missing"), "\n")
        self.assertEqual(self.out("--no-raw", "GET", k + "missing"), "(nil)\n")
        self.assertEqual(self.out("INCR", k + "n"), "1\n")
        self.assertEqual(self.out("--no-raw", "INCR", k + "n"), "(integer) 2\n")
        self.assertEqual(self.out("MSET", k + "a", "1", k + "b", "2"), "OK\n")
        self.assertEqual(self.out("MGET", k + "a", k + "b", k + "missing"), "1\n2\n\n")
        self.assertEqual(self.out("--no-raw", "MGET", k + "a", k + "missing"), '1) "1"\n2) (nil)\n')
        self.assertEqual(self.out("--csv", "MGET", k + "a", k + "b"), '"1","2"\n')
        self.assertEqual(self.out("--no-raw", "TTL", k + "missing"), "(integer) -2\n")
        self.assertEqual(self.out("EXPIRE", k, "100"), "1\n")
        self.assertEqual(self.out("TYPE", k), "string\n")
        self.assertEqual(self.out("DEL", k, k + "a", k + "b", k + "n"), "4\n")
        self.assertEqual(self.out("EXISTS", k), "0\n")
        self.assertEqual(self.out("PING"), "PONG\n")
        self.assertEqual(self.out("ECHO", "a b"), "a b\n")
        self.assertEqual(self.out("SELECT", "0"), "OK\n")
        self.assertEqual(self.out("-n", "0", "PING"), "PONG\n")
        self.assertRegex(self.out("DBSIZE"), r"^\d+\n$")
        self.assertRegex(self.out("--no-raw", "CLIENT", "ID"), r"^\(integer\) \d+\n$")

    def test_resp3_output(self):
        k = self.k()
        self.out("SET", k, "v")
        self.assertEqual(self.out("-3", "--no-raw", "GET", k + "missing"), "(nil)\n")
        self.assertEqual(self.out("-3", "--no-raw", "GET", k), '"v"\n')
        self.assertRegex(self.out("-3", "--no-raw", "CONFIG", "GET", "maxmemory"), r'^1# "maxmemory" => "\d+"\n$')
        self.assertIn('"proto" => (integer) 3', self.out("-3", "--no-raw", "HELLO", "3"))

    def test_errors(self):
        p = self.cli("NOSUCHCMD", "x")
        # raw mode prints the error text and an empty line
        self.assertEqual(p.stdout_s, "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \n\n")
        self.assertEqual(p.returncode, 0)
        p = self.cli("--no-raw", "GET")
        self.assertEqual(p.stdout_s, "(error) ERR wrong number of arguments for 'get' command\n")
        p = self.cli("-e", "INCR", self.k(), "x", check=False)
        self.assertNotEqual(p.returncode, 0, "redis-cli -e exits non-zero on an error reply")
        self.assertIn("ERR wrong number of arguments for 'incr' command", p.stdout_s + p.stderr_s)

    def test_repeat_and_stdin(self):
        k = self.k()
        self.assertEqual(self.out("-r", "5", "INCR", k), "1\n2\n3\n4\n5\n")
        self.assertEqual(self.r.get(k), "5")
        self.assertEqual(self.out("-x", "SET", k + "x", input=b"line one\nline two"), "OK\n")
        self.assertEqual(self.r.get(k + "x"), "line one\nline two")
        self.assertEqual(self.out("--raw", "GET", k + "x"), "line one\nline two\n")
        self.assertEqual(self.out("--no-raw", "GET", k + "x"), '"line one\\nline two"\n')
        out = self.out(input=f"SET {k}s v1\nGET {k}s\nAPPEND {k}s 23\nGET {k}s\n".encode())
        self.assertEqual(out, "OK\nv1\n4\nv123\n")

    def test_scan(self):
        self.r.flushdb()
        names = {f"cli:scan:{i}" for i in range(500)}
        with self.r.pipeline(transaction=False) as p:
            for n in names:
                p.set(n, "v")
            p.set("cli:other", "v")
            p.execute()
        got = self.out("--scan").split()
        self.assertEqual(sorted(got), sorted(names | {"cli:other"}))
        got = self.out("--scan", "--pattern", "cli:scan:*").split()
        self.assertEqual(set(got), names)
        self.assertEqual(set(self.out("--scan", "--pattern", "cli:scan:49?").split()),
                         {f"cli:scan:{i}" for i in range(490, 500)})
        self.assertEqual(self.out("KEYS", "cli:o*"), "cli:other\n")

    def test_bigkeys(self):
        self.r.flushdb()
        self.r.mset({f"bk:{i}": "x" * i for i in range(1, 50)})
        out = self.out("--bigkeys")
        self.assertIn("Biggest string found '\"bk:49\"' has 49 bytes", out)
        self.assertIn("49 strings with", out)

    def test_pipe_mass_insertion(self):
        self.r.flushdb()
        n = 10_000
        data = b"".join(encode("SET", f"mass:{i}", f"value-{i}") for i in range(n))
        data += b"".join(encode("INCR", "mass:counter") for _ in range(100))
        p = self.cli("--pipe", input=data, timeout=120)
        self.assertIn(f"errors: 0, replies: {n + 100}", p.stdout_s + p.stderr_s)
        self.assertEqual(self.r.dbsize(), n + 1)
        self.assertEqual(self.r.get("mass:counter"), "100")
        vals = self.r.mget([f"mass:{i}" for i in range(0, n, 97)])
        self.assertEqual(vals, [f"value-{i}" for i in range(0, n, 97)])
        # errors are counted (and make redis-cli exit 1), not fatal for the stream
        p = self.cli("--pipe", input=encode("SET", "mass:x", "1") + encode("NOSUCH") + encode("GET"), check=False)
        self.assertIn("errors: 2, replies: 3", p.stdout_s + p.stderr_s)
        self.assertEqual(self.r.get("mass:x"), "1")

    def test_info(self):
        out = self.out("INFO")
        for sect in ("# Server", "# Clients", "# Memory", "# Stats", "# Persistence", "# Keyspace"):
            self.assertIn(sect, out)
        self.assertIn("redis_version:", out)
        self.r.set(self.k(), "v")
        self.assertRegex(self.out("INFO", "keyspace"), r"db0:keys=\d+,expires=\d+")
        self.assertIn("connected_clients:", self.out("INFO", "clients"))


class CliAuthTest(kvutil.UsersTestCase):
    def test_user_pass(self):
        k = self.k()
        self.assertEqual(self.srv.cli("SET", k, "v", user=ALICE).stdout_s, "OK\n")
        self.assertEqual(self.srv.cli("GET", k, user=READER).stdout_s, "v\n")
        out = self.srv.cli("SET", k, "w", user=READER).stdout_s
        self.assertTrue(out.startswith("NOPERM"), out)
        self.assertEqual(self.r.get(k), "v")
        out = self.srv.cli("GET", k).stdout_s
        self.assertTrue(out.startswith("NOAUTH"), out)
        p = self.srv.cli("GET", k, user={"name": "alice", "password": "wrong"}, check=False)
        self.assertIn("WRONGPASS", p.stdout_s + p.stderr_s)
        p = self.srv.cli("-a", ALICE["password"], "--user", "alice", "--no-auth-warning", "GET", k)
        self.assertEqual(p.stdout_s, "v\n")


if __name__ == "__main__":
    kvutil.main(timeout=300)
