#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) or 10 million executions (FUZZ_RUNS),
# whichever comes first, one after another on one core:
#   fuzz/run.sh [SECONDS] [TARGET...]
# Seeds the corpora from the fixtures if needed (fuzz/seed.py), builds (release with debug
# assertions and AddressSanitizer, cargo-fuzz's default), runs each target with a 1 s per-input
# timeout and a 256 MiB allocation limit, prints executions per target, and exits non-zero if
# any target crashed. A crash is saved as fuzz/artifacts/<target>/crash-*: fix it, then copy it
# to fixtures/fuzz-regressions/<target>/<what-it-is> (`cargo test --lib fuzzing` replays them).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-30}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(aws_json rest_xml aws_query aws_chunked sigv4_auth s3_request vtl athena_sql cfn_template quicksight_definition jq form_post)
fi
[ -d fuzz/corpus/athena_sql ] || python3 fuzz/seed.py >/dev/null
cargo +nightly fuzz build >/dev/null || exit 2
BIN=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs
failed=()
printf '%-24s %12s %8s %8s %s\n' target executions exec/s seconds result
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  start=$(date +%s)
  "$BIN/$t" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$SECS" -runs="${FUZZ_RUNS:-10000000}" -timeout=1 \
    -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -eq 0 ]; then result=ok; else result="CRASH (exit $rc, see fuzz/logs/$t.log)"; failed+=("$t"); fi
  printf '%-24s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashed: ${failed[*]}"
  exit 1
fi
