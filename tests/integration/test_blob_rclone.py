#!/usr/bin/python3
"""rclone (Debian's 1.60, azureblob backend, configured only through RCLONE_CONFIG_AZ_* env in a temp HOME) against
emberd's Blob endpoint: mkdir, copy, check (MD5), lsjson, md5sum, cat, sync with
changes and an idempotent re-sync, server-side copyto (Copy Blob), deletefile, purge. A 1 MiB chunk size makes the
5 MiB file go up as Put Block x5 + Put Block List (checked with a raw Get Block List); rclone stores the whole-file
MD5 (x-ms-blob-content-md5) and the modification time (metadata `mtime`).

rclone 1.60 builds its URL from account + key as `https://<account>.<endpoint>` (`endpoint` is a DNS suffix, not a
URL), and `use_emulator` is fixed to http://127.0.0.1:10000/devstoreaccount1, so with an ephemeral plain-HTTP port
the remote is an account-level `sas_url` (http://127.0.0.1:<port>/devstoreaccount1?<account SAS, all permissions>):
every request carries the SAS instead of SharedKey. (rclone >= 1.61 has connection_string; not in Debian 12.)

Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_rclone.py
     EMBER_BLOB_TARGET=azurite /usr/bin/python3 tests/integration/test_blob_rclone.py
"""

import datetime
import hashlib
import json
import os
import shutil
import sys
import unittest
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    if not shutil.which("rclone"):
        raise unittest.SkipTest("rclone not installed (scripts/install-deps installs it)")
    blobutil.require_sdk()  # generate_account_sas
    blobutil.start_blob_server()


def account_sas_url(srv):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
    sas = generate_account_sas(harness.BLOB_ACCOUNT, harness.BLOB_KEY,
                               ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions.from_string("racwdlup"),
                               expiry=blobutil.utcnow() + datetime.timedelta(hours=3),
                               start=blobutil.utcnow() - datetime.timedelta(minutes=5))
    return f"{srv.blob_endpoint}?{sas}"


def tearDownModule():
    blobutil.stop_blob_server()


class RcloneBlobTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        home = harness.make_tmpdir("ember-rclonehome-")
        cls.env = harness.cli_env(cls.srv, home=home, extra={
            "RCLONE_CONFIG": os.path.join(home, "rclone.conf"),  # nonexistent: only env config counts
            "RCLONE_CONFIG_AZ_TYPE": "azureblob",
            "RCLONE_CONFIG_AZ_SAS_URL": account_sas_url(cls.srv),
            "RCLONE_CONFIG_AZ_CHUNK_SIZE": "1Mi",
            "RCLONE_CONFIG_AZ_UPLOAD_CUTOFF": "1Mi",
            "RCLONE_CONFIG_AZ_UPLOAD_CONCURRENCY": "2",
        })
        cls.tmp = harness.make_tmpdir("ember-rclonedata-")
        cls.src = os.path.join(cls.tmp, "src")
        cls.files = {"a.txt": 1, "empty": 0, "dir/b.bin": 100 * KiB, "dir/sub/c.bin": MiB,
                     "dir/sub/big.bin": 5 * MiB + 5, "sp ace/ünï+%.txt": 77}
        for rel, size in cls.files.items():
            harness.make_random_file(cls.src, rel, size)

    def rclone(self, *args, check=True, timeout=240):
        return harness.run_cli(["rclone", "--retries", "1", "--low-level-retries", "1", "--transfers", "2",
                                "--checkers", "2", "--contimeout", "10s", "--timeout", "60s", *map(str, args)],
                               self.env, check=check, timeout=timeout)

    def committed_blocks(self, container, blob):
        r = blobutil.blob_request(self.srv, "GET", container, blob, query=[("comp", "blocklist"),
                                                                           ("blocklisttype", "committed")])
        self.assertEqual(r.status, 200, r)
        return [e for e in ET.fromstring(r.body).iter() if harness.strip_ns(e.tag) == "Block"]

    def test_copy_check_lsjson_download(self):
        c = self.bucket_name("rc")
        self.rclone("mkdir", f"az:{c}")
        self.rclone("copy", self.src, f"az:{c}/copy")
        self.rclone("check", self.src, f"az:{c}/copy")  # sizes + MD5
        listing = json.loads(self.rclone("lsjson", "-R", "--files-only", "--hash", f"az:{c}/copy").stdout_s)
        self.assertEqual({e["Path"]: e["Size"] for e in listing}, self.files)
        for e in listing:
            with open(os.path.join(self.src, e["Path"]), "rb") as f:
                self.assertEqual(e.get("Hashes", {}).get("md5"), hashlib.md5(f.read()).hexdigest(), e["Path"])
        # the 5 MiB file was uploaded in 1 MiB blocks
        self.assertGreaterEqual(len(self.committed_blocks(c, "copy/dir/sub/big.bin")), 5)
        md5s = dict(reversed(line.split(None, 1)) for line in
                    self.rclone("md5sum", f"az:{c}/copy").stdout_s.splitlines())
        for rel in self.files:
            with open(os.path.join(self.src, rel), "rb") as f:
                self.assertEqual(md5s.get(rel), hashlib.md5(f.read()).hexdigest(), rel)
        dst = os.path.join(self.tmp, f"down-{c}")
        self.rclone("copy", f"az:{c}/copy", dst)
        self.assertEqual(harness.tree_hashes(dst), harness.tree_hashes(self.src))
        with open(os.path.join(self.src, "sp ace/ünï+%.txt"), "rb") as f:
            self.assertEqual(self.rclone("cat", f"az:{c}/copy/sp ace/ünï+%.txt").stdout, f.read())
        # containers show up as top-level directories
        top = json.loads(self.rclone("lsjson", "az:").stdout_s)
        self.assertIn(c, [e["Path"] for e in top if e["IsDir"]])

    def test_modtime_metadata(self):
        c = self.bucket_name("rcmt")
        work = os.path.join(self.tmp, f"mt-{c}")
        harness.make_random_file(work, "f.bin", 1000)
        when = datetime.datetime(2021, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc).timestamp()
        os.utime(os.path.join(work, "f.bin"), (when, when))
        self.rclone("copy", work, f"az:{c}")
        listing = json.loads(self.rclone("lsjson", f"az:{c}").stdout_s)
        mt = datetime.datetime.fromisoformat(listing[0]["ModTime"].replace("Z", "+00:00"))
        self.assertLess(abs(mt.timestamp() - when), 1.0, listing)
        head = blobutil.blob_request(self.srv, "HEAD", c, "f.bin")
        self.assertEqual(head.status, 200)
        self.assertTrue(head.header("x-ms-meta-mtime"), head.headers)

    def test_sync_and_resync(self):
        c = self.bucket_name("rcsync")
        work = os.path.join(self.tmp, f"work-{c}")
        shutil.copytree(self.src, work)
        self.rclone("sync", work, f"az:{c}/s")
        self.rclone("check", work, f"az:{c}/s")
        os.unlink(os.path.join(work, "a.txt"))
        harness.make_random_file(work, "dir/b.bin", 101 * KiB)
        harness.make_random_file(work, "new/n.bin", 3 * MiB + 1)
        self.rclone("sync", work, f"az:{c}/s")
        self.rclone("check", work, f"az:{c}/s")
        listing = json.loads(self.rclone("lsjson", "-R", "--files-only", f"az:{c}/s").stdout_s)
        remote = {e["Path"]: e["Size"] for e in listing}
        local = {rel: os.path.getsize(os.path.join(work, rel)) for rel in harness.tree_hashes(work)}
        self.assertEqual(remote, local)
        out = self.rclone("sync", "--stats-one-line", "-v", work, f"az:{c}/s").stderr_s
        self.assertNotIn("Copied", out, out[-2000:])

    def test_server_side_copy_delete_purge(self):
        c = self.bucket_name("rcss")
        self.rclone("copy", self.src, f"az:{c}/orig")
        self.rclone("copyto", f"az:{c}/orig/dir/sub/big.bin", f"az:{c}/copied/big.bin")
        self.rclone("copyto", f"az:{c}/orig/a.txt", f"az:{c}/copied/a.txt")
        with open(os.path.join(self.src, "dir/sub/big.bin"), "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(hashlib.sha256(self.rclone("cat", f"az:{c}/copied/big.bin").stdout).hexdigest(), want)
        self.rclone("check", os.path.join(self.src, "dir/sub"), f"az:{c}/copied", "--one-way", "--include",
                    "big.bin")
        self.rclone("deletefile", f"az:{c}/copied/a.txt")
        names = [e["Path"] for e in json.loads(self.rclone("lsjson", "-R", "--files-only",
                                                           f"az:{c}/copied").stdout_s)]
        self.assertEqual(names, ["big.bin"])
        self.rclone("purge", f"az:{c}")
        top = json.loads(self.rclone("lsjson", "az:").stdout_s)
        self.assertNotIn(c, [e["Path"] for e in top])


if __name__ == "__main__":
    harness.main(timeout=260)
