"""Warm tier, read side: read-through from a cold Azure Blob store (Azurite) through emberd's S3 and Blob
endpoints, with boto3 and the Azure SDK as clients.

- a GET of an object that is only in cold streams it (byte-exact), and later reads are served warm: Azurite sees no
  new GET for it;
- single-flight: 16 concurrent readers of one cold object make Azurite serve exactly one GET per chunk (counted in
  Azurite's own request log);
- a range read fetches only the chunk(s) of its range;
- HEAD shows the tier state (x-ember-tier-state: cold, then clean);
- one namespace: S3 ListObjectsV2 and Blob List Blobs show warm and cold objects once each, with paging and
  delimiters, and a local delete hides a cold object at once;
- freshness: with revalidate_ms = 0 a changed cold object replaces the warm copy;
- read-only mappings refuse writes (403).
"""

import concurrent.futures
import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tierutil  # noqa: E402
from tierutil import CHUNK, MiB  # noqa: E402


class TierReadTest(tierutil.TierCase):
    CONTAINERS = ("cold", "fresh")

    @classmethod
    def mappings(cls, az):
        return (tierutil.mapping(az, "data", "cold", mode="read-only", cold_prefix="ds",
                                 extra='revalidate_ms = "never"\nlist_ttl_ms = 0\n') +
                tierutil.mapping(az, "live", "fresh", extra="revalidate_ms = 0\nlist_ttl_ms = 0\n"))

    def test_read_through_streams_then_serves_warm(self):
        data = harness.random_bytes(5 * CHUNK + 12345, seed=1)
        self.cold_put("cold", "ds/rt/one.bin", data)
        self.assertEqual(self.tier_state("data", "rt/one.bin"), "cold")
        got = self.s3.get_object(Bucket="data", Key="rt/one.bin")["Body"].read()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())
        harness.wait_until(lambda: self.tier_state("data", "rt/one.bin") == "clean", 20,
                           what="the read-through object to become warm")
        before = len(self.cold_gets("cold", "ds/rt/one.bin"))
        self.assertEqual(before, 6, self.cold_gets("cold", "ds/rt/one.bin"))  # one GET per chunk
        for _ in range(3):
            self.assertEqual(self.s3.get_object(Bucket="data", Key="rt/one.bin")["Body"].read(), data)
        self.assertEqual(len(self.cold_gets("cold", "ds/rt/one.bin")), before)
        # The Blob endpoint serves the same object.
        blob = tierutil.BlobServiceClient.from_connection_string(self.srv.blob_connection_string())
        self.assertEqual(blob.get_blob_client("data", "rt/one.bin").download_blob().readall(), data)

    def test_concurrent_readers_share_one_fetch_per_chunk(self):
        data = harness.random_bytes(8 * CHUNK, seed=2)
        self.cold_put("cold", "ds/herd/big.bin", data)
        want = hashlib.sha256(data).hexdigest()

        def read(i):
            c = harness.boto_client(self.srv)
            return hashlib.sha256(c.get_object(Bucket="data", Key="herd/big.bin")["Body"].read()).hexdigest()

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            digests = list(pool.map(read, range(16)))
        self.assertEqual(digests, [want] * 16)
        ranges = self.cold_gets("cold", "ds/herd/big.bin")
        expected = [f"bytes={i * CHUNK}-{(i + 1) * CHUNK - 1}" for i in range(8)]
        self.assertEqual(sorted(ranges), sorted(expected), "each chunk fetched exactly once")

    def test_range_read_fetches_only_its_chunk(self):
        data = harness.random_bytes(16 * CHUNK, seed=3)
        self.cold_put("cold", "ds/range/obj.bin", data)
        lo = 5 * CHUNK + 100
        got = self.s3.get_object(Bucket="data", Key="range/obj.bin", Range=f"bytes={lo}-{lo + 999}")["Body"].read()
        self.assertEqual(got, data[lo:lo + 1000])
        self.assertEqual(self.cold_gets("cold", "ds/range/obj.bin"), [f"bytes={5 * CHUNK}-{6 * CHUNK - 1}"])
        # The same range again is served from the chunk already here.
        got = self.s3.get_object(Bucket="data", Key="range/obj.bin", Range=f"bytes={lo}-{lo + 9}")["Body"].read()
        self.assertEqual(got, data[lo:lo + 10])
        self.assertEqual(len(self.cold_gets("cold", "ds/range/obj.bin")), 1)
        self.assertEqual(self.tier_state("data", "range/obj.bin"), "cold")

    def test_missing_everywhere_is_404(self):
        err = harness.client_error(self.s3.get_object, Bucket="data", Key="nope/none")[0]
        self.assertEqual(err, "NoSuchKey")
        err = harness.client_error(self.s3.head_object, Bucket="data", Key="nope/none")[0]
        self.assertEqual(err, "404")

    def test_read_only_mapping_refuses_writes(self):
        err = harness.client_error(self.s3.put_object, Bucket="data", Key="rt/new", Body=b"x")[0]
        self.assertEqual(err, "AccessDenied")
        self.assertNotIn("ds/rt/new", self.cold_names("cold", "ds/rt/"))

    def test_one_namespace_in_listings(self):
        for k in ("a/1", "a/3", "b/x", "top"):
            self.cold_put("fresh", f"ls/{k}", b"cold " + k.encode())
        self.s3.put_object(Bucket="live", Key="ls/a/2", Body=b"warm")
        self.s3.put_object(Bucket="live", Key="ls/a/3", Body=b"warm wins")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="live", Prefix="ls/").get("Contents", [])]
        self.assertEqual(keys, ["ls/a/1", "ls/a/2", "ls/a/3", "ls/b/x", "ls/top"])
        # Paging one key at a time walks the same set once.
        paged, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = self.s3.list_objects_v2(Bucket="live", Prefix="ls/", MaxKeys=1, **kw)
            paged += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                break
            token = r["NextContinuationToken"]
        self.assertEqual(paged, keys)
        r = self.s3.list_objects_v2(Bucket="live", Prefix="ls/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["ls/a/", "ls/b/"])
        self.assertEqual([o["Key"] for o in r.get("Contents", [])], ["ls/top"])
        sizes = {o["Key"]: o["Size"] for o in self.s3.list_objects_v2(Bucket="live", Prefix="ls/a/")["Contents"]}
        self.assertEqual(sizes["ls/a/3"], len(b"warm wins"))
        # The Blob endpoint lists the same namespace.
        blob = tierutil.BlobServiceClient.from_connection_string(self.srv.blob_connection_string())
        names = [b.name for b in blob.get_container_client("live").list_blobs(name_starts_with="ls/")]
        self.assertEqual(names, keys)
        # Deleting a cold-only object hides it at once, and the delete reaches cold.
        self.s3.delete_object(Bucket="live", Key="ls/a/1")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="live", Prefix="ls/a/")["Contents"]]
        self.assertEqual(keys, ["ls/a/2", "ls/a/3"])
        self.assertEqual(harness.client_error(self.s3.get_object, Bucket="live", Key="ls/a/1")[0], "NoSuchKey")
        self.flush("live", "ls/")
        self.assertEqual(self.cold_names("fresh", "ls/a/"), ["ls/a/2", "ls/a/3"])
        self.assertEqual(self.cold_get("fresh", "ls/a/3"), b"warm wins")

    def test_changed_cold_object_replaces_the_warm_copy(self):
        self.cold_put("fresh", "fr/obj", b"version one")
        self.assertEqual(self.s3.get_object(Bucket="live", Key="fr/obj")["Body"].read(), b"version one")
        harness.wait_until(lambda: self.tier_state("live", "fr/obj") == "clean", 20, what="warm copy")
        self.cold_put("fresh", "fr/obj", b"version two, longer")
        self.assertEqual(self.s3.get_object(Bucket="live", Key="fr/obj")["Body"].read(), b"version two, longer")
        self.cold.get_blob_client("fresh", "fr/obj").delete_blob()
        def gone():
            try:
                self.s3.get_object(Bucket="live", Key="fr/obj")
                return False
            except self.s3.exceptions.NoSuchKey:
                return True
        harness.wait_until(gone, 20, what="the deleted cold object to disappear")


if __name__ == "__main__":
    harness.main(timeout=400)
