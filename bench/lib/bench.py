#!/usr/bin/env python3
"""Helpers for bench/run.sh: S3 set-up calls, presigned-URL lists for wrk, Blob (Azure) set-up calls
and SAS tokens, the LIST walker, an RSS sampler, result records and the final table /
docs/benchmarks.md. Python 3 stdlib + boto3."""

import argparse
import datetime
import http.client
import json
import os
import re
import signal
import sys
import time
import xml.sax.saxutils

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azsas  # noqa: E402
import s3sign  # noqa: E402

ACCESS_KEY = os.environ.get("BENCH_ACCESS_KEY", "AKIDBENCH")
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-secret-key")
REGION = os.environ.get("BENCH_REGION", "us-east-1")


def s3client(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


def host_of(endpoint):
    return endpoint.split("://", 1)[1].rstrip("/")


# ---------------------------------------------------------------- S3 set-up
def cmd_selftest(a):
    s3sign.selftest(a.endpoint, ACCESS_KEY, SECRET_KEY, REGION)


def cmd_mkbucket(a):
    s3client(a.endpoint).create_bucket(Bucket=a.bucket)


def cmd_put_file(a):
    with open(a.file, "rb") as f:
        s3client(a.endpoint).put_object(Bucket=a.bucket, Key=a.key, Body=f)


def cmd_presign(a):
    p = s3sign.Presigner(host_of(a.endpoint), ACCESS_KEY, SECRET_KEY, REGION, a.expires)
    print(p.url(a.method, "/" + a.bucket + "/" + s3sign.uri_encode(a.key, False)))


def cmd_sigs(a):
    """Per-thread signature files for bench/lua/s3.lua; prints the common query string."""
    p = s3sign.Presigner(host_of(a.endpoint), ACCESS_KEY, SECRET_KEY, REGION, a.expires)
    fmt = "/" + a.bucket + "/" + a.keyfmt
    sign = p.signature
    d = a.dirsize
    for t in range(a.threads):
        with open(f"{a.out}.{t}", "w") as f:
            if d:  # two-level keys, e.g. dir%04d/file%06d: key i is in directory i // dirsize
                f.write("\n".join(sign(a.method, fmt % (i // d, i)) for i in range(t, a.count, a.threads)))
            else:
                f.write("\n".join(sign(a.method, fmt % i) for i in range(t, a.count, a.threads)))
            f.write("\n")
    print(p.common_query)


# ---------------------------------------------------------------- Blob (Azure) set-up
def cmd_blob_sas(a):
    """Prints the query string (no '?') of a container SAS (default) or an account SAS."""
    if a.account_sas:
        print(azsas.account_sas(a.permissions or "racwdl"))
    else:
        print(azsas.container_sas(a.container, a.permissions or "racwd"))


def cmd_blob_selftest(a):
    """Checks azsas' signatures against the Azure SDK: in this Python if it has azure-storage-blob,
    else in Debian's /usr/bin/python3 (where scripts/install-deps puts python3-azure-storage)."""
    import subprocess
    if azsas.selftest():
        print("azsas: SAS signatures match azure-storage-blob's", file=sys.stderr)
        return
    other = "/usr/bin/python3"
    if os.path.exists(other) and os.path.realpath(other) != os.path.realpath(sys.executable):
        r = subprocess.run([other, os.path.join(os.path.dirname(os.path.abspath(__file__)), "azsas.py")],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"azsas selftest failed: {r.stdout}{r.stderr}")
        print(f"azsas ({other}): {r.stdout.strip()}", file=sys.stderr)
        return
    print("azsas: no azure-storage-blob to check the SAS signatures against (the servers still check them)",
          file=sys.stderr)


def _blob_conn(endpoint):
    h, port = host_of(endpoint).rsplit(":", 1)
    return http.client.HTTPConnection(h, int(port), timeout=60)


def _blob_req(conn, method, path, headers=None, body=b"", ok=(200, 201, 202)):
    hdrs = {"x-ms-version": azsas.VERSION, "Content-Length": str(len(body))}
    hdrs.update(headers or {})
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    if r.status not in ok:
        raise SystemExit(f"blob: {method} {path.split('?')[0]}: HTTP {r.status}: {data[:400]!r}")
    return r.status


def cmd_blob_mkcontainer(a):
    """Creates a container through an account SAS; an existing one (409) is fine (emberd: the S3 bucket)."""
    c = _blob_conn(a.endpoint)
    _blob_req(c, "PUT", f"/{azsas.ACCOUNT}/{a.container}?restype=container&{azsas.account_sas()}",
              ok=(201, 409))


def cmd_blob_mkappend(a):
    """Creates a.count empty append blobs a.pathfmt % i (a path under /account/container/)."""
    c = _blob_conn(a.endpoint)
    q = azsas.container_sas(a.container)
    for i in range(a.count):
        _blob_req(c, "PUT", f"{a.pathfmt % i}?{q}", {"x-ms-blob-type": "AppendBlob"}, ok=(201,))


# ---------------------------------------------------------------- LIST walker
KEY_RE = re.compile(rb"<Contents>.*?<Key>([^<]*)</Key>", re.S)
PFX_RE = re.compile(rb"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>", re.S)
TOK_RE = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
TRUNC_RE = re.compile(rb"<IsTruncated>\s*true\s*</IsTruncated>")


class Lister:
    def __init__(self, endpoint, bucket, max_keys):
        self.host = host_of(endpoint)
        h, port = self.host.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(h, int(port), timeout=120)
        self.p = s3sign.Presigner(self.host, ACCESS_KEY, SECRET_KEY, REGION, 6 * 3600)
        self.bucket = bucket
        self.max_keys = max_keys
        self.pages = 0
        self.page_ms = []

    def pages_of(self, prefix="", delimiter=None):
        """Yields (keys, prefixes) per page of ListObjectsV2."""
        token = None
        while True:
            params = {"list-type": "2", "max-keys": str(self.max_keys)}
            if prefix:
                params["prefix"] = prefix
            if delimiter:
                params["delimiter"] = delimiter
            if token:
                params["continuation-token"] = token
            t0 = time.perf_counter()
            self.conn.request("GET", self.p.path_and_query("GET", "/" + self.bucket, params))
            r = self.conn.getresponse()
            body = r.read()
            self.page_ms.append((time.perf_counter() - t0) * 1000)
            self.pages += 1
            if r.status != 200:
                raise SystemExit(f"list: HTTP {r.status}: {body[:500]!r}")
            keys = KEY_RE.findall(body)
            pfx = PFX_RE.findall(body)
            yield keys, pfx
            if not TRUNC_RE.search(body):
                return
            m = TOK_RE.search(body)
            if not m:
                raise SystemExit("list: IsTruncated without NextContinuationToken")
            token = xml.sax.saxutils.unescape(m.group(1).decode())


def cmd_list(a):
    lst = Lister(a.endpoint, a.bucket, a.max_keys)
    keys = prefixes = 0
    last = b""
    out_of_order = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    if a.mode == "flat":
        for ks, _ in lst.pages_of():
            for k in ks:
                if k <= last:
                    out_of_order += 1
                last = k
            keys += len(ks)
    else:  # tree walk: the root with delimiter '/', then every common prefix with delimiter '/'
        todo = []
        for ks, ps in lst.pages_of(delimiter="/"):
            keys += len(ks)
            prefixes += len(ps)
            todo.extend(p.decode() for p in ps)
        for p in todo:
            for ks, ps in lst.pages_of(prefix=xml.sax.saxutils.unescape(p), delimiter="/"):
                for k in ks:
                    if k <= last:
                        out_of_order += 1
                    last = k
                keys += len(ks)
                prefixes += len(ps)
    secs = time.perf_counter() - t0
    ms = sorted(lst.page_ms)
    res = {"mode": a.mode, "keys": keys, "prefixes": prefixes, "pages": lst.pages,
           "seconds": secs, "client_cpu_s": time.process_time() - c0,
           "entries_per_s": (keys + prefixes) / secs if secs else 0,
           "page_ms_p50": ms[len(ms) // 2] if ms else 0,
           "page_ms_p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0,
           "page_ms_max": ms[-1] if ms else 0, "out_of_order": out_of_order}
    print(json.dumps(res))


# ---------------------------------------------------------------- RSS sampler
def read_rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cmd_rss(a):
    """Samples VmRSS of a.pid every a.interval s until SIGTERM/SIGINT or the process exits."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    mx, n, first = 0, 0, None
    last_write = 0.0

    def write():
        with open(a.out + ".tmp", "w") as f:
            json.dump({"max_kib": mx, "first_kib": first, "samples": n,
                       "hwm_kib": read_rss_kib(a.pid, "VmHWM")}, f)
        os.replace(a.out + ".tmp", a.out)

    while not stop:
        v = read_rss_kib(a.pid)
        if v is None:
            break
        first = v if first is None else first
        mx = max(mx, v)
        n += 1
        now = time.monotonic()
        if now - last_write > 1.0:
            write()
            last_write = now
        time.sleep(a.interval)
    write()


# ---------------------------------------------------------------- parsing + records
def cmd_wrkjson(a):
    """Extracts the WRKJSON line from a wrk output file and prints it as JSON."""
    with open(a.file) as f:
        for line in f:
            if line.startswith("WRKJSON "):
                print(line[len("WRKJSON "):].strip())
                return
    raise SystemExit(f"no WRKJSON line in {a.file}")


def cmd_fiojson(a):
    """Prints {"iops":..., "bw_bytes":..., "runtime_ms":..., "io_bytes":...} from fio --output-format=json."""
    with open(a.file) as f:
        txt = f.read()
    d = json.loads(txt[txt.index("{"):])
    w = [j["write"] for j in d["jobs"]]
    iops = sum(x["iops"] for x in w)
    bw = sum(x["bw_bytes"] for x in w)
    io_bytes = sum(x["io_bytes"] for x in w)
    runtime = max(x["runtime"] for x in w)
    # With end_fsync the final fsync is outside "runtime"; job_runtime/elapsed includes it.
    elapsed_ms = max(j.get("job_runtime", 0) for j in d["jobs"])
    sync = [j.get("sync", {}).get("lat_ns", {}) for j in d["jobs"]]
    print(json.dumps({"iops": iops, "bw_bytes": bw, "io_bytes": io_bytes, "runtime_ms": runtime,
                      "job_runtime_ms": elapsed_ms, "sync_lat": sync[0] if sync else {}}))


def jget(s, path):
    d = json.loads(s) if isinstance(s, str) else s
    for p in path.split("."):
        d = d[p]
    return d


def cmd_jget(a):
    print(jget(sys.stdin.read(), a.path))


def cmd_jx(a):
    """Evaluates a Python expression over d = the JSON object on stdin ({} when empty); prints ""
    when a field is missing, so shell callers can pass empty results through."""
    txt = sys.stdin.read().strip()
    d = json.loads(txt) if txt else {}
    try:
        v = eval(a.expr, {"d": d})
    except (KeyError, ZeroDivisionError, TypeError, IndexError):
        v = ""
    print(v)


def sh(cmd):
    import subprocess
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - informational only
        return ""


def cmd_info(a):
    cpu = sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p'") or sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    fs = " ".join(sh(f"findmnt -n -o FSTYPE,SOURCE,OPTIONS -T {a.workdir}").split())
    dev = sh(f"findmnt -n -o SOURCE -T {a.workdir}")
    disk = " ".join(sh(f"lsblk -dn -o NAME,SIZE,TYPE,MODEL {dev} 2>/dev/null").split())
    sched = sh(f"cat /sys/block/{os.path.basename(dev)}/queue/scheduler 2>/dev/null")
    rev = sh(f"git -C {a.root} rev-parse --short HEAD")
    dirty = sh(f"git -C {a.root} status --porcelain -- src | head -1")
    import boto3
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": a.duration,
        "machine": {
            "nproc": sh("nproc"),
            "CPU": cpu,
            "memory": mem,
            "kernel": sh("uname -r"),
            "OS": sh(". /etc/os-release && echo $PRETTY_NAME"),
            "filesystem (scratch)": fs,
            "disk": disk + (f" (I/O scheduler {sched})" if sched else ""),
            "emberd": f"{a.emberd} (git {rev}{' + uncommitted changes in src/' if dirty else ''})",
            "nginx": sh("nginx -v 2>&1"),
            "fio": sh("fio --version"),
            "wrk": sh("wrk -v 2>&1 | head -1"),
            "curl": sh("curl --version | head -1"),
            "python / boto3": f"{sys.version.split()[0]} / {boto3.__version__}",
        },
        "params": a.param or [],
        "warnings": [l.strip() for l in open(a.warnings) if l.strip()] if a.warnings else [],
    }
    if a.azurite:
        info["machine"]["Azurite / node"] = f"azurite {a.azurite} (npm, .deps/azurite) / node {sh('node --version')}"
    with open(a.out, "w") as f:
        json.dump(info, f, indent=1)


def cmd_record(a):
    rec = {"id": a.id, "metric": a.metric, "unit": a.unit,
           "ember": None if a.ember in ("", "nan", None) else float(a.ember),
           "anchor": None if a.anchor in ("", "nan", None) else float(a.anchor),
           "anchor_name": a.anchor_name, "target": a.target, "kind": a.kind,
           "notes": a.notes,
           "commands": [c.replace(a.scratch, "$SCRATCH") if a.scratch else c for c in (a.cmd or [])]}
    with open(a.results, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ---------------------------------------------------------------- report
def fmt_num(v, unit):
    if v is None:
        return "—"
    if unit in ("MB/s", "MiB", "MiB/s", "ms"):
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def verdict(r):
    if r["ember"] is None or r["anchor"] is None or not r["anchor"]:
        return ""
    ratio = r["ember"] / r["anchor"]
    t = r.get("target") or ""
    m = re.match(r"^(>=|<=)\s*([0-9.]+)$", t)
    if not m:
        return ""
    ok = ratio >= float(m.group(2)) if m.group(1) == ">=" else ratio <= float(m.group(2))
    return "meets" if ok else "BELOW TARGET" if m.group(1) == ">=" else "ABOVE BOUND"


def rows_of(results):
    rows = []
    for r in results:
        ratio = (r["ember"] / r["anchor"]) if (r["ember"] is not None and r["anchor"]) else None
        rows.append([r["metric"] + f" ({r['unit']})", fmt_num(r["ember"], r["unit"]),
                     fmt_num(r["anchor"], r["unit"] if r["kind"] != "rss-vs-bytes" else "MiB"),
                     r["anchor_name"], "—" if ratio is None else f"{ratio:.2f}",
                     (r.get("target") or "—"), verdict(r)])
    return rows


def text_table(rows, header):
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: " | ".join(str(c).ljust(w[i]) for i, c in enumerate(cells))
    out = [line(header), "-+-".join("-" * x for x in w)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def md_table(rows, header):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def cmd_report(a):
    results = [json.loads(l) for l in open(a.results) if l.strip()]
    info = json.load(open(a.info))
    header = ["metric", "Ember", "anchor", "anchor name", "ratio", "target", "verdict"]
    rows = rows_of(results)
    print(text_table(rows, header))
    seen = {}
    for r in results:
        seen[r["metric"]] = seen.get(r["metric"], 0) + 1

    def title(r):  # a metric measured against several anchors (the Blob rows) names its anchor
        return r["metric"] + (f" — vs {r['anchor_name']}" if seen[r["metric"]] > 1 else "")

    if not a.doc:
        return
    doc = DOC_TEMPLATE.format(
        date=info.get("date", ""), table=md_table(rows, header),
        machine="\n".join(f"| {k} | {v} |" for k, v in info.get("machine", {}).items()),
        params="\n".join(f"- {p}" for p in info.get("params", [])),
        notes="\n".join(f"- **{title(r)}**: {r['notes']}" for r in results if r.get("notes")),
        commands="\n".join(
            f"**{title(r)}**\n\n```\n" + "\n".join(r["commands"]) + "\n```\n"
            for r in results if r.get("commands")),
        warnings="\n".join(f"- {w}" for w in info.get("warnings", [])) or "- none",
        duration=info.get("duration_s", "?"))
    with open(a.doc, "w") as f:
        f.write(doc)


DOC_TEMPLATE = """# Ember benchmarks

Produced by `make bench` (bench/run.sh) on {date}; the whole run took {duration} s. Every anchor figure
was measured in the same run, on the same machine and filesystem, right before or after Ember's.
Re-running `make bench` overwrites this file.

## Results

{table}

**How to read it.** *ratio* = Ember ÷ anchor. For throughput rows (req/s, ops/s, MB/s) higher is
better and the issue's targets are **GET ≥ 0.9× nginx** and **PUT ≥ 0.8× fio** (same fsync policy).
The *Blob:* rows measure `emberd`'s Azure Blob endpoint against Azurite (Microsoft's emulator, from
npm) with the same account, the same requests and the same client; target **≥ 5× Azurite** on every
row. Each Blob row appears twice, against two Azurites: *in memory* (`--inMemoryPersistence`: nothing
reaches the disk, so its writes are not durable at all) and *on disk* (`--location`: Azurite
`fdatasync()`s each write's data before answering but saves its metadata only every 5 s). `emberd`
makes every acknowledged write durable, data and metadata, so the on-disk Azurite is the fairer
anchor for the write rows and the in-memory one is the bound a server without durability reaches.
*Blob GET vs S3 GET* compares `emberd`'s two adapters on one object: target **Blob ≥ 0.9× S3**.
The *Tier:* rows (bench/tier.sh) put `emberd`'s warm tier in front of an Azurite playing the cold
Azure Blob store: time to first byte of a cold read-through GET against a direct GET from Azurite
(ms, lower is better; the label gives the overhead), 32 concurrent readers of one cold object (MiB/s
served, and from Azurite's log the cold GETs against the object's chunks: target **each chunk fetched
exactly once**, ratio 1.0), the write-back drain against `rclone copy` to the same Azurite, and
staging a prefix with `emberctl stage` against `rclone copy` from the same Azurite to local disk
(target **≥ 1.5× rclone**). Staging writes every object durably (fdatasync, synced index batch) before
counting it, while rclone's copy ends in the page cache; and every cold response is received on one
tier thread (a `perf record` of a staging job put 72% of emberd's samples there, mostly in the kernel's
socket path), which bounds staging near 90 MiB/s on this machine whatever the object size.
The *KV* rows run redis-benchmark with the same flags against `emberd`'s Redis-protocol endpoint and
against a `redis-server` started by the bench without persistence (`--save '' --appendonly no`): SET
and GET of 100 B, 4 KiB and 64 KiB values, without (`-P 1`) and with (`-P 16`) pipelining, 50
connections; targets **≥ 1.0× redis-server** with `emberd` in `durability = "none"` and **≥ 0.8×**
in `"batch"` (group commit every 10 ms). Note that even in `none` mode `emberd` writes every value to
its log on disk (values live on disk, RAM is a cache), while this redis-server keeps everything in RAM
only; in `batch` mode `emberd` also fdatasyncs every shard's log every 10 ms. The *mixed 90/10* rows
(Ember only, bench/lib/kvload.c) read and write 4 KiB values over a data set about 3× the RAM cache. The 64 KiB SET rows are bounded by the disk rather
than the server: `emberd` logs every value (about 0.6-1.3 GB/s of log at redis-server's rate on these rows),
and overwriting a small key set that fast also keeps compaction rewriting segments; a write that finds its
shard's tail buffer full waits for the write-out in progress, which shows as the p99 of those rows.
For memory rows the ratio is a bound, lower is better: *RSS during 64 concurrent uploads* is divided
by the bytes those uploads carry in total (an `emberd` that buffered whole bodies would approach 1.0;
a streaming one stays near 0 and its RSS does not grow with object size); *RSS during LIST* is
divided by `emberd`'s RSS just before the listing (a lister that loaded the bucket into memory would
show a large multiple). LIST rows have no anchor: they report keys (and common prefixes) per second
for one client paging sequentially with continuation tokens, which is what `aws s3 ls`, rclone and
boto3 paginators do. MB = 10^6 bytes; MiB = 2^20 bytes.

Caveats: the load generator (wrk, curl, the Python LIST client) shares the same cores as the server,
for Ember and for the anchor alike, so both figures are lower than on a dedicated client machine; the
objects read by the GET rows are in the page cache for both servers (a warm-tier hot set), so GET
measures the serving path, not the disk; PUT rows and fio do reach the disk (fsync). Azurite is a
Node.js program: its requests run on one JavaScript thread, so it cannot use the second core that
`emberd` uses (that is Azurite as shipped, with no clustering option). The 256 MiB Blob upload is
bounded by the disk for `emberd` (it fsyncs the blob before answering) but not for the in-memory
Azurite, and the download by what one curl and the server can move over loopback on 2 shared
cores, so those rows measure the machine as much as the servers.

### Warnings from this run

{warnings}

## Machine

| | |
|---|---|
{machine}

## Parameters

{params}

## What each row measures

{notes}

## Exact commands

`$EMBER`, `$NGINX` are `127.0.0.1:<port>` of the S3 endpoint and nginx started by bench/run.sh,
`$EBLOB` and `$AZURITE` that of `emberd`'s Blob endpoint and of an Azurite, `$EKV` and `$REDIS` the
ports of `emberd`'s KV endpoint and of the redis-server, `$SCRATCH` its scratch
directory (on the filesystem named above); `<presigned ...>` stands for a SigV4 presigned URL (query
auth, `UNSIGNED-PAYLOAD`, signed with the bench user's key by bench/lib/s3sign.py, cross-checked
against botocore at the start of each run); `<SAS>` for the query string of a container SAS
(`sv=...&sr=c&sp=racwd&se=...&sig=...`, signed with the account key by bench/lib/azsas.py,
cross-checked against the Azure SDK's `generate_container_sas` at the start of each run).

{commands}
"""


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *args):
        p = sp.add_parser(name)
        for spec in args:
            flag, kw = spec
            p.add_argument(flag, **kw)
        p.set_defaults(fn=fn)
        return p

    E = ("--endpoint", {"required": True})
    B = ("--bucket", {"required": True})
    add("selftest", cmd_selftest, E)
    add("mkbucket", cmd_mkbucket, E, B)
    add("put-file", cmd_put_file, E, B, ("--key", {"required": True}), ("--file", {"required": True}))
    add("presign", cmd_presign, E, B, ("--key", {"required": True}), ("--method", {"default": "GET"}),
        ("--expires", {"type": int, "default": 3 * 3600}))
    add("sigs", cmd_sigs, E, B, ("--keyfmt", {"required": True}), ("--count", {"type": int, "required": True}),
        ("--threads", {"type": int, "default": 2}), ("--out", {"required": True}),
        ("--method", {"default": "PUT"}), ("--expires", {"type": int, "default": 3 * 3600}),
        ("--dirsize", {"type": int, "default": 0}))
    add("blob-sas", cmd_blob_sas, ("--container", {"default": "bench"}),
        ("--account-sas", {"action": "store_true"}), ("--permissions", {"default": ""}))
    add("blob-selftest", cmd_blob_selftest)
    add("blob-mkcontainer", cmd_blob_mkcontainer, E, ("--container", {"required": True}))
    add("blob-mkappend", cmd_blob_mkappend, E, ("--container", {"required": True}),
        ("--pathfmt", {"required": True}), ("--count", {"type": int, "default": 64}))
    add("list", cmd_list, E, B, ("--mode", {"choices": ["flat", "tree"], "default": "flat"}),
        ("--max-keys", {"type": int, "default": 1000}))
    add("rss", cmd_rss, ("--pid", {"type": int, "required": True}), ("--out", {"required": True}),
        ("--interval", {"type": float, "default": 0.05}))
    add("wrkjson", cmd_wrkjson, ("file", {}))
    add("fiojson", cmd_fiojson, ("file", {}))
    add("jget", cmd_jget, ("path", {}))
    add("jx", cmd_jx, ("expr", {}))
    add("info", cmd_info, ("--workdir", {"required": True}), ("--emberd", {"default": ""}),
        ("--root", {"required": True}), ("--warnings", {"default": ""}),
        ("--duration", {"default": "?"}), ("--out", {"required": True}), ("--param", {"action": "append"}),
        ("--azurite", {"default": ""}))
    add("record", cmd_record, ("--results", {"required": True}), ("--id", {"required": True}),
        ("--metric", {"required": True}), ("--unit", {"required": True}), ("--ember", {"default": ""}),
        ("--anchor", {"default": ""}), ("--anchor-name", {"default": "—"}), ("--target", {"default": ""}),
        ("--kind", {"default": "throughput"}), ("--notes", {"default": ""}),
        ("--cmd", {"action": "append"}), ("--scratch", {"default": ""}))
    add("report", cmd_report, ("--results", {"required": True}), ("--info", {"required": True}),
        ("--doc", {"default": ""}))
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
