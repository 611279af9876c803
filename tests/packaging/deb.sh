#!/bin/bash
# deb.sh BUILD_DIR: the .deb that `cpack -G DEB` makes from BUILD_DIR has the files, control
# fields, conffiles and maintainer scripts of the package, and lintian finds no error and no
# warning but the ones listed below (and said why) in ALLOWED.
set -euo pipefail
BUILD=$(cd "${1:?usage: deb.sh BUILD_DIR}" && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null ||
        { echo "deb.sh: no $tool (apt-get install dpkg-dev); skipping"; exit 77; }
done
# initial-upload-closes-no-bugs: the first changelog entry of a package uploaded to Debian
# closes its ITP bug; this package is not uploaded to Debian, so there is no bug to close.
ALLOWED="initial-upload-closes-no-bugs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "deb.sh: FAIL: $*"; fails=$((fails + 1)); }

cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$tmp" >"$tmp/cpack.log" 2>&1 ||
    { echo "deb.sh: FAIL: cpack:"; cat "$tmp/cpack.log"; exit 1; }
deb=$(echo "$tmp"/vmatlasd_*.deb)
[ -f "$deb" ] || { echo "deb.sh: FAIL: no .deb:"; cat "$tmp/cpack.log"; exit 1; }
echo "deb.sh: $(basename "$deb")"
dpkg-deb -I "$deb"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = vmatlasd ] || fail "Package: $(field Package)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
version=$("$BUILD/vmatlasd" --version | awk '{ print $2 }')
[[ "$(field Version)" =~ ^$version-[0-9]+$ ]] || fail "Version $(field Version) is not $version-N"
changelog=$(dirname "$0")/../../packaging/debian/changelog
changelog_version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$changelog")
[ "$(field Version)" = "$changelog_version" ] ||
    fail "Version $(field Version) is not the top entry of debian/changelog ($changelog_version)"
for lib in libc6 libmicrohttpd12 libjansson4 libsystemd0 libinih1 zlib1g; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$(field Depends)" ||
        fail "Depends lacks $lib: $(field Depends)"
done

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/sbin/vmatlasd /lib/systemd/system/vmatlasd.service \
         /lib/systemd/system/vmatlasd.socket /etc/vmatlas/vmatlasd.conf /usr/share/man/man8/vmatlasd.8.gz \
         /usr/share/doc/vmatlasd/copyright /usr/share/doc/vmatlasd/changelog.Debian.gz; do
    grep -qx -- "$f" "$tmp/files" || fail "$f is not in the package"
done
mkdir "$tmp/root" "$tmp/control"
dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/control"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$tmp/root/lib/systemd/system/vmatlasd.service")
[ -x "$tmp/root$exec_start" ] || fail "ExecStart=$exec_start is not the packaged binary"
grep -qx /etc/vmatlas/vmatlasd.conf "$tmp/control/conffiles" || fail "the config is not a conffile"
for s in postinst prerm postrm; do
    [ -x "$tmp/control/$s" ] || { fail "no executable $s"; continue; }
    sh -n "$tmp/control/$s" || fail "$s: syntax error"
done
grep -q 'deb-systemd-invoke $_dh_action vmatlasd.service vmatlasd.socket' "$tmp/control/postinst" ||
    fail "postinst does not start the units"
grep -q 'rm -rf /var/lib/vmatlasd' "$tmp/control/postrm" ||
    fail "postrm purge keeps /var/lib/vmatlasd"

if ! command -v lintian >/dev/null; then
    [ "$fails" -eq 0 ] || exit 1
    echo "deb.sh: no lintian (apt-get install lintian); skipping the lintian part"
    exit 77
fi
# As root lintian warns that it should not run as root; the tags are the same.
lintian --info --display-info --pedantic "$deb" 2>/dev/null | grep -v '^N:' >"$tmp/lintian" || true
echo "lintian:"; sed 's/^/  /' "$tmp/lintian"
while read -r level _ tag _; do
    case $level in
    E:) fail "lintian error: $tag" ;;
    W:) grep -qw -- "$tag" <<<"$ALLOWED" || fail "lintian warning: $tag" ;;
    esac
done <"$tmp/lintian"

[ "$fails" -eq 0 ] || exit 1
echo "deb.sh: ok"
