#!/usr/bin/python3
"""One namespace, two protocols: objects written through Ember's S3 endpoint (boto3) are read through its Blob
endpoint (Azure SDK) and the reverse, on the same emberd. A Blob container is an S3 bucket of the account's user
(devstoreaccount1 = alice, emberbob = bob), a blob is an object.

Checked on both sides: bytes, content-type / -encoding / -disposition / -language / cache-control, user metadata
(Azure names are case-preserving C# identifiers, S3 lower-cases them, so names are compared case-insensitively
across protocols), ETag and Last-Modified, S3 multipart objects read as blobs, block-list and append blobs read as
S3 objects, ranged reads across part/block boundaries, listings (keys, sizes, ETags, Last-Modified, delimiters),
deletes and container/bucket lifecycle from either side.

Needs Ember's S3 endpoint too, so it skips with EMBER_BLOB_TARGET=azurite.
Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_cross.py
"""

import hashlib
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from blobutil import block_id  # noqa: E402
from harness import KiB, MiB  # noqa: E402

CONTENT = {  # S3 parameter -> Azure ContentSettings attribute
    "ContentType": "content_type",
    "ContentEncoding": "content_encoding",
    "ContentDisposition": "content_disposition",
    "ContentLanguage": "content_language",
    "CacheControl": "cache_control",
}
# "identity", not gzip: requests would try to gunzip the Blob download
VALUES = {
    "ContentType": "text/csv; charset=utf-8",
    "ContentEncoding": "identity",
    "ContentDisposition": 'attachment; filename="report.csv"',
    "ContentLanguage": "de-CH",
    "CacheControl": "max-age=3600, public",
}


def setUpModule():
    blobutil.require_sdk()
    if not harness.boto3_available():
        import unittest
        raise unittest.SkipTest(f"boto3 is not importable by {sys.executable} (python3-boto3)")
    blobutil.start_blob_server(need_s3=True)


def tearDownModule():
    blobutil.stop_blob_server()


def lower_keys(d):
    return {k.lower(): v for k, v in (d or {}).items()}


class CrossTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = harness.boto_client(cls.srv)
        cls.bucket = cls.bucket_name("cross")
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.cc = cls.service().get_container_client(cls.bucket)

    def assertSameObject(self, key, data, container=None):
        """Bytes, size, ETag and Last-Modified agree between S3 HEAD/GET and Blob properties/download."""
        bucket = container or self.bucket
        bc = self.service().get_blob_client(bucket, key)
        head = self.s3.head_object(Bucket=bucket, Key=key)
        props = bc.get_blob_properties()
        self.assertEqual(props.size, len(data))
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(props.etag, head["ETag"], "ETag differs between Blob and S3")
        self.assertEqual(props.last_modified, head["LastModified"], "Last-Modified differs between Blob and S3")
        got_blob = bc.download_blob().readall()
        got_s3 = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        self.assertEqual(hashlib.sha256(got_blob).hexdigest(), hashlib.sha256(data).hexdigest(), "Blob bytes")
        self.assertEqual(hashlib.sha256(got_s3).hexdigest(), hashlib.sha256(data).hexdigest(), "S3 bytes")
        return head, props

    # ------------------------------------------------------------------------------------------- S3 -> Blob

    def test_s3_put_read_via_blob(self):
        data = harness.random_bytes(20 * KiB)
        key = "s3/written by s3 ünï+.csv"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata={"project": "ember", "n": "1"},
                           **VALUES)
        head, props = self.assertSameObject(key, data)
        for s3name, attr in CONTENT.items():
            self.assertEqual(getattr(props.content_settings, attr), VALUES[s3name], attr)
        self.assertEqual(props.metadata, {"project": "ember", "n": "1"})
        self.assertEqual(props.blob_type, "BlockBlob")
        if props.content_settings.content_md5:  # if Ember exposes the stored MD5 it must be right
            self.assertEqual(bytes(props.content_settings.content_md5), hashlib.md5(data).digest())
        dl = self.cc.download_blob(key)
        self.assertEqual(dl.properties.content_settings.content_type, VALUES["ContentType"])
        self.assertEqual(self.cc.download_blob(key, offset=1000, length=10).readall(), data[1000:1010])

    def test_s3_multipart_read_via_blob(self):
        key = "s3/multipart.bin"
        parts = [harness.random_bytes(5 * MiB), harness.random_bytes(5 * MiB), harness.random_bytes(123 * KiB)]
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType="application/x-tar",
                                             Metadata={"kind": "mp"})
        done = []
        for i, p in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=p)
            done.append({"PartNumber": i, "ETag": r["ETag"]})
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": done})
        data = b"".join(parts)
        head, props = self.assertSameObject(key, data)
        self.assertEqual(head["ETag"], harness.multipart_etag(parts))
        self.assertEqual(props.content_settings.content_type, "application/x-tar")
        self.assertEqual(props.metadata, {"kind": "mp"})
        # ranged Blob reads across the part boundary, and a chunked Blob download
        bc = self.cc.get_blob_client(key)
        self.assertEqual(bc.download_blob(offset=5 * MiB - 10, length=20).readall(), data[5 * MiB - 10:5 * MiB + 10])
        svc = self.service(max_single_get_size=MiB, max_chunk_get_size=MiB)
        got = svc.get_blob_client(self.bucket, key).download_blob(max_concurrency=2).readall()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_s3_delete_and_overwrite_seen_by_blob(self):
        from azure.core.exceptions import ResourceNotFoundError
        key = "s3/changing"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"v1")
        bc = self.cc.get_blob_client(key)
        self.assertEqual(bc.download_blob().readall(), b"v1")
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"version 2")
        self.assertSameObject(key, b"version 2")
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.assertAzError(bc.get_blob_properties, "BlobNotFound", 404, ResourceNotFoundError)

    # ------------------------------------------------------------------------------------------- Blob -> S3

    def test_blob_put_read_via_s3(self):
        from azure.storage.blob import ContentSettings
        data = harness.random_bytes(30 * KiB + 1)
        key = "blob/written by blob ünï+.csv"
        cs = ContentSettings(**{attr: VALUES[s3name] for s3name, attr in CONTENT.items()})
        self.cc.upload_blob(key, data, content_settings=cs, metadata={"CamelCase": "v", "lower": "w"})
        head, props = self.assertSameObject(key, data)
        for s3name in CONTENT:
            self.assertEqual(head.get(s3name), VALUES[s3name], s3name)
        # S3 lower-cases metadata names; Azure preserves the case it was given
        self.assertEqual(lower_keys(head["Metadata"]), {"camelcase": "v", "lower": "w"})
        self.assertEqual(props.metadata, {"CamelCase": "v", "lower": "w"})
        got = self.s3.get_object(Bucket=self.bucket, Key=key, Range="bytes=100-199")["Body"].read()
        self.assertEqual(got, data[100:200])

    def test_blob_block_list_read_via_s3(self):
        from azure.storage.blob import BlobBlock, ContentSettings
        key = "blob/block-list.bin"
        bc = self.cc.get_blob_client(key)
        blocks = [harness.random_bytes(MiB + i) for i in range(3)]
        for i, b in enumerate(blocks):
            bc.stage_block(block_id(i), b)
        # uncommitted blocks are invisible to S3 too
        self.assertNotIn(key, [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket,
                                                                           Prefix=key).get("Contents", [])])
        code, status, _ = harness.client_error(self.s3.head_object, Bucket=self.bucket, Key=key)
        self.assertEqual(status, 404)
        bc.commit_block_list([BlobBlock(block_id(i)) for i in range(3)], metadata={"Mtime": "1700000000"},
                             content_settings=ContentSettings(content_type="application/zip"))
        data = b"".join(blocks)
        head, props = self.assertSameObject(key, data)
        self.assertEqual(head["ContentType"], "application/zip")
        self.assertEqual(lower_keys(head["Metadata"]), {"mtime": "1700000000"})
        # a range across the first block boundary
        got = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={MiB - 5}-{MiB + 4}")["Body"].read()
        self.assertEqual(got, data[MiB - 5:MiB + 5])
        # a chunked SDK upload (Put Block x5 + Put Block List) too
        big = harness.random_bytes(5 * MiB - 3)
        svc = self.service(max_single_put_size=MiB, max_block_size=MiB)
        svc.get_blob_client(self.bucket, "blob/chunked.bin").upload_blob(big)
        self.assertSameObject("blob/chunked.bin", big)

    def test_append_blob_read_via_s3(self):
        key = "blob/append.log"
        bc = self.cc.get_blob_client(key)
        bc.create_append_blob()
        acc = b""
        for i in range(5):
            blk = f"line {i}\n".encode() * (i + 1)
            bc.append_block(blk)
            acc += blk
            got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            self.assertEqual(got, acc)
        self.assertSameObject(key, acc)

    def test_blob_delete_seen_by_s3(self):
        key = "blob/deleted"
        self.cc.upload_blob(key, b"x")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"x")
        self.cc.delete_blob(key)
        code, status, _ = harness.client_error(self.s3.get_object, Bucket=self.bucket, Key=key)
        self.assertEqual((code, status), ("NoSuchKey", 404))

    def test_properties_set_via_blob_seen_by_s3(self):
        from azure.storage.blob import ContentSettings
        key = "blob/props"
        bc = self.cc.upload_blob(key, b"p", metadata={"A": "1"})
        etag0 = bc.get_blob_properties().etag
        bc.set_blob_metadata({"Changed": "yes"})
        bc.set_http_headers(ContentSettings(content_type="text/markdown"))
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(lower_keys(head["Metadata"]), {"changed": "yes"})
        self.assertEqual(head["ContentType"], "text/markdown")
        props = bc.get_blob_properties()
        self.assertEqual(head["ETag"], props.etag)
        self.assertNotEqual(props.etag, etag0)
        self.assertEqual(bc.download_blob().readall(), b"p")
        self.assertEqual(head["LastModified"], props.last_modified)

    # ------------------------------------------------------------------------------------------- listings

    def test_listings_agree(self):
        bucket = self.bucket_name("crosslist")
        self.s3.create_bucket(Bucket=bucket)
        cc = self.service().get_container_client(bucket)
        keys = {"a.txt": 1, "dir/b.bin": 2 * KiB, "dir/sub/c": 0, "dir/sub/d": 10, "z/ünï cødé+%": 5, "B": 3}
        for i, (k, n) in enumerate(sorted(keys.items())):
            data = harness.random_bytes(n)
            if i % 2:
                self.s3.put_object(Bucket=bucket, Key=k, Body=data)
            else:
                cc.upload_blob(k, data)
        mp = "dir/multipart"
        up = self.s3.create_multipart_upload(Bucket=bucket, Key=mp)
        r = self.s3.upload_part(Bucket=bucket, Key=mp, UploadId=up["UploadId"], PartNumber=1, Body=b"m" * 100)
        self.s3.complete_multipart_upload(Bucket=bucket, Key=mp, UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
        keys[mp] = 100
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
        s3_objs = {o["Key"]: o for p in pages for o in p.get("Contents", [])}
        blobs = {b.name: b for b in cc.list_blobs()}
        self.assertEqual(list(blobs), sorted(keys, key=lambda s: s.encode()))
        self.assertEqual(set(s3_objs), set(keys))
        for k, n in keys.items():
            with self.subTest(key=k):
                self.assertEqual(blobs[k].size, n)
                self.assertEqual(s3_objs[k]["Size"], n)
                # the listing XML carries the Blob ETag unquoted
                self.assertEqual(blobs[k].etag.strip('"'), s3_objs[k]["ETag"].strip('"'))
                self.assertEqual(blobs[k].last_modified, s3_objs[k]["LastModified"].replace(microsecond=0))
        # delimiter listings agree
        s3_top = self.s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        s3_names = sorted([o["Key"] for o in s3_top.get("Contents", [])] +
                          [p["Prefix"] for p in s3_top.get("CommonPrefixes", [])])
        self.assertEqual(sorted(i.name for i in cc.walk_blobs(delimiter="/")), s3_names)
        s3_dir = self.s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="dir/")
        s3_names = sorted([o["Key"] for o in s3_dir.get("Contents", [])] +
                          [p["Prefix"] for p in s3_dir.get("CommonPrefixes", [])])
        self.assertEqual(sorted(i.name for i in cc.walk_blobs(name_starts_with="dir/", delimiter="/")), s3_names)

    def test_containers_are_buckets(self):
        svc = self.service()
        via_blob = self.bucket_name("made-by-blob")
        svc.create_container(via_blob)
        self.assertIn(via_blob, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.s3.head_bucket(Bucket=via_blob)
        via_s3 = self.bucket_name("made-by-s3")
        self.s3.create_bucket(Bucket=via_s3)
        self.assertIn(via_s3, [c.name for c in svc.list_containers(name_starts_with=via_s3)])
        # creating the other side's bucket again is a conflict on both protocols
        self.assertAzError(lambda: svc.create_container(via_s3), "ContainerAlreadyExists", 409)
        code, status, _ = harness.client_error(self.s3.create_bucket, Bucket=via_blob)
        self.assertEqual((code, status), ("BucketAlreadyOwnedByYou", 409))
        # Delete Container removes a non-empty container (Azure semantics), and the bucket with it
        self.s3.put_object(Bucket=via_s3, Key="k", Body=b"v")
        svc.get_container_client(via_s3).delete_container()
        code, status, _ = harness.client_error(self.s3.head_bucket, Bucket=via_s3)
        self.assertEqual(status, 404)
        self.s3.delete_bucket(Bucket=via_blob)
        self.assertFalse(svc.get_container_client(via_blob).exists())

    def test_second_account_is_bobs_user(self):
        bob_s3 = harness.boto_client(self.srv, user=harness.BOB)
        bucket = self.bucket_name("bobs")
        bob_s3.create_bucket(Bucket=bucket)
        bob_s3.put_object(Bucket=bucket, Key="k", Body=b"bob data")
        bob_blob = self.service(account=harness.BLOB_BOB)
        self.assertIn(bucket, [c.name for c in bob_blob.list_containers(name_starts_with=bucket)])
        self.assertEqual(bob_blob.get_blob_client(bucket, "k").download_blob().readall(), b"bob data")
        # alice's account does not see bob's bucket
        self.assertNotIn(bucket, [c.name for c in self.service().list_containers(name_starts_with=bucket)])
        blobutil.assertOtherAccountsContainer(self, lambda: self.service().get_blob_client(bucket, "k").download_blob())
        # a container bob creates through Blob is a bucket bob owns through S3
        c2 = self.bucket_name("bobs-blob")
        bob_blob.create_container(c2).upload_blob("x", b"1")
        self.assertEqual(bob_s3.get_object(Bucket=c2, Key="x")["Body"].read(), b"1")
        code, status, _ = harness.client_error(self.s3.get_object, Bucket=c2, Key="x")
        self.assertEqual((code, status), ("AccessDenied", 403))


if __name__ == "__main__":
    harness.main(timeout=400)
