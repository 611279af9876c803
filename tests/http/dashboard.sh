#!/bin/bash
# dashboard.sh VMATLASD PROBE FIXTURE: the dashboard at "/" in a real browser.
#   - over HTTP (curl): "/" and its script and style sheet come from the binary with
#     Content-Type, a strict Content-Security-Policy, nosniff, no referrer, ETag (304) and gzip;
#     they need no token (they hold no data) while the API still does; they name no URL
#     outside the daemon;
#   - in headless Chromium driven over the DevTools protocol (dashboard_cdp.py), on the live
#     /proc with two probe processes whose names, cmdline and a memfd path are markup
#     ("<svg onload=1>", "<img src=x onerror=alert(1)>", ...): the table lists the probe with
#     its comm as text and no element made of it, no dialog opens, Tab reaches the table and
#     Enter opens the row, the map draws as many VMAs as vma_count says, hover shows a VMA's
#     figures; hiwater, hugepages and fleet ("fleet mode is off" on a 404) draw; a process
#     with vm.max_map_count VMAs (65,530 by default) opens in its process view within
#     DASH_BUDGET_MS (default 2000 ms; the time is printed); 10,000 processes stay 32 rows in
#     the DOM; on the hostile fixture, comms with '"', '\' and a newline are shown exactly and
#     every process opens, with addresses and redacted; with --auth-token-file the page asks for
#     the token once and keeps it in sessionStorage; no console error, exception or error log
#     entry anywhere, and every request the page makes goes to the daemon;
#   - in headless Firefox over WebDriver BiDi (dashboard_bidi.py), when it is installed: the
#     views draw, the probe is text, both maps draw vma_count VMAs (the big one's time is
#     printed), no console or JavaScript error, no prompt, no request outside the daemon.
set -euo pipefail
VMATLASD=${1:?usage: dashboard.sh VMATLASD PROBE FIXTURE}
PROBE=${2:?usage: dashboard.sh VMATLASD PROBE FIXTURE}
FIXTURE=${3:?usage: dashboard.sh VMATLASD PROBE FIXTURE}
HERE=$(cd "$(dirname "$0")" && pwd)
for t in curl python3; do
    command -v $t >/dev/null || { echo "dashboard.sh: $t is missing; skipping"; exit 77; }
done
command -v chromium >/dev/null || command -v chromium-browser >/dev/null ||
    { echo "dashboard.sh: chromium is missing (apt-get install chromium); skipping"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "dashboard.sh: FAIL: $*" >&2; exit 1; }

probe() { # NAME OUT ARGS...: start a probe, wait for "ready PID VMAS", set PID and VMAS
    local name=$1 out=$2; shift 2
    "$PROBE" "$name" "$@" >"$tmp/$out" &
    pids+=($!)
    for _ in $(seq 300); do
        read -r word PID VMAS <"$tmp/$out" 2>/dev/null && [ "$word" = ready ] && return 0
        sleep 0.1
    done
    fail "probe $name did not get ready"
}
start() { # NAME ARGS...: start a daemon on 127.0.0.1:0, wait until ready, set URL
    local name=$1; shift
    "$VMATLASD" --listen 127.0.0.1:0 "$@" 2>"$tmp/$name.log" &
    pids+=($!)
    for _ in $(seq 300); do
        local port
        port=$(grep -so 'listening on 127.0.0.1:[0-9]*' "$tmp/$name.log" | cut -d: -f2 || true)
        if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then
            URL=http://127.0.0.1:$port
            return 0
        fi
        sleep 0.1
    done
    fail "$name: daemon not ready: $(cat "$tmp/$name.log")"
}

# Markup as names: the kernel keeps 15 bytes of a comm.
probe '<svg onload=1>' small.out 0 '<img src=x onerror=alert(1)>'
SMALL=$PID
probe '<b>many</b>' big.out max
BIG=$PID BIGVMAS=$VMAS
echo "# probes: $SMALL (small), $BIG ($BIGVMAS VMAs; vm.max_map_count $(cat /proc/sys/vm/max_map_count))"

start live --interval 5
LIVE=$URL
start fixture --procfs-root "$FIXTURE/proc" --sysfs-root "$FIXTURE/sys"
FX=$URL
start redacted --procfs-root "$FIXTURE/proc" --sysfs-root "$FIXTURE/sys" --redact-addresses
RED=$URL
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$tmp/token"
chmod 600 "$tmp/token"
start token --procfs-root "$FIXTURE/proc" --sysfs-root "$FIXTURE/sys" --auth-token-file "$tmp/token"
TOK=$URL

# --- over HTTP ------------------------------------------------------------------------------
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
hdr() { grep -i "^$1:" "$tmp/h" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
checks=0
for path in / /dashboard/app.js /dashboard/style.css; do
    code=$(curl -s -D "$tmp/h" -o "$tmp/plain" -w '%{http_code}' "$LIVE$path")
    [ "$code" = 200 ] || fail "$path: status $code"
    case $path in
    /) want='text/html; charset=utf-8' ;;
    *.js) want='text/javascript; charset=utf-8' ;;
    *.css) want='text/css; charset=utf-8' ;;
    esac
    [ "$(hdr Content-Type)" = "$want" ] || fail "$path: Content-Type $(hdr Content-Type)"
    case "$(hdr Content-Security-Policy)" in "$CSP"*) ;; *) fail "$path: CSP $(hdr Content-Security-Policy)" ;; esac
    [ "$(hdr X-Content-Type-Options)" = nosniff ] || fail "$path: no nosniff"
    [ "$(hdr Referrer-Policy)" = no-referrer ] || fail "$path: no Referrer-Policy"
    [ -n "$(hdr Cache-Control)" ] || fail "$path: no Cache-Control"
    etag=$(hdr ETag)
    [ -n "$etag" ] || fail "$path: no ETag"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$LIVE$path")
    [ "$code" = 304 ] || fail "$path: If-None-Match: status $code"
    curl -s -D "$tmp/h" -H 'Accept-Encoding: gzip' -o "$tmp/gz" "$LIVE$path"
    [ "$(hdr Content-Encoding)" = gzip ] || fail "$path: not gzip'd when asked"
    gzip -dc "$tmp/gz" | cmp -s - "$tmp/plain" || fail "$path: the gzip body differs"
    [ "$(hdr ETag)" != "$etag" ] || fail "$path: the gzip variant has the identity ETag"
    # Nothing outside the daemon: no absolute URL in the page, its script or its style sheet.
    ! grep -Eo '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}' "$tmp/plain" | grep -v '^//' ||
        fail "$path names another origin"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$TOK$path")
    [ "$code" = 200 ] || fail "$path with a token configured: status $code without it"
    checks=$((checks + 1))
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$TOK/api/v1/node")
[ "$code" = 401 ] || fail "the API answered $code without the token"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$LIVE/")
[ "$code" = 200 ] || fail "HEAD /: status $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$LIVE/")
[ "$code" = 405 ] || fail "POST /: status $code"
for path in /dashboard/ /dashboard/nope.js /index.html /dashboard/app.js/ "/?x=1"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$LIVE$path")
    [ "$code" = 404 ] || fail "$path: status $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$LIVE/%00") # a NUL in the target: refused
[ "$code" = 400 ] || fail "/%00: status $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$LIVE/")
[ "$code" = 403 ] || fail "/ with a foreign Host: status $code"
echo "ok - $checks files served with their headers, ETag, gzip; no token needed for them; API still 401; HEAD, 405, 404, Host"

# --- in the browser -------------------------------------------------------------------------
cat >"$tmp/config.json" <<JSON
{"live": "$LIVE", "fixture": "$FX", "fixture_redacted": "$RED",
 "probe": {"pid": $SMALL, "comm": "<svg onload=1>", "cmdline_marker": "<img src=x onerror=alert(1)>"},
 "big": {"pid": $BIG},
 "token": {"url": "$TOK", "token": "$TOKEN"},
 "budget_ms": ${DASH_BUDGET_MS:-2000}}
JSON
python3 "$HERE/dashboard_cdp.py" check "$tmp/config.json"
# The same page in Firefox, over WebDriver BiDi: what could differ between engines.
if command -v firefox-esr >/dev/null || command -v firefox >/dev/null; then
    python3 "$HERE/dashboard_bidi.py" check "$tmp/config.json"
else
    echo "# firefox-esr is missing (apt-get install firefox-esr): the Firefox pass is skipped"
fi
