#!/usr/bin/env bash
# bench/bigvma.sh - a process with 65,530 VMAs (vm.max_map_count) served without stalling the
# other requests: one client fetches its /api/v1/processes/PID/vmas (about 45 MB of JSON,
# streamed) in a loop, while another measures /api/v1/node latency. See bench/README.md ("Load
# and faults").
#
# Usage (as root):  bench/bigvma.sh
# Environment:
#   DURATION=60      seconds of the fetch loop (and of the latency measurement beside it)
#   BASELINE=15      seconds of latency measurement before, without the fetch loop
#   FETCHERS=1       parallel fetch loops          GZIP=0   1: fetch with Accept-Encoding: gzip
#   WRK_DELAY_MS=20  the latency client: wrk -t1 -c1, this long before each request (~50/s)
#   INTERVAL=1       the daemon's scan interval     TOUCH=0  1: make the big process's pages resident
#   VMATLASD=PATH BUILD_DIR=DIR CC=cc NO_INSTALL=1 TIME_LIMIT=900
#
# Targets: every fetch a complete 200 with every VMA; /api/v1/node p99 < 50 ms while the
# fetches run (the same target as churn-load.sh); printed beside it, the p99 without them.
# Exit 0 whatever the verdicts; 1 when something could not be built or run; 77 when not root.
set -euo pipefail

PROG=bench/bigvma.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

DURATION=${DURATION:-60}
BASELINE=${BASELINE:-15}
FETCHERS=${FETCHERS:-1}
GZIP=${GZIP:-0}
WRK_DELAY_MS=${WRK_DELAY_MS:-20}
INTERVAL=${INTERVAL:-1}
TOUCH=${TOUCH:-0}
TIME_LIMIT=${TIME_LIMIT:-900}
T_P99_MS=50

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_load_init
for v in DURATION BASELINE FETCHERS WRK_DELAY_MS TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
bench_install wrk:wrk curl:curl jq:jq
bench_build_daemon
bench_build_helper bigvma

note "$(bench_machine_note)"
MAX_MAP_COUNT=$(cat /proc/sys/vm/max_map_count)
note "vm.max_map_count = $MAX_MAP_COUNT"
touch_arg=()
[[ $TOUCH == 1 ]] && touch_arg=(-t)
"$BIN/bigvma" "${touch_arg[@]}" >"$TMP/bigvma.out" 2>&1 &
BV_PID=$!
bench_track "$BV_PID"
for _ in $(seq 600); do
    grep -q '^READY' "$TMP/bigvma.out" && break
    kill -0 "$BV_PID" 2>/dev/null || { cat "$TMP/bigvma.out" >&2; die "bigvma exited"; }
    sleep 0.1
done
READY=$(grep -m1 '^READY' "$TMP/bigvma.out") || die "bigvma not ready"
note "bigvma: $READY"

bench_start_daemon "$TMP/vmatlasd.log" --interval "$INTERVAL"
note "vmatlasd pid $D_PID on $D_BASE, --interval $INTERVAL"
VMA_COUNT=0
for _ in $(seq 300); do
    VMA_COUNT=$(curl -sf --max-time 10 "$D_BASE/api/v1/processes/$BV_PID" | jq '.process.vma_count' 2>/dev/null || echo 0)
    ((VMA_COUNT > 0)) && break
    sleep 0.2
done
((VMA_COUNT > 0)) || die "the daemon does not list the bigvma process $BV_PID"
URL=$D_BASE/api/v1/processes/$BV_PID/vmas
gz_arg=()
[[ $GZIP == 1 ]] && gz_arg=(--compressed)
curl -sf --max-time 120 "${gz_arg[@]}" -o "$TMP/vmas.json" "$URL" || die "cannot fetch $URL"
N_VMAS=$(jq '.vmas | length' "$TMP/vmas.json")
BODY=$(stat -c %s "$TMP/vmas.json")
note "the daemon sees vma_count $VMA_COUNT; /vmas: $N_VMAS VMAs, $BODY bytes of JSON (valid: jq parsed it)"
rm -f "$TMP/vmas.json"

to_ms() {
    awk -v s="$1" 'BEGIN{ n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
        m = (u=="us") ? 0.001 : (u=="ms") ? 1 : (u=="s") ? 1000 : (u=="m") ? 60000 : -1
        if (m < 0) print "nan"; else printf "%.2f\n", n * m }'
}
# measure SECONDS OUT: wrk -t1 -c1 on /api/v1/node with a pause before each request
measure() {
    WRK_PATHS=/api/v1/node WRK_DELAY_MS=$WRK_DELAY_MS timeout $(($1 + 60)) wrk -t1 -c1 -d"$1s" --latency \
        -s "$REPO/bench/wrk-mix.lua" "$D_BASE" >"$2" 2>&1 || die "wrk failed: $(cat "$2")"
}
wrk_p() { to_ms "$(awk -v k="$2" '$1 == k {print $2; exit}' "$1")"; }
wrk_max() { to_ms "$(awk '$1 == "Latency" {print $4; exit}' "$1")"; }

note "baseline: /api/v1/node latency for ${BASELINE}s without the fetch loop ..."
measure "$BASELINE" "$TMP/base.wrk"

note "fetch loop ($FETCHERS x curl $URL${gz_arg[*]:+ --compressed}) and /api/v1/node latency for ${DURATION}s ..."
fetch_loop() { # OUT: "code bytes seconds curl_exit" lines until DURATION is over
    local out=$1 end=$((SECONDS + DURATION)) r rc
    : >"$out"
    while ((SECONDS < end)); do
        rc=0
        r=$(curl -s "${gz_arg[@]}" -o /dev/null -w '%{http_code} %{size_download} %{time_total}' --max-time 120 "$URL") || rc=$?
        echo "$r $rc" >>"$out"
    done
}
FPIDS=()
for ((f = 0; f < FETCHERS; f++)); do
    fetch_loop "$TMP/fetch.$f" &
    FPIDS+=($!)
    bench_track "$!"
done
RSS_MAX=0
(
    while :; do
        bench_status_kb "$D_PID" VmRSS
        sleep 0.5
    done
) >"$TMP/rss" 2>/dev/null &
RSS_PID=$!
bench_track "$RSS_PID"
measure "$DURATION" "$TMP/load.wrk"
for p in "${FPIDS[@]}"; do wait "$p" || true; done
bench_stop_pid "$RSS_PID" TERM 10
RSS_MAX=$(sort -n "$TMP/rss" | tail -n 1)
RSS_BEFORE=$(head -n 1 "$TMP/rss")
sleep 5
RSS_AFTER=$(bench_status_kb "$D_PID" VmRSS || echo "?")
ALIVE=yes
kill -0 "$D_PID" 2>/dev/null || ALIVE=no
SCANS=$(curl -sf --max-time 10 "$D_BASE/metrics" | awk '$1 == "vmatlas_scans_total" {print $2}' || echo "?")
SCAN_S=$(curl -sf --max-time 10 "$D_BASE/metrics" | awk '$1 == "vmatlas_scan_duration_seconds" {print $2}' || echo "?")
DRC=none
if [[ $ALIVE == yes ]]; then
    kill -TERM "$D_PID"
    for _ in $(seq 50); do kill -0 "$D_PID" 2>/dev/null || break; sleep 0.1; done
    DRC=0
    wait "$D_PID" || DRC=$?
fi

cat "$TMP"/fetch.* >"$TMP/fetches"
N_FETCH=$(grep -c . "$TMP/fetches" || true)
N_OK=$(awk -v b="$BODY" -v g="$GZIP" '$1 == 200 && $4 == 0 && (g == 1 || $2 > b * 0.9)' "$TMP/fetches" | grep -c . || true)
F_P50=$(awk '{printf "%.0f\n", $3 * 1000}' "$TMP/fetches" | bench_pct 50)
F_MAX=$(awk '{printf "%.0f\n", $3 * 1000}' "$TMP/fetches" | bench_pct 100)
F_MB=$(awk '{b += $2} END {printf "%.1f", b / 1048576}' "$TMP/fetches")
F_RATE=$(awk -v d="$DURATION" '{b += $2} END {printf "%.1f", b / 1048576 / d}' "$TMP/fetches")
B99=$(wrk_p "$TMP/base.wrk" 99%)
L50=$(wrk_p "$TMP/load.wrk" 50%)
L99=$(wrk_p "$TMP/load.wrk" 99%)
LMAX=$(wrk_max "$TMP/load.wrk")
LREQ=$(awk '/requests in/{print $1}' "$TMP/load.wrk")
LBAD=$(sed -n 's/^MIX requests=.* non2xx=\([0-9]*\)$/\1/p' "$TMP/load.wrk")
v_fetch=FAIL v_p99=FAIL
((N_FETCH > 0 && N_OK == N_FETCH)) && v_fetch=PASS
awk -v a="$L99" -v b=$T_P99_MS 'BEGIN{exit !(a != "nan" && a + 0 < b)}' && [[ ${LBAD:-x} == 0 ]] && v_p99=PASS

echo
echo "== vmatlas big-VMA process: $(bench_machine_note)"
echo "== bigvma: $READY; vmatlasd --interval $INTERVAL on the live /proc"
echo "== $FETCHERS fetch loop(s) of /api/v1/processes/PID/vmas${gz_arg[*]:+ (gzip)} beside wrk -t1 -c1 on /api/v1/node (${WRK_DELAY_MS} ms between requests), ${DURATION}s"
echo
echo "/vmas document:          $N_VMAS VMAs (vma_count $VMA_COUNT), $BODY bytes uncompressed"
echo "fetches:                 $N_FETCH in ${DURATION}s, $N_OK complete 200s; time p50 $F_P50 ms, max $F_MAX ms; $F_MB MiB sent ($F_RATE MiB/s)"
awk '$1 != 200 || $4 != 0 {print "  failed fetch: code " $1 ", " $2 " bytes, " $3 " s, curl exit " $4}' "$TMP/fetches" | head -n 5
echo "/api/v1/node, baseline:  p50 $(wrk_p "$TMP/base.wrk" 50%) ms, p99 $B99 ms, max $(wrk_max "$TMP/base.wrk") ms (${BASELINE}s, no fetch loop)"
echo "/api/v1/node, fetching:  p50 $L50 ms, p99 $L99 ms, max $LMAX ms, $LREQ requests, non-2xx ${LBAD:-?}"
echo "daemon:                  VmRSS ${RSS_BEFORE:-?} kB before the loop, at most $RSS_MAX kB during it (sampled every 0.5 s),"
echo "                         $RSS_AFTER kB 5 s after it;"
echo "                         $SCANS scans in all, the last took ${SCAN_S} s; alive $ALIVE, exit status after SIGTERM $DRC"
if grep -qv 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log"; then
    echo "daemon log lines beyond start-up: $(grep -vc 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log")"
    grep -v 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log" | head -n 5 | sed 's/^/  /'
fi
echo
printf '%-58s %-22s %s\n' "every fetch a complete 200 ($N_OK of $N_FETCH)" "target all:" "$v_fetch"
printf '%-58s %-22s %s\n' "/api/v1/node p99 while fetching: $L99 ms" "target < $T_P99_MS ms:" "$v_p99"
exit 0
