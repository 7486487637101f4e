#!/usr/bin/env python3
"""Crash test for the KV endpoint: kill -9 emberd under a concurrent SET/DEL load, restart on the same data dir,
check that what the durability mode promised survived.

For each mode (kv.durability = "sync", then "batch" with batch_interval_ms = 10), ROUNDS rounds of: WRITERS
threads, each owning KEYS keys (crash:<writer>:<n>), send SET (sometimes with EX 100000) and now and then DEL
over their own raw connection, one command at a time, recording every command and when its reply arrived.
emberd is killed (SIGKILL) after a random 0.8-2.5 s (batch: plus the window below). After the restart, for every key:

  * sync: the key holds the state of its last acknowledged command, or of a later (in-flight) one;
  * batch: the same, but only commands acknowledged more than batch_interval_ms + MARGIN before the kill are
    promised: the key holds the state of one of the commands from the latest such one on;
  * a value present is byte-exact what one SET of that key wrote (values are self-describing: a header
    "<writer>/<n>/<seq>/<ex>|" then bytes derived from it), and it has a TTL iff that SET had EX;
  * no key exists outside the writers' key space (SCAN).

Values are 16 B .. 64 KiB. The last round is followed by a SIGTERM (must exit 0), a restart, and an exact check
(a graceful stop keeps everything acknowledged, in every mode).

With EMBER_KV_TARGET=redis the same test runs against redis-server (sync: appendfsync always; batch: appendfsync
everysec, whose promise is looser: MARGIN 2.5 s), which checks the test itself.

Environment: EMBER_BIN, EMBER_KV_TARGET, EMBER_CRASH_ROUNDS (3), EMBER_CRASH_SEED (random),
EMBER_CRASH_WRITERS (6), EMBER_CRASH_MODES ("sync batch").
Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/crash/crash_kv_test.py
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
import harness  # noqa: E402
import kvutil  # noqa: E402
from kvutil import ConnectionClosed, encode  # noqa: E402

ROUNDS = int(os.environ.get("EMBER_CRASH_ROUNDS", "3"))
WRITERS = int(os.environ.get("EMBER_CRASH_WRITERS", "6"))
SEED = int(os.environ.get("EMBER_CRASH_SEED", str(random.randrange(1 << 30))))
MODES = os.environ.get("EMBER_CRASH_MODES", "sync batch").split()
KEYS = 60
BATCH_INTERVAL_MS = 10
MARGIN_S = 2.5 if kvutil.ON_REDIS else 1.0  # Redis's everysec may postpone an fsync by up to 2 s
SIZES = [16, 100, 1000, 4096, 20000, 65536]
ABSENT = ("absent",)


def value_of(w, n, seq, ex, size):
    head = f"{w}/{n}/{seq}/{int(ex)}|".encode()
    return head + hashlib.shake_256(head).digest(max(0, size - len(head)))


def parse_value(v):
    """(writer, n, seq, ex) from a value's header, after checking the rest of it; None if it is not one of ours."""
    i = v.find(b"|")
    if i < 0 or i > 60:
        return None
    try:
        w, n, seq, ex = (int(x) for x in v[:i].decode().split("/"))
    except ValueError:
        return None
    if v != value_of(w, n, seq, ex, len(v)):
        return None
    return w, n, seq, bool(ex)


class Writer(threading.Thread):
    """Sends SET / DEL to its own keys until the server dies. history[n]: the commands on key n in order, each
    [state, ack_time] with state ("set", seq, ex) or ABSENT, ack_time None while in flight. Entry 0 is the state
    the round started from (durable: ack_time -inf)."""

    def __init__(self, port, w, rng, seq, base):
        super().__init__(daemon=True, name=f"writer-{w}")
        self.port, self.w, self.rng, self.seq = port, w, rng, seq
        self.history = {n: [[base[n], float("-inf")]] for n in range(KEYS)}
        self.acked = 0
        self.errors = []
        self.stop = False

    def run(self):
        try:
            c = kvutil.RespConn(self.port, timeout=30)
        except OSError as e:
            self.errors.append(f"connect: {e}")
            return
        try:
            while not self.stop:
                n = self.rng.randrange(KEYS)
                key = f"crash:{self.w}:{n}"
                self.seq += 1
                if self.rng.random() < 0.1:
                    entry = [ABSENT, None]
                    cmd = encode("DEL", key)
                else:
                    ex = self.rng.random() < 0.2
                    entry = [("set", self.seq, ex), None]
                    v = value_of(self.w, n, self.seq, ex, self.rng.choice(SIZES))
                    cmd = encode("SET", key, v, "EX", "100000") if ex else encode("SET", key, v)
                self.history[n].append(entry)
                try:
                    c.send(cmd)
                    r = c.read()
                except (OSError, ConnectionClosed):
                    return  # killed: this command is in flight
                except AssertionError as e:
                    if "connection closed" in str(e) or "no reply" in str(e):
                        return
                    raise
                if r.t == "-":
                    self.errors.append(f"{key}: {r.v}")
                    return
                entry[1] = time.monotonic()
                self.acked += 1
        finally:
            c.close()


class CrashKvTest(unittest.TestCase):
    def test_kill9_under_sets(self):
        kvutil.require_redispy()
        print(f"seed {SEED}, target {kvutil.TARGET}", file=sys.stderr)
        rng = random.Random(SEED)
        for mode in MODES:
            with self.subTest(mode=mode):
                self.run_mode(mode, rng)

    def run_mode(self, mode, rng):
        kv_config = f"batch_interval_ms = {BATCH_INTERVAL_MS}" if mode == "batch" else ""
        srv = kvutil.make_target(durability=mode, kv_config=kv_config).start()
        window = 0.0 if mode == "sync" else BATCH_INTERVAL_MS / 1000 + MARGIN_S
        state = {(w, n): ABSENT for w in range(WRITERS) for n in range(KEYS)}
        seqs = [w * 10_000_000 for w in range(WRITERS)]
        total = 0
        for rnd in range(ROUNDS):
            writers = [Writer(srv.port, w, random.Random(rng.random()), seqs[w],
                              {n: state[(w, n)] for n in range(KEYS)}) for w in range(WRITERS)]
            for t in writers:
                t.start()
            # batch rounds last longer than the window, so that part of each round is promised
            time.sleep(rng.uniform(0.8, 2.5) + window)
            t_kill = time.monotonic()
            srv.kill9()
            for t in writers:
                t.join(timeout=30)
                self.assertFalse(t.is_alive(), f"{t.name} did not stop")
                self.assertEqual(t.errors, [], f"{mode} round {rnd}: error replies")
                seqs[t.w] = t.seq
            acked = sum(t.acked for t in writers)
            self.assertGreater(acked, 0, f"{mode} round {rnd}: nothing was acknowledged")
            total += acked
            srv.start()
            promised = self.verify(srv, writers, t_kill - window, state, f"{mode} round {rnd}")
            print(f"{mode} round {rnd}: {acked} commands acknowledged, {promised} keys held a promised state",
                  file=sys.stderr)
        # graceful stop: everything acknowledged survives, in every mode
        writers = [Writer(srv.port, w, random.Random(rng.random()), seqs[w],
                          {n: state[(w, n)] for n in range(KEYS)}) for w in range(WRITERS)]
        for t in writers:
            t.start()
        time.sleep(0.5)
        for t in writers:
            t.stop = True
        for t in writers:
            t.join(timeout=30)
            self.assertEqual(t.errors, [])
        kvutil.stop_checked(srv)
        srv.start()
        self.verify(srv, writers, float("inf"), state, f"{mode} after SIGTERM")
        kvutil.stop_checked(srv)
        print(f"{mode}: {ROUNDS} kills, {total} acknowledged commands verified", file=sys.stderr)

    def verify(self, srv, writers, cutoff, state, when):
        """Checks every key against its writer's history; commands acknowledged at or before `cutoff` are
        promised. Updates `state` to what is there now. Returns how many keys had a promised command."""
        c = srv.client(decode=False)
        problems = []
        promised = 0
        for t in writers:
            keys = [f"crash:{t.w}:{n}" for n in range(KEYS)]
            vals = c.mget(keys)
            ttls = [c.ttl(k) for k in keys]
            for n, (v, ttl) in enumerate(zip(vals, ttls)):
                hist = t.history[n]
                floor = max(i for i, (_, ack) in enumerate(hist) if ack is not None and ack <= cutoff)
                promised += floor > 0
                allowed = [s for s, _ in hist[floor:]]
                if v is None:
                    got = ABSENT
                else:
                    p = parse_value(v)
                    if p is None or p[:2] != (t.w, n):
                        problems.append(f"crash:{t.w}:{n}: a value no SET of this key wrote ({len(v)} bytes, "
                                        f"{v[:40]!r})")
                        continue
                    got = ("set", p[2], p[3])
                    if (ttl > 0) != p[3] or ttl > 100_000:
                        problems.append(f"crash:{t.w}:{n}: TTL {ttl} after SET seq {p[2]} "
                                        f"{'with' if p[3] else 'without'} EX")
                if got not in allowed:
                    seen = got in [s for s, _ in hist]
                    problems.append(
                        f"crash:{t.w}:{n}: holds {got} ({'an older state' if seen else 'never written'}); "
                        f"promised {hist[floor][0]} (acked {'before the run' if floor == 0 else 'in time'}), "
                        f"allowed {allowed[:4]}{'...' if len(allowed) > 4 else ''}")
                state[(t.w, n)] = got
        extra = [k for k in c.scan_iter(count=500) if not k.startswith(b"crash:")]
        c.close()
        self.assertEqual(extra[:10], [], f"{when}: keys nobody wrote")
        self.assertEqual(problems[:20], [], f"{when}: {len(problems)} keys wrong")
        return promised


if __name__ == "__main__":
    harness.main(timeout=200)
