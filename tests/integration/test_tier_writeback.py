"""Warm tier, write side: durable write-back to a cold Azure Blob store (Azurite), the flush barrier, and what
happens when the cold store goes away. Clients: boto3 (S3) and the Azure SDK (Blob) against emberd; the cold side
is read with the Azure SDK straight from Azurite.

- PUT, multipart uploads, Blob block and append writes, and deletes under a write-back mapping are acknowledged at
  once and reach cold byte-identical; the flush barrier (admin API) says when;
- the status header and the admin object status show dirty, then clean;
- write-through: the PUT returns once the object is in cold;
- Azurite stopped mid-drain: warm reads go on, writes are accepted and queued, a cold-only read fails fast with
  503; after Azurite is back the queue drains by itself and cold holds every acknowledged object;
- kill -9 of emberd while the queue drains: after the restart every acknowledged object reaches cold;
- the dirty bound: with cold down, writes past [tier] max_dirty_bytes get 503 SlowDown, never a silent drop.
"""

import concurrent.futures
import hashlib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tierutil  # noqa: E402
from tierutil import MiB  # noqa: E402

from boto3.s3.transfer import TransferConfig  # noqa: E402


class WriteBackTest(tierutil.TierCase):
    CONTAINERS = ("ckpt", "wthru", "seed")

    @classmethod
    def mappings(cls, az):
        return (tierutil.mapping(az, "ckpt", "ckpt", extra='revalidate_ms = "never"\n') +
                tierutil.mapping(az, "wthru", "wthru", mode="write-through") +
                tierutil.mapping(az, "seed", "seed", extra='revalidate_ms = "never"\n'))

    def restart_azurite(self):
        self.az.start()
        harness.wait_until(lambda: self.az.healthz() == 200, 30, what="azurite back")

    def test_write_back_reaches_cold_byte_identical(self):
        objs = {f"run1/step{i}/shard{j}": harness.random_bytes(1000 * (i + 1) + j, seed=10 * i + j)
                for i in range(4) for j in range(3)}
        for k, v in objs.items():
            self.s3.put_object(Bucket="ckpt", Key=k, Body=v)
        big = harness.random_bytes(20 * MiB + 7, seed=99)
        path = os.path.join(self.tmp, "big")
        with open(path, "wb") as f:
            f.write(big)
        self.s3.upload_file(path, "ckpt", "run1/big.bin",
                            Config=TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB))
        objs["run1/big.bin"] = big
        r = self.flush("ckpt", "run1/")
        self.assertTrue(r["done"])
        self.assertEqual(self.cold_names("ckpt", "run1/"), sorted(objs))
        for k, v in objs.items():
            self.assertEqual(hashlib.md5(self.cold_get("ckpt", k)).hexdigest(), hashlib.md5(v).hexdigest(), k)
        self.assertEqual(self.tier_state("ckpt", "run1/big.bin"), "clean")
        st, status = self.srv.admin_json("GET", "/tier/object?bucket=ckpt&key=run1/big.bin")
        self.assertEqual((st, status["state"]), (200, "clean"), status)
        # Overwrite and delete are written back too, in order.
        self.s3.put_object(Bucket="ckpt", Key="run1/step0/shard0", Body=b"v2")
        self.s3.put_object(Bucket="ckpt", Key="run1/step0/shard0", Body=b"v3")
        self.s3.delete_object(Bucket="ckpt", Key="run1/step1/shard1")
        self.flush("ckpt", "run1/")
        self.assertEqual(self.cold_get("ckpt", "run1/step0/shard0"), b"v3")
        self.assertNotIn("run1/step1/shard1", self.cold_names("ckpt", "run1/"))

    def test_blob_writes_are_written_back(self):
        blob = tierutil.BlobServiceClient.from_connection_string(self.srv.blob_connection_string())
        c = blob.get_container_client("ckpt")
        c.upload_blob("blob/put.bin", b"put blob", overwrite=True)
        bc = c.get_blob_client("blob/blocks.bin")
        bc.stage_block("QUFB", b"a" * 1000)
        bc.stage_block("QkJC", b"b" * 1000)
        bc.commit_block_list(["QUFB", "QkJC"])
        ap = c.get_blob_client("blob/log.txt")
        ap.create_append_blob()
        ap.append_block(b"line 1\n")
        ap.append_block(b"line 2\n")
        self.flush("ckpt", "blob/")
        self.assertEqual(self.cold_get("ckpt", "blob/put.bin"), b"put blob")
        self.assertEqual(self.cold_get("ckpt", "blob/blocks.bin"), b"a" * 1000 + b"b" * 1000)
        self.assertEqual(self.cold_get("ckpt", "blob/log.txt"), b"line 1\nline 2\n")

    def test_write_through_returns_when_in_cold(self):
        self.s3.put_object(Bucket="wthru", Key="now/x", Body=b"through")
        self.assertEqual(self.cold_get("wthru", "now/x"), b"through")

    def test_cold_outage_then_recovery(self):
        self.s3.put_object(Bucket="ckpt", Key="outage/warm", Body=b"warm before")
        self.cold_put("seed", "outage/cold-only", b"only in cold")
        self.flush("ckpt", "outage/")
        # Azurite goes away while the queue is draining: some of these are uploaded, some are not.
        acked = {}
        for i in range(30):
            data = harness.random_bytes(300_000 + i, seed=3000 + i)
            self.s3.put_object(Bucket="ckpt", Key=f"outage/mid{i:02}", Body=data)
            acked[f"outage/mid{i:02}"] = data
        self.az.stop()
        try:
            # Warm data is served as before.
            self.assertEqual(self.s3.get_object(Bucket="ckpt", Key="outage/warm")["Body"].read(), b"warm before")
            # Writes are accepted and queued.
            for i in range(20):
                data = harness.random_bytes(50_000 + i, seed=1000 + i)
                self.s3.put_object(Bucket="ckpt", Key=f"outage/new{i:02}", Body=data)
                acked[f"outage/new{i:02}"] = data
            self.assertEqual(self.tier_state("ckpt", "outage/new00"), "dirty")
            st, r = self.srv.admin_json("POST", "/tier/flush?bucket=ckpt&prefix=outage/")
            self.assertEqual((st, r["done"]), (200, False), r)
            self.assertGreaterEqual(r["pending_objects"], 20, r)
            # A cold-only object fails fast with a clear error.
            t0 = time.monotonic()
            c = harness.boto_client(self.srv, retries=1)
            err = harness.client_error(c.get_object, Bucket="seed", Key="outage/cold-only")[0]
            self.assertIn(err, ("ServiceUnavailable", "SlowDown", "503"))
            self.assertLess(time.monotonic() - t0, 20)
        finally:
            self.restart_azurite()
        # The queue drains by itself.
        self.flush("ckpt", "outage/", timeout=90)
        for k, v in acked.items():
            self.assertEqual(self.cold_get("ckpt", k), v, k)
        self.assertEqual(self.s3.get_object(Bucket="seed", Key="outage/cold-only")["Body"].read(), b"only in cold")

    def test_kill9_mid_drain_loses_nothing(self):
        acked = {}

        def put(i):
            data = harness.random_bytes(200_000 + i, seed=5000 + i)
            harness.boto_client(self.srv).put_object(Bucket="ckpt", Key=f"crash/o{i:03}", Body=data)
            return f"crash/o{i:03}", data

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for k, v in pool.map(put, range(60)):
                acked[k] = v
        self.srv.kill9()
        self.srv.start()
        type(self).s3 = harness.boto_client(self.srv)  # the restart picked new ports
        self.flush("ckpt", "crash/", timeout=120)
        self.assertEqual(self.cold_names("ckpt", "crash/"), sorted(acked))
        for k, v in acked.items():
            self.assertEqual(self.cold_get("ckpt", k), v, k)


class DirtyBoundTest(tierutil.TierCase):
    CONTAINERS = ("bound",)

    @classmethod
    def mappings(cls, az):
        return "max_dirty_bytes = 1048576\n" + tierutil.mapping(az, "bound", "bound")

    def test_writes_past_the_dirty_bound_are_refused_not_dropped(self):
        self.az.stop()
        try:
            c = harness.boto_client(self.srv, retries=1)
            accepted, refused = [], None
            for i in range(40):
                try:
                    c.put_object(Bucket="bound", Key=f"d/{i:02}", Body=harness.random_bytes(100_000, seed=i))
                    accepted.append(i)
                except Exception as e:  # noqa: BLE001
                    refused = e
                    break
            self.assertIsNotNone(refused, "the dirty bound never refused a write")
            self.assertEqual(refused.response["Error"]["Code"], "SlowDown")
            self.assertEqual(refused.response["ResponseMetadata"]["HTTPStatusCode"], 503)
            self.assertGreaterEqual(len(accepted), 9)
            self.assertLessEqual(len(accepted), 11)
        finally:
            self.az.start()
        self.flush("bound", "d/", timeout=90)
        self.assertEqual(self.cold_names("bound", "d/"), [f"d/{i:02}" for i in accepted])


if __name__ == "__main__":
    harness.main(timeout=500)
