#!/usr/bin/env python3
"""The aws CLI (Debian's awscli v2 at /usr/bin/aws by default, EMBER_AWS to override) against a real emberd.

`aws s3` high-level commands (mb/rb/cp/sync/ls/rm, stdin/stdout streaming, a 40 MiB file that goes multipart)
and `aws s3api` for single operations: put/get with --range, head, copy (COPY/REPLACE, copy-source-if-match),
conditional GET (304/412), put-object --if-none-match '*', the multipart family, delete-objects, and
list-objects-v2 / list-objects paging.

Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/integration/test_awscli.py [-k pattern]
"""

import hashlib
import json
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402


def setUpModule():
    if not harness.aws_cli():
        raise unittest.SkipTest("no aws CLI installed (scripts/install-deps installs Debian's awscli)")
    harness.start_module_server()


def tearDownModule():
    code = harness.stop_module_server()
    if code not in (None, 0):
        raise AssertionError(f"emberd did not exit 0 on SIGTERM (exit code {code})")


class AwsCliTests(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = harness.make_tmpdir("ember-awshome-")
        os.makedirs(os.path.join(cls.home, ".aws"))
        with open(os.path.join(cls.home, ".aws", "config"), "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n")
        cls.env = harness.cli_env(cls.srv, home=cls.home)
        cls.tmp = harness.make_tmpdir("ember-awsdata-")
        cls.s3 = harness.boto_client(cls.srv)  # setup and verification only; the CLI does what is tested

    def aws(self, *args, check=True, input=None, timeout=240):
        return harness.run_cli([harness.aws_cli(), "--endpoint-url", self.srv.endpoint, "--output", "json",
                                *map(str, args)], self.env, check=check, input=input, timeout=timeout)

    def aws_json(self, *args):
        out = self.aws(*args).stdout_s
        return json.loads(out) if out.strip() else {}

    def aws_fails(self, *args, expect=None):
        p = self.aws(*args, check=False)
        self.assertNotEqual(p.returncode, 0, f"aws {' '.join(map(str, args))} should fail; stdout={p.stdout_s}")
        if expect:
            self.assertIn(expect, p.stderr_s)
        return p

    def new_bucket(self, tag):
        b = self.bucket_name(tag)
        p = self.aws("s3", "mb", f"s3://{b}")
        self.assertIn(f"make_bucket: {b}", p.stdout_s)
        return b

    def ls_recursive(self, bucket):
        """Key -> size, via the CLI's `aws s3 ls --recursive` (its output format is part of what is tested)."""
        out = self.aws("s3", "ls", f"s3://{bucket}", "--recursive").stdout_s
        entries = {}
        for line in out.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4:
                entries[parts[3]] = int(parts[2])
        return entries

    def listing(self, bucket):
        """Key -> size, via boto3 (cheap verification)."""
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for c in page.get("Contents", []):
                out[c["Key"]] = c["Size"]
        return out

    def object_sha(self, bucket, key):
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        h = hashlib.sha256()
        for chunk in iter(lambda: body.read(MiB), b""):
            h.update(chunk)
        return h.hexdigest()

    # ------------------------------------------------------------------------------------------- aws s3

    def test_mb_ls_cp_rm_rb(self):
        b = self.new_bucket("cli")
        self.assertIn(b, self.aws("s3", "ls").stdout_s)
        path, sha = harness.make_random_file(self.tmp, "small.bin", 100 * KiB + 1)
        self.aws("s3", "cp", path, f"s3://{b}/dir/small.bin")
        out = self.aws("s3", "ls", f"s3://{b}/dir/").stdout_s
        self.assertRegex(out, r"\s102401 small\.bin")
        self.assertIn("PRE dir/", self.aws("s3", "ls", f"s3://{b}/").stdout_s)
        down = os.path.join(self.tmp, "small.down")
        self.aws("s3", "cp", f"s3://{b}/dir/small.bin", down)
        self.assertEqual(harness.sha256_file(down), sha)
        # stdin -> object -> stdout
        blob = os.urandom(300 * KiB)
        self.aws("s3", "cp", "-", f"s3://{b}/stdin.bin", input=blob)
        self.assertEqual(self.aws("s3", "cp", f"s3://{b}/stdin.bin", "-").stdout, blob)
        # rb refuses a non-empty bucket
        self.aws_fails("s3", "rb", f"s3://{b}", expect="BucketNotEmpty")
        self.aws("s3", "rm", f"s3://{b}/dir/small.bin")
        self.assertEqual(self.ls_recursive(b), {"stdin.bin": 300 * KiB})
        self.aws("s3", "rm", f"s3://{b}", "--recursive")
        self.assertEqual(self.listing(b), {})
        self.aws("s3", "rb", f"s3://{b}")
        self.assertNotIn(b, [x["Name"] for x in self.s3.list_buckets()["Buckets"]])
        self.aws_fails("s3", "ls", f"s3://{b}", expect="NoSuchBucket")

    def test_cp_40mib_goes_multipart(self):
        b = self.new_bucket("big")
        path, sha = harness.make_random_file(self.tmp, "big40.bin", 40 * MiB)
        self.aws("s3", "cp", path, f"s3://{b}/big40.bin")
        head = self.s3.head_object(Bucket=b, Key="big40.bin")
        # awscli default: 8 MiB threshold and chunks -> 5 parts
        self.assertEqual(head["ETag"], harness.multipart_etag_of_file(path, 8 * MiB))
        self.assertEqual(head["ContentLength"], 40 * MiB)
        down = os.path.join(self.tmp, "big40.down")
        self.aws("s3", "cp", f"s3://{b}/big40.bin", down)
        self.assertEqual(harness.sha256_file(down), sha)
        # server-side copy of a multipart object (awscli uses UploadPartCopy above 8 MiB)
        os.unlink(down)
        self.aws("s3", "cp", f"s3://{b}/big40.bin", f"s3://{b}/copy/big40.bin")
        self.assertEqual(self.object_sha(b, "copy/big40.bin"), sha)

    def test_sync_up_down_delete(self):
        b = self.new_bucket("sync")
        src = os.path.join(self.tmp, "sync-src")
        files = {"a.txt": 10, "empty": 0, "d1/b.bin": 70 * KiB, "d1/d2/c.bin": 1 * MiB + 3,
                 "d1/d2/big.bin": 9 * MiB, "sp ace/ünï.txt": 123, "plus+name": 5}
        shas = {}
        for rel, size in files.items():
            _, shas[rel] = harness.make_random_file(src, rel, size)
        self.aws("s3", "sync", src, f"s3://{b}/tree")
        self.assertEqual(self.listing(b), {f"tree/{k}": v for k, v in files.items()})
        # nothing changed: a second sync transfers nothing (sizes and LastModified must be right)
        again = self.aws("s3", "sync", src, f"s3://{b}/tree").stdout_s
        self.assertNotIn("upload:", again)
        dst = os.path.join(self.tmp, "sync-dst")
        self.aws("s3", "sync", f"s3://{b}/tree", dst)
        for rel in files:
            self.assertEqual(harness.sha256_file(os.path.join(dst, rel)), shas[rel], rel)
        # change the source: delete, add, modify -> sync --delete
        os.unlink(os.path.join(src, "a.txt"))
        _, shas["new/file"] = harness.make_random_file(src, "new/file", 4 * KiB)
        _, shas["d1/b.bin"] = harness.make_random_file(src, "d1/b.bin", 71 * KiB)
        files.pop("a.txt")
        shas.pop("a.txt")
        files["new/file"], files["d1/b.bin"] = 4 * KiB, 71 * KiB
        out = self.aws("s3", "sync", src, f"s3://{b}/tree", "--delete").stdout_s
        self.assertIn("delete: s3://", out)
        self.assertEqual(self.listing(b), {f"tree/{k}": v for k, v in files.items()})
        self.aws("s3", "sync", f"s3://{b}/tree", dst, "--delete")
        got = {}
        for dp, _dn, fn in os.walk(dst):
            for f in fn:
                full = os.path.join(dp, f)
                got[os.path.relpath(full, dst)] = harness.sha256_file(full)
        self.assertEqual(got, shas)

    # ------------------------------------------------------------------------------------------- aws s3api

    def test_s3api_put_get_range_head(self):
        b = self.new_bucket("api")
        path, sha = harness.make_random_file(self.tmp, "api.bin", 1000)
        data = read(path)
        put = self.aws_json("s3api", "put-object", "--bucket", b, "--key", "obj", "--body", path,
                            "--content-type", "text/x-ember", "--metadata", "alpha=1,beta=two")
        self.assertEqual(put["ETag"], f'"{harness.md5_hex(data)}"')
        head = self.aws_json("s3api", "head-object", "--bucket", b, "--key", "obj")
        self.assertEqual(head["ContentLength"], 1000)
        self.assertEqual(head["ContentType"], "text/x-ember")
        self.assertEqual(head["Metadata"], {"alpha": "1", "beta": "two"})
        self.assertEqual(head["ETag"], put["ETag"])
        out = os.path.join(self.tmp, "range.out")
        got = self.aws_json("s3api", "get-object", "--bucket", b, "--key", "obj", "--range", "bytes=100-199", out)
        self.assertEqual(read(out), data[100:200])
        self.assertEqual(got["ContentRange"], "bytes 100-199/1000")
        self.assertEqual(got["ContentLength"], 100)
        got = self.aws_json("s3api", "get-object", "--bucket", b, "--key", "obj", "--range", "bytes=-24", out)
        self.assertEqual(read(out), data[-24:])
        self.aws("s3api", "get-object", "--bucket", b, "--key", "obj", out)
        self.assertEqual(harness.sha256_file(out), sha)
        p = self.aws_fails("s3api", "head-object", "--bucket", b, "--key", "missing")
        self.assertIn("404", p.stderr_s)
        self.aws_fails("s3api", "get-object", "--bucket", b, "--key", "obj", "--range", "bytes=5000-", out,
                       expect="InvalidRange")

    def test_s3api_copy_object(self):
        b = self.new_bucket("copy")
        etag = self.s3.put_object(Bucket=b, Key="src", Body=os.urandom(2048), Metadata={"m": "1"},
                                  ContentType="text/src")["ETag"]
        r = self.aws_json("s3api", "copy-object", "--bucket", b, "--key", "dst1", "--copy-source", f"{b}/src",
                          "--metadata-directive", "COPY")
        self.assertEqual(r["CopyObjectResult"]["ETag"], etag)
        h = self.s3.head_object(Bucket=b, Key="dst1")
        self.assertEqual((h["Metadata"], h["ContentType"], h["ETag"]), ({"m": "1"}, "text/src", etag))
        self.aws("s3api", "copy-object", "--bucket", b, "--key", "dst2", "--copy-source", f"{b}/src",
                 "--metadata-directive", "REPLACE", "--metadata", "n=2", "--content-type", "text/new")
        h = self.s3.head_object(Bucket=b, Key="dst2")
        self.assertEqual((h["Metadata"], h["ContentType"]), ({"n": "2"}, "text/new"))
        self.aws("s3api", "copy-object", "--bucket", b, "--key", "dst3", "--copy-source", f"{b}/src",
                 "--copy-source-if-match", etag)
        self.aws_fails("s3api", "copy-object", "--bucket", b, "--key", "dst4", "--copy-source", f"{b}/src",
                       "--copy-source-if-match", '"0123456789abcdef0123456789abcdef"', expect="PreconditionFailed")
        self.aws_fails("s3api", "copy-object", "--bucket", b, "--key", "dst5", "--copy-source", f"{b}/src",
                       "--copy-source-if-none-match", etag, expect="PreconditionFailed")
        self.assertEqual(set(self.listing(b)), {"src", "dst1", "dst2", "dst3"})

    def test_s3api_conditional_get(self):
        b = self.new_bucket("cond")
        data = os.urandom(100)
        etag = self.s3.put_object(Bucket=b, Key="c", Body=data)["ETag"]
        out = os.path.join(self.tmp, "cond.out")
        p = self.aws_fails("s3api", "get-object", "--bucket", b, "--key", "c", "--if-none-match", etag, out)
        self.assertIn("304", p.stderr_s)
        self.aws_fails("s3api", "get-object", "--bucket", b, "--key", "c", "--if-match", '"ffff"', out,
                       expect="PreconditionFailed")
        self.aws_fails("s3api", "get-object", "--bucket", b, "--key", "c", "--if-unmodified-since",
                       "2000-01-01T00:00:00Z", out, expect="PreconditionFailed")
        r = self.aws_json("s3api", "get-object", "--bucket", b, "--key", "c", "--if-match", etag,
                          "--if-modified-since", "2000-01-01T00:00:00Z", out)
        self.assertEqual(r["ETag"], etag)
        self.assertEqual(read(out), data)

    def test_put_object_if_none_match_star(self):
        b = self.new_bucket("inm")
        path, _ = harness.make_random_file(self.tmp, "inm.bin", 10)
        p = self.aws("s3api", "put-object", "--bucket", b, "--key", "once", "--body", path, "--if-none-match", "*",
                     check=False)
        if p.returncode != 0 and ("Unknown options" in p.stderr_s or "unknown" in p.stderr_s.lower()):
            # Debian's awscli predates conditional writes: do it with boto3, as the brief allows.
            s3 = harness.boto_client(self.srv)
            harness_put = _boto_put_if_none_match(s3)
            harness_put(b, "once", b"first")
            code, st, _ = harness.client_error(harness_put, b, "once", b"second")
            self.assertEqual((code, st), ("PreconditionFailed", 412))
            self.assertEqual(s3.get_object(Bucket=b, Key="once")["Body"].read(), b"first")
            return
        self.assertEqual(p.returncode, 0, p.stderr_s)
        self.aws_fails("s3api", "put-object", "--bucket", b, "--key", "once", "--body", path, "--if-none-match", "*",
                       expect="PreconditionFailed")

    def test_s3api_multipart(self):
        b = self.new_bucket("mpu")
        p1, _ = harness.make_random_file(self.tmp, "p1", 5 * MiB)
        p2, _ = harness.make_random_file(self.tmp, "p2", 1 * MiB + 17)
        up = self.aws_json("s3api", "create-multipart-upload", "--bucket", b, "--key", "mp/obj",
                           "--content-type", "application/x-mp")["UploadId"]
        self.assertTrue(up)
        lst = self.aws_json("s3api", "list-multipart-uploads", "--bucket", b)
        self.assertIn(("mp/obj", up), [(u["Key"], u["UploadId"]) for u in lst.get("Uploads", [])])
        e1 = self.aws_json("s3api", "upload-part", "--bucket", b, "--key", "mp/obj", "--upload-id", up,
                           "--part-number", 1, "--body", p1)["ETag"]
        e2 = self.aws_json("s3api", "upload-part", "--bucket", b, "--key", "mp/obj", "--upload-id", up,
                           "--part-number", 2, "--body", p2)["ETag"]
        parts = self.aws_json("s3api", "list-parts", "--bucket", b, "--key", "mp/obj", "--upload-id", up)["Parts"]
        self.assertEqual([(p["PartNumber"], p["ETag"], p["Size"]) for p in parts],
                         [(1, e1, 5 * MiB), (2, e2, MiB + 17)])
        spec = os.path.join(self.tmp, "parts.json")
        with open(spec, "w") as f:
            json.dump({"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}, f)
        done = self.aws_json("s3api", "complete-multipart-upload", "--bucket", b, "--key", "mp/obj",
                             "--upload-id", up, "--multipart-upload", f"file://{spec}")
        d1, d2 = read(p1), read(p2)
        self.assertEqual(done["ETag"], harness.multipart_etag([d1, d2]))
        self.assertEqual(self.s3.head_object(Bucket=b, Key="mp/obj")["ContentType"], "application/x-mp")
        self.assertEqual(self.object_sha(b, "mp/obj"), harness.sha256_bytes(d1 + d2))
        lst = self.s3.list_multipart_uploads(Bucket=b)
        self.assertNotIn(up, [u["UploadId"] for u in lst.get("Uploads", [])])
        # abort
        up2 = self.aws_json("s3api", "create-multipart-upload", "--bucket", b, "--key", "mp/aborted")["UploadId"]
        self.aws("s3api", "upload-part", "--bucket", b, "--key", "mp/aborted", "--upload-id", up2,
                 "--part-number", 1, "--body", p2)
        self.aws("s3api", "abort-multipart-upload", "--bucket", b, "--key", "mp/aborted", "--upload-id", up2)
        lst = self.s3.list_multipart_uploads(Bucket=b)
        self.assertNotIn(up2, [u["UploadId"] for u in lst.get("Uploads", [])])
        self.aws_fails("s3api", "list-parts", "--bucket", b, "--key", "mp/aborted", "--upload-id", up2,
                       expect="NoSuchUpload")
        self.assertEqual(set(self.listing(b)), {"mp/obj"})

    def test_s3api_delete_objects(self):
        b = self.new_bucket("delobjs")
        keys = ["a", "b/c", "sp ace", "x&y"]
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=b"0123456789")
        spec = {"Objects": [{"Key": k} for k in keys + ["never-existed"]], "Quiet": False}
        r = self.aws_json("s3api", "delete-objects", "--bucket", b, "--delete", json.dumps(spec))
        self.assertEqual(sorted(d["Key"] for d in r.get("Deleted", [])), sorted(keys + ["never-existed"]))
        self.assertEqual(r.get("Errors", []), [])
        self.assertEqual(self.listing(b), {})

    def test_s3api_list_paging(self):
        b = self.new_bucket("list")
        keys = ["a1", "a2", "a3", "b/1", "b/2", "c/d/e", "f"]
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=b"abc")
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--delimiter", "/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a1", "a2", "a3", "f"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "c/"])
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--prefix", "b/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["b/1", "b/2"])
        # one page at a time
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--max-keys", 2, "--no-paginate")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a1", "a2"])
        self.assertTrue(r["IsTruncated"])
        tok = r["NextContinuationToken"]
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--max-keys", 2, "--no-paginate",
                          "--continuation-token", tok)
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a3", "b/1"])
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--start-after", "b/2", "--no-paginate")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["c/d/e", "f"])
        self.assertFalse(r["IsTruncated"])
        # the CLI's own paginator, two keys per request
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", b, "--page-size", 2)
        self.assertEqual([c["Key"] for c in r["Contents"]], keys)
        # v1 with marker
        r = self.aws_json("s3api", "list-objects", "--bucket", b, "--marker", "a3", "--max-keys", 2, "--no-paginate")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["b/1", "b/2"])
        self.assertTrue(r["IsTruncated"])
        r = self.aws_json("s3api", "list-objects", "--bucket", b, "--page-size", 3)
        self.assertEqual([c["Key"] for c in r["Contents"]], keys)
        r = self.aws_json("s3api", "list-objects", "--bucket", b, "--delimiter", "/", "--page-size", 1)
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a1", "a2", "a3", "f"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "c/"])

    def test_s3api_bucket_ops(self):
        b = self.new_bucket("bops")
        self.aws("s3api", "head-bucket", "--bucket", b)
        loc = self.aws_json("s3api", "get-bucket-location", "--bucket", b)
        self.assertIsNone(loc.get("LocationConstraint"))
        self.aws_fails("s3api", "create-bucket", "--bucket", b, expect="BucketAlreadyOwnedByYou")
        self.aws_fails("s3api", "create-bucket", "--bucket", "Bad_Name", expect="InvalidBucketName")
        names = [x["Name"] for x in self.aws_json("s3api", "list-buckets")["Buckets"]]
        self.assertIn(b, names)
        self.aws("s3api", "delete-bucket", "--bucket", b)
        self.aws_fails("s3api", "delete-bucket", "--bucket", b, expect="NoSuchBucket")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def _boto_put_if_none_match(s3):
    ops = s3.meta.service_model.operation_model("PutObject").input_shape.members
    if "IfNoneMatch" in ops:
        return lambda b, k, body: s3.put_object(Bucket=b, Key=k, Body=body, IfNoneMatch="*")

    def add(request, **kw):
        request.headers["If-None-Match"] = "*"
    s3.meta.events.register("before-sign.s3.PutObject", add)
    return lambda b, k, body: s3.put_object(Bucket=b, Key=k, Body=body)


if __name__ == "__main__":
    harness.main(timeout=560)
