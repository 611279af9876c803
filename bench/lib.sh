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
