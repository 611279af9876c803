#!/usr/bin/env bash
# bench/soak.sh - does vmatlasd's memory stay flat over a long run? A steady, moderate HTTP load
# (wrk with a fixed delay per request, on every endpoint) and process churn (bench/spawner.c)
# against the daemon on the live /proc scanning every second, for 10 minutes; its RSS is
# sampled every 10 s. See bench/README.md ("Load and faults").
#
# By default (ISOLATE=1) the daemon and the spawner run in a new PID namespace with its own
# /proc (unshare --pid --fork --mount-proc): the daemon reads a real procfs, but one that holds
# only the soak's processes, so another workload starting or stopping on the machine cannot
# move its RSS (a snapshot of 60,000 VMAs is 9 MB). ISOLATE=0 uses the machine's /proc.
#
# Usage (as root):  bench/soak.sh            (or: DURATION=3600 bench/soak.sh)
# Environment:
#   DURATION=600     seconds of load           SAMPLE=10   seconds between RSS samples
#   CONNS=8 WRK_DELAY_MS=20                    wrk connections, and the pause before each request
#                                              (about CONNS * 1000 / WRK_DELAY_MS requests a second)
#   RATE=50 LIFETIME_MS=2000 NAMES=200         spawner: processes a second, longest life, distinct comms
#   INTERVAL=1                                 the daemon's scan interval (seconds)
#   ISOLATE=1                                  0: the machine's own /proc (see above)
#   VMATLASD=PATH BUILD_DIR=DIR CC=cc NO_INSTALL=1 TIME_LIMIT=DURATION+600
#
# Target: VmRSS at the end minus VmRSS at minute 1 < 5 MiB. Also printed: the whole series,
# the least-squares slope after minute 1, open file descriptors and threads at both ends, and
# any non-2xx answer (there should be none).
# Exit 0 whatever the verdict; 1 when something could not be built or run; 77 when not root.
set -euo pipefail

PROG=bench/soak.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-10}
CONNS=${CONNS:-8}
WRK_DELAY_MS=${WRK_DELAY_MS:-20}
RATE=${RATE:-50}
LIFETIME_MS=${LIFETIME_MS:-2000}
NAMES=${NAMES:-200}
INTERVAL=${INTERVAL:-1}
ISOLATE=${ISOLATE:-1}
TIME_LIMIT=${TIME_LIMIT:-$((DURATION + 600))}
T_GROWTH_KB=5120

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_load_init
for v in DURATION SAMPLE CONNS WRK_DELAY_MS RATE TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
((DURATION > 60)) || die "DURATION must be over 60 s: the target compares the end with minute 1"
bench_install wrk:wrk curl:curl
[[ $ISOLATE == 1 ]] && bench_install unshare:util-linux
bench_build_daemon
bench_build_helper spawner

note "$(bench_machine_note)"
SPAWN_ARGS=(-r "$RATE" -l "$LIFETIME_MS" -c "$NAMES" -d $((DURATION + 30)))
if [[ $ISOLATE == 1 ]]; then
    # Inside: bash (pid 1, it reaps), the daemon and the spawner; their host pids are found
    # through the process tree, the spawner's namespace pid is what the daemon knows it by.
    : >"$TMP/vmatlasd.log"
    unshare --pid --fork --mount-proc bash -c '
        tmp=$3
        "$1" --listen 127.0.0.1:0 --interval "$2" 2>>"$tmp/vmatlasd.log" >/dev/null </dev/null &
        d=$!
        shift 3
        "$@" >"$tmp/spawner.out" 2>&1 &
        echo "$!" >"$tmp/spawner.nspid"
        wait "$d"
        echo "$?" >"$tmp/vmatlasd.status"
        wait' _ "$VMATLASD" "$INTERVAL" "$TMP" "$BIN/spawner" "${SPAWN_ARGS[@]}" &
    NS_PID=$!
    bench_track "$NS_PID"
    D_PID='' SP_PID='' SP_NSPID=''
    for _ in $(seq 100); do
        init=$(pgrep -P "$NS_PID" | head -n 1 || true)
        if [[ -n $init ]]; then
            for c in $(pgrep -P "$init" || true); do
                case $(cat "/proc/$c/comm" 2>/dev/null) in
                vmatlasd) D_PID=$c ;;
                spawner) SP_PID=$c ;;
                esac
            done
        fi
        SP_NSPID=$(cat "$TMP/spawner.nspid" 2>/dev/null || true)
        [[ -n $D_PID && -n $SP_PID && -n $SP_NSPID ]] && break
        sleep 0.1
    done
    [[ -n $D_PID && -n $SP_PID && -n $SP_NSPID ]] || die "the PID namespace did not start (unshare --pid --fork --mount-proc)"
    bench_track "$SP_PID" "$D_PID"
    D_PORT=
    for _ in $(seq 600); do
        D_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$TMP/vmatlasd.log" | head -n 1)
        [[ -n $D_PORT ]] && curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$D_PORT/readyz" && break
        kill -0 "$D_PID" 2>/dev/null || { cat "$TMP/vmatlasd.log" >&2; die "vmatlasd exited at start-up"; }
        sleep 0.1
    done
    D_BASE=http://127.0.0.1:$D_PORT
    note "PID namespace (unshare --pid --fork --mount-proc): vmatlasd host pid $D_PID, spawner host pid $SP_PID (pid $SP_NSPID inside)"
else
    bench_start_daemon "$TMP/vmatlasd.log" --interval "$INTERVAL"
    "$BIN/spawner" "${SPAWN_ARGS[@]}" >"$TMP/spawner.out" 2>&1 &
    SP_PID=$!
    SP_NSPID=$SP_PID
    bench_track "$SP_PID"
fi
note "vmatlasd pid $D_PID on $D_BASE, --interval $INTERVAL"
# Every endpoint, the spawner's own process (long-lived) for the per-process documents.
PATHS="/metrics /api/v1/processes /api/v1/node /api/v1/hiwater /api/v1/hiwater?group_by=none /api/v1/exited"
PATHS+=" /api/v1/hugepages /api/v1/processes?limit=10000&kthreads=include /api/v1/processes?sort=vmas&limit=5"
PATHS+=" /api/v1/processes/$SP_NSPID /api/v1/processes/$SP_NSPID/vmas /api/v1/processes/$SP_NSPID/residency /readyz"
note "spawner pid $SP_PID: $RATE processes/s, 0-${LIFETIME_MS} ms each, $NAMES distinct names"
for _ in $(seq 100); do # until a snapshot has the spawner: its documents must be 200 from the start
    curl -sf -o /dev/null --max-time 5 "$D_BASE/api/v1/processes/$SP_NSPID" && break
    sleep 0.1
done
note "wrk -t1 -c$CONNS -d${DURATION}s, ${WRK_DELAY_MS} ms before each request, on: $PATHS"
WRK_PATHS=$PATHS WRK_DELAY_MS=$WRK_DELAY_MS timeout $((DURATION + 60)) wrk -t1 -c"$CONNS" -d"${DURATION}s" \
    --latency -s "$REPO/bench/wrk-mix.lua" "$D_BASE" >"$TMP/wrk.out" 2>&1 &
WRK_PID=$!
bench_track "$WRK_PID"

fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sample() { # one line of the series
    local now line
    now=$(date +%s)
    curl -sf --max-time 5 -o "$TMP/metrics" "$D_BASE/metrics" || : >"$TMP/metrics"
    line="$((now - T0)) $(bench_status_kb "$D_PID" VmRSS) $(bench_status_kb "$D_PID" RssAnon) $(fds "$D_PID")"
    line+=" $(bench_status_kb "$D_PID" Threads)"
    for m in vmatlas_scans_total vmatlas_processes vmatlas_vmas vmatlas_snapshot_bytes; do
        line+=" $(bench_metric "$TMP/metrics" $m | awk '{v = $1 + 0; if ($1 == "") print "?"; else printf "%d", v}')"
    done
    echo "$line" >>"$SERIES"
    echo "  $line"
}
SERIES=$TMP/series # t_s VmRSS_kB RssAnon_kB fds threads scans processes vmas snapshot_bytes
: >"$SERIES"
T0=$(date +%s)
FDS0=$(fds "$D_PID")
THREADS0=$(bench_status_kb "$D_PID" Threads)
note "sampling every ${SAMPLE}s: t_s VmRSS_kB RssAnon_kB fds threads scans processes vmas snapshot_bytes"
next=$T0
while kill -0 "$WRK_PID" 2>/dev/null; do
    kill -0 "$D_PID" 2>/dev/null || break
    if (($(date +%s) >= next)); then
        sample
        next=$((next + SAMPLE))
    fi
    sleep 1
done
WRK_RC=0
wait "$WRK_PID" || WRK_RC=$?
ALIVE=yes
kill -0 "$D_PID" 2>/dev/null || ALIVE=no
[[ $ALIVE == yes ]] && sample # the end of the load
FDS1=$(fds "$D_PID")
THREADS1=$(bench_status_kb "$D_PID" Threads || echo gone)
HWM=$(bench_status_kb "$D_PID" VmHWM || echo 0)
bench_stop_pid "$SP_PID" TERM 50
SPAWNER=$(tail -n 1 "$TMP/spawner.out")
DRC=none
if [[ $ALIVE == yes ]]; then
    kill -TERM "$D_PID"
    for _ in $(seq 50); do kill -0 "$D_PID" 2>/dev/null || break; sleep 0.1; done
    if [[ $ISOLATE == 1 ]]; then # the namespace's bash waited for it
        for _ in $(seq 50); do [[ -s $TMP/vmatlasd.status ]] && break; sleep 0.1; done
        DRC=$(cat "$TMP/vmatlasd.status" 2>/dev/null || echo "?")
    else
        DRC=0
        wait "$D_PID" || DRC=$?
    fi
fi
((WRK_RC == 0)) || { cat "$TMP/wrk.out" >&2; note "wrk exited with status $WRK_RC"; }

# RSS at minute 1 (the first sample at or after 60 s), at the end, and the slope after minute 1.
read -r REF_T REF_RSS < <(awk '$1 >= 60 {print $1, $2; exit}' "$SERIES")
read -r END_T END_RSS < <(tail -n 1 "$SERIES" | awk '{print $1, $2}')
GROWTH=$((END_RSS - REF_RSS))
MAX_AFTER=$(awk '$1 >= 60 && $2 > m {m = $2} END {print m + 0}' "$SERIES")
SLOPE=$(awk '$1 >= 60 {n++; x += $1; y += $2; xx += $1 * $1; xy += $1 * $2}
    END {d = n * xx - x * x; if (n > 1 && d != 0) printf "%.1f", (n * xy - x * y) / d * 60; else print "nan"}' "$SERIES")
REQS=$(awk '/requests in/{print $1}' "$TMP/wrk.out")
RPS=$(awk '/^Requests\/sec:/{print $2}' "$TMP/wrk.out")
P99=$(awk '$1 == "99%" {print $2; exit}' "$TMP/wrk.out")
NON2XX=$(sed -n 's/^MIX requests=.* non2xx=\([0-9]*\)$/\1/p' "$TMP/wrk.out")
SOCKERR=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$TMP/wrk.out")
VERDICT=FAIL
((GROWTH < T_GROWTH_KB)) && VERDICT=PASS

echo
echo "== vmatlas soak: $(bench_machine_note)"
where="the machine's /proc"
[[ $ISOLATE == 1 ]] && where="a PID namespace's own /proc (the soak's processes only)"
echo "== vmatlasd --interval $INTERVAL on $where, ${DURATION}s; spawner: $RATE processes/s, 0-${LIFETIME_MS} ms each,"
echo "   $NAMES distinct names; wrk -t1 -c$CONNS with ${WRK_DELAY_MS} ms before each request, round-robin over 13 paths"
echo
echo "RSS series (every ${SAMPLE}s; the daemon's own vmatlas_processes, vmatlas_vmas and vmatlas_snapshot_bytes"
echo "show what it was holding):"
printf '  %5s %9s %10s %4s %7s %6s %9s %6s %14s\n' t_s VmRSS_kB RssAnon_kB fds threads scans processes vmas snapshot_bytes
awk '{printf "  %5d %9d %10d %4d %7d %6s %9s %6s %14s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' "$SERIES"
echo
echo "spawner:     $SPAWNER"
echo "wrk:         $REQS requests, $RPS req/s, p99 $P99; non-2xx ${NON2XX:-?}; socket errors ${SOCKERR:-none}"
grep '^MIX status' "$TMP/wrk.out" | sed 's/^MIX status /  non-2xx status: /' || true
grep '^MIX sample' "$TMP/wrk.out" | sed 's/^MIX sample /  sample: /' || true
echo "daemon:      fds $FDS0 -> $FDS1, threads $THREADS0 -> $THREADS1, VmHWM $HWM kB; alive $ALIVE, exit status after SIGTERM $DRC"
if grep -qv 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log"; then
    echo "daemon log lines beyond start-up: $(grep -vc 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log")"
    grep -v 'listening on\|first snapshot\|stopping' "$TMP/vmatlasd.log" | head -n 5 | sed 's/^/  /'
fi
echo "RSS at ${REF_T}s: $REF_RSS kB; at ${END_T}s: $END_RSS kB; largest after minute 1: $MAX_AFTER kB; slope after minute 1: $SLOPE kB/min"
printf 'RSS growth from minute 1 to the end: %d kB (%.2f MiB)   target < 5 MiB: %s\n' "$GROWTH" \
    "$(awk -v g="$GROWTH" 'BEGIN{print g / 1024}')" "$VERDICT"
exit 0
