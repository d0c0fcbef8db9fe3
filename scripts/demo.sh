#!/usr/bin/env bash
# One command to a running demo: installs what is missing, builds, starts a
# private redis-server (port 6479, data in var/redis, AOF on) and serves the
# Shangluo demo configuration on http://127.0.0.1:8080 in the foreground.
# Tokens are generated on first run and kept in var/demo-tokens.txt (mode 600).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
"$root/scripts/deps.sh"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGC_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"

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
cat > var/demo-config.json <<JSON
{
  "listen": "127.0.0.1:8080",
  "redis": "redis://127.0.0.1:$redis_port/0",
  "utc_offset_minutes": 480,
  "threshold": 0.90,
  "anonymous_read": false,
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
exec build/gradcoverd --config var/demo-config.json
