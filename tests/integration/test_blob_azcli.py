#!/usr/bin/python3
"""Azure CLI (Debian's azure-cli 2.45, /usr/bin/az) against emberd's Blob endpoint with --connection-string:
container create, upload-batch, upload with content type and metadata, list (with metadata), download-batch,
container delete. az starts slowly (~2 s), so the whole file makes six az calls; the results are checked with the
Python SDK and by hash.

az runs with a temp HOME / AZURE_CONFIG_DIR and telemetry off (AZURE_CORE_COLLECT_TELEMETRY=no).
Run: EMBER_BIN=build/src/app/emberd/emberd /usr/bin/python3 tests/integration/test_blob_azcli.py
     EMBER_BLOB_TARGET=azurite /usr/bin/python3 tests/integration/test_blob_azcli.py
"""

import hashlib
import json
import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blobutil  # noqa: E402
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def az_bin():
    p = os.environ.get("EMBER_AZ")
    if p:
        return p
    return "/usr/bin/az" if os.path.exists("/usr/bin/az") else shutil.which("az")


def setUpModule():
    if not az_bin():
        raise unittest.SkipTest("az (azure-cli) not installed (scripts/install-deps installs it)")
    blobutil.require_sdk()
    blobutil.start_blob_server()


def tearDownModule():
    blobutil.stop_blob_server()


class AzCliTests(blobutil.BlobTestCase):
    @classmethod
    def setUpClass(cls):
        home = harness.make_tmpdir("ember-azhome-")
        cls.env = harness.cli_env(cls.srv, home=home, extra={
            "AZURE_CONFIG_DIR": os.path.join(home, ".azure"),
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "no",
        })
        for k in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"):
            cls.env.pop(k, None)
        cls.cs = cls.srv.blob_connection_string()
        cls.tmp = harness.make_tmpdir("ember-azdata-")
        cls.src = os.path.join(cls.tmp, "src")
        cls.files = {"a.txt": 10, "empty.bin": 0, "dir/b.bin": 100 * KiB, "dir/sub/c.bin": 3 * MiB + 1,
                     "sp ace/ünï.txt": 33}
        for rel, size in cls.files.items():
            harness.make_random_file(cls.src, rel, size)

    def az(self, *args, timeout=180):
        p = harness.run_cli([az_bin(), "storage", *map(str, args), "--connection-string", self.cs,
                             "--only-show-errors", "-o", "json"], self.env, timeout=timeout)
        return json.loads(p.stdout_s) if p.stdout_s.strip() else None

    def test_container_upload_list_download(self):
        c = self.bucket_name("az")
        out = self.az("container", "create", "--name", c)                                     # 1
        self.assertEqual(out, {"created": True})
        self.az("blob", "upload-batch", "--destination", c, "--source", self.src)              # 2
        single = os.path.join(self.tmp, "single.json")
        with open(single, "wb") as f:
            f.write(b'{"k": 1}\n')
        self.az("blob", "upload", "--container-name", c, "--name", "meta/single.json", "--file", single,  # 3
                "--content-type", "application/json", "--metadata", "Owner=ember", "lower=x")
        listing = self.az("blob", "list", "--container-name", c, "--include", "m", "--num-results", "*")  # 4
        names = {b["name"]: b for b in listing}
        want = dict(self.files, **{"meta/single.json": 9})
        self.assertEqual({n: b["properties"]["contentLength"] for n, b in names.items()}, want)
        self.assertEqual(names["meta/single.json"]["properties"]["contentSettings"]["contentType"],
                         "application/json")
        self.assertEqual(names["meta/single.json"]["metadata"], {"Owner": "ember", "lower": "x"})
        self.assertEqual(names["a.txt"]["properties"]["contentSettings"]["contentType"], "text/plain")
        # the listing agrees with the SDK's view of each blob
        cc = self.service().get_container_client(c)
        for n, b in names.items():
            p = cc.get_blob_client(n).get_blob_properties()
            self.assertEqual(b["properties"]["etag"].strip('"'), p.etag.strip('"'), n)
            self.assertEqual(b["properties"]["blobType"], "BlockBlob")
        with open(os.path.join(self.src, "dir/sub/c.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(cc.download_blob("dir/sub/c.bin").readall()).hexdigest(),
                             hashlib.sha256(f.read()).hexdigest())
        dst = os.path.join(self.tmp, "down")
        os.makedirs(dst)
        self.az("blob", "download-batch", "--destination", dst, "--source", c, "--pattern", "*")  # 5
        want_tree = harness.tree_hashes(self.src)
        want_tree["meta/single.json"] = harness.sha256_file(single)
        self.assertEqual(harness.tree_hashes(dst), want_tree)
        out = self.az("container", "delete", "--name", c)                                      # 6
        self.assertEqual(out, {"deleted": True})
        self.assertFalse(cc.exists())


if __name__ == "__main__":
    harness.main(timeout=260)
