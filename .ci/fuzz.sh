#!/usr/bin/env bash
# Coverage-guided differential fuzzing on stable Rust with AFL++ (cargo-afl), issue 5 part 7.
# Installs cargo-afl and builds AFL++ if missing (idempotent), builds syncmap-fuzz's afl_diff
# target, fuzzes it from the committed seed corpus for FUZZ_SECONDS (default 60), and fails on
# any crash or hang. Usage: bash .ci/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_FUZZ="${1:-${FUZZ_SECONDS:-60}}"
AFL_VERSION=0.18.2

if ! cargo afl --version 2>/dev/null | grep -q "$AFL_VERSION"; then
    echo "installing cargo-afl $AFL_VERSION"
    cargo install cargo-afl --locked --version "$AFL_VERSION"
fi
# Builds the AFL++ runtime for this toolchain; says so and fails harmlessly if already built.
cargo afl config --build >/dev/null 2>&1 || true

export CARGO_TARGET_DIR=target/afl
cargo afl build --release -p syncmap-fuzz --features afl --bin afl_diff

out=target/afl-out
rm -rf "$out"
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# -t 5000+: a generous per-input timeout (the machine is shared), seeds over it skipped.
cargo afl fuzz -V "$SECONDS_TO_FUZZ" -t 5000+ -i syncmap-fuzz/corpus/diff -o "$out" \
    target/afl/release/afl_diff >"$out.log" 2>&1 || {
    tail -30 "$out.log"
    echo "afl-fuzz failed to run"
    exit 1
}
stats="$out/default/fuzzer_stats"
get() { awk -v k="$1" '$1 == k { print $3 }' "$stats"; }
echo "fuzz: $(get execs_done) executions in $(get run_time)s ($(get execs_per_sec)/s)," \
    "corpus $(get corpus_count), coverage $(get bitmap_cvg), crashes $(get saved_crashes)," \
    "hangs $(get saved_hangs)"
if [ "$(get saved_crashes)" != 0 ] || [ "$(get saved_hangs)" != 0 ]; then
    for f in "$out"/default/crashes/id* "$out"/default/hangs/id*; do
        [ -e "$f" ] || continue
        echo "--- $f"
        od -An -tx1 "$f" | head -20
        target/afl/release/afl_diff <"$f" 2>&1 | tail -5 || true
    done
    echo "FAIL: the fuzzer found a crash or a hang; copy the input into" \
        "syncmap-fuzz/corpus/diff/ as a regression after fixing it"
    exit 1
fi
