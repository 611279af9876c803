#!/bin/bash
# malformed.sh VMATLASD FIXTURE CLIENT [CORPUS [KNOWN]]: every request of tests/http/corpus/
# (raw bytes a client should never send: bad methods, NULs, huge headers, bad percent-encodings,
# path tricks, invalid UTF-8, bad versions, Host and Content-Length abuse, smuggling shapes,
# folding, bare CR/LF, wrong parameter values, bad pids, long URLs, pipelined garbage, truncated
# requests) goes to a real vmatlasd on the hostile fixture tree over a raw socket.
#
# CLIENT is malformed_client (tests/http/malformed_client.c), which checks each answer against
# the corpus MANIFEST (a 4xx or no answer for malformed requests, never a 5xx, never a 200; 200
# for the valid controls) and /healthz after each. This script starts the daemon, runs the
# client, stops the daemon with SIGTERM (exit status 0 expected) and fails on any sanitizer
# report in the daemon's stderr: run with the ASan+UBSan build's vmatlasd, it is the sanitizer
# run. KNOWN (default tests/http/malformed-known.tsv) lists known failures, reported as KNOWN;
# STRICT=1 counts them as failures. Regenerate the corpus with tests/http/make-corpus.py.
#
# Loopback only; bounded (about 2 minutes, 3 under ASan); every process started is stopped.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VMATLASD=${1:?usage: malformed.sh VMATLASD FIXTURE CLIENT [CORPUS [KNOWN]]}
FIXTURE=${2:?usage: malformed.sh VMATLASD FIXTURE CLIENT [CORPUS [KNOWN]]}
CLIENT=${3:?usage: malformed.sh VMATLASD FIXTURE CLIENT [CORPUS [KNOWN]]}
CORPUS=${4:-$HERE/corpus}
KNOWN=${5:-$HERE/malformed-known.tsv}
[ -x "$VMATLASD" ] && [ -x "$CLIENT" ] && [ -d "$FIXTURE/proc" ] && [ -f "$CORPUS/MANIFEST" ] ||
    { echo "malformed.sh: missing daemon, client, fixture or corpus" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-malformed-XXXXXX") || exit 1
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "malformed.sh: FAIL: $*" >&2; echo "--- vmatlasd stderr ---" >&2; tail -n 40 "$tmp/d.log" >&2; exit 1; }

# GET PATH over bash's /dev/tcp; prints the status line's code.
status_of() {
    local line=""
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
    IFS= read -r -t 5 line <&3
    exec 3<&- 3>&-
    line=${line#HTTP/1.1 }
    echo "${line%% *}"
}

: >"$tmp/d.log"
"$VMATLASD" --listen 127.0.0.1:0 --interval 3600 --procfs-root "$FIXTURE/proc" \
    --sysfs-root "$FIXTURE/sys" 2>"$tmp/d.log" >/dev/null </dev/null &
pid=$!
PORT=
for _ in $(seq 600); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/d.log" | head -n 1)
    [ -n "$PORT" ] && [ "$(status_of /readyz)" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || fail "vmatlasd exited at start-up"
    sleep 0.1
done
[ -n "$PORT" ] && [ "$(status_of /readyz)" = 200 ] || fail "vmatlasd not ready after 60 s"
echo "malformed.sh: vmatlasd pid $pid on 127.0.0.1:$PORT ($VMATLASD)"

args=(-p "$pid")
[ -f "$KNOWN" ] && args+=(-k "$KNOWN")
[ "${STRICT:-0}" = 1 ] && args+=(-s)
"$CLIENT" "${args[@]}" "$PORT" "$CORPUS"
rc=$?

kill -0 "$pid" 2>/dev/null || fail "vmatlasd is not running after the corpus"
kill -TERM "$pid"
for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "vmatlasd still running 10 s after SIGTERM"
wait "$pid"
drc=$?
pid=
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$tmp/d.log"; then
    cat "$tmp/d.log" >&2
    fail "sanitizer report in vmatlasd's stderr"
elif [ "$drc" != 0 ]; then
    fail "vmatlasd exited with status $drc after SIGTERM"
fi
own_log() { grep '^<[0-7]>' "$tmp/d.log" | grep -v 'listening on\|first snapshot\|stopping'; }
echo "malformed.sh: vmatlasd exited with status $drc after SIGTERM; $(own_log | grep -c .) other log lines"
own_log | head -n 10
[ "$rc" = 0 ] || { echo "malformed.sh: FAIL (client exit $rc)"; exit 1; }
echo "malformed.sh: ok"
exit 0
