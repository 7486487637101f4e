#!/usr/bin/python3
"""Copies from a remote source: Put Blob From URL, Copy Blob (sync and async) and Put Block From URL whose
x-ms-copy-source is on another server.

Two emberd instances: SOURCE holds the blobs, DEST (the module's server) copies them; DEST's [blob]
copy_source_hosts lists SOURCE's Blob endpoint (127.0.0.1:<port>) and a small in-process HTTP server (PROBE) that
records the requests it gets and can misbehave (redirects, no Content-Length, truncated bodies, source conditions).
Both emberd serve the same accounts and keys (harness.BLOB_ACCOUNTS), so a SAS made by the Azure SDK for SOURCE's
blob verifies there, and a source URL on SOURCE must be fetched, never resolved in DEST's own namespace.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_copy_remote.py
"""

import base64
import datetime
import hashlib
import http.server
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from blobutil import code_of, status_of, utcnow  # noqa: E402
from harness import MiB  # noqa: E402

SOURCE = None  # the second emberd: where remote sources live
PROBE = None   # scripted HTTP source (ProbeServer)
DEST = None


# ----------------------------------------------------------------------------------------------- probe server


class ProbeServer:
    """A tiny HTTP/1.1 source on 127.0.0.1 that records every request (path, headers) and serves:
      /data/<name>   PROBE_DATA, 200 or 206 for a Range, with Content-Type/-Language, Content-MD5, x-ms-meta-*,
                     ETag "probe-etag" (If-Match with another value -> 412)
      /redirect      302 to /data/x
      /chunked       200 with Transfer-Encoding: chunked (no Content-Length)
      /truncated     Content-Length: 100000, then 10 bytes and a close
      /status/<n>    status n with x-ms-error-code ProbeError
    """

    DATA = harness.random_bytes(200 * 1024 + 3, seed=7)

    def __init__(self):
        probe = self
        self.requests = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                with probe.lock:
                    probe.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                path = urllib.parse.urlsplit(self.path).path
                if path.startswith("/data/"):
                    return self.data()
                if path == "/redirect":
                    return self.reply(302, b"", {"Location": "/data/x"})
                if path == "/chunked":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"5\r\nhello\r\n0\r\n\r\n")
                    return
                if path == "/truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"0123456789")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                m = re.match(r"^/status/(\d+)$", path)
                if m:
                    return self.reply(int(m.group(1)), b"", {"x-ms-error-code": "ProbeError"})
                return self.reply(404, b"")

            def data(self):
                if_match = self.headers.get("If-Match")
                if if_match is not None and if_match.strip('"') != "probe-etag":
                    return self.reply(412, b"", {"x-ms-error-code": "ConditionNotMet"})
                body = ProbeServer.DATA
                headers = {"Content-Type": "text/x-probe", "Content-Language": "de", "ETag": '"probe-etag"',
                           "x-ms-meta-probe": "yes", "x-ms-blob-type": "BlockBlob"}
                rng = self.headers.get("Range")
                if rng:
                    m = re.match(r"^bytes=(\d+)-(\d*)$", rng)
                    first = int(m.group(1))
                    last = min(int(m.group(2)) if m.group(2) else len(body) - 1, len(body) - 1)
                    if first >= len(body):
                        return self.reply(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                    part = body[first:last + 1]
                    headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
                    return self.reply(206, part, headers)
                headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
                return self.reply(200, body, headers)

            def reply(self, status, body, headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self, prefix):
        """Headers of the requests whose path starts with prefix, oldest first."""
        with self.lock:
            return [h for p, h in self.requests if p.startswith(prefix)]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ----------------------------------------------------------------------------------------------- servers


def allow_copy_sources(srv, hosts):
    """Adds [blob] copy_source_hosts to a not yet started Emberd's config. (harness writes the [blob] table itself,
    and TOML does not allow a table to be opened twice, so extra_config cannot add keys to it.)"""
    with open(srv.config_path) as f:
        text = f.read()
    marker = "\n[blob]\nenabled = true\n"
    assert marker in text, "harness config layout changed"
    listed = ", ".join(f'"{h}"' for h in hosts)
    text = text.replace(marker, marker + f"copy_source_hosts = [{listed}]\ncopy_source_read_timeout_ms = 5000\n", 1)
    with open(srv.config_path, "w") as f:
        f.write(text)


def setUpModule():
    global SOURCE, PROBE, DEST
    blobutil.require_sdk()
    if blobutil.ON_AZURITE:
        raise unittest.SkipTest("copies between two emberd instances")
    SOURCE = harness.Emberd(blob=True).start()
    PROBE = ProbeServer()
    DEST = harness.Emberd(blob=True)
    allow_copy_sources(DEST, [f"127.0.0.1:{SOURCE.blob_port}", f"127.0.0.1:{PROBE.port}"])
    DEST.start()
    harness.ServerTestCase.srv = DEST


def tearDownModule():
    for srv in (DEST, SOURCE):
        if srv is not None:
            code = srv.stop()
            if code not in (None, 0):
                raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")
    if PROBE is not None:
        PROBE.stop()


_source_service = None


def source_service():
    """A SharedKey client of SOURCE (one per module)."""
    global _source_service
    if _source_service is None:
        from azure.storage.blob import BlobServiceClient
        _source_service = BlobServiceClient(
            SOURCE.blob_endpoint, credential={"account_name": harness.BLOB_ACCOUNT, "account_key": harness.BLOB_KEY},
            retry_total=0, connection_timeout=10, read_timeout=120)
    return _source_service


def sas_url(bc, permission="r", expiry_s=3600, start=None):
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas
    sas = generate_blob_sas(bc.account_name, bc.container_name, bc.blob_name, account_key=harness.BLOB_KEY,
                            permission=BlobSasPermissions.from_string(permission),
                            expiry=utcnow() + datetime.timedelta(seconds=expiry_s), start=start)
    return f"{bc.url}?{sas}"


def wait_copy(bc, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        p = bc.get_blob_properties()
        if p.copy.status != "pending" or time.monotonic() > deadline:
            return p
        time.sleep(0.2)


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


class RemoteCopyTestCase(blobutil.BlobTestCase):
    """DEST clients never retry: a 5xx CannotVerifyCopySource must be seen once, not hidden by retries."""

    @classmethod
    def service(cls, account=None, credential=None, **kw):
        kw.setdefault("retry_total", 0)
        return super().service(account=account, credential=credential, **kw)

    def assertSourceError(self, fn, status):
        e = self.assertAzError(fn, "CannotVerifyCopySource", status)
        return e

    def raw_copy(self, container, blob, headers, query=()):
        """A raw SharedKey-signed PUT to DEST (for headers the SDK does not send)."""
        return blobutil.blob_request(self.srv, "PUT", container, blob, query=query, headers=headers, body=b"")


# ----------------------------------------------------------------------------------------------- emberd -> emberd


class RemoteEmberdTests(RemoteCopyTestCase):
    @classmethod
    def setUpClass(cls):
        from azure.storage.blob import ContentSettings
        cls.src_cc = source_service().create_container(cls.bucket_name("rsrc"))
        cls.data = harness.random_bytes(300 * 1024 + 5)
        cls.src = cls.src_cc.get_blob_client("source.bin")
        cls.src.upload_blob(cls.data, metadata={"Origin": "remote", "lower": "v"},
                            content_settings=ContentSettings(content_type="image/png", content_language="fr",
                                                             cache_control="max-age=9"))
        cls.cc = cls.container("rdst")

    def test_put_blob_from_url(self):
        from azure.storage.blob import ContentSettings
        dst = self.cc.get_blob_client("from-url.bin")
        r = dst.upload_blob_from_url(sas_url(self.src))
        self.assertEqual(bytes(r["content_md5"]), hashlib.md5(self.data).digest())
        self.assertEqual(dst.download_blob().readall(), self.data)
        p = dst.get_blob_properties()
        self.assertEqual(p.blob_type, "BlockBlob")
        self.assertEqual(p.content_settings.content_type, "image/png")  # the source's properties
        self.assertEqual(p.content_settings.content_language, "fr")
        self.assertEqual(p.content_settings.cache_control, "max-age=9")
        self.assertEqual(bytes(p.content_settings.content_md5), hashlib.md5(self.data).digest())
        self.assertEqual(p.metadata, {})  # metadata is not copied by Put Blob From URL
        # overwrite=False (If-None-Match: *) on an existing blob: refused before anything is fetched
        self.assertAzError(lambda: dst.upload_blob_from_url(sas_url(self.src)), "BlobAlreadyExists", 409)
        dst.upload_blob_from_url(sas_url(self.src), overwrite=True, include_source_blob_properties=False,
                                 content_settings=ContentSettings(content_type="text/plain"))
        p = dst.get_blob_properties()
        self.assertEqual(p.content_settings.content_type, "text/plain")
        self.assertIsNone(p.content_settings.content_language)
        self.assertEqual(dst.download_blob().readall(), self.data)
        # metadata given with the request is stored (SDK 12.15 cannot send it on this call: raw request)
        r = self.raw_copy(self.cc.container_name, "from-url.bin",
                          {"x-ms-copy-source": sas_url(self.src), "x-ms-blob-type": "BlockBlob",
                           "x-ms-meta-Given": "1", "x-ms-blob-content-type": "text/csv"})
        self.assertEqual(r.status, 201, r.body[:300])
        p = dst.get_blob_properties()
        self.assertEqual(p.metadata, {"Given": "1"})
        self.assertEqual(p.content_settings.content_type, "text/csv")  # the request's header wins
        self.assertEqual(p.content_settings.content_language, "fr")     # the rest from the source

    def test_copy_blob_sync(self):
        dst = self.cc.get_blob_client("copy-sync.bin")
        url = sas_url(self.src)
        r = dst.start_copy_from_url(url, requires_sync=True)
        self.assertEqual(r["copy_status"], "success")
        self.assertTrue(r["copy_id"])
        self.assertEqual(dst.download_blob().readall(), self.data)
        p = dst.get_blob_properties()
        self.assertEqual(p.copy.status, "success")
        self.assertEqual(p.copy.id, r["copy_id"])
        self.assertEqual(p.copy.progress, f"{len(self.data)}/{len(self.data)}")
        self.assertEqual(p.copy.source, url.split("?")[0])  # recorded without the SAS
        self.assertEqual(p.metadata, {"Origin": "remote", "lower": "v"})  # Copy Blob copies metadata
        self.assertEqual(p.content_settings.content_type, "image/png")
        self.assertEqual(p.content_settings.cache_control, "max-age=9")
        self.assertEqual(bytes(p.content_settings.content_md5), hashlib.md5(self.data).digest())

    def test_copy_blob_async(self):
        dst = self.cc.get_blob_client("copy-async.bin")
        r = dst.start_copy_from_url(sas_url(self.src), metadata={"New": "1"})
        self.assertIn(r["copy_status"], ("success", "pending"))
        p = wait_copy(dst)
        self.assertEqual(p.copy.status, "success")
        self.assertEqual(p.copy.id, r["copy_id"])
        self.assertEqual(p.metadata, {"New": "1"})  # given metadata replaces the source's
        self.assertEqual(dst.download_blob().readall(), self.data)
        listed = list(self.cc.list_blobs(name_starts_with="copy-async", include=["copy"]))
        self.assertEqual(listed[0].copy.status, "success")
        self.assertAzError(lambda: dst.abort_copy(r["copy_id"]), "NoPendingCopyOperation", 409)

    def test_copy_append_blob_stays_append(self):
        app = self.src_cc.get_blob_client("append-src")
        app.create_append_blob()
        app.append_block(b"one")
        app.append_block(b"two")
        dst = self.cc.get_blob_client("append-dst")
        dst.start_copy_from_url(sas_url(app))
        self.assertEqual(wait_copy(dst).blob_type, "AppendBlob")
        dst.append_block(b"three")
        self.assertEqual(dst.download_blob().readall(), b"onetwothree")

    def test_put_block_from_url_with_ranges(self):
        from azure.storage.blob import BlobBlock
        big = harness.random_bytes(MiB + 3)
        src = self.src_cc.get_blob_client("blocks-src")
        src.upload_blob(big)
        url = sas_url(src)
        dst = self.cc.get_blob_client("blocks-dst")
        ranges = [(0, 400 * 1024), (400 * 1024, 1), (400 * 1024 + 1, len(big) - 400 * 1024 - 1)]
        ids = []
        for i, (off, length) in enumerate(ranges):
            bid = blobutil.block_id(i)
            dst.stage_block_from_url(bid, url, source_offset=off, source_length=length)
            ids.append(bid)
        # the same range twice, out of order, plus a whole-blob block
        dst.stage_block_from_url(blobutil.block_id(9), url)
        blocks = dst.get_block_list("uncommitted")[1]
        self.assertEqual(sorted(b.size for b in blocks), sorted([length for _, length in ranges] + [len(big)]))
        dst.commit_block_list([BlobBlock(block_id=b) for b in ids + [blobutil.block_id(9)]])
        self.assertEqual(harness.sha256_bytes(dst.download_blob().readall()), harness.sha256_bytes(big + big))
        # a range past the end: the source answers 416
        e = self.assertSourceError(lambda: dst.stage_block_from_url(blobutil.block_id(8), url,
                                                                    source_offset=len(big) + 10, source_length=5),
                                   416)
        self.assertIn("CannotVerifyCopySource", e.message)

    def test_same_names_on_both_servers_are_not_confused(self):
        """Both servers serve devstoreaccount1: the source's host, not its account, decides where it is."""
        name = self.bucket_name("same")
        source_service().create_container(name).upload_blob("same.txt", b"on the source")
        here = self.service().create_container(name)
        here.upload_blob("same.txt", b"on the destination")
        remote = source_service().get_blob_client(name, "same.txt")
        got = here.get_blob_client("from-remote.txt")
        got.start_copy_from_url(sas_url(remote), requires_sync=True)
        self.assertEqual(got.download_blob().readall(), b"on the source")
        local = here.get_blob_client("from-local.txt")
        local.start_copy_from_url(here.get_blob_client("same.txt").url)
        self.assertEqual(local.download_blob().readall(), b"on the destination")
        # a loopback alias of this endpoint (same port) is this endpoint too
        alias = here.get_blob_client("same.txt").url.replace("127.0.0.1", "localhost", 1)
        local.start_copy_from_url(alias, requires_sync=True)
        self.assertEqual(local.download_blob().readall(), b"on the destination")

    def test_host_not_in_the_allow_list(self):
        dst = self.cc.get_blob_client("refused")
        # the same server under a name the list does not have, and another port of it
        for url in (sas_url(self.src).replace("127.0.0.1", "localhost", 1),
                    sas_url(self.src).replace(f":{SOURCE.blob_port}/", f":{SOURCE.s3_port}/", 1)):
            with self.subTest(url=url.split("?")[0]):
                self.assertSourceError(lambda: dst.upload_blob_from_url(url), 403)
                self.assertSourceError(lambda: dst.start_copy_from_url(url, requires_sync=True), 403)
                self.assertSourceError(lambda: dst.start_copy_from_url(url), 403)
                self.assertSourceError(lambda: dst.stage_block_from_url(blobutil.block_id(0), url), 403)
        self.assertFalse(dst.exists())
        self.assertIn("copy_source_hosts", DEST.log_tail(200))

    def test_missing_remote_blob(self):
        from azure.core.exceptions import ResourceNotFoundError
        missing = self.src_cc.get_blob_client("no-such-blob")
        dst = self.cc.get_blob_client("from-missing")
        e = self.assertSourceError(lambda: dst.upload_blob_from_url(sas_url(missing)), 404)
        self.assertIsInstance(e, ResourceNotFoundError)
        self.assertSourceError(lambda: dst.start_copy_from_url(sas_url(missing)), 404)
        self.assertSourceError(lambda: dst.start_copy_from_url(sas_url(missing), requires_sync=True), 404)
        self.assertSourceError(lambda: dst.stage_block_from_url(blobutil.block_id(0), sas_url(missing)), 404)
        self.assertFalse(dst.exists())
        r = self.raw_copy(self.cc.container_name, "raw-missing",
                          {"x-ms-copy-source": sas_url(missing), "x-ms-blob-type": "BlockBlob"})
        self.assertEqual((r.status, blobutil.error_code(r)), (404, "CannotVerifyCopySource"))
        self.assertEqual(r.header("x-ms-copy-source-status-code"), "404")
        self.assertEqual(r.header("x-ms-copy-source-error-code"), "BlobNotFound")

    def test_bad_sas_on_the_source(self):
        import urllib.parse as up
        dst = self.cc.get_blob_client("from-bad-sas")
        base, qs = sas_url(self.src).split("?", 1)
        q = up.parse_qsl(qs)
        tampered = base + "?" + up.urlencode([(k, ("A" if v[0] != "A" else "B") + v[1:] if k == "sig" else v)
                                              for k, v in q])
        expired = sas_url(self.src, expiry_s=-60, start=utcnow() - datetime.timedelta(hours=1))
        for what, url in (("tampered", tampered), ("expired", expired)):
            with self.subTest(what):
                self.assertSourceError(lambda: dst.upload_blob_from_url(url), 403)
                self.assertSourceError(lambda: dst.start_copy_from_url(url, requires_sync=True), 403)
        # no SAS at all: the source refuses the anonymous read (401 or 403/404 there)
        e = self.assertAzError(lambda: dst.upload_blob_from_url(self.src.url), "CannotVerifyCopySource")
        self.assertIn(status_of(e), (401, 403, 404))
        self.assertFalse(dst.exists())

    def test_large_source_is_byte_exact(self):
        big = harness.random_bytes(40 * MiB + 11)
        src = self.src_cc.get_blob_client("large.bin")
        src.upload_blob(big, max_concurrency=4)
        want = harness.sha256_bytes(big)
        url = sas_url(src)
        dst = self.cc.get_blob_client("large-from-url.bin")
        dst.upload_blob_from_url(url, timeout=300)
        self.assertEqual(dst.get_blob_properties().size, len(big))
        self.assertEqual(harness.sha256_bytes(dst.download_blob(max_concurrency=4).readall()), want)
        copy = self.cc.get_blob_client("large-copy.bin")
        r = copy.start_copy_from_url(url, requires_sync=True, timeout=300)
        self.assertEqual(r["copy_status"], "success")
        self.assertEqual(harness.sha256_bytes(copy.download_blob(max_concurrency=4).readall()), want)
        self.assertServerHealthy()


# ----------------------------------------------------------------------------------------------- scripted source


class ProbeSourceTests(RemoteCopyTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.container("probe")

    def test_source_authorization_version_and_properties(self):
        dst = self.cc.get_blob_client("probe-auth")
        dst.upload_blob_from_url(PROBE.url("/data/auth?sv=1&sig=abc"), source_authorization="Bearer tok-123")
        seen = PROBE.seen("/data/auth")[-1]
        self.assertEqual(seen.get("authorization"), "Bearer tok-123")
        self.assertTrue(seen.get("x-ms-version"))
        self.assertNotIn("range", seen)
        self.assertEqual(PROBE.seen("/data/auth?sv=1&sig=abc")[-1], seen)  # the URL as given, query included
        self.assertEqual(dst.download_blob().readall(), ProbeServer.DATA)
        p = dst.get_blob_properties()
        self.assertEqual(p.content_settings.content_type, "text/x-probe")
        self.assertEqual(p.content_settings.content_language, "de")
        self.assertEqual(bytes(p.content_settings.content_md5), hashlib.md5(ProbeServer.DATA).digest())
        # Copy Blob (sync) passes it too, and takes the source's x-ms-meta-*
        c = self.cc.get_blob_client("probe-copy")
        c.start_copy_from_url(PROBE.url("/data/copy"), requires_sync=True, source_authorization="Bearer tok-456")
        self.assertEqual(PROBE.seen("/data/copy")[-1].get("authorization"), "Bearer tok-456")
        self.assertEqual(c.get_blob_properties().metadata, {"probe": "yes"})
        # only the Bearer scheme is passed on
        r = self.raw_copy(self.cc.container_name, "probe-basic",
                          {"x-ms-copy-source": PROBE.url("/data/basic"), "x-ms-blob-type": "BlockBlob",
                           "x-ms-copy-source-authorization": "Basic dXNlcjpwdw=="})
        self.assertEqual((r.status, blobutil.error_code(r)), (400, "InvalidHeaderValue"))
        self.assertEqual(PROBE.seen("/data/basic"), [])

    def test_put_block_from_url_sends_the_range(self):
        dst = self.cc.get_blob_client("probe-block")
        dst.stage_block_from_url(blobutil.block_id(0), PROBE.url("/data/range"), source_offset=100, source_length=50)
        self.assertEqual(PROBE.seen("/data/range")[-1].get("range"), "bytes=100-149")
        dst.commit_block_list([blobutil.block_id(0)])
        self.assertEqual(dst.download_blob().readall(), ProbeServer.DATA[100:150])

    def test_redirect_is_not_followed(self):
        dst = self.cc.get_blob_client("probe-redirect")
        before = len(PROBE.seen("/data/x"))
        self.assertSourceError(lambda: dst.upload_blob_from_url(PROBE.url("/redirect")), 400)
        self.assertSourceError(lambda: dst.start_copy_from_url(PROBE.url("/redirect"), requires_sync=True), 400)
        self.assertEqual(len(PROBE.seen("/data/x")), before)
        self.assertFalse(dst.exists())

    def test_source_without_content_length_or_truncated(self):
        dst = self.cc.get_blob_client("probe-framing")
        self.assertSourceError(lambda: dst.upload_blob_from_url(PROBE.url("/chunked")), 400)
        self.assertSourceError(lambda: dst.upload_blob_from_url(PROBE.url("/truncated")), 502)
        self.assertSourceError(lambda: dst.stage_block_from_url(blobutil.block_id(0), PROBE.url("/truncated")), 502)
        self.assertFalse(dst.exists())
        self.assertServerHealthy()

    def test_source_status_passes_through(self):
        dst = self.cc.get_blob_client("probe-status")
        for status in (403, 404, 409, 500, 503):
            with self.subTest(status=status):
                self.assertSourceError(lambda: dst.upload_blob_from_url(PROBE.url(f"/status/{status}")), status)
        r = self.raw_copy(self.cc.container_name, "probe-status-raw",
                          {"x-ms-copy-source": PROBE.url("/status/418"), "x-ms-blob-type": "BlockBlob"})
        self.assertEqual((r.status, blobutil.error_code(r)), (418, "CannotVerifyCopySource"))
        self.assertEqual(r.header("x-ms-copy-source-error-code"), "ProbeError")

    def test_source_content_md5(self):
        good = b64md5(ProbeServer.DATA)
        bad = b64md5(b"something else")
        headers = {"x-ms-copy-source": PROBE.url("/data/md5"), "x-ms-blob-type": "BlockBlob"}
        r = self.raw_copy(self.cc.container_name, "probe-md5", dict(headers, **{"x-ms-source-content-md5": bad}))
        self.assertEqual((r.status, blobutil.error_code(r)), (400, "Md5Mismatch"))
        self.assertFalse(self.cc.get_blob_client("probe-md5").exists())
        r = self.raw_copy(self.cc.container_name, "probe-md5", dict(headers, **{"x-ms-source-content-md5": good}))
        self.assertEqual(r.status, 201, r.body[:300])
        # Put Block From URL checks the range's MD5
        dst = self.cc.get_blob_client("probe-md5-block")
        part = ProbeServer.DATA[10:30]
        dst.stage_block_from_url(blobutil.block_id(0), PROBE.url("/data/md5b"), source_offset=10, source_length=20,
                                 source_content_md5=hashlib.md5(part).digest())
        self.assertAzError(lambda: dst.stage_block_from_url(blobutil.block_id(1), PROBE.url("/data/md5b"),
                                                            source_offset=10, source_length=20,
                                                            source_content_md5=hashlib.md5(b"x").digest()),
                           "Md5Mismatch", 400)

    def test_source_conditions_go_to_the_source(self):
        from azure.core import MatchConditions
        dst = self.cc.get_blob_client("probe-cond")
        e = self.assertStatus(lambda: dst.start_copy_from_url(PROBE.url("/data/cond"), requires_sync=True,
                                                              source_etag='"other"',
                                                              source_match_condition=MatchConditions.IfNotModified),
                              412)
        self.assertIn(code_of(e), ("SourceConditionNotMet", "ConditionNotMet"))
        self.assertEqual(PROBE.seen("/data/cond")[-1].get("if-match"), '"other"')
        self.assertFalse(dst.exists())
        dst.start_copy_from_url(PROBE.url("/data/cond"), requires_sync=True, source_etag='"probe-etag"',
                                source_match_condition=MatchConditions.IfNotModified)
        self.assertEqual(dst.download_blob().readall(), ProbeServer.DATA)


if __name__ == "__main__":
    harness.main(timeout=400)
