#!/usr/bin/env bash
# The Debian package, from the build tree (cmake/package.cmake):
#   deb.sh build    BUILD_DIR WORK_DIR VERSION  cpack -G DEB into WORK_DIR/cpack
#   deb.sh contents SOURCE_DIR WORK_DIR VERSION control fields, Depends against
#                                              the binaries' DT_NEEDED, conffiles,
#                                              the file list
#   deb.sh install  SOURCE_DIR WORK_DIR VERSION dpkg --root into a scratch root
#                                              with chrootless maintainer scripts:
#                                              postinst effects, the unit as
#                                              systemd-analyze sees it, the packaged
#                                              binary on the packaged config,
#                                              reinstall, remove, purge; the
#                                              host's accounts untouched
# A missing tool is a failure, never a skip. Not root: the install step runs
# under fakeroot (the ownership it checks is fakeroot's).
set -euo pipefail

mode=$1 dir=$2 work=$3 version=$4
deb=$work/cpack/gradcover_${version}_amd64.deb

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 ||
      fail "$t not found: install the test packages (scripts/deps.sh --test)"
  done
}

case $mode in
build)
  need cpack dpkg-deb dpkg-shlibdeps
  rm -rf "$work"
  mkdir -p "$work"
  cpack -G DEB --config "$dir/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
  [ -f "$deb" ] || fail "no $(basename "$deb") in $work/cpack: $(ls "$work/cpack")"
  echo "built $deb"
  ;;

contents)
  need dpkg-deb dpkg objdump ldconfig
  src=$dir
  [ -f "$deb" ] || fail "$deb missing (package.deb_build failed?)"
  field() { dpkg-deb -f "$deb" "$1"; }
  [ "$(field Package)" = gradcover ] || fail "Package: $(field Package)"
  [ "$(field Version)" = "$version" ] || fail "Version: $(field Version), want $version"
  [ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
  [[ ",$(field Recommends)," =~ [,\ ]redis-server[\ ,\(] ]] ||
    fail "Recommends lacks redis-server: $(field Recommends)"
  # Package names of Depends, without versions and alternatives' bars.
  depends=" $(field Depends | sed -e 's/([^)]*)//g' -e 's/[,|]/ /g' | tr -s ' ') "
  [[ $depends == *" passwd "* || $depends == *" adduser "* ]] ||
    fail "Depends has neither passwd nor adduser (the postinst creates a user): $depends"

  ctl=$work/control data=$work/data
  rm -rf "$ctl" "$data"
  dpkg-deb -e "$deb" "$ctl"
  dpkg-deb -x "$deb" "$data"
  grep -qx /etc/gradcover/gradcover.json "$ctl/conffiles" ||
    fail "conffiles does not list /etc/gradcover/gradcover.json: $(cat "$ctl/conffiles")"
  for s in postinst prerm postrm; do
    [ -x "$ctl/$s" ] || fail "no executable $s in the control archive"
  done

  # Every library either binary is linked with comes from a package in Depends.
  # (Read whole, as everything piped here: an early exit would be SIGPIPE
  # for the writer, a failure under pipefail.)
  cache=$(ldconfig -p)
  for bin in usr/sbin/gradcoverd usr/bin/gradcover; do
    [ -x "$data/$bin" ] || fail "/$bin is not in the package"
    needed=$(objdump -p "$data/$bin" | awk '$1 == "NEEDED" { print $2 }')
    [ -n "$needed" ] || fail "objdump found no NEEDED entry in /$bin"
    for so in $needed; do
      path=$(awk -v so="$so" '$1 == so && /x86-64/ && !p { print $NF; p = 1 }' <<<"$cache")
      [ -n "$path" ] || fail "$so (NEEDED by /$bin) is not known to ldconfig"
      # Merged /usr: dpkg knows a library as /lib/... or /usr/lib/...
      p=${path#/usr}
      owner=$( (dpkg -S "$p" 2>/dev/null || dpkg -S "/usr$p" 2>/dev/null) | sed -n '1s/:.*//p')
      [ -n "$owner" ] || fail "no package owns $path ($so)"
      [[ $depends == *" $owner "* ]] || fail "/$bin needs $so from $owner, not in Depends:$depends"
      echo "/$bin: $so <- $owner"
    done
  done

  # The file list: what is promised, nothing of the tests.
  for f in usr/sbin/gradcoverd usr/bin/gradcover etc/gradcover/gradcover.json \
    lib/systemd/system/gradcoverd.service usr/share/doc/gradcover/README.md \
    usr/share/doc/gradcover/examples/{gradcover.example.json,redis.conf,redis-users.acl,nginx.conf,gradcover-proxy.conf,prometheus.yml,gradcover.rules.yml,alertmanager.yml}; do
    [ -f "$data/$f" ] || fail "/$f is not in the package"
  done
  for f in "$src"/docs/*.md; do
    [ -f "$data/usr/share/doc/gradcover/docs/$(basename "$f")" ] ||
      fail "docs/$(basename "$f") is not in /usr/share/doc/gradcover/docs"
  done
  execs=$(cd "$data" && find . -type f -perm /111 | sort | tr '\n' ' ')
  [ "$execs" = "./usr/bin/gradcover ./usr/sbin/gradcoverd " ] ||
    fail "executables other than the two binaries (test binaries?): $execs"
  [ ! -e "$data/usr/local" ] || fail "the package installs into /usr/local"
  cmp -s "$data/etc/gradcover/gradcover.json" "$src/deploy/gradcover.example.json" ||
    fail "/etc/gradcover/gradcover.json differs from deploy/gradcover.example.json"
  mode=$(dpkg-deb -c "$deb" | awk '$NF == "./etc/gradcover/gradcover.json" { print $1 }')
  [ "$mode" = -rw-r----- ] || fail "the configuration is shipped $mode, want -rw-r-----"
  unit=$data/lib/systemd/system/gradcoverd.service
  grep -qx 'ExecStart=/usr/sbin/gradcoverd --config /etc/gradcover/gradcover.json' "$unit" ||
    fail "ExecStart: $(grep ExecStart= "$unit")"
  grep -qx 'ExecStartPre=/usr/sbin/gradcoverd --config /etc/gradcover/gradcover.json --check-config' "$unit" ||
    fail "ExecStartPre: $(grep ExecStartPre= "$unit")"
  ! grep -n '@[A-Z_]*@' "$unit" || fail "placeholders left in the unit"
  echo "contents ok"
  ;;

install)
  need dpkg dpkg-query useradd groupadd deb-systemd-helper getent systemd-analyze
  if [ "$(id -u)" -ne 0 ] && [ -z "${FAKEROOTKEY:-}" ]; then
    need fakeroot
    exec fakeroot -- "$0" "$@"
  fi
  src=$dir
  [ -f "$deb" ] || fail "$deb missing (package.deb_build failed?)"
  root=$work/root
  rm -rf "$root"

  # The host's accounts and units, to compare afterwards (stat, since a
  # non-root run cannot read shadow).
  host_state() {
    stat -c '%n %i %s %Y %Z' /etc/passwd /etc/group /etc/shadow /etc/gshadow
    md5sum /etc/passwd /etc/group
    getent passwd gradcover || true
    getent group gradcover || true
    ls -ld /var/lib/gradcover /etc/gradcover \
      /etc/systemd/system/multi-user.target.wants/gradcoverd.service 2>&1 || true
  }
  before=$(host_state)

  # A minimal root: dpkg's database and the account files useradd edits.
  mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers} "$root/var/log" "$root/etc"
  : >"$root/var/lib/dpkg/status"
  echo 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  echo 'root:*:19000:0:99999:7:::' >"$root/etc/shadow"
  echo 'root:*::' >"$root/etc/gshadow"
  chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
  # --force-depends: the libraries are the host's, not in this root; --log:
  # dpkg would otherwise append to the host's /var/log/dpkg.log.
  dpkg_root() {
    dpkg --root="$root" --log="$root/var/log/dpkg.log" --force-script-chrootless \
      --force-depends "$@" >>"$work/dpkg.log" 2>&1 ||
      { cat "$work/dpkg.log" >&2; fail "dpkg $*"; }
  }
  status() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Status}' gradcover 2>/dev/null || true; }
  id_of() { grep "^$2:" "$root/etc/$1" | cut -d: -f3; }
  owner_mode() { stat -c '%u:%g %a' "$root$1"; }

  dpkg_root -i "$deb"
  [ "$(status)" = "install ok installed" ] || fail "status after install: $(status)"

  # postinst: user and group, in the root's files only.
  grep -q '^gradcover:x:[0-9]*:[0-9]*:[^:]*:/var/lib/gradcover:/usr/sbin/nologin$' "$root/etc/passwd" ||
    fail "no gradcover system user in the root's /etc/passwd: $(cat "$root/etc/passwd")"
  grep -q '^gradcover:' "$root/etc/group" || fail "no gradcover group in the root's /etc/group"
  grep -q '^gradcover:[!*]' "$root/etc/shadow" || fail "gradcover has a usable password"
  uid=$(id_of passwd gradcover) gid=$(id_of group gradcover)
  [ "$uid" -lt 1000 ] || fail "gradcover's uid $uid is not a system uid"
  [ "$(cut -d: -f4 <<<"$(grep '^gradcover:' "$root/etc/passwd")")" = "$gid" ] ||
    fail "gradcover's primary group is not gradcover"
  [ "$(owner_mode /etc/gradcover/gradcover.json)" = "0:$gid 640" ] ||
    fail "/etc/gradcover/gradcover.json is $(owner_mode /etc/gradcover/gradcover.json), want 0:$gid 640"
  [ "$(owner_mode /etc/gradcover)" = "0:$gid 750" ] ||
    fail "/etc/gradcover is $(owner_mode /etc/gradcover), want 0:$gid 750"
  [ "$(owner_mode /var/lib/gradcover)" = "$uid:$gid 700" ] ||
    fail "/var/lib/gradcover is $(owner_mode /var/lib/gradcover), want $uid:$gid 700"
  # Enabled (deb-systemd-helper, in the root), not started (nothing to start
  # without systemd here anyway).
  wants=$root/etc/systemd/system/multi-user.target.wants/gradcoverd.service
  [ "$(readlink "$wants")" = /lib/systemd/system/gradcoverd.service ] ||
    fail "gradcoverd.service is not enabled in the root"
  [ "$(host_state)" = "$before" ] || {
    diff <(echo "$before") <(host_state) >&2
    fail "the host's accounts or units changed"
  }

  # systemd accepts the installed unit without a word, and its commands are
  # the installed binary (checked at their place in the root).
  mkdir -p "$work/unit"
  sed "s|=/usr/sbin/gradcoverd |=$root/usr/sbin/gradcoverd |" \
    "$root/lib/systemd/system/gradcoverd.service" >"$work/unit/gradcoverd.service"
  verify=$(systemd-analyze verify "$work/unit/gradcoverd.service" 2>&1) ||
    fail "systemd-analyze verify: $verify"
  [ -z "$verify" ] || fail "systemd-analyze verify: $verify"

  # The packaged binary accepts the packaged configuration as shipped (run
  # outside fakeroot's LD_PRELOAD, which an ASan build refuses).
  run() { env -u LD_PRELOAD "$@"; }
  bin=$root/usr/sbin/gradcoverd conf=$root/etc/gradcover/gradcover.json
  run "$bin" --config "$conf" --check-config || fail "gradcoverd --check-config on the shipped config"
  # Both packaged programs say the package's version.
  for b in "$bin" "$root/usr/bin/gradcover"; do
    out=$(run "$b" --version) || fail "$b --version failed"
    [[ $out == "$(basename "$b") $version"* ]] || fail "$b --version says '$out', not $version"
  done

  # Reinstall (dpkg's upgrade path): an edited conffile stays, the postinst is
  # idempotent.
  sed -i 's/"127.0.0.1:8080"/"127.0.0.1:8081"/' "$conf"
  dpkg_root -i "$deb"
  grep -q '"127.0.0.1:8081"' "$conf" || fail "reinstall overwrote the edited configuration"
  [ "$(grep -c '^gradcover:' "$root/etc/passwd")" = 1 ] || fail "reinstall added a second gradcover user"
  [ "$(owner_mode /etc/gradcover/gradcover.json)" = "0:$gid 640" ] ||
    fail "after reinstall /etc/gradcover/gradcover.json is $(owner_mode /etc/gradcover/gradcover.json)"

  # remove: the programs go; configuration, state and the account stay.
  echo key >"$root/var/lib/gradcover/pii.key"
  dpkg_root -r gradcover
  [ "$(status)" = "deinstall ok config-files" ] || fail "status after remove: $(status)"
  for f in /usr/sbin/gradcoverd /usr/bin/gradcover /lib/systemd/system/gradcoverd.service; do
    [ ! -e "$root$f" ] || fail "$f left after remove"
  done
  [ -f "$conf" ] || fail "remove deleted the configuration"
  [ -f "$root/var/lib/gradcover/pii.key" ] || fail "remove deleted the state directory"

  # purge: configuration, state and enablement go; the account stays
  # (Debian keeps system users: files may still carry the uid).
  dpkg_root --purge gradcover
  [ -z "$(status)" ] || [ "$(status)" = "unknown ok not-installed" ] ||
    fail "status after purge: $(status)"
  for f in /etc/gradcover /var/lib/gradcover "${wants#"$root"}" \
    /var/lib/systemd/deb-systemd-helper-enabled/gradcoverd.service.dsh-also; do
    if [ -e "$root$f" ] || [ -L "$root$f" ]; then fail "$f left after purge"; fi
  done
  grep -q '^gradcover:' "$root/etc/passwd" || fail "purge deleted the gradcover user"
  [ "$(host_state)" = "$before" ] || {
    diff <(echo "$before") <(host_state) >&2
    fail "the host's accounts or units changed"
  }
  echo "install, reinstall, remove, purge ok"
  ;;

*)
  echo "usage: $0 build|contents|install DIR WORK_DIR VERSION" >&2
  exit 2
  ;;
esac
