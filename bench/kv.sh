#!/usr/bin/env bash
# KV (Redis protocol) rows of the Ember benchmark. Sourced by bench/run.sh (which calls bench_kv and writes
# the rows into docs/benchmarks.md), or run alone, printing only its own table:
#
#   bench/kv.sh
#
# redis-benchmark against emberd's KV endpoint and against a redis-server started here (no persistence,
# one database, 127.0.0.1, the same machine), with the same flags in the same run: SET and GET (-t set,get)
# with -d 100, 4096 and 65536, -P 1 and -P 16, -c 50, random keys (-r), a bounded -n per row; emberd once
# with kv.durability = "none" and once with "batch" (the default: group commit every 10 ms). Every row runs
# BENCH_KV_ROUNDS rounds, anchor first, then Ember, each after a FLUSHALL, and the best round counts (the
# redis-server rounds are run again next to the "batch" rows: on a shared machine only figures taken at the
# same time compare). Targets (issue 6): >= 1.0x
# redis-server in "none" mode and >= 0.8x in "batch" mode, at every size.
#
# Plus a mixed 90 % GET / 10 % SET run of 4 KiB values over 200 MiB of data on a 64 MiB RAM cache
# (kv.cache_bytes), Ember only ("batch" mode): redis-benchmark runs one command type per test, so this load
# comes from bench/lib/kvload.c (compiled here), which reports ops/s and latency percentiles.
#
# Environment (all optional): EMBERD, BENCH_TMPDIR (as bench/run.sh), BENCH_KV_SCALE=1 (multiplies every -n),
# BENCH_KV_ROUNDS=2 (rounds per row, each anchor then Ember; the best round counts),
# BENCH_KV_MIXED_S=15 (seconds of the mixed run), BENCH_KV_MIXED_MIB=200, BENCH_KV_CACHE_MIB=64,
# REDIS_SERVER / REDIS_BENCHMARK (default: on PATH; scripts/install-deps installs redis-server, redis-tools).
# Aims at < 4 minutes on 2 cores (about 2.5 with the defaults). Kills only what it started (by PID).

KV_SCALE=${BENCH_KV_SCALE:-1}
KV_ROUNDS=${BENCH_KV_ROUNDS:-2}
KV_MIXED_S=${BENCH_KV_MIXED_S:-15}
KV_MIXED_MIB=${BENCH_KV_MIXED_MIB:-200}
KV_CACHE_MIB=${BENCH_KV_CACHE_MIB:-64}
KV_SIZES=(100 4096 65536)
KV_PIPES=(1 16)
KV_CONNS=50
KV_REDIS_PID="" KV_EMBER_PID="" KV_REDIS_PORT="" KV_EMBER_PORT=""

kv_n() {  # size pipeline : requests per redis-benchmark test (about 2 s each for redis-server on 2 cores)
  local n
  case "$1/$2" in
    100/1) n=30000 ;; 100/16) n=200000 ;; 4096/1) n=30000 ;; 4096/16) n=100000 ;; *) n=10000 ;;
  esac
  awk -v n="$n" -v s="$KV_SCALE" 'BEGIN { v = int(n * s); print (v < 1000 ? 1000 : v) }'
}

kv_start_redis() {
  local dir=$WORK/kv-redis
  mkdir -p "$dir"
  KV_REDIS_PORT=$(free_port)
  "$REDIS_SERVER" --port "$KV_REDIS_PORT" --bind 127.0.0.1 --protected-mode no --save '' --appendonly no \
    --databases 1 --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  KV_REDIS_PID=$!
  for _ in $(seq 100); do
    [ "$("$REDIS_CLI" -p "$KV_REDIS_PORT" PING 2>/dev/null)" = PONG ] && break
    kill -0 "$KV_REDIS_PID" 2>/dev/null || die "redis-server exited: $(tail -5 "$dir/redis.log")"
    sleep 0.1
  done
  log "redis-server $KV_REDIS_VERSION pid $KV_REDIS_PID on 127.0.0.1:$KV_REDIS_PORT"
}

kv_start_ember() {  # tag durability [extra [kv] lines] : starts an emberd with only its KV endpoint in use
  local dur=$2 extra=${3:-} dir=$WORK/kv-ember-$1
  mkdir -p "$dir/data"
  cat >"$dir/ember.toml" <<EOF
[[users]]
name = "bench"
access_key = "AKIDBENCH"
secret_key = "bench-secret-key"

[blob]
enabled = false

[kv]
enabled = true
address = "127.0.0.1"
port = 0
durability = "$dur"
$extra
EOF
  "$EMBERD" --config "$dir/ember.toml" --data-dir "$dir/data" --s3-address 127.0.0.1 --s3-port 0 \
    --admin-port 0 --kv-port 0 --port-file "$dir/ports.json" --log-level warn >"$dir/emberd.log" 2>&1 &
  KV_EMBER_PID=$!
  KV_EMBER_PORT=""
  for _ in $(seq 300); do
    KV_EMBER_PORT=$($PY -c "import json; print(json.load(open('$dir/ports.json')).get('kv', ''))" 2>/dev/null || true)
    [ -n "$KV_EMBER_PORT" ] && [ "$KV_EMBER_PORT" != 0 ] && break
    KV_EMBER_PORT=""
    kill -0 "$KV_EMBER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$KV_EMBER_PORT" ] || [ "$("$REDIS_CLI" -p "$KV_EMBER_PORT" PING 2>/dev/null)" != PONG ]; then
    warn "KV: emberd ($dur) did not start a KV endpoint (no \"kv\" port in its port file, or no PONG): $(tail -5 "$dir/emberd.log" | tr '\n' ' ')"
    stop_pid "$KV_EMBER_PID" TERM 10; KV_EMBER_PID="" KV_EMBER_PORT=""
    return 1
  fi
  log "emberd (kv durability $dur${extra:+, $extra}) pid $KV_EMBER_PID, KV on 127.0.0.1:$KV_EMBER_PORT"
}

kv_stop_ember() { stop_pid "$KV_EMBER_PID" TERM 30; KV_EMBER_PID=""; KV_EMBER_PORT=""; }

kv_rb() {  # port size pipeline n : redis-benchmark SET then GET; prints "set_rps set_p99_ms get_rps get_p99_ms"
  local port=$1 d=$2 p=$3 n=$4 out
  "$REDIS_CLI" -p "$port" FLUSHALL >/dev/null
  out=$(timeout -k 5 300 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -c $KV_CONNS -n "$n" -d "$d" -P "$p" \
    -r $((n / 4)) -t set,get --csv 2>"$WORK/kv-rb.err") || warn "KV: redis-benchmark on port $port failed: $(head -c 300 "$WORK/kv-rb.err")"
  # --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
  printf '%s\n' "$out" | awk -F, '
    { gsub(/"/, "") } $1 == "SET" { s = $2 " " $7 } $1 == "GET" { g = $2 " " $7 }
    END { print (s == "" ? "- -" : s), (g == "" ? "- -" : g) }'
}

kv_rb_cmd() { echo "redis-benchmark -h 127.0.0.1 -p \$$1 -c $KV_CONNS -n $2 -d $3 -P $4 -r $(($2 / 4)) -t set,get --csv   (after FLUSHALL)"; }

kv_best() {  # lines of "set_rps set_p99 get_rps get_p99" -> the best SET and best GET round (with their p99s)
  awk '$1 != "-" && (s == "" || $1 + 0 > s + 0) { s = $1; sp = $2 }
       $3 != "-" && (g == "" || $3 + 0 > g + 0) { g = $3; gp = $4 }
       END { print (s == "" ? "- -" : s " " sp), (g == "" ? "- -" : g " " gp) }' <<<"$1"
}

kv_rounds_txt() {  # lines, column (1 = SET, 3 = GET) -> "a / b" ops/s of every round
  awk -v c="$2" '{ v = $c; printf "%s%s", (NR > 1 ? " / " : ""), (v == "-" ? "n/a" : sprintf("%.0f", v)) }' <<<"$1"
}

kv_rows() {  # durability target : redis-benchmark per (size, pipeline), KV_ROUNDS rounds of redis-server then
  # emberd; the best round of each counts
  local dur=$1 target=$2 d p n r e i op rv ev rp ep elines rlines col
  for d in "${KV_SIZES[@]}"; do
    for p in "${KV_PIPES[@]}"; do
      n=$(kv_n "$d" "$p")
      elines="" rlines=""
      for _ in $(seq "$KV_ROUNDS"); do
        rlines+="$(kv_rb "$KV_REDIS_PORT" "$d" "$p" "$n")"$'\n'
        if [ -n "$KV_EMBER_PORT" ]; then
          elines+="$(kv_rb "$KV_EMBER_PORT" "$d" "$p" "$n")"$'\n'
        else
          elines+=$'- - - -\n'
        fi
      done
      read -ra r <<<"$(kv_best "$rlines")"
      read -ra e <<<"$(kv_best "$elines")"
      log "KV $d B -P $p ($dur, best of $KV_ROUNDS): redis SET ${r[0]}/s p99 ${r[1]} ms, GET ${r[2]}/s p99 ${r[3]} ms; ember SET ${e[0]}/s p99 ${e[1]} ms, GET ${e[2]}/s p99 ${e[3]} ms"
      for i in 0 2; do
        op=SET; [ $i = 2 ] && op=GET
        col=$((i + 1))
        rv=${r[$i]}; ev=${e[$i]}; rp=${r[$((i + 1))]}; ep=${e[$((i + 1))]}
        [ "$rv" = - ] && rv=""
        [ "$ev" = - ] && ev=""
        record --id "kv-${op,,}-d$d-p$p-$dur" --metric "KV $op $d B, -P $p, 50 conns (Ember durability $dur)" \
          --unit "ops/s" --ember "$ev" --anchor "$rv" --target "$target" \
          --anchor-name "redis-server $KV_REDIS_VERSION (no persistence)" \
          --notes "redis-benchmark $KV_RB_VERSION, -t set,get (SET of $n random keys out of $((n / 4)), then GET of $n), $KV_CONNS connections, pipeline $p, $d-byte values, after a FLUSHALL; best of $KV_ROUNDS rounds, each redis-server then emberd (Ember: $(kv_rounds_txt "$elines" $col); redis-server: $(kv_rounds_txt "$rlines" $col) ops/s). emberd: kv.durability = \"$dur\"$([ "$dur" = batch ] && echo " (group commit every 10 ms)"), every other [kv] setting default. p99 latency of the best round (redis-benchmark): Ember ${ep} ms, redis-server ${rp} ms. redis-server is single-threaded; the client (redis-benchmark, one thread) shares the 2 cores with either server." \
          --cmd "$(kv_rb_cmd EKV "$n" "$d" "$p")" \
          --cmd "$(kv_rb_cmd REDIS "$n" "$d" "$p")" \
          --cmd "redis-server --port \$REDIS --bind 127.0.0.1 --save '' --appendonly no --databases 1   (\$REDIS, \$EKV: the ports of this redis-server and of emberd's KV endpoint, both on 127.0.0.1)"
      done
    done
  done
}

kv_mixed() {
  local keys=$((KV_MIXED_MIB * 256)) load mixed
  if ! kv_start_ember mixed batch "cache_bytes = $((KV_CACHE_MIB << 20))"; then
    return 0
  fi
  load=$(timeout -k 5 300 "$WORK/kvload" load -p "$KV_EMBER_PORT" -k "$keys" -d 4096 -c 16 -P 16) ||
    warn "KV mixed: preload failed: $load"
  log "KV mixed: preloaded $keys x 4 KiB: $load"
  mixed=$(timeout -k 5 $((KV_MIXED_S + 120)) "$WORK/kvload" mixed -p "$KV_EMBER_PORT" -k "$keys" -d 4096 \
    -c $KV_CONNS -s "$KV_MIXED_S" -g 90 -S 1) || warn "KV mixed: kvload reported errors: $mixed"
  log "KV mixed: $mixed"
  local rss
  rss=$(awk '/^VmRSS:/ {printf "%.0f", $2/1024}' "/proc/$KV_EMBER_PID/status" 2>/dev/null || echo '?')
  kv_stop_ember
  [ -n "$mixed" ] || return 0
  local what
  what="$KV_MIXED_MIB MiB of 4 KiB values ($keys keys key:000000000000.., loaded once by kvload load, 16 connections x 16 pipelined SETs: $(jx '"%.0f SET/s" % d["ops_per_s"]' "${load:-{\}}" 2>/dev/null || echo '?')) on an emberd with kv.cache_bytes = $KV_CACHE_MIB MiB and kv.durability = \"batch\"; then bench/lib/kvload mixed: $KV_CONNS connections, one request in flight each, 90 % GET / 10 % SET of 4 KiB on uniformly random keys for $KV_MIXED_S s"
  record --id kv-mixed-ops --metric "KV mixed 90/10 GET/SET 4 KiB, ${KV_MIXED_MIB} MiB on a ${KV_CACHE_MIB} MiB cache" \
    --unit "ops/s" --ember "$(jx 'd["ops_per_s"]' "$mixed")" --anchor "" --anchor-name "— (Ember only)" --target "" \
    --notes "$what: $(jx '"%d operations (%d GET: %d hits, %d misses; %d SET) in %.1f s; latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms; GET p99 %.2f ms, SET p99 %.2f ms" % (d["ops"], d["gets"], d["hits"], d["misses"], d["sets"], d["seconds"], d["p50_us"]/1e3, d["p99_us"]/1e3, d["p999_us"]/1e3, d["get_p99_us"]/1e3, d["set_p99_us"]/1e3)' "$mixed"). emberd RSS at the end: $rss MiB. No anchor: redis-server holds its whole data set in RAM." \
    --cmd "cc -O2 -o kvload bench/lib/kvload.c   (\$EKV: emberd's KV port on 127.0.0.1)" \
    --cmd "kvload load -p \$EKV -k $keys -d 4096 -c 16 -P 16" \
    --cmd "kvload mixed -p \$EKV -k $keys -d 4096 -c $KV_CONNS -s $KV_MIXED_S -g 90 -S 1"
  record --id kv-mixed-p99 --metric "KV mixed 90/10: p99 latency" --unit "µs" \
    --ember "$(jx 'd["p99_us"]' "$mixed")" --anchor "" --anchor-name "— (Ember only)" --target "" --kind latency \
    --notes "p99 over all operations of the mixed run above (request written to reply read, by kvload; log-linear histogram, < 2 % error)."
}

bench_kv() {
  REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
  REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(command -v redis-benchmark || echo /usr/bin/redis-benchmark)}
  REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
  local t
  for t in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI"; do
    [ -x "$t" ] || { warn "KV rows skipped: $t not found (scripts/install-deps --bench installs redis-server, redis-tools)"; return 0; }
  done
  local cc
  cc=$(command -v clang || command -v cc || true)
  if [ -z "$cc" ] || ! "$cc" -O2 -o "$WORK/kvload" "$BENCH/lib/kvload.c" 2>"$WORK/kvload.err"; then
    warn "KV: could not build bench/lib/kvload.c ($(head -c 300 "$WORK/kvload.err" 2>/dev/null)); no mixed run"
  fi
  KV_REDIS_VERSION=$("$REDIS_SERVER" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
  KV_RB_VERSION=$("$REDIS_BENCHMARK" --version | cut -d' ' -f2)
  local t0=$SECONDS
  kv_start_redis
  if [ "$ANCHORS_ONLY" = 1 ] || ! kv_start_ember none none; then KV_EMBER_PORT=""; fi
  kv_rows none ">= 1.0"
  kv_stop_ember
  if [ "$ANCHORS_ONLY" != 1 ] && kv_start_ember batch batch "batch_interval_ms = 10"; then
    kv_rows batch ">= 0.8"
    kv_stop_ember
  fi
  stop_pid "$KV_REDIS_PID" TERM 10; KV_REDIS_PID=""
  [ "$ANCHORS_ONLY" != 1 ] && [ -x "$WORK/kvload" ] && kv_mixed
  rm -rf "$WORK"/kv-ember-* "$WORK"/kv-redis
  log "KV rows done in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ standalone: bench/kv.sh
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  BENCH=$ROOT/bench
  PY=${PYTHON:-python3}
  export PYTHONDONTWRITEBYTECODE=1
  H="$PY $BENCH/lib/bench.py"
  EMBERD=${EMBERD:-$ROOT/build/src/app/emberd/emberd}
  ANCHORS_ONLY=${BENCH_ANCHORS_ONLY:-0}
  T0=$SECONDS
  log() { printf '[kv %4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
  die() { log "ERROR: $*"; exit 1; }
  warn() { log "WARNING: $*"; echo "$*" >>"$WORK/warnings"; }
  calc() { $PY -c "print($1)"; }
  jx() { printf '%s' "$2" | $H jx "$1"; }
  free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  stop_pid() {
    local pid=$1 sig=$2 grace=$3
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  }
  [ "$ANCHORS_ONLY" = 1 ] || [ -x "$EMBERD" ] || die "emberd not found at $EMBERD (make build-release, or set EMBERD)"
  WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ember-kvbench.XXXXXX")
  RESULTS=$WORK/results.jsonl
  : >"$RESULTS"
  : >"$WORK/warnings"
  record() { $H record --results "$RESULTS" --scratch "$WORK" "$@"; }
  kv_cleanup() {
    local rc=$?
    set +e
    stop_pid "$KV_EMBER_PID" TERM 30
    stop_pid "$KV_REDIS_PID" TERM 10
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
    exit $rc
  }
  trap kv_cleanup EXIT
  trap 'exit 130' INT TERM
  bench_kv
  $H info --workdir "$WORK" --emberd "$EMBERD" --root "$ROOT" --warnings "$WORK/warnings" \
    --duration $((SECONDS - T0)) --out "$WORK/info.json" \
    --param "bench/kv.sh alone: redis-benchmark $KV_RB_VERSION vs redis-server $KV_REDIS_VERSION; $KV_CONNS connections"
  echo
  $H report --results "$RESULTS" --info "$WORK/info.json"
  if [ -s "$WORK/warnings" ]; then log "warnings:"; sed 's/^/  /' "$WORK/warnings" >&2; fi
  log "done in $((SECONDS - T0)) s"
fi
