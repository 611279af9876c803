#!/usr/bin/env bash
# bench/fleet.sh - a vmatlasd aggregator merging 100, 256 and 1,000 peers: round and merge
# time, peers up, both processes' peak RSS and fleet document latency during rounds. The
# peers are one fake-peer process (bench/fleet_peers.c) serving documents captured from a real
# vmatlasd on this host, with per-peer variation. Loopback only. See bench/README.md ("Fleet
# benchmark").
#
# Usage (as root):  bench/fleet.sh
# Environment:
#   PEER_COUNTS="100 256 1000"  fleet sizes, one run each per mode
#   MODES="changed unchanged"   changed: every document changes every interval (new ETag and
#                               numbers, as on real peers: the worst case, every body parsed);
#                               unchanged: ETags stay, every document after the first is a 304
#   MERGES=3          merges measured per run (after the first one, which is reported apart)
#   INTERVAL=10       aggregator --interval (seconds)   PEER_TIMEOUT=5  --peer-timeout
#   PROBE=1          fetch the three fleet documents (latency) at every poll during the runs;
#                    0: none (the rounds then run without those renders competing for CPU)
#   VARIANTS=4        variants of each peer document (numbers scaled by 1.00, 1.03, ...)
#   FIRST_ADDR=127.0.1.1 PORT=9477   the peers listen on FIRST_ADDR, FIRST_ADDR+1, ... :PORT
#   AGG_ADDR=127.0.0.77 CAPTURE_ADDR=127.0.0.78   the aggregator and the capture daemon
#   SAVE_DOCS=DIR     keep the captured documents (and variants) in DIR/docs-L (L: processes
#                     per peer) for another run;  DOCS=DIR  use them instead of capturing
#                     (the host's process table changes from run to run: this compares alike)
#   PROCS_LIMIT=N     the processes each peer is asked for, when VMATLASD is built from
#                     another tree than this script's (default: computed from limits.h)
#   VMATLASD=PATH     use this daemon binary instead of building one (Release) in BUILD_DIR
#   BUILD_DIR=DIR     where the daemon and fleet_peers are built (default <repo>/build-bench)
#   CC=cc             compiler for fleet_peers (needs zlib)
#   TIME_LIMIT=1800   the whole script is stopped (and cleaned up) after this many seconds
#
# Exit: 0 when every run worked (whatever the verdict against the targets: this is a benchmark,
# not a test), 77 when not root, 1 when something could not be built or run, 130/143 when
# interrupted.
set -euo pipefail

PROG=bench/fleet.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "$PROG: must run as root (the capture daemon reads every process's /proc files, the aggregator runs privilege-separated as in production); skipping" >&2
    exit 77
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd))
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

PEER_COUNTS=${PEER_COUNTS:-"100 256 1000"}
MODES=${MODES:-"changed unchanged"}
MERGES=${MERGES:-3}
INTERVAL=${INTERVAL:-10}
PEER_TIMEOUT=${PEER_TIMEOUT:-5}
VARIANTS=${VARIANTS:-4}
PROBE=${PROBE:-1}
FIRST_ADDR=${FIRST_ADDR:-127.0.1.1}
PORT=${PORT:-9477}
AGG_ADDR=${AGG_ADDR:-127.0.0.77}
CAPTURE_ADDR=${CAPTURE_ADDR:-127.0.0.78}
TIME_LIMIT=${TIME_LIMIT:-1800}
BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
BIN=$BUILD_DIR/bench
CC=${CC:-cc}
for v in MERGES INTERVAL PEER_TIMEOUT VARIANTS PORT TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
for n in $PEER_COUNTS; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "PEER_COUNTS holds '$n', not a positive integer"
done
for m in $MODES; do
    [[ $m == changed || $m == unchanged ]] || die "MODES holds '$m' (changed, unchanged)"
done
((VARIANTS <= 32)) || die "VARIANTS is at most 32"
for t in curl jq gzip; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install $t)"
done

# Targets (the fleet issue's acceptance line, see bench/README.md).
T_ROUND_S=$PEER_TIMEOUT # a round (fetch + merge) within one peer timeout ...
T_RSS_KB=262144         # ... with the aggregator under 256 MiB RSS

# ---- build ----------------------------------------------------------------------------------
mkdir -p "$BIN"
bench_build_daemon
"$CC" -O2 -std=gnu17 -Wall -Wextra -o "$BIN/fleet_peers" "$SCRIPT_DIR/fleet_peers.c" -lz \
    >"$BIN/fleet_peers-build.log" 2>&1 || { cat "$BIN/fleet_peers-build.log" >&2; die "building fleet_peers failed (zlib1g-dev?)"; }

# ---- clean-up -------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-fleet.XXXXXX")
chmod 755 "$TMP" # the aggregator's server process (nobody) reads the peers file
CAP_PID='' PEERS_PID='' AGG_PID='' WD_PID=''


# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    trap - INT TERM
    bench_stop_pid "$AGG_PID" TERM 100 # the collector process follows its parent
    bench_stop_pid "$PEERS_PID" TERM 30
    bench_stop_pid "$CAP_PID" TERM 50
    [[ -n $WD_PID ]] && kill -KILL -- "-$WD_PID" 2>/dev/null
    rm -rf "$TMP"
    return 0 # keep the script's own exit status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Watchdog: its own process group (sleep + kill), removed as a group by the clean-up.
setsid bash -c "sleep $TIME_LIMIT; echo '$PROG: time limit of ${TIME_LIMIT}s reached' >&2; kill -TERM $$" &
WD_PID=$!
disown "$WD_PID"

wait_ready() { # URL PID SECONDS
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        curl -sf -o /dev/null "$1/readyz" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# ---- capture: the documents a real peer serves on this host -----------------------------------
# What daemon/fleet.c fetches of every peer (api/fleet_doc.c, fleet_doc_path()). The processes
# asked of each peer depend on the fleet's size (api/fleet_client.c, update_procs_limit()):
# computed here from limits.h, and checked against the aggregator's log line.
BYS="comm unit cgroup user none"
limit_of() { # LIMIT_NAME: its value in include/vmatlas/limits.h
    awk -v n="$1" '$1 == "#define" && $2 == n { sub(/u$/, "", $3); print $3 }'         "$REPO/include/vmatlas/limits.h"
}
P_MAX=$(limit_of VM_FLEET_PROCS_PER_PEER)
P_TOTAL=$(limit_of VM_FLEET_PROCS_TOTAL)
P_MIN=$(limit_of VM_FLEET_PROCS_PER_PEER_MIN)
[[ $P_MAX =~ ^[0-9]+$ ]] || die "VM_FLEET_PROCS_PER_PEER not found in include/vmatlas/limits.h"
[[ $P_TOTAL =~ ^[0-9]+$ ]] || P_TOTAL=0 # a daemon without the fleet-wide budget
[[ $P_MIN =~ ^[0-9]+$ ]] || P_MIN=1
procs_limit() { # PEERS
    [[ -n ${PROCS_LIMIT:-} ]] && { echo "$PROCS_LIMIT"; return; }
    local l=$P_MAX
    ((P_TOTAL > 0 && P_TOTAL / $1 < l)) && l=$((P_TOTAL / $1))
    ((l < P_MIN)) && l=$((P_MIN < P_MAX ? P_MIN : P_MAX))
    echo "$l"
}

if [[ -z ${DOCS:-} ]]; then
    note "starting a real vmatlasd on $CAPTURE_ADDR:$PORT to capture peer documents from ..."
    "$VMATLASD" --listen "$CAPTURE_ADDR:$PORT" --interval 2 >"$TMP/capture.log" 2>&1 &
    CAP_PID=$!
    wait_ready "http://$CAPTURE_ADDR:$PORT" "$CAP_PID" 60 || { cat "$TMP/capture.log" >&2; die "the capture daemon is not ready"; }
    sleep 3 # a few scans: high-water groups with observed peaks
else
    DOCS=$(cd "$DOCS" && pwd)
    note "documents from $DOCS (not captured)"
fi

capture() { # PROCS_LIMIT: $TMP/docs-LIMIT/args (PATH=FILE[,VARIANT...] for fleet_peers, one a
    # line) and $TMP/docs-LIMIT/desc
    if [[ -n ${DOCS:-} ]]; then
        [[ -f $DOCS/docs-$1/args ]] || die "DOCS=$DOCS has no docs-$1 (saved with SAVE_DOCS for these fleet sizes?)"
        cp -r "$DOCS/docs-$1" "$TMP/"
        sed -i "s|$DOCS/docs-$1/|$TMP/docs-$1/|g" "$TMP/docs-$1/args"
        return 0
    fi
    local paths=("/api/v1/node" "/api/v1/processes?limit=$1&kthreads=include" "/api/v1/hugepages")
    local by i p v f out files
    for by in $BYS; do paths+=("/api/v1/hiwater?group_by=$by"); done
    local d=$TMP/docs-$1
    mkdir -p "$d"
    : >"$d/args"
    for i in "${!paths[@]}"; do
        p=${paths[$i]}
        curl -sf -H 'Accept: application/json' "http://$CAPTURE_ADDR:$PORT$p" -o "$d/$i.json" ||
            die "capture of $p failed"
        files=$d/$i.json
        # Variants: byte counts scaled by 1 + 0.03 v (pids, keys and times stay).
        for ((v = 1; v < VARIANTS; v++)); do
            f=$(awk -v v="$v" 'BEGIN { printf "%.2f", 1 + 0.03 * v }')
            out=$d/$i.$v.json
            case $p in
            */processes*)
                jq -c --argjson f "$f" 'def s: if type == "number" then (. * $f | floor) else . end;
                    .processes |= map(.memory |= map_values(s)
                        | .rollup |= (if type == "object" then map_values(s) else . end))' \
                    "$d/$i.json" >"$out" ;;
            */hiwater*)
                jq -c --argjson f "$f" 'def s: if type == "number" then (. * $f | floor) else . end;
                    .groups |= map(.rss |= s | .vm_hwm_sum |= s | .vm_hwm_max |= s
                        | .vm_peak_max |= s | .observed_rss_peak |= s)' "$d/$i.json" >"$out" ;;
            *) continue ;;
            esac
            files+=,$out
        done
        echo "$p=$files" >>"$d/args"
    done
    echo "$(jq '.total' "$d/1.json") processes, top $(jq '.processes | length' "$d/1.json") served ($(stat -c %s "$d/1.json") bytes, $(gzip -c "$d/1.json" | wc -c) gzipped), $(jq '.groups | length' "$d/3.json") comm groups" >"$d/desc"
}

# ---- one run ----------------------------------------------------------------------------------
metric() { # NAME FILE: the value of an unlabelled sample
    awk -v n="$1" '$1 == n { print $2; exit }' "$2"
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

RESULTS=()
run() { # MODE PEERS
    local mode=$1 n=$2 change=0 limit
    [[ $mode == changed ]] && change=$INTERVAL
    limit=$(procs_limit "$n")
    local doc_args
    mapfile -t doc_args <"$TMP/docs-$limit/args"
    note "run: $n peers, documents $mode; each peer: $(cat "$TMP/docs-$limit/desc") ..."
    "$BIN/fleet_peers" -a "$FIRST_ADDR" -n "$n" -p "$PORT" -c "$change" -o "$TMP/peers" \
        "${doc_args[@]}" >"$TMP/peers.out" 2>"$TMP/peers.err" &
    PEERS_PID=$!
    local i
    for ((i = 0; i < 300; i++)); do
        grep -q '^READY' "$TMP/peers.out" 2>/dev/null && break
        kill -0 "$PEERS_PID" 2>/dev/null || { cat "$TMP/peers.err" >&2; die "fleet_peers exited"; }
        sleep 0.2
    done
    grep -q '^READY' "$TMP/peers.out" || {
        cat "$TMP/peers.err" >&2
        echo "fleet_peers: $(tr '\0' ' ' <"/proc/$PEERS_PID/cmdline" | cut -c1-80)... state $(awk '{ print $3 }' "/proc/$PEERS_PID/stat"), wchan $(cat "/proc/$PEERS_PID/wchan")" >&2
        die "fleet_peers not ready after 60 s"
    }
    chmod 644 "$TMP/peers"

    local base="http://$AGG_ADDR:$PORT" log=$TMP/agg-$mode-$n.log
    "$VMATLASD" --listen "$AGG_ADDR:$PORT" --interval "$INTERVAL" --peer-timeout "$PEER_TIMEOUT" \
        --peers-file "$TMP/peers" >"$log" 2>&1 &
    AGG_PID=$!
    wait_ready "$base" "$AGG_PID" 60 || { cat "$log" >&2; die "the aggregator is not ready"; }
    for ((i = 0; i < 50; i++)); do # the fleet thread logs its peers once it has read them
        grep -q 'processes of each' "$log" && break
        sleep 0.2
    done
    if grep -q 'processes of each' "$log" && ! grep -q "the top $limit processes of each" "$log"; then
        grep 'processes of each' "$log" >&2
        die "the aggregator asks for another number of processes than $limit (limits.h changed? PROCS_LIMIT)"
    fi

    # Merges: the first (cold: every peer connects, nothing is cached) apart, then MERGES more.
    local seq=0 last=0 want=$((MERGES + 1)) deadline=$((SECONDS + (MERGES + 2) * INTERVAL + 60))
    local rounds=() merges=() ups=() first=""
    local lat_p=() lat_h=() lat_n=()
    while ((seq < want)); do
        ((SECONDS < deadline)) || die "$n peers: only $seq merges before the deadline"
        kill -0 "$AGG_PID" 2>/dev/null || { cat "$log" >&2; die "the aggregator exited"; }
        curl -sf "$base/metrics" -o "$TMP/m" || { sleep 0.2; continue; }
        seq=$(metric vmatlas_fleet_merges_total "$TMP/m")
        seq=${seq:-0}
        if ((seq > last)); then
            local r m u
            r=$(metric vmatlas_fleet_round_duration_seconds "$TMP/m")
            m=$(metric vmatlas_fleet_merge_duration_seconds "$TMP/m")
            u=$(metric vmatlas_fleet_peers_up "$TMP/m")
            if ((last == 0)); then
                first="$r/$m/$u"
            else
                rounds+=("$r") merges+=("$m") ups+=("$u")
            fi
            last=$seq
        fi
        # Fleet documents while rounds run (the first request after a merge renders it).
        if ((PROBE && seq >= 1)); then
            lat_p+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/api/v1/fleet/processes")")
            lat_h+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/api/v1/fleet/hiwater?group_by=comm")")
            lat_n+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/api/v1/fleet/nodes")")
        fi
        sleep 0.5
    done
    curl -sf "$base/api/v1/fleet/nodes" -o "$TMP/nodes.json" || true
    local down_err
    down_err=$(jq -r '[.nodes[] | select(.up | not) | .error] | group_by(.) | map("\(length)x \(.[0])") | join("; ")' "$TMP/nodes.json" 2>/dev/null || echo "?")
    local child main_kb child_kb
    child=$(cat "/proc/$AGG_PID/task/"*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)
    main_kb=$(hwm_kb "$AGG_PID")
    child_kb=0
    [[ -n $child ]] && child_kb=$(hwm_kb "$child")
    local cpu_s
    cpu_s=$(awk -v t="$(cpu_ticks "$AGG_PID")" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / h }')
    bench_stop_pid "$AGG_PID" TERM 100
    AGG_PID=
    bench_stop_pid "$PEERS_PID" TERM 30
    PEERS_PID=

    stats() { # values...: "max / median" in ms
        printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 * 1000 } END {
            if (NR == 0) { print "-"; exit } printf "%.0f / %.0f", v[NR], v[int((NR + 1) / 2)] }'
    }
    local rmax mmax umin verdict="PASS"
    rmax=$(printf '%s\n' "${rounds[@]}" | sort -g | tail -1)
    mmax=$(printf '%s\n' "${merges[@]}" | sort -g | tail -1)
    umin=$(printf '%s\n' "${ups[@]}" | sort -g | head -1)
    awk -v r="$rmax" -v t="$T_ROUND_S" 'BEGIN { exit !(r <= t) }' || verdict="FAIL(round)"
    ((umin == n)) || verdict="FAIL(up)"
    ((main_kb + child_kb < T_RSS_KB)) || verdict="$verdict FAIL(rss)"
    [[ $verdict == PASS ]] || verdict=${verdict#PASS }
    local line
    line=$(printf '%-9s %5d  procs %4d  first %-22s  round max %6.2fs  merge max %6.1fms  up min %4d  hwm main %7d kB  collector %6d kB  total %7d kB  cpu %6ss  lat max/med ms: processes %s, hiwater %s, nodes %s  %s' \
        "$mode" "$n" "$limit" "$first" "$rmax" "$(awk -v m="$mmax" 'BEGIN { print m * 1000 }')" "$umin" \
        "$main_kb" "$child_kb" "$((main_kb + child_kb))" "$cpu_s" \
        "$(stats "${lat_p[@]}")" "$(stats "${lat_h[@]}")" "$(stats "${lat_n[@]}")" "$verdict")
    echo "$line"
    [[ -z $down_err ]] || note "down: $down_err"
    RESULTS+=("$line")
}

for n in $PEER_COUNTS; do
    [[ -f $TMP/docs-$(procs_limit "$n")/args ]] || capture "$(procs_limit "$n")"
done
bench_stop_pid "$CAP_PID" TERM 50 # not scanning (and taking CPU) during the runs
CAP_PID=
if [[ -n ${SAVE_DOCS:-} ]]; then
    mkdir -p "$SAVE_DOCS"
    for d in "$TMP"/docs-*; do
        rm -rf "${SAVE_DOCS:?}/${d##*/}"
        cp -r "$d" "$SAVE_DOCS/"
        sed -i "s|$TMP/|$SAVE_DOCS/|g" "$SAVE_DOCS/${d##*/}/args"
    done
    note "documents saved in $SAVE_DOCS"
fi

note "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
for mode in $MODES; do
    for n in $PEER_COUNTS; do
        run "$mode" "$n"
    done
done
echo
note "summary (targets: round <= ${T_ROUND_S}s with every peer up, aggregator VmHWM total < $((T_RSS_KB / 1024)) MiB):"
printf '%s\n' "${RESULTS[@]}"
exit 0
