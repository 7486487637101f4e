#!/usr/bin/python3
"""Azure SDK for Python against emberd's Blob endpoint: server-side copies (async Copy Blob within the endpoint,
sync Copy Blob From URL, Put Blob From URL), shared access signatures (account / container / blob SAS: allowed
and refused operations, expired, not yet valid, tampered), SharedKey failures and account isolation.

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_sdk_copy_sas.py
     EMBER_BLOB_TARGET=azurite /usr/bin/python3 tests/integration/test_blob_sdk_copy_sas.py
"""

import datetime
import os
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from blobutil import code_of, emberd_only, utcnow  # noqa: E402
from harness import MiB  # noqa: E402

# Refused by a SAS that lacks the permission. Azure: 403 AuthorizationPermissionMismatch ("This request is not
# authorized to perform this operation using this permission."); AuthorizationFailure accepted too.
PERMISSION_CODES = ("AuthorizationPermissionMismatch", "AuthorizationFailure")
# an account SAS used on a resource type it does not name (srt): 403 AuthorizationResourceTypeMismatch
RESOURCE_TYPE_CODES = ("AuthorizationResourceTypeMismatch",) + PERMISSION_CODES


def setUpModule():
    blobutil.require_sdk()
    blobutil.start_blob_server()


def tearDownModule():
    blobutil.stop_blob_server()


def wait_copy(bc, timeout=60):
    """Polls the destination until its copy is no longer pending (local copies finish inline)."""
    deadline = time.monotonic() + timeout
    while True:
        p = bc.get_blob_properties()
        if p.copy.status != "pending" or time.monotonic() > deadline:
            return p
        time.sleep(0.2)


def sas_url(bc, permission="r", expiry_s=3600, start=None):
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas
    sas = generate_blob_sas(bc.account_name, bc.container_name, bc.blob_name,
                            account_key=harness.BLOB_KEY, permission=BlobSasPermissions.from_string(permission),
                            expiry=utcnow() + datetime.timedelta(seconds=expiry_s), start=start)
    return f"{bc.url}?{sas}"


# ----------------------------------------------------------------------------------------------- copies


class CopyTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        from azure.storage.blob import ContentSettings
        cls.cc = cls.service().create_container(cls.bucket_name("copy"))
        cls.data = harness.random_bytes(300 * 1024 + 5)
        cls.src = cls.cc.get_blob_client("source.bin")
        cls.src.upload_blob(cls.data, metadata={"Origin": "src", "lower": "v"},
                            content_settings=ContentSettings(content_type="image/png", content_language="fr",
                                                             cache_control="max-age=9"))

    def test_async_copy_same_account(self):
        """rclone's same-remote copy: a bare source URL, authorized by the caller's own SharedKey."""
        dst = self.cc.get_blob_client("dst-async.bin")
        r = dst.start_copy_from_url(self.src.url)
        self.assertIn(r["copy_status"], ("success", "pending"))
        self.assertTrue(r["copy_id"])
        p = wait_copy(dst)
        self.assertEqual(p.copy.status, "success")
        self.assertEqual(p.copy.id, r["copy_id"])
        self.assertEqual(p.copy.progress, f"{len(self.data)}/{len(self.data)}")
        self.assertTrue(p.copy.source)
        self.assertEqual(dst.download_blob().readall(), self.data)
        # metadata and content properties come from the source
        self.assertEqual(p.metadata, {"Origin": "src", "lower": "v"})
        self.assertEqual(p.content_settings.content_type, "image/png")
        self.assertEqual(p.content_settings.content_language, "fr")
        self.assertEqual(p.content_settings.cache_control, "max-age=9")
        self.assertEqual(bytes(p.content_settings.content_md5),
                         bytes(self.src.get_blob_properties().content_settings.content_md5))
        # the copy appears in a listing with include=copy
        listed = [b for b in self.cc.list_blobs(name_starts_with="dst-async", include=["copy"])]
        self.assertEqual(listed[0].copy.status, "success")
        # a finished copy cannot be aborted
        self.assertAzError(lambda: dst.abort_copy(r["copy_id"]), "NoPendingCopyOperation", 409)

    def test_async_copy_with_metadata_sas_and_other_container(self):
        other = self.container("copydst")
        dst = other.get_blob_client("renamed/with meta")
        dst.start_copy_from_url(sas_url(self.src), metadata={"New": "1"})
        p = wait_copy(dst)
        self.assertEqual(p.copy.status, "success")
        self.assertEqual(p.metadata, {"New": "1"})  # given metadata replaces the source's
        self.assertEqual(dst.download_blob().readall(), self.data)
        # overwrite an existing destination
        dst.start_copy_from_url(self.src.url)
        self.assertEqual(wait_copy(dst).metadata, {"Origin": "src", "lower": "v"})

    def test_copy_block_list_and_append_blobs(self):
        svc = self.service(max_single_put_size=MiB, max_block_size=MiB)
        big = harness.random_bytes(3 * MiB + 1)
        src = svc.get_blob_client(self.cc.container_name, "chunked-src")
        src.upload_blob(big)
        dst = self.cc.get_blob_client("chunked-dst")
        dst.start_copy_from_url(src.url)
        self.assertEqual(wait_copy(dst).copy.status, "success")
        self.assertEqual(harness.sha256_bytes(dst.download_blob().readall()), harness.sha256_bytes(big))
        app = self.cc.get_blob_client("append-src")
        app.create_append_blob()
        app.append_block(b"one")
        app.append_block(b"two")
        adst = self.cc.get_blob_client("append-dst")
        adst.start_copy_from_url(app.url)
        p = wait_copy(adst)
        self.assertEqual(p.blob_type, "AppendBlob")
        self.assertEqual(adst.download_blob().readall(), b"onetwo")
        adst.append_block(b"three")  # still an append blob
        self.assertEqual(adst.download_blob().readall(), b"onetwothree")

    def test_copy_errors_and_conditions(self):
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceNotFoundError
        dst = self.cc.get_blob_client("dst-errors")
        missing = self.cc.get_blob_client("no-such-source")
        e = self.assertStatus(lambda: dst.start_copy_from_url(missing.url), 404, ResourceNotFoundError)
        self.assertIn(code_of(e), ("CannotVerifyCopySource", "BlobNotFound"))
        self.assertFalse(dst.exists())
        # source conditions
        e = self.assertStatus(lambda: dst.start_copy_from_url(self.src.url, source_etag='"0x8D000000000DEAD"',
                                                              source_match_condition=MatchConditions.IfNotModified),
                              412)
        self.assertIn(code_of(e), ("SourceConditionNotMet", "ConditionNotMet"))
        self.assertFalse(dst.exists())
        ok = dst.start_copy_from_url(self.src.url, source_etag=self.src.get_blob_properties().etag,
                                     source_match_condition=MatchConditions.IfNotModified)
        self.assertEqual(wait_copy(dst).copy.id, ok["copy_id"])
        # destination conditions
        self.assertAzError(lambda: dst.start_copy_from_url(self.src.url, etag='"0x8D000000000DEAD"',
                                                           match_condition=MatchConditions.IfNotModified),
                           "ConditionNotMet", 412)

    def test_sync_copy_from_url(self):
        dst = self.cc.get_blob_client("dst-sync.bin")
        r = dst.start_copy_from_url(sas_url(self.src), requires_sync=True)
        self.assertEqual(r["copy_status"], "success")
        self.assertEqual(dst.download_blob().readall(), self.data)
        p = dst.get_blob_properties()
        self.assertEqual(p.copy.status, "success")
        self.assertEqual(p.metadata, {"Origin": "src", "lower": "v"})

    @emberd_only("Put Blob From URL answers 501 APINotImplemented")
    def test_upload_blob_from_url(self):
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings
        dst = self.cc.get_blob_client("dst-from-url.bin")
        dst.upload_blob_from_url(sas_url(self.src))
        self.assertEqual(dst.download_blob().readall(), self.data)
        p = dst.get_blob_properties()
        self.assertEqual(p.content_settings.content_type, "image/png")  # x-ms-copy-source-blob-properties
        self.assertEqual(p.blob_type, "BlockBlob")
        # overwrite=False (default) -> If-None-Match: * -> 409
        self.assertAzError(lambda: dst.upload_blob_from_url(sas_url(self.src)), "BlobAlreadyExists", 409,
                           ResourceExistsError)
        dst.upload_blob_from_url(sas_url(self.src), overwrite=True, include_source_blob_properties=False,
                                 content_settings=ContentSettings(content_type="text/plain"))
        self.assertEqual(dst.get_blob_properties().content_settings.content_type, "text/plain")
        self.assertEqual(dst.download_blob().readall(), self.data)
        missing = self.cc.get_blob_client("nothing-here")
        e = self.assertStatus(lambda: self.cc.get_blob_client("x").upload_blob_from_url(sas_url(missing)), 404)
        self.assertEqual(code_of(e), "CannotVerifyCopySource")


# ----------------------------------------------------------------------------------------------- SAS


class SasTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cc = cls.service().create_container(cls.bucket_name("sas"))
        cls.cc.upload_blob("readme.txt", b"public-ish")
        cls.other = cls.service().create_container(cls.bucket_name("sas-other"))
        cls.other.upload_blob("secret.txt", b"secret")

    def client_with(self, sas, container=None, blob=None):
        from azure.storage.blob import BlobClient, ContainerClient
        if blob:
            return BlobClient(self.srv.blob_endpoint, container or self.cc.container_name, blob, credential=sas,
                              retry_total=0)
        return ContainerClient(self.srv.blob_endpoint, container or self.cc.container_name, credential=sas,
                               retry_total=0)

    def assertDenied(self, fn, codes=PERMISSION_CODES):
        e = self.assertStatus(fn, 403)
        self.assertIn(code_of(e), codes)
        return e

    def test_blob_sas_response_overrides(self):
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas
        sas = generate_blob_sas(harness.BLOB_ACCOUNT, self.cc.container_name, "readme.txt",
                                account_key=harness.BLOB_KEY, permission=BlobSasPermissions(read=True),
                                expiry=utcnow() + datetime.timedelta(hours=1),
                                content_type="text/x-overridden", content_disposition="attachment; f=1",
                                cache_control="no-store")
        d = self.client_with(sas, blob="readme.txt").download_blob()
        self.assertEqual(d.readall(), b"public-ish")
        cs = d.properties.content_settings
        self.assertEqual((cs.content_type, cs.content_disposition, cs.cache_control),
                         ("text/x-overridden", "attachment; f=1", "no-store"))
        # the stored properties are unchanged
        self.assertNotEqual(self.cc.get_blob_client("readme.txt").get_blob_properties().content_settings.content_type,
                            "text/x-overridden")

    def test_account_sas_read_only(self):
        from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
        sas = generate_account_sas(harness.BLOB_ACCOUNT, harness.BLOB_KEY,
                                   ResourceTypes(service=True, container=True, object=True),
                                   AccountSasPermissions(read=True, list=True),
                                   expiry=utcnow() + datetime.timedelta(hours=1))
        svc = self.service(credential=sas)
        names = [c.name for c in svc.list_containers(name_starts_with=self.cc.container_name)]
        self.assertIn(self.cc.container_name, names)
        cc = svc.get_container_client(self.cc.container_name)
        self.assertEqual([b.name for b in cc.list_blobs()], ["readme.txt"])
        self.assertEqual(cc.download_blob("readme.txt").readall(), b"public-ish")
        self.assertDenied(lambda: cc.upload_blob("new.txt", b"x"))
        self.assertDenied(lambda: cc.get_blob_client("readme.txt").delete_blob())
        self.assertDenied(lambda: svc.create_container(self.bucket_name("sas-denied")))
        self.assertEqual(self.cc.download_blob("readme.txt").readall(), b"public-ish")

    def test_account_sas_write(self):
        from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
        sas = generate_account_sas(harness.BLOB_ACCOUNT, harness.BLOB_KEY, ResourceTypes(object=True),
                                   AccountSasPermissions(read=True, write=True, create=True, delete=True),
                                   expiry=utcnow() + datetime.timedelta(hours=1))
        bc = self.client_with(sas, blob="acct-sas-written.txt")
        bc.upload_blob(b"via account sas")
        self.assertEqual(bc.download_blob().readall(), b"via account sas")
        bc.delete_blob()
        # resource type object only: listing a container is refused
        self.assertDenied(lambda: list(self.client_with(sas).list_blobs()), RESOURCE_TYPE_CODES)

    def test_container_sas(self):
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas
        sas = generate_container_sas(harness.BLOB_ACCOUNT, self.cc.container_name, account_key=harness.BLOB_KEY,
                                     permission=ContainerSasPermissions(read=True, list=True),
                                     expiry=utcnow() + datetime.timedelta(hours=1))
        cc = self.client_with(sas)
        self.assertIn("readme.txt", [b.name for b in cc.list_blobs()])
        self.assertEqual(cc.download_blob("readme.txt").readall(), b"public-ish")
        self.assertDenied(lambda: cc.upload_blob("nope.txt", b"x"))
        # the signature names this container: another container does not verify
        e = self.assertStatus(lambda: self.client_with(sas, container=self.other.container_name)
                              .download_blob("secret.txt").readall(), 403)
        self.assertIn(code_of(e), blobutil.AUTH_FAILED_CODES + PERMISSION_CODES)
        # write-enabled container SAS
        wsas = generate_container_sas(harness.BLOB_ACCOUNT, self.cc.container_name, account_key=harness.BLOB_KEY,
                                      permission=ContainerSasPermissions(read=True, write=True, create=True,
                                                                         delete=True),
                                      expiry=utcnow() + datetime.timedelta(hours=1))
        wc = self.client_with(wsas)
        wc.upload_blob("written-by-sas.txt", b"w")
        self.assertEqual(self.cc.download_blob("written-by-sas.txt").readall(), b"w")
        wc.delete_blob("written-by-sas.txt")

    def test_blob_sas(self):
        bc = self.cc.get_blob_client("readme.txt")
        url = sas_url(bc, "r")
        # plain HTTP GET with the SAS in the query, no SDK
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.read(), b"public-ish")
        from azure.storage.blob import BlobClient
        ro = BlobClient.from_blob_url(url, retry_total=0)
        self.assertEqual(ro.download_blob().readall(), b"public-ish")
        self.assertEqual(ro.get_blob_properties().size, 10)
        self.assertDenied(lambda: ro.upload_blob(b"overwrite", overwrite=True))
        self.assertDenied(lambda: ro.set_blob_metadata({"A": "1"}))
        # a blob SAS for one blob does not open a sibling
        sibling = self.cc.get_blob_client("sibling.txt")
        sibling.upload_blob(b"s", overwrite=True)
        self.assertAuthFailed(lambda: BlobClient.from_blob_url(url.replace("readme.txt", "sibling.txt"),
                                                               retry_total=0).download_blob().readall())
        # create+write
        nb = self.cc.get_blob_client("sas-created.txt")
        BlobClient.from_blob_url(sas_url(nb, "cw"), retry_total=0).upload_blob(b"created")
        self.assertEqual(nb.download_blob().readall(), b"created")
        self.assertEqual(self.cc.download_blob("readme.txt").readall(), b"public-ish")

    def test_expired_and_not_yet_valid(self):
        from azure.storage.blob import BlobClient
        bc = self.cc.get_blob_client("readme.txt")
        for what, url in [("expired", sas_url(bc, "r", expiry_s=-60, start=utcnow() - datetime.timedelta(hours=1))),
                          ("future", sas_url(bc, "r", expiry_s=7200, start=utcnow() + datetime.timedelta(hours=1)))]:
            with self.subTest(what):
                self.assertAuthFailed(lambda: BlobClient.from_blob_url(url, retry_total=0).download_blob().readall())
                with self.assertRaises(urllib.error.HTTPError) as cm:
                    urllib.request.urlopen(url, timeout=30)
                self.assertEqual(cm.exception.code, 403)
                self.assertIn(cm.exception.headers.get("x-ms-error-code"), blobutil.AUTH_FAILED_CODES)

    def test_tampered_signature(self):
        import urllib.parse
        from azure.storage.blob import BlobClient
        bc = self.cc.get_blob_client("readme.txt")
        url = sas_url(bc, "r")
        base, qs = url.split("?", 1)
        q = urllib.parse.parse_qsl(qs)
        cases = {
            "sig": [(k, ("A" if v[0] != "A" else "B") + v[1:] if k == "sig" else v) for k, v in q],
            "perm": [(k, "rw" if k == "sp" else v) for k, v in q],
            "expiry": [(k, "2099-01-01T00:00:00Z" if k == "se" else v) for k, v in q],
        }
        for what, qq in cases.items():
            with self.subTest(what):
                bad = base + "?" + urllib.parse.urlencode(qq)
                self.assertAuthFailed(lambda: BlobClient.from_blob_url(bad, retry_total=0).download_blob().readall())
        # SAS fields without a sig: refused as a bad SAS, or as no credentials at all (401)
        nosig = base + "?" + urllib.parse.urlencode([(k, v) for k, v in q if k != "sig"])
        from azure.core.exceptions import HttpResponseError
        with self.assertRaises(HttpResponseError) as cm:
            BlobClient.from_blob_url(nosig, retry_total=0).download_blob().readall()
        got = (blobutil.status_of(cm.exception), code_of(cm.exception))
        self.assertIn(got, [(403, c) for c in blobutil.AUTH_FAILED_CODES] + [(401, "NoAuthenticationInformation")])


# ----------------------------------------------------------------------------------------------- SharedKey


class SharedKeyTests(blobutil.BlobTestCase):
    def test_wrong_key(self):
        cc = self.container("sk")
        cc.upload_blob("b", b"1")
        wrong = dict(harness.BLOB_ALICE, key=harness.BLOB_BOB["key"])
        bad = self.service(account=wrong).get_container_client(cc.container_name)
        self.assertAuthFailed(lambda: bad.download_blob("b").readall())
        # HEAD: no body, the code is in x-ms-error-code
        self.assertAuthFailed(lambda: bad.get_blob_client("b").get_blob_properties())
        self.assertAuthFailed(lambda: bad.upload_blob("c", b"2"))
        self.assertAuthFailed(lambda: list(self.service(account=wrong).list_containers()))
        self.assertFalse(cc.get_blob_client("c").exists())

    def test_accounts_are_separate(self):
        """Each account is its own namespace (in Ember: the buckets of the account's S3 user)."""
        cc = self.container("mine")
        cc.upload_blob("b", b"alice's")
        bob = self.service(account=harness.BLOB_BOB)
        self.assertNotIn(cc.container_name, [c.name for c in bob.list_containers()])
        blobutil.assertOtherAccountsContainer(
            self, lambda: bob.get_container_client(cc.container_name).download_blob("b").readall())
        bobs = bob.create_container(self.bucket_name("bobs"))
        bobs.upload_blob("x", b"bob's")
        self.assertNotIn(bobs.container_name, [c.name for c in self.service().list_containers()])
        # alice's key on bob's account path does not verify
        mixed = dict(harness.BLOB_BOB, key=harness.BLOB_KEY)
        self.assertAuthFailed(lambda: list(self.service(account=mixed).list_containers()))


if __name__ == "__main__":
    harness.main(timeout=400)
