#!/bin/bash
# units.sh VMATLASD: packaging/vmatlasd.service and .socket pass `systemd-analyze verify`, and
# the service's exposure (`systemd-analyze security --offline=yes`) is at most 2.5.
set -euo pipefail
VMATLASD=${1:?usage: units.sh VMATLASD}
src=$(cd "$(dirname "$0")/../../packaging" && pwd)
command -v systemd-analyze >/dev/null || { echo "units.sh: no systemd-analyze; skipping"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify checks that ExecStart exists: point it at the built binary.
sed "s|/usr/sbin/vmatlasd|$VMATLASD|" "$src/vmatlasd.service" >"$tmp/vmatlasd.service"
cp "$src/vmatlasd.socket" "$tmp/"
# verify also runs `man` on Documentation=man:vmatlasd(8): let it find the page in the tree.
mkdir -p "$tmp/man/man8"
cp "$src/vmatlasd.8" "$tmp/man/man8/"
out=$(cd "$tmp" && MANPATH="$tmp/man" systemd-analyze verify vmatlasd.socket vmatlasd.service 2>&1) ||
    true
if [ -n "$out" ]; then
    echo "units.sh: FAIL: systemd-analyze verify:"; echo "$out"; exit 1
fi
report=$(cd "$tmp" && systemd-analyze security --offline=yes vmatlasd.service 2>&1) || true
level=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for vmatlasd.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || { echo "units.sh: FAIL: no exposure level:"; echo "$report" | tail -5; exit 1; }
echo "exposure level: $level"
awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }' || { echo "units.sh: FAIL: exposure $level > 2.5"; exit 1; }
echo "units.sh: ok"
