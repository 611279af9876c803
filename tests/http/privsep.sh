#!/bin/bash
# privsep.sh VMATLASD: started as root, vmatlasd is two processes: the main one serves HTTP as
# an unprivileged user with no capabilities, no_new_privs and a seccomp filter, holding no
# /proc directory; the collector child keeps root, is not dumpable and has no TCP socket. Data
# and refreshes cross between them; SIGHUP reaches the collector; when the collector dies the
# server exits non-zero (systemd restarts the service); --privsep=false is one process.
set -euo pipefail
VMATLASD=${1:?usage: privsep.sh VMATLASD}
[ "$(id -u)" -eq 0 ] || { echo "privsep.sh: needs root; skipping"; exit 77; }
command -v curl >/dev/null || { echo "privsep.sh: curl is missing; skipping"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "privsep.sh: FAIL: $*" >&2; cat "$tmp/d.log" >&2 || true; exit 1; }
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

start() {
    # shellcheck disable=SC2086 # VMATLASD may be a setpriv command line
    $VMATLASD --listen 127.0.0.1:0 --interval 0.5 "$@" 2>"$tmp/d.log" &
    pid=$!
    for _ in $(seq 200); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$tmp/d.log" | cut -d: -f2 || true)
        [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
        sleep 0.05
    done
    fail "daemon not ready"
}

start
child=$(cat "/proc/$pid/task/$pid/children" | tr -d ' ')
[ -n "$child" ] && [ -d "/proc/$child" ] || fail "no collector child process"
# The server: nobody, no capabilities, no_new_privs, a seccomp filter.
[ "$(field "$pid" Uid | cut -f1)" = 65534 ] || fail "server uid $(field "$pid" Uid)"
[ "$(field "$pid" CapEff)" = 0000000000000000 ] || fail "server CapEff $(field "$pid" CapEff)"
[ "$(field "$pid" CapPrm)" = 0000000000000000 ] || fail "server CapPrm $(field "$pid" CapPrm)"
[ "$(field "$pid" NoNewPrivs)" = 1 ] || fail "server without no_new_privs"
[ "$(field "$pid" Seccomp)" = 2 ] || fail "server without a seccomp filter"
if ls -l "/proc/$pid/fd" | grep -q -- '-> /proc'; then fail "the server holds a /proc descriptor"; fi
# The collector: root, not dumpable (ptrace-proof even to root's other processes of its uid).
[ "$(field "$child" Uid)" = 0 ] || fail "collector uid $(field "$child" Uid)"
[ "$(stat -c %U "/proc/$child")" = root ] || fail "collector /proc entry not root-owned"
inodes=$(ls -l "/proc/$child/fd" | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p')
for ino in $inodes; do
    if awk -v i="$ino" '$10 == i' /proc/net/tcp /proc/net/tcp6 | grep -q .; then
        fail "the collector holds a TCP socket (inode $ino)"
    fi
done
# Data crosses: a live process is listed, and a refresh walks it.
sleep 300 & target=$!
for _ in $(seq 40); do
    curl -sf "http://127.0.0.1:$port/api/v1/processes/$target" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/api/v1/processes/$target" >/dev/null || fail "target never listed"
seq0=$(curl -sf "http://127.0.0.1:$port/api/v1/node" | grep -o '"seq":[0-9]*' | head -1 | cut -d: -f2)
code=$(curl -s -o "$tmp/r.json" -w '%{http_code}' \
    "http://127.0.0.1:$port/api/v1/processes/$target/residency?refresh=1")
[ "$code" = 200 ] || [ "$code" = 429 ] || fail "refresh through the bridge: $code"
kill "$target"
# SIGHUP to the main process reloads the collector.
kill -HUP "$pid"
for _ in $(seq 40); do grep -q 'reloaded' "$tmp/d.log" && break; sleep 0.05; done
grep -q 'reloaded' "$tmp/d.log" || fail "SIGHUP did not reach the collector"
# SIGTERM: both exit, status 0.
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
for _ in $(seq 40); do [ -d "/proc/$child" ] || break; sleep 0.05; done
[ ! -d "/proc/$child" ] || fail "the collector outlived the server"

# The collector dies: the server stops with an error (systemd restarts the service).
start
child=$(cat "/proc/$pid/task/$pid/children" | tr -d ' ')
kill -9 "$child"
rc=0; wait "$pid" || rc=$?
pid=
[ "$rc" != 0 ] || fail "the server exited 0 after its collector died"
grep -q 'collector process ended' "$tmp/d.log" || fail "the collector's death was not logged"

# Not root but with ambient capabilities (systemd's DynamicUser= with AmbientCapabilities=):
# the server keeps the uid and gives up every capability; the collector keeps them.
if command -v setpriv >/dev/null; then
    VMATLASD_REAL=$VMATLASD
    VMATLASD="setpriv --reuid=61234 --regid=61234 --clear-groups
        --inh-caps=+sys_ptrace,+dac_read_search --ambient-caps=+sys_ptrace,+dac_read_search
        $VMATLASD_REAL"
    start
    VMATLASD=$VMATLASD_REAL
    child=$(cat "/proc/$pid/task/$pid/children" | tr -d ' ')
    [ "$(field "$pid" Uid)" = 61234 ] || fail "ambient: server uid $(field "$pid" Uid)"
    [ "$(field "$pid" CapEff)" = 0000000000000000 ] || fail "ambient: server kept capabilities"
    [ "$(field "$pid" CapAmb)" = 0000000000000000 ] || fail "ambient: server kept ambient ones"
    [ "$(field "$pid" Seccomp)" = 2 ] || fail "ambient: server without a seccomp filter"
    [ "$(field "$child" CapEff)" != 0000000000000000 ] || fail "ambient: collector lost its capabilities"
    curl -sf "http://127.0.0.1:$port/api/v1/processes/1" >/dev/null || fail "ambient: pid 1 not served"
    kill -TERM "$pid"; wait "$pid" || true; pid=
else
    echo "privsep.sh: setpriv missing: the ambient-capabilities case is skipped"
fi

# --privsep=false: one process, as root.
start --privsep=false
[ ! -s "/proc/$pid/task/$pid/children" ] || fail "--privsep=false still forked"
[ "$(field "$pid" Uid)" = 0 ] || fail "--privsep=false changed user"
kill -TERM "$pid"; wait "$pid" || true; pid=
echo "privsep.sh: ok"
