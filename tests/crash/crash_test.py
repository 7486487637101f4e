#!/usr/bin/env python3
"""Crash test: kill -9 emberd under concurrent uploads, restart on the same data dir, verify.

Each round starts emberd on the data dir of the previous round, runs WRITERS boto3 threads that upload small
(4 KiB) and large (8-64 MiB) objects, single PUT and multipart (create/upload-part/complete by hand, 8 MiB
parts), overwrite and delete their own keys, plus one reader thread that checks every GET is a whole version
(never a mix), then kill -9s the server after a random 0.5-3 s and restarts it. An operation counts as
acknowledged only when its final request (PUT, Complete, DELETE) returned 2xx. After each restart:

  * every acknowledged object is present and byte-identical (sha256 of GET), every acknowledged delete holds;
  * an object whose final request was in flight at the kill is absent/old or exactly the new version;
  * ListObjectsV2 agrees with the GETs (same keys, same sizes);
  * a multipart upload that was in progress still lists every acknowledged part (number, ETag, size) and
    completes to exactly those bytes;
and at the end, after deleting everything, no file is left under <data-dir>/data/ (recovery removed the
orphans of the killed uploads) and a graceful SIGTERM exits 0.

Environment: EMBER_BIN (emberd), EMBER_CRASH_ROUNDS (4), EMBER_CRASH_SEED (random), EMBER_CRASH_WRITERS (4).
Run: EMBER_BIN=build/src/app/emberd/emberd python3 tests/crash/crash_test.py
"""

import hashlib
import os
import random
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import harness  # noqa: E402
from harness import KiB, MiB  # noqa: E402

ROUNDS = int(os.environ.get("EMBER_CRASH_ROUNDS", "4"))
WRITERS = int(os.environ.get("EMBER_CRASH_WRITERS", "4"))
SEED = int(os.environ.get("EMBER_CRASH_SEED", str(random.randrange(1 << 30))))
PART = 8 * MiB
SMALL_KEYS, LARGE_KEYS, MP_KEYS = 8, 2, 2

DELETED = None  # a version value meaning "no object"

# Random bytes generated once; every version is a unique 32-byte header + a slice at a random offset, so
# writers spend the load window uploading, not generating, and no two versions share their content.
POOL = os.urandom(64 * MiB + 8 * MiB)
_version_counter = iter(range(1 << 62))
_version_lock = threading.Lock()


def make_data(size, rng):
    with _version_lock:
        n = next(_version_counter)
    header = hashlib.sha256(f"{SEED}/{n}".encode()).digest()  # 32 bytes, unique per version
    if size <= len(header):
        return header[:size]
    off = rng.randrange(len(POOL) - size)
    return header + POOL[off:off + size - len(header)]


def sha(b):
    return hashlib.sha256(b).hexdigest()


class KeyState:
    """The versions a key went through, in order. history[acked] is the last acknowledged one; entries after it
    were sent but not acknowledged (at most one per round, since one writer owns a key)."""

    def __init__(self):
        self.history = [DELETED]
        self.acked = 0
        self.sizes = {DELETED: None}

    def begin(self, version, size):
        self.history.append(version)
        self.sizes[version] = size
        return len(self.history) - 1

    def ack(self, idx):
        self.acked = idx

    def possible(self, start=None, end=None):
        return self.history[self.acked if start is None else start:end]


class Shared:
    def __init__(self, bucket):
        self.bucket = bucket
        self.lock = threading.Lock()
        self.keys = {}
        self.stop = threading.Event()
        self.killed = threading.Event()
        self.errors = []
        self.stats = {"small": 0, "large": 0, "multipart": 0, "delete": 0, "parts": 0, "reads": 0}

    def state(self, key):
        with self.lock:
            return self.keys.setdefault(key, KeyState())

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)

    def count(self, what):
        with self.lock:
            self.stats[what] += 1


class Writer(threading.Thread):
    def __init__(self, idx, srv, shared, rng):
        super().__init__(daemon=True, name=f"writer-{idx}")
        self.idx, self.srv, self.sh, self.rng = idx, srv, shared, rng
        self.s3 = harness.boto_client(srv, retries=1, connect_timeout=5, read_timeout=60)
        self.mpu = None  # in-progress multipart upload, examined after the restart

    def run(self):
        while not self.sh.stop.is_set():
            r = self.rng.random()
            try:
                if r < 0.55:
                    self.put(f"w{self.idx}/small/{self.rng.randrange(SMALL_KEYS)}", 4 * KiB, "small")
                elif r < 0.70:
                    size = self.rng.choice([8, 8, 16, 32, 64]) * MiB + self.rng.randrange(KiB)
                    self.put(f"w{self.idx}/large/{self.rng.randrange(LARGE_KEYS)}", size, "large")
                elif r < 0.85:
                    self.multipart(f"w{self.idx}/mp/{self.rng.randrange(MP_KEYS)}", self.rng.randint(2, 8))
                else:
                    self.delete(self.rng.choice([f"w{self.idx}/small/{self.rng.randrange(SMALL_KEYS)}",
                                                 f"w{self.idx}/large/{self.rng.randrange(LARGE_KEYS)}"]))
            except Exception as e:  # noqa: BLE001
                if not self.sh.killed.is_set():
                    self.sh.error(f"{self.name}: request failed before the kill: {type(e).__name__}: {e}")
                return

    def put(self, key, size, kind):
        data = make_data(size, self.rng)
        st = self.sh.state(key)
        with self.sh.lock:
            i = st.begin(sha(data), size)
        r = self.s3.put_object(Bucket=self.sh.bucket, Key=key, Body=data)
        if r["ResponseMetadata"]["HTTPStatusCode"] == 200:
            with self.sh.lock:
                st.ack(i)
            self.sh.count(kind)

    def delete(self, key):
        st = self.sh.state(key)
        with self.sh.lock:
            i = st.begin(DELETED, None)
        r = self.s3.delete_object(Bucket=self.sh.bucket, Key=key)
        if r["ResponseMetadata"]["HTTPStatusCode"] == 204:
            with self.sh.lock:
                st.ack(i)
            self.sh.count("delete")

    def multipart(self, key, nparts):
        data = make_data(nparts * PART - self.rng.randrange(PART // 2), self.rng)
        up = self.s3.create_multipart_upload(Bucket=self.sh.bucket, Key=key)["UploadId"]
        self.mpu = {"key": key, "upload_id": up, "data": data, "acked_parts": [], "complete_sent": False,
                    "version_idx": None}
        for n in range(1, nparts + 1):
            if self.sh.stop.is_set():
                return
            body = data[(n - 1) * PART:n * PART]
            etag = self.s3.upload_part(Bucket=self.sh.bucket, Key=key, UploadId=up, PartNumber=n, Body=body)["ETag"]
            self.mpu["acked_parts"].append((n, etag, len(body)))
            self.sh.count("parts")
        st = self.sh.state(key)
        with self.sh.lock:
            i = st.begin(sha(data), len(data))
        self.mpu["complete_sent"], self.mpu["version_idx"] = True, i
        self.s3.complete_multipart_upload(Bucket=self.sh.bucket, Key=key, UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e, _ in self.mpu["acked_parts"]]})
        with self.sh.lock:
            st.ack(i)
        self.mpu = None
        self.sh.count("multipart")


class Reader(threading.Thread):
    """GETs random keys during the load; every body must be one whole version current during the GET."""

    def __init__(self, srv, shared, rng):
        super().__init__(daemon=True, name="reader")
        self.srv, self.sh, self.rng = srv, shared, rng
        self.s3 = harness.boto_client(srv, retries=1, connect_timeout=5, read_timeout=60)

    def run(self):
        from botocore.exceptions import ClientError
        while not self.sh.stop.is_set():
            with self.sh.lock:
                keys = list(self.sh.keys)
            if not keys:
                time.sleep(0.02)
                continue
            key = self.rng.choice(keys)
            st = self.sh.state(key)
            with self.sh.lock:
                start = st.acked
            try:
                body = self.s3.get_object(Bucket=self.sh.bucket, Key=key)["Body"].read()
                got = sha(body)
            except ClientError as e:
                if e.response["Error"]["Code"] != "NoSuchKey":
                    if not self.sh.killed.is_set():
                        self.sh.error(f"reader: GET {key}: {e}")
                    return
                got, body = DELETED, b""
            except Exception as e:  # noqa: BLE001
                if not self.sh.killed.is_set():
                    self.sh.error(f"reader: GET {key} failed before the kill: {type(e).__name__}: {e}")
                return
            with self.sh.lock:
                possible = st.possible(start)
            if got not in possible and not self.sh.killed.is_set():
                self.sh.error(f"reader: GET {key} returned {len(body)} bytes sha {str(got)[:12]} which is none of "
                              f"the versions current during the GET ({[str(v)[:12] for v in possible]}): torn read")
            self.sh.count("reads")


class CrashTest(unittest.TestCase):
    def test_kill9_under_load(self):
        print(f"crash test: seed={SEED} rounds={ROUNDS} writers={WRITERS}", flush=True)
        rng = random.Random(SEED)
        srv = harness.Emberd()
        srv.start()
        s3 = harness.boto_client(srv)
        bucket = "crash-" + str(SEED)
        s3.create_bucket(Bucket=bucket)
        shared = Shared(bucket)
        t_start = time.monotonic()
        for rnd in range(1, ROUNDS + 1):
            shared.stop.clear()
            shared.killed.clear()
            writers = [Writer(i, srv, shared, random.Random(rng.random())) for i in range(WRITERS)]
            reader = Reader(srv, shared, random.Random(rng.random()))
            for t in writers + [reader]:
                t.start()
            load = rng.uniform(0.5, 3.0)
            time.sleep(load)
            shared.killed.set()
            srv.kill9()
            shared.stop.set()
            for t in writers + [reader]:
                t.join(timeout=90)
                self.assertFalse(t.is_alive(), f"{t.name} still running 90 s after the kill")
            self.assertEqual(shared.errors, [], f"round {rnd}: errors before the kill")
            files_after_kill = srv.data_files()
            srv.start(timeout=60)
            s3 = harness.boto_client(srv)
            pending = self.verify(srv, s3, shared, writers, rnd)
            print(f"round {rnd}: killed after {load:.2f}s, {pending} ops in flight, data files at kill "
                  f"{files_after_kill}, after restart {srv.data_files()}, acked so far {shared.stats}", flush=True)

        self.assertGreater(shared.stats["small"], 0, "no upload was ever acknowledged: the test proved nothing")
        # Clean up through the API; then nothing may remain under data/ (orphans of killed uploads included).
        self.delete_everything(s3, bucket)
        try:
            harness.wait_until(lambda: srv.data_files() == 0, 20, 0.2, what="data files to reach zero")
        except AssertionError:
            leftovers = []
            for dp, _dn, fn in os.walk(os.path.join(srv.data_dir, "data")):
                leftovers += [os.path.relpath(os.path.join(dp, f), srv.data_dir) for f in fn]
            self.fail(f"{len(leftovers)} orphan data files after deleting every object: {leftovers[:20]}")
        code = srv.stop()
        self.assertEqual(code, 0, "emberd did not exit 0 on SIGTERM")
        # and a restart of the empty store keeps it empty
        srv.start(timeout=60)
        s3 = harness.boto_client(srv)
        self.assertEqual(s3.list_buckets()["Buckets"], [])
        self.assertEqual(srv.data_files(), 0)
        self.assertEqual(srv.stop(), 0)
        print(f"crash test done in {time.monotonic() - t_start:.1f}s: {shared.stats}", flush=True)

    def verify(self, srv, s3, shared, writers, rnd):
        from botocore.exceptions import ClientError
        bucket = shared.bucket
        # 1. in-progress multipart uploads: acknowledged parts survive and complete to exactly their bytes
        for w in writers:
            mpu = w.mpu
            if not mpu:
                continue
            key, up = mpu["key"], mpu["upload_id"]
            st = shared.state(key)
            if mpu["complete_sent"]:
                continue  # outcome decided by the object check below; leftovers are aborted at the end
            try:
                parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=up).get("Parts", [])
            except ClientError as e:
                self.fail(f"round {rnd}: multipart upload {up} for {key} (created and acknowledged) is gone after "
                          f"the restart: {e}")
            got = [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts]
            acked = mpu["acked_parts"]
            for p in acked:
                self.assertIn(p, got, f"round {rnd}: acknowledged part {p} of {key} lost after kill -9 "
                                      f"(parts listed: {got})")
            if acked:
                s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": e} for n, e, _ in acked]})
                size = sum(s for _, _, s in acked)
                with shared.lock:
                    st.ack(st.begin(sha(mpu["data"][:size]), size))
            else:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
            w.mpu = None
        # 2. every key: present and identical when acknowledged, never partial
        present, pending = {}, 0
        for key, st in sorted(shared.keys.items()):
            possible = st.possible()
            pending += len(possible) - 1
            try:
                obj = s3.get_object(Bucket=bucket, Key=key)
                body = obj["Body"].read()
                got = sha(body)
                self.assertEqual(obj["ContentLength"], len(body))
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "NoSuchKey", f"GET {key}: {e}")
                got, body = DELETED, None
            except Exception as e:  # noqa: BLE001  (e.g. botocore's CRC32 validation of the body)
                self.fail(f"round {rnd}: GET {key} after kill -9 failed: {type(e).__name__}: {e}")
            if got not in possible:
                acked = possible[0]
                what = ("absent" if got is DELETED else f"{len(body)} bytes, sha {got[:12]}")
                self.fail(f"round {rnd}: {key} after kill -9 is {what}; acknowledged version: "
                          f"{'deleted' if acked is DELETED else f'{st.sizes[acked]} bytes sha {acked[:12]}'}, "
                          f"in-flight versions: {[(str(v)[:12], st.sizes[v]) for v in possible[1:]]}")
            with shared.lock:
                st.history, st.acked = [got], 0
                st.sizes = {got: None if body is None else len(body)}
            if got is not DELETED:
                present[key] = len(body)
        # 3. the listing agrees with the GETs
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7}):
            for c in page.get("Contents", []):
                listed[c["Key"]] = c["Size"]
        self.assertEqual(listed, present, f"round {rnd}: ListObjectsV2 disagrees with GET")
        # 4. leftover uploads (completes in flight at the kill) are abortable
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        self.assertEqual(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])
        return pending

    def delete_everything(self, s3, bucket):
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys += [c["Key"] for c in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]]})
            self.assertEqual(r.get("Errors", []), [])
        self.assertEqual(s3.list_objects_v2(Bucket=bucket)["KeyCount"], 0)
        s3.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    harness.main(timeout=175)
