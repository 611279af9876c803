#!/usr/bin/env bash
# bench/churn-load.sh - vmatlasd under HTTP load while processes come and go: wrk with 32
# connections for 60 s on a mix of /metrics, /api/v1/processes and /api/v1/node, against the
# daemon on the live /proc scanning every second, while bench/spawner.c starts 200 processes a
# second that live 0-1 s each. See bench/README.md ("Load and faults").
#
# Usage (as root):  bench/churn-load.sh
# Environment:
#   DURATION=60 CONNS=32 WRK_THREADS=2   the wrk run
#   RATE=200 LIFETIME_MS=1000            processes started a second, and their longest life
#   INTERVAL=1                           the daemon's scan interval (seconds)
#   PATHS="/metrics /api/v1/processes /api/v1/node"
#   VMATLASD=PATH BUILD_DIR=DIR CC=cc NO_INSTALL=1 TIME_LIMIT=600
#
# Targets: no non-2xx answer (counted by bench/wrk-mix.lua) and no socket error, the daemon
# alive and exiting 0 on SIGTERM afterwards, wrk's p99 < 50 ms.
# Exit 0 whatever the verdicts; 1 when something could not be built or run; 77 when not root.
set -euo pipefail

PROG=bench/churn-load.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

DURATION=${DURATION:-60}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-2}
RATE=${RATE:-200}
LIFETIME_MS=${LIFETIME_MS:-1000}
INTERVAL=${INTERVAL:-1}
PATHS=${PATHS:-/metrics /api/v1/processes /api/v1/node}
TIME_LIMIT=${TIME_LIMIT:-600}
T_P99_MS=50

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_load_init
for v in DURATION CONNS WRK_THREADS RATE TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
bench_install wrk:wrk curl:curl
bench_build_daemon
bench_build_helper spawner

note "$(bench_machine_note)"
bench_start_daemon "$TMP/vmatlasd.log" --interval "$INTERVAL"
note "vmatlasd pid $D_PID on $D_BASE, --interval $INTERVAL"
curl -sf --max-time 10 -o "$TMP/metrics.0" "$D_BASE/metrics" || die "cannot fetch /metrics"

"$BIN/spawner" -r "$RATE" -l "$LIFETIME_MS" -d $((DURATION + 15)) >"$TMP/spawner.out" 2>&1 &
SP_PID=$!
bench_track "$SP_PID"
sleep 3 # the churn reaches its steady state (about RATE * LIFETIME / 2000 s children alive)
note "spawner pid $SP_PID: $RATE processes/s, each living 0-${LIFETIME_MS} ms; $(pgrep -c -P "$SP_PID" || true) alive now"

RSS_MAX=0 RSS_MIN=999999999 SAMPLES=0 THREADS='?'
note "wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency -s bench/wrk-mix.lua on: $PATHS"
WRK_PATHS=$PATHS timeout $((DURATION + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$REPO/bench/wrk-mix.lua" "$D_BASE" >"$TMP/wrk.out" 2>&1 &
WRK_PID=$!
bench_track "$WRK_PID"
while kill -0 "$WRK_PID" 2>/dev/null; do
    kill -0 "$D_PID" 2>/dev/null || break
    rss=$(bench_status_kb "$D_PID" VmRSS || echo 0)
    ((rss > RSS_MAX)) && RSS_MAX=$rss
    ((rss > 0 && rss < RSS_MIN)) && RSS_MIN=$rss
    THREADS=$(bench_status_kb "$D_PID" Threads || echo "$THREADS")
    SAMPLES=$((SAMPLES + 1))
    sleep 1
done
WRK_RC=0
wait "$WRK_PID" || WRK_RC=$?
ALIVE=yes
kill -0 "$D_PID" 2>/dev/null || ALIVE=no
bench_stop_pid "$SP_PID" TERM 50
SPAWNER=$(tail -n 1 "$TMP/spawner.out")
((WRK_RC == 0)) || { cat "$TMP/wrk.out" >&2; note "wrk exited with status $WRK_RC"; }

HEALTH=none
DRC=none
if [[ $ALIVE == yes ]]; then
    curl -sf --max-time 10 -o "$TMP/metrics.1" "$D_BASE/metrics" || true
    HEALTH=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$D_BASE/healthz" || true)
    kill -TERM "$D_PID"
    for _ in $(seq 50); do kill -0 "$D_PID" 2>/dev/null || break; sleep 0.1; done
    DRC=0
    wait "$D_PID" || DRC=$?
fi

to_ms() { # "635.00us" / "1.20ms" / "1.01s" -> ms
    awk -v s="$1" 'BEGIN{ n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
        m = (u=="us") ? 0.001 : (u=="ms") ? 1 : (u=="s") ? 1000 : (u=="m") ? 60000 : -1
        if (m < 0) print "nan"; else printf "%.2f\n", n * m }'
}
lat() { awk -v k="$1" '$1 == k {print $2; exit}' "$TMP/wrk.out"; }
REQS=$(awk '/requests in/{print $1}' "$TMP/wrk.out")
RPS=$(awk '/^Requests\/sec:/{print $2}' "$TMP/wrk.out")
P50=$(to_ms "$(lat 50%)")
P90=$(to_ms "$(lat 90%)")
P99=$(to_ms "$(lat 99%)")
PMAX=$(to_ms "$(awk '$1 == "Latency" {print $4; exit}' "$TMP/wrk.out")")
SOCKERR=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$TMP/wrk.out")
NON2XX=$(sed -n 's/^MIX requests=.* non2xx=\([0-9]*\)$/\1/p' "$TMP/wrk.out")
m() { bench_metric "$TMP/metrics.$1" "$2"; }
SCANS=nan VANISHED=nan
if [[ -f $TMP/metrics.1 ]]; then
    SCANS=$(awk -v a="$(m 0 vmatlas_scans_total)" -v b="$(m 1 vmatlas_scans_total)" 'BEGIN{print b - a}')
    VANISHED=$(awk -v a="$(m 0 vmatlas_processes_vanished_total)" -v b="$(m 1 vmatlas_processes_vanished_total)" 'BEGIN{print b - a}')
fi
v() { if [[ $1 == yes ]]; then echo PASS; else echo FAIL; fi; }
ok_non2xx=no ok_crash=no ok_p99=no
[[ ${NON2XX:-x} == 0 && -z $SOCKERR && $WRK_RC == 0 ]] && ok_non2xx=yes
[[ $ALIVE == yes && $HEALTH == 200 && $DRC == 0 ]] && ok_crash=yes
awk -v a="$P99" -v b=$T_P99_MS 'BEGIN{exit !(a + 0 < b && a != "nan")}' && ok_p99=yes

echo
echo "== vmatlas churn under load: $(bench_machine_note)"
echo "== vmatlasd --interval $INTERVAL on the live /proc; spawner: $RATE processes/s, 0-${LIFETIME_MS} ms each;"
echo "   wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s, round-robin over: $PATHS"
echo
echo "spawner:                 $SPAWNER"
echo "wrk:                     $REQS requests, $RPS req/s; latency p50 $P50 ms, p90 $P90 ms, p99 $P99 ms, max $PMAX ms"
grep '^MIX sent' "$TMP/wrk.out" | sed 's/^MIX sent /  sent: /'
grep '^MIX status' "$TMP/wrk.out" | sed 's/^MIX status /  non-2xx status: /' || true
grep '^MIX sample' "$TMP/wrk.out" | sed 's/^MIX sample /  sample: /' || true
echo "daemon during the run:   scans $SCANS in ~$((DURATION + 3)) s, processes vanished mid-scan $VANISHED," \
    "VmRSS $RSS_MIN..$RSS_MAX kB ($SAMPLES samples, 1 s apart), $THREADS threads"
echo "daemon after the run:    alive $ALIVE, /healthz $HEALTH, exit status after SIGTERM $DRC"
if grep -qv 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log"; then
    echo "daemon log lines beyond start-up: $(grep -vc 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log")"
    grep -v 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log" | head -n 5 | sed 's/^/  /'
fi
echo
printf '%-58s %-22s %s\n' "non-2xx answers: ${NON2XX:-?}, socket errors: ${SOCKERR:-none}" "target 0:" "$(v $ok_non2xx)"
printf '%-58s %-22s %s\n' "daemon alive, /healthz $HEALTH, exit status $DRC" "target 200 and 0:" "$(v $ok_crash)"
printf '%-58s %-22s %s\n' "p99 latency: $P99 ms" "target < $T_P99_MS ms:" "$(v $ok_p99)"
exit 0
