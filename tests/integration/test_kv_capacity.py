#!/usr/bin/env python3
"""KV endpoint: size limits and capacity.

  * values of exactly kv.max_value_bytes (64 KiB) are accepted, one byte more is refused with an error that
    starts with ERR and names the limit, whichever command would make the value too big (SET, SETEX, MSET,
    APPEND, SETRANGE, SET ... GET); keys over kv.max_key_bytes (1024) likewise (emberd only: Redis has no
    such limits);
  * a data set 40x the RAM cache (cache_bytes = 1 MiB, 640 values of 64 KiB with known content) reads back
    intact, and again after a restart, and after overwriting / deleting some of it and restarting again;
  * FLUSHDB / FLUSHALL refused when kv.allow_flush = false (emberd only).

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_kv_capacity.py
     EMBER_KV_TARGET=redis /usr/bin/python3 tests/integration/test_kv_capacity.py
"""

import hashlib
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvutil  # noqa: E402
from kvutil import MAX_KEY, MAX_VALUE, Reply  # noqa: E402

KiB = 1024
MiB = 1024 * KiB


def setUpModule():
    kvutil.start_module_target()


def tearDownModule():
    kvutil.stop_module_target()


def content(tag, n, size):
    """Deterministic bytes for (tag, n): every value of the data set differs and is checkable."""
    return hashlib.shake_256(f"{tag}/{n}".encode()).digest(size)


@kvutil.emberd_only("no value / key size limit")
class LimitTest(kvutil.KvTestCase):
    def assertLimitErr(self, args, c=None):
        """The command is refused with an ERR that names the limit; the connection stays usable."""
        own = c is None
        c = c or self.srv.raw()
        try:
            r = c.call(*args)
            what = f"{args[0]} {args[1] if len(args) > 1 else ''} ... ({sum(len(a) for a in args)} bytes)"
            self.assertEqual(r.t, "-", f"{what}: expected a limit error, got {r!r}")
            low = r.v.lower()
            self.assertTrue(r.v.startswith("ERR"), f"{what}: {r.v!r}")
            self.assertTrue("limit" in low or "exceed" in low or "too large" in low or "too big" in low
                            or "max" in low, f"{what}: the error does not mention the limit: {r.v!r}")
            self.assertEqual(c.call("PING"), Reply("+", "PONG"), "connection unusable after a limit error")
            return r.v
        finally:
            if own:
                c.close()

    def test_value_limit(self):
        k = self.k()
        exact = content("v", 0, MAX_VALUE)
        self.assertTrue(self.rb.set(k, exact))
        self.assertEqual(self.rb.get(k), exact)
        self.assertEqual(self.r.strlen(k), MAX_VALUE)
        over = exact + b"x"
        for args in (("SET", k, over), ("SET", k, over, "EX", "100"), ("SETEX", k, "100", over),
                     ("PSETEX", k, "100000", over), ("SETNX", k + "n", over), ("SET", k, over, "GET"),
                     ("MSET", k + "a", "small", k + "b", over), ("MSETNX", k + "c", "small", k + "d", over)):
            self.assertLimitErr(args)
        self.assertEqual(self.rb.get(k), exact, "a refused SET changed the value")
        self.assertEqual(self.r.exists(k + "n", k + "a", k + "b", k + "c", k + "d"), 0,
                         "a refused MSET / MSETNX / SETNX wrote something")
        self.assertLimitErr(("APPEND", k, "x"))
        self.assertLimitErr(("SETRANGE", k, str(MAX_VALUE), "x"))
        self.assertLimitErr(("SETRANGE", k + "e", str(MAX_VALUE - 1), "xy"))
        self.assertEqual(self.r.exists(k + "e"), 0)
        self.assertEqual(self.rb.get(k), exact)
        s = self.k("s")
        self.assertEqual(self.r.setrange(s, MAX_VALUE - 1, "x"), MAX_VALUE)
        self.assertEqual(self.r.append(self.k("a"), "y" * MAX_VALUE), MAX_VALUE)
        # a much bigger bulk (1 MiB) is refused too and the connection survives it
        with self.srv.raw() as c:
            self.assertLimitErr(("SET", k, b"z" * MiB), c=c)
            self.assertEqual(c.call("GET", k), Reply("$", exact))

    def test_key_limit(self):
        key = ("k" * MAX_KEY).encode()
        self.assertTrue(self.rb.set(key, b"v"))
        self.assertEqual(self.rb.get(key), b"v")
        long = key + b"x"
        self.assertLimitErr(("SET", long, "v"))
        self.assertLimitErr(("MSET", "short-" + self.k(), "v", long, "v"))
        self.assertEqual(self.r.exists("short-" + self.k()), 0)
        self.assertLimitErr(("RENAME", key, long))
        self.assertEqual(self.rb.get(key), b"v")
        self.assertLimitErr(("INCR", long))
        self.assertLimitErr(("APPEND", long, "x"))


class BeyondCacheTest(kvutil.KvTestCase):
    """Its own server: a 1 MiB value cache and 40 MiB of 64 KiB values."""

    N = 640
    SIZE = 64 * KiB

    @classmethod
    def setUpClass(cls):
        cls.srv = kvutil.make_target(durability="batch", kv_config="cache_bytes = 1048576").start()

    @classmethod
    def tearDownClass(cls):
        kvutil.stop_checked(cls.srv)

    def write(self, tag, ids):
        with self.rb.pipeline(transaction=False) as p:
            for i in ids:
                p.set(f"big:{i:04d}", content(tag, i, self.SIZE))
                if len(p) >= 16:
                    self.assertTrue(all(p.execute()))
            if len(p):
                self.assertTrue(all(p.execute()))

    def verify(self, expect, when):
        """expect: {i: tag or None (deleted)}. Reads every key with MGET (32 at a time) and single GETs."""
        ids = sorted(expect)
        bad = []
        for j in range(0, len(ids), 32):
            chunk = ids[j:j + 32]
            vals = self.rb.mget([f"big:{i:04d}" for i in chunk])
            for i, v in zip(chunk, vals):
                want = None if expect[i] is None else content(expect[i], i, self.SIZE)
                if v != want:
                    bad.append((i, None if v is None else len(v), expect[i]))
        self.assertEqual(bad[:10], [], f"{when}: {len(bad)} values wrong (id, length read, tag expected)")
        for i in ids[::37]:
            want = None if expect[i] is None else content(expect[i], i, self.SIZE)
            self.assertEqual(self.rb.get(f"big:{i:04d}"), want, f"{when}: GET big:{i:04d}")
        live = sum(1 for t in expect.values() if t is not None)
        self.assertEqual(self.r.dbsize(), live, when)
        self.assertEqual(len(set(self.r.scan_iter(match="big:*", count=100))), live, when)

    def restart(self):
        kvutil.stop_checked(self.srv)
        self.srv.start()
        self.r = self.srv.client()
        self.rb = self.srv.client(decode=False)

    def test_data_set_larger_than_cache(self):
        expect = {i: "gen1" for i in range(self.N)}
        self.write("gen1", range(self.N))
        self.verify(expect, "after writing 40 MiB")
        self.verify(expect, "second read")
        self.restart()
        self.verify(expect, "after a restart")
        self.write("gen2", range(0, self.N, 2))
        for i in range(0, self.N, 2):
            expect[i] = "gen2"
        gone = list(range(1, self.N, 4))
        for j in range(0, len(gone), 50):
            self.assertEqual(self.r.delete(*[f"big:{i:04d}" for i in gone[j:j + 50]]), len(gone[j:j + 50]))
        for i in gone:
            expect[i] = None
        self.verify(expect, "after overwrites and deletes")
        self.restart()
        self.verify(expect, "after overwrites, deletes and a restart")


@kvutil.emberd_only("FLUSHDB / FLUSHALL cannot be configured off (only renamed)")
class FlushOffTest(kvutil.KvTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = kvutil.make_target(kv_config="allow_flush = false").start()

    @classmethod
    def tearDownClass(cls):
        kvutil.stop_checked(cls.srv)

    def test_flush_refused(self):
        self.r.set(self.k(), "v")
        for args in (("FLUSHDB",), ("FLUSHALL",), ("FLUSHALL", "ASYNC")):
            r = self.call(*args)
            self.assertEqual(r.t, "-", f"{args} with allow_flush = false: {r!r}")
        self.assertEqual(self.r.get(self.k()), "v")
        self.assertEqual(self.r.dbsize(), 1)


if __name__ == "__main__":
    kvutil.main(timeout=400)
