#!/usr/bin/env bash
# bench/slowloris.sh - can a health probe still get answers while 1,000 half-open connections
# (a slowloris attack, bench/slowloris.c) are held open against vmatlasd? See bench/README.md
# ("Load and faults").
#
# Usage (as root):  bench/slowloris.sh
# Environment:
#   SCENARIOS="one two sixteen sixteen-2nd"   which attacks to run (see below)
#   CONNS=1000       half-open connections of the attacker
#   INTERVAL=10      seconds between the header lines each attacker connection trickles
#   RAMP=8           seconds the attacker gets to open its connections before the probe
#   PROBES=20 PROBE_GAP=0.5 PROBE_TIMEOUT=5   the probe: curl GET /api/v1/node from 127.0.0.1
#   RECOVERY_LIMIT=240   seconds to wait, after the attacker has gone, for the port to answer
#   VMATLASD=PATH BUILD_DIR=DIR CC=cc NO_INSTALL=1 TIME_LIMIT=2400
#
# Scenarios (a fresh daemon on the live /proc, --interval 5, for each):
#   one          the attacker uses one source address (127.0.0.2) for all its connections
#   two          two source addresses, 500 connections each
#   sixteen      sixteen source addresses (127.0.0.2-17), 62-63 connections each: each stays
#                under the daemon's per-address limit
#   sixteen-2nd  as sixteen, but the daemon has a second listener (another port) that only
#                the probe uses, as a deployment would give its monitoring
# The probe always connects from 127.0.0.1 with a new connection per request, like a
# monitoring check. Target per scenario: 20/20 answers (200) and p99 < 200 ms.
#
# Exit 0 whatever the verdicts; 1 when something could not be built or run; 77 when not root.
set -euo pipefail

PROG=bench/slowloris.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

SCENARIOS=${SCENARIOS:-one two sixteen sixteen-2nd}
CONNS=${CONNS:-1000}
INTERVAL=${INTERVAL:-10}
RAMP=${RAMP:-8}
PROBES=${PROBES:-20}
PROBE_GAP=${PROBE_GAP:-0.5}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-5}
RECOVERY_LIMIT=${RECOVERY_LIMIT:-240}
TIME_LIMIT=${TIME_LIMIT:-2400}
T_ANSWERS=$PROBES
T_P99_MS=200

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_load_init
for v in CONNS INTERVAL RAMP PROBES PROBE_TIMEOUT RECOVERY_LIMIT TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
bench_install curl:curl ss:iproute2
bench_build_daemon
bench_build_helper slowloris
ulimit -n $((CONNS + 1024)) 2>/dev/null || note "could not raise the open-file limit to $((CONNS + 1024))"

# Connections the daemon holds on PORT (accepted: owned by its pid), and the listen queue.
accepted() { ss -Htnp state established "( sport = :$1 )" 2>/dev/null | grep -c "pid=$D_PID," || true; }
backlog() { ss -Hltn "( sport = :$1 )" 2>/dev/null | awk '{print $2; exit}'; }

# probe N PORT FILE: N requests, one connection each; "code seconds" lines in FILE
probe() {
    local n=$1 port=$2 out=$3 i
    : >"$out"
    for ((i = 0; i < n; i++)); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time "$PROBE_TIMEOUT" \
            "http://127.0.0.1:$port/api/v1/node" >>"$out" 2>/dev/null || true
        sleep "$PROBE_GAP"
    done
}
ms_col() { awk '{printf "%.1f\n", $2 * 1000}' "$1"; }

RES=$TMP/results
: >"$RES"
run_scenario() {
    local name=$1 addrs listen2=0
    case $name in
    one) addrs=1 ;;
    two) addrs=2 ;;
    sixteen) addrs=16 ;;
    sixteen-2nd) addrs=16 listen2=1 ;;
    *) die "unknown scenario '$name'" ;;
    esac
    note "=== scenario $name: $CONNS connections from $addrs address(es) 127.0.0.2.., probe from 127.0.0.1"
    local log=$TMP/$name.vmatlasd.log extra=()
    ((listen2)) && extra=(--listen 127.0.0.1:0)
    bench_start_daemon "$log" --interval 5 "${extra[@]}"
    local aport=$D_PORT pport=$D_PORT
    if ((listen2)); then
        pport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | sed -n 2p)
        [[ -n $pport ]] || die "no second 'listening on' line"
    fi
    note "vmatlasd pid $D_PID: attacked port $aport, probe port $pport"
    probe 5 "$pport" "$TMP/$name.base"
    local base_p50
    base_p50=$(ms_col "$TMP/$name.base" | bench_pct 50)

    "$BIN/slowloris" -p "$aport" -n "$CONNS" -s 127.0.0.2 -a "$addrs" -i "$INTERVAL" \
        >"$TMP/$name.attack" 2>"$TMP/$name.attack.err" &
    local apid=$!
    bench_track "$apid"
    sleep "$RAMP"
    kill -0 "$apid" 2>/dev/null || { cat "$TMP/$name.attack.err" >&2; die "slowloris exited"; }
    local acc0 q0 st0
    acc0=$(accepted "$aport")
    q0=$(backlog "$aport")
    st0=$(tail -n 1 "$TMP/$name.attack")
    note "after ${RAMP}s: attacker: $st0; daemon holds $acc0 connections on $aport, accept queue $q0"
    local t0=$SECONDS
    probe "$PROBES" "$pport" "$TMP/$name.probe"
    local acc1 q1 st1
    acc1=$(accepted "$aport")
    q1=$(backlog "$aport")
    st1=$(tail -n 1 "$TMP/$name.attack")
    note "after the probe ($((SECONDS - t0)) s): attacker: $st1; daemon holds $acc1, accept queue $q1"
    bench_stop_pid "$apid" TERM 50
    # Recovery: the attacker is gone (every socket closed); how long until the attacked port
    # answers again? (The connections it left in the accept queue still have to be drained.)
    local rec="" t1 recovery=">$RECOVERY_LIMIT"
    t1=$(date +%s.%N)
    while awk -v a="$t1" -v b="$(date +%s.%N)" -v l="$RECOVERY_LIMIT" 'BEGIN{exit !(b - a < l)}'; do
        rec=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$aport/api/v1/node" || true)
        if [[ $rec == 200 ]]; then
            recovery=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
            break
        fi
        sleep 0.5
    done
    note "recovery: the attacked port answers 200 again $recovery s after the attacker closed its sockets" \
        "(accepted $(accepted "$aport"), accept queue $(backlog "$aport") at the end)"
    kill -0 "$D_PID" 2>/dev/null || die "vmatlasd died in scenario $name"
    local dlog
    dlog=$(grep -vc 'listening on\|first snapshot' "$log" || true)
    bench_stop_pid "$D_PID" TERM 50
    local answered p50 p99 pmax verdict
    answered=$(awk '$1 == 200' "$TMP/$name.probe" | grep -c . || true)
    p50=$(ms_col "$TMP/$name.probe" | bench_pct 50)
    p99=$(ms_col "$TMP/$name.probe" | bench_pct 99)
    pmax=$(ms_col "$TMP/$name.probe" | bench_pct 100)
    if ((answered >= T_ANSWERS)) && awk -v a="$p99" -v b=$T_P99_MS 'BEGIN{exit !(a < b)}'; then
        verdict=PASS
    else
        verdict=FAIL
    fi
    local codes
    codes=$(awk '{print $1}' "$TMP/$name.probe" | sort | uniq -c | awk '{printf "%s%sx%s", sep, $1, $2; sep=","}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$addrs" \
        "$(sed -n 's/.* open=\([0-9]*\).*/\1/p' <<<"$st1")" "$acc1" "$q1" \
        "$(sed -n 's/.*closed_by_server=\([0-9]*\).*/\1/p' <<<"$st1")" "$answered/$PROBES" "$codes" \
        "$base_p50" "$p50" "$p99" "$pmax" "$verdict" "$recovery" "$dlog" >>"$RES"
    note "probe: $answered/$PROBES answered ($codes), p50 $p50 ms, p99 $p99 ms, max $pmax ms: $verdict"
}

note "$(bench_machine_note)"
note "daemon limits (api/server.c): 128 connections in all (split over the MHD worker threads), 64 per address, 30 s idle timeout"
for s in $SCENARIOS; do
    run_scenario "$s"
done

echo
echo "== vmatlas slowloris: $(bench_machine_note)"
echo "== attacker: $CONNS connections, each sends a request line and Host, then one header line every ${INTERVAL}s, never the end;"
echo "   reconnects what the server closes, once per ${INTERVAL}s. Probe: $PROBES x curl GET /api/v1/node from 127.0.0.1,"
echo "   new connection each, ${PROBE_GAP}s apart, --max-time ${PROBE_TIMEOUT}s (a timeout counts as its ${PROBE_TIMEOUT} s)."
echo
printf '%-12s %5s %8s %10s %7s %10s %8s %-10s %8s %9s %9s %9s %-7s %10s\n' scenario addrs att_open d_accepted a_queue srv_closed answered codes base_p50 p50_ms p99_ms max_ms verdict recovery_s
while IFS=$'\t' read -r name addrs aopen acc q closed answered codes base p50 p99 pmax verdict recovery dlog; do
    printf '%-12s %5s %8s %10s %7s %10s %8s %-10s %8s %9s %9s %9s %-7s %10s\n' "$name" "$addrs" "$aopen" "$acc" \
        "$q" "$closed" "$answered" "$codes" "$base" "$p50" "$p99" "$pmax" "$verdict" "$recovery"
done <"$RES"
echo "(att_open: attacker connections with a completed handshake; d_accepted: connections the daemon holds on the"
echo " attacked port; a_queue: its listen socket's accept queue; srv_closed: attacker connections the server closed"
echo " so far; base_p50: the probe's p50 before the attack; verdict: ${T_ANSWERS}/${PROBES} answered and p99 < ${T_P99_MS} ms;"
echo " recovery_s: seconds from the attacker closing its sockets to the attacked port answering again;"
echo " daemon log lines beyond start-up: $(awk -F'\t' '{printf "%s %s; ", $1, $15}' "$RES"))"
exit 0
