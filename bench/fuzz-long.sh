#!/usr/bin/env bash
# bench/fuzz-long.sh - long libFuzzer runs of every fuzz target (tests/fuzz/fuzz_*.c), from a
# clang ASan+UBSan build, each from a fresh work directory so the committed corpus in
# tests/fuzz/corpus/<name>/ is only read, never written.
#
# Usage:  bench/fuzz-long.sh [TOTAL_SECONDS]
# Environment:
#   FUZZ_TOTAL=3600    seconds for all targets together, split evenly (or the first argument)
#   FUZZ_SECONDS=N     seconds per target instead (overrides FUZZ_TOTAL)
#   FUZZ_TARGETS="a b" only these targets (names with or without the fuzz_ prefix)
#   FUZZ_BUILD_DIR     build directory (default <repo>/build-fuzz)
#   FUZZ_CC=clang      the compiler (must be clang: libFuzzer)
#   FUZZ_ARGS          extra libFuzzer flags (e.g. "-jobs=2 -workers=2" or "-dict=...")
#
# Output: per target, a line with execs, cov:, ft:, corpus size and crashes; the logs, the new
# inputs and any crash/leak/timeout/oom artifacts stay in <build>/fuzz-long/<name>/.
# Exit: 0 when no target crashed, 1 when any did (or did not finish), 2 on build/setup errors.
set -euo pipefail

die() { echo "bench/fuzz-long.sh: error: $*" >&2; exit 2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd))
BUILD=${FUZZ_BUILD_DIR:-$REPO/build-fuzz}
FUZZ_CC=${FUZZ_CC:-clang}
TOTAL=${1:-${FUZZ_TOTAL:-3600}}
[[ $TOTAL =~ ^[1-9][0-9]*$ ]] || die "total seconds must be a positive integer, not '$TOTAL'"
[[ -z ${FUZZ_SECONDS:-} || $FUZZ_SECONDS =~ ^[1-9][0-9]*$ ]] ||
    die "FUZZ_SECONDS must be a positive integer, not '$FUZZ_SECONDS'"
command -v "$FUZZ_CC" >/dev/null 2>&1 || die "$FUZZ_CC not found: libFuzzer targets need clang"

# ---- the targets ------------------------------------------------------------------------------
shopt -s nullglob
srcs=("$REPO"/tests/fuzz/fuzz_*.c)
shopt -u nullglob
((${#srcs[@]} > 0)) || die "no fuzz targets: $REPO/tests/fuzz/fuzz_*.c matched nothing"
TARGETS=()
for s in "${srcs[@]}"; do
    t=$(basename "$s" .c)
    if [[ -n ${FUZZ_TARGETS:-} ]]; then
        keep=0
        for w in $FUZZ_TARGETS; do [[ $t == "$w" || $t == "fuzz_$w" ]] && keep=1; done
        ((keep)) || continue
    fi
    TARGETS+=("$t")
done
((${#TARGETS[@]} > 0)) || die "FUZZ_TARGETS='${FUZZ_TARGETS:-}' matched none of: ${srcs[*]##*/}"
if [[ -n ${FUZZ_SECONDS:-} ]]; then
    PER=$FUZZ_SECONDS
else
    PER=$((TOTAL / ${#TARGETS[@]}))
    ((PER > 0)) || PER=1
fi

# ---- build ------------------------------------------------------------------------------------
mkdir -p "$BUILD"
LOGDIR=$BUILD/fuzz-long
mkdir -p "$LOGDIR"
echo "# building ${TARGETS[*]} with $FUZZ_CC (ASan+UBSan, libFuzzer) in $BUILD ..."
gen=()
command -v ninja >/dev/null 2>&1 && [[ ! -f $BUILD/Makefile ]] && gen=(-G Ninja)
if ! CC=$FUZZ_CC cmake -S "$REPO" -B "$BUILD" "${gen[@]}" -DCMAKE_C_COMPILER="$FUZZ_CC" \
        -DVMATLAS_SANITIZE=ON -DVMATLAS_FUZZ=ON -DVMATLAS_TESTS=ON >"$LOGDIR/cmake.log" 2>&1; then
    cat "$LOGDIR/cmake.log" >&2
    die "cmake configure failed (log: $LOGDIR/cmake.log)"
fi
grep -qs 'set(CMAKE_C_COMPILER_ID "Clang")' "$BUILD"/CMakeFiles/*/CMakeCCompiler.cmake ||
    die "$BUILD is not a clang build; remove it (rm -rf $BUILD) and rerun"
# Only the fuzz targets: a unit test someone is still writing must not stop the fuzzing.
if ! cmake --build "$BUILD" --target "${TARGETS[@]}" >"$LOGDIR/build.log" 2>&1; then
    tail -n 40 "$LOGDIR/build.log" >&2
    die "building the fuzz targets failed (log: $LOGDIR/build.log)"
fi

# ---- run --------------------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"

echo "# ${#TARGETS[@]} target(s) x ${PER} s, started $(date -u '+%Y-%m-%d %H:%M:%S UTC'), logs in $LOGDIR"
declare -a ROWS
BAD=0
for t in "${TARGETS[@]}"; do
    name=${t#fuzz_}
    exe=$BUILD/tests/$t
    corpus=$REPO/tests/fuzz/corpus/$name
    [[ -x $exe ]] || die "$exe was not built"
    out=$LOGDIR/$name
    rm -rf "$out"
    mkdir -p "$out/new" "$out/artifacts"
    seeds=()
    if [[ -d $corpus ]]; then
        seeds=("$corpus")
    else
        echo "# warning: $corpus does not exist: $t starts from an empty corpus" >&2
    fi
    dict=()
    for d in "$REPO/tests/fuzz/$t.dict" "$REPO/tests/fuzz/$name.dict" "$REPO/tests/fuzz/dict/$name.dict"; do
        [[ -f $d ]] && { dict=("-dict=$d"); break; }
    done
    echo "# $t: ${PER} s, corpus ${seeds[*]:-(none)}${dict:+, ${dict[*]}}"
    # New inputs go to the first directory (the fresh one); the committed corpus is read only.
    # The outer timeout is a safety net for a target that stops honouring -max_total_time.
    rc=0
    timeout --signal=INT --kill-after=30 $((PER + 120)) \
        "$exe" -max_total_time="$PER" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" "${dict[@]}" "${EXTRA[@]}" \
        "$out/new" "${seeds[@]}" >"$out/stdout.log" 2>"$out/fuzz.log" || rc=$?
    log=$out/fuzz.log
    execs=$(awk '/^stat::number_of_executed_units:/{v=$NF} END{print v}' "$log")
    [[ -n $execs ]] || execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    corp=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | awk '{print $2}')
    rate=$(awk '/^stat::average_exec_per_sec:/{v=$NF} END{print v}' "$log")
    ncrash=$(find "$out/artifacts" -maxdepth 1 -type f -name 'crash-*' | wc -l)
    nother=$(find "$out/artifacts" -maxdepth 1 -type f \( -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | wc -l)
    nnew=$(find "$out/new" -type f | wc -l)
    status=ok
    if ((rc != 0 || ncrash > 0 || nother > 0)); then
        BAD=1
        status="FAILED (exit $rc)"
        ((rc == 124 || rc == 137)) && status="DID NOT FINISH (killed after $((PER + 120)) s)"
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log" |
            sed "s/^/#   $t: /" >&2 || true
    fi
    ROWS+=("$(printf '%-16s %12s %8s %7s %8s %10s %8s %8s %6s  %s' "$t" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$nnew" "$ncrash" "$nother" "$status")")
    echo "# $t done: exit $rc, execs ${execs:-?}, cov ${cov:-?}, crashes $ncrash"
done

echo
echo "== fuzz-long: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $("$FUZZ_CC" --version | head -n 1), ${PER} s per target"
printf '%-16s %12s %8s %7s %8s %10s %8s %8s %6s  %s\n' target execs exec/s cov ft corpus new crashes other status
for row in "${ROWS[@]}"; do echo "$row"; done
echo "(cov/ft: libFuzzer's edge coverage and features at the end; corpus: inputs/size libFuzzer kept;"
echo " new: inputs written to the work dir; other: leak-/timeout-/oom- artifacts; logs and artifacts: $LOGDIR/<name>/)"
if ((BAD)); then
    echo "FAIL: at least one target crashed or did not finish"
    exit 1
fi
echo "PASS: no crashes"
exit 0
