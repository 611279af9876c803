# shellcheck shell=bash
# bench/lib.sh: what the benchmark scripts share. Source it after defining die().

# REPO: the repository; BENCH_SRC: the shared bench folder holding the reference programs
# named as arguments (workload.c, floor.c). They are read there and built in the build
# directory, never copied or changed. SHARED_DIR may point at the shared folder or at its bench/.
bench_locate_shared() {
    local script_dir
    script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    REPO=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/.." && pwd))
    SHARED_DIR=${SHARED_DIR:-$REPO/../shared}
    if [[ -f $SHARED_DIR/workload.c ]]; then
        BENCH_SRC=$SHARED_DIR
    else
        BENCH_SRC=$SHARED_DIR/bench
    fi
    local f
    for f in "$@"; do
        [[ -f $BENCH_SRC/$f ]] || die "$BENCH_SRC/$f not found: the shared bench folder is missing.
  Expected it at <repo>/../shared/bench (repo: $REPO); set SHARED_DIR=/path/to/shared to point elsewhere."
    done
    BENCH_SRC=$(cd "$BENCH_SRC" && pwd)
}

# Start the reference workload (workload -n N -m M -r 2048 -t 0.5 -q, built in $BIN; or, when
# the array WL_ARGS is set, the workload with those arguments) and wait for its READY line (with
# -q: "READY procs=N ... setup_s=S parent=PID"). Sets WL_PID and READY_LINE; the caller's
# clean-up SIGTERMs WL_PID (the workload SIGKILLs its children, removes its file). One at a time.
bench_start_workload() {
    local args=(-n "$N" -m "$M" -r 2048 -t 0.5 -q)
    [[ -n ${WL_ARGS+set} ]] && args=("${WL_ARGS[@]}")
    "$BIN/workload" "${args[@]}" >"$TMP/workload.out" 2>"$TMP/workload.err" &
    WL_PID=$!
    local waited
    for ((waited = 0; ; waited++)); do
        grep -q '^READY' "$TMP/workload.out" 2>/dev/null && break
        if ! kill -0 "$WL_PID" 2>/dev/null; then
            cat "$TMP/workload.err" >&2
            WL_PID=
            die "workload exited before it was ready"
        fi
        ((waited < READY_TIMEOUT * 5)) || die "workload not ready after ${READY_TIMEOUT}s"
        sleep 0.2
    done
    # shellcheck disable=SC2034 # read by the scripts that source this file
    READY_LINE=$(grep -m1 '^READY' "$TMP/workload.out")
}

# ---- the load scripts (slowloris.sh, churn-load.sh, soak.sh, bigvma.sh) ------------------------
# They define PROG, die() and note(), source this file, call bench_load_init, and get: REPO,
# BUILD_DIR, BIN (helpers built there), TMP (removed at exit), a clean-up that stops every
# process registered with bench_track (SIGTERM, then SIGKILL), and a watchdog that stops the
# script after TIME_LIMIT seconds.

bench_load_init() {
    if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
        echo "$PROG: must run as root (vmatlasd reads every process's /proc files; missing tools are installed with apt-get); skipping" >&2
        exit 77
    fi
    local script_dir
    script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    REPO=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/.." && pwd))
    BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
    BIN=$BUILD_DIR/bench
    mkdir -p "$BIN"
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-load.XXXXXX")
    BENCH_PIDS=()
    trap bench_load_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    setsid bash -c "sleep ${TIME_LIMIT:?}; echo '$PROG: time limit of ${TIME_LIMIT}s reached' >&2; kill -TERM $$" &
    BENCH_WD_PID=$!
    disown "$BENCH_WD_PID"
}

bench_track() { BENCH_PIDS+=("$@"); }

bench_stop_pid() { # PID SIGNAL GRACE_TENTHS: signal, wait up to the grace, then SIGKILL
    local pid=$1 sig=$2 grace=$3 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # the EXIT trap
bench_load_cleanup() {
    trap - INT TERM
    local i
    for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
        bench_stop_pid "${BENCH_PIDS[i]}" TERM 50
    done
    [[ -n ${BENCH_WD_PID:-} ]] && kill -KILL -- "-$BENCH_WD_PID" 2>/dev/null
    rm -rf "$TMP"
    return 0
}

# bench_install CMD:PACKAGE...: apt-get install the packages whose command is missing.
bench_install() {
    local spec missing=()
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec#*:}")
    done
    ((${#missing[@]})) || return 0
    [[ -z ${NO_INSTALL:-} ]] || die "missing: ${missing[*]} (NO_INSTALL is set)"
    command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]}, and there is no apt-get"
    note "apt-get install -y ${missing[*]} ..."
    if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >"$TMP/apt.log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >>"$TMP/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >>"$TMP/apt.log" 2>&1 || { tail -n 5 "$TMP/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
    fi
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null 2>&1 || die "${spec%%:*} still missing after apt-get install"
    done
}

# Sets VMATLASD: the given binary, or a Release build in BUILD_DIR (logs in BIN).
bench_build_daemon() {
    if [[ -n ${VMATLASD:-} ]]; then
        [[ -x $VMATLASD ]] || die "VMATLASD=$VMATLASD is not an executable file"
        VMATLASD=$(cd "$(dirname "$VMATLASD")" && pwd)/$(basename "$VMATLASD")
        note "daemon: $VMATLASD (given)"
        return 0
    fi
    note "building vmatlasd (Release) in $BUILD_DIR ..."
    local gen=()
    command -v ninja >/dev/null 2>&1 && [[ ! -f $BUILD_DIR/Makefile ]] && gen=(-G Ninja)
    mkdir -p "$BIN"
    cmake -S "$REPO" -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DVMATLAS_TESTS=OFF \
        >"$BIN/vmatlasd-cmake.log" 2>&1 ||
        { cat "$BIN/vmatlasd-cmake.log" >&2; die "cmake configure failed (log: $BIN/vmatlasd-cmake.log)"; }
    cmake --build "$BUILD_DIR" -j"${BUILD_JOBS:-2}" --target vmatlasd >"$BIN/vmatlasd-build.log" 2>&1 ||
        { tail -n 40 "$BIN/vmatlasd-build.log" >&2; die "building vmatlasd failed (log: $BIN/vmatlasd-build.log)"; }
    VMATLASD=$BUILD_DIR/vmatlasd
    note "daemon: $VMATLASD (Release)"
}

# bench_build_helper NAME...: bench/NAME.c -> $BIN/NAME
bench_build_helper() {
    local n
    for n in "$@"; do
        "${CC:-cc}" -D_GNU_SOURCE -O2 -Wall -Wextra -o "$BIN/$n" "$REPO/bench/$n.c" ||
            die "cannot build bench/$n.c"
    done
}

# bench_start_daemon LOG ARGS...: vmatlasd --listen 127.0.0.1:0 ARGS, waits for /readyz (up to
# READY_TIMEOUT seconds, 60 by default). Sets D_PID, D_PORT, D_BASE.
bench_start_daemon() {
    local log=$1 waited limit=$((${READY_TIMEOUT:-60} * 10))
    shift
    : >"$log" # the child opens it asynchronously; the poll below must find it
    "$VMATLASD" --listen 127.0.0.1:0 "$@" >/dev/null 2>>"$log" </dev/null &
    D_PID=$!
    bench_track "$D_PID"
    D_PORT=
    for ((waited = 0; waited < limit; waited++)); do
        D_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
        [[ -n $D_PORT ]] && curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$D_PORT/readyz" && break
        kill -0 "$D_PID" 2>/dev/null || { cat "$log" >&2; die "vmatlasd exited at start-up"; }
        sleep 0.1
    done
    [[ -n $D_PORT ]] || die "vmatlasd logged no 'listening on' line"
    curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$D_PORT/readyz" ||
        die "vmatlasd not ready after ${READY_TIMEOUT:-60} s"
    D_BASE=http://127.0.0.1:$D_PORT
}

bench_status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null; } # PID FIELD

# Nearest-rank percentile of the numbers on stdin: bench_pct 99
bench_pct() {
    sort -g | awk -v p="$1" '{v[NR]=$1} END{ if (NR == 0) { print "nan"; exit }
        i = int(p / 100 * NR); if (i < p / 100 * NR) i++; if (i < 1) i = 1; print v[i] }'
}

# A metric's value from a Prometheus text body: bench_metric FILE NAME
bench_metric() { awk -v n="$2" '$1 == n {print $2; exit}' "$1"; }

# "load 1.23 0.98 0.80, 2 cores, 3 other vmatlasd" - for the figures' notes
bench_machine_note() {
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
