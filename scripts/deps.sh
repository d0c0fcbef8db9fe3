#!/usr/bin/env bash
# Installs the Debian 12 packages gradcover needs (as root, or through sudo).
#   scripts/deps.sh          to build and run gradcoverd and the gradcover tool
#   scripts/deps.sh --test   also what the test suite needs: Check (unit
#                            tests), Prometheus,
#                            Alertmanager, Chromium, a CJK font, the openssl
#                            CLI (throwaway certificates for the TLS tests),
#                            the fuzzing (clang 14, libFuzzer) and valgrind
#                            tools, slowhttptest (the hostile-client tests),
#                            nginx (three servers behind it, test_rolling),
#                            redis-sentinel (the failover tests),
#                            and what tests/package runs (cpack's
#                            dpkg-shlibdeps, objdump, useradd,
#                            deb-systemd-helper, fakeroot, systemd-analyze),
#                            python3 with openpyxl (test_export reads the
#                            CSV and XLSX exports with them)
#   scripts/deps.sh --list [--test]   only print the package names
# Quiet when everything is present.
set -euo pipefail
pkgs=(cmake pkg-config gcc make libc6-dev libevent-dev libhiredis-dev libjansson-dev
      libssl-dev libxlsxwriter-dev redis-server redis-tools curl)
# dpkg-dev: dpkg-shlibdeps for `cpack -G DEB` (tests/package builds the package).
test_pkgs=(check prometheus prometheus-alertmanager chromium fonts-wqy-microhei openssl
           clang-14 libclang-rt-14-dev valgrind dpkg-dev binutils passwd init-system-helpers
           redis-sentinel
           fakeroot systemd slowhttptest nginx python3 python3-openpyxl)
list=0
for arg in "$@"; do
  case $arg in
  --test) pkgs+=("${test_pkgs[@]}") ;;
  --list) list=1 ;;
  *) echo "usage: $0 [--test] [--list]" >&2; exit 2 ;;
  esac
done
if [ $list -eq 1 ]; then
  echo "${pkgs[*]}"
  exit 0
fi
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
