#!/usr/bin/env python3
"""Disk full: writes are refused with 507 InsufficientStorage and leave nothing behind, while reads,
listings and deletes keep working; writes resume once space is back.

The volume is made "full" without filling the real disk: emberd refuses any write that would take
free space below store.reserve_bytes, so a reserve larger than the volume's free space is a full
disk from emberd's point of view (the same code path as ENOSPC from write/fdatasync).

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_disk_full.py
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB  # noqa: E402


class DiskFullTest(unittest.TestCase):
    def test_full_volume_refuses_writes_and_keeps_serving_reads(self):
        srv = harness.Emberd().start()
        s3 = harness.boto_client(srv)
        s3.create_bucket(Bucket="full")
        small = harness.random_bytes(4096, seed=1)
        large = harness.random_bytes(3 * MiB, seed=2)
        s3.put_object(Bucket="full", Key="small", Body=small)
        s3.put_object(Bucket="full", Key="large", Body=large)
        self.assertEqual(srv.stop(), 0)
        files_before = srv.data_files()

        st = os.statvfs(srv.data_dir)
        reserve = st.f_bavail * st.f_frsize + (1 << 40)  # more than the volume will ever have free
        full = harness.Emberd(data_dir=srv.data_dir, extra_config=f"[store]\nreserve_bytes = {reserve}")
        full.start()
        s3 = harness.boto_client(full)
        for key, body in (("new-small", b"x" * 100), ("new-large", harness.random_bytes(2 * MiB, seed=3)),
                          ("small", b"overwrite")):
            code, status, resp = harness.client_error(s3.put_object, Bucket="full", Key=key, Body=body)
            self.assertEqual((code, status), ("InsufficientStorage", 507), key)
            self.assertTrue(resp["ResponseMetadata"]["RequestId"], "507 carries a request id")
        code, status, _ = harness.client_error(s3.create_multipart_upload, Bucket="full", Key="mp")
        self.assertEqual((code, status), ("InsufficientStorage", 507))

        # Nothing half-written: no new keys, old versions intact, no stray data files.
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="full")["Contents"])
        self.assertEqual(keys, ["large", "small"])
        self.assertEqual(s3.get_object(Bucket="full", Key="small")["Body"].read(), small)
        self.assertEqual(s3.get_object(Bucket="full", Key="large")["Body"].read(), large)
        self.assertEqual(full.data_files(), files_before)
        self.assertEqual(full.healthz(), 200)
        # Deletes work on a full volume: an operator frees space through S3.
        s3.delete_object(Bucket="full", Key="large")
        self.assertEqual([o["Key"] for o in s3.list_objects_v2(Bucket="full")["Contents"]], ["small"])
        self.assertEqual(full.stop(), 0)

        # Space is back: writes succeed again on the same data.
        again = harness.Emberd(data_dir=srv.data_dir).start()
        s3 = harness.boto_client(again)
        s3.put_object(Bucket="full", Key="after", Body=large)
        self.assertEqual(s3.get_object(Bucket="full", Key="after")["Body"].read(), large)
        self.assertEqual(s3.get_object(Bucket="full", Key="small")["Body"].read(), small)
        self.assertEqual(again.stop(), 0)


if __name__ == "__main__":
    harness.main(timeout=200)
