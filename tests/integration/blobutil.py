"""Glue for the Azure Blob endpoint tests (test_blob_*.py); builds on harness.py.

The target is a real emberd started with its Blob endpoint (harness.Emberd(blob=True)), or, for debugging the
tests themselves, Azurite (Microsoft's emulator; EMBER_BLOB_TARGET=azurite). Tests for things Azurite lacks are
marked @emberd_only and skip there; tests that also need Ember's S3 side (cross-protocol) skip on Azurite.

The Azure SDK for Python is Debian's python3-azure-storage (azure-storage-blob 12.15), installed for
/usr/bin/python3 only: run these files with /usr/bin/python3 (ctest does). Missing SDK / CLI -> the file skips
(exit 77).

Also here: a SharedKey signer for raw http.client requests (bad-input tests), SAS-free helpers, and
`code_of(e)` to read the Azure error code from an SDK exception.
"""

import base64
import datetime
import email.utils
import hashlib
import hmac
import os
import socket
import sys
import unittest
import urllib.parse
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TARGET = os.environ.get("EMBER_BLOB_TARGET", "emberd").strip().lower() or "emberd"
if TARGET not in ("emberd", "azurite"):
    raise SystemExit(f"EMBER_BLOB_TARGET must be emberd or azurite, not {TARGET!r}")
ON_AZURITE = TARGET == "azurite"

# x-ms-version sent by the raw requests: what azure-storage-blob 12.15 sends by default.
API_VERSION = "2021-12-02"


# A bad SharedKey / SAS signature, an expired or not yet valid SAS: Azure answers 403 AuthenticationFailed (the SDK
# raises ClientAuthenticationError). Azurite answers 403 AuthorizationFailure with AuthenticationFailed's message.
AUTH_FAILED_CODES = ("AuthenticationFailed", "AuthorizationFailure") if ON_AZURITE else ("AuthenticationFailed",)


def sdk_available():
    try:
        import azure.storage.blob  # noqa: F401
        return True
    except ImportError:
        return False


def sdk_version():
    import azure.storage.blob
    return azure.storage.blob.__version__


def require_sdk():
    if not sdk_available():
        raise unittest.SkipTest(
            f"azure-storage-blob is not importable by {sys.executable} (Debian's python3-azure-storage is "
            "installed for /usr/bin/python3 by scripts/install-deps: run this file with /usr/bin/python3)")


def emberd_only(reason):
    """Skips a test (or class) when the target is Azurite, with the reason Azurite cannot run it."""
    return unittest.skipIf(ON_AZURITE, f"Azurite: {reason}")


def azurite_skip(reason):
    """Alias of emberd_only used where Azurite behaves differently from Azure (not only lacks a feature)."""
    return emberd_only(reason)


_server = None


def start_blob_server(need_s3=False):
    """Starts the module's target (emberd with [blob], or Azurite) and sets it on harness.ServerTestCase.srv."""
    global _server
    if ON_AZURITE:
        if need_s3:
            raise unittest.SkipTest("cross-protocol tests need Ember's S3 endpoint (EMBER_BLOB_TARGET=azurite)")
        if not harness.azurite_bin():
            raise unittest.SkipTest("azurite not installed (scripts/install-deps puts it in .deps/azurite)")
        _server = harness.Azurite().start()
    else:
        _server = harness.Emberd(blob=True).start()
    harness.ServerTestCase.srv = _server
    return _server


def stop_blob_server():
    """Stops the module's target; raises if emberd did not exit 0 on SIGTERM."""
    global _server
    if _server is None:
        return
    srv, _server = _server, None
    code = srv.stop()
    if not ON_AZURITE and code not in (None, 0):
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


def code_of(e):
    """The Azure error code of an SDK exception as a plain str (the SDK gives a StorageErrorCode or a str)."""
    c = getattr(e, "error_code", None)
    return getattr(c, "value", c)


def status_of(e):
    return getattr(e, "status_code", None) or getattr(getattr(e, "response", None), "status_code", None)


class BlobTestCase(harness.ServerTestCase):
    """Base class: SDK clients for the module's target, unique container names, error assertions."""

    @classmethod
    def service(cls, account=None, credential=None, **kw):
        """BlobServiceClient for an account (harness.BLOB_ACCOUNTS entry; default devstoreaccount1).
        credential=None -> SharedKey from the account; else e.g. a SAS token string."""
        from azure.storage.blob import BlobServiceClient
        opts = dict(retry_total=1, retry_backoff_factor=0.2, connection_timeout=10, read_timeout=120)
        opts.update(kw)
        acct = account or harness.BLOB_ALICE
        if credential is None:
            credential = {"account_name": acct["name"], "account_key": acct["key"]}
        return BlobServiceClient(cls.srv.blob_endpoint_of(acct["name"]), credential=credential, **opts)

    @classmethod
    def container(cls, tag="c", metadata=None, account=None, **kw):
        """Creates a fresh container; returns its ContainerClient (from a service with the given client kw)."""
        name = cls.bucket_name(tag)
        svc = cls.service(account=account, **kw)
        return svc.create_container(name, metadata=metadata)

    def assertAzError(self, fn, code, status=None, exc=None):
        """Expects fn() to raise an SDK error with this Azure error code (and status / exception class)."""
        from azure.core.exceptions import HttpResponseError
        try:
            fn()
        except HttpResponseError as e:
            self.assertEqual(code_of(e), code, f"error code; status {status_of(e)}; {e.message[:400]}")
            if status is not None:
                self.assertEqual(status_of(e), status, f"HTTP status of {code}")
            if exc is not None:
                self.assertIsInstance(e, exc)
            return e
        self.fail(f"succeeded; {code} was expected")

    def assertAuthFailed(self, fn):
        """403 AuthenticationFailed (ClientAuthenticationError); see AUTH_FAILED_CODES for Azurite."""
        from azure.core.exceptions import ClientAuthenticationError
        e = self.assertStatus(fn, 403)
        self.assertIn(code_of(e), AUTH_FAILED_CODES, e.message[:400])
        if code_of(e) == "AuthenticationFailed":
            self.assertIsInstance(e, ClientAuthenticationError)
        return e

    def assertStatus(self, fn, status, exc=None):
        from azure.core.exceptions import HttpResponseError
        try:
            fn()
        except HttpResponseError as e:
            self.assertEqual(status_of(e), status, f"{code_of(e)}: {e.message[:400]}")
            if exc is not None:
                self.assertIsInstance(e, exc)
            return e
        self.fail(f"succeeded; HTTP {status} was expected")


def assertOtherAccountsContainer(tc, fn):
    """Another account's container: Azure (separate namespaces, and Azurite) answers 404 ContainerNotFound; Ember,
    whose container names are global S3 bucket names, may answer 403 AuthorizationFailure. Never its data."""
    from azure.core.exceptions import HttpResponseError
    try:
        fn()
    except HttpResponseError as e:
        tc.assertIn((status_of(e), code_of(e)), ((404, "ContainerNotFound"), (403, "AuthorizationFailure")),
                     e.message[:300])
        return e
    tc.fail("another account's container was readable")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def block_id(i, width=6):
    """A fixed-length block id (all ids of a blob must be the same length)."""
    return f"blk-{i:0{width}d}"


# ----------------------------------------------------------------------------------------------- SharedKey


def http_date(dt=None):
    return email.utils.format_datetime(dt or utcnow(), usegmt=True)


def sharedkey_sign(account, method, path, query, headers):
    """Authorization value for a request. path: the raw (percent-encoded) request path; query: list of
    (key, unencoded value); headers: dict (names any case). Mirrors azure-storage-blob's SharedKey policy."""
    h = {k.lower(): str(v) for k, v in headers.items() if v is not None and str(v) != ""}
    if h.get("content-length") == "0":
        del h["content-length"]
    std = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
           "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]
    sts = method + "\n" + "\n".join(h.get(x, "") for x in std) + "\n"
    for k in sorted(k for k in h if k.startswith("x-ms-")):
        sts += f"{k}:{h[k]}\n"
    sts += "/" + account["name"] + path
    grouped = {}
    for k, v in query:
        grouped.setdefault(k.lower(), []).append(v)
    for k in sorted(grouped):
        sts += "\n" + k + ":" + ",".join(grouped[k])
    sig = base64.b64encode(hmac.new(base64.b64decode(account["key"]), sts.encode(), hashlib.sha256).digest())
    return f"SharedKey {account['name']}:{sig.decode()}"


def blob_path(srv, container=None, blob=None, account=None):
    """Path-style request path /<account>[/<container>[/<blob>]], percent-encoded like the SDK does."""
    p = "/" + (account or harness.BLOB_ALICE)["name"]
    if container is not None:
        p += "/" + urllib.parse.quote(container, safe="")
        if blob is not None:
            p += "/" + urllib.parse.quote(blob, safe="/~")
    return p


def signed_request_parts(srv, method, container=None, blob=None, query=(), headers=None, content_length=0,
                         account=None, sign=True, key=None, version=API_VERSION, path=None):
    """(request target, headers) of a SharedKey-signed Blob request whose body will be content_length bytes
    (None: no Content-Length header). For raw-socket tests that send the body themselves."""
    account = dict(account or harness.BLOB_ALICE)
    if key is not None:
        account["key"] = key
    if path is None:
        path = blob_path(srv, container, blob, account)
    hdrs = {"x-ms-date": http_date(), "x-ms-client-request-id": str(uuid.uuid4())}
    if version is not None:
        hdrs["x-ms-version"] = version
    if content_length is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                              for k in (headers or {})):
        hdrs["Content-Length"] = str(content_length)
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    if sign:
        hdrs["Authorization"] = sharedkey_sign(account, method, path, list(query), hdrs)
    hdrs.setdefault("Host", srv.blob_host)
    qs = urllib.parse.urlencode(list(query), quote_via=urllib.parse.quote)
    return path + ("?" + qs if qs else ""), hdrs


def blob_request(srv, method, container=None, blob=None, query=(), headers=None, body=b"", account=None,
                 sign=True, key=None, version=API_VERSION, timeout=60, path=None):
    """A raw request to the Blob endpoint, SharedKey-signed unless sign=False. key overrides the account key
    (to sign with a wrong one). version=None sends no x-ms-version; a header value None removes that header
    (e.g. {"x-ms-date": None}). Returns harness.Response."""
    target, hdrs = signed_request_parts(srv, method, container, blob, query, headers,
                                        None if body is None else len(body), account, sign, key, version, path)
    return harness.http_request(srv, method, target, hdrs, body, timeout=timeout, port=srv.blob_port)


def error_code(resp):
    """x-ms-error-code header of a raw response (None if absent)."""
    return resp.header("x-ms-error-code")


def body_code(resp):
    return harness.parse_error(resp.body).get("Code")


def raw_socket(srv, timeout=30):
    return socket.create_connection(("127.0.0.1", srv.blob_port), timeout=timeout)


def request_head_bytes(method, target, headers):
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()

