#!/usr/bin/env bash
# CTest fixture: start or stop a private redis-server on a free port.
# usage: redis-fixture.sh start|stop DIR   (DIR/port holds the chosen port)
set -euo pipefail
cmd=$1 dir=$2
case $cmd in
start)
  rm -rf "$dir" && mkdir -p "$dir"
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    # AOF on, as in production; everysec keeps the suite fast.
    if redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
         --databases 64 --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
         --appendonly yes --appendfsync everysec >/dev/null 2>&1; then
      for _ in $(seq 1 50); do
        # Answering, and it is ours (not another server already on that port).
        if [ -f "$dir/redis.pid" ] && redis-cli -p "$port" info server 2>/dev/null |
             grep -q "^process_id:$(cat "$dir/redis.pid")"; then
          echo "$port" > "$dir/port"
          echo "redis-server on 127.0.0.1:$port"
          exit 0
        fi
        sleep 0.1
      done
      # Started but not answering: the port was probably taken; stop and retry.
      [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    fi
  done
  echo "could not start redis-server" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/port" ]; then
    redis-cli -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || true
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
