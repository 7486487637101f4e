"""Warm tier staging jobs (docs/tiering.md, "Staging") against Azurite: POST /tier/stage and `emberctl stage`
pull a cold prefix into the warm tier; afterwards every object is clean and reads make no new GETs at Azurite; a
cold object deleted after the listing is a failure with a reason while the others succeed; cancel works; a kill -9
mid-stage resumes the job (same id) after the restart without fetching finished objects again.
"""

import collections
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tierutil  # noqa: E402
from tierutil import CHUNK, MiB  # noqa: E402


def emberctl_bin():
    b = os.environ.get("EMBERCTL_BIN") or os.path.join(harness.REPO, "build", "src", "app", "emberctl",
                                                        "emberctl")
    if not os.path.exists(b):
        raise unittest.SkipTest(f"emberctl not found at {b!r}")
    return b


class TierStageTest(tierutil.TierCase):
    CONTAINERS = ("cold",)

    @classmethod
    def mappings(cls, az):
        return tierutil.mapping(az, "data", "cold", mode="read-only", cold_prefix="ds",
                                extra='revalidate_ms = "never"\nlist_ttl_ms = 0\n')

    def fill(self, prefix, small=200, large=3, small_size=100):
        """Cold objects under prefix: `small` ones of about small_size bytes, then (they list last) `large` ones
        of 3+ chunks."""
        want = {}
        for i in range(small):
            want[f"{prefix}s{i:04}"] = harness.random_bytes(small_size + i * 13, seed=i)
        for i in range(large):
            want[f"{prefix}zbig{i}"] = harness.random_bytes(3 * CHUNK + 777 * i, seed=1000 + i)
        for k, v in want.items():
            self.cold_put("cold", "ds/" + k, v)
        return want

    def start_job(self, prefix, **params):
        q = f"bucket=data&prefix={prefix}" + "".join(f"&{k}={v}" for k, v in params.items())
        st, job = self.srv.admin_json("POST", f"/tier/stage?{q}")
        self.assertEqual(st, 201, job)
        return job

    def wait_job(self, job_id, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            st, job = self.srv.admin_json("GET", f"/tier/stage/{job_id}")
            self.assertEqual(st, 200, job)
            if job["state"] in ("done", "failed", "cancelled"):
                return job
            self.assertLess(time.monotonic(), deadline, job)
            time.sleep(0.2)

    def check_warm(self, want):
        gets = collections.Counter(p for (m, p, _) in self.az.request_log() if m == "GET")
        for k, v in want.items():
            self.assertEqual(self.tier_state("data", k), "clean", k)
        for k, v in list(want.items())[::20]:
            self.assertEqual(self.s3.get_object(Bucket="data", Key=k)["Body"].read(), v, k)
        after = collections.Counter(p for (m, p, _) in self.az.request_log() if m == "GET")
        self.assertEqual(after, gets, "reads of staged objects went to cold")

    def test_admin_api_stages_a_prefix(self):
        want = self.fill("api/")
        job = self.start_job("api/", parallel=16)
        job = self.wait_job(job["id"])
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["objects_done"], len(want))
        self.assertEqual(job["objects_failed"], 0)
        self.assertTrue(job["listing_complete"])
        self.check_warm(want)
        st, jobs = self.srv.admin_json("GET", "/tier/stage")
        self.assertIn(job["id"], [j["id"] for j in jobs["jobs"]])
        # Staging again skips everything.
        again = self.wait_job(self.start_job("api/")["id"])
        self.assertEqual(again["objects_skipped"], len(want), again)

    def test_emberctl_stage_and_a_vanished_object(self):
        want = self.fill("ctl/", small=50, large=1)
        # Delete one object as soon as the job has listed it: hold the pulls back with a low rate.
        p = subprocess.Popen([emberctl_bin(), "--admin", f"http://127.0.0.1:{self.srv.admin_port}", "stage",
                              "data/ctl/", "--parallel", "2", "--max-rate", "2MB/s"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def listed():
            jobs = self.srv.admin_json("GET", "/tier/stage")[1]["jobs"]
            return any(j["prefix"] == "ctl/" and j["listing_complete"] for j in jobs)
        harness.wait_until(listed, 30, what="the emberctl job to list the prefix")
        self.cold.get_blob_client("cold", "ds/ctl/s0049").delete_blob()
        out, err = p.communicate(timeout=120)
        del want["ctl/s0049"]
        self.assertEqual(p.returncode, 5, out + err)
        self.assertIn("failed objects:", out)
        self.assertIn("data/ctl/s0049: not found in cold", out)
        self.check_warm(want)

    def test_cancel(self):
        self.fill("cancel/", small=100, large=0, small_size=100_000)
        job = self.start_job("cancel/", parallel=1, max_rate=1_000_000)  # ~10 s
        time.sleep(0.5)
        st, r = self.srv.admin_json("DELETE", f"/tier/stage/{job['id']}")
        self.assertEqual(st, 200, r)
        job = self.wait_job(job["id"])
        self.assertEqual(job["state"], "cancelled")
        self.assertLess(job["objects_done"], 100)
        st, r = self.srv.admin_json("GET", "/tier/stage/nope")
        self.assertEqual(st, 404)

    def test_kill9_resumes_without_refetching(self):
        want = self.fill("crash/", small=150, large=4, small_size=20_000)
        total = sum(len(v) for v in want.values())
        job = self.start_job("crash/", parallel=4, max_rate=total // 6)  # ~6 s
        harness.wait_until(lambda: self.srv.admin_json("GET", f"/tier/stage/{job['id']}")[1]["objects_done"] >= 40,
                           30, what="some objects pulled")
        time.sleep(1.2)  # a progress record
        self.srv.kill9()
        self.srv.start()
        type(self).s3 = harness.boto_client(self.srv)  # the restart picked new ports
        job2 = self.wait_job(job["id"])
        self.assertEqual(job2["id"], job["id"])
        self.assertEqual(job2["state"], "done", job2)
        self.assertGreaterEqual(job2["resumes"], 1)
        self.assertEqual(job2["objects_failed"], 0)
        self.check_warm(want)
        # Each object (or each chunk range of a large one) was fetched once across the restart, except
        # the few in flight at the kill.
        per = collections.Counter()
        for (m, p, r) in self.az.request_log():
            if m == "GET" and "/cold/ds/crash/" in p:
                per[(p, r)] += 1
        twice = [k for k, n in per.items() if n > 1]
        self.assertLessEqual(len(twice), 4 * 4, twice)


if __name__ == "__main__":
    harness.main(timeout=400)
