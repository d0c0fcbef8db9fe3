#!/usr/bin/env bash
# Builds gradcover and runs the whole test suite against a real redis-server
# that the suite starts itself (CTest fixture, free port, private data dir).
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
#   scripts/test.sh --valgrind   Debug build in build-valgrind/, every test
#                                binary and every gradcoverd under valgrind
#                                memcheck (tests/CMakeLists.txt, GC_VALGRIND)
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/deps.sh" --test
dir=build opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGC_TESTS=ON)
# Tests running at once: most of the suite waits on real time (retries,
# back-off, failovers, restarts), so twice the cores keeps them busy; under
# valgrind the tests are CPU-bound, so one more than the cores.
# GC_TEST_JOBS overrides.
jobs=$(($(nproc) * 2))
case "${1:-}" in
--sanitize)
  dir=build-asan opts=(-DCMAKE_BUILD_TYPE=Debug -DGC_SANITIZE=ON -DGC_TESTS=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ;;
--valgrind)
  dir=build-valgrind opts=(-DCMAKE_BUILD_TYPE=Debug -DGC_TESTS=ON -DGC_VALGRIND=ON)
  jobs=$(($(nproc) + 1))
  ;;
"") ;;
*)
  echo "usage: $0 [--sanitize | --valgrind]" >&2
  exit 2
  ;;
esac
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j"${GC_TEST_JOBS:-$jobs}" --timeout 600
