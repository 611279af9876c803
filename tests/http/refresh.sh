#!/bin/bash
# refresh.sh VMATLASD: /api/v1/processes/{pid}/residency?refresh=1 walks that process now and
# answers from a newer snapshot; once the page-walk budget is spent it answers 429 with
# Retry-After and a JSON error; bad values are 400 and a missing pid 404. Live /proc, as root.
set -euo pipefail
VMATLASD=${1:?usage: refresh.sh VMATLASD}
[ "$(id -u)" -eq 0 ] || { echo "refresh.sh: needs root (page walks of other processes); skipping"; exit 77; }
command -v curl >/dev/null || { echo "refresh.sh: curl is missing; skipping"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "refresh.sh: FAIL: $*" >&2; exit 1; }

start() { # NAME ARGS...: start a daemon, set PORT
    local name=$1; shift
    "$VMATLASD" --listen 127.0.0.1:0 "$@" 2>"$tmp/$name.log" &
    pids+=($!)
    for _ in $(seq 300); do
        PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$tmp/$name.log" | cut -d: -f2 || true)
        [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0
        sleep 0.1
    done
    fail "$name: daemon not ready: $(cat "$tmp/$name.log")"
}
seq_of() { grep -o '"seq":[0-9]*' "$1" | head -1 | cut -d: -f2; }

sleep 300 & target=$!
pids+=($target)

# Default budget (5 % of 10 s): a refresh answers 200 from a newer snapshot that walked it.
start ok --interval 10
base="http://127.0.0.1:$PORT/api/v1/processes/$target/residency"
curl -s -o "$tmp/before.json" "$base"
code=$(curl -s -o "$tmp/after.json" -w '%{http_code}' "$base?refresh=1")
[ "$code" = 200 ] || fail "refresh: status $code: $(cat "$tmp/after.json")"
[ "$(seq_of "$tmp/after.json")" -gt "$(seq_of "$tmp/before.json")" ] ||
    fail "refresh did not answer from a newer snapshot"
grep -q '"source":"pagemap_scan"\|"source":"pagemap"' "$tmp/after.json" ||
    fail "refresh: no page-walk residency: $(head -c 300 "$tmp/after.json")"
code=$(curl -s -o "$tmp/bad.json" -w '%{http_code}' "$base?refresh=2")
[ "$code" = 400 ] && grep -q '"status":400' "$tmp/bad.json" || fail "refresh=2: status $code"
code=$(curl -s -o "$tmp/gone.json" -w '%{http_code}' \
    "http://127.0.0.1:$PORT/api/v1/processes/2147483647/residency?refresh=1")
[ "$code" = 404 ] || fail "refresh of a missing pid: status $code"

# A budget of 0.01 % of 1 s (100 us) is spent at once: 429 with Retry-After.
start spent --interval 1 --deep-walk-budget 0.01
base="http://127.0.0.1:$PORT/api/v1/processes/$target/residency"
got429=
for _ in 1 2 3 4 5; do
    code=$(curl -s -D "$tmp/h.txt" -o "$tmp/r.json" -w '%{http_code}' "$base?refresh=1")
    if [ "$code" = 429 ]; then
        grep -qi '^Retry-After: [0-9]' "$tmp/h.txt" || fail "429 without Retry-After"
        grep -q '"status":429' "$tmp/r.json" || fail "429 without a JSON error body"
        got429=1
        break
    fi
    [ "$code" = 200 ] || fail "burst: status $code"
done
[ -n "$got429" ] || fail "a burst of refreshes on a spent budget never got 429"

# At the default budget (5 % of 10 s) too: every refresh's CPU is owed until regular scans pay
# it back, so a burst runs into 429 (each refresh re-reads the process table).
start defaults
base="http://127.0.0.1:$PORT/api/v1/processes/$target/residency"
ok=0; got429=
for _ in $(seq 60); do
    code=$(curl -s -D "$tmp/h.txt" -o /dev/null -w '%{http_code}' "$base?refresh=1")
    if [ "$code" = 429 ]; then
        grep -qi '^Retry-After: [0-9]' "$tmp/h.txt" || fail "429 without Retry-After"
        got429=1
        break
    fi
    [ "$code" = 200 ] || fail "default burst: status $code"
    ok=$((ok + 1))
done
[ -n "$got429" ] || fail "60 refreshes in a row at the default budget never got 429"
echo "refresh.sh: default budget: $ok refreshes answered, then 429"
echo "refresh.sh: ok"
