#!/bin/bash
# state.sh VMATLASD FIXTURE: --state-dir keeps the group peaks and the exited ring across a
# SIGTERM and a restart; processes that exit while the daemon is down are recorded by the
# first scan after it; --reset-peaks (at start, and once per new line on SIGHUP) forgets a
# group's peak; a truncated or garbage state file is logged and ignored; a full disk keeps the
# older state whole. Runs the real daemon on a copy of a fixture tree.
set -euo pipefail
VMATLASD=${1:?usage: state.sh VMATLASD FIXTURE}
FIXTURE=${2:?usage: state.sh VMATLASD FIXTURE}
for t in curl jq; do
    command -v $t >/dev/null || { echo "state.sh: $t is missing; skipping"; exit 77; }
done
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "state.sh: FAIL: $*" >&2; [ -f "$tmp/d.log" ] && tail -20 "$tmp/d.log" >&2; exit 1; }

cp -a "$FIXTURE/proc" "$FIXTURE/sys" "$tmp/"
mkdir "$tmp/state"
STATE=$tmp/state/vmatlasd.state

start() { # ARGS...: start a daemon on the copy, set pid and URL, wait for two scans
    "$VMATLASD" --listen 127.0.0.1:0 --interval 0.2 --procfs-root "$tmp/proc" \
        --sysfs-root "$tmp/sys" "$@" 2>"$tmp/d.log" &
    pid=$!
    for _ in $(seq 300); do
        local port
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$tmp/d.log" | cut -d: -f2 || true)
        if [ -n "$port" ]; then
            URL=http://127.0.0.1:$port
            seq=$(curl -sf "$URL/api/v1/node" | jq '.snapshot.seq' 2>/dev/null || echo 0)
            [ "$seq" -ge "${MIN_SEQ:-2}" ] 2>/dev/null && return 0
        fi
        sleep 0.05
    done
    fail "daemon not ready"
}
stop() { # SIGTERM: exit 0 within 1 s
    local t0=$SECONDS rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    pid=
    [ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
    [ $((SECONDS - t0)) -le 1 ] || fail "SIGTERM took $((SECONDS - t0)) s"
}
unit_group() { curl -sf "$URL/api/v1/hiwater?group_by=unit" | jq -c '.groups[] | select(.key == "hostile.service")'; }
wait_exited() { # PID: until /api/v1/exited lists it
    for _ in $(seq 100); do
        curl -sf "$URL/api/v1/exited" | jq -e --argjson p "$1" '.exited[] | select(.pid == $p)' \
            >/dev/null && return 0
        sleep 0.05
    done
    fail "pid $1 never appeared in /api/v1/exited"
}

# 1. First run: a peak, an exit, then SIGTERM writes the state.
start --state-dir "$tmp/state"
peak=$(unit_group | jq '.observed_rss_peak')
peak_at=$(unit_group | jq -r '.observed_rss_peak_at')
[ "$peak" -gt 0 ] || fail "no observed peak for hostile.service"
rm -rf "$tmp/proc/105"
wait_exited 105
stop
[ -s "$STATE" ] || fail "no state file after SIGTERM"
[ ! -e "$STATE.tmp" ] || fail "a temporary state file was left behind"

# 2. Down: pid 107 exits. Restart: the peak and the ring are back, 107 is recorded by the
#    first scan, the unit's exit count is 2.
rm -rf "$tmp/proc/107"
start --state-dir "$tmp/state"
g=$(unit_group)
[ "$(jq '.observed_rss_peak' <<<"$g")" = "$peak" ] || fail "peak lost across the restart: $g"
[ "$(jq -r '.observed_rss_peak_at' <<<"$g")" = "$peak_at" ] || fail "peak time changed: $g"
[ "$(jq '.rss' <<<"$g")" -lt "$peak" ] || fail "rss now should be below the kept peak: $g"
[ "$(jq '.exited' <<<"$g")" = 2 ] || fail "exit count after restart: $g"
ex=$(curl -sf "$URL/api/v1/exited")
[ "$(jq -c '[.exited[].pid]' <<<"$ex")" = "[107,105]" ] || fail "exited ring: $ex"
[ "$(jq '.exited[1].vm_hwm' <<<"$ex")" = $((3000 * 1024)) ] || fail "vm_hwm of 105: $ex"
grep -q 'state from' "$tmp/d.log" || fail "no log line about the loaded state"

# 3. A reload whose config newly lists reset-peaks for the unit resets its peak (exit count
#    kept); so does --reset-peaks at start.
: >"$tmp/d.conf"
stop
start --state-dir "$tmp/state" --config "$tmp/d.conf"
g=$(unit_group)
[ "$(jq '.observed_rss_peak' <<<"$g")" = "$peak" ] || fail "peak lost: $g"
printf '[vmatlasd]\nreset-peaks = unit:hostile.service\n' >"$tmp/d.conf"
kill -HUP "$pid"
for _ in $(seq 100); do
    g=$(unit_group)
    [ "$(jq '.observed_rss_peak' <<<"$g")" = "$(jq '.rss' <<<"$g")" ] && break
    sleep 0.05
done
[ "$(jq '.observed_rss_peak' <<<"$g")" = "$(jq '.rss' <<<"$g")" ] ||
    fail "reset-peaks on reload did not reset the unit's peak: $g"
[ "$(jq '.exited' <<<"$g")" = 2 ] || fail "a reset must keep the exit count: $g"
grep -q 'reset-peaks unit:hostile.service' "$tmp/d.log" || fail "the reset was not logged"
stop
start --state-dir "$tmp/state" --reset-peaks comm:longline
g=$(curl -sf "$URL/api/v1/hiwater?group_by=comm" | jq -c '.groups[] | select(.key == "longline")')
[ "$(jq '.observed_rss_peak' <<<"$g")" = 0 ] || fail "--reset-peaks comm:longline: $g"
[ "$(jq '.exited' <<<"$g")" = 1 ] || fail "--reset-peaks must keep the exit count: $g"
stop

# 4. A truncated state, then garbage: logged, ignored, the daemon serves afresh.
start --state-dir "$tmp/state"
stop
size=$(stat -c %s "$STATE")
head -c $((size / 2)) "$STATE" >"$STATE.cut" && mv "$STATE.cut" "$STATE"
start --state-dir "$tmp/state"
grep -q 'ignored (corrupt or truncated)' "$tmp/d.log" || fail "truncated state not reported"
[ "$(curl -sf "$URL/api/v1/exited" | jq '.exited | length')" = 0 ] || fail "ring after bad state"
stop
head -c 100000 /dev/urandom >"$STATE"
start --state-dir "$tmp/state"
grep -q 'ignored' "$tmp/d.log" || fail "garbage state not reported"
stop

# 5. Disk full (a 64 KiB tmpfs, as root): the save fails, the older state stays byte for byte.
if [ "$(id -u)" -eq 0 ] && mkdir "$tmp/full" && mount -t tmpfs -o size=64k tmpfs "$tmp/full" 2>/dev/null; then
    start --state-dir "$tmp/full"
    stop
    [ -s "$tmp/full/vmatlasd.state" ] || fail "no state on the small tmpfs"
    sum=$(sha256sum <"$tmp/full/vmatlasd.state")
    dd if=/dev/zero of="$tmp/full/filler" bs=1k count=1024 2>/dev/null || true
    start --state-dir "$tmp/full"
    stop
    grep -q 'cannot save the state' "$tmp/d.log" || fail "a failed save was not logged"
    [ "$(sha256sum <"$tmp/full/vmatlasd.state")" = "$sum" ] || fail "the older state changed"
    [ ! -e "$tmp/full/vmatlasd.state.tmp" ] || fail "temporary file left on a full disk"
    umount "$tmp/full"
else
    echo "state.sh: disk-full check skipped (needs root to mount a tmpfs)"
fi
echo "state.sh: ok"
