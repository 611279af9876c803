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
