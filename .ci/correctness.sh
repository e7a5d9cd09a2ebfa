#!/usr/bin/env bash
# The correctness tiers of issue 5 beyond `cargo test --workspace` (see TESTING.md).
# Stable tiers: loom models, the whole syncmap-core suite under --cfg syncmap_stress, the 10M
# soak in release and a shorter soak under valgrind memcheck, 4M more linearizability-checked
# operations in release, and AFL++ fuzzing. Then the nightly tiers (.ci/sanitizers.sh), which
# SKIP cleanly when nightly is unavailable. Every non-default RUSTFLAGS build has its own
# target directory, so the shared debug build is never invalidated.
# Usage: bash .ci/correctness.sh   (FUZZ_SECONDS, SOAK_OPS, VALGRIND_SOAK_OPS to resize)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
SOAK_OPS="${SOAK_OPS:-10000000}"
VALGRIND_SOAK_OPS="${VALGRIND_SOAK_OPS:-500000}"

tier() { printf '\n--> %s\n' "$*"; }
start=$SECONDS
timed() { echo "    ($((SECONDS - start))s so far)"; }

tier "loom models (release, --cfg loom): the algorithm and the reclamation protocol"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test -p syncmap-core --release --test loom --test loom_walks --test loom_reclaim \
    -- --nocapture 2>&1 |
    grep -E "loom model|test result|panicked|error"
test "${PIPESTATUS[0]}" = 0
timed

# Each mutant removes one barrier of the reclamation protocol; its model must then report the
# use-after-free (loom: "Causality violation"), showing that the models can tell. A mutant is a
# run of the loom build above with SYNCMAP_LOOM_MUTANT set (read only under --cfg loom, see
# syncmap-core/src/primitive.rs), so it rebuilds nothing; the loom tier above ran each model
# without it, and passed.
mutant() {
    local name="$1" model="$2"
    tier "loom mutant $name: the protocol model $model must report a use-after-free"
    local log
    log="$(mktemp)"
    if SYNCMAP_LOOM_MUTANT="$name" RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
        cargo test -p syncmap-core --release --test loom_reclaim -- --exact "$model" >"$log" 2>&1; then
        echo "FAIL: the mutant $name passed the loom model $model"
        exit 1
    fi
    grep -q "Causality violation" "$log" || { cat "$log"; echo "FAIL: the mutant $name failed for another reason"; exit 1; }
    echo "ok: the mutant $name is caught (loom: Causality violation)"
    timed
}
mutant no_heavy_barrier reader_racing_replace
mutant no_reader_fence fenced_mode_reader_racing_replace

tier "syncmap-core's whole test suite with --cfg syncmap_stress (promotion on every miss)"
RUSTFLAGS="--cfg syncmap_stress" CARGO_TARGET_DIR=target/stress \
    cargo test -p syncmap-core --tests
timed

tier "soak: $SOAK_OPS operations (release)"
SYNCMAP_SOAK_OPS="$SOAK_OPS" cargo test -p syncmap-core --release --test soak -- --nocapture
timed

tier "linearizability: 4M more operations checked (release)"
SYNCMAP_LIN_OPS=4194304 cargo test -p syncmap-core --release --test linearizability \
    -- --nocapture linearizable_1m_ops
timed

tier "fault injection under concurrency: 20,000 rounds (release)"
FAULTS_ROUNDS=20000 cargo test -p syncmap-core --release --test faults --test faults_concurrent \
    -- --nocapture
timed

tier "soak under valgrind memcheck: $VALGRIND_SOAK_OPS operations"
if command -v valgrind >/dev/null; then
    soak_bin="$(cargo test -p syncmap-core --release --test soak --no-run \
        --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "soak":
        print(m["executable"])')"
    SYNCMAP_SOAK_OPS="$VALGRIND_SOAK_OPS" valgrind --tool=memcheck --leak-check=full \
        --errors-for-leak-kinds=definite --error-exitcode=9 \
        "$soak_bin" --test-threads 1 --nocapture
else
    echo "SKIP: valgrind is not installed"
fi
timed

tier "fuzzing: AFL++ differential target, ${FUZZ_SECONDS:-60}s"
bash .ci/fuzz.sh "${FUZZ_SECONDS:-60}"
timed

tier "nightly tiers: miri, ASan, TSan"
bash .ci/sanitizers.sh
timed
