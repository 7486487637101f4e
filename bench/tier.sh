# Tier rows of the Ember benchmark (section "tier": BENCH_ONLY=tier), sourced by bench/run.sh (uses its helpers:
# log, warn, die, record, jx, calc, best, stop_pid, free_port, avail_mib, $H, $PY, $WORK, $EMBERD, $AZURITE, ...).
#
# The warm tier in front of a cold Azure Blob store (docs/tiering.md), against Azurite as that cold store. The
# section starts its own Azurite (in memory, with --debug: its log is where the cold requests are counted) and its
# own emberd, whose [[tier.mappings]] map bucket tread (read-only) and tstage (read-only) and twb (write-back)
# to containers of that Azurite. Rows:
#   1. read-through time to first byte: GET of a cold 64 MiB object through emberd's S3 endpoint (a miss every
#      time: each object is read through emberd once) vs a direct GET of the same object from Azurite;
#   2. 32 concurrent readers of one cold 256 MiB object through emberd: aggregate MiB/s, and from Azurite's log
#      the GETs of that blob (target: each chunk of [tier] chunk_bytes fetched exactly once); anchor: one direct
#      download of the blob from Azurite;
#   3. write-back drain: 200 x 1 MiB + 2 x 64 MiB PUT through S3 into a write-back bucket, from the first PUT's
#      acknowledgement to the flush barrier being done, vs `rclone copy` of the same files from local disk to a
#      container of the same Azurite;
#   4. staging a prefix (2000 x 1 MiB, 8 x 256 MiB) with `emberctl stage` vs `rclone copy` of the same prefix
#      from the same Azurite to local disk (target >= 1.5x the better of rclone --transfers 4 and 16); only when
#      the emberctl under test has a `stage` command, else the row says "not measured".
#
# Environment (all optional): EMBERCTL (default: the emberctl next to $EMBERD's build), RCLONE (default: rclone
# on PATH), BENCH_TIER_BUDGET_S=360 (the section's soft budget: sizes shrink when it is short, and say so),
# BENCH_TIER_TTFB_N=20, BENCH_TIER_TTFB_MIB=64, BENCH_TIER_CONC=32, BENCH_TIER_CONC_MIB=256,
# BENCH_TIER_DRAIN_ROUNDS=2, BENCH_TIER_STAGE_SMALL=2000 (x 1 MiB), BENCH_TIER_STAGE_BIG=8 (x 256 MiB),
# BENCH_TIER_STAGE_ANCHOR=0 (1: measure the staging row's rclone anchor even without `emberctl stage`).
# Every step has a timeout; the section kills only what it started (by PID).

TIER_CHUNK=$((8 << 20))    # [tier] chunk_bytes (emberd's default, written out so the fetch count can be checked)
TIER_BUDGET=${BENCH_TIER_BUDGET_S:-360}
TIER_TTFB_N=${BENCH_TIER_TTFB_N:-20}
TIER_TTFB_MIB=${BENCH_TIER_TTFB_MIB:-64}
TIER_CONC=${BENCH_TIER_CONC:-32}
TIER_CONC_MIB=${BENCH_TIER_CONC_MIB:-256}
TIER_DRAIN_ROUNDS=${BENCH_TIER_DRAIN_ROUNDS:-2}
TIER_STAGE_SMALL=${BENCH_TIER_STAGE_SMALL:-2000}
TIER_STAGE_BIG=${BENCH_TIER_STAGE_BIG:-8}
RCLONE=${RCLONE:-$(command -v rclone || true)}
TB="$PY $BENCH/lib/tierbench.py"
TIER_AZ="" TIER_AZ_PID="" TIER_EMBER_PID="" TIER_S3="" TIER_ADMIN="" TIER_T0=0 TIER_DIR=""

# rclone against Azurite: the azureblob backend with a container SAS URL (rclone 1.60's `endpoint` option is a
# domain suffix, https://<account>.<endpoint>, which cannot name http://127.0.0.1:port/<account>). No config file;
# AWS_CA_BUNDLE (set on some machines) unset; one retry only, so a failure shows at once instead of after minutes.
TIER_RC=(env -u AWS_CA_BUNDLE RCLONE_CONFIG=/dev/null "$RCLONE" --retries 1 --low-level-retries 2)
tier_rc_remote() {  # container [path] : the rclone remote string of container/path in the section's Azurite
  printf ":azureblob,sas_url='%s/%s/%s?%s':%s/%s" "$TIER_AZ" "$BLOB_ACCOUNT" "$1" \
    "$($PY -c "import sys; sys.path.insert(0, '$BENCH/lib'); import azsas; print(azsas.container_sas('$1', 'racwdl'))")" "$1" "${2:-}"
}
tier_left() { echo $((TIER_BUDGET - (SECONDS - TIER_T0))); }
now() { date +%s.%N; }
mem_avail_mib() { awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo; }

tier_start_azurite() {
  local dir=$TIER_DIR/azurite port mem
  mkdir -p "$dir"
  port=$(free_port)
  # In memory: room for everything the section puts there (about 2.5 GiB, plus the staging prefixes).
  mem=$(( $(mem_avail_mib) * 6 / 10 )); [ "$mem" -gt 12288 ] && mem=12288
  (cd "$dir" && exec env AZURITE_ACCOUNTS="$BLOB_ACCOUNT:$BLOB_KEY" "$AZURITE" --blobHost 127.0.0.1 \
    --blobPort "$port" --inMemoryPersistence --extentMemoryLimit "$mem" --loose --skipApiVersionCheck \
    --disableProductStyleUrl --disableTelemetry -s --debug "$dir/debug.log" >"$dir/azurite.log" 2>&1) &
  TIER_AZ_PID=$!
  AZ_PID[tier]=$TIER_AZ_PID
  for _ in $(seq 600); do
    grep -q 'successfully listens' "$dir/azurite.log" 2>/dev/null && break
    kill -0 "$TIER_AZ_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q 'successfully listens' "$dir/azurite.log" 2>/dev/null; then
    warn "tier: Azurite did not start: $(tail -5 "$dir/azurite.log" | tr '\n' ' ')"
    stop_pid "$TIER_AZ_PID" TERM 5; unset "AZ_PID[tier]"; TIER_AZ_PID=""; return 1
  fi
  TIER_AZ="http://127.0.0.1:$port"
  TIER_AZ_LOG=$dir/debug.log
  TIER_AZ_START="AZURITE_ACCOUNTS='$BLOB_ACCOUNT:<key>' azurite-blob --blobHost 127.0.0.1 --blobPort <port> --inMemoryPersistence --extentMemoryLimit $mem --loose --skipApiVersionCheck --disableProductStyleUrl --disableTelemetry -s --debug debug.log"
  log "tier: Azurite ${AZ_VERSION:-?} (in memory, --debug) pid $TIER_AZ_PID on 127.0.0.1:$port"
}

tier_start_ember() {
  local dir=$TIER_DIR/ember b mode ep
  mkdir -p "$dir/data"
  ep="$TIER_AZ/$BLOB_ACCOUNT"
  cat >"$dir/ember.toml" <<EOF
[[users]]
name = "bench"
access_key = "AKIDBENCH"
secret_key = "bench-secret-key"

[blob]
enabled = false

[kv]
enabled = false

[tier]
chunk_bytes = $TIER_CHUNK
EOF
  for b in tread:read-only twb:write-back tstage:read-only; do
    mode=${b#*:} b=${b%%:*}
    $TB mkcontainer --azurite "$TIER_AZ" --container "$b"
    cat >>"$dir/ember.toml" <<EOF

[[tier.mappings]]
bucket = "$b"
location = "az://$BLOB_ACCOUNT/$b"
endpoint = "$ep"
account_key = "$BLOB_KEY"
mode = "$mode"
EOF
  done
  "$EMBERD" --config "$dir/ember.toml" --data-dir "$dir/data" --s3-address 127.0.0.1 --s3-port 0 \
    --admin-port 0 --port-file "$dir/ports.json" --log-level warn >"$dir/emberd.log" 2>&1 &
  TIER_EMBER_PID=$!
  BG_PIDS+=("$TIER_EMBER_PID")
  for _ in $(seq 300); do
    $PY -c "import json; d=json.load(open('$dir/ports.json')); assert d['s3'] and d['admin']" 2>/dev/null && break
    kill -0 "$TIER_EMBER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! $PY -c "import json; d=json.load(open('$dir/ports.json')); assert d['s3'] and d['admin']" 2>/dev/null; then
    warn "tier: emberd did not start: $(tail -5 "$dir/emberd.log" | tr '\n' ' ')"
    tier_stop_ember; return 1
  fi
  TIER_S3="http://127.0.0.1:$($PY -c "import json; print(json.load(open('$dir/ports.json'))['s3'])")"
  TIER_ADMIN="http://127.0.0.1:$($PY -c "import json; print(json.load(open('$dir/ports.json'))['admin'])")"
  TIER_PORTS=$dir/ports.json
  log "tier: emberd pid $TIER_EMBER_PID, S3 $TIER_S3, admin $TIER_ADMIN (mappings tread, tstage: read-only; twb: write-back)"
}

tier_stop_ember() {
  [ -n "$TIER_EMBER_PID" ] || return 0
  stop_pid "$TIER_EMBER_PID" TERM 30; bg_forget "$TIER_EMBER_PID"; TIER_EMBER_PID=""
}

tier_ember_alive() {
  kill -0 "$TIER_EMBER_PID" 2>/dev/null && return 0
  warn "tier: emberd exited: $(tail -5 "$TIER_DIR/ember/emberd.log" | tr '\n' ' ')"; return 1
}

# ------------------------------------------------------------------ 1. read-through TTFB
tier_ttfb() {
  local n=$TIER_TTFB_N mib=$TIER_TTFB_MIB why="" s j
  # Azurite holds them in memory and emberd ingests them: shrink when memory, disk or time is short.
  while [ "$mib" -gt 8 ] && { [ $((n * mib * 3)) -gt "$(mem_avail_mib)" ] || [ $((n * mib + 4096)) -gt "$(avail_mib)" ]; }; do
    mib=$((mib / 2)); why="memory/disk"
  done
  if [ "$(tier_left)" -lt 240 ] && [ "$n" -gt 8 ]; then n=8; why="${why:+$why, }time"; fi
  s=$((mib << 20))
  j=$(timeout -k 5 180 $TB seed --azurite "$TIER_AZ" --container tread --fmt "ttfb/%03d" --count "$n" --size "$s" --threads 4) ||
    { warn "tier: seeding the TTFB objects failed"; return 0; }
  log "tier: seeded $n x $mib MiB for TTFB: $j"
  j=$(timeout -k 5 300 $TB ttfb --azurite "$TIER_AZ" --container tread --ember "$TIER_S3" --bucket tread \
    --fmt "ttfb/%03d" --count "$n" --size "$s") || { warn "tier: TTFB run failed: $j"; tier_ember_alive; return 0; }
  log "tier: TTFB: $j"
  local e a over label
  e=$(jx 'd["ember_ttfb_ms_p50"]' "$j"); a=$(jx 'd["az_ttfb_ms_p50"]' "$j")
  over=$(calc "round($e - $a, 1)")
  label="Tier: read-through TTFB, cold $mib MiB GET (overhead +$over ms)"
  [ -n "$why" ] && label="$label [scaled down: $n x $mib MiB, $why]"
  record --id tier-ttfb --metric "$label" --unit ms --ember "$e" --anchor "$a" \
    --anchor-name "Azurite ${AZ_VERSION:-?} direct GET, same object (in memory)" --target "" --kind latency \
    --notes "median over $n objects of $mib MiB (random bytes, seeded into Azurite beforehand) of the time from sending a GET on a new connection to the first body byte (Python http.client, whole body read each time). Ember: GET of bucket tread (read-only mapping to the Azurite container) through a presigned S3 URL, each object read through emberd exactly once, so every GET is a miss (HEAD to cold, then the first chunk of [tier] chunk_bytes = $((TIER_CHUNK >> 20)) MiB fetched before the first byte is served). Anchor: a direct Get Blob (container SAS) of the same object from the same Azurite, on its own connection; the two alternate which goes first. Overhead (Ember − Azurite, medians): $over ms. $(jx '"Response headers p50: Ember %.1f ms, Azurite %.1f ms; worst TTFB: Ember %.1f ms, Azurite %.1f ms; whole %d MiB GET p50: Ember %.0f ms (cold read-through), Azurite %.0f ms" % (d["ember_hdr_ms_p50"], d["az_hdr_ms_p50"], d["ember_ttfb_ms_max"], d["az_ttfb_ms_max"], '"$mib"', d["ember_total_ms_p50"], d["az_total_ms_p50"])' "$j")." \
    --cmd "python3 bench/lib/tierbench.py ttfb --azurite http://\$AZURITE --container tread --ember http://\$TIER_EMBER --bucket tread --fmt 'ttfb/%03d' --count $n --size $s" \
    --cmd "$TIER_AZ_START"
  # Free Azurite's memory for the rows after this one.
  $TB rmcontainer --azurite "$TIER_AZ" --container tread >/dev/null 2>&1 || true
  $TB mkcontainer --azurite "$TIER_AZ" --container tread
}

# ------------------------------------------------------------------ 2. 32 concurrent readers of one cold object
tier_conc() {
  local mib=$TIER_CONC_MIB n=$TIER_CONC s blob=conc/big why="" j off f url aurl a1 a2 av
  while [ "$mib" -gt 32 ] && { [ $((mib * 3)) -gt "$(mem_avail_mib)" ] || [ $((mib * 2 + 4096)) -gt "$(avail_mib)" ]; }; do
    mib=$((mib / 2)); why="memory/disk"
  done
  s=$((mib << 20))
  j=$(timeout -k 5 120 $TB seed --azurite "$TIER_AZ" --container tread --fmt "$blob" --count 1 --size "$s" --threads 1) ||
    { warn "tier: seeding the 32-reader object failed"; return 0; }
  log "tier: seeded 1 x $mib MiB for $n readers: $j"
  aurl=$($TB blob-url --azurite "$TIER_AZ" --container tread --blob "$blob")
  url=$($TB presign --ember "$TIER_S3" --bucket tread --key "$blob")
  off=$($TB logsize --log "$TIER_AZ_LOG")
  j=$(timeout -k 5 300 $TB conc --url "$url" --n "$n" --size "$s" --timeout 280) || { warn "tier: $n readers failed: $j"; tier_ember_alive; return 0; }
  log "tier: $n readers of one cold $mib MiB object: $j"
  sleep 1   # let Azurite write its log
  f=$($TB fetches --log "$TIER_AZ_LOG" --offset "$off" --container tread --blob "$blob" --size "$s" --chunk "$TIER_CHUNK")
  log "tier: Azurite served for that blob: $f"
  [ "$(jx 'd["ok"]' "$j")" = "$n" ] || warn "tier: only $(jx 'd["ok"]' "$j") of $n readers got the whole object: $(jx 'd["errors"]' "$j")"
  [ "$(jx 'd["exactly_once"]' "$f")" = True ] || warn "tier: $n readers: chunks not fetched exactly once: $f"
  # Anchor: a direct download of the same blob from Azurite (best of 2), curl to /dev/null.
  a1=$(timeout -k 5 120 curl -sS -H "x-ms-version: $MSV" -o /dev/null -w '%{time_total}' "$aurl" || true)
  a2=$(timeout -k 5 120 curl -sS -H "x-ms-version: $MSV" -o /dev/null -w '%{time_total}' "$aurl" || true)
  av=$(best "$(calc "$mib / ${a1:-1e9}")" "$(calc "$mib / ${a2:-1e9}")")
  # The bytes: emberd's copy (now warm) against Azurite's.
  local me ma
  me=$(timeout -k 5 120 $TB md5 --url "$url" | $H jx 'd["md5"]') || true
  ma=$(timeout -k 5 120 $TB md5 --url "$aurl" | $H jx 'd["md5"]') || true
  [ -n "$me" ] && [ "$me" = "$ma" ] || warn "tier: emberd's copy of $blob differs from Azurite's ($me vs $ma)"
  local label="Tier: $n concurrent readers of one cold $mib MiB object"
  [ -n "$why" ] && label="$label [scaled down from $TIER_CONC_MIB MiB: $why]"
  record --id tier-conc --metric "$label" --unit "MiB/s" --ember "$(jx 'd.get("mib_s", "")' "$j")" --anchor "$av" \
    --anchor-name "one direct download from Azurite ${AZ_VERSION:-?} (curl)" --target "" \
    --notes "$n curl processes start a GET of the same cold object (bucket tread, read-only mapping; presigned S3 URL) at once, to /dev/null; MiB/s = $n × $mib MiB delivered / wall time from the first start to the last finish ($(jx '"%d of %d complete in %.2f s; TTFB p50 %.0f ms, worst %.0f ms; slowest reader %.2f s, fastest %.2f s" % (d["ok"], d["n"], d["wall_s"], d.get("ttfb_ms_p50", 0), d.get("ttfb_ms_max", 0), d.get("total_s_max", 0), d.get("total_s_min", 0))' "$j")). Anchor: one curl downloading the blob directly from the same Azurite (best of 2: $(calc "round($mib / ${a1:-1e9}, 1)") / $(calc "round($mib / ${a2:-1e9}, 1)") MiB/s) — one reader against $n, so the ratio says how much more the tier serves to $n readers than the cold store serves to one. The $n readers share 2 cores with emberd, Azurite and each other. emberd's copy afterwards has Azurite's bytes (md5 $([ "$me" = "$ma" ] && echo equal || echo DIFFERENT))." \
    --cmd "for i in 1..$n: curl -sS -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}' '<presigned GET http://\$TIER_EMBER/tread/$blob>' &   (all at once; python3 bench/lib/tierbench.py conc)" \
    --cmd "curl -sS -H 'x-ms-version: $MSV' -o /dev/null -w '%{time_total}' 'http://\$AZURITE/$BLOB_ACCOUNT/tread/$blob?<SAS>'"
  local g c
  g=$(jx 'd["gets"]' "$f"); c=$(jx 'd["chunks"]' "$f")
  record --id tier-conc-fetches --metric "Tier: cold GETs of that object's $((TIER_CHUNK >> 20)) MiB chunks ($n readers; exactly once: $([ "$(jx 'd["exactly_once"]' "$f")" = True ] && echo yes || echo NO))" \
    --unit "GETs" --ember "$g" --anchor "$c" --anchor-name "chunks in the object ($mib MiB / $((TIER_CHUNK >> 20)) MiB)" \
    --target "<= 1.0" --kind count \
    --notes "from Azurite's --debug log, the requests it served for the blob while the $n readers ran: $(jx '"%d GETs (ranged: %s ...), %d HEADs; chunks fetched by no GET: %d, the most GETs covering one chunk: %d, GETs not on chunk boundaries: %d" % (d["gets"], ", ".join(r or "whole" for r in d["ranges"]), d["heads"], d["missing"], d["max_per_chunk"], d["unaligned"])' "$f"). Target: every chunk fetched exactly once however many readers want it (single-flight), so GETs = chunks (ratio 1.0) with no chunk twice." \
    --cmd "python3 bench/lib/tierbench.py fetches --log debug.log --offset <log size before> --container tread --blob $blob --size $s --chunk $TIER_CHUNK"
}

# ------------------------------------------------------------------ 3. write-back drain vs rclone upload
tier_drain() {
  local src=$TIER_DIR/wb i r j evals=() avals=() t0 t1 out l lj why="" nsmall=200 nbig=2 bigmib=64
  if [ "$(tier_left)" -lt 120 ]; then nsmall=50 nbig=1 why="time"; fi
  mkdir -p "$src"
  for i in $(seq -f %03g 0 $((nsmall - 1))); do head -c $((1 << 20)) /dev/urandom >"$src/s$i"; done
  for i in $(seq 0 $((nbig - 1))); do head -c $((bigmib << 20)) /dev/urandom >"$src/big$i"; done
  local total_mib=$((nsmall + nbig * bigmib))
  for r in $(seq "$TIER_DRAIN_ROUNDS"); do
    [ "$(tier_left)" -gt 45 ] || { [ "$r" -gt 1 ] && break; }
    sync
    j=$(timeout -k 5 300 $TB drain --ember "$TIER_S3" --admin "$TIER_ADMIN" --bucket twb --prefix "r$r/" --dir "$src" --threads 8 --timeout 240) ||
      { warn "tier: write-back drain round $r failed: $j"; tier_ember_alive || return 0; continue; }
    evals+=("$(jx 'd["drain_mib_s"]' "$j")")
    lj=$($TB list --azurite "$TIER_AZ" --container twb --prefix "r$r/")
    [ "$(jx 'd["objects"]' "$lj")" = $((nsmall + nbig)) ] && [ "$(jx 'd["bytes"]' "$lj")" = $((total_mib << 20)) ] ||
      warn "tier: after the flush barrier, Azurite holds $lj under twb/r$r/, not $((nsmall + nbig)) objects / $total_mib MiB"
    log "tier: drain round $r: ember $j"
    if [ -n "$RCLONE" ]; then
      $TB mkcontainer --azurite "$TIER_AZ" --container "twbrc$r"
      sync
      t0=$(now)
      out=$(timeout -k 5 300 "${TIER_RC[@]}" copy "$src" "$(tier_rc_remote "twbrc$r")" 2>&1) ||
        { warn "tier: rclone upload round $r failed: $(tail -c 300 <<<"$out")"; continue; }
      t1=$(now)
      lj=$($TB list --azurite "$TIER_AZ" --container "twbrc$r")
      [ "$(jx 'd["bytes"]' "$lj")" = $((total_mib << 20)) ] || warn "tier: rclone uploaded $lj, not $total_mib MiB"
      avals+=("$(calc "$total_mib / ($t1 - $t0)")")
      log "tier: drain round $r: rclone copy (--transfers 4) $(calc "round($total_mib / ($t1 - $t0), 1)") MiB/s"
    fi
  done
  [ -n "$RCLONE" ] || warn "tier: rclone not found: the write-back drain row has no anchor"
  l="Tier: write-back drain, $nsmall × 1 MiB + $nbig × $bigmib MiB"
  [ -n "$why" ] && l="$l [scaled down from 200 × 1 MiB + 2 × 64 MiB: $why]"
  record --id tier-drain --metric "$l" --unit "MiB/s" --ember "$(best "${evals[@]}")" --anchor "$(best "${avals[@]}")" \
    --anchor-name "rclone $($RCLONE version 2>/dev/null | head -1 | cut -d' ' -f2) copy local → Azurite (--transfers 4)" --target "" \
    --notes "$total_mib MiB in $((nsmall + nbig)) files of random bytes on local disk (page cache). Ember: the files PUT through S3 (8 client threads, presigned URLs, the two 64 MiB first) into bucket twb (write-back mapping to a container of the same Azurite, [tier] upload_concurrency 4, multipart_threshold 16 MiB, part_size 8 MiB, parallel_parts 4: the defaults); after the last acknowledgement a flush barrier (POST /tier/flush), then GET /tier/flush?wait=30 until done; MiB/s = $total_mib MiB / (barrier done − first PUT acknowledged), so the drain overlaps the PUTs; the cold container then holds every object with its size (checked). Anchor: rclone copy of the same directory to an empty container of the same Azurite (container SAS URL; rclone's defaults otherwise: --transfers 4, 4 MiB blocks), MiB/s = $total_mib MiB / wall time of the rclone process. Best of $TIER_DRAIN_ROUNDS rounds, Ember then rclone in each (Ember: $(rounds_txt %.1f "${evals[@]}"); rclone: $(rounds_txt %.1f "${avals[@]}") MiB/s)." \
    --cmd "python3 bench/lib/tierbench.py drain --ember http://\$TIER_EMBER --admin http://\$TIER_ADMIN --bucket twb --prefix rN/ --dir wb --threads 8" \
    --cmd "rclone --retries 1 --low-level-retries 2 copy wb \":azureblob,sas_url='http://\$AZURITE/$BLOB_ACCOUNT/twbrcN?<SAS>':twbrcN\""
  rm -rf "$src"
  local c; for c in $(seq "$TIER_DRAIN_ROUNDS"); do $TB rmcontainer --azurite "$TIER_AZ" --container "twbrc$c" >/dev/null 2>&1 || true; done
}

# ------------------------------------------------------------------ 4. staging a prefix vs rclone download
tier_have_stage() {
  [ -x "$EMBERCTL" ] || return 1
  # CLI11 answers `emberctl stage --help` with the top-level help (exit 0) when there is no such command, so
  # look for the command in the command list.
  "$EMBERCTL" --help 2>/dev/null | grep -qE '^[[:space:]]+stage([[:space:]]|$)' &&
    "$EMBERCTL" stage --help >/dev/null 2>&1
}

tier_stage_one() {  # id count size_mib prefix label why
  local id=$1 cnt=$2 mib=$3 pfx=$4 label=$5 why=$6 j t0 t1 ev="" out tr rv=() rtxt=() dst st got
  local total=$((cnt * mib))
  j=$(timeout -k 5 300 $TB seed --azurite "$TIER_AZ" --container tstage --fmt "$pfx%05d" --count "$cnt" --size $((mib << 20)) --threads 8) ||
    { warn "tier: seeding $pfx failed"; return 0; }
  log "tier: seeded $cnt x $mib MiB under tstage/$pfx: $j"
  if [ "$TIER_STAGE" = 1 ]; then
    sync
    t0=$(now)
    st=0
    out=$(timeout -k 5 400 "$EMBERCTL" --port-file "$TIER_PORTS" stage "tstage/$pfx" 2>&1) || st=$?
    t1=$(now)
    if [ $st = 0 ]; then
      ev=$(calc "$total / ($t1 - $t0)")
      log "tier: emberctl stage tstage/$pfx: $(calc "round($ev, 1)") MiB/s ($(calc "round($t1 - $t0, 2)") s)"
      st=$("$EMBERCTL" --port-file "$TIER_PORTS" status "tstage/${pfx}00000" 2>&1 || true)
      grep -q clean <<<"$st" || warn "tier: after emberctl stage, tstage/${pfx}00000 is not clean: $(head -c 300 <<<"$st")"
    else
      warn "tier: emberctl stage tstage/$pfx exited $st: $(tail -c 300 <<<"$out")"
    fi
  fi
  if [ -n "$RCLONE" ]; then
    for tr in 4 16; do
      dst=$TIER_DIR/rc-$id-$tr
      sync
      t0=$(now)
      out=$(timeout -k 5 400 "${TIER_RC[@]}" copy "$(tier_rc_remote tstage "$pfx")" "$dst" --transfers "$tr" 2>&1) ||
        { warn "tier: rclone copy of tstage/$pfx (--transfers $tr) failed: $(tail -c 300 <<<"$out")"; rm -rf "$dst"; continue; }
      t1=$(now)
      got=$(find "$dst" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
      [ "$got" = $((total << 20)) ] || warn "tier: rclone copied $got bytes of tstage/$pfx, not $((total << 20))"
      rv+=("$(calc "$total / ($t1 - $t0)")"); rtxt+=("--transfers $tr: $(calc "round($total / ($t1 - $t0), 1)")")
      log "tier: rclone copy tstage/$pfx --transfers $tr: $(calc "round($total / ($t1 - $t0), 1)") MiB/s"
      rm -rf "$dst"
    done
  fi
  [ -n "$why" ] && label="$label [scaled down: $why]"
  [ "$TIER_STAGE" = 1 ] || label="$label — not measured: emberctl stage missing"
  record --id "$id" --metric "$label" --unit "MiB/s" --ember "$ev" --anchor "$(best "${rv[@]}")" \
    --anchor-name "rclone copy Azurite → local disk (better of --transfers 4 / 16)" --target ">= 1.5" \
    --notes "$cnt blobs of $mib MiB ($total MiB of random bytes) under tstage/$pfx in Azurite (in memory). Ember: \`emberctl stage tstage/$pfx\` (bucket tstage: read-only mapping to that container; exits 0 when the staging job is done: every object warm and clean in emberd's store, fsynced), MiB/s = $total MiB / its wall time$([ "$TIER_STAGE" = 1 ] || echo " — not measured: the emberctl under test ($EMBERCTL) has no stage command"). Anchor: rclone copy of the same prefix from the same Azurite to the local disk of the scratch directory, MiB/s = $total MiB / wall time of the rclone process, run with --transfers 4 (its default) and 16, the better one counts (${rtxt[*]:-not run} MiB/s). Target: Ember ≥ 1.5× rclone." \
    --cmd "emberctl --port-file ports.json stage tstage/$pfx" \
    --cmd "rclone --retries 1 --low-level-retries 2 copy \":azureblob,sas_url='http://\$AZURITE/$BLOB_ACCOUNT/tstage?<SAS>':tstage/$pfx\" dst --transfers 4|16"
}

tier_stage() {
  TIER_STAGE=0
  if tier_have_stage; then TIER_STAGE=1; fi
  if [ "$TIER_STAGE" = 0 ] && [ "${BENCH_TIER_STAGE_ANCHOR:-0}" != 1 ]; then
    record --id tier-stage-small --metric "Tier: staging $TIER_STAGE_SMALL × 1 MiB (emberctl stage) — not measured: emberctl stage missing" \
      --unit "MiB/s" --ember "" --anchor "" --anchor-name "rclone copy Azurite → local disk" --target ">= 1.5" \
      --notes "not measured: $EMBERCTL has no \`stage\` command (bench/tier.sh measures this row, against rclone copy of the same prefix with --transfers 4 and 16, once emberctl has it; BENCH_TIER_STAGE_ANCHOR=1 measures the rclone anchor anyway)."
    record --id tier-stage-big --metric "Tier: staging $TIER_STAGE_BIG × 256 MiB (emberctl stage) — not measured: emberctl stage missing" \
      --unit "MiB/s" --ember "" --anchor "" --anchor-name "rclone copy Azurite → local disk" --target ">= 1.5" \
      --notes "not measured, as the row above."
    log "tier: staging rows not measured: $EMBERCTL has no stage command"
    return 0
  fi
  # Sizes: Azurite holds both prefixes in memory, emberd and rclone each write them to disk; the whole thing must
  # fit in the time left at a pessimistic 50 MiB/s per pass (seed, stage, 2 rclone runs).
  local small=$TIER_STAGE_SMALL big=$TIER_STAGE_BIG why=""
  while [ "$small" -gt 100 ] && { [ $(((small + big * 256) * 2)) -gt "$(mem_avail_mib)" ] ||
        [ $(((small + big * 256) * 2 + 4096)) -gt "$(avail_mib)" ] ||
        [ $(((small + big * 256) * 4 / 50 + 30)) -gt "$(tier_left)" ]; }; do
    small=$((small / 2)); [ "$big" -gt 2 ] && big=$((big / 2)); why="from $TIER_STAGE_SMALL × 1 MiB / $TIER_STAGE_BIG × 256 MiB for memory, disk or time"
  done
  tier_stage_one tier-stage-small "$small" 1 "small/" "Tier: staging $small × 1 MiB (emberctl stage)" "$why"
  $TB rmcontainer --azurite "$TIER_AZ" --container tstage >/dev/null 2>&1 || true
  $TB mkcontainer --azurite "$TIER_AZ" --container tstage
  if [ "$(tier_left)" -gt $((big * 256 * 4 / 50 + 20)) ]; then
    tier_stage_one tier-stage-big "$big" 256 "big/" "Tier: staging $big × 256 MiB (emberctl stage)" "$why"
  else
    warn "tier: staging $big × 256 MiB skipped: out of the section's time budget"
  fi
}

bench_tier() {
  [ "$ANCHORS_ONLY" = 1 ] && return 0
  TIER_T0=$SECONDS
  TIER_DIR=$WORK/tier
  mkdir -p "$TIER_DIR"
  if ! [ -x "$AZURITE" ] || ! command -v node >/dev/null; then
    warn "tier rows skipped: no Azurite at $AZURITE (scripts/install-deps --bench installs it) or no node"; return 0
  fi
  [ -n "$AZ_VERSION" ] || AZ_VERSION=$(node -e 'console.log(require(process.argv[1]).version)' \
      "$(dirname "$(readlink -f "$AZURITE")")/../../../package.json" 2>/dev/null || echo '?')
  tier_start_azurite || return 0
  if tier_start_ember; then
    tier_ttfb
    tier_ember_alive && tier_conc
    tier_ember_alive && tier_drain
    tier_ember_alive && tier_stage
    tier_stop_ember
  fi
  stop_pid "$TIER_AZ_PID" TERM 10; unset "AZ_PID[tier]"; TIER_AZ_PID=""
  rm -rf "$TIER_DIR"
  log "tier rows done in $((SECONDS - TIER_T0)) s"
}
