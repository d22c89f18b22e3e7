#!/bin/bash
# Runs the fuzz targets of a -Dfuzzing=true build for a while each
# (fuzz/README.md). Used by .ci/run (a short run) and for long runs.
#
#   fuzz/run-fuzzers.sh BUILD_DIR SECONDS WORK_DIR [TARGET...]
#
# FUZZ_JOBS (default 1) targets run at once; an input taking FUZZ_TIMEOUT
# seconds (default 10; more on a loaded machine or under nice) is a hang. Each starts from its committed
# corpus (fuzz/corpus/TARGET, read only) and WORK_DIR/corpus/TARGET, where
# the inputs it finds are kept; a crash, leak, timeout or out-of-memory
# input goes to WORK_DIR/artifacts/ and its report to WORK_DIR/logs/.
# Prints one line per target, in order:
#   fuzz: TARGET ok|FAILED execs=N exec/s=N cov=N ft=N corpus=N new=N rss=NMb
# and exits 1 if any target failed. No TARGET: every fuzz-* of BUILD_DIR.
set -uo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD_DIR SECONDS WORK_DIR [TARGET...]" >&2
    exit 2
fi
build=$1 secs=$2 work=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
jobs=${FUZZ_JOBS:-1}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for exe in "$build"/fuzz/fuzz-*; do
        name=${exe##*/fuzz-}
        [ -f "$exe" ] && [ -x "$exe" ] && [[ $name != replay-* ]] && targets+=("$name")
    done
fi
mkdir -p "$work/artifacts" "$work/logs" "$work/results"

# Runs target $1; its result line goes to WORK_DIR/results/TARGET.
run_one() {
    local t=$1 exe=$build/fuzz/fuzz-$1 log=$work/logs/$1.log rc status last
    mkdir -p "$work/corpus/$t"
    # -timeout: an input that takes that long is a hang; -rss_limit_mb: a parser
    # that needs 2 GiB for a small input is a bug. The targets' stdout is
    # closed (-close_fd_mask=1); sanitizer reports go to stderr, the log.
    "$exe" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -close_fd_mask=1 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" \
        "$work/corpus/$t" "$src/corpus/$t" >"$log" 2>&1
    rc=$?
    stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    field() { sed -n "s/.* $1: \([0-9]*\).*/\1/p" <<<"$last"; }
    status=ok
    [ $rc -eq 0 ] || status=FAILED
    echo "fuzz: $t $status execs=$(stat number_of_executed_units)" \
        "exec/s=$(stat average_exec_per_sec) cov=$(field cov) ft=$(field ft)" \
        "corpus=$(field corp) new=$(stat new_units_added) rss=$(stat peak_rss_mb)Mb" \
        >"$work/results/$t"
}

running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

failed=0
for t in "${targets[@]}"; do
    line=$(cat "$work/results/$t" 2>/dev/null || echo "fuzz: $t FAILED (no result)")
    echo "$line"
    case $line in
    *" FAILED"*)
        failed=1
        # The report, from the sanitizer's or the property's first line on.
        sed -n '/^==[0-9]*==\|^fuzz: property\|^SUMMARY/,$p' "$work/logs/$t.log" | head -60 >&2
        ls "$work/artifacts/$t-"* 2>/dev/null | sed 's/^/fuzz:   input: /' >&2
        ;;
    esac
done
exit $failed
