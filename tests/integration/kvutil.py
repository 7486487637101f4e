"""Glue for the Redis-protocol KV endpoint tests (test_kv_*.py, crash/crash_kv_test.py); builds on harness.py.

The target is a real emberd with its [kv] section (harness.Emberd(kv=True)), or, to check the tests themselves,
a real redis-server started here on a free port in a temp dir (EMBER_KV_TARGET=redis). Both are configured the
same way through make_target(): users (name, password, readonly), durability (none | batch | sync; Redis: no
AOF | appendfsync everysec | appendfsync always), and one database (Redis: `databases 1`, so SELECT 1 fails on
both). Tests of emberd-only features (value/key size limits, the RAM cache, FLUSH configured off) are marked
@emberd_only and skip on Redis.

Clients: redis-py (Debian's python3-redis 4.3.4, installed for /usr/bin/python3 only; it speaks RESP2 only, so
RESP3 is tested with RespConn, a raw-socket client that keeps every reply's RESP type), and redis-cli
(run_cli()). A file whose client is missing skips (exit 77).

Environment: EMBER_KV_TARGET (emberd | redis), EMBER_REDIS_SERVER (default redis-server on PATH or
/usr/bin/redis-server), EMBER_REDIS_CLI (default redis-cli), plus harness.py's (EMBER_BIN, EMBER_KEEP_TMP, ...).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TARGET = os.environ.get("EMBER_KV_TARGET", "emberd").strip().lower() or "emberd"
if TARGET not in ("emberd", "redis"):
    raise SystemExit(f"EMBER_KV_TARGET must be emberd or redis, not {TARGET!r}")
ON_REDIS = TARGET == "redis"

MAX_VALUE = 64 * 1024   # emberd's default kv.max_value_bytes
MAX_KEY = 1024          # emberd's default kv.max_key_bytes

USERS = [
    {"name": "alice", "password": "alice-kv-pass", "readonly": False},
    {"name": "reader", "password": "reader-kv-pass", "readonly": True},
]
ALICE, READER = USERS


def emberd_only(reason):
    """Skips a test (or class) on a real redis-server, which lacks the feature."""
    return unittest.skipIf(ON_REDIS, f"redis-server: {reason}")


# ----------------------------------------------------------------------------------------------- clients


def redispy_available():
    try:
        import redis  # noqa: F401
        return True
    except ImportError:
        return False


def require_redispy():
    if not redispy_available():
        raise unittest.SkipTest(
            f"redis-py is not importable by {sys.executable} (Debian's python3-redis is installed for "
            "/usr/bin/python3 by scripts/install-deps: run this file with /usr/bin/python3)")


def redis_cli_bin():
    p = os.environ.get("EMBER_REDIS_CLI") or shutil.which("redis-cli") or "/usr/bin/redis-cli"
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def require_cli():
    if not redis_cli_bin():
        raise unittest.SkipTest("redis-cli not found (Debian's redis-tools, from scripts/install-deps)")


def redis_server_bin():
    p = os.environ.get("EMBER_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def cli_env():
    """redis-cli with no user state: a temp HOME (no ~/.redisclirc), no history file, no REDISCLI_AUTH."""
    home = harness.make_tmpdir("ember-rcli-")
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "REDISCLI_HISTFILE": "/dev/null", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}


# ----------------------------------------------------------------------------------------------- RESP client


class Reply:
    """One RESP reply with its type byte: '+' simple, '-' error, ':' integer, '$' bulk (None = RESP2 null bulk),
    '*' array (None = RESP2 null array), '_' null, ',' double, '#' boolean, '%' map (list of (k, v) pairs),
    '~' set, '=' verbatim (bytes incl. the 'txt:' prefix), '(' big number, '>' push, '|' attribute."""

    __slots__ = ("t", "v")

    def __init__(self, t, v):
        self.t, self.v = t, v

    def py(self):
        """Plain Python: bytes / str (simple, error) / int / float / bool / None / list / dict."""
        if self.t in "*~>":
            return None if self.v is None else [x.py() for x in self.v]
        if self.t in "%|":
            return {k.py() if not isinstance(k.py(), list) else tuple(k.py()): v.py() for k, v in self.v}
        return self.v

    @property
    def is_error(self):
        return self.t == "-"

    def __repr__(self):
        return f"Reply({self.t!r}, {self.v!r})"

    def __eq__(self, other):
        return isinstance(other, Reply) and self.t == other.t and self.v == other.v


class ConnectionClosed(Exception):
    pass


def encode(*args):
    """A RESP array of bulk strings (what every client sends)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConn:
    """A raw RESP connection: send any bytes, read typed replies. Every read is bounded by `timeout`."""

    def __init__(self, port, timeout=30, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        """Sends one command, returns its Reply."""
        self.send(encode(*args))
        return self.read()

    def pipeline(self, commands):
        """Sends all commands in one write, then reads one reply per command."""
        self.send(b"".join(encode(*c) for c in commands))
        return [self.read() for _ in commands]

    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise AssertionError(f"no reply within {self.timeout}s (have {bytes(self.buf[:200])!r})")
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ConnectionClosed(f"connection closed (unparsed: {bytes(self.buf[:200])!r})")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        if self.buf[n:n + 2] != b"\r\n":
            raise AssertionError(f"bulk of {n} bytes not followed by CRLF: {bytes(self.buf[n:n + 10])!r}")
        del self.buf[:n + 2]
        return data

    def read(self):
        line = self._line()
        if not line:
            raise AssertionError("empty reply line")
        t, rest = chr(line[0]), line[1:]
        if t == "+":
            return Reply(t, rest.decode(errors="replace"))
        if t == "-":
            return Reply(t, rest.decode(errors="replace"))
        if t == ":":
            return Reply(t, int(rest))
        if t == "(":
            return Reply(t, int(rest))
        if t == ",":
            s = rest.decode().lower()
            return Reply(t, float({"inf": "inf", "-inf": "-inf"}.get(s, s)))
        if t == "#":
            if rest not in (b"t", b"f"):
                raise AssertionError(f"bad boolean {line!r}")
            return Reply(t, rest == b"t")
        if t == "_":
            if rest:
                raise AssertionError(f"bad null {line!r}")
            return Reply(t, None)
        if t in "$=!":
            n = int(rest)
            if n < 0:
                return Reply(t, None)
            return Reply(t, self._exact(n))
        if t in "*~>":
            n = int(rest)
            if n < 0:
                return Reply(t, None)
            return Reply(t, [self.read() for _ in range(n)])
        if t in "%|":
            n = int(rest)
            return Reply(t, [(self.read(), self.read()) for _ in range(n)])
        raise AssertionError(f"unknown RESP type in {line!r}")

    def closed_by_peer(self, timeout=10):
        """True if the server closes the connection (EOF / reset) within timeout, reading away anything else."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(1 << 16):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        return False


def ping_ok(port, timeout=10, auth=None):
    """A fresh connection answers PING (after AUTH user pass, if given)."""
    try:
        with RespConn(port, timeout=timeout) as c:
            if auth:
                if c.call("AUTH", *auth).v != "OK":
                    return False
            r = c.call("PING")
            return r.t == "+" and r.v == "PONG"
    except (OSError, ConnectionClosed, AssertionError):
        return False


# ----------------------------------------------------------------------------------------------- targets


class _KvMixin:
    """What every target offers: .port, redis-py clients, raw connections, redis-cli."""

    kv_users = ()

    def client(self, user=None, decode=True, **kw):
        import redis
        if user:
            kw.setdefault("username", user["name"])
            kw.setdefault("password", user["password"])
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=decode, socket_timeout=60,
                           socket_connect_timeout=10, **kw)

    def raw(self, timeout=30, user=None):
        c = RespConn(self.port, timeout=timeout)
        if user:
            r = c.call("AUTH", user["name"], user["password"])
            assert r.t == "+", r
        return c

    def cli(self, *args, user=None, input=None, check=True, timeout=120):
        """Runs redis-cli -h 127.0.0.1 -p PORT [--user U --pass P --no-auth-warning] ARGS; the result has
        stdout_s / stderr_s. Non-tty stdout: replies are printed raw unless --no-raw is in ARGS."""
        cmd = [redis_cli_bin(), "-h", "127.0.0.1", "-p", str(self.port)]
        if user:
            cmd += ["--user", user["name"], "--pass", user["password"], "--no-auth-warning"]
        cmd += [str(a) for a in args]
        return harness.run_cli(cmd, cli_env(), timeout=timeout, check=check, input=input)

    def ping_ok(self):
        auth = (self.kv_users[0]["name"], self.kv_users[0]["password"]) if self.kv_users else None
        return ping_ok(self.port, auth=auth)


class EmberKv(harness.Emberd, _KvMixin):
    """emberd with its KV endpoint on an ephemeral port (self.port, read from the port file's "kv")."""

    kind = "emberd"

    def __init__(self, users=(), durability=None, kv_config="", **kw):
        lines = []
        if durability:
            lines.append(f'durability = "{durability}"')
        if kv_config:
            lines.append(kv_config.strip("\n"))
        for u in users:
            lines.append(f'\n[[kv.users]]\nname = "{u["name"]}"\npassword = "{u["password"]}"\n'
                         f'readonly = {"true" if u.get("readonly") else "false"}')
        self.kv_users = list(users)
        self.durability = durability or "batch"
        super().__init__(kv=True, kv_config="\n".join(lines), **kw)

    @property
    def port(self):
        return self.kv_port


class RedisServer(harness._Process, _KvMixin):
    """A real redis-server on a free port, its data (AOF, when durable) in a temp dir that survives restarts.
    Durability: none = no persistence; batch = AOF appendfsync everysec; sync = AOF appendfsync always (Redis
    writes and fsyncs the AOF before it sends the replies). `databases 1` as emberd has one database. Users: the
    default user is off (NOAUTH until AUTH), read-only users get +@all -@write."""

    kind = "redis"
    stop_timeout = 20

    def __init__(self, users=(), durability=None, redis_config=""):
        exe = redis_server_bin()
        if not exe:
            raise unittest.SkipTest("redis-server not found (Debian's redis-server)")
        self.exe = exe
        self.tmp = harness.make_tmpdir("ember-redis-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp, "redis.log")
        self.kv_users = list(users)
        self.durability = durability or "none"
        self.redis_config = redis_config
        self.proc = None
        self.port = None
        self.starts = 0

    def _config(self):
        lines = [f"port {self.port}", "bind 127.0.0.1", "protected-mode no", f'dir "{self.data_dir}"',
                 "daemonize no", 'save ""', "databases 1", "loglevel notice", 'logfile ""']
        if self.durability == "none":
            lines += ["appendonly no"]
        else:
            lines += ["appendonly yes", "appendfsync " + ("always" if self.durability == "sync" else "everysec")]
        if self.kv_users:
            lines.append("user default off")
            for u in self.kv_users:
                rights = "+@all -@write" if u.get("readonly") else "+@all"
                lines.append(f"user {u['name']} on >{u['password']} ~* &* {rights}")
        if self.redis_config:
            lines.append(self.redis_config)
        return "\n".join(lines) + "\n"

    def start(self, timeout=30):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        last = None
        for _attempt in range(3):  # a free port can be taken between free_port() and the bind
            self.port = harness.free_port()
            conf = os.path.join(self.tmp, "redis.conf")
            with open(conf, "w") as f:
                f.write(self._config())
            self.starts += 1
            log = open(self.log_path, "ab")
            log.write(f"\n===== start #{self.starts}: {self.exe} {conf} (port {self.port})\n".encode())
            log.flush()
            self.proc = subprocess.Popen([self.exe, conf], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.tmp, start_new_session=True,
                                         preexec_fn=harness._die_with_parent)
            log.close()
            harness._servers.append(self)
            if self not in harness._started:
                harness._started.append(self)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._ready():
                    return self
                time.sleep(0.05)
            last = f"redis-server not ready on {self.port} within {timeout}s:\n{self.log_tail()}"
            self.kill9()
        raise RuntimeError(last)

    def _ready(self):
        try:
            with RespConn(self.port, timeout=5) as c:
                r = c.call("PING")
                # ready = not loading (-LOADING) and either PONG or NOAUTH (users configured)
                return (r.t == "+" and r.v == "PONG") or (r.t == "-" and r.v.startswith("NOAUTH"))
        except (OSError, ConnectionClosed, AssertionError):
            return False

    def restart(self, timeout=30):
        self.stop()
        return self.start(timeout)

    def healthz(self):
        return 200 if self.running() and self._ready() else None

    def log_tail(self, n=80):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def make_target(users=(), durability=None, kv_config="", redis_config="", **kw):
    """An unstarted server of the selected target (EMBER_KV_TARGET). kv_config: extra [kv] lines for emberd;
    redis_config: extra redis.conf lines."""
    if ON_REDIS:
        return RedisServer(users=users, durability=durability, redis_config=redis_config)
    return EmberKv(users=users, durability=durability, kv_config=kv_config, **kw)


def stop_checked(srv):
    """Stops a server gracefully; raises unless it exited 0 (emberd must exit 0 on SIGTERM)."""
    if srv is None or srv.proc is None:
        return
    code = srv.stop()
    if code not in (None, 0):
        raise AssertionError(f"{srv.kind} did not exit 0 on SIGTERM (exit code {code}):\n{srv.log_tail(30)}")


# ----------------------------------------------------------------------------------------------- unittest glue

_module = None


def start_module_target(**kw):
    """setUpModule: skips without redis-py, starts the module's server, sets KvTestCase.srv."""
    global _module
    require_redispy()
    _module = make_target(**kw).start()
    KvTestCase.srv = _module
    return _module


def stop_module_target():
    """tearDownModule: prints the error-text notes, stops the module's server (it must exit 0)."""
    global _module
    print_text_notes()
    srv, _module = _module, None
    stop_checked(srv)


class KvTestCase(unittest.TestCase):
    """Base: self.r (redis-py, str replies), self.rb (bytes replies), self.k(tag) (keys unique to the test),
    raw-protocol assertions, and a liveness check after every test."""

    srv = None

    def setUp(self):
        self.r = self.srv.client()
        self.rb = self.srv.client(decode=False)

    def tearDown(self):
        for c in (self.r, self.rb):
            try:
                c.close()
            except Exception:
                pass
        self.assertTrue(self.srv.running(), f"{self.srv.kind} died:\n{self.srv.log_tail()}")

    def k(self, tag=""):
        return f"{self._testMethodName}:{tag}"

    def call(self, *args, user=None):
        """One command on a fresh raw connection; the Reply."""
        with self.srv.raw(user=user) as c:
            return c.call(*args)

    def assertReply(self, args, t, v, user=None):
        r = self.call(*args, user=user)
        self.assertEqual((r.t, r.v), (t, v), f"{' '.join(map(str, args))}")

    def assertErr(self, args, prefix, exact=False, user=None):
        """The command answers a RESP error that starts with (or equals) `prefix` (e.g. 'ERR syntax error')."""
        r = self.call(*args, user=user)
        self.assertEqual(r.t, "-", f"{' '.join(map(str, args))}: expected an error, got {r!r}")
        if exact:
            self.assertEqual(r.v, prefix, f"{' '.join(map(str, args))}")
        else:
            self.assertTrue(r.v.startswith(prefix), f"{' '.join(map(str, args))}: {r.v!r} does not start "
                            f"with {prefix!r}")
        return r.v

    def assertErrLike(self, args, redis_text, user=None):
        """The command answers a RESP error with Redis's first word (ERR, WRONGTYPE ...). The exact text is
        what Redis 7.0 answers; a different text is noted (printed at the end), not a failure."""
        r = self.call(*args, user=user)
        what = " ".join(map(str, args))
        self.assertEqual(r.t, "-", f"{what}: expected an error like {redis_text!r}, got {r!r}")
        self.assertEqual(r.v.split(" ", 1)[0], redis_text.split(" ", 1)[0], f"{what}: {r.v!r} vs {redis_text!r}")
        if r.v != redis_text:
            TEXT_NOTES.append(f"{what}: {r.v!r} (Redis: {redis_text!r})")
        return r.v

    def assertAlive(self):
        self.assertTrue(self.srv.running(), f"{self.srv.kind} died:\n{self.srv.log_tail()}")
        self.assertTrue(self.srv.ping_ok(), "a fresh connection does not answer PING")


class UsersTestCase(KvTestCase):
    """A server of the class's own with the USERS (alice read-write, reader read-only); self.r / self.rb log in
    as alice."""

    @classmethod
    def setUpClass(cls):
        cls.srv = make_target(users=USERS).start()

    @classmethod
    def tearDownClass(cls):
        stop_checked(cls.srv)

    def setUp(self):
        self.r = self.srv.client(user=ALICE)
        self.rb = self.srv.client(user=ALICE, decode=False)


TEXT_NOTES = []  # error texts that differ from Redis's (assertErrLike), printed by main()


def print_text_notes():
    if TEXT_NOTES:
        sys.stderr.write("\nNOTE: error texts that differ from Redis 7.0 (not failures):\n  "
                         + "\n  ".join(TEXT_NOTES) + "\n")
        del TEXT_NOTES[:]


def main(timeout=600):
    harness.main(timeout=timeout)
