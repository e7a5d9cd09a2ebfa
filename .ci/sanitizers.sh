#!/usr/bin/env bash
# Nightly-only correctness tiers (issue 5, part 4): miri over the entry-state and promotion
# tests with many seeds, AddressSanitizer and ThreadSanitizer over the soak, linearizability
# (and, for ASan, fault-injection) tests. Each tier prints a SKIP line and is skipped, never
# failed, when nightly or its components cannot be had; the stable tiers never depend on it.
# Usage: bash .ci/sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MIRI_SEEDS="${MIRI_SEEDS:-16}"
TARGET=x86_64-unknown-linux-gnu

tier() { printf '\n--> %s\n' "$*"; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "SKIP: miri, ASan, TSan: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
# Idempotent: a no-op when already installed.
if ! rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1; then
    echo "warning: could not add nightly miri/rust-src components"
fi
installed="$(rustup component list --toolchain nightly --installed 2>/dev/null || true)"
has() { grep -q "^$1" <<<"$installed"; }

tier "miri: tests/miri.rs, seeds 0..$MIRI_SEEDS"
if has miri && has rust-src; then
    CARGO_TARGET_DIR=target/miri cargo +nightly miri setup >/dev/null 2>&1
    CARGO_TARGET_DIR=target/miri MIRIFLAGS="-Zmiri-many-seeds=0..$MIRI_SEEDS" \
        cargo +nightly miri test -p syncmap-core --test miri
else
    echo "SKIP: miri: nightly components miri and rust-src are not available"
fi

if ! has rust-src; then
    echo "SKIP: ASan, TSan: nightly rust-src (for -Zbuild-std) is not available"
    exit 0
fi

tier "AddressSanitizer (+LeakSanitizer): soak, linearizability, faults, drops"
CARGO_TARGET_DIR=target/asan RUSTFLAGS="-Zsanitizer=address" \
    RUSTDOCFLAGS="-Zsanitizer=address" ASAN_OPTIONS="detect_leaks=1" \
    SYNCMAP_SOAK_OPS=400000 SYNCMAP_LIN_OPS=262144 \
    cargo +nightly test -Zbuild-std --target "$TARGET" -p syncmap-core \
    --test soak --test linearizability --test faults --test faults_concurrent --test drops

tier "ThreadSanitizer: soak, linearizability, drops"
CARGO_TARGET_DIR=target/tsan RUSTFLAGS="-Zsanitizer=thread" \
    RUSTDOCFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1" \
    SYNCMAP_SOAK_OPS=400000 SYNCMAP_LIN_OPS=262144 \
    cargo +nightly test -Zbuild-std --target "$TARGET" -p syncmap-core \
    --test soak --test linearizability --test drops
