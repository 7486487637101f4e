"""Warm tier: pins and eviction by capacity watermarks, against a cold Azure Blob store (Azurite).

emberd runs with a byte watermark on the warm data under mappings (high 6 MiB, low 3 MiB; the data-volume
watermark off so the test does not depend on the disk it runs on) and checks it every 300 ms. Objects are read
through from cold (boto3 against emberd's S3 endpoint), pinned with `emberctl pin`, and the test checks that:
- below the high watermark nothing is evicted;
- pinning more than the warm tier may hold is refused clearly (507 InsufficientStorage, emberctl exit 1);
- above it, clean unpinned objects are evicted until the low watermark, pinned ones stay (x-ember-tier-state:
  clean,pinned), and evicted ones read back byte-exact from cold;
- unpinning makes them evictable again.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tierutil  # noqa: E402
from tierutil import MiB  # noqa: E402


def emberctl():
    b = os.environ.get("EMBERCTL_BIN") or os.path.join(harness.REPO, "build", "src", "app", "emberctl", "emberctl")
    return b if os.path.isfile(b) else None


class EvictTest(tierutil.TierCase):
    CONTAINERS = ("evict",)

    @classmethod
    def mappings(cls, az):
        return ("evict_high_percent = 0\nevict_low_percent = 0\nevict_high_bytes = 6291456\n"
                "evict_low_bytes = 3145728\nevict_interval_ms = 300\n" +
                tierutil.mapping(az, "evict", "evict", mode="read-only", extra='revalidate_ms = "never"\n'))

    def ctl(self, *args):
        return subprocess.run([emberctl(), "--port-file", self.srv.port_file, *args], capture_output=True,
                              text=True, timeout=60)

    def state(self, key):
        return self.tier_state("evict", key)

    def read(self, key):
        return self.s3.get_object(Bucket="evict", Key=key)["Body"].read()

    def test_pins_and_eviction(self):
        if not emberctl():
            self.skipTest("emberctl is not built")
        data = {f"keep/k{i}": harness.random_bytes(MiB, seed=100 + i) for i in range(2)}
        data.update({f"d/{i}": harness.random_bytes(MiB, seed=200 + i) for i in range(8)})
        for k, v in data.items():
            self.cold_put("evict", k, v)
        r = self.ctl("pin", "evict/keep/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pinned evict/keep/", r.stdout)

        first = ["keep/k0", "keep/k1", "d/0", "d/1", "d/2"]
        for k in first:
            self.assertEqual(self.read(k), data[k])
        harness.wait_until(lambda: all(self.state(k).startswith("clean") for k in first), 30,
                           what="the first five objects to be warm")
        self.assertEqual(self.state("keep/k0"), "clean,pinned")
        # 5 MiB warm: under the high watermark, so nothing goes; and pinning the whole bucket (5 MiB more on top
        # of keep/'s 2 MiB) would pin more than the 6 MiB the warm tier may hold.
        r = self.ctl("pin", "evict/")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("more than", r.stderr)
        st, body = self.srv.admin_json("POST", "/tier/pins?bucket=evict&prefix=")
        self.assertEqual((st, body["error"]), (507, "InsufficientStorage"), body)
        self.assertTrue(all(self.state(k).startswith("clean") for k in first))

        for i in range(3, 8):
            self.assertEqual(self.read(f"d/{i}"), data[f"d/{i}"])

        def warm_bytes():
            return sum(MiB for k in data if self.state(k).startswith("clean"))

        # Every read became warm at some point (10 MiB in all, over the 6 MiB high watermark); passes then evict
        # (down to the 3 MiB low watermark when they run after the last one) until the warm data is under the
        # high watermark. When exactly a pass runs is up to the timer, so the test waits for "under high".
        harness.wait_until(lambda: harness.metric_sum(self.srv.metrics(), "ember_tier_ingested_objects_total") >= 10,
                           60, what="all ten reads to become warm")
        harness.wait_until(lambda: warm_bytes() < 6 * MiB, 60, what="eviction under the high watermark")
        self.assertEqual(self.state("keep/k0"), "clean,pinned")
        self.assertEqual(self.state("keep/k1"), "clean,pinned")
        evicted = [k for k in data if self.state(k) == "cold"]
        self.assertGreaterEqual(len(evicted), 5, evicted)
        self.assertTrue(all(k.startswith("d/") for k in evicted))
        # An evicted object reads back from cold, byte-exact.
        self.assertEqual(self.read(evicted[0]), data[evicted[0]])
        m = self.srv.metrics()
        self.assertGreaterEqual(harness.metric_sum(m, "ember_tier_evicted_objects_total"), 5)

        r = self.ctl("pins")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("evict/keep/", r.stdout)
        r = self.ctl("unpin", "evict/keep/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ctl("unpin", "evict/keep/").returncode, 1)
        self.assertEqual(self.state("keep/k0"), "clean")


if __name__ == "__main__":
    harness.main(timeout=300)
