#!/usr/bin/env bash
# The one command behind BENCHMARKS.md:
#
#   syncmap-bench/scripts/run-all.sh [--quick] [--no-go]
#
# 1. runs Go 1.19's own sync.Map benchmarks and pathologies (installing Go 1.19 if needed), into
#    target/bench/go-1.19.txt (skipped with --no-go, or reused if that file exists and --no-go);
# 2. runs the Rust harness (`cargo run --release -p syncmap-bench`), which writes
#    target/bench/results.md (every table, each peer with SyncMap's speedup over it, Go 1.19 in
#    its own column) and target/bench/chart.svg.
# --quick: Go at -benchtime 200ms, the harness in quick mode; under 3 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
quick=()
go=1
for arg in "$@"; do
    case "$arg" in
        --quick) quick=(--quick) ;;
        --no-go) go=0 ;;
        *) echo "usage: $0 [--quick] [--no-go]" >&2; exit 2 ;;
    esac
done
mkdir -p target/bench
echo "# $(date -u +%FT%TZ) $(uptime)" > target/bench/load.txt
if (( go )); then
    syncmap-bench/scripts/go-bench.sh "${quick[@]}" target/bench/go-1.19.txt
fi
cargo run --release -p syncmap-bench -- "${quick[@]}" --out target/bench --go target/bench/go-1.19.txt
echo "# $(date -u +%FT%TZ) $(uptime)" >> target/bench/load.txt
cat target/bench/load.txt
