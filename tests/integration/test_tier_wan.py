"""Warm tier over a slow, lossy WAN: the cold store (Azurite) runs in its own network namespace behind a veth pair,
and the link between emberd and it is impaired:

- with `tc qdisc ... netem delay 40ms 10ms loss 1% rate 40mbit` on both ends when the kernel has sch_netem;
- otherwise (this project's VMs lack sch_netem) `tbf rate 40mbit` on both ends for the rate, plus a TCP relay in
  front of Azurite that delays every chunk by 20-60 ms and cuts about one connection in seven mid-transfer (what
  heavy loss does to a TCP connection: stalls, then resets).

Through that link: 40 write-back objects (small, and 12 MiB ones sent in blocks) acknowledged by emberd, the flush
barrier waited for, and then every object is in cold byte-identical and nothing else is; a 16 MiB cold object is
read through byte-exact. Needs root, iproute2 (`ip netns`, `tc`), Azurite and the Azure SDK; skips otherwise.
"""

import hashlib
import os
import random
import select
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tierutil  # noqa: E402
from tierutil import MiB  # noqa: E402

NS = f"emberwan{os.getpid() % 100000}"
HOST_IF, PEER_IF = f"ew{os.getpid() % 100000}h", f"ew{os.getpid() % 100000}p"
NET = 10 + os.getpid() % 200
HOST_IP, PEER_IP = f"10.{NET}.77.1", f"10.{NET}.77.2"


def sh(*cmd, check=True):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=check)


class ImpairingRelay:
    """A TCP relay on 127.0.0.1 that forwards to (host, port), delaying every chunk and cutting some connections
    mid-transfer. Used only where the kernel has no netem."""

    def __init__(self, host, port, cut_probability=0.15, seed=7):
        self.target = (host, port)
        self.cut = cut_probability
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.cuts = 0
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(c,), daemon=True).start()

    def _pipe(self, client):
        try:
            up = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        with self.lock:
            cut_after = self.rng.randint(10_000, 1_000_000) if self.rng.random() < self.cut else None
        moved = 0
        try:
            while True:
                r, _, _ = select.select([client, up], [], [], 60)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    with self.lock:
                        delay = self.rng.uniform(0.02, 0.06)
                    time.sleep(delay)
                    (up if s is client else client).sendall(data)
                    moved += len(data)
                    if cut_after is not None and moved >= cut_after:
                        with self.lock:
                            self.cuts += 1
                        for x in (client, up):  # a reset, as after heavy loss
                            x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        return
        except OSError:
            return
        finally:
            client.close()
            up.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class WanTest(tierutil.TierCase):
    CONTAINERS = ("wan",)

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not harness.shutil.which("ip") or not harness.shutil.which("tc"):
            raise unittest.SkipTest("needs root and iproute2 (ip netns, tc)")
        if tierutil.BlobServiceClient is None or not harness.azurite_bin():
            raise unittest.SkipTest("needs Azurite and the Azure SDK for Python")
        try:
            sh("ip", "netns", "add", NS)
            cls.netns_made = True
            sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", PEER_IF)
            sh("ip", "link", "set", PEER_IF, "netns", NS)
            sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", HOST_IF)
            sh("ip", "link", "set", HOST_IF, "up")
            sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{PEER_IP}/24", "dev", PEER_IF)
            sh("ip", "netns", "exec", NS, "ip", "link", "set", PEER_IF, "up")
            sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        except (subprocess.CalledProcessError, OSError) as e:
            cls._teardown_net()
            raise unittest.SkipTest(f"cannot make a network namespace here: {getattr(e, 'stderr', e)}")
        netem = ["netem", "delay", "40ms", "10ms", "loss", "1%", "rate", "40mbit"]
        cls.netem = sh("tc", "qdisc", "add", "dev", HOST_IF, "root", *netem, check=False).returncode == 0
        if cls.netem:
            sh("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", PEER_IF, "root", *netem)
        else:
            tbf = ["tbf", "rate", "40mbit", "burst", "64kb", "latency", "200ms"]
            sh("tc", "qdisc", "add", "dev", HOST_IF, "root", *tbf)
            sh("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", PEER_IF, "root", *tbf)
        cls.az = harness.Azurite(host=PEER_IP, netns=NS).start()
        cls.relay = None
        endpoint_host = f"{PEER_IP}:{cls.az.blob_port}"
        if not cls.netem:
            cls.relay = ImpairingRelay(PEER_IP, cls.az.blob_port)
            endpoint_host = f"127.0.0.1:{cls.relay.port}"
        # The test's own view of the cold store goes straight to Azurite (through the rate limit, not the relay).
        cls.cold = tierutil.BlobServiceClient.from_connection_string(cls.az.blob_connection_string())
        cls.cold.create_container("wan")
        endpoint = f"http://{endpoint_host}/{cls.az.blob_account}"
        mapping = tierutil.mapping(cls.az, "wan", "wan", extra='revalidate_ms = "never"\n').replace(
            cls.az.blob_endpoint, endpoint)
        # WAN-ish timeouts and a breaker that does not trip on a few cut connections.
        mapping = mapping.replace("breaker_failures = 3", "breaker_failures = 0").replace(
            "retry_attempts = 2", "retry_attempts = 4")
        cfg = tierutil.TIER_SECTION.replace("chunk_bytes = 1048576", "chunk_bytes = 4194304") + mapping
        cfg += "multipart_threshold = 8388608\npart_size = 4194304\n"
        cls.srv = harness.Emberd(extra_config=cfg).start()
        cls.s3 = harness.boto_client(cls.srv)
        cls.tmp = harness.make_tmpdir("ember-wan-")

    @classmethod
    def _teardown_net(cls):
        sh("ip", "link", "del", HOST_IF, check=False)
        sh("ip", "netns", "del", NS, check=False)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if getattr(cls, "relay", None):
            cls.relay.stop()
        if getattr(cls, "netns_made", False):
            cls._teardown_net()

    def test_write_back_and_read_through_over_a_bad_link(self):
        objs = {f"ck/s{i:02}": harness.random_bytes(30_000 + 997 * i, seed=i) for i in range(36)}
        objs.update({f"ck/big{i}": harness.random_bytes(12 * MiB + i, seed=100 + i) for i in range(4)})
        for k, v in objs.items():
            self.s3.put_object(Bucket="wan", Key=k, Body=v)
        self.flush("wan", "ck/", timeout=400)
        self.assertEqual(self.cold_names("wan", "ck/"), sorted(objs), "every acknowledged object, nothing else")
        for k, v in objs.items():
            self.assertEqual(hashlib.sha256(self.cold_get("wan", k)).digest(), hashlib.sha256(v).digest(), k)
        data = harness.random_bytes(16 * MiB, seed=999)
        self.cold_put("wan", "rt/cold.bin", data)
        got = self.s3.get_object(Bucket="wan", Key="rt/cold.bin")["Body"].read()
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())
        if self.relay:
            print(f"\n(impairment: tbf 40mbit + relay; {self.relay.cuts} connection(s) cut mid-transfer)")
            self.assertGreater(self.relay.cuts, 0, "the relay never cut a connection: the test proved nothing")


if __name__ == "__main__":
    harness.main(timeout=560)
