#!/usr/bin/env bash
# The README's first command, as CI runs it before the test suite's packages
# are installed: starts `scripts/demo.sh --seed`, waits until the demo serves
# coverage with data for all 8 Shangluo units, checks the seeding (no failed
# request, no alert episode while loading, at most one pending state per
# county) and the gradcover tool, then stops the demo like Ctrl-C would and
# checks that it exits 0 and leaves no process behind. Uses ports 8080 and
# 6479 and the checkout's var/ (the demo's data is replaced).
set -uo pipefail
cd "$(dirname "$0")/.."
api=http://127.0.0.1:8080
fail() {
  echo "demo-smoke: FAILED: $*" >&2
  echo "--- the demo's output:" >&2
  tail -n 20 "$out" >&2
  [ -n "${demo:-}" ] && kill -TERM -- "-$demo" 2>/dev/null
  redis-cli -p 6479 shutdown nosave >/dev/null 2>&1
  exit 1
}
for p in 8080 6479; do
  if ss -ltn | grep -q ":$p "; then echo "demo-smoke: port $p is taken" >&2; exit 1; fi
done
out=$(mktemp /tmp/demo-smoke.XXXXXX)
t0=$SECONDS
setsid scripts/demo.sh --seed >"$out" 2>&1 &
demo=$!

# Building on a fresh machine takes a minute or two; loading the samples a few seconds.
for _ in $(seq 1 600); do
  grep -q 'graduates and .* contacts in 8 counties' "$out" && break
  kill -0 $demo 2>/dev/null || fail "scripts/demo.sh exited early"
  sleep 1
done
grep -q 'graduates and .* contacts in 8 counties' "$out" || fail "no seeding summary after 600 s"
grep -q '(0 requests failed' "$out" || fail "some seeding requests failed: $(grep 'requests failed' "$out")"
[ "$(grep -c 'http_request' "$out")" -eq 0 ] || fail "request log lines reached the terminal"

admin=$(awk '$1 == "admin" {print $2}' var/demo-tokens.txt)
body=$(curl -sf -m 5 -H "Authorization: Bearer $admin" $api/api/v1/coverage) || fail "coverage did not answer 200"
counties=$(printf %s "$body" | grep -o '"code": *"[^"]*"' | wc -l)
[ "$counties" -eq 8 ] || fail "coverage lists $counties counties, not 8: $body"
# Nine "registered" values (the total and each county), every one above zero.
regs=$(printf %s "$body" | grep -o '"registered": *[0-9]*' | grep -o '[0-9]*$')
[ "$(echo "$regs" | wc -l)" -eq 9 ] || fail "unexpected coverage body: $body"
echo "$regs" | grep -qx 0 && fail "a county has no data: $body"

# Alerts while loading: none fired; each county went pending at most once.
log=var/gradcoverd.log
fired=$(grep -c 'event=alert_transition .*transition=firing' $log)
[ "$fired" -eq 0 ] || fail "$fired alert episodes fired while the samples loaded"
flaps=$(grep -o 'event=alert_transition .*county=[^ ]* transition=pending' $log |
  grep -o 'county=[^ ]*' | sort | uniq -c | awk '$1 > 1')
[ -z "$flaps" ] || fail "a county went pending more than once: $flaps"

build/gradcover --version | grep -q '^gradcover [0-9]' || fail "build/gradcover --version"
build/gradcover --config var/demo-config.json token list | grep -q zhang.counselor ||
  fail "build/gradcover token list does not list the demo's tokens"

kill -TERM $demo
for _ in $(seq 1 200); do kill -0 $demo 2>/dev/null || break; sleep 0.1; done
kill -0 $demo 2>/dev/null && fail "scripts/demo.sh did not stop within 20 s of SIGTERM"
wait $demo
rc=$?
[ $rc -eq 0 ] || fail "scripts/demo.sh exited $rc after SIGTERM"
left=$(pgrep -af 'gradcoverd --config var/demo-config.json|redis-server .*:6479' || true)
[ -z "$left" ] || fail "processes left behind: $left"
for p in 8080 6479; do
  ss -ltn | grep -q ":$p " && fail "port $p is still listening after the demo stopped"
done
echo "demo-smoke: ok in $((SECONDS - t0)) s: 8 counties with data, $(grep -o '[0-9]* graduates and [0-9]* contacts' "$out"), no alert fired while loading, clean stop"
rm -f "$out"
