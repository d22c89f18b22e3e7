#!/bin/bash
# Runs the fuzz targets of a -Dfuzzing=true build for a while each
# (fuzz/README.md). Used by .ci/run (a short run) and for long runs.
#
#   fuzz/run-fuzzers.sh BUILD_DIR SECONDS WORK_DIR [TARGET...]
#   fuzz/run-fuzzers.sh BUILD_DIR runs WORK_DIR [TARGET...]
#
# SECONDS: each target fuzzes that long from a random seed (long runs).
# "runs": each target runs a fixed number of inputs from a fixed seed, so
# that a run gives the same inputs on any machine, only slower or faster
# (.ci/run): FUZZ_SEED (default 1), and FUZZ_RUNS inputs if set, else the
# target's count in runs_for below (5-15 s each on a 2-CPU machine
# running two targets). Starting from an empty WORK_DIR/corpus, a green
# run here predicts a green run in CI.
# FUZZ_JOBS (default 1) targets run at once; an input taking FUZZ_TIMEOUT
# seconds (default 10; more on a loaded machine or under nice) is a hang. Each starts from its committed
# corpus (fuzz/corpus/TARGET, read only) and WORK_DIR/corpus/TARGET, where
# the inputs it finds are kept; a crash, leak, timeout or out-of-memory
# input goes to WORK_DIR/artifacts/ and its report to WORK_DIR/logs/.
# Prints one line per target, in order:
#   fuzz: TARGET ok|FAILED execs=N exec/s=N cov=N ft=N corpus=N new=N rss=NMb
# and exits 1 if any target failed. No TARGET: every fuzz-* of BUILD_DIR.
set -uo pipefail

if [ $# -lt 3 ] || ! [[ $2 =~ ^([0-9]+|runs)$ ]]; then
    echo "usage: $0 BUILD_DIR SECONDS|runs WORK_DIR [TARGET...]" >&2
    exit 2
fi
build=$1 secs=$2 work=$3
shift 3
mkdir -p "$work"
build=$(cd "$build" && pwd) work=$(cd "$work" && pwd)
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

# Inputs per target in "runs" mode: 5-15 s each, two targets at a time,
# on the 2-CPU development machine (measured 1 December 2026 with the
# corpora then: 1,000-1,500 inputs a second for xml-domain, qmp and
# kernel-image, 50,000 for units; a parser that got slower shows as a
# longer step, not as a different result). A new target: 10,000.
runs_for() {
    case $1 in
    kernel-image) echo 10000 ;;
    xml-domain) echo 8000 ;;
    qmp) echo 15000 ;;
    xml-snapshot) echo 25000 ;;
    remote-uri) echo 40000 ;;
    xml-pool | api-route | install-iso) echo 60000 ;;
    api-json) echo 75000 ;;
    xml-network | xml-volume) echo 100000 ;;
    units) echo 400000 ;;
    *) echo 10000 ;;
    esac
}

# Runs target $1; its result line goes to WORK_DIR/results/TARGET.
run_one() {
    local t=$1 log=$work/logs/$1.log rc status last length here
    local exe=$build/fuzz/fuzz-$1 corpus=$work/corpus/$1 seeds=$src/corpus/$1 artifacts=$work/artifacts/
    local fixed=()
    mkdir -p "$work/corpus/$t"
    if [ "$secs" = runs ]; then
        # The same inputs whatever the machine: -reload=0, the corpus
        # directory is not read again each second (what is there depends on
        # timing); libFuzzer files the comparisons it saw by code address
        # and the values compared include addresses, which move with
        # address randomisation (setarch turns it off), with the
        # environment's size and with the paths' lengths (so an empty
        # environment, and a directory of links to run from, whose names
        # are the same everywhere). Measured: other coverage and corpus
        # from each of these.
        here=$work/run/$t
        mkdir -p "$here"
        ln -sfn "$exe" "$here/target"
        ln -sfn "$corpus" "$here/corpus"
        ln -sfn "$seeds" "$here/seeds"
        ln -sfn "$work/artifacts" "$here/artifacts"
        exe=./target corpus=corpus seeds=seeds artifacts=artifacts/
        length=(-seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-$(runs_for "$t")}" -reload=0)
        fixed=(env -i PATH=/usr/bin:/bin setarch "$(uname -m)" --addr-no-randomize)
    else
        here=.
        length=(-max_total_time="$secs")
    fi
    # -timeout: an input that takes that long is a hang; -rss_limit_mb: a parser
    # that needs 2 GiB for a small input is a bug (so does one allocation of
    # 2 GiB: -malloc_limit_mb is the same by default). The targets' stdout is
    # closed (-close_fd_mask=1); sanitizer reports go to stderr, the log.
    (cd "$here" && "${fixed[@]}" "$exe" "${length[@]}" -timeout="${FUZZ_TIMEOUT:-10}" \
        -rss_limit_mb=2048 -close_fd_mask=1 -print_final_stats=1 \
        -artifact_prefix="$artifacts$t-" "$corpus" "$seeds") >"$log" 2>&1
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
