#!/usr/bin/env bash
# One command to a running demo: installs what is missing (only what gradcoverd
# needs to build and run, not the test suite's tools), builds gradcoverd and
# the gradcover tool in build/, starts a private redis-server (port 6479, data
# in var/redis, AOF on) and serves the Shangluo demo configuration on
# http://127.0.0.1:8080 until Ctrl-C, which stops gradcoverd and the Redis it
# started. Tokens are generated on first run and kept in var/demo-tokens.txt
# (mode 600); the server's log goes to var/gradcoverd.log.
#   scripts/demo.sh           the first run loads sample graduates and contacts
#   scripts/demo.sh --seed    empties the demo's Redis database first and loads
#                             the samples again (for a fresh start, and CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seed=0
for arg in "$@"; do
  case $arg in
  --seed) seed=1 ;;
  -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--seed]" >&2; exit 2 ;;
  esac
done

"$root/scripts/deps.sh"
# The tests are not built here: their tools (promtool, Chromium, ...) come
# with scripts/deps.sh --test, which scripts/test.sh runs.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGC_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target gradcoverd gradcover >/dev/null
build/gradcoverd --version

mkdir -p var/redis
chmod 700 var
redis_port=6479 api=http://127.0.0.1:8080
started_redis=0 gc=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$gc" ]; then
    kill -TERM "$gc" 2>/dev/null || true
    wait "$gc" 2>/dev/null || true
  fi
  # The Redis this script started goes with it (SHUTDOWN writes the AOF out).
  if [ $started_redis -eq 1 ]; then
    redis-cli -p $redis_port shutdown >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do [ -e var/redis/redis.pid ] || break; sleep 0.1; done
  fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT
if ! redis-cli -p $redis_port ping >/dev/null 2>&1; then
  redis-server --port $redis_port --bind 127.0.0.1 --dir "$root/var/redis" \
    --appendonly yes --appendfsync everysec --daemonize yes \
    --pidfile "$root/var/redis/redis.pid" --logfile "$root/var/redis/redis.log"
  started_redis=1
  for _ in $(seq 1 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
if [ $seed -eq 1 ]; then
  redis-cli -p $redis_port flushdb >/dev/null
  rm -f var/demo-seeded
fi

tokens=var/demo-tokens.txt
if [ ! -f $tokens ]; then
  (
    umask 077
    for who in admin zhang.counselor shangzhou.leader grafana; do
      echo "$who $(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done > $tokens
  )
fi
tok() { awk -v n="$1" '$1 == n {print $2}' $tokens; }
sha() { printf %s "$(tok "$1")" | sha256sum | cut -d' ' -f1; }
# The demo loads its data through the API with one admin token, faster than
# the default write limit (20/s after a burst of 300) allows. A county must
# stay below target for a minute before it alerts, and recover to 91% to
# clear, so that loading the samples pages nobody (docs/alerts.md).
cat > var/demo-config.json <<JSON
{
  "listen": "127.0.0.1:8080",
  "redis": "redis://127.0.0.1:$redis_port/0",
  "utc_offset_minutes": 480,
  "threshold": 0.90,
  "anonymous_read": false,
  "rate_limits": {"writes_per_second": 1000, "write_burst": 1000},
  "pii_key_file": "$root/var/pii.key",
  "alerts": {"for_seconds": 60, "clear_margin": 0.01},
  "counties": [
    {"code": "611002", "name": "商州区"},
    {"code": "611021", "name": "洛南县"},
    {"code": "611022", "name": "丹凤县"},
    {"code": "611023", "name": "商南县"},
    {"code": "611024", "name": "山阳县"},
    {"code": "611025", "name": "镇安县"},
    {"code": "611026", "name": "柞水县"},
    {"code": "shangdan-park", "name": "商丹园区"}
  ],
  "tokens": [
    {"name": "admin", "sha256": "$(sha admin)", "role": "admin"},
    {"name": "zhang.counselor", "sha256": "$(sha zhang.counselor)", "role": "counselor", "county": "611002"},
    {"name": "shangzhou.leader", "sha256": "$(sha shangzhou.leader)", "role": "leader", "county": "611002"},
    {"name": "grafana", "sha256": "$(sha grafana)", "role": "viewer"}
  ]
}
JSON
build/gradcoverd --config var/demo-config.json 2>>var/gradcoverd.log &
gc=$!
for _ in $(seq 1 100); do curl -sf $api/readyz >/dev/null && break; sleep 0.1; done
if ! curl -sf $api/readyz >/dev/null; then
  echo "demo: gradcoverd is not ready; the end of var/gradcoverd.log:" >&2
  tail -n 5 var/gradcoverd.log >&2
  exit 1
fi

# First run (or --seed) only: sample graduates and contacts, so that the
# numbers mean something (each county between ~80% and ~100% served this
# year). Each county's graduates are registered first and served after, so
# that its rate moves one way: at most one alert episode per county.
post() { # post PATH JSON: one API call, its status appended to the seed log
  printf '%s %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "$2" "$api$1")" "$1" >> var/demo-seed.log
}
if [ ! -f var/demo-seeded ]; then
  admin=$(tok admin) year=$(TZ=Asia/Shanghai date +%Y) n=0 contacts=0
  : > var/demo-seed.log
  printf 'loading the demo data ... '
  for county in 611002 611021 611022 611023 611024 611025 611026 shangdan-park; do
    total=$((20 + RANDOM % 20)) served=$((total * (80 + RANDOM % 21) / 100))
    for i in $(seq 1 "$total"); do
      n=$((n + 1))
      # A valid national ID: region, birth date, sequence, ISO 7064 check character.
      id17=$(printf '6110021999%02d%02d%03d' $((1 + n % 12)) $((1 + n % 28)) $((n % 1000)))
      natid=$(echo "$id17" | awk '{split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ");
        s = 0; for (i = 1; i <= 17; i++) s += substr($0, i, 1) * w[i];
        print $0 substr("10X98765432", s % 11 + 1, 1)}')
      post /api/v1/graduates "{\"id\":\"DEMO-$county-$i\",\"county\":\"$county\",\"name\":\"示例$i\",
        \"national_id\":\"$natid\",\"school\":\"商洛学院\",\"registered_at\":\"$year-01-1${i: -1}T09:00:00+08:00\"}"
    done
    for i in $(seq 1 "$served"); do
      contacts=$((contacts + 1))
      post /api/v1/contacts "{\"graduate_id\":\"DEMO-$county-$i\",\"service\":\"career_guidance\",
        \"occurred_at\":\"$year-02-01T10:00:00+08:00\"}"
    done
  done
  failed=$(awk '$1 !~ /^20[01]$/' var/demo-seed.log | wc -l)
  echo "$n graduates and $contacts contacts in 8 counties ($failed requests failed; var/demo-seed.log)"
  touch var/demo-seeded
fi

cat <<MSG

gradcover demo ($(build/gradcoverd --version))
  dashboard  $api/   (sign in with the admin token below)
  API        $api/api/v1/coverage
  health     $api/healthz   readiness: /readyz
  Redis      127.0.0.1:$redis_port (data in var/redis, AOF on)
  tokens     var/demo-tokens.txt (name token), e.g. the admin's:
             curl -H "Authorization: Bearer $(tok admin)" $api/api/v1/coverage
  tool       build/gradcover --config var/demo-config.json token list
  config     var/demo-config.json     log: var/gradcoverd.log
  stop       Ctrl-C (stops gradcoverd and the demo's Redis)

MSG
wait $gc
