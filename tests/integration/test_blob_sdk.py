#!/usr/bin/python3
"""Azure SDK for Python (azure-storage-blob 12.15, Debian) against emberd's Blob endpoint: containers, block blob
upload/download (single shot and chunked), Put Block / Put Block List / Get Block List, blob properties and
metadata, ranged reads, conditional requests, delete, listing with prefix / delimiter / paging.

Errors are asserted by Azure error code (`e.error_code`) and HTTP status, as Azure Storage answers them.
Append blobs and leases: test_blob_sdk_append_lease.py; copies, SAS and auth: test_blob_sdk_copy_sas.py.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_sdk.py
     EMBER_BLOB_TARGET=azurite /usr/bin/python3 tests/integration/test_blob_sdk.py   (the tests vs. Azurite)
"""

import datetime
import hashlib
import io
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from blobutil import block_id, code_of  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    blobutil.require_sdk()
    blobutil.start_blob_server()


def tearDownModule():
    blobutil.stop_blob_server()


def _sdk():
    from azure.core import MatchConditions, exceptions
    from azure.storage.blob import BlobBlock, BlobType, BlockState, ContentSettings
    return MatchConditions, exceptions, BlobBlock, BlobType, BlockState, ContentSettings


# ----------------------------------------------------------------------------------------------- containers


class ContainerTests(blobutil.BlobTestCase):
    def test_create_exists_properties_delete(self):
        _, exc, *_ = _sdk()
        svc = self.service()
        name = self.bucket_name("cont")
        cc = svc.create_container(name)
        e = self.assertAzError(lambda: svc.create_container(name), "ContainerAlreadyExists", 409,
                               exc.ResourceExistsError)
        self.assertIn("already exists", e.message.lower())
        props = cc.get_container_properties()
        self.assertEqual(props.name, name)
        self.assertTrue(props.etag.startswith('"') and props.etag.endswith('"'), props.etag)
        self.assertIsInstance(props.last_modified, datetime.datetime)
        self.assertEqual(props.lease.state, "available")
        self.assertEqual(props.lease.status, "unlocked")
        self.assertEqual(props.metadata, {})
        self.assertTrue(cc.exists())
        cc.delete_container()
        self.assertFalse(cc.exists())
        self.assertAzError(cc.get_container_properties, "ContainerNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(cc.delete_container, "ContainerNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(lambda: list(cc.list_blobs()), "ContainerNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(lambda: cc.upload_blob("x", b"1"), "ContainerNotFound", 404, exc.ResourceNotFoundError)

    def test_metadata_set_get(self):
        cc = self.container("meta", metadata={"Project": "ember", "lower_case": "v1"})
        props = cc.get_container_properties()
        # Azure metadata names are case-preserving (C# identifiers)
        self.assertEqual(props.metadata, {"Project": "ember", "lower_case": "v1"})
        etag0, lm0 = props.etag, props.last_modified
        cc.set_container_metadata({"Other": "x y z", "n2": "2"})
        props = cc.get_container_properties()
        self.assertEqual(props.metadata.get("Other"), "x y z")
        self.assertNotIn("Project", props.metadata)  # replaces all
        self.assertNotEqual(props.etag, etag0)
        self.assertGreaterEqual(props.last_modified, lm0)
        cc.set_container_metadata({})
        self.assertEqual(cc.get_container_properties().metadata, {})

    def test_list_containers_prefix_metadata_paging(self):
        svc = self.service()
        prefix = self.bucket_name("lc") + "-"
        names = [f"{prefix}{i}" for i in range(5)]
        for i, n in enumerate(reversed(names)):
            svc.create_container(n, metadata={"Idx": str(4 - i)})
        other = svc.create_container(self.bucket_name("zz-other"))
        pages = list(svc.list_containers(name_starts_with=prefix, include_metadata=True,
                                         results_per_page=2).by_page())
        got = [[c.name for c in p] for p in pages]
        self.assertEqual(got, [names[0:2], names[2:4], names[4:5]])
        flat = [c for p in list(svc.list_containers(name_starts_with=prefix, include_metadata=True,
                                                    results_per_page=2).by_page()) for c in p]
        self.assertEqual({c.name: c.metadata for c in flat}, {n: {"Idx": str(i)} for i, n in enumerate(names)})
        for c in flat:
            self.assertTrue(c.etag and c.last_modified, c)
        # resume from a continuation token
        it = svc.list_containers(name_starts_with=prefix, results_per_page=3).by_page()
        first = [c.name for c in next(it)]
        token = it.continuation_token
        self.assertTrue(token)
        rest = [c.name for p in svc.list_containers(name_starts_with=prefix, results_per_page=3)
                .by_page(continuation_token=token) for c in p]
        self.assertEqual(first + rest, names)
        # all containers: sorted, contains ours
        every = [c.name for c in svc.list_containers()]
        self.assertEqual(every, sorted(every))
        self.assertTrue(set(names + [other.container_name]) <= set(every))
        self.assertEqual([c.name for c in svc.list_containers(name_starts_with=prefix + "nomatch")], [])

    def test_invalid_container_names(self):
        svc = self.service()
        for bad in ("Upper-Case", "has_underscore", "double--dash", "-leading", "trailing-"):
            with self.subTest(name=bad):
                self.assertAzError(lambda: svc.create_container(bad), "InvalidResourceName", 400)
        # a bad length: Azure (and Azurite) answer OutOfRangeInput, "The specified resource name length is not
        # within the permissible limits."; InvalidResourceName is accepted too
        for bad in ("ab", "a" * 64):
            with self.subTest(name=bad):
                e = self.assertStatus(lambda: svc.create_container(bad), 400)
                self.assertIn(code_of(e), ("OutOfRangeInput", "InvalidResourceName"))

    def test_account_information(self):
        info = self.service().get_account_information()
        self.assertTrue(info.get("sku_name"), info)
        self.assertTrue(info.get("account_kind"), info)


# ----------------------------------------------------------------------------------------------- upload/download


class UploadDownloadTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("ud"))

    def test_small_roundtrip_and_properties(self):
        _, _, _, BlobType, _, _ = _sdk()
        data = harness.random_bytes(1000)
        bc = self.cc.get_blob_client("small.bin")
        r = bc.upload_blob(data)
        self.assertTrue(r["etag"].startswith('"'), r)
        self.assertEqual(bytes(r["content_md5"]), hashlib.md5(data).digest())
        self.assertEqual(bc.download_blob().readall(), data)
        p = bc.get_blob_properties()
        self.assertEqual(p.size, len(data))
        self.assertEqual(p.blob_type, BlobType.BlockBlob)
        self.assertEqual(p.etag, r["etag"])
        self.assertEqual(p.last_modified, r["last_modified"])
        self.assertEqual(bytes(p.content_settings.content_md5), hashlib.md5(data).digest())
        self.assertEqual(p.content_settings.content_type, "application/octet-stream")
        self.assertIsNotNone(p.creation_time)
        self.assertEqual(p.metadata, {})
        self.assertEqual(p.lease.state, "available")

    def test_empty_blob(self):
        bc = self.cc.get_blob_client("empty")
        bc.upload_blob(b"")
        self.assertEqual(bc.get_blob_properties().size, 0)
        # the SDK reads bytes=0-..., gets 416 InvalidRange on a 0-byte blob, retries without a range
        self.assertEqual(bc.download_blob().readall(), b"")
        # an explicit range on a 0-byte blob is 416 InvalidRange (the SDK only retries when it chose the range)
        # (Azurite answers 206 for bytes=0-0 and bytes=0- on an empty blob)
        e = self.assertStatus(lambda: bc.download_blob(offset=0, length=10).readall(), 416)
        self.assertEqual(code_of(e), "InvalidRange")

    def test_overwrite_false_existing(self):
        _, exc, *_ = _sdk()
        bc = self.cc.get_blob_client("once")
        bc.upload_blob(b"first")
        self.assertAzError(lambda: bc.upload_blob(b"second"), "BlobAlreadyExists", 409, exc.ResourceExistsError)
        self.assertEqual(bc.download_blob().readall(), b"first")
        bc.upload_blob(b"second", overwrite=True)
        self.assertEqual(bc.download_blob().readall(), b"second")

    def test_large_chunked_upload_and_ranged_download(self):
        """5 MiB + 123 bytes with 1 MiB blocks: Put Block x6 + Put Block List; download in 1 MiB ranges."""
        data = harness.random_bytes(5 * MiB + 123)
        svc = self.service(max_single_put_size=MiB, max_block_size=MiB, max_single_get_size=MiB,
                           max_chunk_get_size=MiB)
        bc = svc.get_blob_client(self.cc.container_name, "large.bin")
        bc.upload_blob(data, max_concurrency=2)
        committed, uncommitted = bc.get_block_list("all")
        self.assertEqual(len(committed), 6)
        self.assertEqual([b.size for b in committed], [MiB] * 5 + [123])
        self.assertEqual(uncommitted, [])
        p = bc.get_blob_properties()
        self.assertEqual(p.size, len(data))
        dl = bc.download_blob(max_concurrency=2)
        self.assertEqual(harness.sha256_bytes(dl.readall()), harness.sha256_bytes(data))
        # single-threaded chunk iteration
        out = b"".join(bc.download_blob().chunks())
        self.assertEqual(harness.sha256_bytes(out), harness.sha256_bytes(data))
        # a second chunked upload without overwrite: Put Block List with If-None-Match: * -> 409
        _, exc, *_ = _sdk()
        self.assertAzError(lambda: bc.upload_blob(data[:2 * MiB + 1]), "BlobAlreadyExists", 409,
                           exc.ResourceExistsError)
        self.assertEqual(bc.get_blob_properties().size, len(data))

    def test_stream_of_unknown_length(self):
        data = harness.random_bytes(3 * MiB + 7)
        svc = self.service(max_single_put_size=MiB, max_block_size=MiB)
        bc = svc.get_blob_client(self.cc.container_name, "stream.bin")

        def gen():
            for i in range(0, len(data), 100 * KiB):
                yield data[i:i + 100 * KiB]
        bc.upload_blob(gen())
        self.assertEqual(bc.download_blob().readall(), data)
        bc.upload_blob(io.BytesIO(data[:MiB // 2]), overwrite=True)
        self.assertEqual(bc.download_blob().readall(), data[:MiB // 2])

    def test_validate_content(self):
        data = harness.random_bytes(2 * MiB + 3)
        svc = self.service(max_single_put_size=MiB, max_block_size=MiB, max_single_get_size=MiB,
                           max_chunk_get_size=MiB)
        bc = svc.get_blob_client(self.cc.container_name, "validated.bin")
        bc.upload_blob(data, validate_content=True)  # Content-MD5 on every Put Block
        # ranged reads with x-ms-range-get-content-md5: true, checked by the SDK
        self.assertEqual(bc.download_blob(validate_content=True).readall(), data)
        small = self.cc.get_blob_client("validated-small")
        small.upload_blob(b"abc" * 100, validate_content=True)  # Put Blob with Content-MD5
        self.assertEqual(small.download_blob(validate_content=True).readall(), b"abc" * 100)

    def test_ranges(self):
        _, exc, *_ = _sdk()
        data = harness.random_bytes(10 * KiB)
        bc = self.cc.get_blob_client("ranges.bin")
        bc.upload_blob(data)
        self.assertEqual(bc.download_blob(offset=10, length=100).readall(), data[10:110])
        self.assertEqual(bc.download_blob(offset=len(data) - 5).readall(), data[-5:])
        self.assertEqual(bc.download_blob(offset=0, length=len(data) + 100).readall(), data)
        self.assertEqual(bc.download_blob(offset=len(data) - 1, length=1).readall(), data[-1:])
        if not blobutil.ON_AZURITE:  # Azurite answers bytes=<size>- with 206 "bytes <size>-<size-1>/<size>"
            e = self.assertStatus(lambda: bc.download_blob(offset=len(data)).readall(), 416)
            self.assertEqual(code_of(e), "InvalidRange")
        e = self.assertStatus(lambda: bc.download_blob(offset=len(data) + 1000, length=5).readall(), 416)
        self.assertEqual(code_of(e), "InvalidRange")

    def test_special_names(self):
        names = ["dir/sub/file.txt", "spa ce+plus%pct.txt", "ünïcødé/名前.bin", "q?hash#amp&eq=.x",
                 "a" * 1024, "trailing/", "tilde~!$'()*,;:@", "-dash_under.score"]
        for n in names:
            with self.subTest(name=n[:40]):
                bc = self.cc.get_blob_client(n)
                bc.upload_blob(n.encode(), overwrite=True)
                self.assertEqual(bc.download_blob().readall(), n.encode())
                self.assertEqual(bc.get_blob_properties().name, n)
        listed = {b.name for b in self.cc.list_blobs()}
        for n in names:
            self.assertIn(n, listed)


# ----------------------------------------------------------------------------------------------- block lists


class BlockListTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("bl"))

    def test_stage_commit_get_block_list(self):
        _, exc, BlobBlock, _, _, _ = _sdk()
        bc = self.cc.get_blob_client("staged")
        parts = [harness.random_bytes(1000 + i) for i in range(3)]
        for i, p in enumerate(parts):
            bc.stage_block(block_id(i), p)
        committed, uncommitted = bc.get_block_list("all")
        self.assertEqual(committed, [])
        self.assertEqual([(b.id, b.size) for b in uncommitted], [(block_id(i), len(p)) for i, p in enumerate(parts)])
        # uncommitted blocks do not make the blob visible
        self.assertAzError(bc.get_blob_properties, "BlobNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(lambda: bc.download_blob(), "BlobNotFound", 404, exc.ResourceNotFoundError)
        self.assertNotIn("staged", [b.name for b in self.cc.list_blobs()])
        # ... except to a listing that asks for uncommitted blobs (size 0 until committed)
        listed = {b.name: b.size for b in self.cc.list_blobs(include=["uncommittedblobs"])}
        self.assertEqual(listed.get("staged"), 0)
        # commit in list order; block 1 is left out and discarded
        bc.commit_block_list([BlobBlock(block_id(2)), BlobBlock(block_id(0))])
        self.assertEqual(bc.download_blob().readall(), parts[2] + parts[0])
        committed, uncommitted = bc.get_block_list("all")
        self.assertEqual([(b.id, b.size) for b in committed], [(block_id(2), len(parts[2])),
                                                               (block_id(0), len(parts[0]))])
        self.assertEqual(uncommitted, [])
        self.assertEqual(len(bc.get_block_list("committed")[0]), 2)
        self.assertEqual(bc.get_block_list("uncommitted")[1], [])
        # a discarded block cannot be committed later
        self.assertAzError(lambda: bc.commit_block_list([BlobBlock(block_id(1))]), "InvalidBlockList", 400)
        self.assertEqual(bc.download_blob().readall(), parts[2] + parts[0])

    def test_latest_committed_uncommitted(self):
        _, _, BlobBlock, _, BlockState, _ = _sdk()
        bc = self.cc.get_blob_client("latest")
        a1, b1, a2 = b"A1" * 100, b"B1" * 100, b"A2" * 300
        bc.stage_block(block_id(0), a1)
        bc.stage_block(block_id(1), b1)
        bc.commit_block_list([BlobBlock(block_id(0)), BlobBlock(block_id(1))])
        # re-stage block 0 with new data: Latest picks the uncommitted one, Committed the old one
        bc.stage_block(block_id(0), a2)
        committed, uncommitted = bc.get_block_list("all")
        self.assertEqual([b.id for b in committed], [block_id(0), block_id(1)])
        self.assertEqual([(b.id, b.size) for b in uncommitted], [(block_id(0), len(a2))])
        self.assertEqual(bc.download_blob().readall(), a1 + b1)  # not visible before the commit
        # SDK 12.15 sends every BlobBlock as <Latest> (it compares BlockState values in lower case),
        # so the Committed/Uncommitted forms go out as raw XML.
        self.commit_xml("latest", [("Committed", block_id(1)), ("Latest", block_id(0))])
        self.assertEqual(bc.download_blob().readall(), b1 + a2)
        # a block may appear twice
        self.commit_xml("latest", [("Committed", block_id(0))] * 2)
        self.assertEqual(bc.download_blob().readall(), a2 + a2)
        # Committed ignores a newer uncommitted block of the same id (Azurite takes the uncommitted one)
        if not blobutil.ON_AZURITE:
            bc.stage_block(block_id(0), a1)
            self.commit_xml("latest", [("Committed", block_id(0)), ("Uncommitted", block_id(0))])
            self.assertEqual(bc.download_blob().readall(), a2 + a1)
            # a block dropped from the list is gone: naming it later is InvalidBlockList
            r = self.commit_xml("latest", [("Latest", block_id(1))], expect=None)
            self.assertEqual((r.status, blobutil.error_code(r)), (400, "InvalidBlockList"), r)

    def commit_xml(self, blob, blocks, expect=201):
        # the SDK base64-encodes block ids on the wire; so must a raw request
        import base64
        body = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + "".join(
            f"<{kind}>{base64.b64encode(bid.encode()).decode()}</{kind}>" for kind, bid in blocks) + "</BlockList>"
        r = blobutil.blob_request(self.srv, "PUT", self.cc.container_name, blob, query=[("comp", "blocklist")],
                                  body=body.encode())
        if expect is not None:
            self.assertEqual(r.status, expect, r)
        return r

    def test_commit_errors(self):
        _, _, BlobBlock, _, BlockState, _ = _sdk()
        bc = self.cc.get_blob_client("errs")
        bc.stage_block(block_id(0), b"x")
        self.assertAzError(lambda: bc.commit_block_list([BlobBlock(block_id(9))]), "InvalidBlockList", 400)
        # an uncommitted block named as Committed (Azurite accepts it); raw XML, see commit_xml
        if not blobutil.ON_AZURITE:
            r = self.commit_xml("errs", [("Committed", block_id(0))], expect=None)
            self.assertEqual((r.status, blobutil.error_code(r)), (400, "InvalidBlockList"), r)
        # nothing was created by the failures
        self.assertFalse(bc.exists())
        self.commit_xml("errs", [("Uncommitted", block_id(0))])
        self.assertEqual(bc.download_blob().readall(), b"x")

    def test_block_id_length_mismatch(self):
        bc = self.cc.get_blob_client("idlen")
        bc.stage_block("abc", b"1")        # base64 "YWJj"
        self.assertAzError(lambda: bc.stage_block("abcdef-longer", b"2"), "InvalidBlobOrBlock", 400)

    def test_commit_empty_list_and_properties(self):
        _, _, BlobBlock, _, _, ContentSettings = _sdk()
        bc = self.cc.get_blob_client("emptylist")
        bc.commit_block_list([])
        self.assertEqual(bc.get_blob_properties().size, 0)
        self.assertEqual(bc.download_blob().readall(), b"")
        bc.stage_block(block_id(0), b"hello")
        bc.commit_block_list([BlobBlock(block_id(0))], metadata={"Mtime": "123"},
                             content_settings=ContentSettings(content_type="text/plain", cache_control="no-cache"))
        p = bc.get_blob_properties()
        self.assertEqual(p.metadata, {"Mtime": "123"})
        self.assertEqual(p.content_settings.content_type, "text/plain")
        self.assertEqual(p.content_settings.cache_control, "no-cache")

    @blobutil.azurite_skip("keeps a blob's uncommitted blocks after a Put Blob overwrite")
    def test_put_blob_drops_uncommitted_blocks(self):
        bc = self.cc.get_blob_client("dropped")
        bc.upload_blob(b"v1")
        bc.stage_block(block_id(0), b"pending")
        self.assertEqual(len(bc.get_block_list("uncommitted")[1]), 1)
        bc.upload_blob(b"v2", overwrite=True)
        self.assertEqual(bc.get_block_list("all"), ([], []))
        self.assertEqual(bc.download_blob().readall(), b"v2")

    def test_many_blocks(self):
        _, _, BlobBlock, _, _, _ = _sdk()
        bc = self.cc.get_blob_client("many")
        parts = [bytes([i]) * (i + 1) for i in range(120)]
        for i, p in enumerate(parts):
            bc.stage_block(block_id(i), p)
        bc.commit_block_list([BlobBlock(block_id(i)) for i in range(120)])
        self.assertEqual(bc.download_blob().readall(), b"".join(parts))
        self.assertEqual(bc.download_blob(offset=7000, length=50).readall(), b"".join(parts)[7000:7050])


# ----------------------------------------------------------------------------------------------- properties


class PropertiesTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("props"))

    def test_content_settings_roundtrip(self):
        _, _, _, _, _, ContentSettings = _sdk()
        # (not gzip: requests would try to gunzip the download)
        cs = ContentSettings(content_type="text/csv; charset=utf-8", content_encoding="identity",
                             content_language="de-CH", content_disposition='attachment; filename="r.csv"',
                             cache_control="max-age=60")
        bc = self.cc.get_blob_client("cs")
        bc.upload_blob(b"a,b\n", content_settings=cs, metadata={"CamelCase": "1", "snake_case": "two"})
        p = bc.get_blob_properties()
        for attr in ("content_type", "content_encoding", "content_language", "content_disposition", "cache_control"):
            self.assertEqual(getattr(p.content_settings, attr), getattr(cs, attr), attr)
        self.assertEqual(p.metadata, {"CamelCase": "1", "snake_case": "two"})
        dl = bc.download_blob()
        self.assertEqual(dl.properties.content_settings.content_type, cs.content_type)
        self.assertEqual(dl.properties.content_settings.content_disposition, cs.content_disposition)
        self.assertEqual(dl.properties.metadata, {"CamelCase": "1", "snake_case": "two"})
        self.assertEqual(dl.readall(), b"a,b\n")

    def test_set_http_headers_clears_omitted(self):
        _, _, _, _, _, ContentSettings = _sdk()
        bc = self.cc.get_blob_client("hdrs")
        r = bc.upload_blob(b"data", content_settings=ContentSettings(
            content_type="text/plain", content_encoding="identity", content_language="en",
            content_disposition="inline", cache_control="no-store"), metadata={"Keep": "me"})
        r2 = bc.set_http_headers(ContentSettings(content_type="application/json", cache_control="public"))
        self.assertNotEqual(r2["etag"], r["etag"])
        p = bc.get_blob_properties()
        self.assertEqual(p.content_settings.content_type, "application/json")
        self.assertEqual(p.content_settings.cache_control, "public")
        for attr in ("content_encoding", "content_language", "content_disposition"):
            self.assertFalse(getattr(p.content_settings, attr), attr)
        self.assertEqual(p.metadata, {"Keep": "me"})  # metadata is not touched
        self.assertEqual(bc.download_blob().readall(), b"data")

    def test_metadata_replace(self):
        bc = self.cc.get_blob_client("md")
        r = bc.upload_blob(b"x", metadata={"A": "1", "B": "2"})
        r2 = bc.set_blob_metadata({"C": "3 with spaces", "MiXeD": "v"})
        self.assertNotEqual(r2["etag"], r["etag"])
        p = bc.get_blob_properties()
        self.assertEqual(p.metadata, {"C": "3 with spaces", "MiXeD": "v"})
        self.assertEqual(p.etag, r2["etag"])
        bc.set_blob_metadata({})
        self.assertEqual(bc.get_blob_properties().metadata, {})
        self.assertEqual(bc.download_blob().readall(), b"x")

    def test_invalid_metadata_name(self):
        bc = self.cc.get_blob_client("badmd")
        self.assertAzError(lambda: bc.upload_blob(b"x", metadata={"bad-name": "1"}), "InvalidMetadata", 400)
        self.assertFalse(bc.exists())


# ----------------------------------------------------------------------------------------------- conditions


class ConditionalTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("cond"))

    def setUp(self):
        self.bc = self.cc.get_blob_client(f"c-{self._testMethodName}")
        self.bc.upload_blob(b"content")
        self.props = self.bc.get_blob_properties()

    def test_read_if_match(self):
        MatchConditions, exc, *_ = _sdk()
        ok = self.bc.download_blob(etag=self.props.etag, match_condition=MatchConditions.IfNotModified)
        self.assertEqual(ok.readall(), b"content")
        self.assertAzError(lambda: self.bc.download_blob(etag='"0x8D000000000DEAD"',
                                                         match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412, exc.ResourceModifiedError)
        # HEAD: no body, the code comes from x-ms-error-code
        self.assertAzError(lambda: self.bc.get_blob_properties(etag='"0x8D000000000DEAD"',
                                                               match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412, exc.ResourceModifiedError)

    def test_read_if_none_match_304(self):
        MatchConditions, exc, *_ = _sdk()
        # 304 carries x-ms-error-code: ConditionNotMet, so the SDK raises ResourceModifiedError with status 304
        e = self.assertStatus(lambda: self.bc.download_blob(etag=self.props.etag,
                                                            match_condition=MatchConditions.IfModified), 304)
        self.assertEqual(code_of(e), "ConditionNotMet")
        self.assertEqual(self.bc.download_blob(etag='"0x8D000000000DEAD"',
                                               match_condition=MatchConditions.IfModified).readall(), b"content")

    def test_read_if_modified_since(self):
        _, exc, *_ = _sdk()
        lm = self.props.last_modified
        e = self.assertStatus(lambda: self.bc.download_blob(if_modified_since=lm), 304)
        self.assertEqual(code_of(e), "ConditionNotMet")
        self.assertEqual(self.bc.download_blob(if_modified_since=lm - datetime.timedelta(seconds=1)).readall(),
                         b"content")
        self.assertEqual(self.bc.download_blob(if_unmodified_since=lm).readall(), b"content")
        self.assertAzError(lambda: self.bc.download_blob(if_unmodified_since=lm - datetime.timedelta(seconds=1)),
                           "ConditionNotMet", 412, exc.ResourceModifiedError)

    def test_write_conditions(self):
        MatchConditions, exc, *_ = _sdk()
        etag = self.props.etag
        self.assertAzError(lambda: self.bc.upload_blob(b"new", overwrite=True, etag='"0x8D000000000DEAD"',
                                                       match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412, exc.ResourceModifiedError)
        self.assertAzError(lambda: self.bc.set_blob_metadata({"A": "1"}, etag='"0x8D000000000DEAD"',
                                                             match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)
        self.assertAzError(lambda: self.bc.delete_blob(etag='"0x8D000000000DEAD"',
                                                       match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)
        self.assertAzError(lambda: self.bc.upload_blob(b"new", overwrite=True, etag=etag,
                                                       match_condition=MatchConditions.IfModified),
                           "ConditionNotMet", 412)
        self.assertAzError(lambda: self.bc.upload_blob(b"new", overwrite=True,
                                                       if_unmodified_since=self.props.last_modified
                                                       - datetime.timedelta(seconds=1)),
                           "ConditionNotMet", 412)
        self.assertEqual(self.bc.download_blob().readall(), b"content")
        r = self.bc.upload_blob(b"new", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
        self.assertNotEqual(r["etag"], etag)
        self.assertEqual(self.bc.download_blob().readall(), b"new")
        # the old etag no longer matches
        self.assertAzError(lambda: self.bc.delete_blob(etag=etag, match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)
        self.bc.delete_blob(etag=r["etag"], match_condition=MatchConditions.IfNotModified)
        self.assertFalse(self.bc.exists())

    def test_if_match_on_missing_blob(self):
        MatchConditions, *_ = _sdk()
        bc = self.cc.get_blob_client("never-existed")
        self.assertAzError(lambda: bc.upload_blob(b"x", overwrite=True, etag='"0x8D000000000DEAD"',
                                                  match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)
        self.assertFalse(bc.exists())


# ----------------------------------------------------------------------------------------------- delete + list


class DeleteListTests(blobutil.BlobTestCase):
    def test_delete(self):
        _, exc, *_ = _sdk()
        cc = self.container("del")
        bc = cc.get_blob_client("d")
        bc.upload_blob(b"x")
        bc.delete_blob()
        self.assertAzError(bc.get_blob_properties, "BlobNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(bc.delete_blob, "BlobNotFound", 404, exc.ResourceNotFoundError)
        self.assertAzError(lambda: bc.download_blob(), "BlobNotFound", 404, exc.ResourceNotFoundError)
        self.assertEqual(list(cc.list_blobs()), [])
        # a container with blobs can be deleted (unlike an S3 bucket)
        cc.upload_blob("left", b"over")
        cc.delete_container()
        self.assertFalse(cc.exists())

    def test_list_flat_prefix_metadata_paging(self):
        cc = self.container("lst")
        names = sorted(["a", "B", "a-b", "a/b", "a/c/d", "ä", "z/z", "a/b/" + "e" * 50])
        for n in names:
            cc.upload_blob(n, n.encode() * 3, metadata={"Name": str(len(n))})
        byte_order = sorted(names, key=lambda s: s.encode())
        every = list(cc.list_blobs(include=["metadata"]))
        self.assertEqual([b.name for b in every], byte_order)
        for b in every:
            p = cc.get_blob_client(b.name).get_blob_properties()
            # the listing XML carries the ETag unquoted, the headers quoted
            self.assertEqual((b.size, b.etag.strip('"'), b.last_modified), (p.size, p.etag.strip('"'),
                                                                             p.last_modified), b.name)
            self.assertEqual(b.metadata, {"Name": str(len(b.name))})
            self.assertEqual(b.blob_type, "BlockBlob")
            self.assertEqual(b.content_settings.content_md5, p.content_settings.content_md5)
        pages = [[b.name for b in p] for p in cc.list_blobs(results_per_page=3).by_page()]
        self.assertEqual([len(p) for p in pages], [3, 3, 2])
        self.assertEqual(sum(pages, []), byte_order)
        self.assertEqual([b.name for b in cc.list_blobs(name_starts_with="a/")], ["a/b", "a/b/" + "e" * 50, "a/c/d"])
        self.assertEqual(list(cc.list_blobs(name_starts_with="nothing")), [])
        # resume with a continuation token
        it = cc.list_blobs(name_starts_with="a", results_per_page=2).by_page()
        first = [b.name for b in next(it)]
        rest = [b.name for p in cc.list_blobs(name_starts_with="a", results_per_page=2)
                .by_page(continuation_token=it.continuation_token) for b in p]
        self.assertEqual(first + rest, [n for n in byte_order if n.startswith("a")])

    def test_walk_with_delimiter(self):
        from azure.storage.blob import BlobPrefix
        cc = self.container("walk")
        for n in ["top1", "top2", "d1/x", "d1/y", "d1/sub/z", "d2/x", "e/"]:
            cc.upload_blob(n, b"1")
        top = [(type(i) is BlobPrefix, i.name) for i in cc.walk_blobs(delimiter="/")]
        self.assertEqual(top, [(True, "d1/"), (True, "d2/"), (True, "e/"), (False, "top1"), (False, "top2")])
        d1 = [(type(i) is BlobPrefix, i.name) for i in cc.walk_blobs(name_starts_with="d1/", delimiter="/")]
        self.assertEqual(d1, [(True, "d1/sub/"), (False, "d1/x"), (False, "d1/y")])
        # a prefix counts as one result toward maxresults
        pages = [[i.name for i in p] for p in cc.walk_blobs(delimiter="/", results_per_page=2).by_page()]
        self.assertEqual(pages, [["d1/", "d2/"], ["e/", "top1"], ["top2"]])
        # another delimiter
        # (the SDK puts a page's prefixes before its blobs whatever the XML order; test_blob_bad_input checks that)
        dash = sorted(i.name for i in cc.walk_blobs(delimiter="1"))
        self.assertEqual(dash, ["d1", "d2/x", "e/", "top1", "top2"])


if __name__ == "__main__":
    harness.main(timeout=560)
