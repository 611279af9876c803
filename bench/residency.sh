#!/usr/bin/env bash
# bench/residency.sh - what page-walk residency costs, and what the daemon does to the processes
# it watches. Three parts (see bench/README.md, "Residency benchmark"):
#   cost      whole-process CPU of `vmatlasd --once --deep-walk-budget 100` with each
#             --residency-source against `floor -v scanall` (and the other floors) of
#             ../shared/bench/floor.c, on two loads of ../shared/bench/workload.c, R interleaved
#             reps; the walk's own cost as the difference to --residency-source smaps; and a
#             check that the daemon and the floor walked the same processes, VMAs and pages.
#   observer  p50/p99/p999/max of an mmap+touch+munmap loop (bench/mmap_probe.c, holding 2 GiB
#             in 8192 VMAs) with no observer, with vmatlasd (--interval 1, and the default 10)
#             scraped every second plus a forced walk of the probe every REFRESH_EVERY seconds,
#             and with Debian's prometheus-process-exporter (-gather-smaps) scraped every second.
#   burst     ?refresh=1 requests in a row and at once against a default vmatlasd: 200/429
#             answers, Retry-After, and the daemon's CPU against its page-walk budget.
#
# Usage (as root):  bench/residency.sh
# Environment:
#   R=7                 timed reps of the cost part (each rep runs every variant once, rotated)
#   N=300 M=100         the small load: workload -n N -m M -r 2048 -t 0.5
#   LARGE=4 LARGE_MIB=8192  the large load: workload -L LARGE -r LARGE_MIB -t 0.5 -H 0.5 (-r is
#                       the touched total of all processes; scaled down when RAM is short)
#   PHASE_SECONDS=20    length of each observer phase     OBS_ROUNDS=2  observer rounds (rotated)
#   PROBE_MIB=2048 PROBE_VMAS=8192 PROBE_PAUSE_US=50   the probe's held memory, VMAs, pause
#   REFRESH_EVERY=5     seconds between forced walks of the probe (?refresh=1) in daemon phases
#   BURST_SEQ=50 BURST_CONC=10  refreshes in a row / at once     AFTER_SECONDS=60  watched after
#   BASELINE_SECONDS=20 the daemon's CPU before the burst (after SETTLE_SECONDS=12 of start-up)
#   PARTS="cost observer burst"  which parts to run
#   FLOOR_PAGEMAP=1     also time `floor -v pagemap` (pread of every VMA) in the cost part; off
#                       by default: it reads 8 bytes per page of every mapping, and an ASan
#                       process elsewhere on the machine (20 TiB of shadow) makes it take minutes
#   VMATLASD=PATH       use this daemon binary instead of building one (Release) in BUILD_DIR
#   BUILD_DIR=DIR       where everything is built (default <repo>/build-bench)
#   SHARED_DIR=DIR      the shared folder (holding bench/workload.c) or the bench folder itself
#   CC=cc  READY_TIMEOUT=300  TIME_LIMIT=1500 (the whole script is stopped after it)
#   NO_INSTALL=1        never install missing tools (curl, jq, prometheus-process-exporter)
#
# Exit: 0 when every run worked (PASS or FAIL against the targets alike: this is a benchmark,
# not a test), 77 when not root, 1 when something could not be installed, built or run,
# 130/143 when interrupted.
set -euo pipefail

PROG=bench/residency.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "$PROG: must run as root (vmatlasd, floor and process-exporter read every process's /proc files; missing tools are installed with apt-get); skipping" >&2
    exit 77
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_locate_shared workload.c floor.c

R=${R:-7}
N=${N:-300}
M=${M:-100}
LARGE=${LARGE:-4}
LARGE_MIB=${LARGE_MIB:-8192}
PHASE_SECONDS=${PHASE_SECONDS:-20}
OBS_ROUNDS=${OBS_ROUNDS:-2}
PROBE_MIB=${PROBE_MIB:-2048}
PROBE_VMAS=${PROBE_VMAS:-8192}
PROBE_PAUSE_US=${PROBE_PAUSE_US:-50}
REFRESH_EVERY=${REFRESH_EVERY:-5}
BURST_SEQ=${BURST_SEQ:-50}
BURST_CONC=${BURST_CONC:-10}
AFTER_SECONDS=${AFTER_SECONDS:-60}
BASELINE_SECONDS=${BASELINE_SECONDS:-20}
SETTLE_SECONDS=${SETTLE_SECONDS:-12}
PARTS=${PARTS:-cost observer burst}
FLOOR_PAGEMAP=${FLOOR_PAGEMAP:-}
READY_TIMEOUT=${READY_TIMEOUT:-300}
TIME_LIMIT=${TIME_LIMIT:-1500}
BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
BIN=$BUILD_DIR/bench
CC=${CC:-cc}
for v in R N M LARGE LARGE_MIB PHASE_SECONDS OBS_ROUNDS PROBE_MIB PROBE_VMAS REFRESH_EVERY \
         BURST_SEQ BURST_CONC AFTER_SECONDS BASELINE_SECONDS SETTLE_SECONDS READY_TIMEOUT TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ $PROBE_PAUSE_US =~ ^[0-9]+$ ]] || die "PROBE_PAUSE_US must be a non-negative integer"
want() { [[ " $PARTS " == *" $1 "* ]]; }
for p in $PARTS; do
    [[ $p == cost || $p == observer || $p == burst ]] || die "PARTS: unknown part '$p' (cost, observer, burst)"
done

# Targets (see bench/README.md).
T_WALK=1.3   # the walk of every process <= 1.3 x `floor -v scanall` CPU, same run
T_OBS=2      # the probe's p99 with the daemon watching <= 2 x its p99 unwatched
BUDGET_PCT=5 # the daemon's default --deep-walk-budget, % of one core

# ---- tools ------------------------------------------------------------------------------------
PE=
find_pe() {
    PE=$(command -v prometheus-process-exporter 2>/dev/null || true)
    [[ -n $PE ]]
}
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
want observer && ! find_pe && missing+=(prometheus-process-exporter)
if ((${#missing[@]})); then
    [[ -z ${NO_INSTALL:-} ]] || die "missing: ${missing[*]} (NO_INSTALL is set)"
    command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]}, and there is no apt-get to install them"
    export DEBIAN_FRONTEND=noninteractive
    need_update=0
    for p in "${missing[@]}"; do
        cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/{print $2}')
        [[ -z $cand || $cand == "(none)" ]] && need_update=1
    done
    APT_LOG=${TMPDIR:-/tmp}/vmatlas-residency-apt.log
    if ((need_update)); then
        note "apt-get update (no install candidate for one of: ${missing[*]}) ..."
        timeout 600 apt-get update -q >"$APT_LOG" 2>&1 || die "apt-get update failed (log: $APT_LOG)"
    fi
    note "apt-get install -y ${missing[*]} ..."
    # Debian's package enables a prometheus-process-exporter service where an init system runs
    # it; this script starts its own instance on a loopback port and never touches that one.
    timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}" >"$APT_LOG" 2>&1 ||
        die "apt-get install ${missing[*]} failed (log: $APT_LOG)"
    rm -f "$APT_LOG" # kept only when apt-get failed
    command -v curl >/dev/null 2>&1 || die "curl still missing after apt-get install"
    command -v jq >/dev/null 2>&1 || die "jq still missing after apt-get install"
    if want observer; then find_pe || die "prometheus-process-exporter still missing after apt-get install"; fi
fi
CLK_TCK=$(getconf CLK_TCK)

# ---- build ----------------------------------------------------------------------------------
mkdir -p "$BIN"
bench_build_daemon
"$CC" -O2 -Wall -o "$BIN/workload" "$BENCH_SRC/workload.c" || die "cannot build workload"
"$CC" -O2 -Wall -o "$BIN/floor" "$BENCH_SRC/floor.c" || die "cannot build floor"
"$CC" -O2 -Wall -Wextra -Werror -o "$BIN/cpu_of" "$SCRIPT_DIR/cpu_of.c" || die "cannot build cpu_of"
"$CC" -O2 -Wall -Wextra -Werror -o "$BIN/mmap_probe" "$SCRIPT_DIR/mmap_probe.c" || die "cannot build mmap_probe"
CPU_OF=$BIN/cpu_of
FLOOR=$BIN/floor

# ---- clean-up -------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-residency.XXXXXX")
WL_PID='' D_PID='' PE_PID='' PROBE_PID='' POLL_PID='' WD_PID=''
SCRAPERS=() # process groups of the scrape loops

stop_scrapers() {
    local g
    for g in "${SCRAPERS[@]}"; do
        kill -TERM -- "-$g" 2>/dev/null || true
        wait "$g" 2>/dev/null || true
    done
    SCRAPERS=()
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    trap - INT TERM
    stop_scrapers
    bench_stop_pid "$POLL_PID" TERM 20
    bench_stop_pid "$PE_PID" TERM 50
    bench_stop_pid "$D_PID" TERM 50
    bench_stop_pid "$PROBE_PID" TERM 50
    bench_stop_pid "$WL_PID" TERM 100 # it SIGKILLs its children and removes its file
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
disown "$WD_PID" # no job notice when the clean-up kills it

# ---- helpers ----------------------------------------------------------------------------------
median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{v[NR]=$1} END{if(NR==0){print "nan";exit}
    if(NR%2) printf "%.3f\n", v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
minmax() { tr ' ' '\n' | { grep . || true; } | sort -g | awk 'NR==1{mn=$1} {mx=$1} END{printf "%.1f..%.1f\n", mn, mx}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{if(b>0) printf "%.3f\n", a/b; else print "nan"}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 <= b+0)}'; }
verdict() { if [[ $1 != nan ]] && le "$1" "$2"; then echo PASS; else echo FAIL; fi; }
# per-rep (a[r] - b[r]) / c[r] (c and b may be empty: then a/c or a-b), median over the reps
rep_expr() { # EXPR A B C: awk expression of a, b, c per rep
    paste -d' ' <(tr ' ' '\n' <<<"$2" | grep .) <(tr ' ' '\n' <<<"$3" | grep .) \
        <(tr ' ' '\n' <<<"$4" | grep .) | awk "NF==3 && \$3>0 {a=\$1; b=\$2; c=\$3; print $1}" |
        tr '\n' ' ' | median
}
alive() { # PID: running (not gone, not a zombie)
    local f
    f=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    f=${f##*) }
    [[ ${f:0:1} != Z && ${f:0:1} != X ]]
}
cpu_ticks_one() { # PID -> utime+stime of the process (all its threads), in clock ticks
    local f
    f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    f=${f##*) }
    # shellcheck disable=SC2086
    set -- $f
    echo $((${12} + ${13}))
}
cpu_ticks() { # PID -> utime+stime of the process and its children (vmatlasd's collector
    # process under privilege separation does the scanning), in clock ticks
    local t kid kids=()
    t=$(cpu_ticks_one "$1")
    read -ra kids <"/proc/$1/task/$1/children" 2>/dev/null || true
    for kid in "${kids[@]}"; do
        t=$((t + $(cpu_ticks_one "$kid")))
    done
    echo "$t"
}
ticks_pct() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$2" 'BEGIN{ if (s > 0) printf "%.1f\n", t / hz / s * 100; else print "nan" }'; }
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f\n", b - a}'; }
port_in_use() { # PORT: any TCP socket (v4 or v6) bound to it locally
    local hex
    hex=$(printf ':%04X ' "$1")
    grep -qi "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
gauge() { awk -v n="$1" '$1==n{print $2; f=1; exit} END{if(!f) print ""}' "$2"; }

# start_daemon ARGS...: vmatlasd --listen 127.0.0.1:0 ARGS; sets D_PID and D_BASE once /readyz
# answers (the first snapshot exists).
start_daemon() { bench_start_daemon "$TMP/vmatlasd.log" "$@"; }
stop_daemon() {
    bench_stop_pid "$D_PID" TERM 50
    D_PID=
}

# start_scraper URL EVERY_S LOG: GET URL every EVERY_S seconds (after the answer) in a process
# group of its own; one line per answer: "<code> ra=<Retry-After> <seconds>".
start_scraper() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid bash -c 'while :; do
        curl -s -o /dev/null --max-time 30 -w "%{http_code} ra=%header{retry-after} %{time_total}\n" "$1" >>"$3" 2>/dev/null
        sleep "$2"
    done' scraper "$1" "$2" "$3" &
    SCRAPERS+=($!)
}

# start_workload LABEL ARGS...: the workload with those arguments, its pids in $TMP/wl.pids.
start_workload() {
    local label=$1
    shift
    note "starting workload $* ($label) ..."
    # shellcheck disable=SC2034 # read by bench_start_workload (lib.sh)
    WL_ARGS=("$@" -q -o "$TMP/wl.pids")
    bench_start_workload
    note "workload: $READY_LINE"
}
stop_workload() {
    bench_stop_pid "$WL_PID" TERM 100
    WL_PID=
}

REPORT=$TMP/report # every part appends its figures; printed as they come and again at the end
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
sayf() { # printf to stdout and the report
    # shellcheck disable=SC2059
    printf "$@" | tee -a "$REPORT"
}
VERDICTS=()

echo "== vmatlas residency benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ==== part 1: cost =============================================================================
VNAMES=(scan pagemap smaps scanall pmfloor fullscan)
VDESCS=("vmatlasd --once --deep-walk-budget 100 --residency-source pagemap_scan --format=prometheus"
        "vmatlasd --once --deep-walk-budget 100 --residency-source pagemap --format=prometheus"
        "vmatlasd --once --deep-walk-budget 100 --residency-source smaps --format=prometheus"
        "floor -q -w 0 -r 1 -v scanall"
        "floor -q -w 0 -r 1 -v pagemap"
        "floor -q -w 0 -r 1 -v full,scanall")
NV=${#VNAMES[@]}
variant_cmd() { # INDEX -> CMD
    local d=("$VMATLASD" --once --deep-walk-budget 100 --format=prometheus --residency-source)
    case $1 in
    0) CMD=("${d[@]}" pagemap_scan) ;;
    1) CMD=("${d[@]}" pagemap) ;;
    2) CMD=("${d[@]}" smaps) ;;
    3) CMD=("$FLOOR" -q -w 0 -r 1 -v scanall) ;;
    4) CMD=("$FLOOR" -q -w 0 -r 1 -v pagemap) ;;
    5) CMD=("$FLOOR" -q -w 0 -r 1 -v "full,scanall") ;;
    esac
}
declare -A CPU WALL RSS DEEP SCANCPU
skipped() { [[ $1 == 4 && -z $FLOOR_PAGEMAP ]]; } # INDEX: a variant not run

# run_one LOAD INDEX [warm]: time one run with cpu_of; keep the daemon's output for its gauges.
run_one() {
    local load=$1 i=$2 warm=${3:-} out=$TMP/out.$1.$2 line
    variant_cmd "$i"
    if ! "$CPU_OF" -o "$out" "${CMD[@]}" 2>"$TMP/err"; then
        cat "$TMP/err" >&2
        die "failed to run: ${CMD[*]}"
    fi
    if grep -qv '^cpu_ms=' "$TMP/err"; then
        echo "# stderr of ${VDESCS[i]}:" >&2
        grep -v '^cpu_ms=' "$TMP/err" | head -n 5 | sed 's/^/#   /' >&2
    fi
    line=$(grep '^cpu_ms=' "$TMP/err" | tail -n 1)
    [[ $line =~ cpu_ms=([0-9.]+)\ wall_ms=([0-9.]+)\ maxrss_kb=([0-9]+) ]] ||
        die "no figures from cpu_of: $line"
    [[ -n $warm ]] && return 0
    local k=$load:$i
    CPU[$k]+="${BASH_REMATCH[1]} "
    WALL[$k]+="${BASH_REMATCH[2]} "
    RSS[$k]+="${BASH_REMATCH[3]} "
    if ((i <= 2)); then
        local dc sc
        dc=$(gauge vmatlas_scan_deep_cpu_seconds "$out")
        sc=$(gauge vmatlas_scan_cpu_seconds "$out")
        [[ -n $dc && -n $sc ]] || die "no vmatlas_scan_deep_cpu_seconds in the output of ${VDESCS[i]}"
        DEEP[$k]+="$(awk -v s="$dc" 'BEGIN{printf "%.3f", s * 1000}') "
        SCANCPU[$k]+="$(awk -v s="$sc" 'BEGIN{printf "%.3f", s * 1000}') "
    fi
}

# residency_sums SOURCE: a daemon with --deep-walk-budget 100 --residency-source SOURCE and one
# snapshot; prints "processes_walked present_bytes thp_bytes vma_count_sum" over every user
# process whose residency came from the walk.
residency_sums() {
    start_daemon --interval 3600 --deep-walk-budget 100 --residency-source "$1"
    curl -sf --max-time 30 "$D_BASE/api/v1/processes?limit=10000&kthreads=exclude" |
        jq -r '.processes[].pid' >"$TMP/pids" || die "cannot list the daemon's processes"
    awk -v b="$D_BASE" '{printf "url = \"%s/api/v1/processes/%s\"\n", b, $1}' "$TMP/pids" >"$TMP/urls"
    curl -s --max-time 120 -K "$TMP/urls" >"$TMP/details.json" || true
    stop_daemon
    jq -s -r --arg src "$1" '[.[] | .process? // empty | select(.residency.source? == $src)] |
        "\(length) \(map(.residency.present // 0) | add // 0) \(map(.residency.thp // 0) | add // 0) \(map(.vma_count // 0) | add // 0)"' \
        "$TMP/details.json"
}

# cost_part LOAD: R reps of the variants on the running workload, then the cross-check.
cost_part() {
    local load=$1 i k r
    note "[$load] warm-up round ..."
    for ((i = 0; i < NV; i++)); do skipped "$i" || run_one "$load" "$i" warm; done
    note "[$load] $R reps x $NV variants, interleaved, order rotated every rep ..."
    local t0=$SECONDS
    for ((r = 0; r < R; r++)); do
        for ((k = 0; k < NV; k++)); do
            i=$(((k + r) % NV))
            skipped "$i" || run_one "$load" "$i"
        done
    done
    note "[$load] timed reps took $((SECONDS - t0)) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    cp "$TMP/out.$load.0" "$TMP/prom.$load" # the pagemap_scan variant's output of the last rep

    # What the floor walked: scanall (pids, present and huge pages) and scan (VMAs below
    # USER_END, i.e. without [vsyscall]); one non-quiet pass each.
    note "[$load] cross-check: floor -w 0 -r 1 -v scanall,scan; vmatlasd residency of every process ..."
    "$FLOOR" -w 0 -r 1 -v scanall,scan >"$TMP/floor.$load" 2>&1 || die "floor -v scanall,scan failed"
    residency_sums pagemap_scan >"$TMP/sums.$load.scan"
    residency_sums pagemap >"$TMP/sums.$load.pagemap"
}

cost_report() {
    local load=$1 i k
    local -a MC
    say
    say "== cost [$load]: $(sed -E 's/ parent=[0-9]+//' <<<"${READY_OF[$load]}")"
    sayf '%-3s %-9s %10s %14s %10s %10s %10s  %s\n' "" variant cpu_ms "cpu_min..max" wall_ms maxrss_kb deep_ms command
    for ((i = 0; i < NV; i++)); do
        k=$load:$i
        if skipped "$i"; then
            MC[i]=nan
            sayf '%-3s %-9s %10s %14s %10s %10s %10s  %s\n' "($i)" "${VNAMES[i]}" - - - - - \
                "${VDESCS[i]}: not run (FLOOR_PAGEMAP=1 runs it)"
            continue
        fi
        MC[i]=$(median <<<"${CPU[$k]}")
        local dm=-
        ((i <= 2)) && dm=$(median <<<"${DEEP[$k]}")
        sayf '%-3s %-9s %10.1f %14s %10.1f %10.0f %10s  %s\n' "($i)" "${VNAMES[i]}" "${MC[i]}" \
            "$(minmax <<<"${CPU[$k]}")" "$(median <<<"${WALL[$k]}")" "$(median <<<"${RSS[$k]}")" \
            "$dm" "${VDESCS[i]}"
    done
    say "(medians over $R reps; cpu = user+sys of the whole process incl. start-up, from wait4;"
    say " deep_ms = the daemon's own vmatlas_scan_deep_cpu_seconds: smaps + walk of every process)"
    local c0=$load:0 c1=$load:1 c2=$load:2 c3=$load:3 c4=$load:4 c5=$load:5
    local walk walk_d wpm wpm_d
    walk=$(rep_expr '(a-b)/c' "${CPU[$c0]}" "${CPU[$c2]}" "${CPU[$c3]}")
    walk_d=$(rep_expr '(a-b)/c' "${DEEP[$c0]}" "${DEEP[$c2]}" "${CPU[$c3]}")
    wpm=nan
    skipped 4 || wpm=$(rep_expr '(a-b)/c' "${CPU[$c1]}" "${CPU[$c2]}" "${CPU[$c4]}")
    wpm_d=$(rep_expr '(a-b)/c' "${CPU[$c1]}" "${CPU[$c2]}" "${CPU[$c3]}")
    sayf '%-66s %7.1f ms  (per-rep median of (0)-(2); from deep_ms: %.1f ms)\n' \
        "walk cost, PAGEMAP_SCAN, every process (daemon pagemap_scan - smaps):" \
        "$(rep_expr 'a-b' "${CPU[$c0]}" "${CPU[$c2]}" "${CPU[$c3]}")" \
        "$(rep_expr 'a-b' "${DEEP[$c0]}" "${DEEP[$c2]}" "${CPU[$c3]}")"
    sayf '%-66s %7.1f ms  (per-rep median of (1)-(2); from deep_ms: %.1f ms)\n' \
        "walk cost, pagemap pread, every process (daemon pagemap - smaps):" \
        "$(rep_expr 'a-b' "${CPU[$c1]}" "${CPU[$c2]}" "${CPU[$c3]}")" \
        "$(rep_expr 'a-b' "${DEEP[$c1]}" "${DEEP[$c2]}" "${CPU[$c3]}")"
    sayf '%-66s %7s  target <= %s: %s   (from deep_ms: %s)\n' \
        "ratio walk-only pagemap_scan / floor scanall  [acceptance]:" "$walk" "$T_WALK" \
        "$(verdict "$walk" "$T_WALK")" "$walk_d"
    VERDICTS+=("cost [$load] walk-only pagemap_scan / scanall $walk (<= $T_WALK): $(verdict "$walk" "$T_WALK")")
    sayf '%-66s %7s  (against floor pagemap, the pread floor: %s)\n' \
        "ratio walk-only pagemap / floor scanall:" "$wpm_d" "$wpm"
    sayf '%-66s %7s  (per-rep median %s)\n' "ratio whole process: daemon pagemap_scan / floor scanall:" \
        "$(div "${MC[0]}" "${MC[3]}")" "$(rep_expr 'a/c' "${CPU[$c0]}" "${CPU[$c2]}" "${CPU[$c3]}")"
    sayf '%-66s %7s  (per-rep median %s)\n' "ratio whole process: daemon pagemap / floor scanall:" \
        "$(div "${MC[1]}" "${MC[3]}")" "$(rep_expr 'a/c' "${CPU[$c1]}" "${CPU[$c2]}" "${CPU[$c3]}")"
    sayf '%-66s %7s  (per-rep median %s)\n' "ratio whole process: daemon pagemap_scan / floor full,scanall:" \
        "$(div "${MC[0]}" "${MC[5]}")" "$(rep_expr 'a/c' "${CPU[$c0]}" "${CPU[$c2]}" "${CPU[$c5]}")"

    # Cross-check: the same processes, VMAs and pages?
    local prom=$TMP/prom.$load f_pids f_present f_huge f_vmas
    read -r f_pids f_present f_huge < <(awk '$1=="scanall"{print $2, $10, $11}' "$TMP/floor.$load")
    f_vmas=$(awk '$1=="scan"{print $8}' "$TMP/floor.$load")
    local d_procs d_kth d_vmas d_deep ps=4096
    d_procs=$(gauge vmatlas_processes "$prom")
    d_kth=$(gauge vmatlas_kernel_threads "$prom")
    d_vmas=$(gauge vmatlas_vmas "$prom")
    d_deep=$(gauge vmatlas_scan_deep_processes "$prom")
    local s_n s_present s_thp s_vmas p_n p_present p_thp
    read -r s_n s_present s_thp s_vmas <"$TMP/sums.$load.scan"
    read -r p_n p_present p_thp _ <"$TMP/sums.$load.pagemap"
    say "cross-check (separate runs a few seconds apart; other processes on the machine come and go):"
    sayf '  %-44s daemon %s user + %s kernel threads = %s; floor %s pids\n' "processes:" \
        "$d_procs" "$d_kth" "$((d_procs + d_kth))" "$f_pids"
    sayf '  %-44s daemon %s of %s user processes (vmatlas_scan_deep_processes)\n' \
        "per-VMA tier (smaps + walk) visited:" "$d_deep" "$d_procs"
    sayf '  %-44s daemon %s (maps lines, [vsyscall] included); floor scan %s (below USER_END)\n' \
        "VMAs:" "$d_vmas" "$f_vmas"
    sayf '  %-44s %s processes, %.1f MiB present, %.1f MiB THP, %s VMAs (%s without [vsyscall])\n' \
        "daemon residency, source pagemap_scan:" "$s_n" "$(div "$s_present" 1048576)" "$(div "$s_thp" 1048576)" \
        "$s_vmas" "$((s_vmas - s_n))"
    sayf '  %-44s %s processes, %.1f MiB present, %.1f MiB THP (pagemap cannot tell THP)\n' \
        "daemon residency, source pagemap:" "$p_n" "$(div "$p_present" 1048576)" "$(div "$p_thp" 1048576)"
    sayf '  %-44s %s pids, %.1f MiB present, %.1f MiB huge\n' "floor scanall (PAGEMAP_SCAN, zero page counted):" \
        "$f_pids" "$(div "$((f_present * ps))" 1048576)" "$(div "$((f_huge * ps))" 1048576)"
    sayf '  %-44s %s (daemon pagemap_scan / floor)\n' "present bytes ratio:" \
        "$(div "$s_present" "$((f_present * ps))")"
}

declare -A READY_OF
if want cost || want observer || want burst; then
    start_workload small -n "$N" -m "$M" -r 2048 -t 0.5
    READY_OF[small]=$READY_LINE
fi
if want cost; then
    cost_part small
    cost_report small
fi

# ==== part 2: observer effect =================================================================
declare -A OBS
if want observer; then
    note "starting mmap_probe -s $PROBE_MIB -v $PROBE_VMAS -p $PROBE_PAUSE_US -d $PHASE_SECONDS ..."
    "$BIN/mmap_probe" -s "$PROBE_MIB" -v "$PROBE_VMAS" -p "$PROBE_PAUSE_US" -d "$PHASE_SECONDS" \
        -T "$TIME_LIMIT" >"$TMP/probe.out" 2>"$TMP/probe.err" &
    PROBE_PID=$!
    for ((waited = 0; ; waited++)); do
        grep -q '^READY' "$TMP/probe.out" && break
        kill -0 "$PROBE_PID" 2>/dev/null || { cat "$TMP/probe.err" >&2; PROBE_PID=; die "mmap_probe exited before it was ready"; }
        ((waited < READY_TIMEOUT * 5)) || die "mmap_probe not ready after ${READY_TIMEOUT}s"
        sleep 0.2
    done
    PROBE_READY=$(grep -m1 '^READY' "$TMP/probe.out")
    note "probe: $PROBE_READY"

    PE_CONF=$TMP/process-exporter.yml
    cat >"$PE_CONF" <<'EOF'
# bench/residency.sh: every process with a command line, grouped by comm
process_names:
  - name: "{{.Comm}}"
    cmdline:
      - '.+'
EOF
    start_pe() {
        local port try waited
        PE_BASE=
        for ((try = 0; try < 10; try++)); do
            port=$((20000 + RANDOM % 40000))
            port_in_use "$port" && continue
            "$PE" -config.path "$PE_CONF" -web.listen-address "127.0.0.1:$port" -gather-smaps=true \
                >"$TMP/pe.log" 2>&1 &
            PE_PID=$!
            for ((waited = 0; waited < 100; waited++)); do
                curl -sf -o /dev/null --max-time 30 "http://127.0.0.1:$port/metrics" && { PE_BASE=http://127.0.0.1:$port; break; }
                kill -0 "$PE_PID" 2>/dev/null || break
                sleep 0.1
            done
            [[ -n $PE_BASE ]] && break
            bench_stop_pid "$PE_PID" TERM 30
            PE_PID=
        done
        [[ -n $PE_BASE ]] || { tail -n 5 "$TMP/pe.log" >&2; die "process-exporter did not start on any port tried"; }
    }
    PE_VERSION=$("$PE" -version 2>&1 | head -n 1)

    PHASES=(none daemon-i1 daemon-i10 process-exporter)
    NP=${#PHASES[@]}
    results=0
    run_phase() { # PHASE ROUND
        local ph=$1 obs_pid='' log=$TMP/scrape.$1.$2 rlog=$TMP/refresh.$1.$2
        : >"$log"
        : >"$rlog"
        case $ph in
        daemon-i1 | daemon-i10)
            if [[ $ph == daemon-i1 ]]; then start_daemon --interval 1; else start_daemon; fi
            obs_pid=$D_PID
            start_scraper "$D_BASE/metrics" 1 "$log"
            start_scraper "$D_BASE/api/v1/processes/$PROBE_PID/residency?refresh=1" "$REFRESH_EVERY" "$rlog"
            ;;
        process-exporter)
            start_pe
            obs_pid=$PE_PID
            start_scraper "$PE_BASE/metrics" 1 "$log"
            ;;
        esac
        sleep 1
        local t0 c0=0 c1=0 t1
        [[ -n $obs_pid ]] && c0=$(cpu_ticks "$obs_pid")
        t0=$(now_s)
        kill -USR1 "$PROBE_PID"
        local want=$((results + 1)) waited
        for ((waited = 0; ; waited++)); do
            (($(grep -c '^RESULT' "$TMP/probe.out" || true) >= want)) && break
            kill -0 "$PROBE_PID" 2>/dev/null || { cat "$TMP/probe.err" >&2; PROBE_PID=; die "mmap_probe died in phase $ph"; }
            ((waited < (PHASE_SECONDS + 60) * 5)) || die "mmap_probe gave no result in phase $ph"
            sleep 0.2
        done
        results=$want
        t1=$(now_s)
        local died=0
        if [[ -n $obs_pid ]]; then
            c1=$(cpu_ticks "$obs_pid")
            alive "$obs_pid" || died=1
        fi
        stop_scrapers
        if ((died)) && [[ $ph != process-exporter ]]; then
            tail -n 20 "$TMP/vmatlasd.log" >&2
            D_PID=
            die "vmatlasd died during the observer phase $ph"
        fi
        if ((died)); then
            local st=0
            wait "$PE_PID" 2>/dev/null || st=$?
            PE_PID=
            say "WARNING: process-exporter died during round $2 of its phase (exit status $st); that round is left out. Its log:"
            tail -n 5 "$TMP/pe.log" | sed 's/^/    /' | tee -a "$REPORT"
        fi
        if [[ $ph == process-exporter ]]; then
            bench_stop_pid "$PE_PID" TERM 50
            PE_PID=
        elif [[ -n $obs_pid ]]; then
            stop_daemon
        fi
        local res
        res=$(grep '^RESULT' "$TMP/probe.out" | sed -n "${want}p")
        local cpu_pct=-
        [[ -n $obs_pid ]] && ((!died)) && cpu_pct=$(ticks_pct $((c1 - c0)) "$(elapsed "$t0" "$t1")")
        local scrapes ok refr r200 r429 r429ra
        scrapes=$(grep -c . "$log" || true)
        ok=$(awk '$1==200' "$log" | grep -c . || true)
        refr=$(grep -c . "$rlog" || true)
        r200=$(awk '$1==200' "$rlog" | grep -c . || true)
        r429=$(awk '$1==429' "$rlog" | grep -c . || true)
        r429ra=$(awk '$1==429 && $2 ~ /^ra=[0-9]+$/' "$rlog" | grep -c . || true)
        OBS[$ph:$2]="$res cpu_pct=$cpu_pct scrapes=$scrapes scrapes_ok=$ok refresh=$refr refresh_200=$r200 refresh_429=$r429 refresh_429_ra=$r429ra died=$died"
        note "  round $2 $ph: ${res#RESULT } | observer CPU ${cpu_pct}% of a core | /metrics $ok/$scrapes ok | refresh $r200 x 200, $r429 x 429 of $refr"
    }
    note "observer: $OBS_ROUNDS round(s) x $NP phases of ${PHASE_SECONDS}s (order rotated every round) ..."
    for ((round = 0; round < OBS_ROUNDS; round++)); do
        for ((k = 0; k < NP; k++)); do
            run_phase "${PHASES[(k + round) % NP]}" "$round"
        done
    done
    bench_stop_pid "$PROBE_PID" TERM 50
    PROBE_PID=

    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
    obs_med() { # PHASE FIELD: median over the rounds in which the observer stayed up
        local r vals=''
        for ((r = 0; r < OBS_ROUNDS; r++)); do
            [[ $(field died "${OBS[$1:$r]}") == 1 ]] && continue
            vals+="$(field "$2" "${OBS[$1:$r]}") "
        done
        median <<<"$vals"
    }
    say
    say "== observer effect: $PROBE_READY, loop mmap(64 KiB)+touch+munmap, ${PROBE_PAUSE_US} us pause,"
    say "   ${PHASE_SECONDS}s per phase, $OBS_ROUNDS round(s), phases rotated; workload ${READY_OF[small]%% parent=*} running throughout"
    say "   daemon phases: /metrics every 1 s and /api/v1/processes/<probe>/residency?refresh=1 every ${REFRESH_EVERY} s (forced walks of the probe)"
    say "   process-exporter ($PE_VERSION): -gather-smaps=true, every process with a cmdline ('.+', grouped by comm), /metrics every 1 s"
    sayf '%-18s %9s %9s %9s %10s %9s %8s %8s %8s %9s %14s\n' phase iters p50_us p99_us p999_us max_us ">1ms" ">10ms" obs_cpu% p99_ratio "refresh 200/429"
    base99=$(obs_med none p99_us)
    for ph in "${PHASES[@]}"; do
        p99=$(obs_med "$ph" p99_us)
        rr=-
        [[ $ph != none ]] && rr=$(div "$p99" "$base99")
        refresh=-
        [[ $ph == daemon-* ]] && refresh="$(obs_med "$ph" refresh_200 | cut -d. -f1)/$(obs_med "$ph" refresh_429 | cut -d. -f1)"
        ocpu=-
        [[ $ph != none ]] && ocpu=$(printf '%.1f' "$(obs_med "$ph" cpu_pct)")
        sayf '%-18s %9.0f %9.2f %9.2f %10.2f %9.1f %8.0f %8.0f %8s %9s %14s\n' "$ph" "$(obs_med "$ph" n)" \
            "$(obs_med "$ph" p50_us)" "$p99" "$(obs_med "$ph" p999_us)" "$(obs_med "$ph" max_us)" \
            "$(obs_med "$ph" over1ms)" "$(obs_med "$ph" over10ms)" "$ocpu" "$rr" "$refresh"
    done
    say "(medians over the rounds; obs_cpu% = the observer's user+sys during the phase, % of one core)"
    for ph in daemon-i10 daemon-i1; do
        rr=$(div "$(obs_med "$ph" p99_us)" "$base99")
        what="default settings"
        [[ $ph == daemon-i1 ]] && what="defaults but --interval 1"
        sayf '%-66s %7s  target <= %s: %s\n' "p99 ratio $ph / none ($what):" "$rr" "$T_OBS" "$(verdict "$rr" "$T_OBS")"
        VERDICTS+=("observer p99 $ph / none $rr (<= $T_OBS): $(verdict "$rr" "$T_OBS")")
    done
    sayf '%-66s %7s  (informative)\n' "p99 ratio process-exporter / none:" \
        "$(div "$(obs_med process-exporter p99_us)" "$base99")"
fi

# ==== part 3: refresh burst ===================================================================
if want burst; then
    note "burst: vmatlasd at the defaults (--interval 10, --deep-walk-budget 5), ${SETTLE_SECONDS}s to settle ..."
    start_daemon
    sleep "$SETTLE_SECONDS"
    metrics_fig() { curl -sf --max-time 10 "$D_BASE/metrics" | awk -v n="$1" '$1==n{print $2}'; }
    note "burst: the daemon's CPU over ${BASELINE_SECONDS}s before the burst ..."
    # /metrics 5 times a second on one kept-alive connection (as Prometheus keeps its
    # connection): an HTTP thread busy with a refresh delays the requests queued on it.
    poll_metrics() { # SECONDS OUT
        awk -v b="$D_BASE" -v n=$(($1 * 5)) 'BEGIN{ for (i = 0; i < n; i++)
            printf "url = \"%s/metrics\"\noutput = \"/dev/null\"\n", b }' >"$TMP/poll.cfg"
        # line-buffered: the poller is stopped with SIGTERM, and what it printed must be there
        stdbuf -oL curl -s --rate 5/s --max-time $(($1 + 60)) -w '%{http_code} %{time_total} %{num_connects}\n' \
            -K "$TMP/poll.cfg" >"$2" 2>/dev/null &
        POLL_PID=$!
    }
    end_poll() {
        bench_stop_pid "$POLL_PID" TERM 20
        POLL_PID=
    }
    poll_stats() { # FILE -> "n median_ms max_ms n_over_100ms new_connections non200"
        local n over conn err med max
        read -r n over conn err < <(awk '{ n++; if ($2 > 0.1) o++; c += $3; if ($1 != 200) e++ }
            END { printf "%d %d %d %d\n", n, o, c, e }' "$1")
        med=$(awk '{ printf "%.3f ", $2 * 1000 }' "$1" | median)
        max=$(awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { printf "%.1f", m * 1000 }' "$1")
        echo "$n $med $max $over $conn $err"
    }
    poll_metrics "$BASELINE_SECONDS" "$TMP/poll.base"
    b_c0=$(cpu_ticks "$D_PID")
    b_t0=$(now_s)
    sleep "$BASELINE_SECONDS"
    b_c1=$(cpu_ticks "$D_PID")
    b_t1=$(now_s)
    end_poll
    BASE_PCT=$(ticks_pct $((b_c1 - b_c0)) "$(elapsed "$b_t0" "$b_t1")")
    scans0=$(metrics_fig vmatlas_scans_total)

    mapfile -t WPIDS <"$TMP/wl.pids"
    ((${#WPIDS[@]})) || die "no workload pids in $TMP/wl.pids"
    : >"$TMP/seq.cfg"
    for ((i = 0; i < BURST_SEQ; i++)); do
        printf 'url = "%s/api/v1/processes/%s/residency?refresh=1"\noutput = "/dev/null"\n' \
            "$D_BASE" "${WPIDS[i % ${#WPIDS[@]}]}" >>"$TMP/seq.cfg"
    done
    : >"$TMP/conc.cfg"
    for ((i = 0; i < BURST_CONC; i++)); do
        printf 'url = "%s/api/v1/processes/%s/residency?refresh=1"\noutput = "/dev/null"\n' \
            "$D_BASE" "${WPIDS[(BURST_SEQ + i) % ${#WPIDS[@]}]}" >>"$TMP/conc.cfg"
    done
    W='%{http_code} ra=%header{retry-after} %{time_total}\n'
    note "burst: $BURST_SEQ refreshes in a row, then $BURST_CONC at once ..."
    poll_metrics 600 "$TMP/poll.burst"
    c0=$(cpu_ticks "$D_PID")
    t0=$(now_s)
    curl -s --max-time 600 -w "$W" -K "$TMP/seq.cfg" >"$TMP/seq.codes" || true
    t_mid=$(now_s)
    c_mid=$(cpu_ticks "$D_PID")
    curl -s --no-progress-meter --max-time 600 --parallel --parallel-immediate --parallel-max "$BURST_CONC" -w "$W" \
        -K "$TMP/conc.cfg" >"$TMP/conc.codes" || true
    t1=$(now_s)
    c1=$(cpu_ticks "$D_PID")
    end_poll
    note "burst: watching the daemon for ${AFTER_SECONDS}s ..."
    sleep "$AFTER_SECONDS"
    t2=$(now_s)
    c2=$(cpu_ticks "$D_PID")
    curl -s --max-time 600 -o /dev/null -w "$W" \
        "$D_BASE/api/v1/processes/${WPIDS[0]}/residency?refresh=1" >"$TMP/late.codes" || true
    scans1=$(metrics_fig vmatlas_scans_total)
    alive "$D_PID" || { cat "$TMP/vmatlasd.log" >&2; D_PID=; die "vmatlasd died during the burst"; }
    stop_daemon

    codes() { # FILE -> "n200 n429 n429_with_retry_after other retry_after_values"
        awk '{ v = substr($2, 4); if ($1 == 200) a++; else if ($1 == 429) { b++; if (v ~ /^[0-9]+$/) { c++; ra[v]++ } } else d++ }
             END { s = ""; for (k in ra) s = s (s == "" ? "" : ",") k "s:" ra[k]; if (s == "") s = "-"
                   printf "%d %d %d %d %s\n", a, b, c, d, s }' "$1"
    }
    read -r s200 s429 s429ra sother sra < <(codes "$TMP/seq.codes")
    read -r k200 k429 k429ra kother kra < <(codes "$TMP/conc.codes")
    read -r l200 l429 _ _ lra < <(codes "$TMP/late.codes")
    seq_s=$(elapsed "$t0" "$t_mid")
    conc_s=$(elapsed "$t_mid" "$t1")
    burst_s=$(elapsed "$t0" "$t1")
    after_s=$(elapsed "$t1" "$t2")
    all_s=$(elapsed "$t0" "$t2")
    seq_ms=$(awk '$1==200{print $3*1000}' "$TMP/seq.codes" | tr '\n' ' ' | median)
    cpu_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t / hz}'; }
    say
    say "== refresh burst: vmatlasd defaults (--interval 10, --deep-walk-budget 5: 0.5 s of CPU per 10 s),"
    say "   workload ${READY_OF[small]%% parent=*}; ?refresh=1 on workload pids"
    sayf '%-44s %3d x 200, %3d x 429 (%d with Retry-After: %s), %d other; %.2f s, median 200 answer %.0f ms\n' \
        "$BURST_SEQ in a row (one keep-alive connection):" "$s200" "$s429" "$s429ra" "$sra" "$sother" "$seq_s" "$seq_ms"
    sayf '%-44s %3d x 200, %3d x 429 (%d with Retry-After: %s), %d other; %.2f s\n' \
        "$BURST_CONC at once (curl --parallel):" "$k200" "$k429" "$k429ra" "$kra" "$kother" "$conc_s"
    sayf '%-44s %3d x 200, %3d x 429 (Retry-After: %s)\n' "one more, ${AFTER_SECONDS}s after the burst:" "$l200" "$l429" "$lra"
    read -r pb_n pb_med pb_max pb_over pb_conn pb_err < <(poll_stats "$TMP/poll.base")
    read -r pu_n pu_med pu_max pu_over pu_conn pu_err < <(poll_stats "$TMP/poll.burst")
    sayf '%-44s %d requests: median %s ms, max %s ms, %d over 100 ms, %d connection(s), %d non-200\n' \
        "/metrics 5/s kept-alive, before the burst:" "$pb_n" "$pb_med" "$pb_max" "$pb_over" "$pb_conn" "$pb_err"
    sayf '%-44s %d requests: median %s ms, max %s ms, %d over 100 ms, %d connection(s), %d non-200\n' \
        "/metrics 5/s kept-alive, during the burst:" "$pu_n" "$pu_med" "$pu_max" "$pu_over" "$pu_conn" "$pu_err"
    sayf '%-44s %6.1f %% of one core (%s s CPU in %s s)\n' "daemon CPU before the burst (steady state):" \
        "$BASE_PCT" "$(cpu_s $((b_c1 - b_c0)))" "$(elapsed "$b_t0" "$b_t1")"
    sayf '%-44s %6.1f %% of one core (%s s CPU in %s s; in a row: %s s CPU)\n' "daemon CPU over the burst:" \
        "$(ticks_pct $((c1 - c0)) "$burst_s")" "$(cpu_s $((c1 - c0)))" "$burst_s" "$(cpu_s $((c_mid - c0)))"
    sayf '%-44s %6.0f ms CPU per answered refresh (in a row); the budget is %d ms per 10 s interval\n' \
        "cost of one refresh:" "$(awk -v t=$((c_mid - c0)) -v hz="$CLK_TCK" -v n="$s200" 'BEGIN{ if (n > 0) printf "%.1f", t / hz * 1000 / n; else print 0 }')" \
        $((10000 * BUDGET_PCT / 100))
    sayf '%-44s %6.1f %% of one core (%s s CPU in %s s)\n' "daemon CPU over the ${AFTER_SECONDS}s after:" \
        "$(ticks_pct $((c2 - c1)) "$after_s")" "$(cpu_s $((c2 - c1)))" "$after_s"
    all_pct=$(ticks_pct $((c2 - c0)) "$all_s")
    ceiling=$(awk -v b="$BASE_PCT" -v p=$BUDGET_PCT 'BEGIN{printf "%.1f", b + p}')
    sayf '%-44s %6.1f %% of one core (%s s CPU in %s s)  budget %s %% + steady state %s %% = %s %%: %s\n' \
        "daemon CPU over burst + after:" "$all_pct" "$(cpu_s $((c2 - c0)))" "$all_s" "$BUDGET_PCT" \
        "$BASE_PCT" "$ceiling" "$(verdict "$all_pct" "$ceiling")"
    sayf '%-44s %s -> %s (refreshes publish a snapshot of every process each)\n' "vmatlas_scans_total before -> after:" \
        "${scans0:-?}" "${scans1:-?}"
    VERDICTS+=("burst CPU over burst + ${AFTER_SECONDS}s ${all_pct}% (<= budget ${BUDGET_PCT}% + steady ${BASE_PCT}%): $(verdict "$all_pct" "$ceiling"); in a row $s200 x 200 / $s429 x 429")
fi
stop_workload

# ==== part 1b: cost on the large load ==========================================================
if want cost; then
    avail_mib=$(awk '/MemAvailable/{print int($2/1024)}' /proc/meminfo)
    lm=$LARGE_MIB
    if ((lm * 4 > avail_mib * 3)); then
        lm=$((avail_mib / 2 / 1024 * 1024))
        note "large load: -r $LARGE_MIB MiB does not leave a quarter of MemAvailable ($avail_mib MiB) free: -r $lm instead"
    fi
    start_workload large -L "$LARGE" -r "$lm" -t 0.5 -H 0.5
    READY_OF[large]=$READY_LINE
    cost_part large
    stop_workload
    cost_report large
fi

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg))"
for v in "${VERDICTS[@]}"; do echo "  $v"; done
exit 0
