#!/bin/bash
# docs/screenshots.sh [BUILD_DIR]: screenshots of the dashboard's views into docs/, taken by
# headless Chromium (Debian's chromium) from a vmatlasd on this machine's /proc.
#
# It starts the daemon (every process walked at once: --deep-walk-budget 100) and a probe
# that maps a memfd, THP and, when the pool has a free page, a hugetlb page; then it drives the
# browser through tests/http/dashboard_cdp.py. Needs python3, chromium and a build with the
# tests (BUILD_DIR/vmatlasd and BUILD_DIR/tests/dash_probe; default BUILD_DIR: build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
VMATLASD=$BUILD/vmatlasd
PROBE=$BUILD/tests/dash_probe
[ -x "$VMATLASD" ] && [ -x "$PROBE" ] ||
    { echo "screenshots.sh: build first: cmake -S . -B $BUILD && cmake --build $BUILD" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

DASH_PROBE_HUGETLB=1 "$PROBE" hugepage-demo 0 >"$tmp/probe" &
pids+=($!)
"$VMATLASD" --listen 127.0.0.1:0 --interval 2 --deep-walk-budget 100 2>"$tmp/log" &
pids+=($!)
DAEMON=$!
for _ in $(seq 100); do
    port=$(grep -so 'listening on 127.0.0.1:[0-9]*' "$tmp/log" | cut -d: -f2 || true)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done
[ -n "${port:-}" ] || { echo "screenshots.sh: the daemon did not start: $(cat "$tmp/log")" >&2; exit 1; }
sleep 5 # a few scans: observed peaks, exited processes, every process walked

cat >"$tmp/config.json" <<JSON
{"url": "http://127.0.0.1:$port", "out": "docs",
 "views": [
  ["dashboard-processes.png", "#/processes", "processes", null],
  ["dashboard-process.png", "#/process/$DAEMON", "process", null],
  ["dashboard-process-map.png", "#/process/$DAEMON", "process",
   "(() => { document.querySelector('.map-wrap').previousElementSibling.previousElementSibling.scrollIntoView(); const c = document.getElementById('vma-map'); c.focus(); for (let i = 0; i < 6; i++) c.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'})); })()"],
  ["dashboard-hiwater.png", "#/hiwater", "hiwater", null],
  ["dashboard-hugepages.png", "#/hugepages", "hugepages", null]
 ]}
JSON
python3 tests/http/dashboard_cdp.py shots "$tmp/config.json"
