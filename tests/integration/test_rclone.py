#!/usr/bin/env python3
"""rclone (s3 backend, provider Other, configured only through RCLONE_CONFIG_EMBER_* env) against emberd.

copy / sync / check / size / md5sum / cat / lsjson / server-side copyto / purge, with a lowered upload cutoff so
the larger files go multipart and a lowered copy cutoff so server-side copies use UploadPartCopy; listing with
both ListObjects v1 and v2. Downloaded bytes are compared to uploaded bytes by sha256.

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_rclone.py
"""

import hashlib
import json
import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    if not shutil.which("rclone"):
        raise unittest.SkipTest("rclone not installed (scripts/install-deps installs it)")
    harness.start_module_server()


def tearDownModule():
    code = harness.stop_module_server()
    if code not in (None, 0):
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


class RcloneTests(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        home = harness.make_tmpdir("ember-rclonehome-")
        cls.env = harness.cli_env(cls.srv, home=home, extra={
            "RCLONE_CONFIG": os.path.join(home, "rclone.conf"),  # empty/nonexistent: only env config counts
            "RCLONE_CONFIG_EMBER_TYPE": "s3",
            "RCLONE_CONFIG_EMBER_PROVIDER": "Other",
            "RCLONE_CONFIG_EMBER_ENV_AUTH": "false",
            "RCLONE_CONFIG_EMBER_ACCESS_KEY_ID": harness.ALICE["access_key"],
            "RCLONE_CONFIG_EMBER_SECRET_ACCESS_KEY": harness.ALICE["secret_key"],
            "RCLONE_CONFIG_EMBER_ENDPOINT": cls.srv.endpoint,
            "RCLONE_CONFIG_EMBER_REGION": "us-east-1",
            "RCLONE_CONFIG_EMBER_FORCE_PATH_STYLE": "true",
            "RCLONE_CONFIG_EMBER_UPLOAD_CUTOFF": "5Mi",
            "RCLONE_CONFIG_EMBER_CHUNK_SIZE": "5Mi",
            "RCLONE_CONFIG_EMBER_COPY_CUTOFF": "5Mi",
        })
        cls.tmp = harness.make_tmpdir("ember-rclonedata-")
        cls.src = os.path.join(cls.tmp, "src")
        cls.files = {"a.txt": 1, "empty": 0, "dir/b.bin": 100 * KiB, "dir/sub/c.bin": 4 * MiB,
                     "dir/sub/big.bin": 12 * MiB + 5, "sp ace/ünï+.txt": 77}
        for rel, size in cls.files.items():
            harness.make_random_file(cls.src, rel, size)

    def rclone(self, *args, check=True, timeout=240):
        return harness.run_cli(["rclone", "--retries", "1", "--low-level-retries", "1", "--transfers", "2",
                                "--checkers", "2", "--contimeout", "10s", "--timeout", "60s", *map(str, args)],
                               self.env, check=check, timeout=timeout)

    def test_copy_check_size_download(self):
        b = self.bucket_name("rc")
        self.rclone("mkdir", f"ember:{b}")
        self.rclone("copy", self.src, f"ember:{b}/copy")
        self.rclone("check", self.src, f"ember:{b}/copy")  # sizes + MD5 (ETag or md5chksum metadata)
        size = json.loads(self.rclone("size", "--json", f"ember:{b}/copy").stdout_s)
        self.assertEqual((size["count"], size["bytes"]), (len(self.files), sum(self.files.values())))
        # the multipart upload really was multipart
        s3 = harness.boto_client(self.srv)
        etag = s3.head_object(Bucket=b, Key="copy/dir/sub/big.bin")["ETag"]
        self.assertTrue(etag.endswith('-3"'), etag)
        # md5sum via rclone equals local md5
        md5s = {}
        for line in self.rclone("md5sum", f"ember:{b}/copy").stdout_s.splitlines():
            h, name = line.split(None, 1)
            md5s[name] = h
        for rel in self.files:
            with open(os.path.join(self.src, rel), "rb") as f:
                self.assertEqual(md5s.get(rel), hashlib.md5(f.read()).hexdigest(), rel)
        dst = os.path.join(self.tmp, f"down-{b}")
        self.rclone("copy", f"ember:{b}/copy", dst)
        self.assertEqual(harness.tree_hashes(dst), harness.tree_hashes(self.src))
        with open(os.path.join(self.src, "sp ace/ünï+.txt"), "rb") as f:
            self.assertEqual(self.rclone("cat", f"ember:{b}/copy/sp ace/ünï+.txt").stdout, f.read())

    def test_sync_and_list_versions(self):
        b = self.bucket_name("rcsync")
        work = os.path.join(self.tmp, f"work-{b}")
        shutil.copytree(self.src, work)
        self.rclone("sync", work, f"ember:{b}/s")
        self.rclone("check", work, f"ember:{b}/s")
        # modify, add, remove; sync again
        os.unlink(os.path.join(work, "a.txt"))
        harness.make_random_file(work, "dir/b.bin", 101 * KiB)
        harness.make_random_file(work, "new/n.bin", 6 * MiB)
        self.rclone("sync", work, f"ember:{b}/s")
        for lv in ("1", "2"):
            with self.subTest(list_version=lv):
                self.rclone("check", "--s3-list-version", lv, work, f"ember:{b}/s")
                listing = json.loads(self.rclone("lsjson", "-R", "--files-only", "--s3-list-version", lv,
                                                 f"ember:{b}/s").stdout_s)
                remote = {e["Path"]: e["Size"] for e in listing}
                local = {rel: os.path.getsize(os.path.join(work, rel)) for rel in harness.tree_hashes(work)}
                self.assertEqual(remote, local)
        # an unchanged sync transfers nothing
        out = self.rclone("sync", "-v", work, f"ember:{b}/s").stderr_s
        self.assertNotRegex(out, r"INFO\s*:.*: Copied")
        dst = os.path.join(self.tmp, f"sdown-{b}")
        self.rclone("sync", f"ember:{b}/s", dst)
        self.assertEqual(harness.tree_hashes(dst), harness.tree_hashes(work))

    def test_server_side_copy_and_purge(self):
        b = self.bucket_name("rccp")
        self.rclone("copy", self.src, f"ember:{b}/orig")
        self.rclone("copyto", f"ember:{b}/orig/dir/sub/big.bin", f"ember:{b}/copied/big.bin")  # UploadPartCopy
        self.rclone("copyto", f"ember:{b}/orig/dir/b.bin", f"ember:{b}/copied/b.bin")  # CopyObject
        dst = os.path.join(self.tmp, f"cp-{b}")
        self.rclone("copy", f"ember:{b}/copied", dst)
        self.assertEqual(harness.sha256_file(os.path.join(dst, "big.bin")),
                         harness.sha256_file(os.path.join(self.src, "dir/sub/big.bin")))
        self.assertEqual(harness.sha256_file(os.path.join(dst, "b.bin")),
                         harness.sha256_file(os.path.join(self.src, "dir/b.bin")))
        self.rclone("deletefile", f"ember:{b}/copied/b.bin")
        self.assertNotIn("b.bin", self.rclone("lsf", f"ember:{b}/copied").stdout_s.split())
        self.rclone("purge", f"ember:{b}")
        s3 = harness.boto_client(self.srv)
        code, st, _ = harness.client_error(s3.head_bucket, Bucket=b)
        self.assertEqual(st, 404)


if __name__ == "__main__":
    harness.main(timeout=260)
