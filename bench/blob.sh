# Blob rows of the Ember benchmark, sourced by bench/run.sh (uses its helpers: log, warn, die, run_wrk,
# record, jx, calc, best, rounds_txt, stop_pid, free_port, $H, $WORK, ...).
#
# emberd's Azure Blob endpoint against Azurite (Microsoft's emulator, from npm, started here), on the
# same machine, with the same account (devstoreaccount1 and the emulator's well-known key) and the
# same requests: Put Blob and Get Blob of 4 KiB, Append Block of 4 KiB, a 256 MiB upload and
# download; and emberd's Blob GET against its own S3 GET of the same object. Authentication is a
# container SAS in the query string (bench/lib/azsas.py), valid for every blob of the container, so
# wrk (bench/lua/blob.lua) replays static URLs and signs nothing.
#
# Two Azurites: one in memory (--inMemoryPersistence: nothing reaches the disk) and one on disk
# (--location: Azurite fdatasync()s the data of every write, its metadata (LokiJS) is saved every 5 s).
# emberd makes every write durable (data and metadata) before it answers. The disk Azurite is the
# fairer comparison for writes; both are reported.

declare -A BHOST=()   # server -> 127.0.0.1:port of its Blob endpoint (path-style: /account/container/blob)
declare -A BLABEL=()  # server -> anchor name
declare -A BSTART=()  # server -> how it was started (for the report)
CMDS=()
BSERVERS=()           # measured servers, anchors first: azmem [azdisk] [ember]
BANCHORS=()
AZ_VERSION=""
MSV=2021-12-02        # x-ms-version sent with every request (and the SAS's sv)

blob_url() { printf 'http://%s/%s/%s/%s?%s' "${BHOST[$1]}" "$BLOB_ACCOUNT" "$BUCKET" "$2" "$SAS"; }
median() { $PY -c 'import sys, statistics; v=[float(x) for x in sys.argv[1:] if x]; print(statistics.median(v) if v else "")' "$@"; }
blob_rate() { jx '(d["requests"] - d["err_status"]) / (d["duration_us"] / 1e6)' "$1"; }
lat_txt() { jx '"%.1f/%.1f ms" % (d["lat_p50_us"]/1e3, d["lat_p99_us"]/1e3)' "$1"; }

az_cmds() {  # anchor client-command : sets CMDS=(--cmd ...) for a record: the client command against
  # emberd and against Azurite, and how that Azurite was started (the first anchor's row has all
  # three; the second's only its Azurite, the client commands being the same)
  CMDS=()
  [ "$1" = "${BANCHORS[0]}" ] && CMDS+=(--cmd "$2" --cmd "${2//\$EBLOB/\$AZURITE}")
  [ -n "${BSTART[$1]:-}" ] && CMDS+=(--cmd "${BSTART[$1]}")
  return 0
}

start_azurite() {  # name memory|disk: starts Azurite's Blob service; returns 1 (with a warning) on failure
  local name=$1 mode=$2 dir=$WORK/azurite-$1 port args pid
  mkdir -p "$dir/data"
  port=$(free_port)
  if [ "$mode" = memory ]; then args=(--inMemoryPersistence --extentMemoryLimit "${BENCH_AZURITE_MEM_MB:-4096}")
  else args=(--location "$dir/data"); fi
  # exec all the way down (env, then azurite-blob's "#!/usr/bin/env node"): $! is node's PID.
  (cd "$dir" && exec env AZURITE_ACCOUNTS="$BLOB_ACCOUNT:$BLOB_KEY" "$AZURITE" --blobHost 127.0.0.1 \
    --blobPort "$port" "${args[@]}" --loose --skipApiVersionCheck --disableProductStyleUrl \
    --disableTelemetry -s >"$dir/azurite.log" 2>&1) &
  pid=$!
  AZ_PID[$name]=$pid
  for _ in $(seq 600); do
    grep -q 'successfully listens' "$dir/azurite.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q 'successfully listens' "$dir/azurite.log" 2>/dev/null; then
    warn "Azurite ($mode) did not start: $(tail -5 "$dir/azurite.log" | tr '\n' ' ')"
    stop_pid "$pid" TERM 5; unset "AZ_PID[$name]"; return 1
  fi
  BHOST[$name]=127.0.0.1:$port
  BSTART[$name]="AZURITE_ACCOUNTS='$BLOB_ACCOUNT:<key>' .deps/azurite/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort <port> ${args[*]//$WORK/\$SCRATCH} --loose --skipApiVersionCheck --disableProductStyleUrl --disableTelemetry -s"
  $H blob-mkcontainer --endpoint "http://${BHOST[$name]}" --container "$BUCKET"
  if [ "$mode" = memory ]; then
    BLABEL[$name]="Azurite $AZ_VERSION, in memory"
  else
    BLABEL[$name]="Azurite $AZ_VERSION, on disk"
  fi
  log "Azurite $AZ_VERSION ($mode) pid $pid on ${BHOST[$name]}"
}

stop_azurites() {
  local n
  for n in "${!AZ_PID[@]}"; do stop_pid "${AZ_PID[$n]}" TERM 10; unset "AZ_PID[$n]"; done
  rm -rf "$WORK"/azurite-*
}

blob_put_file() {  # server blob file : Put Blob (block blob) of a file; dies unless 201
  local out
  out=$(timeout -k 5 300 curl -sS -H 'Expect:' -H 'x-ms-blob-type: BlockBlob' -H "x-ms-version: $MSV" \
    -H 'Content-Type: application/octet-stream' -T "$3" -o "$WORK/blobput.body" -w '%{http_code}' \
    "$(blob_url "$1" "$2")" || true)
  [ "$out" = 201 ] || die "$1 Put Blob $2: HTTP $out $(head -c 300 "$WORK/blobput.body" 2>/dev/null)"
}

blob_check_file() {  # server blob file : dies unless Get Blob returns the file's bytes
  [ "$(timeout -k 5 300 curl -fsS -H "x-ms-version: $MSV" "$(blob_url "$1" "$2")" | md5sum)" = "$(md5sum <"$3")" ] ||
    die "$1 Get Blob $2: wrong bytes or error"
}

# ------------------------------------------------------------------ Get Blob 4 KiB (+ Blob vs S3 GET)
bench_blob_get4k() {
  local obj=obj-get4k f=$WORK/www/obj-get4k conns=64 s r j s3url="" order
  declare -A V=()
  local s3v=()
  [ -f "$f" ] || { head -c 4096 /dev/urandom >"$f"; chmod 644 "$f"; }
  for s in "${BSERVERS[@]}"; do
    if [ "$s" = ember ]; then
      # emberd: the object of the S3 GET 4 KiB row, written once through S3, read here through both.
      s3url=$($H presign --endpoint "$EP" --bucket "$BUCKET" --key "$obj")
      [ "$(curl -fsS -m 60 "$s3url" 2>/dev/null | md5sum)" = "$(md5sum <"$f")" ] ||
        $H put-file --endpoint "$EP" --bucket "$BUCKET" --key "$obj" --file "$f"
      [ "$(curl -fsS -m 60 "$s3url" | md5sum)" = "$(md5sum <"$f")" ] || die "emberd S3 GET $obj: wrong bytes or error"
    else
      blob_put_file "$s" "$obj" "$f"
    fi
    blob_check_file "$s" "$obj" "$f"
  done
  for s in "${BSERVERS[@]}"; do
    run_wrk "bget4k-$s-warm" "$(blob_url "$s" "$obj")" $conns 2 WRK_SCRIPT="$BENCH/lua/blob.lua" WRK_MODE=get >/dev/null
  done
  [ -n "$s3url" ] && run_wrk "bget4k-s3-warm" "$s3url" $conns 2 WRK_MODE=get >/dev/null
  for r in $(seq "$ROUNDS"); do
    order=("${BSERVERS[@]}")
    # emberd's S3 and Blob GETs alternate which goes first from round to round.
    if [ -n "$s3url" ]; then
      unset 'order[${#order[@]}-1]'
      if [ $((r % 2)) = 1 ]; then order+=(s3 ember); else order+=(ember s3); fi
    fi
    for s in "${order[@]}"; do
      if [ "$s" = s3 ]; then
        j=$(run_wrk "bget4k-s3-$r" "$s3url" $conns "$DUR" WRK_MODE=get)
        check_errors "GET 4 KiB emberd S3" "$j"
        s3v+=("$(blob_rate "$j")")
        log "Get Blob 4 KiB round $r: ember S3 GET $(calc "round($(blob_rate "$j"))") req/s, p50/p99 $(lat_txt "$j")"
        continue
      fi
      j=$(run_wrk "bget4k-$s-$r" "$(blob_url "$s" "$obj")" $conns "$DUR" WRK_SCRIPT="$BENCH/lua/blob.lua" WRK_MODE=get)
      check_errors "Get Blob 4 KiB $s" "$j"
      V[$s]+=" $(blob_rate "$j")"
      V[$s-lat]=$(lat_txt "$j")
      log "Get Blob 4 KiB round $r: $s $(calc "round($(blob_rate "$j"))") req/s, p50/p99 $(lat_txt "$j")"
    done
  done
  local cmd_e="wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/blob.lua 'http://\$EBLOB/$BLOB_ACCOUNT/$BUCKET/$obj?<SAS>'   (WRK_MODE=get)"
  for s in "${BANCHORS[@]}"; do
    az_cmds "$s" "$cmd_e"
    # shellcheck disable=SC2086
    record --id "blob-get4k-$s" --metric "Blob: Get Blob 4 KiB, 64 connections" --unit "req/s" \
      --anchor-name "${BLABEL[$s]}" --target ">= 5" \
      --ember "$(best ${V[ember]:-})" --anchor "$(best ${V[$s]:-})" \
      --notes "the same 4096 random bytes (emberd: written through S3 — the object of the S3 GET 4 KiB row; Azurite: one Put Blob) fetched with Get Blob through a container-SAS URL by wrk, 2 threads, $conns keep-alive connections, ${DUR} s per round after a 2 s warm-up, best of $ROUNDS rounds (Ember: $(rounds_txt %.0f ${V[ember]:-}); Azurite: $(rounds_txt %.0f ${V[$s]:-}) req/s). Last round's latency p50/p99: Ember ${V[ember-lat]:-n/a}, Azurite ${V[$s-lat]:-n/a}." \
      "${CMDS[@]}"
  done
  if [ -n "$s3url" ]; then
    # shellcheck disable=SC2086
    record --id blob-vs-s3-get4k --metric "Blob GET 4 KiB vs S3 GET, 64 connections" --unit "req/s" \
      --anchor-name "emberd's own S3 GET, same object" --target ">= 0.9" \
      --ember "$(best ${V[ember]:-})" --anchor "$(best "${s3v[@]}")" \
      --notes "the Blob and S3 adapters should cost the same: one 4 KiB object written once through S3, read in the same run through the Blob endpoint (Get Blob, container SAS in the query) and the S3 endpoint (GET, SigV4 presigned URL), wrk 2 threads, $conns connections, ${DUR} s per round, best of $ROUNDS rounds, the two alternating which goes first (Blob: $(rounds_txt %.0f ${V[ember]:-}); S3: $(rounds_txt %.0f "${s3v[@]}") req/s). Both authenticate every request (an HMAC-SHA256 over the SAS / the SigV4 string to sign). Target: Blob within 10 % of S3." \
      --cmd "$cmd_e" \
      --cmd "wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/s3.lua '<presigned GET http://\$EMBER/$BUCKET/$obj>'   (WRK_MODE=get)"
  fi
}

# ------------------------------------------------------------------ Put Blob 4 KiB / Append Block 4 KiB
bench_blob_write4k() {  # put|append
  local what=$1 conns=64 s r j id metric pathfmt extra=()
  declare -A V=()
  for r in $(seq "$ROUNDS"); do
    for s in "${BSERVERS[@]}"; do
      if [ "$what" = put ]; then
        pathfmt="/$BLOB_ACCOUNT/$BUCKET/bput4k-r$r/t%d-k%07d"
      else
        pathfmt="/$BLOB_ACCOUNT/$BUCKET/bappend-r$r/a%03d"
        $H blob-mkappend --endpoint "http://${BHOST[$s]}" --container "$BUCKET" --pathfmt "$pathfmt" --count 64
        extra=(WRK_NBLOBS=64)
      fi
      sync
      j=$(run_wrk "b$what-$s-$r" "http://${BHOST[$s]}/" $conns "$DUR" WRK_SCRIPT="$BENCH/lua/blob.lua" \
        WRK_MODE="$what" WRK_BODY_SIZE=4096 WRK_PATHFMT="$pathfmt" WRK_QUERY="$SAS" WRK_MS_VERSION="$MSV" "${extra[@]}")
      check_errors "Blob $what 4 KiB $s" "$j"
      V[$s]+=" $(blob_rate "$j")"
      V[$s-lat]=$(lat_txt "$j")
      log "Blob $what 4 KiB round $r: $s $(calc "round($(blob_rate "$j"))") ops/s, p50/p99 $(lat_txt "$j")"
    done
  done
  local cmd
  if [ "$what" = put ]; then
    id=blob-put4k metric="Blob: Put Blob 4 KiB, 64 connections"
    cmd="wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/blob.lua http://\$EBLOB/   (WRK_MODE=put WRK_BODY_SIZE=4096 WRK_PATHFMT=/$BLOB_ACCOUNT/$BUCKET/bput4k-rN/t%d-k%07d WRK_QUERY=<SAS>)"
  else
    id=blob-append4k metric="Blob: Append Block 4 KiB, 64 connections"
    cmd="python3 bench/lib/bench.py blob-mkappend --endpoint http://\$EBLOB --container $BUCKET --pathfmt /$BLOB_ACCOUNT/$BUCKET/bappend-rN/a%03d --count 64; wrk -t2 -c$conns -d${DUR}s --timeout 30s -s bench/lua/blob.lua http://\$EBLOB/   (WRK_MODE=append WRK_NBLOBS=64 WRK_BODY_SIZE=4096 WRK_PATHFMT=/$BLOB_ACCOUNT/$BUCKET/bappend-rN/a%03d WRK_QUERY=<SAS>)"
  fi
  for s in "${BANCHORS[@]}"; do
    local how
    if [ "$what" = put ]; then
      how="each request a Put Blob (x-ms-blob-type: BlockBlob) of 4096 random bytes to a new blob (bput4k-rN/t<thread>-k<n>)"
    else
      how="each request an Append Block (PUT ?comp=appendblock, Content-Length 4096, no conditions) to one of 64 append blobs created empty before the round, the 64 connections spread round-robin over them (so appends to one blob can be concurrent)"
    fi
    az_cmds "$s" "$cmd"
    # shellcheck disable=SC2086
    record --id "$id-$s" --metric "$metric" --unit "ops/s" --anchor-name "${BLABEL[$s]}" --target ">= 5" \
      --ember "$(best ${V[ember]:-})" --anchor "$(best ${V[$s]:-})" \
      --notes "wrk, 2 threads, $conns keep-alive connections, ${DUR} s per round, best of $ROUNDS rounds (Ember: $(rounds_txt %.0f ${V[ember]:-}); Azurite: $(rounds_txt %.0f ${V[$s]:-}) ops/s), $how, container SAS in the query; sync before each server's round. emberd answers only once the write is durable (data and metadata fsynced); $([ "$s" = azmem ] && echo "this Azurite keeps everything in memory and never touches the disk" || echo "this Azurite fdatasync()s the data of each write before it answers but saves its metadata (LokiJS) only every 5 s"). Last round's latency p50/p99: Ember ${V[ember-lat]:-n/a}, Azurite ${V[$s-lat]:-n/a}." \
      "${CMDS[@]}"
  done
}

# ------------------------------------------------------------------ 256 MiB upload / download
DL_GETS=${BENCH_BLOB_GETS:-4}   # downloads per round: one 256 MiB GET lasts ~0.2 s, too short to time alone

dl_rate() {  # url label : DL_GETS sequential GETs with curl; prints MB/s (bytes / summed time_total), or nothing
  local out code t n tot=0
  for _ in $(seq "$DL_GETS"); do
    out=$(timeout -k 5 300 curl -sS -H "x-ms-version: $MSV" -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$1" || true)
    read -r code t n <<<"$out"
    if [ "$code" != 200 ] || [ "$n" != $((256 << 20)) ]; then warn "$2: HTTP/time/bytes $out"; return 0; fi
    tot=$(calc "$tot + $t")
  done
  calc "$DL_GETS * $((256 << 20)) / $tot / 1e6"
}

bench_blob_256m() {
  local size=$((256 << 20)) f=$WORK/src/b256m s r out code t s3url="" s3v=() ngv=() lu ld
  declare -A UP=() DOWN=()
  [ -f "$f" ] || head -c $size /dev/urandom >"$f"
  chmod 644 "$f"; ln -f "$f" "$WORK/www/b256m"
  for r in $(seq "$BIG_ROUNDS"); do
    for s in "${BSERVERS[@]}"; do
      sync
      out=$(timeout -k 5 300 curl -sS -H 'Expect:' -H 'x-ms-blob-type: BlockBlob' -H "x-ms-version: $MSV" \
        -H 'Content-Type: application/octet-stream' -T "$f" -o "$WORK/b256.body" -w '%{http_code} %{time_total}' \
        "$(blob_url "$s" big-256m)" || true)
      code=${out%% *} t=${out##* }
      if [ "$code" = 201 ]; then
        lu=$(calc "$size / $t / 1e6"); UP[$s]+=" $lu"
      else
        warn "Blob 256 MiB upload $s: HTTP $out $(head -c 300 "$WORK/b256.body" 2>/dev/null)"; continue
      fi
      ld=$(dl_rate "$(blob_url "$s" big-256m)" "Blob 256 MiB download $s")
      [ -n "$ld" ] && DOWN[$s]+=" $ld"
      log "Blob 256 MiB round $r: $s upload $(calc "round($lu, 1)") MB/s, download $(calc "round(${ld:-0}, 1)") MB/s"
      if [ "$s" = ember ]; then
        # For reference (notes only): emberd's S3 GET of the same object, right after the Blob GET.
        [ -n "$s3url" ] || s3url=$($H presign --endpoint "$EP" --bucket "$BUCKET" --key big-256m)
        ld=$(dl_rate "$s3url" "S3 256 MiB download ember")
        [ -n "$ld" ] && s3v+=("$ld")
      fi
    done
    # For scale (notes only): nginx (sendfile) serving the same file to the same curl.
    ld=$(dl_rate "http://$NGINX/b256m" "nginx 256 MiB download")
    [ -n "$ld" ] && ngv+=("$ld")
  done
  for s in "${BSERVERS[@]}"; do blob_check_file "$s" big-256m "$f"; done
  rm -f "$WORK/www/b256m"
  local cu cd
  cu="curl -sS -H 'Expect:' -H 'x-ms-blob-type: BlockBlob' -H 'x-ms-version: $MSV' -T 256m.bin -w '%{http_code} %{time_total}' 'http://\$EBLOB/$BLOB_ACCOUNT/$BUCKET/big-256m?<SAS>'"
  cd="curl -sS -H 'x-ms-version: $MSV' -o /dev/null -w '%{http_code} %{time_total} %{size_download}' 'http://\$EBLOB/$BLOB_ACCOUNT/$BUCKET/big-256m?<SAS>'   (×$DL_GETS in a row per round)"
  for s in "${BANCHORS[@]}"; do
    az_cmds "$s" "$cu"
    # shellcheck disable=SC2086
    record --id "blob-up256m-$s" --metric "Blob: Put Blob 256 MiB, single stream" --unit "MB/s" \
      --anchor-name "${BLABEL[$s]}" --target ">= 5" \
      --ember "$(median ${UP[ember]:-})" --anchor "$(median ${UP[$s]:-})" \
      --notes "one Put Blob of a 256 MiB file of random bytes (in the page cache) with curl through a container-SAS URL, overwriting the same blob each round; MB/s = 2^28 bytes / curl's time_total (request start to the 201); median of $BIG_ROUNDS rounds (Ember: $(rounds_txt %.1f ${UP[ember]:-}); Azurite: $(rounds_txt %.1f ${UP[$s]:-}) MB/s), sync before each upload. emberd answers once the blob is durable$([ -n "${PUT1G_FIO:-}" ] && echo " (for scale: fio wrote this disk sequentially at $(calc "round($PUT1G_FIO, 1)") MB/s with one fsync at the end in the PUT 1 GiB row)"); $([ "$s" = azmem ] && echo "this Azurite holds it in memory" || echo "this Azurite fdatasync()s the data before the 201 (metadata saved within 5 s)")." \
      "${CMDS[@]}"
  done
  for s in "${BANCHORS[@]}"; do
    az_cmds "$s" "$cd"
    # shellcheck disable=SC2086
    record --id "blob-down256m-$s" --metric "Blob: Get Blob 256 MiB, single stream" --unit "MB/s" \
      --anchor-name "${BLABEL[$s]}" --target ">= 5" \
      --ember "$(median ${DOWN[ember]:-})" --anchor "$(median ${DOWN[$s]:-})" \
      --notes "$DL_GETS Get Blobs in a row (one curl each, to /dev/null) of that 256 MiB blob right after its upload (emberd and the disk Azurite: from the page cache); MB/s = $DL_GETS × 2^28 bytes / the sum of curl's time_total; median of $BIG_ROUNDS rounds (Ember: $(rounds_txt %.1f ${DOWN[ember]:-}); Azurite: $(rounds_txt %.1f ${DOWN[$s]:-}) MB/s)$([ ${#s3v[@]} -gt 0 ] && echo "; for reference, emberd's S3 GET of the same object right after each Blob GET: $(rounds_txt %.1f "${s3v[@]}") MB/s")$([ ${#ngv[@]} -gt 0 ] && echo "; for scale, nginx (sendfile) serving the same file to the same curl: $(rounds_txt %.1f "${ngv[@]}") MB/s, i.e. about what one curl can take over loopback here"). curl (the client) shares the 2 cores with the server." \
      "${CMDS[@]}"
  done
}

bench_blob() {
  [ "$BLOB" = 1 ] || return 0
  SAS=$($H blob-sas --container "$BUCKET")
  $H blob-selftest
  BSERVERS=() BANCHORS=()
  if [ -x "$AZURITE" ] && command -v node >/dev/null; then
    AZ_VERSION=$(node -e 'console.log(require(process.argv[1]).version)' \
      "$(dirname "$(readlink -f "$AZURITE")")/../../../package.json" 2>/dev/null || echo '?')
    if start_azurite azmem memory; then BSERVERS+=(azmem) BANCHORS+=(azmem); fi
    if [ "$AZURITE_DISK" = 1 ] && start_azurite azdisk disk; then BSERVERS+=(azdisk) BANCHORS+=(azdisk); fi
  else
    warn "Blob rows without an anchor: no Azurite at $AZURITE (scripts/install-deps --bench installs it) or no node"
  fi
  if [ "$ANCHORS_ONLY" != 1 ]; then BHOST[ember]=$EBLOB; BSERVERS+=(ember); fi
  [ ${#BSERVERS[@]} -gt 0 ] || return 0
  [ ${#BANCHORS[@]} -gt 0 ] || BANCHORS=(none)   # rows with Ember's figure and no anchor
  BLABEL[none]="— (no Azurite)"
  bench_blob_get4k
  bench_blob_write4k put
  bench_blob_write4k append
  bench_blob_256m
  stop_azurites
  rm -f "$WORK/src/b256m"
}
