"""Shared harness for Ember's integration and crash tests.

Starts a real `emberd` on free ports with a temporary data directory and a generated config (two users),
waits until it is ready, and gives the tests what they need to talk to it: boto3 clients, a small SigV4
implementation for raw requests (bad input, presigned URLs, signed aws-chunked bodies), CLI runners with an
isolated environment, random data files and hashes.

Only the Python standard library plus boto3/botocore. Everything is bounded by timeouts and every server
started here is killed by PID at exit, whatever happens to the test.

Environment:
  EMBER_BIN        path to emberd (default: <repo>/build/src/app/emberd/emberd)
  EMBER_KEEP_TMP   1 = keep temporary directories (server logs, data dirs) for post-mortem
  EMBER_AWS        path of the aws CLI to use (default /usr/bin/aws, else `aws` on PATH)
  EMBER_LOG_LEVEL  emberd --log-level (default info)
  EMBER_AZURITE    path of azurite-blob (default: <repo>/.deps/azurite/node_modules/.bin/azurite-blob, from
                   scripts/install-deps)

Redis-protocol KV endpoint: Emberd(kv=True, kv_config="...") writes a [kv] section on an ephemeral port (plus the
kv_config lines, which may also hold [[kv.users]] tables) and reads the "kv" port from the port file into
kv_port. Without kv=True the section says enabled = false (its default port 6379 is fixed, and may be taken by a
system redis-server). tests/integration/kvutil.py builds on this.

Azure Blob endpoint: Emberd(blob=True) writes a [blob] section with the accounts in BLOB_ACCOUNTS (the emulator's
devstoreaccount1 owned by alice, a second one owned by bob), reads the "blob" port from the port file and offers
blob_endpoint / blob_connection_string(). Azurite (the Microsoft emulator) can be started as a reference server
for comparisons and benchmarks.
"""

import atexit
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BIN = os.path.join(REPO, "build", "src", "app", "emberd", "emberd")
REGION = "us-east-1"
MiB = 1024 * 1024
KiB = 1024

USERS = [
    {"name": "alice", "access_key": "AKIDALICE", "secret_key": "alice-secret-key"},
    {"name": "bob", "access_key": "AKIDBOB", "secret_key": "bob-secret-key"},
]
ALICE, BOB = USERS

# Azure Blob accounts of the Blob endpoint. devstoreaccount1 + its key are the Azure emulator's well-known
# defaults (every SDK, Azurite and rclone's use_emulator know them); each account maps to the S3 user whose
# buckets are its containers.
BLOB_ACCOUNT = "devstoreaccount1"
BLOB_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BLOB_ACCOUNTS = [
    {"name": BLOB_ACCOUNT, "key": BLOB_KEY, "user": "alice"},
    {"name": "emberbob", "key": base64.b64encode(hashlib.sha512(b"ember-blob-bob").digest()).decode(),
     "user": "bob"},
]
BLOB_ALICE, BLOB_BOB = BLOB_ACCOUNTS

# No user configuration may leak into boto3 in this process (profiles, endpoint overrides, checksum settings).
_ISOLATED_HOME = tempfile.mkdtemp(prefix="ember-home-")
for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.path.join(_ISOLATED_HOME, "no-aws-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_ISOLATED_HOME, "no-aws-credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_servers = []  # running servers, killed at exit
_started = []  # every server ever started (for log tails on failure)
_tmpdirs = [_ISOLATED_HOME]


def keep_tmp():
    return os.environ.get("EMBER_KEEP_TMP", "") not in ("", "0")


def _cleanup_all():
    for s in list(_servers):
        try:
            s.kill9()
        except Exception:
            pass
    if not keep_tmp():
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_all)


def _on_signal(signum, frame):
    _cleanup_all()
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


def _die_with_parent():
    """In the child: SIGKILL emberd if the test process dies (even by SIGKILL from a ctest timeout)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def make_tmpdir(prefix="ember-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def ember_bin():
    b = os.environ.get("EMBER_BIN") or DEFAULT_BIN
    if not os.path.isfile(b) or not os.access(b, os.X_OK):
        raise RuntimeError(f"emberd not found at {b!r}; build it or set EMBER_BIN")
    return b


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value; returns it, or raises AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {last!r})")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------- server


class _Process:
    """A child server process (self.proc) that stops gracefully on SIGTERM; stop() escalates to SIGKILL."""

    stop_timeout = 20

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM (graceful), SIGKILL after timeout. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout or self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self in _servers:
            _servers.remove(self)
        return self.proc.returncode

    def kill9(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self in _servers:
            _servers.remove(self)


class Emberd(_Process):
    """One emberd process. The data dir survives stop()/kill9() so a test can restart on the same data."""

    def __init__(self, data_dir=None, extra_config="", users=USERS, log_level=None, blob=False,
                 blob_accounts=BLOB_ACCOUNTS, kv=False, kv_config=""):
        self.tmp = make_tmpdir("ember-srv-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data-dir")
        os.makedirs(self.data_dir, exist_ok=True)
        self.config_path = os.path.join(self.tmp, "ember.toml")
        self.port_file = os.path.join(self.tmp, "ports.json")
        self.log_path = os.path.join(self.tmp, "emberd.log")
        self.log_level = log_level or os.environ.get("EMBER_LOG_LEVEL", "info")
        self.users = users
        self.proc = None
        self.s3_port = None
        self.admin_port = None
        self.blob = blob
        self.blob_accounts = blob_accounts
        self.blob_port = None
        self.kv = kv
        self.kv_port = None
        self.starts = 0
        with open(self.config_path, "w") as f:
            f.write("# generated by tests/integration/harness.py\n")
            for u in users:
                f.write("\n[[users]]\n")
                for k in ("name", "access_key", "secret_key"):
                    f.write(f'{k} = "{u[k]}"\n')
            f.write('\n[s3]\ndomains = ["localhost"]\n')
            if blob:
                # port 0 = ephemeral; the bound port comes back in the port file under "blob"
                f.write('\n[blob]\nenabled = true\naddress = "127.0.0.1"\nport = 0\ndomains = ["localhost"]\n')
                for a in blob_accounts:
                    f.write("\n[[blob.accounts]]\n")
                    for k in ("name", "key", "user"):
                        f.write(f'{k} = "{a[k]}"\n')
            elif "[blob" not in (extra_config or ""):
                # emberd's Blob endpoint defaults to on, on the fixed port 10000: servers that do not test it
                # keep it off so that several can run at once (binaries without one ignore the section)
                f.write("\n[blob]\nenabled = false\n")
            if kv:
                # port 0 = ephemeral; the bound port comes back in the port file under "kv". kv_config: more
                # [kv] keys first, then optionally [[kv.users]] tables.
                f.write('\n[kv]\nenabled = true\naddress = "127.0.0.1"\nport = 0\n')
                if kv_config:
                    f.write(kv_config.rstrip("\n") + "\n")
            elif "[kv" not in (extra_config or ""):
                # the KV endpoint defaults to on, on the fixed port 6379 (binaries without one ignore the section)
                f.write("\n[kv]\nenabled = false\n")
            if extra_config:
                f.write("\n" + extra_config + "\n")

    # -- lifecycle
    def start(self, timeout=30):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        cmd = [ember_bin(), "--config", self.config_path, "--data-dir", self.data_dir,
               "--s3-address", "127.0.0.1", "--s3-port", "0", "--admin-port", "0",
               "--port-file", self.port_file, "--log-level", self.log_level]
        if self.blob:
            cmd += ["--blob-port", "0"]
        if self.kv:
            cmd += ["--kv-port", "0"]
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        _servers.append(self)
        if self not in _started:
            _started.append(self)
        deadline = time.monotonic() + timeout
        ports = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emberd exited with {self.proc.returncode} during startup:\n{self.log_tail()}")
            try:
                with open(self.port_file) as f:
                    ports = json.load(f)
                if (int(ports.get("s3", 0)) > 0 and int(ports.get("admin", 0)) > 0
                        and (not self.blob or int(ports.get("blob", 0)) > 0)
                        and (not self.kv or int(ports.get("kv", 0)) > 0)):
                    break
            except (OSError, ValueError):
                pass
            ports = None
            time.sleep(0.05)
        if not ports:
            self.kill9()
            raise RuntimeError(f"emberd wrote no port file within {timeout}s:\n{self.log_tail()}")
        self.s3_port, self.admin_port = int(ports["s3"]), int(ports["admin"])
        self.blob_port = int(ports["blob"]) if self.blob else None
        self.kv_port = int(ports["kv"]) if self.kv else None
        # Ready = healthz answers 200 and the S3 (and Blob, KV) ports accept connections.
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emberd exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.healthz() == 200:
                    with socket.create_connection(("127.0.0.1", self.s3_port), timeout=2):
                        pass
                    if self.blob_port:
                        with socket.create_connection(("127.0.0.1", self.blob_port), timeout=2):
                            pass
                    if self.kv_port:
                        with socket.create_connection(("127.0.0.1", self.kv_port), timeout=2):
                            pass
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"emberd not healthy within {timeout}s:\n{self.log_tail()}")

    def restart(self, timeout=30):
        self.stop()
        return self.start(timeout)

    # -- endpoints
    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def host(self):
        return f"127.0.0.1:{self.s3_port}"

    @property
    def blob_account(self):
        return self.blob_accounts[0]["name"]

    @property
    def blob_key(self):
        return self.blob_accounts[0]["key"]

    @property
    def blob_host(self):
        return f"127.0.0.1:{self.blob_port}"

    def blob_endpoint_of(self, account=None):
        """Path-style service URL of an account (default: the first, devstoreaccount1)."""
        assert self.blob_port, "Blob endpoint not enabled (Emberd(blob=True))"
        return f"http://127.0.0.1:{self.blob_port}/{account or self.blob_account}"

    @property
    def blob_endpoint(self):
        return self.blob_endpoint_of()

    def blob_connection_string(self, account=None):
        return blob_connection_string(self.blob_endpoint_of(account and account["name"]),
                                      account or self.blob_accounts[0])

    def admin_get(self, path, timeout=10):
        return self.admin_request("GET", path, timeout)

    def admin_request(self, method, path, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def admin_json(self, method, path, timeout=10):
        """(status, parsed JSON body) of an admin API call."""
        st, body = self.admin_request(method, path, timeout)
        return st, json.loads(body) if body else None

    def healthz(self):
        try:
            return self.admin_get("/healthz", timeout=5)[0]
        except OSError:
            return None

    def metrics_text(self):
        st, body = self.admin_get("/metrics")
        if st != 200:
            raise AssertionError(f"/metrics returned {st}")
        return body.decode()

    def metrics(self):
        """Parses the Prometheus text format into {(name, frozenset(labels.items())): value}."""
        return parse_prometheus(self.metrics_text())

    # -- data dir
    def data_files(self):
        """Regular files under <data-dir>/data/ (where object data lives)."""
        return count_files(os.path.join(self.data_dir, "data"))

    def log_tail(self, n=80):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"


def blob_connection_string(endpoint, account):
    """Azure Storage connection string for an account dict {name, key} at a path-style Blob service URL."""
    return (f"DefaultEndpointsProtocol=http;AccountName={account['name']};AccountKey={account['key']};"
            f"BlobEndpoint={endpoint};")


AZURITE_VERSION = "3.35.0"


def azurite_bin():
    """azurite-blob from scripts/install-deps (.deps/azurite), EMBER_AZURITE, or None."""
    p = os.environ.get("EMBER_AZURITE") or os.path.join(REPO, ".deps", "azurite", "node_modules", ".bin",
                                                         "azurite-blob")
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


class Azurite(_Process):
    """Microsoft's Azure Storage emulator (Blob service only), in memory, on a free port: a reference server
    to compare Ember's Blob endpoint with, and a bench anchor. Same account names/keys as Emberd(blob=True)
    (AZURITE_ACCOUNTS). Telemetry is off (it would try to reach the internet). Killed by PID at exit.

    Flags: --loose (ignore unsupported headers), --skipApiVersionCheck (accept newer SDK versions),
    --disableProductStyleUrl (account always from the path, so 127.0.0.1:<port>/<account>/... works)."""

    stop_timeout = 10

    def __init__(self, accounts=BLOB_ACCOUNTS, memory_limit_mb=1024, persist=False, debug_log=False,
                 host="127.0.0.1", netns=None):
        """persist: keep blobs in a folder (they survive stop()/start(), which then reuses the port) instead of
        memory. debug_log: Azurite's debug log, where request_log() finds every request it served. netns: run it
        inside that network namespace (`ip netns exec`), listening on `host` there."""
        self.host = host
        self.netns = netns
        self.tmp = make_tmpdir("ember-azurite-")
        self.log_path = os.path.join(self.tmp, "azurite.log")
        self.debug_path = os.path.join(self.tmp, "debug.log") if debug_log else None
        self.blob_accounts = accounts
        self.memory_limit_mb = memory_limit_mb
        self.persist = persist
        self.proc = None
        self.blob_port = None

    def start(self, timeout=60):
        exe = azurite_bin()
        if not exe:
            raise RuntimeError("azurite-blob not found: run scripts/install-deps or set EMBER_AZURITE")
        assert self.proc is None or self.proc.poll() is not None, "already running"
        last_err = None
        for _attempt in range(3):  # a free port can be taken between free_port() and the bind
            if not (self.persist and self.blob_port):  # a persistent one comes back where it was
                self.blob_port = free_port()
            if self.persist:
                store = ["--location", os.path.join(self.tmp, "workspace")]
            else:
                store = ["--inMemoryPersistence", "--extentMemoryLimit", str(self.memory_limit_mb)]
            wrap = ["ip", "netns", "exec", self.netns] if self.netns else []
            cmd = [*wrap, exe, "--blobHost", self.host, "--blobPort", str(self.blob_port), *store, "--loose",
                   "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry", "-s"]
            if self.debug_path:
                cmd += ["--debug", self.debug_path]
            env = dict(os.environ)
            env["AZURITE_ACCOUNTS"] = ";".join(f"{a['name']}:{a['key']}" for a in self.blob_accounts)
            log = open(self.log_path, "ab")
            log.write(f"\n===== {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=self.tmp, start_new_session=True,
                                         preexec_fn=_die_with_parent)
            log.close()
            _servers.append(self)
            if self not in _started:
                _started.append(self)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection((self.host, self.blob_port), timeout=2):
                        pass
                    if "successfully listens" in self.log_tail(20):
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            last_err = f"azurite did not listen on {self.blob_port} within {timeout}s:\n{self.log_tail()}"
            self.kill9()
        raise RuntimeError(last_err)

    @property
    def blob_account(self):
        return self.blob_accounts[0]["name"]

    @property
    def blob_key(self):
        return self.blob_accounts[0]["key"]

    @property
    def blob_host(self):
        return f"{self.host}:{self.blob_port}"

    def blob_endpoint_of(self, account=None):
        return f"http://{self.host}:{self.blob_port}/{account or self.blob_account}"

    @property
    def blob_endpoint(self):
        return self.blob_endpoint_of()

    def blob_connection_string(self, account=None):
        return blob_connection_string(self.blob_endpoint_of(account and account["name"]),
                                      account or self.blob_accounts[0])

    def request_log(self):
        """[(method, url path, range header or None)] of every request served so far (needs debug_log=True)."""
        out = []
        try:
            with open(self.debug_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return out
        for m in re.finditer(r"RequestMethod=(\w+) RequestURL=(\S+) RequestHeaders:(\{.*?\}) ClientIP", text):
            try:
                headers = json.loads(m.group(3))
            except ValueError:
                headers = {}
            path = urllib.parse.urlsplit(m.group(2)).path
            out.append((m.group(1), urllib.parse.unquote(path), headers.get("x-ms-range") or headers.get("range")))
        return out

    def healthz(self):
        """200 if the port accepts connections (Azurite has no health endpoint), like Emberd.healthz."""
        try:
            with socket.create_connection((self.host, self.blob_port), timeout=5):
                return 200
        except OSError:
            return None

    def log_tail(self, n=80):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"


def tree_hashes(root):
    """{relative path: sha256} of every file under root (the CLI tests compare synced trees with it)."""
    out = {}
    for dp, _dn, fn in os.walk(root):
        for f in fn:
            full = os.path.join(dp, f)
            out[os.path.relpath(full, root)] = sha256_file(full)
    return out


def count_files(root):
    n = 0
    for _dp, _dn, fn in os.walk(root):
        n += len(fn)
    return n


def parse_prometheus(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if "{" in line:
                name, rest = line.split("{", 1)
                labels_s, value_s = rest.rsplit("}", 1)
                labels = {}
                for part in _split_labels(labels_s):
                    k, v = part.split("=", 1)
                    labels[k.strip()] = v.strip().strip('"')
            else:
                name, value_s = line.split(None, 1)
                labels = {}
            value = float(value_s.split()[0])
        except ValueError:
            continue
        out[(name.strip(), frozenset(labels.items()))] = value
    return out


def _split_labels(s):
    parts, cur, q = [], "", False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == "," and not q:
            if cur.strip():
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def metric_sum(metrics, name):
    return sum(v for (n, _l), v in metrics.items() if n == name)


# ----------------------------------------------------------------------------------------------- data


def random_bytes(n, seed=None):
    if seed is None:
        return os.urandom(n)
    return random.Random(seed).randbytes(n)


def make_random_file(directory, name, size):
    """Writes `size` real random bytes (no holes). Returns (path, sha256 hex)."""
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, MiB))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return path, h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def md5_hex(b):
    return hashlib.md5(b).hexdigest()


def md5_b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def multipart_etag(parts):
    """S3 multipart ETag: md5 of the concatenated binary MD5s of the parts, then -N (quoted)."""
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def multipart_etag_of_file(path, part_size):
    digests, n = b"", 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(part_size)
            if not chunk:
                break
            digests += hashlib.md5(chunk).digest()
            n += 1
    return f'"{hashlib.md5(digests).hexdigest()}-{n}"'


def crc32_b64(b):
    return base64.b64encode((zlib.crc32(b) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _crc32c_table()


def crc32c_b64(b):
    """CRC32C (Castagnoli) in pure Python; fine for the few KiB the tests use."""
    c = 0xFFFFFFFF
    t = _CRC32C
    for byte in b:
        c = t[(c ^ byte) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return base64.b64encode(c.to_bytes(4, "big")).decode()


def sha256_b64(b):
    return base64.b64encode(hashlib.sha256(b).digest()).decode()


def sha1_b64(b):
    return base64.b64encode(hashlib.sha1(b).digest()).decode()


# ----------------------------------------------------------------------------------------------- SigV4

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def uri_encode(s, encode_slash=True):
    safe = "-_.~" + ("" if encode_slash else "/")
    return urllib.parse.quote(s, safe=safe)


def object_path(bucket, key=None):
    """Path-style request path for a bucket/key, URI-encoded the way SigV4 for S3 expects."""
    p = "/" + uri_encode(bucket)
    if key is not None:
        p += "/" + uri_encode(key, encode_slash=False)
    return p


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region=REGION, service="s3"):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _canonical_query(query):
    items = [(uri_encode(k), uri_encode(v)) for k, v in query]
    items.sort()
    return "&".join(f"{k}={v}" for k, v in items)


def sign_v4(method, host, path, query=(), headers=None, payload_hash=EMPTY_SHA256, user=ALICE,
            region=REGION, now=None, secret=None):
    """Returns (headers dict incl. Authorization, seed signature, amz_date, scope, key).

    `path` must already be URI-encoded (as sent on the wire); `query` is a list of unencoded (k, v)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    h = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    for k, v in (headers or {}).items():
        h[k.lower()] = str(v)
    signed = sorted(h)
    canon_headers = "".join(f"{k}:{' '.join(h[k].strip().split())}\n" for k in signed)
    signed_headers = ";".join(signed)
    creq = "\n".join([method, path, _canonical_query(query), canon_headers, signed_headers, payload_hash])
    scope = f"{date}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(secret or user["secret_key"], date, region)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    out = dict(h)
    out["authorization"] = (f"AWS4-HMAC-SHA256 Credential={user['access_key']}/{scope}, "
                            f"SignedHeaders={signed_headers}, Signature={sig}")
    return out, sig, amz_date, scope, key


def presign_url(srv, method, bucket, key, expires=300, user=ALICE, now=None, extra_query=()):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    path = object_path(bucket, key)
    query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
             ("X-Amz-Credential", f"{user['access_key']}/{scope}"),
             ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)),
             ("X-Amz-SignedHeaders", "host")] + list(extra_query)
    creq = "\n".join([method, path, _canonical_query(query), f"host:{srv.host}\n", "host", UNSIGNED])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(user["secret_key"], amz_date[:8]), sts.encode(), hashlib.sha256).hexdigest()
    return f"{srv.endpoint}{path}?{_canonical_query(query)}&X-Amz-Signature={sig}"


def aws_chunked_body(data, chunk_size, seed_sig, amz_date, scope, key, bad_chunk=None):
    """Encodes `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed aws-chunked). bad_chunk: index whose
    signature is corrupted."""
    out = []
    prev = seed_sig
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for i, c in enumerate(chunks):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                         hashlib.sha256(c).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        prev = sig
        if bad_chunk == i:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        out.append(f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n")
    return b"".join(out)


def aws_chunked_length(n, chunk_size):
    total = 0
    for size in [chunk_size] * (n // chunk_size) + ([n % chunk_size] if n % chunk_size else []) + [0]:
        total += len(f"{size:x};chunk-signature=".encode()) + 64 + 2 + size + 2
    return total


class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def error(self):
        return parse_error(self.body)

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} {self.body[:600]!r}>"


def http_request(srv, method, path, headers=None, body=b"", timeout=60, port=None):
    """Plain http.client request (no signing). path includes the query string. Returns Response."""
    conn = http.client.HTTPConnection("127.0.0.1", port or srv.s3_port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if not any(k.lower() == "host" for k in hdrs):
            hdrs["Host"] = srv.host
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k in hdrs):
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


def signed_request(srv, method, bucket=None, key=None, query=(), headers=None, body=b"", user=ALICE,
                   payload_hash=None, timeout=60, secret=None, region=REGION, path=None):
    """A SigV4-signed path-style request; payload hash = sha256(body) unless given."""
    if path is None:
        path = "/" if bucket is None else object_path(bucket, key)
    if payload_hash is None:
        payload_hash = hashlib.sha256(body or b"").hexdigest()
    hdrs = dict(headers or {})
    signed, *_ = sign_v4(method, srv.host, path, query, hdrs, payload_hash, user, secret=secret, region=region)
    qs = _canonical_query(query)
    full = path + ("?" + qs if qs else "")
    return http_request(srv, method, full, signed, body, timeout)


def parse_error(body):
    """Parses S3 error XML into {'Code':..., 'Message':..., 'RequestId':..., 'Resource':...}."""
    if not body:
        return {}
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {"_unparsable": body[:300]}
    out = {"_root": strip_ns(root.tag)}
    for child in root:
        out[strip_ns(child.tag)] = child.text or ""
    return out


def strip_ns(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def xml_find_all(body, tag):
    root = ET.fromstring(body)
    return [e for e in root.iter() if strip_ns(e.tag) == tag]


# ----------------------------------------------------------------------------------------------- raw sockets


def raw_socket(srv, timeout=30):
    s = socket.create_connection(("127.0.0.1", srv.s3_port), timeout=timeout)
    return s


def read_http_response(sock, timeout=30):
    """Reads one HTTP response from a raw socket. Returns (status or None if closed without a response, raw)."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = sock.recv(65536)
            if not d:
                break
            buf += d
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return None, buf
    if not buf.startswith(b"HTTP/1."):
        return None, buf
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    clen = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
    if clen is not None:
        try:
            while len(rest) < clen:
                d = sock.recv(65536)
                if not d:
                    break
                rest += d
        except (OSError, socket.timeout):
            pass
    return status, head + b"\r\n\r\n" + rest


def abort_socket(sock):
    """Closes with RST (SO_LINGER 0): the peer sees the connection vanish."""
    import struct
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


# ----------------------------------------------------------------------------------------------- boto3


def boto3_available():
    try:
        import boto3  # noqa: F401
        return True
    except ImportError:
        return False


def botocore_version():
    import botocore
    return tuple(int(x) for x in botocore.__version__.split(".")[:3])


def boto_client(srv, user=ALICE, addressing="path", endpoint=None, retries=1, secret=None, **cfg):
    import boto3
    from botocore.config import Config
    opts = {"s3": {"addressing_style": addressing}, "retries": {"total_max_attempts": retries, "mode": "standard"},
            "connect_timeout": 10, "read_timeout": 120}
    opts.update(cfg)
    config = Config(**opts)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or srv.endpoint, region_name=REGION,
        aws_access_key_id=user["access_key"], aws_secret_access_key=secret or user["secret_key"], config=config)


def client_error(fn, *a, **kw):
    """Calls fn, expects botocore ClientError; returns (code, http status, response dict)."""
    from botocore.exceptions import ClientError
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response.get("Error", {}).get("Code"),
                e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), e.response)
    raise AssertionError(f"{getattr(fn, '__name__', fn)} succeeded; an S3 error was expected")


# ----------------------------------------------------------------------------------------------- CLIs


def aws_cli():
    p = os.environ.get("EMBER_AWS")
    if p:
        return p
    if os.path.exists("/usr/bin/aws"):
        return "/usr/bin/aws"
    return shutil.which("aws")


def cli_env(srv, user=ALICE, home=None, extra=None):
    """A minimal environment: a temp HOME so no user config leaks in, credentials of `user`."""
    home = home or make_tmpdir("ember-clihome-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "AWS_ACCESS_KEY_ID": user["access_key"],
        "AWS_SECRET_ACCESS_KEY": user["secret_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "AWS_PAGER": "",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "1",
    }
    if extra:
        env.update(extra)
    return env


def run_cli(args, env, timeout=180, check=True, input=None, cwd=None):
    """Runs a CLI; on check=True a non-zero exit raises AssertionError with the full output."""
    try:
        p = subprocess.run(args, env=env, capture_output=True, timeout=timeout, input=input, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{args} timed out after {timeout}s; stdout={e.stdout!r} stderr={e.stderr!r}")
    p.stdout_s = p.stdout.decode(errors="replace")
    p.stderr_s = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {p.returncode}\n"
                             f"stdout: {p.stdout_s[-3000:]}\nstderr: {p.stderr_s[-3000:]}")
    return p


# ----------------------------------------------------------------------------------------------- unittest glue


class ServerTestCase(unittest.TestCase):
    """Base class: one emberd per test module (started in setUpModule via start_module_server)."""

    srv = None
    _counter = 0

    @classmethod
    def bucket_name(cls, tag="b"):
        ServerTestCase._counter += 1
        name = f"{tag}-{os.getpid()}-{ServerTestCase._counter}-{random.randrange(1 << 20):05x}"
        return name.lower()[:63]

    def assertServerHealthy(self):
        self.assertTrue(self.srv.running(), f"emberd died:\n{self.srv.log_tail()}")
        self.assertEqual(self.srv.healthz(), 200, "/healthz is not 200")


_module_server = None


def start_module_server(**kw):
    global _module_server
    _module_server = Emberd(**kw).start()
    ServerTestCase.srv = _module_server
    return _module_server


def stop_module_server():
    global _module_server
    if _module_server is not None:
        code = _module_server.stop()
        _module_server = None
        return code
    return None


class _Watchdog:
    def __init__(self, seconds):
        self.t = threading.Timer(seconds, self._fire, args=(seconds,))
        self.t.daemon = True

    def _fire(self, seconds):
        sys.stderr.write(f"\nWATCHDOG: test file exceeded {seconds}s; killing emberd and exiting\n")
        for s in list(_servers):
            sys.stderr.write(f"--- server log tail ({s.log_path}):\n{s.log_tail(40)}\n")
        sys.stderr.flush()
        _cleanup_all()
        os._exit(3)


def main(timeout=600):
    """unittest main with a watchdog; prints the server log tail on failure; exit code 0 only if all pass."""
    import faulthandler
    faulthandler.enable()
    wd = _Watchdog(float(os.environ.get("EMBER_TEST_TIMEOUT", timeout)))
    wd.t.start()
    prog = unittest.main(verbosity=2, exit=False, buffer=False)
    ok = prog.result.wasSuccessful()
    if not ok:
        for s in _started:
            sys.stderr.write(f"\n--- server log tail ({s.log_path}):\n{s.log_tail(60)}\n")
    code = 0 if ok else 1
    r = prog.result
    if ok and r.skipped and (r.testsRun == 0 or len(r.skipped) >= r.testsRun):
        code = 77  # everything skipped (e.g. the client tool is missing): ctest shows "Not Run"
    elif r.testsRun == 0:
        code = 1
    _cleanup_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
