"""Glue for the warm-tier tests (test_tier_reads.py, test_tier_writeback.py); builds on harness.py.

A TierCase class starts one Azurite (the cold Azure Blob store; persistent, so it can be stopped and restarted on
the same port with its blobs, and with its debug log on, so tests count the requests it served) and one emberd
whose [[tier.mappings]] map buckets to containers of that Azurite. The cold side is checked with the Azure SDK
talking to Azurite directly, never through Ember.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

try:
    from azure.storage.blob import BlobServiceClient
except ImportError:  # pragma: no cover
    BlobServiceClient = None

MiB = harness.MiB
CHUNK = 1 * MiB  # [tier] chunk_bytes of the test servers: small, so a few MiB make many chunks


def mapping(az, bucket, container, mode="write-back", prefix="", cold_prefix="", extra=""):
    """One [[tier.mappings]] table mapping `bucket`/`prefix` to az://<account>/<container>/<cold_prefix>."""
    loc = f"az://{az.blob_account}/{container}" + (f"/{cold_prefix}" if cold_prefix else "")
    return (f'\n[[tier.mappings]]\nbucket = "{bucket}"\nprefix = "{prefix}"\nlocation = "{loc}"\n'
            f'endpoint = "{az.blob_endpoint}"\naccount_key = "{az.blob_key}"\nmode = "{mode}"\n'
            f'connect_timeout_ms = 2000\nretry_attempts = 2\nbreaker_failures = 3\nbreaker_cooldown_ms = 1000\n'
            f'{extra}')


TIER_SECTION = f"""
[tier]
chunk_bytes = {CHUNK}
retry_base_ms = 100
retry_max_ms = 1000
upload_concurrency = 4
"""


class TierCase(unittest.TestCase):
    """Base: Azurite + emberd per class. Subclasses set MAPPINGS(az) -> config text and CONTAINERS."""

    CONTAINERS = ()

    @classmethod
    def mappings(cls, az):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        if BlobServiceClient is None:
            raise unittest.SkipTest("the Azure SDK for Python (azure-storage-blob) is not installed")
        if not harness.azurite_bin():
            raise unittest.SkipTest("azurite-blob not found (scripts/install-deps installs it)")
        cls.az = harness.Azurite(persist=True, debug_log=True).start()
        cls.cold = BlobServiceClient.from_connection_string(cls.az.blob_connection_string())
        for c in cls.CONTAINERS:
            cls.cold.create_container(c)
        cls.srv = harness.Emberd(extra_config=TIER_SECTION + cls.mappings(cls.az), blob=True).start()
        cls.s3 = harness.boto_client(cls.srv)
        cls.tmp = harness.make_tmpdir("ember-tier-")

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "srv"):
            cls.srv.stop()
        if hasattr(cls, "az"):
            cls.az.stop()

    # -- the cold side, seen directly
    def cold_put(self, container, name, data):
        self.cold.get_blob_client(container, name).upload_blob(data, overwrite=True)

    def cold_get(self, container, name):
        return self.cold.get_blob_client(container, name).download_blob().readall()

    def cold_names(self, container, prefix=None):
        return sorted(b.name for b in self.cold.get_container_client(container).list_blobs(name_starts_with=prefix))

    def cold_gets(self, container, name):
        """The ranges of the GETs Azurite served for container/name so far (None = whole object)."""
        path = f"/{self.az.blob_account}/{container}/{name}"
        return [r for (m, p, r) in self.az.request_log() if m == "GET" and p == path]

    # -- Ember's side
    def tier_state(self, bucket, key):
        h = self.s3.head_object(Bucket=bucket, Key=key)
        return h["ResponseMetadata"]["HTTPHeaders"].get("x-ember-tier-state")

    def flush(self, bucket, prefix="", timeout=60):
        """Takes a flush barrier on bucket/prefix and waits until it is done; returns the last report."""
        q = f"bucket={bucket}&prefix={prefix}"
        st, r = self.srv.admin_json("POST", f"/tier/flush?{q}")
        self.assertEqual(st, 200, r)
        deadline = time.monotonic() + timeout
        while not r["done"]:
            self.assertLess(time.monotonic(), deadline, f"flush of {bucket}/{prefix} not done: {r}")
            st, r = self.srv.admin_json("GET", f"/tier/flush?{q}&barrier={r['barrier']}&wait=5", timeout=30)
            self.assertEqual(st, 200, r)
        return r
