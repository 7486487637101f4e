#!/usr/bin/env python3
"""KV endpoint through redis-py (RESP2): string commands, keyspace commands, expiry, SCAN (incl. completeness under
concurrent writes), KEYS, RANDOMKEY, RENAME, DBSIZE/FLUSH*, pipelines of 1000 commands. Error replies are checked
on the wire (kvutil.RespConn) so their exact text is seen; texts Redis itself defines for the issue's errors are
asserted exactly, other texts only by their first word (differences are printed as notes).

Connection/server commands, RESP3 and AUTH: test_kv_protocol.py. Value/key limits and a data set larger than the
RAM cache: test_kv_capacity.py.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_kv_redispy.py
     EMBER_KV_TARGET=redis /usr/bin/python3 tests/integration/test_kv_redispy.py   (the tests against Redis)
"""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvutil  # noqa: E402

NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


def setUpModule():
    kvutil.start_module_target()


def tearDownModule():
    kvutil.stop_module_target()


def wrong_args(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


class StringTest(kvutil.KvTestCase):
    def test_get_set_basic(self):
        k = self.k()
        self.assertIsNone(self.r.get(k))
        self.assertTrue(self.r.set(k, "v1"))
        self.assertEqual(self.r.get(k), "v1")
        self.assertTrue(self.r.set(k, "v2"))
        self.assertEqual(self.r.get(k), "v2")
        blob = bytes(range(256)) * 4 + b"\r\n\x00end"
        self.assertTrue(self.rb.set(k, blob))
        self.assertEqual(self.rb.get(k), blob)
        self.assertTrue(self.r.set(k, ""))
        self.assertEqual(self.r.get(k), "")
        self.assertEqual(self.r.strlen(k), 0)
        self.assertTrue(self.r.set("ключ-é-🔑 " + k, "значение"))
        self.assertEqual(self.r.get("ключ-é-🔑 " + k), "значение")
        self.assertErr(("GET",), wrong_args("get"), exact=True)
        self.assertErr(("GET", "a", "b"), wrong_args("get"), exact=True)
        self.assertErr(("SET", k), wrong_args("set"), exact=True)

    def test_set_nx_xx(self):
        k = self.k()
        self.assertIsNone(self.r.set(k, "a", xx=True))
        self.assertIsNone(self.r.get(k))
        self.assertTrue(self.r.set(k, "a", nx=True))
        self.assertIsNone(self.r.set(k, "b", nx=True))
        self.assertEqual(self.r.get(k), "a")
        self.assertTrue(self.r.set(k, "c", xx=True))
        self.assertEqual(self.r.get(k), "c")
        self.assertErr(("SET", k, "v", "NX", "XX"), SYNTAX, exact=True)

    def test_set_expiry_options(self):
        k = self.k()
        self.assertTrue(self.r.set(k, "v", ex=100))
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertTrue(self.r.set(k, "v", px=100_000))
        self.assertTrue(95_000 <= self.r.pttl(k) <= 100_000)
        now = int(time.time())
        self.assertTrue(self.r.set(k, "v", exat=now + 1000))
        self.assertEqual(self.r.expiretime(k), now + 1000)
        self.assertTrue(self.r.set(k, "v", pxat=(now + 2000) * 1000 + 123))
        self.assertEqual(self.r.pexpiretime(k), (now + 2000) * 1000 + 123)
        self.assertTrue(self.r.set(k, "w", keepttl=True))
        self.assertEqual(self.r.pexpiretime(k), (now + 2000) * 1000 + 123)
        self.assertEqual(self.r.get(k), "w")
        self.assertTrue(self.r.set(k, "x"))  # plain SET clears the TTL
        self.assertEqual(self.r.ttl(k), -1)
        self.assertTrue(self.r.set(k, "y", ex=100, xx=True))
        self.assertGreater(self.r.ttl(k), 0)
        # lower-case options work too
        self.assertReply(("set", k, "z", "ex", "50", "xx"), "+", "OK")
        self.assertTrue(45 <= self.r.ttl(k) <= 50)

    def test_set_invalid_combinations(self):
        k = self.k()
        for args in (("EX", "10", "PX", "100"), ("EX", "10", "EXAT", "2000000000"), ("PX", "1", "PXAT", "2"),
                     ("KEEPTTL", "EX", "10"), ("PX", "10", "KEEPTTL"), ("NX", "XX"), ("FOO",), ("EX",)):
            self.assertErr(("SET", k, "v") + args, SYNTAX, exact=True)
        self.assertErr(("SET", k, "v", "EX", "abc"), NOT_INT, exact=True)
        for args in (("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "-5"), ("PXAT", "0"),
                     ("EX", "99999999999999999"), ("EX", "9223372036854775")):
            self.assertErrLike(("SET", k, "v") + args, "ERR invalid expire time in 'set' command")
        self.assertIsNone(self.r.get(k), "no failed SET may write")
        # As Redis: the same expiry option may repeat (the last wins), and the number is checked only after
        # every option parsed, so a later syntax error wins over a bad number.
        self.assertErr(("SET", k, "v", "EX", "abc", "FOO"), SYNTAX, exact=True)
        self.assertReply(("SET", k, "v", "EX", "abc", "EX", "100"), "+", "OK")
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertReply(("SET", k, "v", "PX", "5000", "PX", "200000"), "+", "OK")
        self.assertTrue(195_000 <= self.r.pttl(k) <= 200_000)
        self.assertReply(("SET", k, "w", "KEEPTTL", "KEEPTTL"), "+", "OK")
        self.assertTrue(195_000 <= self.r.pttl(k) <= 200_000)
        self.assertErrLike(("SET", k, "v", "EX", "100", "EX", "0"), "ERR invalid expire time in 'set' command")

    def test_set_get_option(self):
        k = self.k()
        self.assertIsNone(self.r.set(k, "one", get=True))
        self.assertEqual(self.r.get(k), "one")
        self.assertEqual(self.r.set(k, "two", get=True), "one")
        self.assertEqual(self.r.get(k), "two")
        self.assertEqual(self.r.set(k, "three", get=True, ex=100), "two")
        self.assertGreater(self.r.ttl(k), 0)
        # Redis 7.0: GET combines with NX / XX; the old value comes back whether or not the SET happened
        self.assertReply(("SET", k, "four", "NX", "GET"), "$", b"three")
        self.assertEqual(self.r.get(k), "three")
        self.assertReply(("SET", self.k("new"), "v", "XX", "GET"), "$", None)
        self.assertIsNone(self.r.get(self.k("new")))

    def test_setnx_setex_psetex(self):
        k = self.k()
        self.assertTrue(self.r.setnx(k, "a"))
        self.assertFalse(self.r.setnx(k, "b"))
        self.assertEqual(self.r.get(k), "a")
        self.assertTrue(self.r.setex(k, 100, "b"))
        self.assertEqual(self.r.get(k), "b")
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertTrue(self.r.psetex(k, 50_000, "c"))
        self.assertEqual(self.r.get(k), "c")
        self.assertTrue(45_000 <= self.r.pttl(k) <= 50_000)
        self.assertErrLike(("SETEX", k, "0", "v"), "ERR invalid expire time in 'setex' command")
        self.assertErrLike(("PSETEX", k, "-1", "v"), "ERR invalid expire time in 'psetex' command")
        self.assertErr(("SETEX", k, "x", "v"), NOT_INT, exact=True)
        self.assertErr(("SETNX", k), wrong_args("setnx"), exact=True)
        self.assertEqual(self.r.get(k), "c")

    def test_getdel_getex(self):
        k = self.k()
        self.assertIsNone(self.r.getdel(k))
        self.r.set(k, "v", ex=100)
        self.assertEqual(self.r.getdel(k), "v")
        self.assertIsNone(self.r.get(k))
        self.assertIsNone(self.r.getex(k, ex=10))
        self.r.set(k, "v")
        self.assertEqual(self.r.getex(k), "v")
        self.assertEqual(self.r.ttl(k), -1)
        self.assertEqual(self.r.getex(k, ex=100), "v")
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertEqual(self.r.getex(k, px=200_000), "v")
        self.assertTrue(195_000 <= self.r.pttl(k) <= 200_000)
        now = int(time.time())
        self.assertEqual(self.r.getex(k, exat=now + 500), "v")
        self.assertEqual(self.r.expiretime(k), now + 500)
        self.assertEqual(self.r.getex(k, pxat=(now + 600) * 1000 + 7), "v")
        self.assertEqual(self.r.pexpiretime(k), (now + 600) * 1000 + 7)
        self.assertEqual(self.r.getex(k, persist=True), "v")
        self.assertEqual(self.r.ttl(k), -1)
        for args in (("EX", "10", "PX", "10"), ("PERSIST", "EX", "1"), ("FOO",), ("EX",)):
            self.assertErr(("GETEX", k) + args, SYNTAX, exact=True)
        self.assertErrLike(("GETEX", k, "EX", "0"), "ERR invalid expire time in 'getex' command")
        self.assertErr(("GETEX", k, "EX", "x"), NOT_INT, exact=True)
        self.assertEqual(self.r.ttl(k), -1, "a failed GETEX must not change the TTL")
        self.assertErr(("GETEX", k, "EX", "x", "FOO"), SYNTAX, exact=True)
        self.assertReply(("GETEX", k, "EX", "x", "EX", "100"), "$", b"v")
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertReply(("GETEX", k, "PERSIST", "PERSIST"), "$", b"v")
        self.assertEqual(self.r.ttl(k), -1)

    def test_mget_mset_msetnx(self):
        a, b, c = self.k("a"), self.k("b"), self.k("c")
        self.assertTrue(self.r.mset({a: "1", b: "2"}))
        self.assertEqual(self.r.mget(a, b, c, a), ["1", "2", None, "1"])
        self.assertFalse(self.r.msetnx({b: "x", c: "3"}))
        self.assertIsNone(self.r.get(c), "MSETNX sets nothing when one key exists")
        self.assertEqual(self.r.get(b), "2")
        self.assertTrue(self.r.msetnx({c: "3", self.k("d"): "4"}))
        self.assertEqual(self.r.mget(c, self.k("d")), ["3", "4"])
        self.r.set(a, "old", ex=100)
        self.r.mset({a: "new"})
        self.assertEqual(self.r.ttl(a), -1, "MSET clears the TTL like SET")
        self.assertErr(("MSET", a), wrong_args("mset"), exact=True)
        self.assertErr(("MSET", a, "1", b), wrong_args("mset"), exact=True)
        self.assertErr(("MSETNX", a), wrong_args("msetnx"), exact=True)
        self.assertErr(("MGET",), wrong_args("mget"), exact=True)

    def test_del_unlink_exists_touch(self):
        a, b, c = self.k("a"), self.k("b"), self.k("c")
        self.r.mset({a: "1", b: "2"})
        self.assertEqual(self.r.exists(a, b, c), 2)
        self.assertEqual(self.r.exists(a, a, a), 3, "EXISTS counts repeated keys")
        self.assertEqual(self.r.touch(a, b, c), 2)
        self.assertEqual(self.r.delete(a, c), 1)
        self.assertEqual(self.r.exists(a), 0)
        self.assertEqual(self.r.unlink(b, b), 1)
        self.assertEqual(self.r.exists(b), 0)
        self.r.mset({a: "1", b: "2"})
        self.assertEqual(self.r.delete(a, b, a), 2)
        self.assertErr(("DEL",), wrong_args("del"), exact=True)
        self.assertErr(("EXISTS",), wrong_args("exists"), exact=True)

    def test_strlen_getrange(self):
        k = self.k()
        self.assertEqual(self.r.strlen(k), 0)
        self.assertEqual(self.r.getrange(k, 0, -1), "")
        self.r.set(k, "This is a string")
        self.assertEqual(self.r.strlen(k), 16)
        self.assertEqual(self.r.getrange(k, 0, 3), "This")
        self.assertEqual(self.r.getrange(k, -3, -1), "ing")
        self.assertEqual(self.r.getrange(k, 0, -1), "This is a string")
        self.assertEqual(self.r.getrange(k, 10, 100), "string")
        self.assertEqual(self.r.getrange(k, -100, 3), "This")
        self.assertEqual(self.r.getrange(k, 5, 2), "")
        self.assertEqual(self.r.getrange(k, -1, -5), "")
        self.assertEqual(self.r.getrange(k, 100, 200), "")
        self.assertEqual(self.r.getrange(k, 15, 15), "g")
        self.assertErr(("GETRANGE", k, "a", "1"), NOT_INT, exact=True)
        self.assertErr(("GETRANGE", k, "0"), wrong_args("getrange"), exact=True)

    def test_setrange_append(self):
        k = self.k()
        self.r.set(k, "Hello World")
        self.assertEqual(self.r.setrange(k, 6, "Redis"), 11)
        self.assertEqual(self.r.get(k), "Hello Redis")
        self.assertEqual(self.r.setrange(k, 11, "!!"), 13)
        self.assertEqual(self.r.get(k), "Hello Redis!!")
        z = self.k("zero")
        self.assertEqual(self.r.setrange(z, 5, "ab"), 7)
        self.assertEqual(self.rb.get(z), b"\x00" * 5 + b"ab", "SETRANGE pads with zero bytes")
        self.assertEqual(self.r.setrange(z, 10, ""), 7, "an empty value changes nothing")
        self.assertEqual(self.r.strlen(z), 7)
        e = self.k("empty")
        self.assertEqual(self.r.setrange(e, 5, ""), 0)
        self.assertEqual(self.r.exists(e), 0, "SETRANGE with an empty value creates no key")
        self.assertErrLike(("SETRANGE", k, "-1", "x"), "ERR offset is out of range")
        # beyond any size limit (Redis: 512 MB); refused before allocating anything
        self.assertErr(("SETRANGE", k, "536870912", "x"), "ERR")
        self.assertEqual(self.r.get(k), "Hello Redis!!")
        a = self.k("app")
        self.assertEqual(self.r.append(a, "Hello"), 5)
        self.assertEqual(self.r.append(a, " World"), 11)
        self.assertEqual(self.r.append(a, ""), 11)
        self.assertEqual(self.r.get(a), "Hello World")
        self.r.set(a, "x", ex=100)
        self.r.append(a, "y")
        self.assertGreater(self.r.ttl(a), 0, "APPEND keeps the TTL")

    def test_incr_decr(self):
        k = self.k()
        self.assertEqual(self.r.incr(k), 1)
        self.assertEqual(self.r.incr(k), 2)
        self.assertEqual(self.r.incrby(k, 10), 12)
        self.assertEqual(self.r.decr(k), 11)
        self.assertEqual(self.r.decrby(k, 20), -9)
        self.assertEqual(self.r.incrby(k, -1), -10)
        self.assertEqual(self.r.get(k), "-10")
        self.assertEqual(self.r.decr(self.k("new")), -1)
        self.r.set(k, "5", ex=100)
        self.r.incr(k)
        self.assertGreater(self.r.ttl(k), 0, "INCR keeps the TTL")
        for v in ("abc", " 1", "01", "1.5", "", "9223372036854775808", "+1"):
            self.r.set(k, v)
            self.assertErr(("INCR", k), NOT_INT, exact=True)
            self.assertEqual(self.r.get(k), v)
        self.r.set(k, "9223372036854775807")
        self.assertErrLike(("INCR", k), "ERR increment or decrement would overflow")
        self.assertErrLike(("INCRBY", k, "1"), "ERR increment or decrement would overflow")
        self.r.set(k, "-9223372036854775808")
        self.assertErrLike(("DECR", k), "ERR increment or decrement would overflow")
        self.assertEqual(self.r.get(k), "-9223372036854775808")
        self.r.set(k, "0")
        self.assertErrLike(("DECRBY", k, "-9223372036854775808"), "ERR decrement would overflow")
        self.r.set(k, "-9223372036854775808")
        self.assertErr(("DECRBY", k, "1"), "ERR increment or decrement would overflow", exact=True)
        self.assertErr(("DECRBY", k, "9223372036854775807"), "ERR increment or decrement would overflow",
                       exact=True)
        self.r.set(k, "0")
        self.assertErr(("INCRBY", k, "1.5"), NOT_INT, exact=True)
        self.assertErr(("INCRBY", k, "x"), NOT_INT, exact=True)
        self.assertErr(("INCRBY", k), wrong_args("incrby"), exact=True)
        self.assertEqual(self.r.incrby(k, 9223372036854775807), 9223372036854775807)

    def test_incrbyfloat(self):
        k = self.k()
        self.assertEqual(self.r.incrbyfloat(k, 10.5), 10.5)
        self.assertReply(("INCRBYFLOAT", k, "0.1"), "$", b"10.6")
        self.assertReply(("INCRBYFLOAT", k, "-10.6"), "$", b"0")
        self.r.set(k, "5.0e3")
        self.assertReply(("INCRBYFLOAT", k, "2.0e2"), "$", b"5200")
        self.assertReply(("INCRBYFLOAT", k, "-5200.25"), "$", b"-0.25")
        self.r.set(k, "3")
        self.assertReply(("INCRBYFLOAT", k, "1.5"), "$", b"4.5")
        self.assertEqual(self.r.get(k), "4.5")
        self.r.set(k, "abc")
        self.assertErrLike(("INCRBYFLOAT", k, "1"), "ERR value is not a valid float")
        self.r.set(k, "1")
        self.assertErrLike(("INCRBYFLOAT", k, "abc"), "ERR value is not a valid float")
        self.assertErrLike(("INCRBYFLOAT", k, "inf"), "ERR increment would produce NaN or Infinity")
        self.assertEqual(self.r.get(k), "1")
        # long double arithmetic and Redis's printing: 0.1 + 0.2 reads back as 0.3, big values in full
        self.r.delete(k)
        self.assertReply(("INCRBYFLOAT", k, "0.1"), "$", b"0.1")
        self.assertReply(("INCRBYFLOAT", k, "0.2"), "$", b"0.3")
        self.assertReply(("INCRBYFLOAT", k, "1e20"), "$", b"100000000000000000000")  # 0.3 is below its precision
        self.r.set(k, "-0.0")
        self.assertReply(("INCRBYFLOAT", k, "0"), "$", b"0")

    def test_type(self):
        k = self.k()
        self.assertEqual(self.r.type(k), "none")
        self.r.set(k, "v")
        self.assertEqual(self.r.type(k), "string")


class ExpiryTest(kvutil.KvTestCase):
    def test_expire_family(self):
        k = self.k()
        self.assertFalse(self.r.expire(k, 100), "EXPIRE of a missing key answers 0")
        self.r.set(k, "v")
        self.assertEqual(self.r.ttl(k), -1)
        self.assertEqual(self.r.pttl(k), -1)
        self.assertEqual(self.r.expiretime(k), -1)
        self.assertEqual(self.r.pexpiretime(k), -1)
        self.assertTrue(self.r.expire(k, 100))
        self.assertTrue(95 <= self.r.ttl(k) <= 100)
        self.assertTrue(self.r.pexpire(k, 200_000))
        self.assertTrue(195_000 <= self.r.pttl(k) <= 200_000)
        at = int(time.time()) + 1000
        self.assertTrue(self.r.expireat(k, at))
        self.assertEqual(self.r.expiretime(k), at)
        self.assertTrue(self.r.pexpireat(k, at * 1000 + 300))
        self.assertEqual(self.r.pexpiretime(k), at * 1000 + 300)
        self.assertEqual(self.r.expiretime(k), at, "EXPIRETIME is in seconds (Redis rounds to the nearest)")
        self.assertTrue(self.r.persist(k))
        self.assertFalse(self.r.persist(k))
        self.assertEqual(self.r.ttl(k), -1)
        self.assertEqual(self.r.ttl(self.k("none")), -2)
        self.assertEqual(self.r.pttl(self.k("none")), -2)
        self.assertEqual(self.r.expiretime(self.k("none")), -2)
        self.assertEqual(self.r.pexpiretime(self.k("none")), -2)
        # a TTL in the past deletes the key at once
        self.assertTrue(self.r.expire(k, -1))
        self.assertEqual(self.r.exists(k), 0)
        self.r.set(k, "v")
        self.assertTrue(self.r.pexpireat(k, 1000))
        self.assertEqual(self.r.exists(k), 0)

    def test_expire_nx_xx_gt_lt(self):
        k = self.k()
        self.r.set(k, "v")
        self.assertFalse(self.r.expire(k, 100, xx=True), "XX: no TTL yet")
        self.assertFalse(self.r.expire(k, 100, gt=True), "GT: no TTL counts as infinite")
        self.assertTrue(self.r.expire(k, 100, lt=True), "LT: anything is less than infinite")
        self.assertFalse(self.r.expire(k, 200, nx=True), "NX: has a TTL")
        self.assertTrue(self.r.expire(k, 200, xx=True))
        self.assertTrue(195 <= self.r.ttl(k) <= 200)
        self.assertFalse(self.r.expire(k, 100, gt=True))
        self.assertTrue(self.r.expire(k, 300, gt=True))
        self.assertFalse(self.r.expire(k, 400, lt=True))
        self.assertTrue(self.r.expire(k, 150, lt=True))
        self.assertTrue(145 <= self.r.ttl(k) <= 150)
        self.assertTrue(self.r.pexpire(k, 500_000, gt=True))
        self.assertFalse(self.r.pexpire(k, 400_000, gt=True))
        at = int(time.time()) + 10_000
        self.assertTrue(self.r.expireat(k, at, xx=True))
        self.assertFalse(self.r.expireat(k, at - 1, gt=True))
        self.assertTrue(self.r.pexpireat(k, at * 1000 - 1, lt=True))
        self.assertEqual(self.r.pexpiretime(k), at * 1000 - 1)
        n = self.k("n")
        self.r.set(n, "v")
        self.assertTrue(self.r.expire(n, 100, nx=True))
        self.assertErrLike(("EXPIRE", k, "10", "NX", "XX"),
                           "ERR NX and XX, GT or LT options at the same time are not compatible")
        self.assertErrLike(("EXPIRE", k, "10", "NX", "GT"),
                           "ERR NX and XX, GT or LT options at the same time are not compatible")
        self.assertErrLike(("PEXPIRE", k, "10", "GT", "LT"), "ERR GT and LT options at the same time are not compatible")
        self.assertErrLike(("EXPIRE", k, "10", "FOO"), "ERR Unsupported option FOO")
        self.assertErr(("EXPIRE", k, "abc"), NOT_INT, exact=True)
        self.assertErrLike(("EXPIRE", k, "99999999999999999"), "ERR invalid expire time in 'expire' command")
        self.assertErrLike(("PEXPIRE", k, "9223372036854775807"), "ERR invalid expire time in 'pexpire' command")
        self.assertEqual(self.r.pexpiretime(k), at * 1000 - 1, "failed EXPIREs change nothing")

    def test_keys_expire(self):
        k = self.k()
        self.r.set(k, "v", px=100)
        self.assertEqual(self.r.get(k), "v")
        time.sleep(0.5)
        self.assertIsNone(self.r.get(k), "a key SET with PX 100 is still there after 500 ms")
        self.assertEqual(self.r.exists(k), 0)
        self.assertEqual(self.r.ttl(k), -2)
        # GETEX / EXPIRE-set TTLs expire as well, and expired keys vanish from KEYS / SCAN / MGET
        a, b = self.k("a"), self.k("b")
        self.r.set(a, "1")
        self.r.set(b, "2")
        self.r.getex(a, px=100)
        self.r.pexpire(b, 100)
        time.sleep(0.5)
        self.assertEqual(self.r.mget(a, b), [None, None])
        self.assertEqual(self.r.keys(self.k("*")), [])
        self.assertEqual(list(self.r.scan_iter(match=self.k("*"), count=1000)), [])

    def test_active_expiry(self):
        # keys nobody touches again are removed by the server's sweep: DBSIZE (which touches no key) drops
        self.r.flushall()
        with self.r.pipeline(transaction=False) as p:
            for i in range(200):
                p.set(self.k(str(i)), "x", px=100)
            p.set(self.k("keep"), "x")
            p.execute()
        self.assertEqual(self.r.dbsize(), 201)
        deadline = time.monotonic() + 20
        while self.r.dbsize() > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.r.dbsize(), 1, "expired keys were not swept within 20 s")
        self.assertEqual(self.r.get(self.k("keep")), "x")

    def test_rename_keeps_ttl(self):
        a, b = self.k("a"), self.k("b")
        self.r.set(a, "v", ex=100)
        self.r.set(b, "old")
        self.assertTrue(self.r.rename(a, b))
        self.assertEqual(self.r.get(b), "v")
        self.assertTrue(95 <= self.r.ttl(b) <= 100)
        self.assertEqual(self.r.exists(a), 0)


class KeyspaceTest(kvutil.KvTestCase):
    def test_rename(self):
        a, b = self.k("a"), self.k("b")
        self.r.set(a, "1")
        self.assertTrue(self.r.rename(a, b))
        self.assertEqual(self.r.mget(a, b), [None, "1"])
        self.assertReply(("RENAME", b, b), "+", "OK")
        self.assertEqual(self.r.get(b), "1")
        self.assertErr(("RENAME", self.k("missing"), a), "ERR no such key", exact=True)
        self.assertErr(("RENAME", self.k("missing"), self.k("missing")), "ERR no such key", exact=True)
        self.assertErr(("RENAME", a), wrong_args("rename"), exact=True)

    def test_keys_patterns(self):
        self.r.flushdb()
        names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "other", "h[a]llo"]
        self.r.mset({n: "1" for n in names})
        self.assertEqual(sorted(self.r.keys("*")), sorted(names))
        self.assertEqual(sorted(self.r.keys("h?llo")), ["h*llo", "hallo", "hello", "hxllo"])
        self.assertEqual(sorted(self.r.keys("h*llo")), sorted(n for n in names if n != "other"))
        self.assertEqual(sorted(self.r.keys("h[ae]llo")), ["hallo", "hello"])
        self.assertEqual(sorted(self.r.keys("h[^e]llo")), ["h*llo", "hallo", "hxllo"])
        self.assertEqual(sorted(self.r.keys("h[a-b]llo")), ["hallo"])
        self.assertEqual(self.r.keys("h\\*llo"), ["h*llo"])
        self.assertEqual(self.r.keys("h\\[a\\]llo"), ["h[a]llo"])
        self.assertEqual(self.r.keys("nomatch*"), [])
        self.assertEqual(self.r.dbsize(), len(names))

    def test_randomkey(self):
        self.r.flushdb()
        self.assertIsNone(self.r.randomkey())
        names = {self.k(str(i)) for i in range(20)}
        self.r.mset({n: "v" for n in names})
        seen = {self.r.randomkey() for _ in range(50)}
        self.assertTrue(seen <= names, seen - names)
        self.assertGreater(len(seen), 1, "RANDOMKEY always returns the same key")

    def test_dbsize_flush(self):
        self.r.flushall()
        self.assertEqual(self.r.dbsize(), 0)
        self.r.mset({self.k(str(i)): "v" for i in range(100)})
        self.assertEqual(self.r.dbsize(), 100)
        self.assertTrue(self.r.flushdb())
        self.assertEqual(self.r.dbsize(), 0)
        self.assertIsNone(self.r.get(self.k("1")))
        self.r.mset({self.k(str(i)): "v" for i in range(10)})
        self.r.set(self.k("ttl"), "v", ex=100)
        self.assertTrue(self.r.flushall())
        self.assertEqual(self.r.dbsize(), 0)
        self.assertEqual(self.r.keys("*"), [])
        self.r.set(self.k("x"), "v")
        self.assertReply(("FLUSHDB", "SYNC"), "+", "OK")
        self.assertReply(("FLUSHALL", "ASYNC"), "+", "OK")
        self.assertEqual(self.r.dbsize(), 0)
        self.assertErr(("FLUSHDB", "FOO"), SYNTAX, exact=True)
        self.assertErr(("DBSIZE", "x"), wrong_args("dbsize"), exact=True)

    def test_scan_basic(self):
        self.r.flushdb()
        names = {f"scan:{i}" for i in range(1000)} | {f"other:{i}" for i in range(100)}
        with self.r.pipeline(transaction=False) as p:
            for n in names:
                p.set(n, "v")
            p.execute()
        got = []
        cursor = 0
        calls = 0
        while True:
            cursor, keys = self.r.scan(cursor, count=37)
            got += keys
            calls += 1
            self.assertLess(calls, 10_000, "SCAN does not terminate")
            if cursor == 0:
                break
        self.assertEqual(set(got), names, "a full SCAN returns every key")
        self.assertGreater(calls, 1, "COUNT 37 over 1100 keys took one call")
        self.assertEqual(set(self.r.scan_iter(match="scan:*", count=100)), {n for n in names if n.startswith("scan:")})
        self.assertEqual(set(self.r.scan_iter(match="other:1?", count=100)), {f"other:{i}" for i in range(10, 20)})
        self.assertEqual(set(self.r.scan_iter(count=100, _type="string")), names)
        self.assertEqual(list(self.r.scan_iter(count=100, _type="hash")), [])
        self.assertEqual(set(self.r.scan_iter(match="scan:99*", count=5, _type="STRING")),
                         {"scan:99", "scan:990", "scan:991", "scan:992", "scan:993", "scan:994", "scan:995",
                          "scan:996", "scan:997", "scan:998", "scan:999"})
        self.assertErrLike(("SCAN", "x"), "ERR invalid cursor")
        self.assertErr(("SCAN", "0", "COUNT", "0"), SYNTAX, exact=True)
        self.assertErr(("SCAN", "0", "FOO"), SYNTAX, exact=True)
        self.assertErr(("SCAN", "0", "COUNT", "x"), NOT_INT, exact=True)
        # The cursor is read as Redis's strtoul: a sign is allowed ("-1" wraps), an empty cursor is 0.
        for c in ("-", "+", " 1", "1 ", "0x1", "18446744073709551616"):
            self.assertErrLike(("SCAN", c), "ERR invalid cursor")
        for c in ("", "+0", "-0"):
            cursor, keys = self.r.execute_command("SCAN", c, "COUNT", "2000")
            self.assertEqual((int(cursor), set(keys)), (0, names), f"SCAN {c!r}")
        cursor, _ = self.r.execute_command("SCAN", "-1")
        self.assertIsInstance(int(cursor), int)

    def test_scan_complete_under_concurrent_writes(self):
        # Redis's guarantee: a full iteration returns every key present from its start to its end (maybe
        # more than once). Stable keys stay put while a writer adds, deletes and rewrites other keys.
        self.r.flushdb()
        stable = {f"stable:{i}" for i in range(5000)}
        with self.r.pipeline(transaction=False) as p:
            for n in stable:
                p.set(n, "s")
            p.execute()
        stop = threading.Event()
        errors = []
        counts = [0]

        def churn():
            c = self.srv.client()
            rng = random.Random(1)
            try:
                while not stop.is_set():
                    with c.pipeline(transaction=False) as p:
                        for _ in range(50):
                            i = rng.randrange(20_000)
                            if rng.random() < 0.4:
                                p.delete(f"churn:{i}")
                            else:
                                p.set(f"churn:{i}", "x" * rng.randrange(1, 300))
                            p.set(rng.choice(sorted_stable), "s")  # overwrite a stable key: still present
                        p.execute()
                    counts[0] += 50
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
            finally:
                c.close()

        sorted_stable = sorted(stable)
        t = threading.Thread(target=churn, daemon=True)
        t.start()
        kvutil.harness.wait_until(lambda: counts[0] > 0 or errors, 30, what="the writer's first batch")
        try:
            for rnd in range(3):
                got = set()
                cursor, calls = 0, 0
                while True:
                    cursor, keys = self.r.scan(cursor, count=50)
                    got.update(keys)
                    calls += 1
                    self.assertLess(calls, 100_000)
                    if cursor == 0:
                        break
                missing = stable - got
                self.assertEqual(missing, set(), f"round {rnd}: {len(missing)} stable keys missing from SCAN, "
                                 f"e.g. {sorted(missing)[:5]}")
                self.assertTrue(all(k.startswith(("stable:", "churn:")) for k in got))
        finally:
            stop.set()
            t.join(timeout=30)
        self.assertEqual(errors, [])
        self.assertGreater(counts[0], 0, "the writer made no progress during the scans")


class PipelineTest(kvutil.KvTestCase):
    def test_pipeline_1000(self):
        p = self.rb.pipeline(transaction=False)
        vals = {f"{self.k()}:{i}".encode(): os.urandom(random.randrange(0, 200)) for i in range(1000)}
        for k, v in vals.items():
            p.set(k, v)
        self.assertEqual(p.execute(), [True] * 1000)
        for k in vals:
            p.get(k)
        self.assertEqual(p.execute(), list(vals.values()))
        # mixed commands incl. errors: one reply per command, in order
        for i in range(1000):
            if i % 100 == 7:
                p.execute_command("INCR", list(vals)[i])  # not an integer (random bytes / empty)
            else:
                p.incr(f"{self.k()}:ctr")
        res = p.execute(raise_on_error=False)
        self.assertEqual(len(res), 1000)
        n = 0
        for i, x in enumerate(res):
            if i % 100 == 7:
                if isinstance(x, Exception):
                    continue
                self.assertIsInstance(x, int)  # a value that happened to be an integer
            else:
                n += 1
                self.assertEqual(x, n)

    def test_raw_pipeline_one_write(self):
        k = self.k()
        cmds = []
        for i in range(1000):
            cmds.append(("SET", f"{k}:{i}", str(i)) if i % 2 == 0 else ("GET", f"{k}:{i - 1}"))
        with self.srv.raw() as c:
            replies = c.pipeline(cmds)
        for i, r in enumerate(replies):
            if i % 2 == 0:
                self.assertEqual((r.t, r.v), ("+", "OK"))
            else:
                self.assertEqual((r.t, r.v), ("$", str(i - 1).encode()))


if __name__ == "__main__":
    kvutil.main(timeout=300)
