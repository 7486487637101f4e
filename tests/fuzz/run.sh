#!/usr/bin/env bash
# Runs every libFuzzer target for a time budget each (default 60 s), starting from the seed corpus
# in tests/fuzz/corpus/<name>; new inputs go to a scratch corpus under the build directory.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds="$here/corpus/${name#fuzz_}"
  scratch="$build/tests/fuzz/scratch/${name#fuzz_}"
  mkdir -p "$scratch"
  echo "== $name for ${secs}s"
  args=("$scratch")
  [ -d "$seeds" ] && args+=("$seeds")
  if ! "$bin" -max_total_time="$secs" -print_final_stats=1 "${args[@]}" 2>&1 | tail -n 15; then
    status=1
  fi
done
exit $status
