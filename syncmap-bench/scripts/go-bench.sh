#!/usr/bin/env bash
# Runs Go 1.19's own sync.Map benchmarks (src/sync/map_bench_test.go in GOROOT), so that the Go
# table sits beside ours. Installs Debian's Go 1.19 first if it is missing.
#
#   syncmap-bench/scripts/go-bench.sh [--quick] [OUT_FILE]
#
# Writes `go test -bench` output (ns/op per benchmark, for GOMAXPROCS 1, 2, 4, ... up to the core
# count) to OUT_FILE (default: target/bench/go-1.19.txt), then the two pathologies measured by
# go-pathology/main.go (n = 1k..16k; 1k..4k with --quick). Only the `*sync.Map` sub-benchmarks
# run: the `RWMutexMap` and `DeepCopyMap` reference maps are Go-internal and we have our own peers.
set -euo pipefail

quick=0
if [[ "${1:-}" == "--quick" ]]; then quick=1; shift; fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(realpath -m "${1:-$root/target/bench/go-1.19.txt}")"
mkdir -p "$(dirname "$out")"

GO=/usr/lib/go-1.19/bin/go
if [[ ! -x "$GO" || ! -f /usr/lib/go-1.19/src/sync/map_bench_test.go ]]; then
    echo "installing golang-1.19-go golang-1.19-src (Debian)..." >&2
    sudo=""
    if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq golang-1.19-go golang-1.19-src
fi

goroot="$("$GO" env GOROOT)"
cpus="1,2"
ncpu="$(nproc)"
c=4
while (( c <= ncpu )); do cpus="$cpus,$c"; c=$((c * 2)); done
benchtime=1s
max_n=16384
if (( quick )); then benchtime=200ms; max_n=4096; fi
pathology="$(cd "$(dirname "$0")/go-pathology" && pwd)"

# The test runs inside GOROOT's own sync package; GOFLAGS/GOPATH are set so that nothing is
# written into GOROOT and no network is needed.
cd "$goroot/src/sync"
export GOFLAGS=-mod=mod GOCACHE="${GOCACHE:-$root/target/bench/go-cache}" GOTOOLCHAIN=local
{
    echo "# $("$GO" version); GOMAXPROCS in {$cpus}; benchtime $benchtime"
    echo "# uptime: $(uptime)"
    "$GO" test -run XXX -bench '/sync\.Map$' -benchtime "$benchtime" -cpu "$cpus" sync
    (cd "$pathology" && "$GO" run . "$max_n")
} 2>&1 | tee "$out"
