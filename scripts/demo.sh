#!/usr/bin/env bash
# One command to a running demo: installs what is missing, builds, starts a
# private redis-server (port 6479, data in var/redis, AOF on) and serves the
# Shangluo demo configuration on http://127.0.0.1:8080 in the foreground.
# Tokens are generated on first run and kept in var/demo-tokens.txt (mode 600).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
"$root/scripts/deps.sh"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target gradcoverd

mkdir -p var/redis
chmod 700 var
redis_port=6479
if ! redis-cli -p $redis_port ping >/dev/null 2>&1; then
  redis-server --port $redis_port --bind 127.0.0.1 --dir "$root/var/redis" \
    --appendonly yes --appendfsync everysec --daemonize yes \
    --pidfile "$root/var/redis/redis.pid" --logfile "$root/var/redis/redis.log"
  for _ in $(seq 1 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

tokens=var/demo-tokens.txt
if [ ! -f $tokens ]; then
  umask 077
  for who in admin zhang.counselor shangzhou.leader grafana; do
    echo "$who $(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done > $tokens
fi
tok() { awk -v n="$1" '$1 == n {print $2}' $tokens; }
sha() { printf %s "$(tok "$1")" | sha256sum | cut -d' ' -f1; }
# The demo loads its data through the API with one admin token, faster than
# the default write limit (20/s after a burst of 300) allows.
cat > var/demo-config.json <<JSON
{
  "listen": "127.0.0.1:8080",
  "redis": "redis://127.0.0.1:$redis_port/0",
  "utc_offset_minutes": 480,
  "threshold": 0.90,
  "anonymous_read": false,
  "rate_limits": {"writes_per_second": 1000, "write_burst": 1000},
  "pii_key_file": "$root/var/pii.key",
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
cat <<MSG

gradcover demo
  API        http://127.0.0.1:8080/api/v1/coverage
  health     http://127.0.0.1:8080/healthz   readiness: /readyz
  Redis      127.0.0.1:$redis_port (data in var/redis, AOF on)
  tokens     var/demo-tokens.txt (name token), e.g. the admin's:
             curl -H "Authorization: Bearer $(tok admin)" http://127.0.0.1:8080/api/v1/coverage
  config     var/demo-config.json      stop: Ctrl-C (Redis keeps running: redis-cli -p $redis_port shutdown)

MSG
build/gradcoverd --config var/demo-config.json &
gc=$!
trap 'kill -TERM $gc 2>/dev/null; wait $gc' INT TERM

# First run only: some demo graduates and contacts, so that the numbers mean
# something (each county between ~80% and ~100% served this year).
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && break; sleep 0.1; done
if [ ! -f var/demo-seeded ]; then
  admin=$(tok admin) year=$(TZ=Asia/Shanghai date +%Y) n=0
  for county in 611002 611021 611022 611023 611024 611025 611026 shangdan-park; do
    total=$((20 + RANDOM % 20)) served=$((total * (80 + RANDOM % 21) / 100))
    for i in $(seq 1 "$total"); do
      n=$((n + 1))
      # A valid national ID: region, birth date, sequence, ISO 7064 check character.
      id17=$(printf '6110021999%02d%02d%03d' $((1 + n % 12)) $((1 + n % 28)) $((n % 1000)))
      natid=$(echo "$id17" | awk '{split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ");
        s = 0; for (i = 1; i <= 17; i++) s += substr($0, i, 1) * w[i];
        print $0 substr("10X98765432", s % 11 + 1, 1)}')
      gid="DEMO-$county-$i"
      curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
        -d "{\"id\":\"$gid\",\"county\":\"$county\",\"name\":\"示例$i\",\"national_id\":\"$natid\",
             \"school\":\"商洛学院\",\"registered_at\":\"$year-01-1${i: -1}T09:00:00+08:00\"}" \
        http://127.0.0.1:8080/api/v1/graduates || true
      if [ "$i" -le "$served" ]; then
        curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
          -d "{\"graduate_id\":\"$gid\",\"service\":\"career_guidance\",\"occurred_at\":\"$year-02-01T10:00:00+08:00\"}" \
          http://127.0.0.1:8080/api/v1/contacts || true
      fi
    done
  done
  touch var/demo-seeded
  echo "demo data loaded: $n graduates"
fi
wait $gc
