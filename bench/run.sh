#!/usr/bin/env bash
# Ember benchmark: emberd against its anchors (nginx for GET, fio for PUT, Azurite for the Azure Blob
# endpoint: bench/blob.sh, redis-server for the Redis-protocol KV endpoint: bench/kv.sh), measured in one run on this machine; prints one table and writes
# docs/benchmarks.md. See the "Benchmarks" section of the foundation issue and DESIGN.md §5. Run
# through `make bench` (which builds emberd in release mode and installs nginx-light, fio, wrk and
# Azurite first) or directly:
#
#   bench/run.sh
#
# Environment (all optional):
#   EMBERD=path               emberd binary (default build/src/app/emberd/emberd)
#   BENCH_TMPDIR=dir          where the scratch directory goes (default /var/tmp; must not be tmpfs:
#                             emberd's data, nginx's root and fio's files share that filesystem)
#   BENCH_DURATION=10         seconds per wrk / fio timed run
#   BENCH_ROUNDS=2            rounds of each GET/PUT row (anchor, then Ember); the best round counts
#   BENCH_LIST_KEYS=1000000   keys in the LIST bucket
#   BENCH_LOAD_TIMEOUT=600    seconds allowed to load them (LIST then runs on what got loaded)
#   BENCH_CONC_MIB=auto       object size for the 64-concurrent-upload RSS test (auto: 1024 when
#                             the disk has room for 64 GiB + 16 GiB and 64 GiB can be written in
#                             the time left, else 256)
#   BENCH_ONLY="get blob"     run only these sections (get put4k put1g blob kv tier list conc; default: all)
#   BENCH_ANCHORS_ONLY=1      run only the anchors (nginx, fio): for developing the bench itself
#   BENCH_KEEP=1              keep the scratch directory
#   BENCH_DOC=path            where to write the report (default docs/benchmarks.md; "" = none)
#   BENCH_EMBER_CONFIG=toml   extra lines appended to emberd's configuration (experiments)
#   BENCH_BLOB=1              0 skips the Blob rows (emberd's Blob endpoint vs Azurite, Blob GET vs S3 GET)
#   BENCH_BLOB_BIG_ROUNDS=3   rounds of the 256 MiB Blob upload/download rows (the median counts)
#   BENCH_BLOB_GETS=4         256 MiB downloads timed together in each of those rounds
#   BENCH_AZURITE_DISK=1      0 skips the second Azurite (disk persistence); the in-memory one always runs
#   AZURITE=path              azurite-blob (default .deps/azurite/node_modules/.bin/azurite-blob, installed
#                             by scripts/install-deps --bench); without it the Blob rows have no anchor
#   BENCH_KV_*, REDIS_*       the KV rows' knobs (bench/kv.sh: redis-benchmark vs redis-server, ~4 min)
#   EMBERCTL=path             emberctl binary for the tier rows (default: next to emberd's build,
#                             build/src/app/emberctl/emberctl)
#   BENCH_TIER_*, RCLONE      the tier rows' knobs (bench/tier.sh: read-through, write-back and staging
#                             against Azurite as the cold store and rclone, ~3-6 min)
#
# Every step is bounded (timeouts); the whole run aims at < 20 minutes on 2 cores. It kills only the
# processes it started (by PID) and removes its scratch directory on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1
H="$PY $BENCH/lib/bench.py"
EMBERD=${EMBERD:-$ROOT/build/src/app/emberd/emberd}
EMBERCTL=${EMBERCTL:-$(dirname "$(dirname "$EMBERD")")/emberctl/emberctl}
DUR=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-2}
LIST_KEYS=${BENCH_LIST_KEYS:-1000000}
LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-600}
CONC_MIB=${BENCH_CONC_MIB:-auto}
CONC_N=64
ANCHORS_ONLY=${BENCH_ANCHORS_ONLY:-0}
DOC=${BENCH_DOC-$ROOT/docs/benchmarks.md}
BUDGET_S=${BENCH_BUDGET_S:-1140}   # soft budget for the whole run (19 min): late steps shrink or skip
BLOB=${BENCH_BLOB:-1}
BIG_ROUNDS=${BENCH_BLOB_BIG_ROUNDS:-3}
AZURITE_DISK=${BENCH_AZURITE_DISK:-1}
AZURITE=${AZURITE:-$ROOT/.deps/azurite/node_modules/.bin/azurite-blob}
# The Azure Storage emulator's well-known account and key (bench/lib/azsas.py has the same).
BLOB_ACCOUNT=devstoreaccount1
BLOB_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
BUCKET=bench
LBUCKET=bench-list
T0=$SECONDS

want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
log() { printf '[bench %4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
warn() { log "WARNING: $*"; echo "$*" >>"$WORK/warnings"; }
left() { echo $((BUDGET_S - (SECONDS - T0))); }

for tool in wrk fio nginx curl "$PY"; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps --bench)"
done
if [ "$ANCHORS_ONLY" != 1 ]; then
  [ -x "$EMBERD" ] || die "emberd not found at $EMBERD (make build-release, or set EMBERD)"
fi

# ------------------------------------------------------------------ scratch dir, cleanup
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ember-bench.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK/data" "$WORK/www" "$WORK/fio" "$WORK/nginx/tmp" "$WORK/src" "$WORK/wrk"
: >"$WORK/warnings"
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
NGINX_PID="" EMBER_PID="" BG_PIDS=()
declare -A AZ_PID=()

stop_pid() {  # pid signal grace_seconds
  local pid=$1 sig=$2 grace=$3
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

bg_forget() {  # drop a reaped PID from BG_PIDS so cleanup never signals a recycled PID
  local keep=() p
  for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}

cleanup() {
  local rc=$?
  set +e
  for p in "${BG_PIDS[@]}"; do stop_pid "$p" TERM 2; done
  for p in "${AZ_PID[@]}"; do stop_pid "$p" TERM 10; done
  stop_pid "$EMBER_PID" TERM 30
  stop_pid "$NGINX_PID" QUIT 5
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
avail_mib() { df -Pm "$WORK" | awk 'NR==2 {print $4}'; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# Starts the RSS sampler for emberd; rss_stop prints its JSON.
RSS_PID=""
rss_start() { $H rss --pid "$EMBER_PID" --out "$WORK/rss-$1.json" & RSS_PID=$!; BG_PIDS+=("$RSS_PID"); }
rss_stop() { stop_pid "$RSS_PID" TERM 5; bg_forget "$RSS_PID"; cat "$WORK/rss-$1.json"; }

# run_wrk NAME URL CONNS DURATION [env...] : runs wrk with bench/lua/s3.lua (or the script named by a
# WRK_SCRIPT=path argument), prints its JSON summary.
# In load mode (each key PUT once) wrk stops itself after the last answer; if no answer arrives for
# BENCH_STALL_S seconds it is interrupted (SIGINT: it still prints its summary).
run_wrk() {
  local name=$1 url=$2 conns=$3 dur=$4; shift 4
  local out=$WORK/wrk/$name.out pid deadline stall=${BENCH_STALL_S:-30} newest watch=0 a script=$BENCH/lua/s3.lua
  for a in "$@"; do
    [ "$a" = WRK_MODE=load ] && watch=1
    case $a in WRK_SCRIPT=*) script=${a#WRK_SCRIPT=} ;; esac
  done
  rm -f "$WORK"/wrk/done.* "$WORK"/wrk/progress.*
  env WRK_THREADS=2 WRK_DONE_DIR="$WORK/wrk" "$@" \
    wrk -t2 -c"$conns" -d"${dur}s" --timeout 30s -s "$script" "$url" >"$out" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  deadline=$((SECONDS + dur + 30))
  [ $watch = 1 ] && touch "$WORK/wrk/progress.start"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    if [ $watch = 1 ] && [ -e "$WORK/wrk/done.0" ] && [ -e "$WORK/wrk/done.1" ]; then
      kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; break
    fi
    if [ $SECONDS -ge $deadline ]; then
      warn "$name: wrk did not finish in $((dur + 30)) s; killed"; kill -KILL "$pid" 2>/dev/null; break
    fi
    [ $watch = 1 ] || continue
    newest=$( (stat -c %Y "$WORK"/wrk/progress.* 2>/dev/null || true) | sort -n | tail -1)
    if [ -n "$newest" ] && [ $(($(date +%s) - newest)) -gt "$stall" ]; then
      warn "$name: no progress for $stall s; interrupting wrk"; kill -INT "$pid" 2>/dev/null; sleep 2
    fi
  done
  wait "$pid" 2>/dev/null || true
  bg_forget "$pid"
  $H wrkjson "$out" || { cat "$out" >&2; echo '{}'; }
}
jx() { printf '%s' "$2" | $H jx "$1"; }   # jx 'python expr over d' "$json"
calc() { $PY -c "print($1)"; }

check_errors() {  # name json : warns when wrk saw errors
  local e
  e=$(jx 'sum(d.get(k,0) for k in ("err_connect","err_read","err_write","err_status","err_timeout","bad"))' "$2")
  [ "$e" = 0 ] || warn "$1: wrk reported $e errors/non-2xx responses: $2"
}

# ------------------------------------------------------------------ nginx
start_nginx() {
  NGINX_PORT=$(free_port)
  cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;           # tcp_nopush stays off: with it, 64 MiB GETs over loopback ran ~25% slower
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  default_type application/octet-stream;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;   # spreads connections over the workers
    root $WORK/www;
    location / { }
  }
}
EOF
  nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
  NGINX_PID=$!
  echo ok >"$WORK/www/ready"; chmod 644 "$WORK/www/ready"
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/ready" 2>/dev/null && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$WORK/nginx/error.log")"
    sleep 0.1
  done
  NGINX="127.0.0.1:$NGINX_PORT"
  log "nginx pid $NGINX_PID on $NGINX, root $WORK/www"
}

# ------------------------------------------------------------------ emberd
start_ember() {
  cat >"$WORK/ember.toml" <<'EOF'
[[users]]
name = "bench"
access_key = "AKIDBENCH"
secret_key = "bench-secret-key"
EOF
  if [ "$BLOB" = 1 ]; then
    # The Azure Blob endpoint on an ephemeral port, with the emulator's well-known account (the one
    # Azurite has too), owned by the bench user: its containers are the user's S3 buckets.
    cat >>"$WORK/ember.toml" <<EOF

[blob]
enabled = true
address = "127.0.0.1"
port = 0

[[blob.accounts]]
name = "$BLOB_ACCOUNT"
key = "$BLOB_KEY"
user = "bench"
EOF
  else
    printf '\n[blob]\nenabled = false\n' >>"$WORK/ember.toml"
  fi
  # The KV endpoint (default: on, port 6379) is measured by bench/kv.sh on emberds of its own.
  printf '\n[kv]\nenabled = false\n' >>"$WORK/ember.toml"
  # Extra emberd configuration for experiments (TOML lines), e.g. BENCH_EMBER_CONFIG=$'[server]\nblocking_threads = 64'
  [ -n "${BENCH_EMBER_CONFIG:-}" ] && printf '%s\n' "$BENCH_EMBER_CONFIG" >>"$WORK/ember.toml"
  local blob_args=()
  [ "$BLOB" = 1 ] && blob_args=(--blob-port 0)
  "$EMBERD" --config "$WORK/ember.toml" --data-dir "$WORK/data" --s3-address 127.0.0.1 \
    --s3-port 0 --admin-port 0 "${blob_args[@]}" --port-file "$WORK/ports.json" --log-level warn \
    >"$WORK/emberd.log" 2>&1 &
  EMBER_PID=$!
  for _ in $(seq 300); do
    [ -s "$WORK/ports.json" ] && $PY -c "import json; d=json.load(open('$WORK/ports.json')); d['s3']; $([ "$BLOB" = 1 ] && echo "d['blob']")" 2>/dev/null && break
    kill -0 "$EMBER_PID" 2>/dev/null || die "emberd exited: $(tail -20 "$WORK/emberd.log")"
    sleep 0.1
  done
  [ -s "$WORK/ports.json" ] || die "emberd did not write its port file in 30 s"
  EMBER="127.0.0.1:$($PY -c "import json; print(json.load(open('$WORK/ports.json'))['s3'])")"
  EP="http://$EMBER"
  log "emberd pid $EMBER_PID on $EMBER ($EMBERD)"
  if [ "$BLOB" = 1 ]; then
    local bp
    bp=$($PY -c "import json; print(json.load(open('$WORK/ports.json')).get('blob', ''))")
    { [ -n "$bp" ] && [ "$bp" != 0 ]; } || die "emberd wrote no Blob port (key \"blob\") in its port file; BENCH_BLOB=0 skips the Blob rows"
    EBLOB="127.0.0.1:$bp"
    log "emberd Blob endpoint on $EBLOB"
  fi
  $H selftest --endpoint "$EP"
  $H mkbucket --endpoint "$EP" --bucket "$BUCKET"
  IDLE_RSS=$(rss_mib "$EMBER_PID")
}

record() { $H record --results "$RESULTS" --scratch "$WORK" "$@"; }

# Timed rows run BENCH_ROUNDS rounds (default 2), anchor then Ember in each, and report the best
# round of each: other work on a shared machine only ever makes a round slower.
best() { $PY -c 'import sys; v=[float(x) for x in sys.argv[1:] if x]; print(max(v) if v else "")' "$@"; }
rounds_txt() { $PY -c 'import sys; v=[float(x) for x in sys.argv[2:] if x]; print(" / ".join(sys.argv[1] % x for x in v) or "n/a")' "$@"; }

# ------------------------------------------------------------------ GET
bench_get() {  # id label size_bytes conns
  local id=$1 label=$2 size=$3 conns=$4 obj=obj-$1 r
  head -c "$size" /dev/urandom >"$WORK/www/$obj"
  chmod 644 "$WORK/www/$obj"
  local nurl="http://$NGINX/$obj" eurl="" n e="" nvals=() evals=() expr fmt unit
  [ "$(curl -fsS -m 120 "$nurl" | md5sum)" = "$(md5sum <"$WORK/www/$obj")" ] || die "nginx does not serve $obj"
  if [ "$ANCHORS_ONLY" != 1 ]; then
    $H put-file --endpoint "$EP" --bucket "$BUCKET" --key "$obj" --file "$WORK/www/$obj"
    eurl=$($H presign --endpoint "$EP" --bucket "$BUCKET" --key "$obj")
    [ "$(curl -fsS -m 120 "$eurl" | md5sum)" = "$(md5sum <"$WORK/www/$obj")" ] || die "emberd GET $obj: wrong bytes or error"
  fi
  if [ "$id" = get4k ]; then expr='d["requests"]/(d["duration_us"]/1e6)' fmt='%.0f' unit=req/s
  else expr='d["bytes"]/(d["duration_us"]/1e6)/1e6' fmt='%.1f' unit=MB/s; fi
  # A 2 s warm-up for each server, then per round: nginx, then emberd.
  run_wrk "$id-nginx-warm" "$nurl" "$conns" 2 WRK_MODE=get >/dev/null
  [ -n "$eurl" ] && run_wrk "$id-ember-warm" "$eurl" "$conns" 2 WRK_MODE=get >/dev/null
  for r in $(seq "$ROUNDS"); do
    n=$(run_wrk "$id-nginx-$r" "$nurl" "$conns" "$DUR" WRK_MODE=get)
    check_errors "$label nginx" "$n"
    nvals+=("$(jx "$expr" "$n")")
    log "$label round $r: nginx $(jx "'$fmt $unit' % ($expr)" "$n")"
    if [ -n "$eurl" ]; then
      e=$(run_wrk "$id-ember-$r" "$eurl" "$conns" "$DUR" WRK_MODE=get)
      check_errors "$label emberd" "$e"
      evals+=("$(jx "$expr" "$e")")
      log "$label round $r: ember $(jx "'$fmt $unit' % ($expr)" "$e")"
    fi
  done
  local cmd_e="wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/s3.lua '<presigned GET http://\$EMBER/$BUCKET/$obj>'   (WRK_MODE=get)"
  local cmd_n="wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/s3.lua 'http://\$NGINX/$obj'   (WRK_MODE=get)"
  local nname what
  nname="nginx $(nginx -v 2>&1 | sed 's|.*/||') (sendfile, 2 workers, reuseport)"
  if [ "$id" = get4k ]; then what="the same $size-byte object"; else what="the same $((size >> 20)) MiB object"; fi
  record --id "$id" --metric "$label" --unit "$unit" --anchor-name "$nname" --target ">= 0.9" \
    --ember "$(best "${evals[@]}")" --anchor "$(best "${nvals[@]}")" \
    --notes "$what (random bytes, in the page cache) fetched by wrk, 2 threads, $conns keep-alive connections, ${DUR} s per round after a 2 s warm-up, best of $ROUNDS rounds (Ember: $(rounds_txt "$fmt" "${evals[@]}"); nginx: $(rounds_txt "$fmt" "${nvals[@]}") $unit); $([ "$id" = get4k ] || echo 'MB/s = bytes received (bodies + headers) / duration; ')Ember through a SigV4 presigned GET URL (every request is authenticated), nginx as a static file. Last round's latency p50/p99: Ember $(jx '"%.2f/%.2f ms" % (d["lat_p50_us"]/1e3, d["lat_p99_us"]/1e3)' "$e"), nginx $(jx '"%.2f/%.2f ms" % (d["lat_p50_us"]/1e3, d["lat_p99_us"]/1e3)' "$n")." \
    --cmd "$cmd_e" --cmd "$cmd_n"
  return 0
}

# ------------------------------------------------------------------ PUT 4 KiB
bench_put4k() {
  local conns=64 keys=200000 f e="" fvals=() evals=() r q
  local fio_cmd="fio --name=put4k --directory=$WORK/fio --rw=write --bs=4k --fsync=1 --numjobs=$conns --size=64m --time_based --runtime=$DUR --group_reporting --output-format=json"
  for r in $(seq "$ROUNDS"); do
    sync
    timeout -k 5 $((DUR + 60)) $fio_cmd >"$WORK/fio-put4k.json" 2>"$WORK/fio-put4k.err" || die "fio put4k failed: $(cat "$WORK/fio-put4k.err")"
    f=$($H fiojson "$WORK/fio-put4k.json")
    fvals+=("$(jx 'd["iops"]' "$f")")
    rm -f "$WORK"/fio/*; sync
    log "PUT 4 KiB round $r: fio $(jx '"%.0f IOPS, fsync p50 %.2f ms" % (d["iops"], d["sync_lat"]["percentile"]["50.000000"]/1e6)' "$f")"
    if [ "$ANCHORS_ONLY" != 1 ]; then
      q=$($H sigs --endpoint "$EP" --bucket "$BUCKET" --keyfmt "put4k-r$r/k%07d" --count $keys --threads 2 --out "$WORK/sigs-put4k")
      e=$(run_wrk "put4k-ember-$r" "$EP/" $conns "$DUR" WRK_MODE=put WRK_BODY_SIZE=4096 \
        WRK_PATHFMT="/$BUCKET/put4k-r$r/k%07d" WRK_QUERY="$q" WRK_SIGS="$WORK/sigs-put4k")
      check_errors "PUT 4 KiB emberd" "$e"
      evals+=("$(jx 'd["requests"]/(d["duration_us"]/1e6)' "$e")")
      log "PUT 4 KiB round $r: ember $(jx '"%.0f ops/s, p50/p99 %.1f/%.1f ms" % (d["requests"]/(d["duration_us"]/1e6), d["lat_p50_us"]/1e3, d["lat_p99_us"]/1e3)' "$e")"
    fi
    rm -f "$WORK"/sigs-put4k.*
  done
  PUT4K_FIO=$(best "${fvals[@]}")
  record --id put4k --metric "PUT 4 KiB, 64 concurrent" --unit "ops/s" --ember "$(best "${evals[@]}")" --anchor "$PUT4K_FIO" \
    --anchor-name "fio write+fsync per 4 KiB, 64 jobs" --target ">= 0.8" \
    --notes "best of $ROUNDS rounds (Ember: $(rounds_txt %.0f "${evals[@]}"); fio: $(rounds_txt %.0f "${fvals[@]}") ops/s). Ember: wrk, 2 threads, $conns keep-alive connections, ${DUR} s, each request a PUT of a new 4 KiB object (random bytes) through a presigned PUT URL (UNSIGNED-PAYLOAD), keys put4k-rN/k0000000.. in order ($keys distinct keys per round; overwrites once exhausted); emberd acknowledges a PUT only when it is durable. Anchor: fio with $conns jobs, each appending 4 KiB to its own file and calling fsync() after every write (--fsync=1), i.e. $conns writers each waiting for one durable 4 KiB write at a time: the rate at which this filesystem makes 4 KiB durable at the same concurrency. A server that syncs each PUT on its own lands below it; group commit (one sync for many PUTs) can exceed it. Last round: fio fsync latency p50 $(jx '"%.2f ms" % (d["sync_lat"]["percentile"]["50.000000"]/1e6)' "$f"); Ember PUT latency p50/p99 $(jx '"%.2f/%.2f ms" % (d["lat_p50_us"]/1e3, d["lat_p99_us"]/1e3)' "$e")." \
    --cmd "wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/s3.lua http://\$EMBER/   (WRK_MODE=put WRK_BODY_SIZE=4096 WRK_PATHFMT=/$BUCKET/put4k-rN/k%07d, signatures from bench/lib/bench.py sigs)" \
    --cmd "$fio_cmd"
}

# ------------------------------------------------------------------ PUT 1 GiB
bench_put1g() {
  local size=$((1024 * 1024 * 1024)) f out code t fvals=() evals=() r url
  [ "$(avail_mib)" -gt 6000 ] || { warn "PUT 1 GiB skipped: less than 6 GB free"; return 0; }
  [ -f "$WORK/src/1g" ] || head -c $size /dev/urandom >"$WORK/src/1g"
  local fio_cmd="fio --name=put1g --filename=$WORK/fio/seq1g --rw=write --bs=1M --size=1G --end_fsync=1 --output-format=json"
  for r in $(seq "$ROUNDS"); do
    sync
    timeout -k 5 300 $fio_cmd >"$WORK/fio-put1g.json" 2>"$WORK/fio-put1g.err" || die "fio put1g failed: $(cat "$WORK/fio-put1g.err")"
    f=$($H fiojson "$WORK/fio-put1g.json")
    fvals+=("$(jx 'd["bw_bytes"]/1e6' "$f")")
    rm -f "$WORK/fio/seq1g"; sync
    log "PUT 1 GiB round $r: fio $(jx '"%.1f MB/s" % (d["bw_bytes"]/1e6)' "$f")"
    if [ "$ANCHORS_ONLY" != 1 ]; then
      url=$($H presign --endpoint "$EP" --bucket "$BUCKET" --key "obj-1g-r$r" --method PUT)
      out=$(timeout -k 5 300 curl -sS -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$WORK/src/1g" \
        -o "$WORK/put1g.body" -w '%{http_code} %{time_total}' "$url" || true)
      code=${out%% *} t=${out##* }
      if [ "$code" = 200 ]; then
        evals+=("$(calc "$size / $t / 1e6")")
        log "PUT 1 GiB round $r: ember $(calc "round($size / $t / 1e6, 1)") MB/s"
      else
        warn "PUT 1 GiB emberd: HTTP $out $(head -c 300 "$WORK/put1g.body" 2>/dev/null)"
      fi
      sync
    fi
  done
  PUT1G_FIO=$(best "${fvals[@]}")
  record --id put1g --metric "PUT 1 GiB, single stream" --unit "MB/s" --ember "$(best "${evals[@]}")" --anchor "$PUT1G_FIO" \
    --anchor-name "fio seq write 1 GiB, bs=1M, end_fsync" --target ">= 0.8" \
    --notes "best of $ROUNDS rounds (Ember: $(rounds_txt %.1f "${evals[@]}"); fio: $(rounds_txt %.1f "${fvals[@]}") MB/s). Ember: one PUT of a 1 GiB file of random bytes (already in the page cache) with curl through a presigned PUT URL; MB/s = 2^30 bytes / curl's time_total (request start to the 200 after emberd made the object durable). Anchor: fio writing 1 GiB sequentially in 1 MiB blocks with one fsync at the end (end_fsync=1), the same durability point as the PUT's acknowledgement; fio's bandwidth includes that final fsync." \
    --cmd "curl -sS -H 'Expect:' -T 1g.bin -w '%{http_code} %{time_total}' '<presigned PUT http://\$EMBER/$BUCKET/obj-1g-rN>'" \
    --cmd "$fio_cmd"
}

# ------------------------------------------------------------------ LIST (1M keys)
bench_list() {
  [ "$ANCHORS_ONLY" = 1 ] && return 0
  local n=$LIST_KEYS q l loaded ok rate budget
  budget=$(( $(left) - 240 ))
  [ "$budget" -lt "$LOAD_TIMEOUT" ] && LOAD_TIMEOUT=$budget
  [ "$LOAD_TIMEOUT" -gt 30 ] || { warn "LIST skipped: out of time budget"; return 0; }
  $H mkbucket --endpoint "$EP" --bucket "$LBUCKET"
  log "LIST: signing $n PUT URLs"
  q=$($H sigs --endpoint "$EP" --bucket "$LBUCKET" --keyfmt "dir%04d/file%06d" --dirsize 1000 --count "$n" --threads 2 --out "$WORK/sigs-list")
  log "LIST: loading $n keys (16-byte objects, wrk -c64, at most $LOAD_TIMEOUT s)"
  rm -f "$WORK"/wrk/done.*
  l=$(run_wrk list-load "$EP/" 64 "$LOAD_TIMEOUT" WRK_MODE=load WRK_BODY_SIZE=16 \
    WRK_PATHFMT="/$LBUCKET/dir%04d/file%06d" WRK_DIRSIZE=1000 WRK_QUERY="$q" WRK_SIGS="$WORK/sigs-list")
  rm -f "$WORK"/sigs-list.*
  log "LIST load: $l"
  ok=$(jx 'd["ok"]' "$l")
  rate=$(jx 'd["ok"]/(d["duration_us"]/1e6)' "$l")
  [ "$ok" = "$n" ] || warn "LIST load: $ok of $n PUTs succeeded within $LOAD_TIMEOUT s ($l); listing what is there"
  record --id load --metric "PUT 16 B (LIST bucket load), 64 concurrent" --unit "ops/s" --ember "$rate" \
    --anchor "${PUT4K_FIO:-}" --anchor-name "fio write+fsync per 4 KiB, 64 jobs" --target "" \
    --notes "the load phase of the LIST test: $ok new keys dir%04d/file%06d (key i in dir i/1000), 16-byte bodies, each key PUT once by wrk (2 threads, 64 connections, presigned PUT URLs), rate = acknowledged PUTs / wall time. Compared with the same fio anchor as PUT 4 KiB (informational, no target)." \
    --cmd "wrk -t2 -c64 -d${LOAD_TIMEOUT}s --timeout 30s -s bench/lua/s3.lua http://\$EMBER/   (WRK_MODE=load WRK_BODY_SIZE=16 WRK_PATHFMT=/$LBUCKET/dir%04d/file%06d WRK_DIRSIZE=1000; each key once; bench/run.sh interrupts wrk when every key has its answer)"

  local base flat tree rss
  base=$(rss_mib "$EMBER_PID")
  rss_start list
  flat=$(timeout -k 5 300 $H list --endpoint "$EP" --bucket "$LBUCKET" --mode flat) || warn "LIST flat failed or timed out"
  log "LIST flat: $flat"
  tree=$(timeout -k 5 300 $H list --endpoint "$EP" --bucket "$LBUCKET" --mode tree) || warn "LIST tree failed or timed out"
  log "LIST tree: $tree"
  rss=$(rss_stop list)
  log "LIST rss: $rss (before: $base MiB)"
  local fk fr tk tr
  fk=$(jx 'd["keys"]' "$flat"); fr=$(jx 'd["keys"]/d["seconds"]' "$flat")
  tk=$(jx 'd["keys"]' "$tree"); tr=$(jx 'd["keys"]/d["seconds"]' "$tree")
  [ "$fk" = "$ok" ] || warn "LIST flat returned $fk keys, $ok were loaded"
  [ "$tk" = "$ok" ] || warn "LIST tree walk returned $tk keys, $ok were loaded"
  for v in "$flat" "$tree"; do
    [ "$(jx 'd.get("out_of_order",0)' "$v")" = 0 ] || warn "LIST returned keys out of order: $v"
  done
  record --id list-flat --metric "LIST $(calc "f'{${ok:-0}:,}'") keys, no delimiter" --unit "keys/s" --ember "$fr" --anchor "" \
    --anchor-name "— (no anchor)" --target "" \
    --notes "ListObjectsV2 max-keys=1000, no prefix, no delimiter, one client paging with continuation tokens through the whole bucket: $(jx '"%d pages in %.1f s, page latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; client CPU %.1f s" % (d["pages"], d["seconds"], d["page_ms_p50"], d["page_ms_p99"], d["page_ms_max"], d["client_cpu_s"])' "$flat")." \
    --cmd "python3 bench/lib/bench.py list --endpoint http://\$EMBER --bucket $LBUCKET --mode flat   (GET /$LBUCKET?list-type=2&max-keys=1000[&continuation-token=...], presigned)"
  record --id list-tree --metric "LIST $(calc "f'{${ok:-0}:,}'") keys, delimiter '/'" --unit "keys/s" --ember "$tr" --anchor "" \
    --anchor-name "— (no anchor)" --target "" \
    --notes "the whole bucket walked as a tree: ListObjectsV2 max-keys=1000 delimiter=/ at the root (returns the dir%04d/ common prefixes), then the same under every prefix; keys/s counts object keys only: $(jx '"%d keys + %d prefixes, %d pages in %.1f s, page latency p50 %.1f ms, p99 %.1f ms; client CPU %.1f s" % (d["keys"], d["prefixes"], d["pages"], d["seconds"], d["page_ms_p50"], d["page_ms_p99"], d["client_cpu_s"])' "$tree")." \
    --cmd "python3 bench/lib/bench.py list --endpoint http://\$EMBER --bucket $LBUCKET --mode tree   (GET /$LBUCKET?list-type=2&max-keys=1000&delimiter=%2F[&prefix=dirNNNN%2F][&continuation-token=...])"
  local mx
  mx=$(jx 'd["max_kib"]/1024' "$rss")
  record --id list-rss --metric "emberd max RSS during LIST" --unit "MiB" --ember "$mx" --anchor "$base" \
    --anchor-name "emberd RSS just before the LIST" --target "" --kind rss \
    --notes "VmRSS of emberd sampled every 50 ms while both listings ran (after the $ok-key load); RSS at start-up, before any request: ${IDLE_RSS} MiB. The listing should cost what a page costs: RSS should not grow with the bucket size. Growth up to the RocksDB block cache (store.block_cache_bytes, 256 MiB by default) is expected: a full listing reads every index block once." \
    --cmd "python3 bench/lib/bench.py rss --pid \$EMBERD_PID --out rss.json   (reads /proc/PID/status VmRSS)"
}

# ------------------------------------------------------------------ 64 concurrent uploads
bench_conc() {
  [ "$ANCHORS_ONLY" = 1 ] && return 0
  local mib=$CONC_MIB avail t_left need
  avail=$(avail_mib)
  t_left=$(left)
  if [ "$mib" = auto ]; then
    # 64 GiB at the disk speed fio measured must fit in the time left, and on the disk with 16 GiB spare.
    local mbps=${PUT1G_FIO:-200}
    if [ "$avail" -gt $((CONC_N * 1024 + 16384)) ] && \
       [ "$(calc "int($CONC_N * 1024 * 1.048576 / $mbps) + 60 < $t_left")" = True ]; then mib=1024; else mib=256; fi
  fi
  while [ "$mib" -gt 16 ] && [ "$avail" -lt $((CONC_N * mib + 8192)) ]; do mib=$((mib / 2)); done
  [ "$avail" -ge $((CONC_N * mib + 8192)) ] || { warn "RSS/64 uploads skipped: disk too full"; return 0; }
  [ "$t_left" -gt 60 ] || { warn "RSS/64 uploads skipped: out of time budget"; return 0; }
  [ "$mib" = 1024 ] || warn "64 concurrent uploads use $mib MiB objects, not 1 GiB (disk: $avail MiB free; time left: $t_left s; set BENCH_CONC_MIB=1024 to force)"
  local src=$WORK/src/conc
  if [ "$mib" = 1024 ] && [ -f "$WORK/src/1g" ]; then src=$WORK/src/1g
  else head -c $((mib << 20)) /dev/urandom >"$src"; fi
  sync
  local urls=() pids=() i base rss t0 t1 okc=0
  for i in $(seq 0 $((CONC_N - 1))); do
    urls+=("$($H presign --endpoint "$EP" --bucket "$BUCKET" --key "conc/obj$i" --method PUT)")
  done
  base=$(rss_mib "$EMBER_PID")
  rss_start conc
  t0=$($PY -c 'import time; print(time.time())')
  for i in $(seq 0 $((CONC_N - 1))); do
    timeout -k 5 $((t_left - 20)) curl -sS -H 'Expect:' -T "$src" -o "$WORK/conc.$i.body" \
      -w '%{http_code}' "${urls[$i]}" >"$WORK/conc.$i.code" 2>"$WORK/conc.$i.err" &
    pids+=($!)
  done
  BG_PIDS+=("${pids[@]}")
  for p in "${pids[@]}"; do wait "$p" || true; bg_forget "$p"; done
  t1=$($PY -c 'import time; print(time.time())')
  rss=$(rss_stop conc)
  for i in $(seq 0 $((CONC_N - 1))); do [ "$(cat "$WORK/conc.$i.code")" = 200 ] && okc=$((okc + 1)); done
  [ "$okc" = "$CONC_N" ] || warn "64 concurrent uploads: only $okc of $CONC_N got 200 ($(cat "$WORK/conc.0.err" "$WORK/conc.0.body" 2>/dev/null | head -c 300))"
  local mx total agg
  mx=$(jx 'd["max_kib"]/1024' "$rss")
  total=$((CONC_N * mib))
  agg=$(calc "round($okc * $mib * 1.048576 / ($t1 - $t0), 1)")
  log "64 uploads of $mib MiB: $okc ok, $agg MB/s aggregate, rss $rss (before: $base MiB)"
  record --id conc-rss --metric "emberd max RSS, 64 concurrent $mib MiB PUTs" --unit "MiB" --ember "$mx" \
    --anchor "$total" --anchor-name "bytes in flight (64 × $mib MiB)" --target "<= 0.05" --kind rss-vs-bytes \
    --notes "64 curl processes each PUT a $mib MiB object (random bytes, page cache) through its own presigned URL at the same time; VmRSS of emberd sampled every 50 ms from before the first to after the last response: $okc of 64 got 200 in $(calc "round($t1 - $t0, 1)") s ($agg MB/s aggregate). RSS before: $base MiB, so $(calc "round(($mx - $base) / $CONC_N, 2)") MiB of growth per concurrent upload. Bound used here: RSS ≤ 5% of the bytes in flight, i.e. per-request memory is a few MiB at most, independent of object size." \
    --cmd "for i in 0..63: curl -sS -H 'Expect:' -T conc.bin '<presigned PUT http://\$EMBER/$BUCKET/conc/obj\$i>' &   (all 64 at once)"
}

# ------------------------------------------------------------------ Azure Blob (bench/blob.sh)
# shellcheck source=bench/blob.sh
. "$BENCH/blob.sh"

# ------------------------------------------------------------------ Redis-protocol KV (bench/kv.sh)
# shellcheck source=bench/kv.sh
. "$BENCH/kv.sh"

# ------------------------------------------------------------------ warm tier over Azurite (bench/tier.sh)
# shellcheck source=bench/tier.sh
. "$BENCH/tier.sh"

# ------------------------------------------------------------------ run
log "scratch $WORK on $(findmnt -n -o FSTYPE,SOURCE -T "$WORK" | tr -s ' ') ($(avail_mib) MiB free)"
[ "$(findmnt -n -o FSTYPE -T "$WORK")" != tmpfs ] || warn "$WORK is on tmpfs: PUT and fio figures do not reach a disk"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$(calc "${LOAD_START%% *} > 1.0")" = True ]; then
  warn "load average at start is $LOAD_START on $(nproc) cores: other work is running, figures will be noisy (anchors and Ember alike)"
fi
start_nginx
[ "$ANCHORS_ONLY" = 1 ] || start_ember

if want get; then
  bench_get get4k "GET 4 KiB, 64 connections" 4096 64
  bench_get get64m "GET 64 MiB, 4 connections" $((64 << 20)) 4
  rm -f "$WORK/www/obj-get64m"
fi
want put4k && bench_put4k
want put1g && bench_put1g
want blob && bench_blob
want kv && bench_kv
want tier && bench_tier
want list && bench_list
want conc && bench_conc

$H info --workdir "$WORK" --emberd "$EMBERD" --root "$ROOT" --warnings "$WORK/warnings" \
  --duration $((SECONDS - T0)) --out "$WORK/info.json" --azurite "${AZ_VERSION:-}" \
  --param "wrk 2 threads (-t2) for every HTTP load; ${DUR} s per timed run, a 2 s warm-up per server before the GET rows; GET and PUT rows: best of $ROUNDS rounds, each round anchor then Ember" \
  --param "GET: 64 connections for 4 KiB, 4 for 64 MiB; PUT 4 KiB: 64 connections vs fio numjobs=64" \
  --param "Blob: $([ "$BLOB" = 1 ] && echo "account $BLOB_ACCOUNT (the emulator's well-known key) on emberd and Azurite ${AZ_VERSION:-(not run)}, both on 127.0.0.1; every request authenticated by a container SAS (sv=$MSV, sp=racwd) in the query, x-ms-version $MSV; Azurite in memory (--inMemoryPersistence --extentMemoryLimit ${BENCH_AZURITE_MEM_MB:-4096})$([ "$AZURITE_DISK" = 1 ] && echo " and on disk (--location in the scratch directory)"), both with --loose --skipApiVersionCheck --disableProductStyleUrl --disableTelemetry -s; 4 KiB rows: 64 connections, best of $ROUNDS rounds; 256 MiB rows: median of $BIG_ROUNDS rounds" || echo "skipped (BENCH_BLOB=0)")" \
  --param "KV: redis-benchmark ${KV_RB_VERSION:-(not run)} against emberd's KV endpoint and redis-server ${KV_REDIS_VERSION:-(not run)} (no persistence, one database), both on 127.0.0.1, $KV_CONNS connections, -t set,get with -r (keys = n/4), one run per row after a FLUSHALL; emberd with kv.durability none, then batch (batch_interval_ms 10); mixed run by bench/lib/kvload (90 % GET, 4 KiB, ${KV_MIXED_MIB} MiB on a ${KV_CACHE_MIB} MiB kv.cache_bytes)" \
  --param "Tier: $(want tier && echo "emberd (its own, [tier] chunk_bytes $((TIER_CHUNK >> 20)) MiB, other [tier] keys default) with [[tier.mappings]] to an Azurite ${AZ_VERSION:-} of its own (in memory, --debug log for counting cold requests), both on 127.0.0.1; rclone $(${RCLONE:-rclone} version 2>/dev/null | head -1 | cut -d' ' -f2) (azureblob backend, account key) as the anchor for write-back and staging" || echo "not run")" \
  --param "LIST: $LIST_KEYS keys dir%04d/file%06d, max-keys=1000; RSS sampled every 50 ms from /proc/PID/status" \
  --param "emberd: default configuration plus one user (bench) and its Blob account, --log-level warn; nginx: worker_processes auto ($(nproc)), sendfile on, access_log off, listen ... reuseport, keepalive_requests 1000000" \
  --param "load average (1/5/15 min) at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)" \
  --param "scratch directory (emberd data dir, nginx root, fio files) on the same filesystem: $(findmnt -n -o FSTYPE,SOURCE -T "$WORK" | tr -s ' ')"
echo
$H report --results "$RESULTS" --info "$WORK/info.json" ${DOC:+--doc "$DOC"}
[ -n "$DOC" ] && log "wrote $DOC"
if [ -s "$WORK/warnings" ]; then log "warnings:"; sed 's/^/  /' "$WORK/warnings" >&2; fi
log "done in $((SECONDS - T0)) s"
