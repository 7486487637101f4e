#!/usr/bin/env python3
"""Crash test for Blob append blobs: kill -9 emberd under concurrent Append Block load, restart on the same data
dir, verify.

Each of APPENDERS threads owns one append blob and appends chunks of 1 B .. 300 KiB (small ones land in a new
data file, later ones grow it in place) with `x-ms-blob-condition-appendpos` set to the length it knows, so the
expected content is deterministic. An append counts as acknowledged when its response was 201. emberd is killed
after a random 0.5-2.5 s, ROUNDS times over one data directory. After each restart, for every blob:

  * its length is the acknowledged length, or that plus exactly the one append in flight at the kill;
  * its bytes are exactly the expected stream up to that length (no torn or reordered append);
  * the committed block count matches the number of appends it holds;
and appending continues from there in the next round. At the end the container is deleted, no data file is left
under <data-dir>/data/, and a graceful SIGTERM exits 0.

Environment: EMBER_BIN, EMBER_CRASH_ROUNDS (3), EMBER_CRASH_SEED (random), EMBER_CRASH_APPENDERS (4).
Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/crash/crash_append_test.py
"""

import hashlib
import os
import random
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import blobutil  # noqa: E402
import harness  # noqa: E402
from harness import KiB  # noqa: E402

ROUNDS = int(os.environ.get("EMBER_CRASH_ROUNDS", "3"))
APPENDERS = int(os.environ.get("EMBER_CRASH_APPENDERS", "4"))
SEED = int(os.environ.get("EMBER_CRASH_SEED", str(random.randrange(1 << 30))))
CONTAINER = "crashappend"


def chunk(blob, n, size):
    """The n-th append of `blob`: deterministic bytes, different for every (blob, n)."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{SEED}/{blob}/{n}/{i}".encode()).digest()
        i += 1
    return bytes(out[:size])


class Appender(threading.Thread):
    """Appends to one blob until stopped or the server dies. `chunks` holds every append it started, in order;
    `acked` counts the acknowledged ones."""

    def __init__(self, srv, name, rng, chunks):
        super().__init__(daemon=True)
        self.srv, self.name, self.rng = srv, name, rng
        self.chunks = chunks          # list of bytes, shared across rounds
        self.acked = len(chunks)      # all chunks of earlier rounds are settled by verify()
        self.inflight = None
        self.stop = False
        self.errors = []

    def run(self):
        while not self.stop:
            size = self.rng.choice([1, 100, 4 * KiB, 60 * KiB, 70 * KiB, 300 * KiB])
            data = chunk(self.name, len(self.chunks), size)
            pos = sum(len(c) for c in self.chunks)
            self.inflight = data
            try:
                r = blobutil.blob_request(self.srv, "PUT", CONTAINER, self.name, query=[("comp", "appendblock")],
                                          headers={"x-ms-blob-condition-appendpos": str(pos)}, body=data,
                                          timeout=20)
            except OSError:
                return  # the server was killed: the append is in flight
            if r.status != 201:
                self.errors.append(f"{self.name}: append at {pos} answered {r.status} {r.body[:200]!r}")
                return
            if r.header("x-ms-blob-append-offset") != str(pos):
                self.errors.append(f"{self.name}: append-offset {r.header('x-ms-blob-append-offset')} != {pos}")
                return
            self.chunks.append(data)
            self.acked = len(self.chunks)
            self.inflight = None


class CrashAppendTest(unittest.TestCase):
    def test_kill9_under_appends(self):
        rng = random.Random(SEED)
        print(f"seed {SEED}", file=sys.stderr)
        srv = harness.Emberd(blob=True)
        srv.start()
        r = blobutil.blob_request(srv, "PUT", CONTAINER, query=[("restype", "container")])
        self.assertEqual(r.status, 201, r)
        names = [f"log-{i}" for i in range(APPENDERS)]
        for n in names:
            r = blobutil.blob_request(srv, "PUT", CONTAINER, n, headers={"x-ms-blob-type": "AppendBlob"})
            self.assertEqual(r.status, 201, r)
        chunks = {n: [] for n in names}
        total_acked = 0
        for rnd in range(ROUNDS):
            apps = [Appender(srv, n, random.Random(rng.random()), chunks[n]) for n in names]
            for a in apps:
                a.start()
            time.sleep(rng.uniform(0.5, 2.5))
            srv.kill9()
            for a in apps:
                a.join(timeout=30)
                self.assertFalse(a.is_alive(), f"{a.name} did not stop")
                self.assertEqual(a.errors, [])
            srv.start()
            for a in apps:
                self.verify(srv, a)
            total_acked += sum(len(a.chunks) for a in apps)
        print(f"{ROUNDS} rounds, {total_acked} appends verified", file=sys.stderr)
        self.assertGreater(sum(len(c) for c in chunks.values()), 0, "no append was acknowledged")
        r = blobutil.blob_request(srv, "DELETE", CONTAINER, query=[("restype", "container")])
        self.assertEqual(r.status, 202, r)
        srv.stop()  # graceful: reclaims what the deletes freed
        srv.start()
        leftovers = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(srv.data_dir, "data")) for f in fs]
        self.assertEqual(leftovers, [], "data files left after deleting everything")
        self.assertEqual(srv.stop(), 0)

    def verify(self, srv, a):
        r = blobutil.blob_request(srv, "GET", CONTAINER, a.name)
        self.assertEqual(r.status, 200, r)
        acked = b"".join(a.chunks)
        body = r.body
        if len(body) == len(acked):
            pass
        elif a.inflight is not None and len(body) == len(acked) + len(a.inflight):
            a.chunks.append(a.inflight)  # the in-flight append committed before the kill
            acked = b"".join(a.chunks)
        else:
            self.fail(f"{a.name}: {len(body)} bytes after restart; acknowledged {len(acked)}, in flight "
                      f"{len(a.inflight) if a.inflight else 0}")
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(acked).hexdigest(),
                         f"{a.name}: content differs from the acknowledged appends")
        self.assertEqual(r.header("x-ms-blob-committed-block-count"), str(len(a.chunks)), a.name)
        a.inflight = None


if __name__ == "__main__":
    harness.main(timeout=300)
