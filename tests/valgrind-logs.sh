#!/bin/sh
# The valgrind logs of the gradcoverd processes the integration tests started
# (GC_VALGRIND=ON, see tests/CMakeLists.txt).
#   valgrind-logs.sh clean DIR   empties DIR before the tests
#   valgrind-logs.sh check DIR   fails when any log reports an error or a
#                                definite/indirect leak (the only leak kinds
#                                shown), or when there is no log at all
# A stack trace in a log is always a finding: memcheck prints one only for an
# error, a leak of a shown kind, or a fatal signal. This also catches servers
# that were killed (SIGKILL) and so never reached their exit code.
set -eu
mode=$1 dir=$2
case $mode in
clean)
  rm -rf "$dir"
  mkdir -p "$dir"
  ;;
check)
  n=$(find "$dir" -name '*.log' | wc -l)
  if [ "$n" -eq 0 ]; then
    echo "no valgrind logs in $dir: was gradcoverd started under GC_WRAPPER?" >&2
    exit 1
  fi
  bad=$(grep -lE '^==[0-9]+== +(at|by) 0x|ERROR SUMMARY: [1-9]' "$dir"/*.log || true)
  if [ -n "$bad" ]; then
    for f in $bad; do
      echo "=== $f"
      cat "$f"
    done
    echo "valgrind: findings in $(echo "$bad" | wc -l) of $n gradcoverd logs" >&2
    exit 1
  fi
  echo "valgrind: $n gradcoverd logs, no errors and no definite or indirect leaks"
  ;;
*)
  echo "usage: $0 clean|check DIR" >&2
  exit 2
  ;;
esac
