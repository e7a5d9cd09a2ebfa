#!/usr/bin/env bash
# Before/after figures for one change, measured in one run on one machine:
#
#   syncmap-bench/scripts/before-after.sh BEFORE_COMMIT [harness options...]
#
# Builds the benchmark harness of BEFORE_COMMIT (in a temporary git worktree, with its own target
# directory) and of the working tree, then runs the old harness (SyncMap only: the peers are the
# same code in both) and right after it the new one (every map), with the same options and the
# same Go 1.19 figures. Results: target/bench-before/results.md, target/bench-after/results.md.
# Example (issue 8): syncmap-bench/scripts/before-after.sh 01d28aa --only read,go,mem
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
before="${1:?usage: $0 BEFORE_COMMIT [harness options...]}"
shift
go_figures="${GO_FIGURES:-syncmap-bench/results/go-1.19.txt}"
tree="$root/target/before-tree"
if [ ! -d "$tree" ]; then
    git worktree add --detach "$tree" "$before" >/dev/null
fi
(cd "$tree" && git checkout -q --detach "$before" &&
    CARGO_TARGET_DIR="$root/target/before-build" cargo build -q --release -p syncmap-bench)
cargo build -q --release -p syncmap-bench
echo "# $(date -u +%FT%TZ) $(uptime)" > target/bench-load.txt
"$root/target/before-build/release/syncmap-bench" "$@" --map SyncMap --go "$go_figures" \
    --out target/bench-before > /dev/null
"$root/target/release/syncmap-bench" "$@" --go "$go_figures" --out target/bench-after > /dev/null
echo "# $(date -u +%FT%TZ) $(uptime)" >> target/bench-load.txt
cat target/bench-load.txt
