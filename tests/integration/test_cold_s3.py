"""Cold connector (src/cold) against a real S3 peer: a second emberd on free ports.

Drives one S3ColdStore through ember_cold_tool (commands on stdin, one JSON line per reply; see
src/cold/tool/cold_tool.cc) and checks what it did with boto3 as an independent client: byte-exact round trips of
small (one PUT, SigV4 with a signed payload) and large (multipart, 5 MiB parts, 3 in flight) objects, ranged reads,
head, delete, ListObjectsV2 paging with continuation tokens and a delimiter, 404 mapping, a wrong secret mapped to
kPermissionDenied without retries, and the circuit breaker opening while the peer is stopped and closing after it
is back on the same port.

ember_cold_tool is found as coldutil.cold_tool() says.
"""

import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coldutil  # noqa: E402
import harness  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = harness.MiB


class FixedPortEmberd(harness.Emberd):
    """An emberd that can be restarted on the S3 port it had (the harness always asks for a free one): a small
    wrapper script replaces the value of --s3-port and execs the real binary (same PID, killed like any other)."""

    def restart_on_same_port(self, timeout=30):
        port = self.s3_port
        wrapper = os.path.join(self.tmp, "emberd-fixed-port.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nn=$#\nprev=\nfor a in \"$@\"; do\n"
                    f"  if [ \"$prev\" = \"--s3-port\" ]; then a={port}; fi\n"
                    "  set -- \"$@\" \"$a\"\n  prev=\"$a\"\ndone\nshift $n\n"
                    f"exec '{harness.ember_bin()}' \"$@\"\n")
        os.chmod(wrapper, 0o755)
        old = os.environ.get("EMBER_BIN")
        os.environ["EMBER_BIN"] = wrapper
        try:
            self.start(timeout)
        finally:
            if old is None:
                del os.environ["EMBER_BIN"]
            else:
                os.environ["EMBER_BIN"] = old
        assert self.s3_port == port, (self.s3_port, port)
        return self


class FlakyProxy:
    """A TCP front of the S3 peer that misbehaves on purpose. Each accepted connection (the connector sends one
    request per connection) takes the next entry of `plan`, then "pass" once the plan is used up:
      "pass"    forward both ways
      "503"     answer 503 Service Unavailable without contacting the peer (requests without a body only)
      "cut:N"   forward the request, pass the first N bytes of the reply, then close both sides
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.plan = []
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                mode = self.plan.pop(0) if self.plan else "pass"
            threading.Thread(target=self._serve, args=(conn, mode), daemon=True).start()

    def _serve(self, conn, mode):
        try:
            if mode == "503":
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            limit = int(mode.split(":")[1]) if mode.startswith("cut:") else None
            up = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)

            def upstream():
                try:
                    while True:
                        b = conn.recv(65536)
                        if not b:
                            break
                        up.sendall(b)
                except OSError:
                    pass

            threading.Thread(target=upstream, daemon=True).start()
            sent = 0
            while limit is None or sent < limit:
                b = up.recv(65536)
                if not b:
                    break
                if limit is not None:
                    b = b[:limit - sent]
                conn.sendall(b)
                sent += len(b)
            up.close()
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # close() alone waits for the recv() in the other thread
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()


@unittest.skipUnless(coldutil.cold_tool(), "ember_cold_tool not built")
class S3ColdStoreTest(coldutil.ColdStoreCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FixedPortEmberd().start()
        cls.s3 = boto3.client("s3", endpoint_url=cls.srv.endpoint, aws_access_key_id=harness.ALICE["access_key"],
                              aws_secret_access_key=harness.ALICE["secret_key"], region_name=harness.REGION,
                              config=Config(s3={"addressing_style": "path"}))
        cls.s3.create_bucket(Bucket="cold")
        cls.init_tools("ember-cold-s3-")

    @classmethod
    def tearDownClass(cls):
        cls.close_tools()
        cls.srv.stop()

    def tool(self, location="s3://cold/pre", secret=None, *extra):
        auth = ["--access-key", harness.ALICE["access_key"], "--secret-key", secret or harness.ALICE["secret_key"]]
        return self.spawn_tuned(location, self.srv.endpoint, auth, 5 * MiB, *extra)

    def test_round_trip_small_and_large(self):
        t = self.tool()
        small = b"hello cold s3"
        r = self.put_ok(t, "rt/small.txt", "small", small, 1, "text/plain")
        self.assertEqual(r["etag"], harness.md5_hex(small))
        big = harness.random_bytes(20 * MiB + 777, seed=3)
        r = self.put_ok(t, "rt/big.bin", "big", big, 7)  # create + 5 parts (4 x 5 MiB + 777 bytes) + complete
        parts = [big[i:i + 5 * MiB] for i in range(0, len(big), 5 * MiB)]
        self.assertEqual(r["etag"], harness.multipart_etag(parts).strip('"'))
        # What the peer holds, through boto3.
        o = self.s3.get_object(Bucket="cold", Key="pre/rt/big.bin")
        self.assertEqual(o["Body"].read(), big)
        self.assertEqual(o["Metadata"].get("source"), "ember-cold-tool")
        self.assertEqual(self.s3.head_object(Bucket="cold", Key="pre/rt/small.txt")["ContentType"], "text/plain")
        self.assertEqual(self.s3.list_multipart_uploads(Bucket="cold").get("Uploads", []), [])
        self.check_round_trip_reads(t, small, big, r["etag"])

    def test_ranged_reads(self):
        self.check_ranged_reads(self.tool(), harness.random_bytes(2 * MiB + 3, seed=9), offset=4096,
                                length=100000, tail=7, over=50, past=1)

    def test_list_paging_and_delimiter(self):
        t = self.tool(location="s3://cold/listing")
        self.put_listing_keys(t)
        self.s3.put_object(Bucket="cold", Key="outside/zzz", Body=b"not listed")
        seen, pages = self.list_all(t, 5)
        self.assertEqual(seen, sorted(coldutil.LISTING_KEYS))
        self.assertEqual(pages, 3)
        r = self.check_root_with_delimiter(t)
        self.assertEqual(r["objects"][0]["etag"], harness.md5_hex(b"x"))
        self.assertGreater(r["objects"][0]["lastModified"], 1_600_000_000_000)
        r = t("list", "d1/", "", 2, "/")
        self.assertEqual([o["key"] for o in r["objects"]], ["d1/k00", "d1/k01"])
        self.assertTrue(r["next"])

    def test_not_found_and_delete(self):
        t = self.tool()
        for cmd in (("head", "nope/x"), ("get", "nope/x", os.path.join(self.tmp, "nf"))):
            r = t(*cmd)
            self.assertEqual((r["ok"], r["code"], r["attempts"]), (False, "NotFound", 1), r)
        self.assertTrue(t("put", "gone", self.file("g", b"bye"))["ok"])
        self.assertTrue(t("del", "gone")["ok"])
        self.assertEqual(t("head", "gone")["code"], "NotFound")
        t2 = self.tool(location="s3://no-such-bucket")
        r = t2("list", "", "", 10, "")
        self.assertEqual((r["code"], r["attempts"]), ("NotFound", 1), r)

    def test_wrong_secret_is_permission_denied_without_retries(self):
        t = self.tool("s3://cold/pre", "not-the-secret", "--breaker-threshold", "2")
        big = self.file("wbig", harness.random_bytes(7 * MiB, seed=1))  # one PUT of 7 MiB
        for cmd in (("head", "x"), ("put", "x", self.file("w", b"data")), ("list", "", "", 5, ""),
                    ("put", "x", big), ("head", "x")):
            r = t(*cmd)
            self.assertEqual((r["ok"], r["code"], r["attempts"], r["breaker"]),
                             (False, "PermissionDenied", 1, "closed"), r)

    def test_retries_through_a_flaky_front(self):
        proxy = FlakyProxy(self.srv.s3_port)
        try:
            data = harness.random_bytes(3 * MiB, seed=21)
            self.s3.put_object(Bucket="cold", Key="pre/flaky/obj", Body=data)
            t = self.spawn("--location", "s3://cold/pre", "--endpoint", f"http://127.0.0.1:{proxy.port}",
                           "--access-key", harness.ALICE["access_key"], "--secret-key", harness.ALICE["secret_key"],
                           "--max-attempts", "3", "--base-delay-ms", "10", "--breaker-threshold", "10")
            # Two 503s, then the answer: retried with backoff.
            proxy.plan = ["503", "503"]
            r = t("head", "flaky/obj")
            self.assertEqual((r["ok"], r["size"], r["attempts"]), (True, len(data), 3), r)
            # Three 503s exhaust the attempts: throttling (kBusy) comes back.
            proxy.plan = ["503", "503", "503"]
            r = t("head", "flaky/obj")
            self.assertEqual((r["ok"], r["code"], r["attempts"]), (False, "Busy", 3), r)
            # The reply is cut mid-body: the read resumes where it stopped (If-Match on the ETag).
            proxy.plan = ["cut:300000"]
            out = os.path.join(self.tmp, "flaky-out")
            r = t("get", "flaky/obj", out)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["attempts"], 2)
            self.assertEqual(self.read(out), data)
            # The same for a ranged read.
            proxy.plan = ["cut:100000"]
            r = t("get", "flaky/obj", out, 1000, 2 * MiB)
            self.assertEqual((r["ok"], r["attempts"]), (True, 2), r)
            self.assertEqual(self.read(out), data[1000:1000 + 2 * MiB])
        finally:
            proxy.close()

    def test_zz_breaker_opens_while_down_and_closes_when_back(self):
        t = self.tool("s3://cold/pre", None, *coldutil.BREAKER_FLAGS)
        self.assertTrue(t("put", "brk", self.file("b", b"breaker"))["ok"])
        self.srv.stop()
        r = t("head", "brk")
        self.assertEqual((r["code"], r["attempts"], r["breaker"]), ("Unavailable", 2, "closed"), r)
        r = t("head", "brk")
        self.assertEqual((r["code"], r["breaker"]), ("Unavailable", "open"), r)
        r = t("list", "", "", 10, "")
        self.assertEqual((r["code"], r["attempts"]), ("Unavailable", 0), r)
        self.assertIn("circuit breaker open", r["message"])
        self.srv.restart_on_same_port()
        last = self.wait_breaker_closed(t, "brk")
        self.assertTrue(last["ok"], last)  # the data dir survived: the object is there
        self.assertEqual(last["size"], len(b"breaker"))


if __name__ == "__main__":
    harness.main(timeout=400)
