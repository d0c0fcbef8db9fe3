#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz-lf/ and runs
# each for SECONDS (default 60), starting from its committed seeds, as many
# at once as there are cores.
#   tests/fuzz/run.sh [SECONDS [TARGET...]]
# Inputs that found new coverage go to build-fuzz-lf/fuzz-corpus/<target>/
# (not committed); a crash, leak, timeout or failed invariant stops that
# target, leaves its input in build-fuzz-lf/fuzz-artifacts/ and makes the run
# exit 1. Fix the bug, then commit the input to tests/fuzz/corpus/<target>/
# (named crash-<what>, see fuzz.h) so the replay test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
dir=build-fuzz-lf
command -v clang-14 >/dev/null || { echo "run.sh: clang-14 is missing (scripts/deps.sh --test)" >&2; exit 2; }
CC=clang-14 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGC_FUZZ=ON -DGC_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$dir/fuzz-artifacts" "$dir/fuzz-logs"
# One target: its libFuzzer run, then a line saying how it went; exit 1 on a finding.
fuzz_one() {
  local t=$1 bin="$dir/tests/fuzz/fuzz_$1" log="$dir/fuzz-logs/$1.log" dict=()
  case $t in
  graduate_create | graduate_status | contact_create | config) dict=(-dict=tests/fuzz/dict/json.dict) ;;
  headers) dict=(-dict=tests/fuzz/dict/headers.dict) ;;
  esac
  # -max_len: bodies are up to 64 KiB, but 8 KiB reach every code path
  # faster; -timeout: one input taking 10 s is a bug (quadratic parsing).
  if "$bin" -max_total_time="$secs" -timeout=10 -max_len=8192 -rss_limit_mb=2048 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$dir/fuzz-artifacts/$t-" \
    "$dir/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ok, ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}"
  else
    echo "fuzz $t: FAILED (log: $log)"
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -20 || true
    return 1
  fi
}
for t in "${targets[@]}"; do
  [ -x "$dir/tests/fuzz/fuzz_$t" ] || { echo "run.sh: no fuzz target $t" >&2; exit 2; }
  mkdir -p "$dir/fuzz-corpus/$t"
done
# The targets are single-threaded: as many run at once as there are cores,
# so each still gets its SECONDS of its own core.
jobs_max=$(nproc)
declare -A running=()
failed=()
reap() { # waits for one target to finish (bash 5.1's wait -n -p)
  local pid="" st=0
  wait -n -p pid || st=$?
  [ -n "$pid" ] || return 0
  [ "$st" -eq 0 ] || failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for t in "${targets[@]}"; do
  while [ ${#running[@]} -ge "$jobs_max" ]; do reap; done
  fuzz_one "$t" &
  running[$!]=$t
done
while [ ${#running[@]} -gt 0 ]; do reap; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s each without a finding"
