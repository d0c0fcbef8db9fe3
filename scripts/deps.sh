#!/usr/bin/env bash
# Installs the Debian 12 packages gradcover needs to build, test and run.
# Runs as root, or through sudo when not root. Quiet when all are present.
set -euo pipefail
pkgs=(cmake pkg-config gcc make libc6-dev libevent-dev libhiredis-dev libjansson-dev
      libssl-dev check redis-server redis-tools curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
