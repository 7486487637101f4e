#!/usr/bin/python3
"""Azure SDK for Python against emberd's Blob endpoint: append blobs (Append Block with append-position and
max-size conditions, committed block count, seal, concurrent appends) and leases on blobs (acquire / renew /
change / release / break and what writes need while a blob is leased) and containers.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_sdk_append_lease.py
     EMBER_BLOB_TARGET=azurite /usr/bin/python3 tests/integration/test_blob_sdk_append_lease.py
"""

import concurrent.futures
import os
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from blobutil import code_of  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    blobutil.require_sdk()
    blobutil.start_blob_server()


def tearDownModule():
    blobutil.stop_blob_server()


# ----------------------------------------------------------------------------------------------- append blobs


class AppendBlobTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("app"))

    def test_create_append_properties(self):
        from azure.storage.blob import BlobType, ContentSettings
        bc = self.cc.get_blob_client("log")
        r = bc.create_append_blob(content_settings=ContentSettings(content_type="text/plain"),
                                  metadata={"Kind": "log"})
        self.assertTrue(r["etag"])
        p = bc.get_blob_properties()
        self.assertEqual((p.blob_type, p.size), (BlobType.AppendBlob, 0))
        self.assertEqual(p.append_blob_committed_block_count, 0)
        self.assertEqual(p.content_settings.content_type, "text/plain")
        self.assertEqual(p.metadata, {"Kind": "log"})
        blocks = [b"first\n", b"second line\n", harness.random_bytes(100 * KiB)]
        offset = 0
        for i, blk in enumerate(blocks):
            r = bc.append_block(blk)
            self.assertEqual(int(r["blob_append_offset"]), offset)
            self.assertEqual(int(r["blob_committed_block_count"]), i + 1)
            offset += len(blk)
        p = bc.get_blob_properties()
        self.assertEqual(p.size, offset)
        self.assertEqual(p.append_blob_committed_block_count, len(blocks))
        self.assertEqual(p.metadata, {"Kind": "log"})
        self.assertEqual(bc.download_blob().readall(), b"".join(blocks))
        self.assertEqual(bc.download_blob(offset=6, length=6).readall(), b"second")
        listed = [b for b in self.cc.list_blobs(name_starts_with="log")]
        self.assertEqual([(b.name, b.blob_type, b.size) for b in listed], [("log", BlobType.AppendBlob, offset)])
        # creating again over it empties it
        bc.create_append_blob()
        self.assertEqual(bc.get_blob_properties().size, 0)
        self.assertEqual(bc.download_blob().readall(), b"")

    def test_append_position_and_max_size(self):
        bc = self.cc.get_blob_client("conds")
        bc.create_append_blob()
        bc.append_block(b"abc")
        e = self.assertAzError(lambda: bc.append_block(b"d", appendpos_condition=1),
                               "AppendPositionConditionNotMet", 412)
        self.assertIn("append position", e.message.lower())
        self.assertAzError(lambda: bc.append_block(b"d", appendpos_condition=4), "AppendPositionConditionNotMet", 412)
        r = bc.append_block(b"d", appendpos_condition=3)
        self.assertEqual(int(r["blob_append_offset"]), 3)
        self.assertAzError(lambda: bc.append_block(b"ef", maxsize_condition=5), "MaxBlobSizeConditionNotMet", 412)
        bc.append_block(b"ef", maxsize_condition=6)  # exactly the limit
        self.assertAzError(lambda: bc.append_block(b"g", maxsize_condition=6), "MaxBlobSizeConditionNotMet", 412)
        self.assertAzError(lambda: bc.append_block(b"g", appendpos_condition=6, maxsize_condition=6),
                           "MaxBlobSizeConditionNotMet", 412)
        self.assertEqual(bc.download_blob().readall(), b"abcdef")
        self.assertEqual(bc.get_blob_properties().append_blob_committed_block_count, 3)

    def test_append_etag_conditions(self):
        from azure.core import MatchConditions
        bc = self.cc.get_blob_client("etagcond")
        r = bc.create_append_blob()
        r2 = bc.append_block(b"1", etag=r["etag"], match_condition=MatchConditions.IfNotModified)
        self.assertNotEqual(r2["etag"], r["etag"])
        self.assertAzError(lambda: bc.append_block(b"2", etag=r["etag"], match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)
        self.assertEqual(bc.download_blob().readall(), b"1")

    def test_append_errors(self):
        from azure.core import exceptions as exc
        missing = self.cc.get_blob_client("missing-append")
        self.assertAzError(lambda: missing.append_block(b"x"), "BlobNotFound", 404, exc.ResourceNotFoundError)
        block = self.cc.get_blob_client("a-block-blob")
        block.upload_blob(b"block")
        self.assertAzError(lambda: block.append_block(b"x"), "InvalidBlobType", 409)
        self.assertEqual(block.download_blob().readall(), b"block")
        # and the reverse: Put Block on an append blob
        app = self.cc.get_blob_client("an-append-blob")
        app.create_append_blob()
        app.append_block(b"app")
        self.assertAzError(lambda: app.stage_block("blk0", b"x"), "InvalidBlobType", 409)
        self.assertEqual(app.download_blob().readall(), b"app")

    def test_seal(self):
        bc = self.cc.get_blob_client("sealed")
        bc.create_append_blob()
        bc.append_block(b"before")
        if not blobutil.ON_AZURITE:  # Azurite ignores appendpos on Seal
            self.assertAzError(lambda: bc.seal_append_blob(appendpos_condition=1), "AppendPositionConditionNotMet",
                               412)
        r = bc.seal_append_blob(appendpos_condition=6)
        self.assertTrue(r.get("blob_sealed"))
        self.assertTrue(bc.get_blob_properties().is_append_blob_sealed)
        self.assertAzError(lambda: bc.append_block(b"after"), "BlobIsSealed", 409)
        self.assertEqual(bc.download_blob().readall(), b"before")
        sealed_listing = list(self.cc.list_blobs(name_starts_with="sealed"))
        self.assertEqual([b.size for b in sealed_listing], [6])
        # a sealed blob can still be replaced as a whole
        bc.upload_blob(b"replaced", overwrite=True)
        self.assertEqual(bc.download_blob().readall(), b"replaced")

    def test_upload_blob_as_append(self):
        """upload_blob(blob_type=AppendBlob): create + 4 MiB appends; without overwrite it appends to the blob."""
        data = harness.random_bytes(5 * MiB + 11)
        svc = self.service(max_block_size=MiB)
        bc = svc.get_blob_client(self.cc.container_name, "uploaded-append")
        bc.upload_blob(data, blob_type="AppendBlob")
        p = bc.get_blob_properties()
        self.assertEqual(p.size, len(data))
        self.assertEqual(p.append_blob_committed_block_count, 6)
        more = b"tail" * 10
        bc.upload_blob(more, blob_type="AppendBlob")
        self.assertEqual(harness.sha256_bytes(bc.download_blob().readall()), harness.sha256_bytes(data + more))
        bc.upload_blob(more, blob_type="AppendBlob", overwrite=True)
        self.assertEqual(bc.download_blob().readall(), more)

    def test_concurrent_appends_are_atomic(self):
        bc = self.cc.get_blob_client("concurrent")
        bc.create_append_blob()
        n_threads, per_thread = 4, 25

        def worker(t):
            out = []
            for i in range(per_thread):
                blk = (f"<{t:02d}:{i:03d}>".encode() * (1 + (t * 7 + i) % 50))
                r = bc.append_block(blk)
                out.append((int(r["blob_append_offset"]), blk))
            return out

        with concurrent.futures.ThreadPoolExecutor(n_threads) as ex:
            results = [x for f in [ex.submit(worker, t) for t in range(n_threads)] for x in f.result(timeout=120)]
        data = bc.download_blob().readall()
        self.assertEqual(len(data), sum(len(b) for _, b in results))
        offsets = sorted(o for o, _ in results)
        self.assertEqual(len(set(offsets)), len(offsets), "two appends got the same offset")
        for off, blk in results:
            self.assertEqual(data[off:off + len(blk)], blk, f"block at {off} torn")
        self.assertEqual(bc.get_blob_properties().append_blob_committed_block_count, n_threads * per_thread)


# ----------------------------------------------------------------------------------------------- leases


class LeaseTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("lease"))

    def blob(self, data=b"leased data"):
        bc = self.cc.get_blob_client(f"l-{self._testMethodName}")
        bc.upload_blob(data, overwrite=True)
        return bc

    def test_lease_lifecycle_keeps_etag(self):
        bc = self.blob()
        etag = bc.get_blob_properties().etag
        lease = bc.acquire_lease(lease_duration=15)
        self.assertTrue(lease.id)
        p = bc.get_blob_properties()
        self.assertEqual((p.lease.state, p.lease.status, p.lease.duration), ("leased", "locked", "fixed"))
        lease.renew()
        new_id = str(uuid.uuid4())
        lease.change(proposed_lease_id=new_id)
        self.assertEqual(lease.id, new_id)
        # lease operations change neither ETag nor Last-Modified
        self.assertEqual(bc.get_blob_properties().etag, etag)
        lease.release()
        p = bc.get_blob_properties()
        self.assertEqual((p.lease.state, p.lease.status), ("available", "unlocked"))
        self.assertEqual(p.etag, etag)
        bc.upload_blob(b"free again", overwrite=True)  # no lease needed after release
        # infinite lease with a proposed id
        lid = str(uuid.uuid4())
        lease = bc.acquire_lease(lease_duration=-1, lease_id=lid)
        self.assertEqual(lease.id, lid)
        self.assertEqual(bc.get_blob_properties().lease.duration, "infinite")
        lease.release()

    def test_writes_need_the_lease(self):
        from azure.storage.blob import BlobLeaseClient
        bc = self.blob()
        lease = bc.acquire_lease(lease_duration=-1)
        # reads need no lease id
        self.assertEqual(bc.download_blob().readall(), b"leased data")
        self.assertEqual(bc.get_blob_properties().size, 11)
        for what, fn in [("put", lambda **kw: bc.upload_blob(b"x", overwrite=True, **kw)),
                         ("metadata", lambda **kw: bc.set_blob_metadata({"A": "1"}, **kw)),
                         ("delete", lambda **kw: bc.delete_blob(**kw))]:
            with self.subTest(op=what):
                self.assertAzError(fn, "LeaseIdMissing", 412)
                self.assertAzError(lambda: fn(lease=str(uuid.uuid4())), "LeaseIdMismatchWithBlobOperation", 412)
        # a read with the wrong lease id fails too
        wrong = BlobLeaseClient(bc, lease_id=str(uuid.uuid4()))
        self.assertAzError(lambda: bc.download_blob(lease=wrong), "LeaseIdMismatchWithBlobOperation", 412)
        self.assertEqual(bc.download_blob().readall(), b"leased data")
        # with the lease everything works
        bc.set_blob_metadata({"A": "1"}, lease=lease)
        bc.upload_blob(b"new", overwrite=True, lease=lease)
        self.assertEqual(bc.download_blob(lease=lease).readall(), b"new")
        # overwriting keeps the lease
        self.assertEqual(bc.get_blob_properties().lease.state, "leased")
        bc.delete_blob(lease=lease)
        self.assertFalse(bc.exists())

    def test_lease_id_without_lease(self):
        bc = self.blob()
        self.assertAzError(lambda: bc.upload_blob(b"x", overwrite=True, lease=str(uuid.uuid4())),
                           "LeaseNotPresentWithBlobOperation", 412)
        self.assertEqual(bc.download_blob().readall(), b"leased data")

    def test_lease_operation_errors(self):
        from azure.storage.blob import BlobLeaseClient
        bc = self.blob()
        # release/renew without a lease: 409 (Azurite, modelled on Azure's lease state table, says
        # LeaseIdMismatchWithLeaseOperation; change/break say LeaseNotPresentWithLeaseOperation)
        for op in ("release", "renew"):
            with self.subTest(op=op):
                e = self.assertStatus(getattr(BlobLeaseClient(bc, lease_id=str(uuid.uuid4())), op), 409)
                self.assertIn(code_of(e), ("LeaseIdMismatchWithLeaseOperation", "LeaseNotPresentWithLeaseOperation"))
        self.assertAzError(lambda: BlobLeaseClient(bc, lease_id=str(uuid.uuid4())).break_lease(),
                           "LeaseNotPresentWithLeaseOperation", 409)
        self.assertAzError(lambda: BlobLeaseClient(bc, lease_id=str(uuid.uuid4())).change(str(uuid.uuid4())),
                           "LeaseNotPresentWithLeaseOperation", 409)
        for bad in (10, 61, 0):  # 15-60 or -1
            with self.subTest(duration=bad):
                self.assertStatus(lambda: bc.acquire_lease(lease_duration=bad), 400)
        lease = bc.acquire_lease(lease_duration=-1)
        self.assertAzError(lambda: bc.acquire_lease(lease_duration=-1, lease_id=str(uuid.uuid4())),
                           "LeaseAlreadyPresent", 409)
        self.assertAzError(lambda: BlobLeaseClient(bc, lease_id=str(uuid.uuid4())).release(),
                           "LeaseIdMismatchWithLeaseOperation", 409)
        self.assertAzError(lambda: BlobLeaseClient(bc, lease_id=str(uuid.uuid4())).renew(),
                           "LeaseIdMismatchWithLeaseOperation", 409)
        lease.release()
        self.assertAzError(lambda: self.cc.get_blob_client("no-such-blob").acquire_lease(), "BlobNotFound", 404)

    def test_break(self):
        bc = self.blob()
        lease = bc.acquire_lease(lease_duration=-1)
        # break with a period: breaking, still locked
        t = lease.break_lease(lease_break_period=60)
        self.assertGreater(t, 0)
        p = bc.get_blob_properties()
        self.assertEqual((p.lease.state, p.lease.status), ("breaking", "locked"))
        self.assertAzError(lambda: bc.upload_blob(b"x", overwrite=True), "LeaseIdMissing", 412)
        self.assertAzError(lambda: bc.acquire_lease(lease_id=lease.id), "LeaseIsBreakingAndCannotBeAcquired", 409)
        self.assertAzError(lambda: bc.acquire_lease(lease_id=str(uuid.uuid4())), "LeaseAlreadyPresent", 409)
        # breaking again with period 0 breaks it now
        self.assertEqual(lease.break_lease(lease_break_period=0), 0)
        p = bc.get_blob_properties()
        self.assertEqual((p.lease.state, p.lease.status), ("broken", "unlocked"))
        self.assertAzError(lease.renew, "LeaseIsBrokenAndCannotBeRenewed", 409)
        bc.upload_blob(b"after break", overwrite=True)  # writes need no lease once broken
        lease2 = bc.acquire_lease(lease_duration=15)
        self.assertEqual(bc.get_blob_properties().lease.state, "leased")
        lease2.release()


class ContainerLeaseTests(blobutil.BlobTestCase):
    """Lease Container is optional in the reference; this skips if the endpoint answers 501."""

    def test_container_lease(self):
        from azure.core.exceptions import HttpResponseError
        cc = self.container("clease")
        cc.upload_blob("b", b"1")
        try:
            lease = cc.acquire_lease(lease_duration=-1)
        except HttpResponseError as e:
            if blobutil.status_of(e) == 501:
                self.skipTest(f"Lease Container not implemented ({code_of(e)})")
            raise
        p = cc.get_container_properties()
        self.assertEqual((p.lease.state, p.lease.status, p.lease.duration), ("leased", "locked", "infinite"))
        self.assertAzError(cc.delete_container, "LeaseIdMissing", 412)
        self.assertAzError(lambda: cc.delete_container(lease=str(uuid.uuid4())),
                           "LeaseIdMismatchWithContainerOperation", 412)
        # blobs inside are not locked by a container lease
        cc.upload_blob("b", b"2", overwrite=True)
        cc.delete_container(lease=lease)
        self.assertFalse(cc.exists())


if __name__ == "__main__":
    harness.main(timeout=400)
