#!/usr/bin/env python3
"""KV endpoint: connection and server commands (PING, ECHO, SELECT, QUIT, CLIENT SETNAME/GETNAME/ID/INFO/LIST,
HELLO 2/3, COMMAND / COMMAND COUNT / INFO / DOCS, INFO sections, CONFIG GET), RESP3 reply types on the wire
(redis-py 4.3 speaks RESP2 only, so RESP3 goes through kvutil.RespConn after HELLO 3), and AUTH with users from
the config (WRONGPASS, NOAUTH, read-only users get NOPERM, HELLO ... AUTH).

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_kv_protocol.py
     EMBER_KV_TARGET=redis /usr/bin/python3 tests/integration/test_kv_protocol.py
"""

import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kvutil  # noqa: E402
from kvutil import ALICE, READER, Reply  # noqa: E402

NOT_INT = "ERR value is not an integer or out of range"

# Every command of the issue with Redis 7.0's arity and (first key, last key, step) from COMMAND INFO.
COMMANDS = {
    "get": (2, 1, 1, 1), "set": (-3, 1, 1, 1), "setnx": (3, 1, 1, 1), "setex": (4, 1, 1, 1),
    "psetex": (4, 1, 1, 1), "getdel": (2, 1, 1, 1), "getex": (-2, 1, 1, 1), "mget": (-2, 1, -1, 1),
    "mset": (-3, 1, -1, 2), "msetnx": (-3, 1, -1, 2), "del": (-2, 1, -1, 1), "unlink": (-2, 1, -1, 1),
    "exists": (-2, 1, -1, 1), "touch": (-2, 1, -1, 1), "strlen": (2, 1, 1, 1), "getrange": (4, 1, 1, 1),
    "setrange": (4, 1, 1, 1), "append": (3, 1, 1, 1), "incr": (2, 1, 1, 1), "decr": (2, 1, 1, 1),
    "incrby": (3, 1, 1, 1), "decrby": (3, 1, 1, 1), "incrbyfloat": (3, 1, 1, 1), "type": (2, 1, 1, 1),
    "expire": (-3, 1, 1, 1), "pexpire": (-3, 1, 1, 1), "expireat": (-3, 1, 1, 1), "pexpireat": (-3, 1, 1, 1),
    "ttl": (2, 1, 1, 1), "pttl": (2, 1, 1, 1), "expiretime": (2, 1, 1, 1), "pexpiretime": (2, 1, 1, 1),
    "persist": (2, 1, 1, 1), "scan": (-2, 0, 0, 0), "keys": (2, 0, 0, 0), "randomkey": (1, 0, 0, 0),
    "rename": (3, 1, 2, 1), "dbsize": (1, 0, 0, 0), "flushdb": (-1, 0, 0, 0), "flushall": (-1, 0, 0, 0),
    "ping": (-1, 0, 0, 0), "echo": (2, 0, 0, 0), "select": (2, 0, 0, 0), "quit": (-1, 0, 0, 0),
    "client": (-2, 0, 0, 0), "hello": (-1, 0, 0, 0), "auth": (-2, 0, 0, 0), "command": (-1, 0, 0, 0),
    "info": (-1, 0, 0, 0), "config": (-2, 0, 0, 0),
}


def setUpModule():
    kvutil.start_module_target()


def tearDownModule():
    kvutil.stop_module_target()


def as_map(reply):
    """A RESP3 map, or a RESP2 flat array of key/value pairs, as {str: Reply}."""
    if reply.t == "%":
        return {k.v.decode() if isinstance(k.v, bytes) else k.v: v for k, v in reply.v}
    assert reply.t == "*" and len(reply.v) % 2 == 0, reply
    return {reply.v[i].v.decode() if isinstance(reply.v[i].v, bytes) else reply.v[i].v: reply.v[i + 1]
            for i in range(0, len(reply.v), 2)}


def text_of(reply):
    """A bulk or verbatim string as str (verbatim without its 'txt:' prefix)."""
    assert reply.t in "$=", reply
    s = reply.v.decode()
    return s[4:] if reply.t == "=" else s


def info_fields(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


class ConnectionTest(kvutil.KvTestCase):
    def test_ping_echo(self):
        self.assertTrue(self.r.ping())
        self.assertReply(("PING",), "+", "PONG")
        self.assertReply(("PING", "hello world"), "$", b"hello world")
        self.assertReply(("ping",), "+", "PONG")
        self.assertEqual(self.rb.echo(b"\x00\xffbin\r\n"), b"\x00\xffbin\r\n")
        self.assertReply(("ECHO", ""), "$", b"")
        self.assertErr(("ECHO",), "ERR wrong number of arguments for 'echo' command", exact=True)
        self.assertErr(("PING", "a", "b"), "ERR wrong number of arguments for 'ping' command", exact=True)

    def test_select(self):
        self.assertTrue(self.r.select(0))
        self.assertReply(("SELECT", "0"), "+", "OK")
        self.assertErrLike(("SELECT", "1"), "ERR DB index is out of range")
        self.assertErr(("SELECT", "x"), NOT_INT, exact=True)

    def test_quit(self):
        k = self.k()
        with self.srv.raw() as c:
            self.assertEqual(c.call("QUIT"), Reply("+", "OK"))
            self.assertTrue(c.closed_by_peer(), "the connection stays open after QUIT")
        # pipelined: what follows QUIT in the same write is not executed
        with self.srv.raw() as c:
            c.send(kvutil.encode("SET", k + "1", "v") + kvutil.encode("QUIT") + kvutil.encode("SET", k + "2", "v"))
            self.assertEqual(c.read(), Reply("+", "OK"))
            self.assertEqual(c.read(), Reply("+", "OK"))
            self.assertTrue(c.closed_by_peer())
        self.assertEqual(self.r.mget(k + "1", k + "2"), ["v", None])
        self.assertAlive()

    def test_client_id_name(self):
        with self.srv.raw() as a, self.srv.raw() as b:
            ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
            self.assertEqual((ia.t, ib.t), (":", ":"))
            self.assertGreater(ib.v, ia.v, "client ids increase")
            self.assertEqual(a.call("CLIENT", "GETNAME"), Reply("$", None))
            self.assertEqual(a.call("CLIENT", "SETNAME", "conn-a"), Reply("+", "OK"))
            self.assertEqual(a.call("CLIENT", "GETNAME"), Reply("$", b"conn-a"))
            self.assertEqual(b.call("CLIENT", "GETNAME"), Reply("$", None), "names are per connection")
            r = a.call("CLIENT", "SETNAME", "a b")
            self.assertEqual(r.t, "-")
            self.assertTrue(r.v.startswith("ERR Client names cannot contain spaces"), r)
            self.assertEqual(a.call("CLIENT", "GETNAME"), Reply("$", b"conn-a"))
            self.assertEqual(a.call("CLIENT", "SETNAME", ""), Reply("+", "OK"))
            self.assertEqual(a.call("CLIENT", "GETNAME"), Reply("$", None), "an empty name clears it")
            r = a.call("CLIENT", "FOO")
            self.assertEqual(r.t, "-")
            self.assertTrue(r.v.startswith("ERR unknown subcommand"), r)
        c = self.srv.client(client_name="named-by-redispy")
        self.assertEqual(c.client_getname(), "named-by-redispy")
        self.assertIsInstance(c.client_id(), int)
        c.close()

    def test_client_info_list(self):
        with self.srv.raw() as a, self.srv.raw() as b:
            a.call("CLIENT", "SETNAME", "info-a")
            b.call("CLIENT", "SETNAME", "info-b")
            ida, idb = a.call("CLIENT", "ID").v, b.call("CLIENT", "ID").v
            info = text_of(a.call("CLIENT", "INFO")).strip()
            f = dict(x.split("=", 1) for x in info.split(" ") if "=" in x)
            self.assertEqual(f.get("id"), str(ida), info)
            self.assertEqual(f.get("name"), "info-a", info)
            self.assertTrue(f.get("addr", "").startswith("127.0.0.1:"), info)
            lst = text_of(a.call("CLIENT", "LIST"))
            rows = [dict(x.split("=", 1) for x in line.split(" ") if "=" in x) for line in lst.splitlines() if line]
            by_id = {r.get("id"): r for r in rows}
            self.assertIn(str(ida), by_id, lst)
            self.assertIn(str(idb), by_id, lst)
            self.assertEqual(by_id[str(ida)].get("name"), "info-a")
            self.assertEqual(by_id[str(idb)].get("name"), "info-b")
        self.assertTrue(any(c.get("name") == "" or "id" in c for c in self.r.client_list()))

    def test_unknown_command(self):
        self.assertErr(("FOO", "bar", "baz"), "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ",
                       exact=True)
        self.assertErr(("foo",), "ERR unknown command 'foo', with args beginning with: ", exact=True)
        if not kvutil.ON_REDIS:  # only the string type exists: list commands are unknown
            self.assertErr(("LPUSH", "l", "x"), "ERR unknown command 'LPUSH', with args beginning with: 'l' 'x' ",
                           exact=True)
        self.assertErr(("GET",), "ERR wrong number of arguments for 'get' command", exact=True)
        self.assertAlive()


class Resp3Test(kvutil.KvTestCase):
    def hello_fields(self, reply, proto):
        m = as_map(reply)
        for k in ("server", "version", "proto", "id", "mode", "role", "modules"):
            self.assertIn(k, m, reply)
        self.assertEqual(m["proto"], Reply(":", proto))
        self.assertEqual(m["mode"].v, b"standalone")
        self.assertEqual(m["role"].v, b"master")
        self.assertEqual(m["modules"].t, "*")
        self.assertRegex(m["version"].v.decode(), r"^\d+\.\d+\.\d+")
        return m

    def test_hello(self):
        with self.srv.raw() as c:
            r = c.call("HELLO")
            self.assertEqual(r.t, "*", "HELLO without a version answers in the current protocol (RESP2)")
            m = self.hello_fields(r, 2)
            self.assertEqual(m["id"].v, c.call("CLIENT", "ID").v)
            r = c.call("HELLO", "2")
            self.assertEqual(r.t, "*")
            self.hello_fields(r, 2)
            r = c.call("HELLO", "3")
            self.assertEqual(r.t, "%", "HELLO 3 answers a RESP3 map")
            self.hello_fields(r, 3)
            self.assertEqual(c.call("GET", self.k("missing")), Reply("_", None))
            r = c.call("HELLO", "2")
            self.assertEqual(r.t, "*")
            self.assertEqual(c.call("GET", self.k("missing")), Reply("$", None), "back to RESP2 null bulk")
            r = c.call("HELLO", "4")
            self.assertEqual(r.t, "-")
            self.assertTrue(r.v.startswith("NOPROTO"), r)
            r = c.call("HELLO", "x")
            self.assertEqual(r.t, "-")
            self.assertEqual(c.call("PING"), Reply("+", "PONG"), "a failed HELLO keeps the connection usable")
            r = c.call("HELLO", "3", "SETNAME", "hello-named")
            self.assertEqual(r.t, "%")
            self.assertEqual(c.call("CLIENT", "GETNAME"), Reply("$", b"hello-named"))

    def test_resp3_reply_types(self):
        k = self.k()
        with self.srv.raw() as c:
            self.assertEqual(c.call("HELLO", "3").t, "%")
            self.assertEqual(c.call("SET", k, "v"), Reply("+", "OK"))
            self.assertEqual(c.call("GET", k), Reply("$", b"v"))
            self.assertEqual(c.call("GET", k + "x"), Reply("_", None))
            self.assertEqual(c.call("MGET", k, k + "x"), Reply("*", [Reply("$", b"v"), Reply("_", None)]))
            self.assertEqual(c.call("GETDEL", k + "x"), Reply("_", None))
            self.assertEqual(c.call("GETEX", k + "x", "EX", "10"), Reply("_", None))
            self.assertEqual(c.call("SET", k + "y", "1", "GET"), Reply("_", None))
            self.assertEqual(c.call("SET", k + "y", "2", "NX"), Reply("_", None), "SET NX not done: null")
            self.assertEqual(c.call("CLIENT", "GETNAME"), Reply("_", None))
            self.assertEqual(c.call("EXISTS", k), Reply(":", 1))
            self.assertEqual(c.call("INCR", k + "n"), Reply(":", 1))
            self.assertEqual(c.call("TTL", k), Reply(":", -1))
            # Redis 7.0 answers INCRBYFLOAT with a bulk string in RESP3 too
            self.assertEqual(c.call("INCRBYFLOAT", k + "f", "1.5"), Reply("$", b"1.5"))
            self.assertEqual(c.call("TYPE", k), Reply("+", "string"))
            r = c.call("SCAN", "0", "MATCH", k + "*", "COUNT", "1000")
            self.assertEqual(r.t, "*")
            self.assertEqual(r.v[0].t, "$")
            self.assertEqual(r.v[1].t, "*")
            r = c.call("CONFIG", "GET", "maxmemory")
            self.assertEqual(r.t, "%", f"CONFIG GET in RESP3 is a map: {r!r}")
            self.assertEqual(list(as_map(r)), ["maxmemory"])
            r = c.call("CONFIG", "GET", "maxmemory", "databases")
            self.assertEqual(r.t, "%")
            self.assertEqual(sorted(as_map(r)), ["databases", "maxmemory"])
            self.assertEqual(c.call("CONFIG", "GET", "no-such-parameter"), Reply("%", []))
            r = c.call("COMMAND", "DOCS", "GET")
            self.assertEqual(r.t, "%", f"COMMAND DOCS in RESP3 is a map: {r!r}")
            doc = as_map(as_map(r)["get"])
            self.assertIn("summary", doc)
            # INFO / CLIENT INFO: Redis sends verbatim strings ('=' with 'txt:'); a bulk string decodes the same
            for args in (("INFO", "server"), ("CLIENT", "INFO")):
                r = c.call(*args)
                self.assertIn(r.t, "=$", f"{args}: {r!r}")
                if r.t == "=":
                    self.assertTrue(r.v.startswith(b"txt:"), r)
                else:
                    kvutil.TEXT_NOTES.append(f"{' '.join(args)} in RESP3: bulk string (Redis: verbatim '=txt:')")
            r = c.call("GET")
            self.assertEqual(r.t, "-")
            replies = c.pipeline([("SET", k, "p"), ("GET", k), ("GET", k + "x"), ("DEL", k)])
            self.assertEqual(replies, [Reply("+", "OK"), Reply("$", b"p"), Reply("_", None), Reply(":", 1)])

    def test_randomkey_null_resp3(self):
        self.r.flushall()
        with self.srv.raw() as c:
            self.assertEqual(c.call("RANDOMKEY"), Reply("$", None))
            c.call("HELLO", "3")
            self.assertEqual(c.call("RANDOMKEY"), Reply("_", None))


class ServerTest(kvutil.KvTestCase):
    def test_command(self):
        r = self.call("COMMAND", "COUNT")
        self.assertEqual(r.t, ":")
        self.assertGreaterEqual(r.v, len(COMMANDS))
        r = self.call("COMMAND")
        self.assertEqual(r.t, "*")
        table = {}
        for entry in r.v:
            self.assertEqual(entry.t, "*")
            table[entry.v[0].v.decode()] = entry
        self.assertEqual(len(table), self.call("COMMAND", "COUNT").v, "COMMAND and COMMAND COUNT disagree")
        for name, (arity, first, last, step) in COMMANDS.items():
            self.assertIn(name, table, f"COMMAND lacks {name}")
            e = table[name].v
            self.assertEqual([x.v for x in e[1:2] + e[3:6]], [arity, first, last, step],
                             f"COMMAND entry of {name}: arity, first key, last key, step")
            self.assertEqual(e[2].t, "*", f"{name}: flags")
        r = self.call("COMMAND", "INFO", "get", "SET", "nosuchcmd")
        self.assertEqual(r.t, "*")
        self.assertEqual(len(r.v), 3)
        self.assertEqual(r.v[0].v[0].v, b"get")
        self.assertEqual(r.v[1].v[0].v, b"set")
        self.assertIn(r.v[2].t, "$*_", "an unknown command's entry is a null")
        self.assertIsNone(r.v[2].v)
        r = self.call("COMMAND", "DOCS", "GET")
        self.assertEqual(r.t, "*")
        docs = as_map(r)
        self.assertEqual(list(docs), ["get"])
        self.assertIn("summary", as_map(docs["get"]))
        r = self.call("COMMAND", "DOCS")
        self.assertGreaterEqual(len(as_map(r)), len(COMMANDS))
        self.assertIsInstance(self.r.command_count(), int)
        self.assertIn("get", self.r.command())

    def test_info_sections(self):
        self.r.flushall()
        self.r.set(self.k("a"), "1")
        self.r.set(self.k("b"), "2", ex=100)
        with self.srv.raw() as c1:
            text = text_of(self.call("INFO"))
            for sect in ("Server", "Clients", "Memory", "Stats", "Persistence", "Keyspace"):
                self.assertIn(f"# {sect}", text)
            f = info_fields(text)
            self.assertRegex(f.get("redis_version", ""), r"^\d+\.\d+\.\d+")
            self.assertEqual(f.get("tcp_port"), str(self.srv.port))
            self.assertGreaterEqual(int(f["connected_clients"]), 2)
            self.assertGreater(int(f["used_memory"]), 0)
            self.assertEqual(f.get("loading"), "0")
            self.assertIn("total_commands_processed", f)
            self.assertIn("total_connections_received", f)
            self.assertRegex(f.get("db0", ""), r"^keys=2,expires=1(,|$)")  # Redis adds avg_ttl=<ms>
            c1.call("PING")
        for sect in ("server", "clients", "memory", "stats", "persistence", "keyspace"):
            t = text_of(self.call("INFO", sect))
            heads = [line for line in t.splitlines() if line.startswith("# ")]
            self.assertEqual([h.lower() for h in heads], [f"# {sect}"], f"INFO {sect}: {heads}")
        t = text_of(self.call("INFO", "server", "keyspace"))
        self.assertEqual([line for line in t.splitlines() if line.startswith("# ")], ["# Server", "# Keyspace"])
        # redis-py parses it
        info = self.r.info()
        self.assertIn("redis_version", info)
        self.assertEqual(self.r.info("keyspace")["db0"]["keys"], 2)
        # stats move: commands, hits and misses
        s0 = self.r.info("stats")
        self.r.get(self.k("a"))
        self.r.get(self.k("nope"))
        s1 = self.r.info("stats")
        self.assertGreater(s1["total_commands_processed"], s0["total_commands_processed"])
        self.assertEqual(s1["keyspace_hits"] - s0["keyspace_hits"], 1)
        self.assertEqual(s1["keyspace_misses"] - s0["keyspace_misses"], 1)
        self.r.flushall()
        self.assertNotIn("db0", self.r.info("keyspace"), "an empty database has no keyspace line")

    def test_config_get(self):
        cfg = self.r.config_get("maxmemory")
        self.assertEqual(list(cfg), ["maxmemory"])
        self.assertRegex(cfg["maxmemory"], r"^\d+$")
        self.assertEqual(list(self.r.config_get("save")), ["save"])
        self.assertIn(self.r.config_get("appendonly")["appendonly"], ("yes", "no"))
        self.assertEqual(self.r.config_get("databases"), {"databases": "1"})
        r = self.call("CONFIG", "GET", "maxmemory")
        self.assertEqual(r.t, "*")
        self.assertEqual([x.v for x in r.v][0], b"maxmemory")
        self.assertEqual(self.r.config_get("no-such-parameter"), {})
        self.assertIn("maxmemory", self.r.config_get("maxmem*"))
        self.assertErrLike(("CONFIG", "GET"), "ERR wrong number of arguments for 'config|get' command")


    @kvutil.emberd_only("Prometheus metrics are emberd's admin endpoint")
    def test_prometheus_metrics(self):
        """The KV figures are on emberd's admin /metrics, and move with the commands."""
        self.r.flushall()
        m0 = self.srv.metrics()
        for i in range(20):
            self.r.set(self.k(f"m{i}"), "v" * 100)
        self.r.get(self.k("m0"))
        self.r.get(self.k("absent"))
        m1 = self.srv.metrics()
        ms = harness.metric_sum
        self.assertEqual(ms(m1, "ember_kv_keys"), 20)
        self.assertGreaterEqual(ms(m1, "ember_kv_commands_total") - ms(m0, "ember_kv_commands_total"), 22)
        self.assertEqual(ms(m1, "ember_kv_keyspace_hits_total") - ms(m0, "ember_kv_keyspace_hits_total"), 1)
        self.assertEqual(ms(m1, "ember_kv_keyspace_misses_total") - ms(m0, "ember_kv_keyspace_misses_total"), 1)
        self.assertGreater(ms(m1, "ember_kv_disk_bytes"), 0)
        self.assertGreaterEqual(ms(m1, "ember_kv_connected_clients"), 1)
        for name in ("ember_kv_fsyncs_total", "ember_kv_cache_hits_total", "ember_kv_compactions_total",
                     "ember_kv_expired_keys_total", "ember_kv_index_bytes", "ember_kv_cache_bytes"):
            self.assertIn(name, {n for (n, _l) in m1}, name)


class TransactionTest(kvutil.KvTestCase):
    """MULTI / EXEC / DISCARD as Redis runs them (redis-py's pipeline() uses them by default). A server of its
    own with three event loops, so that EXEC's isolation is tested across loops (the default is cores - 1)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = kvutil.make_target(kv_config="threads = 3").start()

    @classmethod
    def tearDownClass(cls):
        kvutil.stop_checked(cls.srv)

    def test_exec_runs_the_queue_and_answers_each_reply(self):
        a = self.k("a")
        with self.srv.raw() as c:
            self.assertEqual(c.call("MULTI"), Reply("+", "OK"))
            self.assertEqual(c.call("SET", a, "1"), Reply("+", "QUEUED"))
            self.assertEqual(c.call("INCR", a), Reply("+", "QUEUED"))
            self.assertEqual(c.call("GET", a), Reply("+", "QUEUED"))
            r = c.call("EXEC")
            self.assertEqual(r.t, "*")
            self.assertEqual([x.py() for x in r.v], ["OK", 2, b"2"])
            # a command failing at run time answers its error in the array; the others still ran
            self.assertEqual(c.call("MULTI"), Reply("+", "OK"))
            c.call("SET", a, "abc")
            c.call("INCR", a)
            c.call("GET", a)
            r = c.call("EXEC")
            self.assertEqual(r.v[0].py(), "OK")
            self.assertTrue(r.v[1].is_error and r.v[1].v.startswith("ERR value is not an integer"), r.v[1])
            self.assertEqual(r.v[2].py(), b"abc")
            self.assertEqual(c.call("MULTI"), Reply("+", "OK"))
            self.assertEqual(c.call("EXEC").v, [])

    def test_errors_while_queueing_abort_the_transaction(self):
        b = self.k("b")
        with self.srv.raw() as c:
            c.call("MULTI")
            c.call("SET", b, "1")
            self.assertTrue(c.call("NOSUCHCOMMAND", "x").is_error)
            self.assertTrue(c.call("GET").is_error)  # wrong arity
            r = c.call("EXEC")
            self.assertTrue(r.is_error and r.v.startswith("EXECABORT"), r)
            self.assertEqual(c.call("EXISTS", b).py(), 0, "nothing of an aborted transaction runs")
            self.assertEqual(c.call("EXEC").v, "ERR EXEC without MULTI")
            self.assertEqual(c.call("DISCARD").v, "ERR DISCARD without MULTI")
            c.call("MULTI")
            self.assertEqual(c.call("MULTI").v, "ERR MULTI calls can not be nested")
            c.call("SET", b, "1")
            self.assertEqual(c.call("DISCARD"), Reply("+", "OK"))
            self.assertEqual(c.call("EXISTS", b).py(), 0)
            c.call("MULTI")
            self.assertEqual(c.call("WATCH", b).v, "ERR WATCH inside MULTI is not allowed")
            c.call("DISCARD")

    def test_pipelines_are_isolated_from_other_clients(self):
        """redis-py's default pipeline is MULTI/EXEC: two INCRs in one must be consecutive even while other
        connections (on every event loop) INCR the same key."""
        ctr = self.k("ctr")
        self.r.set(ctr, 0)
        errors = []

        def work():
            c = self.srv.client(decode=False)
            try:
                for _ in range(300):
                    p = c.pipeline()
                    p.incr(ctr)
                    p.incr(ctr)
                    x, y = p.execute()
                    if y != x + 1:
                        errors.append((x, y))
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(int(self.r.get(ctr)), 4 * 300 * 2)

    @kvutil.emberd_only("redis-server supports WATCH")
    def test_watch_is_refused_clearly(self):
        r = self.call("WATCH", self.k("w"))
        self.assertTrue(r.is_error and "not supported" in r.v, r)
        self.assertEqual(self.call("UNWATCH"), Reply("+", "OK"))


class AuthTest(kvutil.UsersTestCase):
    """A server of its own with two users: alice (read-write) and reader (read-only)."""

    def test_noauth_wrongpass(self):
        k = self.k()
        with self.srv.raw() as c:
            for args in (("GET", k), ("SET", k, "v"), ("PING",), ("DBSIZE",), ("INFO",)):
                r = c.call(*args)
                self.assertEqual(r.t, "-", args)
                self.assertTrue(r.v.startswith("NOAUTH"), f"{args}: {r!r}")
            wp = "WRONGPASS invalid username-password pair or user is disabled."
            self.assertEqual(c.call("AUTH", "alice", "wrong"), Reply("-", wp))
            self.assertEqual(c.call("AUTH", "nobody", ALICE["password"]), Reply("-", wp))
            r = c.call("AUTH", ALICE["password"])  # the one-argument form authenticates "default": no such user
            self.assertEqual(r.t, "-", r)
            self.assertTrue(c.call("GET", k).v.startswith("NOAUTH"), "a failed AUTH must not authenticate")
            self.assertEqual(c.call("AUTH", "alice", ALICE["password"]), Reply("+", "OK"))
            self.assertEqual(c.call("SET", k, "v"), Reply("+", "OK"))
            self.assertEqual(c.call("GET", k), Reply("$", b"v"))
            self.assertEqual(c.call("AUTH", "alice", "wrong"), Reply("-", wp))
            self.assertEqual(c.call("GET", k), Reply("$", b"v"), "a failed re-AUTH keeps the earlier login")
        with self.srv.raw() as c:
            self.assertEqual(c.call("QUIT"), Reply("+", "OK"), "QUIT works before AUTH")
        import redis
        # redis-py 4.3 raises a plain ResponseError for an AUTH refused while connecting
        with self.assertRaises(redis.exceptions.ResponseError) as cm:
            self.srv.client(user={"name": "alice", "password": "wrong"}).ping()
        self.assertTrue(str(cm.exception).startswith("WRONGPASS"), cm.exception)
        with self.assertRaises(redis.exceptions.AuthenticationError):
            self.srv.client().get(k)

    def test_readonly_user(self):
        import redis
        k = self.k()
        self.r.set(k, "orig")
        ro = self.srv.client(user=READER)
        self.assertEqual(ro.get(k), "orig")
        self.assertEqual(ro.mget(k, k + "x"), ["orig", None])
        self.assertEqual(ro.exists(k), 1)
        self.assertGreaterEqual(ro.dbsize(), 1)
        self.assertIn(k, list(ro.scan_iter(match=k, count=1000)))
        self.assertEqual(ro.ttl(k), -1)
        self.assertTrue(ro.ping())
        with self.assertRaises(redis.exceptions.NoPermissionError):
            ro.set(k, "changed")
        for args in (("SET", k, "x"), ("DEL", k), ("INCR", k + "n"), ("EXPIRE", k, "10"), ("APPEND", k, "x"),
                     ("MSET", k, "x"), ("RENAME", k, k + "2"), ("SETRANGE", k, "0", "x"), ("GETDEL", k),
                     ("FLUSHDB",), ("FLUSHALL",), ("PERSIST", k), ("UNLINK", k), ("GETEX", k, "EX", "10")):
            r = self.call(*args, user=READER)
            self.assertEqual(r.t, "-", f"read-only user ran {args}: {r!r}")
            self.assertTrue(r.v.startswith("NOPERM"), f"{args}: {r!r}")
        self.assertEqual(self.r.get(k), "orig")
        self.assertEqual(self.r.ttl(k), -1)
        self.assertEqual(self.r.exists(k + "n", k + "2"), 0)
        ro.close()

    def test_hello_auth(self):
        k = self.k()
        with self.srv.raw() as c:
            r = c.call("HELLO", "3")
            self.assertEqual(r.t, "-")
            self.assertTrue(r.v.startswith("NOAUTH"), r)
            r = c.call("HELLO", "3", "AUTH", "alice", "wrong")
            self.assertEqual(r.t, "-")
            self.assertTrue(r.v.startswith("WRONGPASS"), r)
            self.assertTrue(c.call("GET", k).v.startswith("NOAUTH"))
            r = c.call("HELLO", "3", "AUTH", "alice", ALICE["password"], "SETNAME", "h3")
            self.assertEqual(r.t, "%", r)
            self.assertEqual(as_map(r)["proto"], Reply(":", 3))
            self.assertEqual(c.call("GET", k), Reply("_", None))
            self.assertEqual(c.call("CLIENT", "GETNAME"), Reply("$", b"h3"))
        with self.srv.raw() as c:
            r = c.call("HELLO", "2", "AUTH", "reader", READER["password"])
            self.assertEqual(r.t, "*")
            self.assertTrue(c.call("SET", k, "v").v.startswith("NOPERM"))
            self.assertEqual(c.call("GET", k), Reply("$", None))
            # switching user on the same connection
            self.assertEqual(c.call("AUTH", "alice", ALICE["password"]), Reply("+", "OK"))
            self.assertEqual(c.call("SET", k, "v"), Reply("+", "OK"))
            self.assertEqual(c.call("AUTH", "reader", READER["password"]), Reply("+", "OK"))
            self.assertTrue(c.call("DEL", k).v.startswith("NOPERM"))

    def test_redispy_users(self):
        self.assertTrue(self.r.set(self.k(), "v"))
        self.assertEqual(self.srv.client(user=READER).get(self.k()), "v")


if __name__ == "__main__":
    kvutil.main(timeout=300)
