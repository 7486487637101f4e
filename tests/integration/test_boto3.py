#!/usr/bin/env python3
"""boto3/botocore against a real emberd: what an SDK exercises.

Checksums (botocore's default CRC32, aws-chunked trailers, explicit SHA256/CRC32C/SHA1, Content-MD5), metadata and
content headers, response-* overrides, presigned URLs, the transfer manager (multipart up/down, managed copy),
partNumber and Range GETs, conditional GET/HEAD/PUT, CopyObject/UploadPartCopy, multipart errors, bucket errors,
key edge cases, listing (v1/v2, paging, encoding-type=url, fetch-owner, byte order), virtual-hosted addressing,
auth errors and the error XML format.

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_boto3.py [-k pattern]
"""

import datetime
import email.utils
import hashlib
import io
import os
import socket
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ALICE, BOB, KiB, MiB, client_error, md5_hex  # noqa: E402

import boto3  # noqa: E402,F401
import botocore  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

# RFC 6761: *.localhost is loopback. glibc here does not resolve it, so resolve it in-process for the
# virtual-hosted-style tests (Host header stays bucket.localhost:PORT).
_orig_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *a, **kw):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _orig_getaddrinfo(host, *a, **kw)


socket.getaddrinfo = _getaddrinfo


def setUpModule():
    harness.start_module_server()


def tearDownModule():
    code = harness.stop_module_server()
    if code != 0:
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


def http_date(dt):
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


class Base(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = harness.boto_client(cls.srv)
        cls.bucket = cls.bucket_name(cls.__name__[:20].lower())
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put(self, key, data, bucket=None, **kw):
        return self.s3.put_object(Bucket=bucket or self.bucket, Key=key, Body=data, **kw)

    def get_bytes(self, key, bucket=None, **kw):
        r = self.s3.get_object(Bucket=bucket or self.bucket, Key=key, **kw)
        return r["Body"].read(), r

    def assertS3Error(self, code, status, fn, *a, **kw):
        got_code, got_status, resp = client_error(fn, *a, **kw)
        self.assertEqual((got_code, got_status), (code, status),
                         f"expected S3 error {code}/{status}, got {got_code}/{got_status}: {resp.get('Error')}")
        return resp

    def assertAbsent(self, key, bucket=None):
        code, status, _ = client_error(self.s3.head_object, Bucket=bucket or self.bucket, Key=key)
        self.assertEqual(status, 404, f"object {key!r} should not exist")


def capture_headers(client, event):
    """Records the headers of every request sent for `event` (e.g. 'before-send.s3.PutObject')."""
    sent = []

    def hook(request, **kw):
        sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()})
        sent[-1]["_url"] = request.url
    client.meta.events.register(event, hook)
    return sent


def force_trailer(client, ops=("PutObject", "UploadPart")):
    """botocore sends checksums as aws-chunked trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER) only over https;
    this makes it do exactly that over http, as the newest SDKs do on a TLS endpoint."""
    def hook(params, **kw):
        alg = params.get("context", {}).get("checksum", {}).get("request_algorithm")
        if isinstance(alg, dict):
            alg["in"] = "trailer"
    for op in ops:
        client.meta.events.register(f"before-call.s3.{op}", hook)


# ============================================================================================ checksums


class ChecksumTests(Base):
    def test_default_crc32_checksum_newest_botocore(self):
        if harness.botocore_version() < (1, 36, 0):
            self.skipTest(f"botocore {botocore.__version__} predates default request checksums (1.36)")
        c = harness.boto_client(self.srv)
        sent = capture_headers(c, "before-send.s3.PutObject")
        data = os.urandom(300 * KiB)
        r = c.put_object(Bucket=self.bucket, Key="default-crc", Body=data)
        self.assertEqual(sent[-1].get("x-amz-checksum-crc32"), harness.crc32_b64(data), "test precondition")
        self.assertEqual(r["ETag"], f'"{md5_hex(data)}"')
        self.assertEqual(r.get("ChecksumCRC32"), harness.crc32_b64(data), "PutObject response lacks x-amz-checksum-crc32")
        h = c.head_object(Bucket=self.bucket, Key="default-crc", ChecksumMode="ENABLED")
        self.assertEqual(h.get("ChecksumCRC32"), harness.crc32_b64(data))
        g = c.get_object(Bucket=self.bucket, Key="default-crc", ChecksumMode="ENABLED")
        self.assertEqual(g.get("ChecksumCRC32"), harness.crc32_b64(data))
        self.assertEqual(g["Body"].read(), data)  # botocore validates the returned CRC32 while reading

    def test_checksum_not_returned_without_mode(self):
        data = b"no mode" * 100
        self.put("nomode", data, ChecksumAlgorithm="CRC32")
        h = self.s3.head_object(Bucket=self.bucket, Key="nomode")
        self.assertNotIn("ChecksumCRC32", h, "x-amz-checksum-crc32 must only be returned with x-amz-checksum-mode")

    def test_crc32_trailer_streaming_unsigned_payload(self):
        c = harness.boto_client(self.srv)
        force_trailer(c)
        sent = capture_headers(c, "before-send.s3.PutObject")
        for size in (0, 1, 64 * KiB + 3, 3 * MiB + 17):
            with self.subTest(size=size):
                data = os.urandom(size)
                key = f"trailer-{size}"
                r = c.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumAlgorithm="CRC32")
                h = sent[-1]
                self.assertEqual(h.get("x-amz-content-sha256"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                 "test precondition: botocore must send a trailer")
                self.assertEqual(h.get("x-amz-trailer"), "x-amz-checksum-crc32")
                self.assertEqual(r["ETag"], f'"{md5_hex(data)}"', "ETag must be the MD5 of the decoded payload")
                got, g = self.get_bytes(key, ChecksumMode="ENABLED")
                self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())
                self.assertEqual(g["ContentLength"], size)
                self.assertEqual(g.get("ChecksumCRC32"), harness.crc32_b64(data))

    def test_trailer_keeps_real_content_encoding(self):
        c = harness.boto_client(self.srv)
        force_trailer(c)
        sent = capture_headers(c, "before-send.s3.PutObject")
        c.put_object(Bucket=self.bucket, Key="gz", Body=b"\x1f\x8b fake gzip", ContentEncoding="gzip",
                     ChecksumAlgorithm="CRC32")
        self.assertEqual(sent[-1].get("content-encoding"), "gzip,aws-chunked")
        h = c.head_object(Bucket=self.bucket, Key="gz")
        self.assertEqual(h.get("ContentEncoding"), "gzip", "aws-chunked must be stripped from Content-Encoding")
        self.assertEqual(h["ContentLength"], len(b"\x1f\x8b fake gzip"))

    def test_explicit_algorithms_header(self):
        data = os.urandom(40 * KiB)
        cases = [("SHA256", "ChecksumSHA256", harness.sha256_b64(data)),
                 ("SHA1", "ChecksumSHA1", harness.sha1_b64(data)),
                 ("CRC32", "ChecksumCRC32", harness.crc32_b64(data))]
        for alg, field, expected in cases:
            with self.subTest(alg=alg):
                key = f"alg-{alg}"
                self.put(key, data, ChecksumAlgorithm=alg)
                h = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(h.get(field), expected)
                got, g = self.get_bytes(key, ChecksumMode="ENABLED")
                self.assertEqual(got, data)
                self.assertEqual(g.get(field), expected)

    def test_explicit_algorithms_trailer(self):
        c = harness.boto_client(self.srv)
        force_trailer(c)
        sent = capture_headers(c, "before-send.s3.PutObject")
        data = os.urandom(2 * MiB + 5)
        for alg, field, expected in [("SHA256", "ChecksumSHA256", harness.sha256_b64(data)),
                                     ("SHA1", "ChecksumSHA1", harness.sha1_b64(data))]:
            with self.subTest(alg=alg):
                key = f"talg-{alg}"
                c.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumAlgorithm=alg)
                self.assertEqual(sent[-1].get("x-amz-trailer"), f"x-amz-checksum-{alg.lower()}")
                h = c.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(h.get(field), expected)
                self.assertEqual(self.get_bytes(key)[0], data)

    def test_crc32c_header(self):
        # CRC32C needs awscrt in botocore; compute it here and send the header ourselves.
        data = os.urandom(16 * KiB)
        value = harness.crc32c_b64(data)
        self.put("crc32c", data, ChecksumCRC32C=value)
        h = self.s3.head_object(Bucket=self.bucket, Key="crc32c", ChecksumMode="ENABLED")
        self.assertEqual(h.get("ChecksumCRC32C"), value)
        self.assertEqual(self.get_bytes("crc32c")[0], data)

    def test_wrong_checksum_header_bad_digest(self):
        data = os.urandom(10 * KiB)
        for field, wrong in [("ChecksumCRC32", harness.crc32_b64(b"other")),
                             ("ChecksumCRC32C", harness.crc32c_b64(b"other")),
                             ("ChecksumSHA256", harness.sha256_b64(b"other"))]:
            with self.subTest(field=field):
                key = f"wrong-{field}"
                self.assertS3Error("BadDigest", 400, self.s3.put_object, Bucket=self.bucket, Key=key, Body=data,
                                   **{field: wrong})
                self.assertAbsent(key)

    def test_wrong_trailer_checksum_raw(self):
        data = os.urandom(100 * KiB)
        for trailer_value, expect_ok in [(harness.crc32_b64(data), True), (harness.crc32_b64(b"x"), False)]:
            key = f"raw-trailer-{expect_ok}"
            body = (f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" +
                    f"x-amz-checksum-crc32:{trailer_value}\r\n\r\n".encode())
            r = harness.signed_request(self.srv, "PUT", self.bucket, key, body=body,
                                       payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                       headers={"content-encoding": "aws-chunked",
                                                "x-amz-decoded-content-length": str(len(data)),
                                                "x-amz-trailer": "x-amz-checksum-crc32"})
            if expect_ok:
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.get_bytes(key)[0], data)
            else:
                self.assertEqual((r.status, r.error().get("Code")), (400, "BadDigest"), r)
                self.assertAbsent(key)

    def test_content_md5(self):
        data = os.urandom(5000)
        r = self.put("md5-ok", data, ContentMD5=harness.md5_b64(data))
        self.assertEqual(r["ETag"], f'"{md5_hex(data)}"')
        self.assertS3Error("BadDigest", 400, self.s3.put_object, Bucket=self.bucket, Key="md5-bad", Body=data,
                           ContentMD5=harness.md5_b64(b"something else"))
        self.assertAbsent("md5-bad")

    def test_streaming_signed_aws_chunked(self):
        """STREAMING-AWS4-HMAC-SHA256-PAYLOAD (what the Java/Go SDKs send): good chunks stored, a bad chunk
        signature rejected with nothing stored."""
        data = os.urandom(200 * KiB + 11)
        for bad_chunk in (None, 1):
            key = f"signed-chunked-{bad_chunk}"
            path = harness.object_path(self.bucket, key)
            chunk = 64 * KiB
            enc_len = harness.aws_chunked_length(len(data), chunk)
            hdrs, seed, amz_date, scope, skey = harness.sign_v4(
                "PUT", self.srv.host, path, (), {"content-encoding": "aws-chunked",
                                                 "x-amz-decoded-content-length": str(len(data)),
                                                 "content-length": str(enc_len)},
                harness.STREAMING_SIGNED)
            body = harness.aws_chunked_body(data, chunk, seed, amz_date, scope, skey, bad_chunk=bad_chunk)
            self.assertEqual(len(body), enc_len)
            r = harness.http_request(self.srv, "PUT", path, hdrs, body)
            if bad_chunk is None:
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("ETag"), f'"{md5_hex(data)}"')
                self.assertEqual(self.get_bytes(key)[0], data)
            else:
                self.assertEqual((r.status, r.error().get("Code")), (403, "SignatureDoesNotMatch"), r)
                self.assertAbsent(key)


# ============================================================================================ metadata


class MetadataTests(Base):
    def test_user_metadata_and_content_headers_round_trip(self):
        expires = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
        meta = {"color": "blue", "mixedcase": "Value With Spaces"}
        self.put("meta", b"{}", Metadata=meta, ContentType="application/json", ContentEncoding="identity",
                 ContentDisposition='attachment; filename="x.json"', CacheControl="max-age=60",
                 ContentLanguage="de-DE", Expires=expires)
        for r in (self.s3.head_object(Bucket=self.bucket, Key="meta"),
                  self.s3.get_object(Bucket=self.bucket, Key="meta")):
            self.assertEqual(r["Metadata"], meta)
            self.assertEqual(r["ContentType"], "application/json")
            self.assertEqual(r["ContentEncoding"], "identity")
            self.assertEqual(r["ContentDisposition"], 'attachment; filename="x.json"')
            self.assertEqual(r["CacheControl"], "max-age=60")
            self.assertEqual(r["ContentLanguage"], "de-DE")
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"].get("expires"), http_date(expires))
            self.assertEqual(r["ContentLength"], 2)
            self.assertEqual(r["ETag"], f'"{md5_hex(b"{}")}"')
            self.assertIsInstance(r["LastModified"], datetime.datetime)
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"].get("accept-ranges"), "bytes")

    def test_metadata_keys_are_case_insensitive_lowercased(self):
        self.put("meta-case", b"x", Metadata={"UPPER": "v1"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta-case")["Metadata"], {"upper": "v1"})

    def test_default_content_type(self):
        raw = harness.signed_request(self.srv, "PUT", self.bucket, "no-ctype", body=b"abc")
        self.assertEqual(raw.status, 200, raw)
        h = self.s3.head_object(Bucket=self.bucket, Key="no-ctype")
        self.assertEqual(h["ContentType"], "binary/octet-stream")  # S3's default

    def test_response_overrides_on_get(self):
        self.put("ovr", b"data", ContentType="text/plain", Metadata={"k": "v"})
        exp = "Thu, 01 Dec 1994 16:00:00 GMT"
        r = self.s3.get_object(Bucket=self.bucket, Key="ovr", ResponseContentType="application/x-override",
                               ResponseContentDisposition="inline", ResponseCacheControl="no-cache",
                               ResponseContentEncoding="br", ResponseContentLanguage="fr",
                               ResponseExpires=datetime.datetime(1994, 12, 1, 16, tzinfo=datetime.timezone.utc))
        hdrs = r["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(hdrs.get("content-type"), "application/x-override")
        self.assertEqual(hdrs.get("content-disposition"), "inline")
        self.assertEqual(hdrs.get("cache-control"), "no-cache")
        self.assertEqual(hdrs.get("content-encoding"), "br")
        self.assertEqual(hdrs.get("content-language"), "fr")
        self.assertEqual(hdrs.get("expires"), exp)
        self.assertEqual(r["Body"].read(), b"data")
        # the stored object is unchanged
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="ovr")["ContentType"], "text/plain")

    def test_metadata_too_large(self):
        # S3 limits user metadata to 2 KB (keys + values).
        self.assertS3Error("MetadataTooLarge", 400, self.s3.put_object, Bucket=self.bucket, Key="bigmeta",
                           Body=b"x", Metadata={"a": "v" * 1500, "b": "w" * 1500})
        self.assertAbsent("bigmeta")

    def test_empty_object(self):
        r = self.put("empty", b"")
        self.assertEqual(r["ETag"], '"d41d8cd98f00b204e9800998ecf8427e"')
        got, g = self.get_bytes("empty")
        self.assertEqual((got, g["ContentLength"]), (b"", 0))

    def test_overwrite_replaces_data_and_metadata(self):
        self.put("ow", b"first", Metadata={"v": "1"}, ContentType="text/a")
        self.put("ow", b"second!", Metadata={"w": "2"})
        got, g = self.get_bytes("ow")
        self.assertEqual(got, b"second!")
        self.assertEqual(g["Metadata"], {"w": "2"})
        self.assertEqual(g["ContentType"], "binary/octet-stream")

    def test_delete_object(self):
        self.put("del", b"x")
        r = self.s3.delete_object(Bucket=self.bucket, Key="del")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertAbsent("del")
        # deleting a missing key is not an error in S3
        r = self.s3.delete_object(Bucket=self.bucket, Key="del")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertS3Error("NoSuchKey", 404, self.s3.get_object, Bucket=self.bucket, Key="del")

    def test_delete_objects(self):
        keys = ["do/1", "do/2", "do/a&b<c>", "do/sp ace"]
        for k in keys:
            self.put(k, b"x")
        r = self.s3.delete_objects(Bucket=self.bucket, Delete={
            "Objects": [{"Key": k} for k in keys + ["do/never-existed"]], "Quiet": False})
        self.assertEqual(sorted(d["Key"] for d in r.get("Deleted", [])), sorted(keys + ["do/never-existed"]))
        self.assertEqual(r.get("Errors", []), [])
        for k in keys:
            self.assertAbsent(k)
        self.put("do/q", b"x")
        r = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "do/q"}], "Quiet": True})
        self.assertEqual(r.get("Deleted", []), [], "Quiet mode reports only errors")
        self.assertAbsent("do/q")


# ============================================================================================ ranges / partNumber


class RangeTests(Base):
    N = 1000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = os.urandom(cls.N)
        cls.s3.put_object(Bucket=cls.bucket, Key="r", Body=cls.data)
        cls.s3.put_object(Bucket=cls.bucket, Key="empty", Body=b"")

    def check_range(self, rng, start, end):
        got, r = self.get_bytes("r", Range=rng)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206, rng)
        self.assertEqual(got, self.data[start:end + 1], rng)
        self.assertEqual(r["ContentRange"], f"bytes {start}-{end}/{self.N}", rng)
        self.assertEqual(r["ContentLength"], end - start + 1, rng)

    def test_ranges(self):
        self.check_range("bytes=0-0", 0, 0)
        self.check_range("bytes=0-9", 0, 9)
        self.check_range("bytes=100-199", 100, 199)
        self.check_range("bytes=990-", 990, 999)
        self.check_range("bytes=-10", 990, 999)
        self.check_range("bytes=-5000", 0, 999)        # suffix longer than the object: whole object
        self.check_range("bytes=995-100000", 995, 999)  # end past the object: clamped
        self.check_range(f"bytes={self.N - 1}-", self.N - 1, self.N - 1)

    def test_head_range(self):
        r = self.s3.head_object(Bucket=self.bucket, Key="r", Range="bytes=10-19")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(r["ContentLength"], 10)
        self.assertEqual(r["ContentRange"], f"bytes 10-19/{self.N}")

    def test_unsatisfiable_range_416(self):
        for rng in (f"bytes={self.N}-", f"bytes={self.N + 10}-{self.N + 20}"):
            with self.subTest(rng=rng):
                resp = self.assertS3Error("InvalidRange", 416, self.s3.get_object, Bucket=self.bucket, Key="r",
                                          Range=rng)
                self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"].get("content-range"), f"bytes */{self.N}")
        self.assertS3Error("InvalidRange", 416, self.s3.get_object, Bucket=self.bucket, Key="empty",
                           Range="bytes=0-0")

    def test_malformed_range_ignored(self):
        # RFC 9110: an invalid Range header is ignored; S3 returns the whole object with 200.
        for rng in ("bytes=abc", "bytes=5-1", "items=0-1"):
            with self.subTest(rng=rng):
                got, r = self.get_bytes("r", Range=rng)
                self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
                self.assertEqual(got, self.data)

    def test_part_number_get_on_single_part_object(self):
        got, r = self.get_bytes("r", PartNumber=1)
        self.assertEqual(got, self.data)
        self.assertS3Error("InvalidPartNumber", 416, self.s3.get_object, Bucket=self.bucket, Key="r", PartNumber=2)


# ============================================================================================ conditionals


class ConditionalTests(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = b"conditional body"
        cls.etag = cls.s3.put_object(Bucket=cls.bucket, Key="c", Body=cls.data)["ETag"]
        h = cls.s3.head_object(Bucket=cls.bucket, Key="c")
        cls.lm = h["LastModified"]
        # Let the clock pass Last-Modified so "If-Modified-Since: Last-Modified" is not a future date.
        wait = (cls.lm + datetime.timedelta(seconds=1.2) - datetime.datetime.now(datetime.timezone.utc))
        if wait.total_seconds() > 0:
            time.sleep(min(wait.total_seconds(), 3))

    def status_of(self, op, **cond):
        fn = getattr(self.s3, op)
        try:
            r = fn(Bucket=self.bucket, Key="c", **cond)
            if op == "get_object":
                self.assertEqual(r["Body"].read(), self.data)
            return r["ResponseMetadata"]["HTTPStatusCode"], None
        except ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]

    def test_if_match(self):
        for op in ("get_object", "head_object"):
            with self.subTest(op=op):
                self.assertEqual(self.status_of(op, IfMatch=self.etag)[0], 200)
                self.assertEqual(self.status_of(op, IfMatch=self.etag.strip('"'))[0], 200, "unquoted ETag")
                self.assertEqual(self.status_of(op, IfMatch="*")[0], 200)
                st, code = self.status_of(op, IfMatch='"0123456789abcdef0123456789abcdef"')
                self.assertEqual(st, 412)
                if op == "get_object":
                    self.assertEqual(code, "PreconditionFailed")

    def test_if_none_match(self):
        for op in ("get_object", "head_object"):
            with self.subTest(op=op):
                st, _ = self.status_of(op, IfNoneMatch=self.etag)
                self.assertEqual(st, 304)
                self.assertEqual(self.status_of(op, IfNoneMatch='"0123456789abcdef0123456789abcdef"')[0], 200)
                self.assertEqual(self.status_of(op, IfNoneMatch="*")[0], 304)

    def test_not_modified_response_has_etag_and_no_body(self):
        r = harness.signed_request(self.srv, "GET", self.bucket, "c", headers={"If-None-Match": self.etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), self.etag)
        self.assertTrue(r.header("x-amz-request-id"))

    def test_if_modified_since(self):
        past = self.lm - datetime.timedelta(days=1)
        for op in ("get_object", "head_object"):
            with self.subTest(op=op):
                self.assertEqual(self.status_of(op, IfModifiedSince=past)[0], 200)
                self.assertEqual(self.status_of(op, IfModifiedSince=self.lm)[0], 304)

    def test_if_unmodified_since(self):
        past = self.lm - datetime.timedelta(days=1)
        for op in ("get_object", "head_object"):
            with self.subTest(op=op):
                self.assertEqual(self.status_of(op, IfUnmodifiedSince=self.lm)[0], 200)
                st, code = self.status_of(op, IfUnmodifiedSince=past)
                self.assertEqual(st, 412)
                if op == "get_object":
                    self.assertEqual(code, "PreconditionFailed")

    def test_combinations_follow_s3_rules(self):
        past = self.lm - datetime.timedelta(days=1)
        # If-Match true + If-Unmodified-Since false -> 200 (S3 docs / RFC 7232 precedence)
        self.assertEqual(self.status_of("get_object", IfMatch=self.etag, IfUnmodifiedSince=past)[0], 200)
        # If-None-Match false (ETag matches) + If-Modified-Since true -> 304
        self.assertEqual(self.status_of("get_object", IfNoneMatch=self.etag, IfModifiedSince=past)[0], 304)
        # If-None-Match true (no match) + If-Modified-Since false -> 200 (If-Modified-Since is ignored)
        self.assertEqual(self.status_of("get_object", IfNoneMatch='"00"', IfModifiedSince=self.lm)[0], 200)

    def test_put_if_none_match_star(self):
        c = harness.boto_client(self.srv)
        key = "create-only"
        if "IfNoneMatch" in c.meta.service_model.operation_model("PutObject").input_shape.members:
            c.put_object(Bucket=self.bucket, Key=key, Body=b"first", IfNoneMatch="*")
            code, st, _ = client_error(c.put_object, Bucket=self.bucket, Key=key, Body=b"second", IfNoneMatch="*")
        else:  # older botocore: add the header by hand
            def add(request, **kw):
                request.headers["If-None-Match"] = "*"
            c.meta.events.register("before-sign.s3.PutObject", add)
            c.put_object(Bucket=self.bucket, Key=key, Body=b"first")
            code, st, _ = client_error(c.put_object, Bucket=self.bucket, Key=key, Body=b"second")
        self.assertEqual((code, st), ("PreconditionFailed", 412))
        self.assertEqual(self.get_bytes(key)[0], b"first")

    def test_put_if_match(self):
        c = harness.boto_client(self.srv)
        if "IfMatch" not in c.meta.service_model.operation_model("PutObject").input_shape.members:
            self.skipTest("botocore too old for conditional PutObject If-Match")
        etag = c.put_object(Bucket=self.bucket, Key="cas", Body=b"v1")["ETag"]
        c.put_object(Bucket=self.bucket, Key="cas", Body=b"v2", IfMatch=etag)
        code, st, _ = client_error(c.put_object, Bucket=self.bucket, Key="cas", Body=b"v3", IfMatch=etag)
        self.assertEqual((code, st), ("PreconditionFailed", 412))
        self.assertEqual(self.get_bytes("cas")[0], b"v2")
        code, st, _ = client_error(c.put_object, Bucket=self.bucket, Key="cas-missing", Body=b"x", IfMatch=etag)
        self.assertEqual((code, st), ("NoSuchKey", 404))


# ============================================================================================ copy


class CopyTests(Base):
    def test_copy_object_metadata_directive(self):
        data = os.urandom(3000)
        src = self.put("src", data, Metadata={"orig": "1"}, ContentType="text/src", CacheControl="no-store")
        r = self.s3.copy_object(Bucket=self.bucket, Key="dst-copy", CopySource={"Bucket": self.bucket, "Key": "src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], src["ETag"])
        self.assertIsInstance(r["CopyObjectResult"]["LastModified"], datetime.datetime)
        got, g = self.get_bytes("dst-copy")
        self.assertEqual(got, data)
        self.assertEqual(g["Metadata"], {"orig": "1"})
        self.assertEqual(g["ContentType"], "text/src")
        self.assertEqual(g["CacheControl"], "no-store")

        # COPY ignores metadata sent with the request
        self.s3.copy_object(Bucket=self.bucket, Key="dst-copy2", CopySource={"Bucket": self.bucket, "Key": "src"},
                            MetadataDirective="COPY", Metadata={"ignored": "yes"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="dst-copy2")["Metadata"], {"orig": "1"})

        self.s3.copy_object(Bucket=self.bucket, Key="dst-replace", CopySource={"Bucket": self.bucket, "Key": "src"},
                            MetadataDirective="REPLACE", Metadata={"new": "2"}, ContentType="text/new")
        got, g = self.get_bytes("dst-replace")
        self.assertEqual(got, data)
        self.assertEqual(g["Metadata"], {"new": "2"})
        self.assertEqual(g["ContentType"], "text/new")
        self.assertNotIn("CacheControl", g)

    def test_copy_to_itself(self):
        self.put("self", b"abc", Metadata={"a": "1"})
        self.assertS3Error("InvalidRequest", 400, self.s3.copy_object, Bucket=self.bucket, Key="self",
                           CopySource={"Bucket": self.bucket, "Key": "self"})
        self.s3.copy_object(Bucket=self.bucket, Key="self", CopySource={"Bucket": self.bucket, "Key": "self"},
                            MetadataDirective="REPLACE", Metadata={"a": "2"})
        got, g = self.get_bytes("self")
        self.assertEqual((got, g["Metadata"]), (b"abc", {"a": "2"}))

    def test_copy_conditions(self):
        etag = self.put("csrc", b"conditional copy")["ETag"]
        ok = self.s3.copy_object(Bucket=self.bucket, Key="c1", CopySource={"Bucket": self.bucket, "Key": "csrc"},
                                 CopySourceIfMatch=etag)
        self.assertEqual(ok["CopyObjectResult"]["ETag"], etag)
        self.assertS3Error("PreconditionFailed", 412, self.s3.copy_object, Bucket=self.bucket, Key="c2",
                           CopySource={"Bucket": self.bucket, "Key": "csrc"}, CopySourceIfMatch='"deadbeef"')
        self.assertS3Error("PreconditionFailed", 412, self.s3.copy_object, Bucket=self.bucket, Key="c3",
                           CopySource={"Bucket": self.bucket, "Key": "csrc"}, CopySourceIfNoneMatch=etag)
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)
        self.assertS3Error("PreconditionFailed", 412, self.s3.copy_object, Bucket=self.bucket, Key="c4",
                           CopySource={"Bucket": self.bucket, "Key": "csrc"}, CopySourceIfUnmodifiedSince=past)
        self.s3.copy_object(Bucket=self.bucket, Key="c5", CopySource={"Bucket": self.bucket, "Key": "csrc"},
                            CopySourceIfModifiedSince=past)
        for k in ("c2", "c3", "c4"):
            self.assertAbsent(k)
        self.assertEqual(self.get_bytes("c5")[0], b"conditional copy")

    def test_copy_errors_and_special_source_keys(self):
        self.assertS3Error("NoSuchKey", 404, self.s3.copy_object, Bucket=self.bucket, Key="x",
                           CopySource={"Bucket": self.bucket, "Key": "does-not-exist"})
        self.assertS3Error("NoSuchBucket", 404, self.s3.copy_object, Bucket=self.bucket, Key="x",
                           CopySource={"Bucket": "no-such-bucket-ember", "Key": "k"})
        for key in ("sp ace+plus%percent", "ünï/🙂", "q?x#y&z=1"):
            with self.subTest(key=key):
                self.put(key, key.encode())
                other = self.bucket_name("copydst")
                self.s3.create_bucket(Bucket=other)
                self.s3.copy_object(Bucket=other, Key=key, CopySource={"Bucket": self.bucket, "Key": key})
                self.assertEqual(self.get_bytes(key, bucket=other)[0], key.encode())

    def test_upload_part_copy_with_ranges(self):
        src = os.urandom(12 * MiB + 100)
        self.put("big-src", src)
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="assembled")["UploadId"]
        r1 = self.s3.upload_part_copy(Bucket=self.bucket, Key="assembled", UploadId=up, PartNumber=1,
                                      CopySource={"Bucket": self.bucket, "Key": "big-src"},
                                      CopySourceRange=f"bytes=0-{6 * MiB - 1}")
        self.assertEqual(r1["CopyPartResult"]["ETag"], f'"{md5_hex(src[:6 * MiB])}"')
        r2 = self.s3.upload_part_copy(Bucket=self.bucket, Key="assembled", UploadId=up, PartNumber=2,
                                      CopySource={"Bucket": self.bucket, "Key": "big-src"},
                                      CopySourceRange=f"bytes={6 * MiB}-{12 * MiB + 99}")
        tail = b"tail part"
        r3 = self.s3.upload_part(Bucket=self.bucket, Key="assembled", UploadId=up, PartNumber=3, Body=tail)
        parts = [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
                 {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]},
                 {"PartNumber": 3, "ETag": r3["ETag"]}]
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key="assembled", UploadId=up,
                                                 MultipartUpload={"Parts": parts})
        expected = src + tail
        self.assertEqual(done["ETag"], harness.multipart_etag([src[:6 * MiB], src[6 * MiB:], tail]))
        got = self.get_bytes("assembled")[0]
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(expected).hexdigest())

    def test_upload_part_copy_whole_and_bad_range(self):
        self.put("small-src", b"0123456789")
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="upc")["UploadId"]
        r = self.s3.upload_part_copy(Bucket=self.bucket, Key="upc", UploadId=up, PartNumber=1,
                                     CopySource={"Bucket": self.bucket, "Key": "small-src"})
        self.assertEqual(r["CopyPartResult"]["ETag"], f'"{md5_hex(b"0123456789")}"')
        code, st, _ = client_error(self.s3.upload_part_copy, Bucket=self.bucket, Key="upc", UploadId=up,
                                   PartNumber=2, CopySource={"Bucket": self.bucket, "Key": "small-src"},
                                   CopySourceRange="bytes=5-50")
        # AWS: 400 InvalidArgument "Range specified is not valid for source object of size: 10"
        self.assertIn((code, st), {("InvalidArgument", 400), ("InvalidRange", 416)})
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key="upc", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.get_bytes("upc")[0], b"0123456789")

    def test_managed_copy_uses_part_copy(self):
        from boto3.s3.transfer import TransferConfig
        data = os.urandom(11 * MiB)
        self.put("mc-src", data)
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
        self.s3.copy({"Bucket": self.bucket, "Key": "mc-src"}, self.bucket, "mc-dst", Config=cfg)
        h = self.s3.head_object(Bucket=self.bucket, Key="mc-dst")
        self.assertTrue(h["ETag"].endswith('-3"'), h["ETag"])
        self.assertEqual(hashlib.sha256(self.get_bytes("mc-dst")[0]).digest(), hashlib.sha256(data).digest())


# ============================================================================================ multipart


class MultipartTests(Base):
    def mpu(self, key, parts, **kw):
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, **kw)["UploadId"]
        etags = []
        for i, p in enumerate(parts, 1):
            etags.append(self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=i, Body=p)["ETag"])
        return up, etags

    def test_multipart_round_trip_and_part_number_get(self):
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(1234)]
        up, etags = self.mpu("mp", parts, Metadata={"m": "1"}, ContentType="application/x-mp")
        for p, e in zip(parts, etags):
            self.assertEqual(e, f'"{md5_hex(p)}"')
        lp = self.s3.list_parts(Bucket=self.bucket, Key="mp", UploadId=up)
        self.assertEqual([(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]],
                         [(i, len(p), e) for i, (p, e) in enumerate(zip(parts, etags), 1)])
        lp1 = self.s3.list_parts(Bucket=self.bucket, Key="mp", UploadId=up, MaxParts=1)
        self.assertTrue(lp1["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in lp1["Parts"]], [1])
        lp2 = self.s3.list_parts(Bucket=self.bucket, Key="mp", UploadId=up, MaxParts=5,
                                 PartNumberMarker=lp1["NextPartNumberMarker"])
        self.assertEqual([p["PartNumber"] for p in lp2["Parts"]], [2, 3])
        self.assertFalse(lp2["IsTruncated"])
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
        self.assertEqual(done["ETag"], harness.multipart_etag(parts))
        self.assertEqual(done["Key"], "mp")
        self.assertEqual(done["Bucket"], self.bucket)
        whole = b"".join(parts)
        got, g = self.get_bytes("mp")
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(whole).digest())
        self.assertEqual(g["ETag"], harness.multipart_etag(parts))
        self.assertEqual(g["Metadata"], {"m": "1"})
        self.assertEqual(g["ContentType"], "application/x-mp")
        # partNumber GET/HEAD
        got2, r = self.get_bytes("mp", PartNumber=2)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(got2, parts[1])
        self.assertEqual(r["PartsCount"], 3)
        start = len(parts[0])
        self.assertEqual(r["ContentRange"], f"bytes {start}-{start + len(parts[1]) - 1}/{len(whole)}")
        h = self.s3.head_object(Bucket=self.bucket, Key="mp", PartNumber=3)
        self.assertEqual((h["ContentLength"], h["PartsCount"]), (1234, 3))
        self.assertS3Error("InvalidPartNumber", 416, self.s3.get_object, Bucket=self.bucket, Key="mp", PartNumber=4)
        # the upload is gone
        self.assertS3Error("NoSuchUpload", 404, self.s3.list_parts, Bucket=self.bucket, Key="mp", UploadId=up)

    def test_reuploading_a_part_replaces_it(self):
        up, etags = self.mpu("reup", [b"A" * 100])
        e2 = self.s3.upload_part(Bucket=self.bucket, Key="reup", UploadId=up, PartNumber=1, Body=b"B" * 50)["ETag"]
        lp = self.s3.list_parts(Bucket=self.bucket, Key="reup", UploadId=up)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"], p["ETag"]) for p in lp], [(1, 50, e2)])
        self.assertS3Error("InvalidPart", 400, self.s3.complete_multipart_upload, Bucket=self.bucket, Key="reup",
                           UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etags[0]}]})
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key="reup", UploadId=up,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]})
        self.assertEqual(self.get_bytes("reup")[0], b"B" * 50)

    def test_complete_errors(self):
        p1, p2 = os.urandom(5 * MiB), os.urandom(100)
        up, (e1, e2) = self.mpu("errs", [p1, p2])
        bad = '"00000000000000000000000000000000"'
        cases = [
            ("InvalidPart", [{"PartNumber": 1, "ETag": bad}, {"PartNumber": 2, "ETag": e2}]),
            ("InvalidPart", [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]),
            ("InvalidPartOrder", [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]),
        ]
        for code, parts in cases:
            with self.subTest(code=code, parts=[p["PartNumber"] for p in parts]):
                self.assertS3Error(code, 400, self.s3.complete_multipart_upload, Bucket=self.bucket, Key="errs",
                                   UploadId=up, MultipartUpload={"Parts": parts})
                self.assertAbsent("errs")
        # the upload survives failed completes
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key="errs", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        self.assertEqual(self.get_bytes("errs")[0], p1 + p2)

    def test_entity_too_small(self):
        up, (e1, e2) = self.mpu("small", [b"a" * MiB, b"b" * MiB])
        self.assertS3Error("EntityTooSmall", 400, self.s3.complete_multipart_upload, Bucket=self.bucket, Key="small",
                           UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                   {"PartNumber": 2, "ETag": e2}]})
        self.assertAbsent("small")
        # a single small part is fine (the last part may be small)
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key="small", UploadId=up,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
        self.assertEqual(self.get_bytes("small")[0], b"a" * MiB)

    def test_no_such_upload_and_bad_part_numbers(self):
        self.assertS3Error("NoSuchUpload", 404, self.s3.upload_part, Bucket=self.bucket, Key="k", UploadId="bogus",
                           PartNumber=1, Body=b"x")
        self.assertS3Error("NoSuchUpload", 404, self.s3.complete_multipart_upload, Bucket=self.bucket, Key="k",
                           UploadId="bogus", MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})
        self.assertS3Error("NoSuchUpload", 404, self.s3.abort_multipart_upload, Bucket=self.bucket, Key="k",
                           UploadId="bogus")
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="k")["UploadId"]
        for n in (0, 10001):
            with self.subTest(part=n):
                self.assertS3Error("InvalidArgument", 400, self.s3.upload_part, Bucket=self.bucket, Key="k",
                                   UploadId=up, PartNumber=n, Body=b"x")
        # the upload id belongs to its key
        self.assertS3Error("NoSuchUpload", 404, self.s3.upload_part, Bucket=self.bucket, Key="other-key",
                           UploadId=up, PartNumber=1, Body=b"x")
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="k", UploadId=up)
        self.assertS3Error("NoSuchUpload", 404, self.s3.list_parts, Bucket=self.bucket, Key="k", UploadId=up)
        self.assertAbsent("k")

    def test_list_multipart_uploads(self):
        ups = {}
        for k in ("lmu/a", "lmu/b", "lmu/c/d", "other"):
            ups[k] = self.s3.create_multipart_upload(Bucket=self.bucket, Key=k)["UploadId"]
        r = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix="lmu/")
        self.assertEqual(sorted((u["Key"], u["UploadId"]) for u in r.get("Uploads", [])),
                         sorted((k, v) for k, v in ups.items() if k.startswith("lmu/")))
        r = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix="lmu/", Delimiter="/")
        self.assertEqual([u["Key"] for u in r.get("Uploads", [])], ["lmu/a", "lmu/b"])
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["lmu/c/"])
        for k, v in ups.items():
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=k, UploadId=v)
        r = self.s3.list_multipart_uploads(Bucket=self.bucket)
        self.assertEqual([u for u in r.get("Uploads", []) if u["UploadId"] in ups.values()], [])

    def test_multipart_with_checksums_trailers(self):
        """What the newest SDKs send for multipart: CRC32 per part in aws-chunked trailers, CRC32 per part in
        the Complete XML."""
        c = harness.boto_client(self.srv)
        force_trailer(c)
        parts = [os.urandom(5 * MiB), os.urandom(300 * KiB)]
        up = c.create_multipart_upload(Bucket=self.bucket, Key="mp-crc", ChecksumAlgorithm="CRC32")["UploadId"]
        done_parts = []
        for i, p in enumerate(parts, 1):
            r = c.upload_part(Bucket=self.bucket, Key="mp-crc", UploadId=up, PartNumber=i, Body=p,
                              ChecksumAlgorithm="CRC32")
            self.assertEqual(r.get("ChecksumCRC32"), harness.crc32_b64(p))
            done_parts.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": harness.crc32_b64(p)})
        lp = c.list_parts(Bucket=self.bucket, Key="mp-crc", UploadId=up)
        self.assertEqual([p.get("ChecksumCRC32") for p in lp["Parts"]], [harness.crc32_b64(p) for p in parts])
        c.complete_multipart_upload(Bucket=self.bucket, Key="mp-crc", UploadId=up,
                                    MultipartUpload={"Parts": done_parts})
        got = self.get_bytes("mp-crc")[0]
        self.assertEqual(got, b"".join(parts))
        h = c.head_object(Bucket=self.bucket, Key="mp-crc", ChecksumMode="ENABLED")
        full = harness.crc32_b64(b"".join(parts))
        import base64
        composite = harness.crc32_b64(b"".join(base64.b64decode(harness.crc32_b64(p)) for p in parts)) + "-2"
        self.assertIn(h.get("ChecksumCRC32"), {full, composite})

    def test_complete_with_wrong_part_checksum(self):
        parts = [os.urandom(5 * MiB), b"tail"]
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp-badcrc", ChecksumAlgorithm="CRC32")["UploadId"]
        done = []
        for i, p in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.bucket, Key="mp-badcrc", UploadId=up, PartNumber=i, Body=p,
                                    ChecksumCRC32=harness.crc32_b64(p))
            done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": harness.crc32_b64(p)})
        done[0]["ChecksumCRC32"] = harness.crc32_b64(b"wrong")
        code, st, _ = client_error(self.s3.complete_multipart_upload, Bucket=self.bucket, Key="mp-badcrc",
                                   UploadId=up, MultipartUpload={"Parts": done})
        # AWS answers InvalidPart (the part's checksum does not match); BadDigest is an acceptable reading too.
        self.assertIn((code, st), {("InvalidPart", 400), ("BadDigest", 400)})
        self.assertAbsent("mp-badcrc")
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="mp-badcrc", UploadId=up)


# ============================================================================================ transfer manager


class TransferTests(Base):
    def test_upload_download_file_multipart(self):
        from boto3.s3.transfer import TransferConfig
        tmp = harness.make_tmpdir()
        path, sha = harness.make_random_file(tmp, "up.bin", 17 * MiB + 333)
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
        self.s3.upload_file(path, self.bucket, "tm/file.bin", Config=cfg, ExtraArgs={"Metadata": {"via": "tm"}})
        h = self.s3.head_object(Bucket=self.bucket, Key="tm/file.bin")
        self.assertEqual(h["ETag"], harness.multipart_etag_of_file(path, 5 * MiB))
        self.assertEqual(h["ContentLength"], 17 * MiB + 333)
        self.assertEqual(h["Metadata"], {"via": "tm"})
        out = os.path.join(tmp, "down.bin")
        self.s3.download_file(self.bucket, "tm/file.bin", out, Config=cfg)
        self.assertEqual(harness.sha256_file(out), sha)
        # download a single-part object with ranged GETs too
        self.s3.upload_file(path, self.bucket, "tm/single.bin",
                            Config=TransferConfig(multipart_threshold=64 * MiB))
        h = self.s3.head_object(Bucket=self.bucket, Key="tm/single.bin")
        self.assertEqual(h["ETag"], f'"{hashlib.md5(open(path, "rb").read()).hexdigest()}"')
        out2 = os.path.join(tmp, "down2.bin")
        self.s3.download_file(self.bucket, "tm/single.bin", out2, Config=cfg)
        self.assertEqual(harness.sha256_file(out2), sha)

    def test_upload_fileobj_nonseekable(self):
        from boto3.s3.transfer import TransferConfig
        data = os.urandom(11 * MiB)

        class Stream(io.RawIOBase):
            def __init__(self, b):
                self.b, self.pos = b, 0

            def readable(self):
                return True

            def readinto(self, buf):
                n = min(len(buf), len(self.b) - self.pos, 256 * KiB)
                buf[:n] = self.b[self.pos:self.pos + n]
                self.pos += n
                return n
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
        self.s3.upload_fileobj(Stream(data), self.bucket, "tm/stream", Config=cfg)
        buf = io.BytesIO()
        self.s3.download_fileobj(self.bucket, "tm/stream", buf, Config=cfg)
        self.assertEqual(hashlib.sha256(buf.getvalue()).digest(), hashlib.sha256(data).digest())


# ============================================================================================ buckets


class BucketTests(Base):
    def test_create_head_list_delete(self):
        name = self.bucket_name("life")
        r = self.s3.create_bucket(Bucket=name)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(r.get("Location"), f"/{name}")
        self.assertEqual(self.s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"], 200)
        lb = self.s3.list_buckets()
        mine = [b for b in lb["Buckets"] if b["Name"] == name]
        self.assertEqual(len(mine), 1)
        self.assertIsInstance(mine[0]["CreationDate"], datetime.datetime)
        self.assertTrue(lb["Owner"]["ID"])
        self.assertEqual(self.s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"], 204)
        code, st, _ = client_error(self.s3.head_bucket, Bucket=name)
        self.assertEqual(st, 404)
        self.assertNotIn(name, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])

    def test_bucket_already_owned_by_you(self):
        self.assertS3Error("BucketAlreadyOwnedByYou", 409, self.s3.create_bucket, Bucket=self.bucket)

    def test_bucket_already_exists_other_user(self):
        bob = harness.boto_client(self.srv, user=BOB)
        self.assertS3Error("BucketAlreadyExists", 409, bob.create_bucket, Bucket=self.bucket)

    def test_bucket_not_empty(self):
        name = self.bucket_name("full")
        self.s3.create_bucket(Bucket=name)
        self.s3.put_object(Bucket=name, Key="k", Body=b"x")
        self.assertS3Error("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=name)
        self.s3.delete_object(Bucket=name, Key="k")
        self.s3.delete_bucket(Bucket=name)

    def test_no_such_bucket(self):
        nb = "ember-no-such-bucket"
        self.assertS3Error("NoSuchBucket", 404, self.s3.get_object, Bucket=nb, Key="k")
        self.assertS3Error("NoSuchBucket", 404, self.s3.put_object, Bucket=nb, Key="k", Body=b"x")
        self.assertS3Error("NoSuchBucket", 404, self.s3.list_objects_v2, Bucket=nb)
        self.assertS3Error("NoSuchBucket", 404, self.s3.list_objects, Bucket=nb)
        self.assertS3Error("NoSuchBucket", 404, self.s3.delete_bucket, Bucket=nb)
        self.assertS3Error("NoSuchBucket", 404, self.s3.create_multipart_upload, Bucket=nb, Key="k")
        self.assertS3Error("NoSuchBucket", 404, self.s3.get_bucket_location, Bucket=nb)
        self.assertEqual(client_error(self.s3.head_bucket, Bucket=nb)[1], 404)

    def test_invalid_bucket_names(self):
        # Names botocore lets through (it only checks the character set); the rest are in test_bad_input.py.
        for name in ("ab", "UpperCase", "under_score", "-leading", "trailing-", "a..b", "192.168.10.20",
                     "x" * 64, "xn--punycode", "name-s3alias", "sthree-name", ".dot", "dot."):
            with self.subTest(name=name):
                self.assertS3Error("InvalidBucketName", 400, self.s3.create_bucket, Bucket=name)
        for name in ("abc", "a.b-c", "x" * 63, "0123"):
            with self.subTest(valid=name):
                self.s3.create_bucket(Bucket=name)
                self.s3.delete_bucket(Bucket=name)

    def test_get_bucket_location(self):
        r = self.s3.get_bucket_location(Bucket=self.bucket)
        # us-east-1 is reported as an empty LocationConstraint
        self.assertIsNone(r["LocationConstraint"])

    def test_list_buckets_owner_scoped(self):
        bob = harness.boto_client(self.srv, user=BOB)
        bname = self.bucket_name("bobs")
        bob.create_bucket(Bucket=bname)
        self.assertIn(bname, [b["Name"] for b in bob.list_buckets()["Buckets"]])
        self.assertNotIn(bname, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.assertNotIn(self.bucket, [b["Name"] for b in bob.list_buckets()["Buckets"]])
        bob.delete_bucket(Bucket=bname)


# ============================================================================================ keys


EDGE_KEYS = [
    "sp ace/with  two", "plus+sign", "percent%25literal%", "question?mark", "hash#tag", "amp&and=eq;semi",
    "tilde~star*paren()", "quote'dq\"", "xml<&>chars", "ünïcødé/日本語/🙂.txt", "a//b", "//leading", "trailing/",
    "comma,colon:at@dollar$", "back\\slash", "tab\tkey", "k" * 1024, "é" * 512, "a/b/c/d/e/f/g/h",
]

DOT_KEYS = ["a/./b", "a/../b", "./x", "../y", "..", "."]


class KeyTests(Base):
    def round_trip(self, key):
        data = key.encode("utf-8") + b"\n" + os.urandom(32)
        self.put(key, data)
        self.assertEqual(self.get_bytes(key)[0], data)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"], len(data))
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key).get("Contents", [])
        self.assertIn(key, [c["Key"] for c in listed])
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.assertAbsent(key)

    def test_edge_keys(self):
        for key in EDGE_KEYS:
            with self.subTest(key=key[:40]):
                self.round_trip(key)

    def test_dot_segment_keys(self):
        for key in DOT_KEYS:
            with self.subTest(key=key):
                self.round_trip(key)

    def test_key_too_long(self):
        self.assertS3Error("KeyTooLongError", 400, self.s3.put_object, Bucket=self.bucket, Key="k" * 1025, Body=b"x")
        self.assertS3Error("KeyTooLongError", 400, self.s3.put_object, Bucket=self.bucket, Key="é" * 512 + "k",
                           Body=b"x")

    def test_similar_keys_distinct(self):
        keys = ["dup", "dup/", "dup//", "Dup", "dup ", "dup+", "dup%20"]
        for i, k in enumerate(keys):
            self.put(k, str(i).encode())
        for i, k in enumerate(keys):
            self.assertEqual(self.get_bytes(k)[0], str(i).encode(), k)


# ============================================================================================ listing


class ListTests(Base):
    KEYS = [f"k{i:02d}" for i in range(10)] + ["dir1/a", "dir1/b", "dir2/a", "dir3/x/y", "z"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for k in cls.KEYS:
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=k.encode())

    def page_all_v2(self, bucket=None, **kw):
        pages, token = [], None
        while True:
            args = dict(kw)
            if token:
                args["ContinuationToken"] = token
            r = self.s3.list_objects_v2(Bucket=bucket or self.bucket, **args)
            pages.append(r)
            self.assertEqual(r["KeyCount"], len(r.get("Contents", [])) + len(r.get("CommonPrefixes", [])))
            if not r["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", r)
                return pages
            token = r["NextContinuationToken"]
            self.assertTrue(token)
            self.assertLess(len(pages), 100, "pagination does not terminate")

    def test_v2_full_listing(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket)
        self.assertEqual([c["Key"] for c in r["Contents"]], sorted(self.KEYS))
        self.assertFalse(r["IsTruncated"])
        self.assertEqual(r["KeyCount"], len(self.KEYS))
        self.assertEqual(r["MaxKeys"], 1000)
        c0 = r["Contents"][0]
        self.assertEqual(c0["Size"], len(c0["Key"]))
        self.assertEqual(c0["ETag"], f'"{md5_hex(c0["Key"].encode())}"')
        self.assertEqual(c0["StorageClass"], "STANDARD")
        self.assertIsInstance(c0["LastModified"], datetime.datetime)

    def test_v2_prefix_delimiter(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/")
        self.assertEqual([c["Key"] for c in r["Contents"]], [f"k{i:02d}" for i in range(10)] + ["z"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["dir1/", "dir2/", "dir3/"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="dir", Delimiter="/")
        self.assertNotIn("Contents", r)
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["dir1/", "dir2/", "dir3/"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="dir3/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["dir3/x/"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="dir1/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["dir1/a", "dir1/b"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="nothing-here")
        self.assertEqual((r["KeyCount"], r.get("Contents")), (0, None))
        # a delimiter other than '/'
        r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="1")
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["dir1", "k01"])

    def test_v2_paging_with_delimiter(self):
        pages = self.page_all_v2(Delimiter="/", MaxKeys=3)
        keys = [c["Key"] for p in pages for c in p.get("Contents", [])]
        prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
        self.assertEqual(keys, [f"k{i:02d}" for i in range(10)] + ["z"])
        self.assertEqual(prefixes, ["dir1/", "dir2/", "dir3/"])
        self.assertEqual(len(pages), 5)
        for p in pages:
            self.assertLessEqual(p["KeyCount"], 3)

    def test_v2_paging_and_start_after(self):
        pages = self.page_all_v2(MaxKeys=4)
        self.assertEqual([c["Key"] for p in pages for c in p.get("Contents", [])], sorted(self.KEYS))
        self.assertEqual(len(pages), 4)
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="k05", MaxKeys=2)
        self.assertEqual([c["Key"] for c in r["Contents"]], ["k06", "k07"])
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["StartAfter"], "k05")
        r2 = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="k05", ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([c["Key"] for c in r2["Contents"]], ["k08", "k09", "z"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="zzz")
        self.assertEqual(r["KeyCount"], 0)
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="dir1/a", Prefix="dir")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["dir1/b", "dir2/a", "dir3/x/y"])

    def test_v2_max_keys_zero(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=0)
        self.assertEqual(r["KeyCount"], 0)
        self.assertNotIn("Contents", r)

    def test_v1_marker(self):
        r = self.s3.list_objects(Bucket=self.bucket, Marker="k03", MaxKeys=2)
        self.assertEqual([c["Key"] for c in r["Contents"]], ["k04", "k05"])
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["Marker"], "k03")
        self.assertIn("Owner", r["Contents"][0])
        # page through with delimiter: NextMarker is returned
        keys, prefixes, marker, n = [], [], "", 0
        while True:
            r = self.s3.list_objects(Bucket=self.bucket, Delimiter="/", MaxKeys=2, Marker=marker)
            keys += [c["Key"] for c in r.get("Contents", [])]
            prefixes += [c["Prefix"] for c in r.get("CommonPrefixes", [])]
            n += 1
            if not r["IsTruncated"]:
                break
            self.assertIn("NextMarker", r, "V1 with a delimiter must return NextMarker when truncated")
            marker = r["NextMarker"]
            self.assertLess(n, 50)
        self.assertEqual(keys, [f"k{i:02d}" for i in range(10)] + ["z"])
        self.assertEqual(prefixes, ["dir1/", "dir2/", "dir3/"])

    def test_fetch_owner(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=2)
        self.assertNotIn("Owner", r["Contents"][0])
        r = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=2, FetchOwner=True)
        self.assertTrue(r["Contents"][0]["Owner"]["ID"])

    def test_lexicographic_byte_order(self):
        b = self.bucket_name("order")
        self.s3.create_bucket(Bucket=b)
        keys = ["a", "A", "b", "B", "_", "~", "é", "z", "\uFFFD", "\U0001F642", "a/b", "a-b", "a0", "a.b", "0", " ",
                "ab", "aa", "a\u00ff", "a\u0100"]
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=b"")
        expected = sorted(keys, key=lambda k: k.encode("utf-8"))
        got = [c["Key"] for p in self.page_all_v2(bucket=b, MaxKeys=3) for c in p.get("Contents", [])]
        self.assertEqual(got, expected)

    def test_encoding_type_url(self):
        b = self.bucket_name("enc")
        self.s3.create_bucket(Bucket=b)
        keys = ["sp ace/x", "plus+/y", "ctl\x01char", "per%cent", "ünï/日本", "amp&lt;", "nl\nkey"]
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=b"")
        r = self.s3.list_objects_v2(Bucket=b, EncodingType="url")
        self.assertEqual(r.get("EncodingType"), "url")
        raw = [c["Key"] for c in r["Contents"]]
        for k in raw:
            self.assertFalse(any(ord(ch) < 0x20 or ord(ch) > 0x7e for ch in k), f"not URL-encoded: {k!r}")
            self.assertNotIn(" ", k)
        self.assertEqual(sorted(urllib.parse.unquote_plus(k) for k in raw), sorted(keys))
        r = self.s3.list_objects_v2(Bucket=b, EncodingType="url", Delimiter="/", Prefix="")
        self.assertEqual(sorted(urllib.parse.unquote_plus(p["Prefix"]) for p in r["CommonPrefixes"]),
                         ["plus+/", "sp ace/", "ünï/"])
        r = self.s3.list_objects(Bucket=b, EncodingType="url")
        self.assertEqual(sorted(urllib.parse.unquote_plus(c["Key"]) for c in r["Contents"]), sorted(keys))
        # and boto3's own (auto) url decoding gives the keys back
        self.assertEqual(sorted(c["Key"] for c in self.s3.list_objects_v2(Bucket=b)["Contents"]), sorted(keys))

    def test_list_with_bob_denied(self):
        bob = harness.boto_client(self.srv, user=BOB)
        self.assertS3Error("AccessDenied", 403, bob.list_objects_v2, Bucket=self.bucket)
        self.assertS3Error("AccessDenied", 403, bob.get_object, Bucket=self.bucket, Key="k00")
        self.assertS3Error("AccessDenied", 403, bob.put_object, Bucket=self.bucket, Key="bob", Body=b"x")


# ============================================================================================ addressing / auth / errors


class AddressingTests(Base):
    def test_virtual_hosted_style(self):
        v = harness.boto_client(self.srv, addressing="virtual", endpoint=f"http://localhost:{self.srv.s3_port}")
        sent = capture_headers(v, "before-send.s3")
        name = self.bucket_name("vhost")
        v.create_bucket(Bucket=name)
        self.assertTrue(urllib.parse.urlsplit(sent[-1]["_url"]).hostname == f"{name}.localhost",
                        "test precondition: virtual-hosted request")
        data = os.urandom(1000)
        v.put_object(Bucket=name, Key="dir/obj one", Body=data)
        self.assertEqual(v.get_object(Bucket=name, Key="dir/obj one")["Body"].read(), data)
        self.assertEqual([c["Key"] for c in v.list_objects_v2(Bucket=name)["Contents"]], ["dir/obj one"])
        self.assertEqual(v.head_object(Bucket=name, Key="dir/obj one")["ContentLength"], 1000)
        # visible path-style too
        self.assertEqual(self.get_bytes("dir/obj one", bucket=name)[0], data)
        self.assertS3Error("NoSuchKey", 404, v.get_object, Bucket=name, Key="missing")
        v.delete_object(Bucket=name, Key="dir/obj one")
        v.delete_bucket(Bucket=name)
        self.assertEqual(client_error(self.s3.head_bucket, Bucket=name)[1], 404)


class AuthTests(Base):
    def test_wrong_secret(self):
        c = harness.boto_client(self.srv, secret="not-the-secret")
        self.assertS3Error("SignatureDoesNotMatch", 403, c.list_buckets)
        self.assertS3Error("SignatureDoesNotMatch", 403, c.put_object, Bucket=self.bucket, Key="ws", Body=b"x")
        self.assertAbsent("ws")

    def test_unknown_access_key(self):
        c = harness.boto_client(self.srv, user={"access_key": "AKIDNOBODY", "secret_key": "whatever"})
        self.assertS3Error("InvalidAccessKeyId", 403, c.list_buckets)
        self.assertS3Error("InvalidAccessKeyId", 403, c.get_object, Bucket=self.bucket, Key="k")

    def test_anonymous_denied(self):
        from botocore import UNSIGNED
        from botocore.config import Config
        import boto3 as b3
        c = b3.session.Session().client("s3", endpoint_url=self.srv.endpoint, region_name="us-east-1",
                                        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                                      retries={"total_max_attempts": 1}))
        self.put("anon", b"secret")
        self.assertS3Error("AccessDenied", 403, c.get_object, Bucket=self.bucket, Key="anon")
        self.assertS3Error("AccessDenied", 403, c.put_object, Bucket=self.bucket, Key="anon2", Body=b"x")
        self.assertAbsent("anon2")

    def test_both_users_work(self):
        bob = harness.boto_client(self.srv, user=BOB)
        name = self.bucket_name("bob")
        bob.create_bucket(Bucket=name)
        bob.put_object(Bucket=name, Key="k", Body=b"bob's")
        self.assertEqual(bob.get_object(Bucket=name, Key="k")["Body"].read(), b"bob's")

    def test_request_time_too_skewed(self):
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        path = harness.object_path(self.bucket, "skew")
        hdrs, *_ = harness.sign_v4("GET", self.srv.host, path, (), {}, harness.EMPTY_SHA256, now=past)
        r = harness.http_request(self.srv, "GET", path, hdrs, b"")
        self.assertEqual((r.status, r.error().get("Code")), (403, "RequestTimeTooSkewed"), r)

    def test_signed_payload_hash_mismatch(self):
        r = harness.signed_request(self.srv, "PUT", self.bucket, "sha-mismatch", body=b"actual body",
                                   payload_hash=hashlib.sha256(b"other body").hexdigest())
        self.assertEqual((r.status, r.error().get("Code")), (400, "XAmzContentSHA256Mismatch"), r)
        self.assertAbsent("sha-mismatch")

    def test_unsigned_payload(self):
        r = harness.signed_request(self.srv, "PUT", self.bucket, "unsigned", body=b"unsigned payload",
                                   payload_hash=harness.UNSIGNED)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.get_bytes("unsigned")[0], b"unsigned payload")


class PresignTests(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # boto3 presigns with SigV2 query auth unless told otherwise; Ember speaks SigV4 (as do current SDKs).
        cls.pre = harness.boto_client(cls.srv, signature_version="s3v4")

    def urlopen(self, url, method="GET", data=None, headers=None):
        req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def test_presigned_get_put_boto(self):
        data = os.urandom(4000)
        url = self.pre.generate_presigned_url("put_object", Params={"Bucket": self.bucket, "Key": "pre/put"},
                                             ExpiresIn=300)
        st, body, _ = self.urlopen(url, "PUT", data)
        self.assertEqual(st, 200, body)
        url = self.pre.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "pre/put"},
                                             ExpiresIn=300)
        st, body, hdrs = self.urlopen(url)
        self.assertEqual((st, body), (200, data))
        self.assertEqual(hdrs.get("ETag"), f'"{md5_hex(data)}"')
        url = self.pre.generate_presigned_url("get_object", Params={
            "Bucket": self.bucket, "Key": "pre/put", "ResponseContentDisposition": "attachment; filename=a.bin"},
            ExpiresIn=300)
        st, body, hdrs = self.urlopen(url)
        self.assertEqual((st, hdrs.get("Content-Disposition")), (200, "attachment; filename=a.bin"))

    def test_presigned_sigv2_boto_default(self):
        # boto3's generate_presigned_url without signature_version makes SigV2 query URLs
        # (AWSAccessKeyId/Signature/Expires); unmodified scripts use them, so Ember accepts them.
        v2 = harness.boto_client(self.srv)
        key = "pre/v2 ü+x"
        data = os.urandom(3000)
        # SigV2 signs Content-Type, so the uploader sends the one it presigned.
        url = v2.generate_presigned_url("put_object", ExpiresIn=300, Params={
            "Bucket": self.bucket, "Key": key, "ContentType": "application/octet-stream"})
        self.assertIn("AWSAccessKeyId=", url)
        st, body, _ = self.urlopen(url, "PUT", data, {"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 200, body)
        url = v2.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=300)
        st, body, _ = self.urlopen(url)
        self.assertEqual((st, body), (200, data))
        st, body, _ = self.urlopen(url.replace("Signature=", "Signature=A"))
        self.assertEqual(st, 403, body)
        self.assertEqual(harness.parse_error(body).get("Code"), "SignatureDoesNotMatch")

    def test_presigned_own_signer_special_key(self):
        key = "pre/ünï code+sp ace"
        self.put(key, b"special")
        st, body, _ = self.urlopen(harness.presign_url(self.srv, "GET", self.bucket, key))
        self.assertEqual((st, body), (200, b"special"))

    def test_expired_presign(self):
        self.put("pre/exp", b"x")
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
        st, body, _ = self.urlopen(harness.presign_url(self.srv, "GET", self.bucket, "pre/exp", expires=60, now=old))
        self.assertEqual(st, 403, body)
        self.assertEqual(harness.parse_error(body).get("Code"), "AccessDenied")

    def test_tampered_presign(self):
        self.put("pre/t1", b"1")
        self.put("pre/t2", b"2")
        url = self.pre.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "pre/t1"})
        st, body, _ = self.urlopen(url.replace("pre/t1", "pre/t2"))
        self.assertEqual((st, harness.parse_error(body).get("Code")), (403, "SignatureDoesNotMatch"))
        url = self.pre.generate_presigned_url("put_object", Params={"Bucket": self.bucket, "Key": "pre/t3"})
        st, body, _ = self.urlopen(url, "GET")  # signed for PUT, used for GET
        self.assertEqual((st, harness.parse_error(body).get("Code")), (403, "SignatureDoesNotMatch"))

    def test_presign_expiry_too_long(self):
        self.put("pre/long", b"x")
        st, body, _ = self.urlopen(harness.presign_url(self.srv, "GET", self.bucket, "pre/long", expires=604801))
        self.assertEqual((st, harness.parse_error(body).get("Code")), (400, "AuthorizationQueryParametersError"))


class ErrorFormatTests(Base):
    def test_error_xml(self):
        r = harness.signed_request(self.srv, "GET", self.bucket, "no/such key")
        self.assertEqual(r.status, 404)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/xml"), r)
        e = r.error()
        self.assertEqual(e.get("_root"), "Error")
        self.assertEqual(e.get("Code"), "NoSuchKey")
        self.assertTrue(e.get("Message"))
        self.assertTrue(e.get("RequestId"))
        self.assertEqual(e.get("RequestId"), r.header("x-amz-request-id"))
        r = harness.signed_request(self.srv, "GET", "ember-missing-bucket", "k")
        e = r.error()
        self.assertEqual((r.status, e.get("Code")), (404, "NoSuchBucket"))

    def test_request_id_on_every_response(self):
        self.put("rid", b"x")
        etag = f'"{md5_hex(b"x")}"'
        reqs = [
            ("GET", None, None, {}), ("GET", self.bucket, None, {}), ("HEAD", self.bucket, None, {}),
            ("PUT", self.bucket, "rid2", {}), ("GET", self.bucket, "rid", {}), ("HEAD", self.bucket, "rid", {}),
            ("HEAD", self.bucket, "missing", {}), ("GET", self.bucket, "rid", {"If-None-Match": etag}),
            ("GET", self.bucket, "rid", {"If-Match": '"nope"'}), ("DELETE", self.bucket, "rid2", {}),
            ("GET", "ember-missing-bucket", None, {}),
        ]
        ids = set()
        for method, b, k, h in reqs:
            with self.subTest(req=(method, b, k, h)):
                r = harness.signed_request(self.srv, method, b, k, headers=h)
                rid = r.header("x-amz-request-id")
                self.assertTrue(rid, f"no x-amz-request-id on {method} {b}/{k} -> {r.status}")
                ids.add(rid)
        self.assertEqual(len(ids), len(reqs), "request ids must be unique")
        # also on auth failures and presigned requests
        r = harness.signed_request(self.srv, "GET", secret="wrong")
        self.assertEqual(r.status, 403)
        self.assertTrue(r.header("x-amz-request-id"))
        st = urllib.request.urlopen(harness.presign_url(self.srv, "GET", self.bucket, "rid"), timeout=30)
        self.assertTrue(st.headers.get("x-amz-request-id"))

    def test_head_errors_have_no_body(self):
        r = harness.signed_request(self.srv, "HEAD", self.bucket, "missing")
        self.assertEqual((r.status, r.body), (404, b""))


if __name__ == "__main__":
    harness.main(timeout=560)
