#!/usr/bin/env python3
"""Helpers for the tier rows of the Ember benchmark (bench/tier.sh): seeding Azurite, timing cold GETs
through emberd against direct GETs from Azurite, 32 concurrent readers, counting Azurite's requests from its
--debug log, and the write-back drain (PUTs through S3, then the admin API's flush barrier).

Python 3 stdlib only (the Azure SDK is not needed: requests to Azurite carry a container SAS from azsas.py,
requests to emberd a SigV4 presigned URL from s3sign.py). Every command prints one JSON object."""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azsas  # noqa: E402
import s3sign  # noqa: E402

ACCESS_KEY = os.environ.get("BENCH_ACCESS_KEY", "AKIDBENCH")
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-secret-key")
REGION = os.environ.get("BENCH_REGION", "us-east-1")
MSV = azsas.VERSION
MiB = 1 << 20
BUF = 1 << 20


def hostport(endpoint):
    u = urllib.parse.urlsplit(endpoint)
    return u.hostname, u.port


class Az:
    """Azurite (path style: http://host:port/<account>/<container>/<blob>) with a container SAS per container."""

    def __init__(self, endpoint, account=azsas.ACCOUNT):
        self.host, self.port = hostport(endpoint)
        self.account = account
        self._sas = {}

    def sas(self, container):
        if container not in self._sas:
            self._sas[container] = azsas.container_sas(container, "racwdl")
        return self._sas[container]

    def path(self, container, blob=None, extra=""):
        p = f"/{self.account}/{container}"
        if blob is not None:
            p += "/" + urllib.parse.quote(blob)
        return p + "?" + (extra + "&" if extra else "") + self.sas(container)

    def conn(self, timeout=300):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def req(self, conn, method, path, body=None, headers=None, ok=(200, 201, 202)):
        h = {"x-ms-version": MSV}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        if r.status not in ok:
            raise RuntimeError(f"{method} {path.split('?')[0]}: HTTP {r.status} {data[:300]!r}")
        return r, data

    def mkcontainer(self, container):
        c = self.conn()
        # Create Container needs an account-level path plus restype; the container SAS does not cover it:
        # use an account SAS.
        q = "restype=container&" + azsas.account_sas("racwdl")
        self.req(c, "PUT", f"/{self.account}/{container}?{q}", ok=(201, 409))
        c.close()

    def put_blob(self, conn, container, blob, data, block=8 * MiB):
        """Put Blob up to `block` bytes; larger: Put Block of `block` bytes each + Put Block List."""
        if len(data) <= block:
            self.req(conn, "PUT", self.path(container, blob), body=data,
                     headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})
            return
        ids = []
        mv = memoryview(data)
        for i, off in enumerate(range(0, len(data), block)):
            bid = urllib.parse.quote(("%08d" % i).encode().hex())
            ids.append(("%08d" % i).encode().hex())
            self.req(conn, "PUT", self.path(container, blob, f"comp=block&blockid={bid}"),
                     body=bytes(mv[off:off + block]))
        xml = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + \
            "".join(f"<Latest>{b}</Latest>" for b in ids) + "</BlockList>"
        self.req(conn, "PUT", self.path(container, blob, "comp=blocklist"), body=xml.encode())

    def delete_container(self, container):
        c = self.conn()
        q = "restype=container&" + azsas.account_sas("racwdl")
        self.req(c, "DELETE", f"/{self.account}/{container}?{q}", ok=(202, 404))
        c.close()

    def list_blobs(self, container, prefix=""):
        """[(name, size)] of every blob under prefix."""
        c = self.conn()
        out, marker = [], ""
        while True:
            extra = "restype=container&comp=list&maxresults=5000" + \
                (f"&prefix={urllib.parse.quote(prefix, safe='')}" if prefix else "") + \
                (f"&marker={urllib.parse.quote(marker, safe='')}" if marker else "")
            _, data = self.req(c, "GET", self.path(container, None, extra))
            text = data.decode()
            for m in re.finditer(r"<Blob>.*?<Name>(.*?)</Name>.*?<Content-Length>(\d+)</Content-Length>.*?</Blob>",
                                 text, re.S):
                out.append((m.group(1), int(m.group(2))))
            mm = re.search(r"<NextMarker>(.*?)</NextMarker>", text)
            marker = mm.group(1) if mm else ""
            if not marker:
                break
        c.close()
        return out


def patterned(size, seed):
    """`size` pseudo-random bytes, different per seed, cheap to make: a 1 MiB random block, its first 16 bytes
    replaced by the seed (so no two objects are equal; content dedupe cannot help anyone)."""
    base = os.urandom(min(size, MiB))
    rep = (size + len(base) - 1) // len(base)
    b = bytearray(base * rep)[:size]
    tag = hashlib.md5(str(seed).encode()).digest()
    for off in range(0, size, MiB):
        b[off:off + 16] = tag
    return bytes(b)


# ---------------------------------------------------------------- seed
def cmd_seed(a):
    az = Az(a.azurite)
    az.mkcontainer(a.container)
    names = [a.fmt % i if "%" in a.fmt else a.fmt for i in range(a.count)]
    t0 = time.time()
    local = threading.local()
    # One random buffer per thread, re-tagged per object (making 1 MiB of urandom per object would cost more
    # than the upload of it on 2 cores).
    def one(name):
        if not hasattr(local, "conn"):
            local.conn = az.conn()
            local.buf = bytearray(patterned(a.size, name))
        tag = hashlib.md5(name.encode()).digest()
        for off in range(0, a.size, MiB):
            local.buf[off:off + 16] = tag
        for attempt in range(3):
            try:
                az.put_blob(local.conn, a.container, name, bytes(local.buf))
                return
            except (OSError, http.client.HTTPException):
                local.conn.close()
                local.conn = az.conn()
                if attempt == 2:
                    raise
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        list(ex.map(one, names))
    print(json.dumps({"objects": a.count, "bytes": a.count * a.size, "seconds": round(time.time() - t0, 2)}))


def cmd_mkcontainer(a):
    Az(a.azurite).mkcontainer(a.container)


def cmd_rmcontainer(a):
    Az(a.azurite).delete_container(a.container)


def cmd_list(a):
    blobs = Az(a.azurite).list_blobs(a.container, a.prefix)
    print(json.dumps({"objects": len(blobs), "bytes": sum(s for _, s in blobs)}))


# ---------------------------------------------------------------- timed GETs
def timed_get(host, port, path, headers=None, timeout=300):
    """One GET on a fresh connection: (status, seconds to the response headers, seconds to the first body
    byte, seconds to the last byte, body bytes, md5 of the body)."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    th = time.perf_counter() - t0
    md5 = hashlib.md5()
    first = r.read1(BUF) if hasattr(r, "read1") else r.read(1)
    tf = time.perf_counter() - t0
    n = len(first)
    md5.update(first)
    while True:
        b = r.read1(BUF) if hasattr(r, "read1") else r.read(BUF)
        if not b:
            break
        n += len(b)
        md5.update(b)
    tt = time.perf_counter() - t0
    c.close()
    return r.status, th, tf, tt, n, md5.hexdigest()


def cmd_ttfb(a):
    """For each of `count` cold objects: a direct GET from Azurite, then a GET through emberd of another object of
    the same size that emberd has never seen (a miss each time). Alternates which goes first. Each GET reads the
    whole body (so the fill of the previous object is over before the next timing)."""
    az = Az(a.azurite)
    ehost, eport = hostport(a.ember)
    pre = s3sign.Presigner(f"{ehost}:{eport}", ACCESS_KEY, SECRET_KEY, REGION)
    rows = []
    for i in range(a.count):
        # The same object both ways: Azurite (in memory) serves it the same the second time, and emberd has
        # never seen it, so its GET is a miss.
        direct_name = ember_name = a.fmt % i
        order = ["az", "ember"] if i % 2 == 0 else ["ember", "az"]
        rec = {}
        for who in order:
            if who == "az":
                st, th, tf, tt, n, _ = timed_get(az.host, az.port, az.path(a.container, direct_name),
                                                 {"x-ms-version": MSV})
            else:
                url = pre.url("GET", "/" + a.bucket + "/" + s3sign.uri_encode(ember_name, False))
                u = urllib.parse.urlsplit(url)
                st, th, tf, tt, n, _ = timed_get(ehost, eport, u.path + "?" + u.query)
            if st != 200 or n != a.size:
                raise SystemExit(f"{who} GET {ember_name if who == 'ember' else direct_name}: HTTP {st}, {n} bytes")
            rec[who] = {"hdr_ms": th * 1e3, "ttfb_ms": tf * 1e3, "total_ms": tt * 1e3}
        rows.append(rec)
    med = lambda who, k: statistics.median(r[who][k] for r in rows)  # noqa: E731
    mx = lambda who, k: max(r[who][k] for r in rows)  # noqa: E731
    out = {"count": len(rows)}
    for who in ("az", "ember"):
        for k in ("hdr_ms", "ttfb_ms", "total_ms"):
            out[f"{who}_{k}_p50"] = round(med(who, k), 3)
            out[f"{who}_{k}_max"] = round(mx(who, k), 3)
    out["ember_ttfb_all"] = [round(r["ember"]["ttfb_ms"], 1) for r in rows]
    out["az_ttfb_all"] = [round(r["az"]["ttfb_ms"], 1) for r in rows]
    print(json.dumps(out))


def cmd_conc(a):
    """`n` curl processes GET one URL at once (to /dev/null); prints wall time and per-reader figures."""
    procs = []
    t0 = time.time()
    for _ in range(a.n):
        procs.append(subprocess.Popen(
            ["curl", "-sS", "-m", str(a.timeout), "-o", "/dev/null", "-H", f"x-ms-version: {MSV}",
             "-w", "%{http_code} %{time_starttransfer} %{time_total} %{size_download}", a.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        o, e = p.communicate()
        outs.append((o.strip(), e.strip()))
    wall = time.time() - t0
    ok = 0
    ttfb, total, errs = [], [], []
    for o, e in outs:
        parts = o.split()
        if len(parts) == 4 and parts[0] == "200" and int(parts[3]) == a.size:
            ok += 1
            ttfb.append(float(parts[1]) * 1e3)
            total.append(float(parts[2]))
        else:
            errs.append(f"{o} {e}"[:200])
    res = {"n": a.n, "ok": ok, "wall_s": round(wall, 3), "errors": errs[:3]}
    if ok:
        res.update(ttfb_ms_p50=round(statistics.median(ttfb), 1), ttfb_ms_max=round(max(ttfb), 1),
                   total_s_min=round(min(total), 3), total_s_max=round(max(total), 3),
                   mib_s=round(ok * a.size / MiB / wall, 1))
    print(json.dumps(res))


def cmd_md5(a):
    """md5 of the body of a GET of `url` (any URL: presigned or with a SAS)."""
    u = urllib.parse.urlsplit(a.url)
    st, _, _, tt, n, md5 = timed_get(u.hostname, u.port, u.path + ("?" + u.query if u.query else ""),
                                     {"x-ms-version": MSV})
    print(json.dumps({"status": st, "bytes": n, "md5": md5, "seconds": round(tt, 3)}))


def cmd_blob_url(a):
    az = Az(a.azurite)
    print(f"http://{az.host}:{az.port}" + az.path(a.container, a.blob))


def cmd_presign(a):
    h, p = hostport(a.ember)
    print(s3sign.Presigner(f"{h}:{p}", ACCESS_KEY, SECRET_KEY, REGION).url(
        a.method, "/" + a.bucket + "/" + s3sign.uri_encode(a.key, False)))


def cmd_blob_md5(a):
    """md5 of what Azurite holds (a direct GET)."""
    az = Az(a.azurite)
    st, _, _, tt, n, md5 = timed_get(az.host, az.port, az.path(a.container, a.blob), {"x-ms-version": MSV})
    print(json.dumps({"status": st, "bytes": n, "md5": md5, "seconds": round(tt, 3)}))


# ---------------------------------------------------------------- Azurite's debug log
LOG_RE = re.compile(r"RequestMethod=(\w+) RequestURL=(\S+) RequestHeaders:(\{.*?\}) ClientIP")


def requests_in(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    out = []
    for m in LOG_RE.finditer(text):
        try:
            headers = json.loads(m.group(3))
        except ValueError:
            headers = {}
        p = urllib.parse.unquote(urllib.parse.urlsplit(m.group(2)).path)
        out.append((m.group(1), p, headers.get("x-ms-range") or headers.get("range")))
    return out


def cmd_logsize(a):
    print(os.path.getsize(a.log) if os.path.exists(a.log) else 0)


def cmd_fetches(a):
    """Counts the requests Azurite served for one blob since `offset` of its debug log, and how often each
    aligned chunk of `chunk` bytes was covered by a GET."""
    path = f"/{a.account}/{a.container}/{a.blob}"
    reqs = [r for r in requests_in(a.log, a.offset) if r[1] == path]
    gets = [r[2] for r in reqs if r[0] == "GET"]
    heads = sum(1 for r in reqs if r[0] == "HEAD")
    nchunks = (a.size + a.chunk - 1) // a.chunk
    cover = [0] * nchunks
    unaligned = 0
    for rng in gets:
        if not rng:
            lo, hi = 0, a.size - 1
        else:
            m = re.match(r"bytes=(\d+)-(\d*)", rng)
            lo = int(m.group(1))
            hi = min(int(m.group(2)) if m.group(2) else a.size - 1, a.size - 1)
        if lo % a.chunk or (hi + 1) % a.chunk and hi + 1 != a.size:
            unaligned += 1
        for c in range(lo // a.chunk, hi // a.chunk + 1):
            cover[c] += 1
    print(json.dumps({"gets": len(gets), "heads": heads, "chunks": nchunks,
                      "exactly_once": all(c == 1 for c in cover), "max_per_chunk": max(cover),
                      "missing": sum(1 for c in cover if c == 0), "unaligned": unaligned,
                      "ranges": gets[:4]}))


# ---------------------------------------------------------------- write-back drain
def admin(host, port, method, path, timeout=60):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise SystemExit(f"admin {method} {path}: HTTP {r.status} {body[:300]!r}")
    return json.loads(body)


def cmd_drain(a):
    """PUTs every file of `dir` (sorted) into ember bucket `bucket` under `prefix` with `threads` workers,
    takes a flush barrier on bucket/prefix after the last acknowledgement and waits for it. Times: first ack,
    last ack, barrier done."""
    ehost, eport = hostport(a.ember)
    pre = s3sign.Presigner(f"{ehost}:{eport}", ACCESS_KEY, SECRET_KEY, REGION)
    files = sorted(os.listdir(a.dir))
    # The biggest first: the write-back of a 64 MiB object should overlap the small ones, not trail them.
    files.sort(key=lambda f: -os.path.getsize(os.path.join(a.dir, f)))
    bodies = {f: open(os.path.join(a.dir, f), "rb").read() for f in files}
    total = sum(len(b) for b in bodies.values())
    acks = []
    lock = threading.Lock()
    local = threading.local()

    def one(f):
        url = pre.url("PUT", "/" + a.bucket + "/" + s3sign.uri_encode(a.prefix + f, False))
        u = urllib.parse.urlsplit(url)
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(ehost, eport, timeout=300)
        local.conn.request("PUT", u.path + "?" + u.query, body=bodies[f],
                           headers={"Content-Type": "application/octet-stream"})
        r = local.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"PUT {f}: HTTP {r.status} {body[:300]!r}")
        with lock:
            acks.append(time.time())

    t_start = time.time()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        list(ex.map(one, files))
    t_last = time.time()
    q = f"bucket={urllib.parse.quote(a.bucket)}&prefix={urllib.parse.quote(a.prefix, safe='')}"
    ahost, aport = hostport(a.admin)
    r = admin(ahost, aport, "POST", f"/tier/flush?{q}")
    first_pending = r.get("pending_bytes")
    deadline = time.time() + a.timeout
    while not r["done"]:
        if time.time() > deadline:
            raise SystemExit(f"flush barrier {r['barrier']} not done after {a.timeout} s: {r}")
        r = admin(ahost, aport, "GET", f"/tier/flush?{q}&barrier={r['barrier']}&wait=30", timeout=60)
    t_done = time.time()
    t_first = min(acks)
    print(json.dumps({
        "objects": len(files), "bytes": total, "put_s": round(t_last - t_start, 3),
        "put_mib_s": round(total / MiB / (t_last - t_start), 1),
        "drain_s": round(t_done - t_first, 3), "drain_mib_s": round(total / MiB / (t_done - t_first), 1),
        "after_last_ack_s": round(t_done - t_last, 3), "pending_bytes_at_barrier": first_pending,
        "last_error": r.get("last_error", "")}))


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *args):
        p = sp.add_parser(name)
        for flag, kw in args:
            p.add_argument(flag, **kw)
        p.set_defaults(fn=fn)

    AZ = ("--azurite", {"required": True})
    C = ("--container", {"required": True})
    add("seed", cmd_seed, AZ, C, ("--fmt", {"required": True}), ("--count", {"type": int, "required": True}),
        ("--size", {"type": int, "required": True}), ("--threads", {"type": int, "default": 8}))
    add("mkcontainer", cmd_mkcontainer, AZ, C)
    add("rmcontainer", cmd_rmcontainer, AZ, C)
    add("list", cmd_list, AZ, C, ("--prefix", {"default": ""}))
    add("ttfb", cmd_ttfb, AZ, C, ("--ember", {"required": True}), ("--bucket", {"required": True}),
        ("--fmt", {"required": True}), ("--count", {"type": int, "required": True}),
        ("--size", {"type": int, "required": True}))
    add("conc", cmd_conc, ("--url", {"required": True}), ("--n", {"type": int, "default": 32}),
        ("--size", {"type": int, "required": True}), ("--timeout", {"type": int, "default": 300}))
    add("md5", cmd_md5, ("--url", {"required": True}))
    add("blob-url", cmd_blob_url, AZ, C, ("--blob", {"required": True}))
    add("blob-md5", cmd_blob_md5, AZ, C, ("--blob", {"required": True}))
    add("presign", cmd_presign, ("--ember", {"required": True}), ("--bucket", {"required": True}),
        ("--key", {"required": True}), ("--method", {"default": "GET"}))
    add("logsize", cmd_logsize, ("--log", {"required": True}))
    add("fetches", cmd_fetches, ("--log", {"required": True}), ("--offset", {"type": int, "default": 0}),
        ("--account", {"default": azsas.ACCOUNT}), C, ("--blob", {"required": True}),
        ("--size", {"type": int, "required": True}), ("--chunk", {"type": int, "required": True}))
    add("drain", cmd_drain, ("--ember", {"required": True}), ("--admin", {"required": True}),
        ("--bucket", {"required": True}), ("--prefix", {"default": ""}), ("--dir", {"required": True}),
        ("--threads", {"type": int, "default": 8}), ("--timeout", {"type": int, "default": 300}))
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
