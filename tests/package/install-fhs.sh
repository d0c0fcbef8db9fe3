#!/usr/bin/env bash
# A plain `cmake --install` (default prefix /usr/local) into a DESTDIR puts
# every file in its FHS place (cmake/install.cmake), nothing outside the
# prefix and no test binary; the unit names the installed binary and
# configuration; a second install keeps an edited configuration.
#   install-fhs.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail

src=$1 build=$2 work=$3
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v cmake >/dev/null || fail "cmake not found"

rm -rf "$work"
dest=$work/dest
DESTDIR=$dest cmake --install "$build" --prefix /usr/local >"$work.log" 2>&1 ||
  { cat "$work.log" >&2; fail "cmake --install"; }

p=$dest/usr/local
for f in sbin/gradcoverd bin/gradcover etc/gradcover/gradcover.json \
  lib/systemd/system/gradcoverd.service share/doc/gradcover/README.md \
  share/doc/gradcover/examples/{gradcover.example.json,redis.conf,redis-users.acl,nginx.conf,gradcover-proxy.conf,prometheus.yml,gradcover.rules.yml,alertmanager.yml}; do
  [ -f "$p/$f" ] || fail "/usr/local/$f not installed"
  echo "/usr/local/$f"
done
for f in "$src"/docs/*.md; do
  [ -f "$p/share/doc/gradcover/docs/$(basename "$f")" ] ||
    fail "docs/$(basename "$f") not installed in /usr/local/share/doc/gradcover/docs"
done
outside=$(cd "$dest" && find . -mindepth 1 -not -path './usr' -not -path './usr/local' -not -path './usr/local/*')
[ -z "$outside" ] || fail "installed outside the prefix: $outside"
execs=$(cd "$p" && find . -type f -perm /111 | sort | tr '\n' ' ')
[ "$execs" = "./bin/gradcover ./sbin/gradcoverd " ] ||
  fail "executables other than the two binaries (test binaries?): $execs"
[ "$(stat -c %a "$p/etc/gradcover/gradcover.json")" = 640 ] ||
  fail "the configuration is installed $(stat -c %a "$p/etc/gradcover/gradcover.json"), want 640"

unit=$p/lib/systemd/system/gradcoverd.service
grep -qx 'ExecStart=/usr/local/sbin/gradcoverd --config /usr/local/etc/gradcover/gradcover.json' "$unit" ||
  fail "ExecStart: $(grep ExecStart= "$unit")"
grep -qx 'ExecStartPre=/usr/local/sbin/gradcoverd --config /usr/local/etc/gradcover/gradcover.json --check-config' "$unit" ||
  fail "ExecStartPre: $(grep ExecStartPre= "$unit")"
grep -qx 'Documentation=file:///usr/local/share/doc/gradcover/README.md' "$unit" ||
  fail "Documentation: $(grep Documentation= "$unit")"
! grep -n '@[A-Z_]*@' "$unit" || fail "placeholders left in the unit"

"$p/sbin/gradcoverd" --config "$p/etc/gradcover/gradcover.json" --check-config ||
  fail "the installed gradcoverd rejects the installed configuration"

echo '{"edited": true}' >"$p/etc/gradcover/gradcover.json"
DESTDIR=$dest cmake --install "$build" --prefix /usr/local >"$work.log" 2>&1 ||
  { cat "$work.log" >&2; fail "second cmake --install"; }
grep -q edited "$p/etc/gradcover/gradcover.json" || fail "a second install overwrote the configuration"
echo "install ok"
