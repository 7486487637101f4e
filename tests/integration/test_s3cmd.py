#!/usr/bin/env python3
"""s3cmd (its own SigV4 and multipart code) with a temporary config against emberd: mb, put (single and
multipart), get, ls/la/du, info, del, sync up/down, rb. Downloads are compared to uploads by sha256.

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_s3cmd.py
"""

import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    if not shutil.which("s3cmd"):
        raise unittest.SkipTest("s3cmd not installed (scripts/install-deps installs it)")
    harness.start_module_server()


def tearDownModule():
    code = harness.stop_module_server()
    if code not in (None, 0):
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


class S3cmdTests(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        home = harness.make_tmpdir("ember-s3cmdhome-")
        cls.cfg = os.path.join(home, "s3cfg")
        with open(cls.cfg, "w") as f:
            f.write("[default]\n"
                    f"access_key = {harness.ALICE['access_key']}\n"
                    f"secret_key = {harness.ALICE['secret_key']}\n"
                    f"host_base = {cls.srv.host}\n"
                    f"host_bucket = {cls.srv.host}\n"  # no %(bucket)s: path-style
                    "bucket_location = us-east-1\n"
                    "use_https = False\n"
                    "signature_v2 = False\n"
                    "multipart_chunk_size_mb = 5\n"
                    "enable_multipart = True\n"
                    "progress_meter = False\n"
                    "socket_timeout = 60\n"
                    "max_retries = 1\n")
        cls.env = harness.cli_env(cls.srv, home=home)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            cls.env.pop(k)  # only the config file
        cls.tmp = harness.make_tmpdir("ember-s3cmddata-")

    def s3cmd(self, *args, check=True):
        return harness.run_cli(["s3cmd", "-c", self.cfg, "--no-progress", *map(str, args)], self.env, check=check)

    def test_mb_put_get_ls_del_rb(self):
        b = self.bucket_name("s3cmd")
        self.s3cmd("mb", f"s3://{b}")
        self.assertIn(f"s3://{b}", self.s3cmd("ls").stdout_s)
        small, small_sha = harness.make_random_file(self.tmp, "small.bin", 50 * KiB)
        big, big_sha = harness.make_random_file(self.tmp, "big.bin", 12 * MiB)  # 3 parts of 5 MiB
        self.s3cmd("put", small, f"s3://{b}/x/small.bin")
        self.s3cmd("put", big, f"s3://{b}/x/big.bin")
        s3 = harness.boto_client(self.srv)
        self.assertEqual(s3.head_object(Bucket=b, Key="x/big.bin")["ETag"], harness.multipart_etag_of_file(big, 5 * MiB))
        ls = self.s3cmd("ls", f"s3://{b}/x/").stdout_s
        self.assertIn(f"s3://{b}/x/small.bin", ls)
        self.assertIn(f"s3://{b}/x/big.bin", ls)
        self.assertIn("DIR", self.s3cmd("ls", f"s3://{b}/").stdout_s)
        du = self.s3cmd("du", f"s3://{b}").stdout_s.split()
        self.assertEqual(int(du[0]), 50 * KiB + 12 * MiB)
        info = self.s3cmd("info", f"s3://{b}/x/small.bin").stdout_s
        with open(small, "rb") as f:
            self.assertIn(harness.md5_hex(f.read()), info)
        for src, sha in ((small, small_sha), (big, big_sha)):
            out = src + ".down"
            self.s3cmd("get", "--force", f"s3://{b}/x/{os.path.basename(src)}", out)
            self.assertEqual(harness.sha256_file(out), sha)
        self.s3cmd("del", f"s3://{b}/x/small.bin")
        self.assertNotIn("small.bin", self.s3cmd("ls", f"s3://{b}/x/").stdout_s)
        p = self.s3cmd("rb", f"s3://{b}", check=False)
        self.assertNotEqual(p.returncode, 0, "rb of a non-empty bucket must fail")
        self.assertIn("BucketNotEmpty", p.stderr_s + p.stdout_s)
        self.s3cmd("del", f"s3://{b}/x/big.bin")
        self.s3cmd("rb", f"s3://{b}")
        self.assertNotIn(f"s3://{b}", self.s3cmd("ls").stdout_s)

    def test_sync(self):
        b = self.bucket_name("s3cmdsync")
        self.s3cmd("mb", f"s3://{b}")
        src = os.path.join(self.tmp, f"src-{b}")
        files = {"a": 10, "d/b": 64 * KiB, "d/e/c": 6 * MiB, "sp ace+plus": 3}
        shas = {rel: harness.make_random_file(src, rel, n)[1] for rel, n in files.items()}
        self.s3cmd("sync", src + "/", f"s3://{b}/t/")
        la = self.s3cmd("la", "--recursive").stdout_s
        for rel in files:
            self.assertIn(f"s3://{b}/t/{rel}\n", la)
        dst = os.path.join(self.tmp, f"dst-{b}")
        self.s3cmd("sync", f"s3://{b}/t/", dst + "/")
        for rel, sha in shas.items():
            self.assertEqual(harness.sha256_file(os.path.join(dst, rel)), sha, rel)
        os.unlink(os.path.join(src, "a"))
        self.s3cmd("sync", "--delete-removed", src + "/", f"s3://{b}/t/")
        la = self.s3cmd("ls", "--recursive", f"s3://{b}").stdout_s
        self.assertNotIn(f"s3://{b}/t/a\n", la + "\n")
        self.assertIn(f"s3://{b}/t/d/b", la)


if __name__ == "__main__":
    harness.main(timeout=260)
