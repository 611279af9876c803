#!/usr/bin/env bash
# bench/run.sh - whole-process CPU, wall time and peak RSS of one `vmatlasd --once` collection
# against the kernel floors of /work/shared/bench/floor.c, on the reference process table of
# /work/shared/bench/workload.c. See bench/README.md for what the figures mean.
#
# Usage (as root):  bench/run.sh
# Environment:
#   R=11            timed reps (each rep runs every variant once, order rotated per rep)
#   N=300 M=100     workload processes / mappings per process
#   VMATLASD=PATH   use this daemon binary instead of building one (Release) in BUILD_DIR
#   BUILD_DIR=DIR   where the daemon and the bench tools are built (default <repo>/build-bench)
#   SHARED_DIR=DIR  the shared folder (holding bench/workload.c) or the bench folder itself
#                   (default <repo>/../shared)
#   CC=cc           compiler for workload, floor and cpu_of
#   BENCH_CFLAGS    extra CMAKE_C_FLAGS for the daemon build (default none)
#   READY_TIMEOUT=300  seconds to wait for the workload's READY line
#
# Exit: 0 when every run worked (PASS or FAIL against the targets alike: this is a benchmark,
# not a test), 77 when not root, 1 when something could not be built or run.
set -euo pipefail

die() { echo "bench/run.sh: error: $*" >&2; exit 1; }

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "bench/run.sh: must run as root (vmatlasd and floor read every process's /proc files); skipping" >&2
    exit 77
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_locate_shared workload.c floor.c

R=${R:-11}
N=${N:-300}
M=${M:-100}
READY_TIMEOUT=${READY_TIMEOUT:-300}
BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
BIN=$BUILD_DIR/bench
CC=${CC:-cc}
[[ $R =~ ^[1-9][0-9]*$ ]] || die "R must be a positive integer, not '$R'"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
[[ $M =~ ^[1-9][0-9]*$ ]] || die "M must be a positive integer, not '$M'"

# ---- build ----------------------------------------------------------------------------------
mkdir -p "$BIN"
if [[ -n ${VMATLASD:-} ]]; then
    [[ -x $VMATLASD ]] || die "VMATLASD=$VMATLASD is not an executable file"
    VMATLASD=$(cd "$(dirname "$VMATLASD")" && pwd)/$(basename "$VMATLASD")
    echo "# daemon: $VMATLASD (given)"
else
    echo "# building vmatlasd (Release) in $BUILD_DIR ..."
    gen=()
    command -v ninja >/dev/null 2>&1 && [[ ! -f $BUILD_DIR/Makefile ]] && gen=(-G Ninja)
    if ! cmake -S "$REPO" -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
            -DVMATLAS_TESTS=OFF "-DCMAKE_C_FLAGS=${BENCH_CFLAGS-}" \
            >"$BIN/cmake.log" 2>&1; then
        cat "$BIN/cmake.log" >&2
        die "cmake configure failed (log: $BIN/cmake.log)"
    fi
    if ! cmake --build "$BUILD_DIR" --target vmatlasd >"$BIN/build.log" 2>&1; then
        tail -n 40 "$BIN/build.log" >&2
        die "building vmatlasd failed (log: $BIN/build.log)"
    fi
    VMATLASD=$BUILD_DIR/vmatlasd
    echo "# daemon: $VMATLASD (Release)"
fi
"$CC" -O2 -Wall -o "$BIN/workload" "$BENCH_SRC/workload.c" || die "cannot build workload"
"$CC" -O2 -Wall -o "$BIN/floor" "$BENCH_SRC/floor.c" || die "cannot build floor"
"$CC" -O2 -Wall -Wextra -Werror -o "$BIN/cpu_of" "$SCRIPT_DIR/cpu_of.c" || die "cannot build cpu_of"
CPU_OF=$BIN/cpu_of
FLOOR=$BIN/floor

# ---- workload -------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-bench.XXXXXX")
WL_PID=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    if [[ -n $WL_PID ]] && kill -0 "$WL_PID" 2>/dev/null; then
        kill -TERM "$WL_PID" 2>/dev/null || true # it SIGKILLs its children and removes its file
        wait "$WL_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "# starting workload -n $N -m $M -r 2048 -t 0.5 -q ..."
bench_start_workload
echo "# workload: $READY_LINE"

# ---- the variants -----------------------------------------------------------------------------
NAMES=(summary fastall fastpss deep full)
LETTERS=(a b c d e)
DESCS=("vmatlasd --once --deep-walk-budget 0"
       "floor -q -w 0 -r 1 -v fastall"
       "floor -q -w 0 -r 1 -v fastpss"
       "vmatlasd --once --deep-walk-budget 100 --format=prometheus"
       "floor -q -w 0 -r 1 -v full")
variant_cmd() { # $1 = index -> CMD array
    case $1 in
    0) CMD=("$VMATLASD" --once --deep-walk-budget 0) ;;
    1) CMD=("$FLOOR" -q -w 0 -r 1 -v fastall) ;;
    2) CMD=("$FLOOR" -q -w 0 -r 1 -v fastpss) ;;
    3) CMD=("$VMATLASD" --once --deep-walk-budget 100 --format=prometheus) ;;
    4) CMD=("$FLOOR" -q -w 0 -r 1 -v full) ;;
    esac
}
NV=${#NAMES[@]}
declare -a CPU WALL RSS
for ((i = 0; i < NV; i++)); do CPU[i]=; WALL[i]=; RSS[i]=; done
FAILED=0

# run_one INDEX OUTFILE: time one run; append its figures unless OUTFILE is given (warm-up).
run_one() {
    local i=$1 out=${2:-/dev/null} line
    variant_cmd "$i"
    if ! "$CPU_OF" -o "$out" "${CMD[@]}" 2>"$TMP/err"; then
        echo "bench/run.sh: FAILED to run: ${CMD[*]}" >&2
        cat "$TMP/err" >&2
        FAILED=1
        return 0
    fi
    # anything the command itself wrote to stderr is worth seeing
    if grep -qv '^cpu_ms=' "$TMP/err"; then
        echo "# stderr of ${DESCS[i]}:" >&2
        grep -v '^cpu_ms=' "$TMP/err" | head -n 5 | sed 's/^/#   /' >&2
    fi
    line=$(grep '^cpu_ms=' "$TMP/err" | tail -n 1)
    [[ $line =~ cpu_ms=([0-9.]+)\ wall_ms=([0-9.]+)\ maxrss_kb=([0-9]+) ]] ||
        { echo "bench/run.sh: no figures from cpu_of: $line" >&2; FAILED=1; return 0; }
    if [[ $out == /dev/null ]]; then
        CPU[i]+="${BASH_REMATCH[1]} "
        WALL[i]+="${BASH_REMATCH[2]} "
        RSS[i]+="${BASH_REMATCH[3]} "
    fi
}

# One untimed warm-up round (dentry/inode caches, page cache of the binaries); it also keeps
# the outputs of the two daemon variants for the counts and the snapshot gauge.
echo "# warm-up round ..."
for ((i = 0; i < NV; i++)); do
    case $i in
    0) run_one 0 "$TMP/summary.json" ;;
    3) run_one 3 "$TMP/deep.prom" ;;
    *) run_one "$i" "$TMP/warm.out" ;;
    esac
done
((FAILED == 0)) || die "a variant failed in the warm-up round"

echo "# $R reps x $NV variants, interleaved, order rotated every rep ..."
T0=$SECONDS
for ((r = 0; r < R; r++)); do
    for ((k = 0; k < NV; k++)); do
        run_one $(((k + r) % NV))
    done
done
echo "# timed reps took $((SECONDS - T0)) s"

# Also keep the output of one more deep run (after the timed reps) for the gauges.
run_one 3 "$TMP/deep.prom"
((FAILED == 0)) || die "at least one run failed (see above)"

# ---- report -----------------------------------------------------------------------------------
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END{if(NR==0){print "nan";exit}
    if(NR%2) printf "%.3f\n", v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
minmax() { tr ' ' '\n' | grep . | sort -g | awk 'NR==1{mn=$1} {mx=$1} END{printf "%.1f..%.1f\n", mn, mx}'; }
# per-rep ratio a[r]/b[r], then the median
rep_ratio() { paste -d' ' <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) |
    awk '$2>0{print $1/$2}' | tr '\n' ' ' | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{if(b>0) printf "%.3f\n", a/b; else print "nan"}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 <= b+0)}'; }
verdict() { if le "$1" "$2"; then echo PASS; else echo FAIL; fi; }
gauge() { awk -v n="$1" '$1==n{print $2; f=1; exit} END{if(!f) print ""}' "$TMP/deep.prom"; }

declare -a MCPU MWALL MRSS
for ((i = 0; i < NV; i++)); do
    MCPU[i]=$(median <<<"${CPU[i]}")
    MWALL[i]=$(median <<<"${WALL[i]}")
    MRSS[i]=$(median <<<"${RSS[i]}")
done

PROCS=$(gauge vmatlas_processes)
KTHREADS=$(gauge vmatlas_kernel_threads)
VMAS=$(gauge vmatlas_vmas)
SNAP_BYTES=$(gauge vmatlas_snapshot_bytes)
DEEP_CPU=$(gauge vmatlas_scan_deep_cpu_seconds)
SCAN_CPU=$(gauge vmatlas_scan_cpu_seconds)

echo
echo "== vmatlas benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores, R=$R"
echo "== workload: $(sed -E 's/ parent=[0-9]+//' <<<"$READY_LINE")"
echo "== processes: ${PROCS:-?} user + ${KTHREADS:-?} kernel threads, VMAs: ${VMAS:-?}  (vmatlasd prometheus output of variant d)"
echo
printf '%-3s %-8s %10s %14s %10s %12s  %s\n' "" variant cpu_ms "cpu_min..max" wall_ms maxrss_kb command
for ((i = 0; i < NV; i++)); do
    printf '%-3s %-8s %10.1f %14s %10.1f %12.0f  %s\n' "(${LETTERS[i]})" \
        "${NAMES[i]}" "${MCPU[i]}" "$(minmax <<<"${CPU[i]}")" "${MWALL[i]}" "${MRSS[i]}" "${DESCS[i]}"
done
echo "(medians over $R reps; cpu = user+sys of the whole process incl. start-up, from wait4)"
echo

R_PSS=$(div "${MCPU[0]}" "${MCPU[2]}")
R_ALL=$(div "${MCPU[0]}" "${MCPU[1]}")
R_FULL=$(div "${MCPU[3]}" "${MCPU[4]}")
printf '%-52s %7s  (per-rep median %s)  acceptance <= 1.5: %s, goal <= 1.2: %s\n' \
    "ratio vmatlasd summary CPU / fastpss CPU:" "$R_PSS" "$(rep_ratio "${CPU[0]}" "${CPU[2]}")" \
    "$(verdict "$R_PSS" 1.5)" "$(verdict "$R_PSS" 1.2)"
printf '%-52s %7s  (per-rep median %s)\n' "ratio vmatlasd summary CPU / fastall CPU:" "$R_ALL" \
    "$(rep_ratio "${CPU[0]}" "${CPU[1]}")"
printf '%-52s %7s  (per-rep median %s)\n' "ratio vmatlasd deep CPU / full CPU:" "$R_FULL" \
    "$(rep_ratio "${CPU[3]}" "${CPU[4]}")"
RSS_D=${MRSS[3]%.*}
printf '%-52s %7s kB (%.1f MiB)  target <= 19456 kB (19 MiB): %s\n' \
    "daemon max RSS holding every VMA (variant d):" "$RSS_D" "$(div "$RSS_D" 1024)" \
    "$(verdict "$RSS_D" 19456)"
if [[ -n $SNAP_BYTES && -n $VMAS && $VMAS != 0 ]]; then
    BPV=$(div "$SNAP_BYTES" "$VMAS")
    printf '%-52s %7s  (%s bytes / %s VMAs)  target <= 150: %s\n' "snapshot bytes per VMA:" \
        "$BPV" "$SNAP_BYTES" "$VMAS" "$(verdict "$BPV" 150)"
else
    printf '%-52s %7s  (vmatlas_snapshot_bytes not in the output)\n' "snapshot bytes per VMA:" "n/a"
fi
[[ -n $DEEP_CPU ]] && printf '%-52s %s s of %s s scan CPU (deep run kept after the reps)\n' \
    "daemon's own figures: vmatlas_scan_deep_cpu_seconds" "$DEEP_CPU" "${SCAN_CPU:-?}"
errs=$(awk '$1 ~ /^vmatlas_scan_errors_total/ {s+=$2} END{print s+0}' "$TMP/deep.prom")
vanished=$(gauge vmatlas_processes_vanished_total)
echo "daemon's own figures: scan errors ${errs}, processes vanished ${vanished:-?} (processes that exit mid-scan count here)"
exit 0
