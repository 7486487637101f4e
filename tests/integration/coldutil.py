"""Glue for the cold-connector tests (test_cold_azure.py, test_cold_s3.py); builds on harness.py.

Both files drive one ColdStore per ember_cold_tool process (src/cold/tool/cold_tool.cc: commands on stdin as
tab-separated fields, one JSON line per reply) and check the peer with an independent client. Shared here: finding
the tool (EMBER_COLD_TOOL, or <build>/src/cold/ember_cold_tool next to EMBER_BIN's build tree), the ColdTool
driver, and ColdStoreCase, a TestCase base with the checks both connectors must pass the same way (ranged reads,
list paging and delimiter roll-ups, waiting for the breaker to close).
"""

import json
import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MiB = harness.MiB

# Flags that make the breaker trip after 3 consecutive failures and retry after a short cool-down.
BREAKER_FLAGS = ("--breaker-threshold", "3", "--cooldown-ms", "1500", "--max-attempts", "2",
                 "--connect-timeout-ms", "2000")

# The keys test_list_paging_and_delimiter puts under its location: two "directories" and two top-level keys.
LISTING_KEYS = [f"d{d}/k{i:02}" for d in range(2) for i in range(5)] + ["top1", "top2"]


def cold_tool():
    """The ember_cold_tool binary, or None when it is not built."""
    t = os.environ.get("EMBER_COLD_TOOL")
    if not t:
        b = os.environ.get("EMBER_BIN") or harness.DEFAULT_BIN
        t = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(b))), "cold", "ember_cold_tool")
    return t if os.path.isfile(t) and os.access(t, os.X_OK) else None


class ColdTool:
    """One ember_cold_tool process = one ColdStore instance (its breaker and counters live as long)."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen([cold_tool(), *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def __call__(self, *fields):
        """Sends one command (empty fields as "-") and returns its parsed JSON reply."""
        self.proc.stdin.write("\t".join(f if f != "" else "-" for f in map(str, fields)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"ember_cold_tool exited: {self.proc.stderr.read()}")
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class ColdStoreCase(unittest.TestCase):
    """Base of the connector test classes: owns the tools it spawns (closed by close_tools()) and a temp dir."""

    @classmethod
    def init_tools(cls, tmp_prefix):
        cls.tmp = harness.make_tmpdir(tmp_prefix)
        cls.tools = []

    @classmethod
    def close_tools(cls):
        for t in cls.tools:
            t.close()

    def spawn(self, *flags):
        """A ColdTool with these flags, closed with the class."""
        t = ColdTool(*flags)
        self.tools.append(t)
        return t

    def spawn_tuned(self, location, endpoint, auth, part_size, *extra):
        """A tool for `location` at `endpoint` with `auth` flags, tuned for the tests: parts of part_size from
        8 MiB on, 3 in flight, 3 attempts 20 ms apart; `extra` flags last (they win)."""
        return self.spawn("--location", location, "--endpoint", endpoint, *auth, "--part-size", str(part_size),
                          "--threshold", str(8 * MiB), "--parallel", "3", "--max-attempts", "3",
                          "--base-delay-ms", "20", *extra)

    def file(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def put_ok(self, t, key, name, data, attempts, *content_type):
        """Puts `data` (written to the temp file `name`) as `key`: it must succeed in `attempts` requests."""
        r = t("put", key, self.file(name, data), *content_type)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["attempts"], attempts)
        return r

    def check_round_trip_reads(self, t, small, big, big_etag):
        """After rt/small.txt (text/plain) and rt/big.bin were put: head and get agree with what was put."""
        h = t("head", "rt/big.bin")
        self.assertEqual((h["size"], h["etag"]), (len(big), big_etag))
        out = os.path.join(self.tmp, "out")
        g = t("get", "rt/big.bin", out)
        self.assertTrue(g["ok"], g)
        self.assertEqual(self.read(out), big)
        g = t("get", "rt/small.txt", out)
        self.assertEqual((self.read(out), g["contentType"]), (small, "text/plain"))

    def check_ranged_reads(self, t, data, offset, length, tail, over, past):
        """Puts `data` as range/obj, then reads [offset, offset+length), the last `tail` bytes (open-ended, and
        with a length of `over` > tail that runs over the end: cut), and a range starting `past` bytes after the
        end (InvalidRange, not retried)."""
        self.assertTrue(t("put", "range/obj", self.file("r", data))["ok"])
        out = os.path.join(self.tmp, "rout")
        g = t("get", "range/obj", out, offset, length)
        self.assertTrue(g["ok"], g)
        self.assertEqual(self.read(out), data[offset:offset + length])
        self.assertEqual(g["size"], len(data))  # the whole object's size
        t("get", "range/obj", out, len(data) - tail)  # open-ended tail
        self.assertEqual(self.read(out), data[-tail:])
        t("get", "range/obj", out, len(data) - tail, over)  # runs over the end: cut
        self.assertEqual(self.read(out), data[-tail:])
        g = t("get", "range/obj", out, len(data) + past, 10)
        self.assertEqual((g["ok"], g["code"], g["attempts"]), (False, "InvalidRange", 1), g)

    def put_listing_keys(self, t):
        src = self.file("one", b"x")
        for k in LISTING_KEYS:
            self.assertTrue(t("put", k, src)["ok"])

    def list_all(self, t, page_size):
        """Lists the whole location page by page; returns (keys in order, number of pages)."""
        seen, marker, pages = [], "", 0
        while True:
            r = t("list", "", marker, page_size, "")
            self.assertTrue(r["ok"], r)
            self.assertLessEqual(len(r["objects"]), page_size)
            seen += [o["key"] for o in r["objects"]]
            pages += 1
            marker = r["next"]
            if not marker:
                return seen, pages

    def check_root_with_delimiter(self, t):
        """Lists the root of LISTING_KEYS with "/": the two directories roll up. Returns the reply."""
        r = t("list", "", "", 100, "/")
        self.assertEqual(r["prefixes"], ["d0/", "d1/"])
        self.assertEqual([o["key"] for o in r["objects"]], ["top1", "top2"])
        self.assertEqual(r["objects"][0]["size"], 1)
        return r

    def wait_breaker_closed(self, t, key):
        """Heads `key` until the breaker reports closed (after its cool-down); returns that reply."""
        return harness.wait_until(lambda: (lambda x: x if x["breaker"] == "closed" else None)(t("head", key)),
                                  30, interval=0.3, what="the breaker to close")
