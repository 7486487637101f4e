#!/usr/bin/env python3
"""Bad input against emberd over raw sockets and http.client: the server answers with a clear S3 error or closes
the connection, never crashes, never stores a partial object and never leaks data files.

Malformed XML (CompleteMultipartUpload, DeleteObjects), bodies shorter than Content-Length, clients vanishing
mid-upload (plain, signed aws-chunked, and an UploadPart), oversize headers, invalid bucket/key names, missing or
bad Content-Length, bad chunked framing, garbage request lines, bad auth headers, pipelining. After every
aborted upload the number of files under <data-dir>/data/ must return to its baseline.

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_bad_input.py
"""

import hashlib
import os
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    harness.start_module_server()


def tearDownModule():
    code = harness.stop_module_server()
    if code not in (None, 0):
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


LEAK_WAIT_S = 15


class BadInputTests(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = harness.boto_client(cls.srv)
        cls.bucket = cls.bucket_name("bad")
        cls.s3.create_bucket(Bucket=cls.bucket)

    def setUp(self):
        self.baseline = self.srv.data_files()

    def tearDown(self):
        self.assertServerHealthy()

    # ------------------------------------------------------------------------------------------- helpers

    def assertNoLeak(self, baseline=None):
        baseline = self.baseline if baseline is None else baseline
        try:
            harness.wait_until(lambda: self.srv.data_files() == baseline, LEAK_WAIT_S, 0.1,
                               what=f"data file count back to baseline {baseline}")
        except AssertionError:
            self.fail(f"leaked data files: {self.srv.data_files()} under {self.srv.data_dir}/data, "
                      f"baseline {baseline}")

    def assertAbsent(self, key):
        r = harness.signed_request(self.srv, "HEAD", self.bucket, key)
        self.assertEqual(r.status, 404, f"{key!r} must not exist: {r}")

    def raw_head(self, method, path, extra=None, payload_hash=harness.UNSIGNED, content_length=None, query=()):
        """Signed request head as bytes (path-style). content_length None = no Content-Length header."""
        hdrs = dict(extra or {})
        signed, *_ = harness.sign_v4(method, self.srv.host, path, query, hdrs, payload_hash)
        qs = harness._canonical_query(query)
        lines = [f"{method} {path}{'?' + qs if qs else ''} HTTP/1.1"]
        for k, v in signed.items():
            lines.append(f"{k}: {v}")
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def send_raw(self, data, timeout=20):
        s = harness.raw_socket(self.srv, timeout)
        try:
            s.sendall(data)
            return harness.read_http_response(s, timeout)
        finally:
            s.close()

    def post_xml(self, query, body, key=None, md5=True):
        hdrs = {"Content-Type": "application/xml"}
        if md5:
            hdrs["Content-MD5"] = harness.md5_b64(body)
        return harness.signed_request(self.srv, "POST", self.bucket, key, query=query, headers=hdrs, body=body)

    # ------------------------------------------------------------------------------------------- sanity

    def test_data_file_accounting_is_observable(self):
        """The leak checks below count files under <data-dir>/data/; make sure a stored object shows there."""
        self.s3.put_object(Bucket=self.bucket, Key="acct", Body=os.urandom(6 * MiB))
        self.assertGreater(self.srv.data_files(), self.baseline,
                           "a 6 MiB object added no file under <data-dir>/data/ (layout differs from the contract?)")
        self.s3.delete_object(Bucket=self.bucket, Key="acct")
        self.assertNoLeak()

    # ------------------------------------------------------------------------------------------- XML

    def test_malformed_xml_complete_multipart(self):
        key = "mx"
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        etag = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up, PartNumber=1, Body=b"p" * 1000)["ETag"]
        bodies = [b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
                  b"this is not xml",
                  b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>"
                  b"</CompleteMultipartUploadXXX>",
                  b"<CompleteMultipartUpload></CompleteMultipartUpload>",
                  b"\x00\xff\xfe<<<>>>",
                  b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a '" + b"A" * 100 + b"'>]><CompleteMultipartUpload>"
                  b"<Part><PartNumber>1</PartNumber><ETag>&a;</ETag></Part></CompleteMultipartUpload>"]
        for i, body in enumerate(bodies):
            with self.subTest(body=body[:40]):
                r = self.post_xml([("uploadId", up)], body, key=key, md5=False)
                if i == len(bodies) - 1:
                    # a DTD with entities: rejected (S3 refuses DTDs); must not be treated as a valid complete
                    self.assertEqual(r.status, 400, r)
                else:
                    self.assertEqual((r.status, r.error().get("Code")), (400, "MalformedXML"), r)
                self.assertAbsent(key)
        # the upload is still intact and completes with good XML
        good = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
                "</CompleteMultipartUpload>").encode()
        r = self.post_xml([("uploadId", up)], good, key=key, md5=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"p" * 1000)

    def test_malformed_xml_delete_objects(self):
        for k in ("keep1", "keep2"):
            self.s3.put_object(Bucket=self.bucket, Key=k, Body=b"x")
        too_many = ("<Delete>" + "".join(f"<Object><Key>keep{i}</Key></Object>" for i in range(1001)) +
                    "</Delete>").encode()
        for body in (b"<Delete><Object><Key>keep1</Key></Object>", b"garbage", b"<Delete></Delete>", too_many,
                     b"<Delete><Object><Key>keep1</Key></Object></Nope>"):
            with self.subTest(body=body[:40]):
                r = self.post_xml([("delete", "")], body)
                self.assertEqual((r.status, r.error().get("Code")), (400, "MalformedXML"), r)
        for k in ("keep1", "keep2"):
            self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key=k)["ContentLength"], 1)

    def test_delete_objects_requires_integrity_header(self):
        self.s3.put_object(Bucket=self.bucket, Key="keep3", Body=b"x")
        body = b"<Delete><Object><Key>keep3</Key></Object></Delete>"
        r = self.post_xml([("delete", "")], body, md5=False)
        self.assertEqual((r.status, r.error().get("Code")), (400, "InvalidRequest"), r)
        r = harness.signed_request(self.srv, "POST", self.bucket, None, query=[("delete", "")], body=body,
                                   headers={"Content-MD5": harness.md5_b64(b"other")})
        self.assertEqual((r.status, r.error().get("Code")), (400, "BadDigest"), r)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="keep3")["ContentLength"], 1)

    # ------------------------------------------------------------------------------------------- truncated bodies

    def test_body_shorter_than_content_length_then_close(self):
        self.s3.put_object(Bucket=self.bucket, Key="short-old", Body=b"old content")
        base = self.srv.data_files()
        for key in ("short-new", "short-old"):
            with self.subTest(key=key):
                path = harness.object_path(self.bucket, key)
                s = harness.raw_socket(self.srv)
                s.sendall(self.raw_head("PUT", path, content_length=MiB) + os.urandom(1000))
                s.shutdown(socket.SHUT_WR)
                status, raw = harness.read_http_response(s, timeout=20)
                s.close()
                # a response is optional (400 IncompleteBody is fine); success is not
                self.assertNotEqual(status, 200, raw[:300])
        self.assertAbsent("short-new")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="short-old")["Body"].read(), b"old content",
                         "a failed overwrite must leave the old object intact")
        self.assertNoLeak(base)

    def test_client_vanishes_mid_upload_50mib(self):
        key = "vanish"
        path = harness.object_path(self.bucket, key)
        s = harness.raw_socket(self.srv)
        s.sendall(self.raw_head("PUT", path, content_length=50 * MiB))
        chunk = os.urandom(MiB)
        for _ in range(20):
            s.sendall(chunk)
        time.sleep(0.3)  # let the server be mid-body
        harness.abort_socket(s)
        self.assertAbsent(key)
        self.assertNoLeak()
        self.assertAbsent(key)

    def test_client_vanishes_mid_signed_chunked_upload(self):
        key = "vanish-chunked"
        data = os.urandom(8 * MiB)
        path = harness.object_path(self.bucket, key)
        enc_len = harness.aws_chunked_length(len(data), 64 * KiB)
        hdrs, seed, amz_date, scope, skey = harness.sign_v4(
            "PUT", self.srv.host, path, (), {"content-encoding": "aws-chunked", "content-length": str(enc_len),
                                             "x-amz-decoded-content-length": str(len(data))}, harness.STREAMING_SIGNED)
        body = harness.aws_chunked_body(data, 64 * KiB, seed, amz_date, scope, skey)
        head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        s = harness.raw_socket(self.srv)
        s.sendall(head.encode() + body[:len(body) // 2])
        time.sleep(0.3)
        harness.abort_socket(s)
        self.assertAbsent(key)
        self.assertNoLeak()

    def test_client_vanishes_mid_upload_part(self):
        key = "vanish-part"
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        path = harness.object_path(self.bucket, key)
        q = [("partNumber", "1"), ("uploadId", up)]
        s = harness.raw_socket(self.srv)
        s.sendall(self.raw_head("PUT", path, content_length=20 * MiB, query=q) + os.urandom(6 * MiB))
        time.sleep(0.3)
        harness.abort_socket(s)
        time.sleep(0.2)
        parts = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=up).get("Parts", [])
        self.assertEqual(parts, [], "a part whose upload was cut must not be listed")
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up)
        self.assertAbsent(key)
        self.assertNoLeak()

    def test_aborted_multipart_leaves_no_files(self):
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp-abort")["UploadId"]
        for n in (1, 2):
            self.s3.upload_part(Bucket=self.bucket, Key="mp-abort", UploadId=up, PartNumber=n, Body=os.urandom(5 * MiB))
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="mp-abort", UploadId=up)
        self.assertNoLeak()

    # ------------------------------------------------------------------------------------------- headers / framing

    def test_oversize_headers(self):
        for desc, extra in (("one 100 KiB header", "X-Big: " + "a" * (100 * KiB) + "\r\n"),
                            ("3000 headers", "".join(f"X-H{i}: v\r\n" for i in range(3000)))):
            with self.subTest(desc):
                req = f"GET /{self.bucket}/k HTTP/1.1\r\nHost: {self.srv.host}\r\n{extra}\r\n".encode()
                s = harness.raw_socket(self.srv)
                try:
                    s.sendall(req)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # closed while we were still sending: allowed
                status, raw = harness.read_http_response(s, timeout=20)
                s.close()
                if status is not None and status != 431:
                    self.assertEqual(status, 400, raw[:300])
                    self.assertIn(b"RequestHeaderSectionTooLarge", raw)

    def test_user_metadata_headers_too_large(self):
        hdrs = {f"x-amz-meta-m{i}": "v" * 200 for i in range(12)}  # 2.4 KB of metadata > 2 KB
        r = harness.signed_request(self.srv, "PUT", self.bucket, "meta-big", headers=hdrs, body=b"x")
        self.assertEqual((r.status, r.error().get("Code")), (400, "MetadataTooLarge"), r)
        self.assertAbsent("meta-big")

    def test_missing_content_length_on_put(self):
        path = harness.object_path(self.bucket, "no-cl")
        status, raw = self.send_raw(self.raw_head("PUT", path, content_length=None))
        self.assertEqual(status, 411, raw[:400])
        self.assertIn(b"<Code>MissingContentLength</Code>", raw)
        self.assertAbsent("no-cl")

    def test_bad_content_length_values(self):
        path = harness.object_path(self.bucket, "bad-cl")
        for cl in ("abc", "-1", "1 2", "99999999999999999999999"):
            with self.subTest(cl=cl):
                head = self.raw_head("PUT", path, content_length=None)
                head = head[:-2] + f"Content-Length: {cl}\r\n\r\n".encode() + b"xyz"
                status, raw = self.send_raw(head)
                self.assertIn(status, (400, None), raw[:300])
        head = self.raw_head("PUT", path, content_length=3)
        head = head[:-2] + b"Content-Length: 5\r\n\r\n" + b"xyzab"
        status, raw = self.send_raw(head)
        self.assertIn(status, (400, None), "conflicting Content-Length headers must be rejected")
        self.assertAbsent("bad-cl")

    def test_entity_too_large_single_put(self):
        path = harness.object_path(self.bucket, "huge")
        # 5 GiB + 1 is over the single-PUT limit: answer without waiting for the body
        status, raw = self.send_raw(self.raw_head("PUT", path, content_length=5 * 1024 * MiB + 1) + b"abc",
                                    timeout=20)
        self.assertEqual(status, 400, raw[:400])
        self.assertIn(b"<Code>EntityTooLarge</Code>", raw)
        self.assertAbsent("huge")

    def test_bad_chunked_framing(self):
        path = harness.object_path(self.bucket, "bad-chunk")
        head = self.raw_head("PUT", path, {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "5",
                                           "x-amz-trailer": "x-amz-checksum-crc32"},
                             payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        head = head[:-2] + b"Transfer-Encoding: chunked\r\n\r\n"
        # HTTP chunk size "zz" is not hex
        status, raw = self.send_raw(head + b"zz\r\nhello\r\n0\r\n\r\n")
        self.assertIn(status, (400, None), raw[:300])
        # valid HTTP chunking, broken aws-chunked inside
        inner = b"not-hex;\r\nhello\r\n0\r\n\r\n"
        status, raw = self.send_raw(head + f"{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n")
        self.assertIn(status, (400, None), raw[:300])
        # declared decoded length disagrees with the payload
        inner = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:" + harness.crc32_b64(b"abc").encode() + b"\r\n\r\n"
        status, raw = self.send_raw(head + f"{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n")
        self.assertIn(status, (400, None), raw[:300])
        self.assertAbsent("bad-chunk")
        self.assertNoLeak()

    def test_garbage_request_lines(self):
        for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1 extra\r\nHost x\r\n\r\n",
                     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(100) + b"\r\n\r\n"):
            with self.subTest(junk=junk[:20]):
                status, raw = self.send_raw(junk)
                self.assertEqual(status, 400, raw[:300])

    def test_invalid_bucket_names_raw(self):
        for name in ("bad!name", "has space", "ünicode", "a", "UPPER", "under_score", "a" * 64,
                     "1.2.3.4", "-dash", "dots..dots", "semi;colon"):
            with self.subTest(name=name):
                r = harness.signed_request(self.srv, "PUT", path=harness.object_path(name))
                self.assertEqual((r.status, r.error().get("Code")), (400, "InvalidBucketName"), r)
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertFalse([n for n in names if "!" in n or " " in n or n == "a"])

    def test_invalid_object_keys_raw(self):
        cases = [("/" + self.bucket + "/" + "k" * 1025, "KeyTooLongError"),
                 ("/" + self.bucket + "/bad%FF%FEutf8", None)]
        for path, code in cases:
            with self.subTest(path=path[:60]):
                r = harness.signed_request(self.srv, "PUT", path=path, body=b"x")
                self.assertEqual(r.status, 400, r)
                got = r.error().get("Code")
                self.assertTrue(got, r)
                if code:
                    self.assertEqual(got, code)
        keys = [c["Key"] for c in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        self.assertFalse([k for k in keys if k.startswith("kkkkkkkk") or k.startswith("bad")], keys)

    def test_bad_authorization_headers(self):
        path = harness.object_path(self.bucket, "auth")
        hdrs, *_ = harness.sign_v4("GET", self.srv.host, path, (), {}, harness.EMPTY_SHA256, region="eu-west-1")
        r = harness.http_request(self.srv, "GET", path, hdrs)
        self.assertEqual((r.status, r.error().get("Code")), (400, "AuthorizationHeaderMalformed"), r)
        for auth in ("AWS4-HMAC-SHA256 garbage", "AWS4-HMAC-SHA256 Credential=AKIDALICE", "Bearer xyz",
                     "AWS4-HMAC-SHA256 Credential=AKIDALICE/2020/us-east-1/s3/aws4_request, SignedHeaders=host, "
                     "Signature=zz"):
            with self.subTest(auth=auth):
                h = dict(hdrs)
                h["authorization"] = auth
                r = harness.http_request(self.srv, "GET", path, h)
                self.assertIn(r.status, (400, 403), r)
                self.assertTrue(r.error().get("Code"), r)

    def test_invalid_content_md5(self):
        for bad in ("not-base64!!", "AAAA"):
            with self.subTest(md5=bad):
                r = harness.signed_request(self.srv, "PUT", self.bucket, "md5", body=b"x",
                                           headers={"Content-MD5": bad})
                self.assertEqual((r.status, r.error().get("Code")), (400, "InvalidDigest"), r)
        self.assertAbsent("md5")

    def test_pipelined_requests(self):
        self.s3.put_object(Bucket=self.bucket, Key="pipe1", Body=b"one")
        self.s3.put_object(Bucket=self.bucket, Key="pipe2", Body=b"two!")
        reqs = b""
        for key in ("pipe1", "pipe2"):
            path = harness.object_path(self.bucket, key)
            reqs += self.raw_head("GET", path, payload_hash=harness.EMPTY_SHA256)
        s = harness.raw_socket(self.srv)
        buf = b""
        try:
            s.sendall(reqs)  # both requests in one write
            s.settimeout(10)
            while buf.count(b"HTTP/1.1 ") < 2 or not buf.endswith(b"two!"):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        finally:
            s.close()
        bodies = []
        rest = buf
        while rest:
            head, sep, rest = rest.partition(b"\r\n\r\n")
            self.assertTrue(sep and head.startswith(b"HTTP/1.1 200"), buf[:400])
            clen = int([ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                        if ln.lower().startswith(b"content-length:")][0])
            bodies.append(rest[:clen])
            rest = rest[clen:]
        self.assertEqual(bodies, [b"one", b"two!"], "pipelined responses must come back complete and in order")

    def test_unknown_method_and_subresource(self):
        r = harness.signed_request(self.srv, "PATCH", self.bucket, "k")
        self.assertIn(r.status, (400, 405, 501), r)
        self.assertTrue(r.header("x-amz-request-id"))

    # ------------------------------------------------------------------------------------------- afterwards

    def test_zz_server_still_serves_and_counts_errors(self):
        data = os.urandom(2 * MiB)
        self.s3.put_object(Bucket=self.bucket, Key="after", Body=data)
        self.assertEqual(hashlib.sha256(self.s3.get_object(Bucket=self.bucket, Key="after")["Body"].read()).digest(),
                         hashlib.sha256(data).digest())
        r = self.post_xml([("delete", "")], b"<Delete><Object>")
        self.assertEqual((r.status, r.error().get("Code")), (400, "MalformedXML"), r)
        text = self.srv.metrics_text()
        names = sorted({ln.split("{")[0].split(" ")[0] for ln in text.splitlines() if ln and not ln.startswith("#")})
        self.assertIn("MalformedXML", text, f"/metrics must count errors by S3 code; it has only {names}")


if __name__ == "__main__":
    harness.main(timeout=260)
