#!/usr/bin/env python3
"""KV endpoint: bad input on raw sockets. The server must answer like Redis 7.0 (protocol errors: an error that
starts with "ERR Protocol error", then it closes the connection; unknown commands and wrong arity: an error, the
connection stays usable), never crash or hang, and never allocate what a client merely announces (huge bulk or
array lengths). After every case a fresh connection must still answer PING.

Covered: invalid / huge / negative bulk and multibulk lengths, '$' expected, over-long length digits, null and
empty arrays, inline commands (spaces, quotes, bare LF, empty lines, unbalanced quotes, over-long lines),
unknown commands and arity errors in a pipeline, half-sent commands then close (and RST), a half-sent command
does not block other clients, 200 idle half-sent connections, a command sent one byte at a time, a 1 GB bulk
announced then 8 MiB sent (server RSS must stay bounded), and 300 seeded mutations of valid commands.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_kv_bad_input.py
     EMBER_KV_TARGET=redis /usr/bin/python3 tests/integration/test_kv_bad_input.py
"""

import os
import random
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvutil  # noqa: E402
from kvutil import ConnectionClosed, Reply, encode  # noqa: E402

PROTO = "ERR Protocol error"


def setUpModule():
    kvutil.start_module_target()


def tearDownModule():
    kvutil.stop_module_target()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class BadInputTest(kvutil.KvTestCase):
    def tearDown(self):
        super().tearDown()
        self.assertAlive()

    def send_expect_protocol_error(self, data, redis_text):
        """data gets one reply, an error starting with 'ERR Protocol error' (Redis: redis_text), then EOF."""
        with self.srv.raw(timeout=10) as c:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                r = c.read()
            except ConnectionClosed:
                self.fail(f"{data[:60]!r}: closed without an error reply (Redis: {redis_text!r})")
            self.assertEqual(r.t, "-", f"{data[:60]!r}: {r!r}")
            self.assertTrue(r.v.startswith(PROTO), f"{data[:60]!r}: {r.v!r} (Redis: {redis_text!r})")
            if r.v != redis_text:
                kvutil.TEXT_NOTES.append(f"{data[:40]!r}: {r.v!r} (Redis: {redis_text!r})")
            self.assertTrue(c.closed_by_peer(10), f"{data[:60]!r}: connection left open after {r.v!r}")

    def send_expect(self, data, replies):
        """data gets exactly these replies, and the connection stays open (PING still answered)."""
        with self.srv.raw(timeout=10) as c:
            c.send(data)
            got = [c.read() for _ in replies]
            self.assertEqual(got, replies, f"{data[:80]!r}")
            self.assertEqual(c.call("PING"), Reply("+", "PONG"), f"{data[:80]!r}: connection unusable afterwards")

    # -- lengths
    def test_huge_bulk_length(self):
        self.send_expect_protocol_error(b"*1\r\n$999999999999\r\n", "ERR Protocol error: invalid bulk length")
        self.send_expect_protocol_error(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999999\r\n",
                                        "ERR Protocol error: invalid bulk length")
        self.send_expect_protocol_error(b"*1\r\n$" + b"9" * 40 + b"\r\n", "ERR Protocol error: invalid bulk length")

    def test_bad_bulk_length(self):
        self.send_expect_protocol_error(b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")
        self.send_expect_protocol_error(b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length")
        self.send_expect_protocol_error(b"*2\r\n$3\r\nGET\r\n$-1\r\n", "ERR Protocol error: invalid bulk length")
        self.send_expect_protocol_error(b"*1\r\nGET\r\n", "ERR Protocol error: expected '$', got 'G'")

    def test_bad_multibulk_length(self):
        self.send_expect_protocol_error(b"*99999999999\r\n", "ERR Protocol error: invalid multibulk length")
        self.send_expect_protocol_error(b"*abc\r\n", "ERR Protocol error: invalid multibulk length")
        self.send_expect_protocol_error(b"*" + b"1" * 100 + b"\r\n", "ERR Protocol error: invalid multibulk length")

    def test_length_line_without_end(self):
        # digits that never end in CRLF: refused once the line is absurdly long, not buffered forever
        self.send_expect_protocol_error(b"*" * 70000, "ERR Protocol error: too big mbulk count string")
        self.send_expect_protocol_error(b"*1\r\n$" + b"1" * 70000, "ERR Protocol error: too big bulk count string")

    def test_null_and_empty_arrays_ignored(self):
        self.send_expect(b"*0\r\n*-1\r\n" + encode("PING"), [Reply("+", "PONG")])

    def test_announced_but_unsent_arrays(self):
        # an array announced with a large count and never sent: no reply, no allocation of the count
        for data in (b"*1048576\r\n", b"*3000000\r\n", b"*1\r\n$536870912\r\n"):
            with self.srv.raw(timeout=2) as c:
                c.send(data)
                try:
                    r = c.read()
                    self.assertTrue(r.t == "-" and r.v.startswith("ERR"), f"{data!r}: {r!r}")
                except (AssertionError, ConnectionClosed) as e:
                    if not (isinstance(e, ConnectionClosed) or "no reply within" in str(e)):
                        raise
            self.assertAlive()

    def test_huge_bulk_memory_bounded(self):
        k = self.k()
        pid = self.srv.proc.pid
        before = rss_kib(pid)
        c = self.srv.raw(timeout=10)
        try:
            c.send(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1000000000\r\n" % (len(k), k.encode()))
            chunk = b"z" * (1 << 20)
            for _ in range(8):
                try:
                    c.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
            time.sleep(0.5)
            grown = rss_kib(pid) - before
            self.assertLess(grown, 64 * 1024, f"server RSS grew by {grown} KiB for a 1 GB bulk announced + 8 MiB sent")
            self.assertTrue(self.srv.ping_ok(), "other clients are not served meanwhile")
        finally:
            c.close()
        self.assertIsNone(self.r.get(k), "a cut-off SET wrote something")

    # -- inline commands
    def test_inline_commands(self):
        k = self.k()
        self.send_expect(b"PING\r\n", [Reply("+", "PONG")])
        self.send_expect(b"PING\n", [Reply("+", "PONG")])
        self.send_expect(b"ping hello\r\n", [Reply("$", b"hello")])
        self.send_expect(b"   PING   \r\n", [Reply("+", "PONG")])
        self.send_expect(b"\r\n\r\nPING\r\n", [Reply("+", "PONG")])
        self.send_expect(b'SET %s "hello world"\r\nGET %s\r\n' % (k.encode(), k.encode()),
                         [Reply("+", "OK"), Reply("$", b"hello world")])
        self.send_expect(b"SET %s 'single quoted'\r\nGET %s\r\n" % (k.encode(), k.encode()),
                         [Reply("+", "OK"), Reply("$", b"single quoted")])
        self.send_expect(b'SET %s "a\\x41\\n"\r\nGET %s\r\n' % (k.encode(), k.encode()),
                         [Reply("+", "OK"), Reply("$", b"aA\n")])
        self.send_expect(b"FOO bar\r\n", [Reply("-", "ERR unknown command 'FOO', with args beginning with: 'bar' ")])
        self.send_expect(b"$5\r\n", [Reply("-", "ERR unknown command '$5', with args beginning with: ")])
        self.send_expect(b"PING\r\n" + encode("PING") + b"ECHO x\n", [Reply("+", "PONG")] * 2 + [Reply("$", b"x")])

    def test_inline_errors(self):
        self.send_expect_protocol_error(b'SET a "unbalanced\r\n', "ERR Protocol error: unbalanced quotes in request")
        self.send_expect_protocol_error(b"x" * 70000, "ERR Protocol error: too big inline request")

    # -- commands
    def test_unknown_and_arity_in_pipeline(self):
        k = self.k()
        data = (encode("PING") + encode("NOSUCH", "a", "b") + encode("GET") + encode("SET", k, "v")
                + encode("") + encode("GET", k) + encode("get", k, "extra"))
        self.send_expect(data, [
            Reply("+", "PONG"),
            Reply("-", "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' "),
            Reply("-", "ERR wrong number of arguments for 'get' command"),
            Reply("+", "OK"),
            Reply("-", "ERR unknown command '', with args beginning with: "),
            Reply("$", b"v"),
            Reply("-", "ERR wrong number of arguments for 'get' command"),
        ])

    def test_unknown_command_long_args(self):
        # Redis quotes at most 128 bytes of each argument in the error
        r = self.call("NOSUCH", "a" * 1000)
        self.assertEqual(r.t, "-")
        self.assertTrue(r.v.startswith("ERR unknown command 'NOSUCH', with args beginning with: 'aaa"), r.v[:80])
        self.assertLess(len(r.v), 400, "the error echoes the whole argument")

    def test_bulk_longer_than_declared(self):
        # Redis takes the declared length and skips two bytes (the CRLF it expects), whatever they are; a server
        # that checks the CRLF and answers a protocol error (then closes, as for any protocol error) is fine too
        data = b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXY\r\nPING\r\n"
        with self.srv.raw(timeout=10) as c:
            c.send(data)
            r = c.read()
            if r.t == "-":
                self.assertTrue(r.v.startswith(PROTO), r)
                self.assertTrue(c.closed_by_peer(10), f"connection left open after {r.v!r}")
                kvutil.TEXT_NOTES.append(f"{data!r}: {r.v!r} then close (Redis: $3 abc, then PONG)")
            else:
                self.assertEqual([r, c.read()], [Reply("$", b"abc"), Reply("+", "PONG")])

    # -- half-sent commands, vanishing clients
    def test_half_sent_then_close(self):
        k = self.k().encode()
        for tail in (b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\nabc" % (len(k), k),
                     b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n" % (len(k), k),
                     b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n" % (len(k), k),
                     b"*3\r\n$3\r\nSE", b"*3\r\n", b"*", b"SET %s v" % k):
            for rst in (False, True):
                s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
                s.sendall(tail)
                if rst:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
        time.sleep(0.2)
        self.assertAlive()
        self.assertIsNone(self.r.get(k.decode()), "a half-sent SET was executed")

    def test_half_sent_does_not_block_others(self):
        k = self.k()
        c = self.srv.raw(timeout=10)
        try:
            c.send(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\nab" % (len(k), k.encode()))
            for _ in range(3):
                self.assertTrue(self.r.set(k + "other", "x"))
                self.assertTrue(self.srv.ping_ok())
            c.send(b"cde\r\n")
            self.assertEqual(c.read(), Reply("+", "OK"), "the completed half-sent SET")
        finally:
            c.close()
        self.assertEqual(self.r.get(k), "abcde")

    def test_many_idle_half_sent_connections(self):
        socks = []
        try:
            for i in range(200):
                s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
                s.sendall(b"*2\r\n$3\r\nGET\r\n$10\r\nhalf" if i % 2 else b"GE")
                socks.append(s)
            self.assertTrue(self.srv.ping_ok(), "the server stops answering with 200 half-sent connections")
            self.assertTrue(self.r.set(self.k(), "v"))
        finally:
            for s in socks:
                s.close()

    def test_one_byte_at_a_time(self):
        k = self.k()
        data = encode("SET", k, "slow value") + encode("GET", k)
        with self.srv.raw(timeout=10) as c:
            for i in range(len(data)):
                c.send(data[i:i + 1])
                if i % 8 == 0:
                    time.sleep(0.001)
            self.assertEqual([c.read(), c.read()], [Reply("+", "OK"), Reply("$", b"slow value")])

    def test_binary_garbage_and_mutations(self):
        rng = random.Random(20240601)
        base = [encode("SET", "mut:k", "v" * 20), encode("GET", "mut:k"), encode("MSET", "a", "1", "b", "2"),
                encode("EXPIRE", "mut:k", "100", "NX"), encode("SCAN", "0", "MATCH", "*", "COUNT", "10"),
                encode("HELLO", "3"), encode("CLIENT", "SETNAME", "x"), b"PING\r\n"]
        cases = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(60)]
        for _ in range(240):
            b = bytearray(rng.choice(base) * rng.randrange(1, 3))
            op = rng.randrange(4)
            if op == 0:
                for _ in range(rng.randrange(1, 4)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            elif op == 1:
                b = b[:rng.randrange(len(b))]
            elif op == 2:
                i = rng.randrange(len(b))
                b[i:i] = str(rng.choice([0, -1, -2, 2**31, 2**32 + 1, 2**63, 10**30])).encode()
            else:
                i = rng.randrange(len(b))
                b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
            cases.append(bytes(b))
        for n, data in enumerate(cases):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=5)
            try:
                s.sendall(data)
                if n % 10 == 0:  # now and then read what comes back until the server goes quiet
                    s.settimeout(0.2)
                    try:
                        while s.recv(65536):
                            pass
                    except (socket.timeout, ConnectionResetError):
                        pass
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                s.close()
            if n % 50 == 49:
                self.assertAlive()


if __name__ == "__main__":
    kvutil.main(timeout=300)
