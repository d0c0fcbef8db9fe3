#!/usr/bin/env bash
# Restarts several gradcoverd behind nginx one at a time without losing a
# request (docs/operations.md, "Rolling restart"). For each server: restart it
# (SIGTERM: it refuses new connections, finishes what it has, closes its
# keep-alive connections cleanly, exits 0), wait until its /readyz answers
# 200, then wait out nginx's fail_timeout (nginx counted the refused
# connections as failures and sends the server nothing until then) before
# the next one, so that never two servers are out at once.
#
#   scripts/rolling-restart.sh [--fail-timeout S] [--ready-timeout S] UNIT=ADDR ...
#
# UNIT is a systemd unit (e.g. gradcoverd@8081, a copy or template instance
# of deploy/gradcoverd.service), ADDR the host:port it listens on, e.g.
#   scripts/rolling-restart.sh gradcoverd@8080=127.0.0.1:8080 gradcoverd@8081=127.0.0.1:8081
# RESTART_CMD overrides how a unit is restarted ("systemctl restart" by
# default; the unit's name is appended). Exit 0 when every server came back
# ready; 1 (and nothing restarted after it) when one did not.
set -euo pipefail
fail_timeout=3   # deploy/nginx.conf: fail_timeout=3s
ready_timeout=60 # a server waits for Redis before it is ready
restart=${RESTART_CMD:-systemctl restart}
usage() { echo "usage: $0 [--fail-timeout S] [--ready-timeout S] UNIT=HOST:PORT ..." >&2; exit 2; }
servers=()
while [ $# -gt 0 ]; do
  case $1 in
  --fail-timeout) fail_timeout=${2:?}; shift 2 ;;
  --ready-timeout) ready_timeout=${2:?}; shift 2 ;;
  -h|--help) usage ;;
  *=*) servers+=("$1"); shift ;;
  *) usage ;;
  esac
done
[ ${#servers[@]} -gt 0 ] || usage
for s in "${servers[@]}"; do
  unit=${s%%=*} addr=${s#*=}
  echo "rolling-restart: restarting $unit ($addr)"
  # shellcheck disable=SC2086 # RESTART_CMD is a command line
  $restart "$unit"
  deadline=$((SECONDS + ready_timeout))
  until curl -fs -o /dev/null --max-time 2 "http://$addr/readyz"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "rolling-restart: $unit not ready after ${ready_timeout}s: stopping here" \
           "(see journalctl -u $unit)" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "rolling-restart: $unit ready; waiting ${fail_timeout}s + 1s for nginx to take it back"
  sleep $((fail_timeout + 1))
done
echo "rolling-restart: done"
