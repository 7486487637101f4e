"""Cold connector (src/cold) against a real Azure Blob peer: Azurite 3.35, started on a free port.

Drives one AzureBlobColdStore through ember_cold_tool (one process per store, commands on stdin, one JSON line
per reply, see src/cold/tool/cold_tool.cc) and checks what it did with the Azure SDK (azure-storage-blob) as an
independent client: byte-exact round trips of small (one Put Blob) and large (Put Block + Put Block List) objects,
ranged reads, head, delete, list paging with markers and a delimiter, 404 and auth failure mapping (no retries on
403), SAS auth, the bearer-token flow against a fake managed-identity endpoint, and the circuit breaker opening
while Azurite is down and closing once it is back.

Needs: Azurite (scripts/install-deps --bench puts it in .deps/azurite; or EMBER_AZURITE) and the Azure SDK for
Python; exits 77 (skipped) without them. ember_cold_tool is found as coldutil.cold_tool() says.
"""

import base64
import datetime
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coldutil  # noqa: E402
import harness  # noqa: E402

try:
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
except ImportError:  # pragma: no cover
    BlobServiceClient = None

MiB = harness.MiB


class FixedPortAzurite(harness.Azurite):
    """Azurite that restarts on the port it first got (for the breaker test)."""

    def start_on(self, port, timeout=60):
        real = harness.free_port
        harness.free_port = lambda: port
        try:
            return self.start(timeout)
        finally:
            harness.free_port = real


class OAuthAzurite(harness.Azurite):
    """Azurite over HTTPS with `--oauth basic`: it accepts bearer tokens whose claims look right (v1 issuer, storage
    audience, times) without checking their signature. The certificate is a throwaway self-signed one for
    127.0.0.1, made with the openssl CLI; the connector trusts it through --ca-file."""

    def start(self, timeout=60):
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                        "-out", self.cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
        self.blob_port = harness.free_port()
        cmd = [harness.azurite_bin(), "--blobHost", "127.0.0.1", "--blobPort", str(self.blob_port),
               "--inMemoryPersistence", "--extentMemoryLimit", "256", "--loose", "--skipApiVersionCheck",
               "--disableProductStyleUrl", "--disableTelemetry", "-s", "--oauth", "basic", "--cert", self.cert,
               "--key", self.key]
        env = dict(os.environ)
        env["AZURITE_ACCOUNTS"] = ";".join(f"{a['name']}:{a['key']}" for a in self.blob_accounts)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=self.tmp, start_new_session=True,
                                         preexec_fn=harness._die_with_parent)
        harness._servers.append(self)
        harness._started.append(self)
        harness.wait_until(lambda: "successfully listens" in self.log_tail(20) or self.proc.poll() is not None,
                           timeout, what="azurite (https) to listen")
        if self.proc.poll() is not None:
            raise RuntimeError(f"azurite exited:\n{self.log_tail()}")
        return self

    @property
    def https_endpoint(self):
        return f"https://127.0.0.1:{self.blob_port}/{self.blob_account}"


def fake_storage_jwt(lifetime=3600):
    """A token shaped like an Entra ID v1 access token for Azure Storage (signature not valid: Azurite's basic
    OAuth does not check it)."""
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    claims = {"aud": "https://storage.azure.com", "iss": f"https://sts.windows.net/{tid}/", "iat": now - 60,
              "nbf": now - 60, "exp": now + lifetime, "oid": "00000000-0000-0000-0000-00000000c01d", "tid": tid,
              "ver": "1.0"}
    return b64({"alg": "RS256", "typ": "JWT", "kid": "k"}) + "." + b64(claims) + "." + \
        base64.urlsafe_b64encode(b"not-a-signature").rstrip(b"=").decode()


class TokenEndpoint:
    """A fake managed-identity token endpoint: answers GET with {access_token, expires_on} and records requests."""

    def __init__(self, token="fake-token", lifetime=3600):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append({"path": self.path, "metadata": self.headers.get("Metadata")})
                body = json.dumps({"access_token": token, "expires_on": str(int(time.time()) + lifetime),
                                   "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata/identity/oauth2/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(BlobServiceClient is not None, "azure-storage-blob not installed")
@unittest.skipUnless(harness.azurite_bin(), "azurite not installed (scripts/install-deps --bench)")
@unittest.skipUnless(coldutil.cold_tool(), "ember_cold_tool not built")
class AzureColdStoreTest(coldutil.ColdStoreCase):
    @classmethod
    def setUpClass(cls):
        cls.az = FixedPortAzurite().start()
        cls.svc = BlobServiceClient.from_connection_string(cls.az.blob_connection_string())
        cls.container = cls.svc.create_container("cold")
        cls.init_tools("ember-cold-az-")

    @classmethod
    def tearDownClass(cls):
        cls.close_tools()
        cls.az.stop()

    def tool(self, location=None, key=harness.BLOB_KEY, *extra):
        location = location or "az://devstoreaccount1/cold/pre"
        auth = ["--account-key", key] if key is not None else []
        return self.spawn_tuned(location, self.az.blob_endpoint, auth, 4 * MiB, *extra)

    def test_round_trip_small_and_large(self):
        t = self.tool()
        small = b"hello cold world"
        self.put_ok(t, "rt/small.txt", "small", small, 1, "text/plain")  # one Put Blob
        big = harness.random_bytes(20 * MiB + 12345, seed=5)
        r = self.put_ok(t, "rt/big.bin", "big", big, 7)  # 6 Put Block + Put Block List
        # What Azure sees, through the SDK: names under the prefix, bytes, type, blocks, metadata.
        b = self.container.get_blob_client("pre/rt/big.bin")
        self.assertEqual(b.download_blob().readall(), big)
        props = b.get_blob_properties()
        self.assertEqual(props.size, len(big))
        self.assertEqual(props.metadata.get("source"), "ember-cold-tool")
        blocks = b.get_block_list("committed")[0]
        self.assertEqual([blk.size for blk in blocks], [4 * MiB] * 5 + [12345])
        self.assertEqual(r["etag"], props.etag.strip('"'))
        sp = self.container.get_blob_client("pre/rt/small.txt").get_blob_properties()
        self.assertEqual(sp.content_settings.content_type, "text/plain")
        # Reads back byte-exact, with head agreeing.
        self.check_round_trip_reads(t, small, big, r["etag"])

    def test_ranged_reads(self):
        self.check_ranged_reads(self.tool(), harness.random_bytes(3 * MiB, seed=7), offset=1000, length=5000,
                                tail=10, over=100, past=5)

    def test_list_paging_and_delimiter(self):
        t = self.tool(location="az://devstoreaccount1/cold/listing")
        self.put_listing_keys(t)
        self.container.upload_blob("outside/zzz", b"not listed")
        seen, pages = self.list_all(t, 3)
        self.assertEqual(seen, sorted(coldutil.LISTING_KEYS))
        self.assertGreaterEqual(pages, 4)
        self.check_root_with_delimiter(t)
        r = t("list", "d1/", "", 100, "/")
        self.assertEqual([o["key"] for o in r["objects"]], [f"d1/k{i:02}" for i in range(5)])

    def test_not_found_and_delete(self):
        t = self.tool()
        for cmd in (("head", "nope/x"), ("get", "nope/x", os.path.join(self.tmp, "nf")), ("del", "nope/x")):
            r = t(*cmd)
            self.assertFalse(r["ok"])
            self.assertEqual(r["code"], "NotFound", r)
            self.assertEqual(r["attempts"], 1, r)  # a definite answer: not retried
        self.assertTrue(t("put", "gone", self.file("g", b"bye"))["ok"])
        self.assertTrue(t("del", "gone")["ok"])
        self.assertEqual(t("head", "gone")["code"], "NotFound")
        self.assertFalse(self.container.get_blob_client("pre/gone").exists())
        # A missing container is a 404 too.
        t2 = self.tool(location="az://devstoreaccount1/no-such-container")
        self.assertEqual(t2("list", "", "", 10, "")["code"], "NotFound")

    def test_wrong_key_is_permission_denied_without_retries(self):
        import base64
        t = self.tool(None, base64.b64encode(b"w" * 64).decode(), "--breaker-threshold", "2")
        for _ in range(4):
            r = t("head", "anything")
            self.assertFalse(r["ok"])
            self.assertEqual(r["code"], "PermissionDenied", r)
            self.assertIn("403", r["message"])
            self.assertEqual(r["attempts"], 1)
            self.assertEqual(r["breaker"], "closed")  # the peer answered: not a breaker failure
        r = t("put", "x", self.file("w", b"data"))
        self.assertEqual((r["code"], r["attempts"]), ("PermissionDenied", 1))
        r = t("put", "x", self.file("wbig", harness.random_bytes(7 * MiB, seed=1)))  # one 7 MiB Put Blob
        self.assertEqual((r["code"], r["attempts"], r["breaker"]), ("PermissionDenied", 1, "closed"), r)

    def test_sas_auth(self):
        start = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
        expiry = start + datetime.timedelta(hours=1)
        full = generate_container_sas(self.az.blob_account, "cold", account_key=self.az.blob_key,
                                      permission=ContainerSasPermissions(read=True, write=True, delete=True,
                                                                         list=True),
                                      start=start, expiry=expiry)
        t = self.spawn("--location", "az://devstoreaccount1/cold/sas", "--endpoint", self.az.blob_endpoint,
                       "--sas", "?" + full, "--part-size", str(4 * MiB), "--threshold", str(4 * MiB))
        data = harness.random_bytes(9 * MiB, seed=11)
        self.assertTrue(t("put", "big", self.file("sas", data))["ok"])
        out = os.path.join(self.tmp, "sasout")
        self.assertTrue(t("get", "big", out)["ok"])
        self.assertEqual(self.read(out), data)
        self.assertEqual([o["key"] for o in t("list", "", "", 10, "")["objects"]], ["big"])
        self.assertTrue(t("del", "big")["ok"])
        # A read-only SAS: reads work, writes are refused once.
        ro = generate_container_sas(self.az.blob_account, "cold", account_key=self.az.blob_key,
                                    permission=ContainerSasPermissions(read=True, list=True),
                                    start=start, expiry=expiry)
        t2 = self.spawn("--location", "az://devstoreaccount1/cold/sas", "--endpoint", self.az.blob_endpoint,
                        "--sas", ro)
        self.assertTrue(t2("list", "", "", 10, "")["ok"])
        r = t2("put", "ro", self.file("ro", b"no"))
        self.assertEqual((r["code"], r["attempts"]), ("PermissionDenied", 1), r)

    def test_bearer_token_flow(self):
        # Azurite refuses bearer tokens over plain HTTP (403), which is enough to see the connector fetch the
        # token from the endpoint as a managed identity would, send it, cache it, and map the refusal.
        ep = TokenEndpoint(token="tok-123")
        try:
            t = self.spawn("--location", "az://devstoreaccount1/cold/mi", "--endpoint", self.az.blob_endpoint,
                           "--token-endpoint", ep.url)
            for _ in range(3):
                r = t("head", "x")
                self.assertEqual((r["code"], r["attempts"]), ("PermissionDenied", 1), r)
            self.assertEqual(len(ep.requests), 1)  # cached across calls
            req = ep.requests[0]
            self.assertEqual(req["metadata"], "true")
            self.assertIn("resource=https%3A%2F%2Fstorage.azure.com%2F", req["path"])
            self.assertIn("api-version=2018-02-01", req["path"])
        finally:
            ep.close()

    def test_bearer_round_trip_over_https(self):
        oaz = OAuthAzurite()
        try:
            oaz.start()
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            self.skipTest(f"cannot start Azurite with HTTPS + OAuth: {e}")
        ep = TokenEndpoint(token=fake_storage_jwt())
        try:
            svc = BlobServiceClient(oaz.https_endpoint, credential={"account_name": oaz.blob_account,
                                                                    "account_key": oaz.blob_key},
                                    connection_verify=oaz.cert)
            svc.create_container("cold")
            t = self.spawn("--location", "az://devstoreaccount1/cold/mi", "--endpoint", oaz.https_endpoint,
                           "--token-endpoint", ep.url, "--ca-file", oaz.cert, "--part-size", str(4 * MiB),
                           "--threshold", str(4 * MiB))
            data = harness.random_bytes(6 * MiB + 1, seed=13)
            r = t("put", "obj", self.file("mi", data))
            self.assertTrue(r["ok"], r)
            out = os.path.join(self.tmp, "miout")
            self.assertTrue(t("get", "obj", out)["ok"])
            self.assertEqual(self.read(out), data)
            self.assertEqual([o["key"] for o in t("list", "", "", 10, "")["objects"]], ["obj"])
            self.assertEqual(svc.get_blob_client("cold", "mi/obj").download_blob().readall(), data)
            self.assertTrue(t("del", "obj")["ok"])
            self.assertEqual(len(ep.requests), 1)  # one token for all of it
            # Without the CA the certificate is refused (a connection failure: retried, then kUnavailable).
            t2 = self.spawn("--location", "az://devstoreaccount1/cold/mi", "--endpoint", oaz.https_endpoint,
                            "--token-endpoint", ep.url, "--max-attempts", "1")
            r = t2("head", "obj")
            self.assertEqual(r["code"], "Unavailable", r)
            self.assertIn("TLS", r["message"])
        finally:
            ep.close()
            oaz.stop()

    def test_zz_breaker_opens_while_down_and_closes_when_back(self):
        t = self.tool(None, harness.BLOB_KEY, *coldutil.BREAKER_FLAGS)
        self.assertTrue(t("put", "brk", self.file("b", b"breaker"))["ok"])
        port = self.az.blob_port
        self.az.stop()
        r = t("head", "brk")  # 2 failed attempts (connection refused)
        self.assertEqual((r["ok"], r["code"], r["attempts"], r["breaker"]), (False, "Unavailable", 2, "closed"), r)
        r = t("head", "brk")  # the 3rd consecutive failure opens it
        self.assertEqual(r["code"], "Unavailable")
        self.assertEqual(r["breaker"], "open", r)
        r = t("get", "brk", os.path.join(self.tmp, "bo"))  # fails fast: nothing sent
        self.assertEqual((r["code"], r["attempts"]), ("Unavailable", 0), r)
        self.assertIn("circuit breaker open", r["message"])
        # Azurite comes back (in memory: empty); after the cool-down a trial request closes the breaker.
        type(self).az = FixedPortAzurite().start_on(port)
        BlobServiceClient.from_connection_string(self.az.blob_connection_string()).create_container("cold")
        last = self.wait_breaker_closed(t, "brk")
        self.assertEqual(last["code"], "NotFound")  # the peer answers again (its data is gone)
        self.assertTrue(t("put", "brk", self.file("b2", b"back"))["ok"])
        self.assertEqual(t("head", "brk")["size"], 4)


if __name__ == "__main__":
    harness.main(timeout=400)
