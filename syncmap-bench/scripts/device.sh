#!/usr/bin/env bash
# The 1→16-thread benchmarks, for a session lent the 16-core machine (the `device` tool), which
# has neither Rust nor Go and reaches no network: everything is built here, carried, and run
# there in one call a part.
#
#   syncmap-bench/scripts/device.sh prepare [BUNDLE]        # here; BUNDLE: target/device
#   syncmap-bench/scripts/device.sh run PART [BUNDLE [OUT]]  # there; OUT: $OUT
#
# prepare builds into BUNDLE (about 12 MB): the harness, static and stripped; Go 1.19's and Go's
# current `sync` test binaries (`go-bench.sh --compile`, static), with their `go version`
# lines. It ends by printing the device calls to make.
#
# run PART runs, with the thread counts 1, 2, 4, ... up to the core count:
#   go   Go 1.19's and Go's current map_bench_test.go (200 ms a cell), then the harness's Go
#        section with foldhash, both Go columns beside the Rust maps (100 ms a cell);
#        about 4–5 minutes on 16 cores;
#   mix  the conc-map-bench mixes at 2^20 slots, primed and unprimed, both hashers
#        (results.md, and mixes.svg: throughput against threads); about 3–4 minutes;
#   all  both, in one harness run.
# Into OUT: results.md, chart.svg, mixes.svg (mix), go-1.19.txt and go-current.txt (go),
# machine.txt (processor, load before and after) and run.log. The figures go in BENCHMARKS.md
# with the machine they came from.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
usage() {
    echo "usage: $0 prepare [BUNDLE] | run go|mix|all [BUNDLE [OUT]]" >&2
    exit 2
}

prepare() {
    local bundle
    bundle="$(realpath -m "${1:-$root/target/device}")"
    mkdir -p "$bundle"
    (cd "$root" && RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=target/static \
        cargo build --release -p syncmap-bench --target x86_64-unknown-linux-gnu)
    # Without its debug information: the bundle travels with the working tree (64 MiB at most).
    objcopy --strip-debug "$root/target/static/x86_64-unknown-linux-gnu/release/syncmap-bench" \
        "$bundle/syncmap-bench"
    "$root/syncmap-bench/scripts/go-bench.sh" --compile "$bundle/go-1.19-sync.test"
    "$root/syncmap-bench/scripts/go-bench.sh" --current --compile "$bundle/go-current-sync.test"
    git -C "$root" rev-parse --short HEAD > "$bundle/commit"
    du -sh "$bundle"
    local rel="${bundle#"$root"/}"
    cat <<EOF
Bundle ready. On the device (each part in its own call; "$rel" must be ignored by git):
  run  command: bash syncmap-bench/scripts/device.sh run go $rel   carry: ["$rel"]  timeout_s: 420
  run  command: bash syncmap-bench/scripts/device.sh run mix $rel  carry: ["$rel"]  timeout_s: 360
EOF
}

# Go's own benchmarks from a compiled test binary, in go-bench.sh's output format.
go_bench() {
    local binary="$1" cpus="$2"
    echo "# $(cat "$binary.version"); GOMAXPROCS in {$cpus}; benchtime 200ms"
    echo "# uptime: $(uptime)"
    "$binary" -test.run XXX -test.bench '/sync\.Map$' -test.benchtime 200ms -test.cpu "$cpus"
}

run() {
    local part="${1:-}" bundle out cpus threads c
    [[ "$part" == go || "$part" == mix || "$part" == all ]] || usage
    bundle="$(realpath "${2:-$root/target/device}")"
    out="$(realpath -m "${3:-${OUT:?no OUT given and \$OUT is unset}}")"
    mkdir -p "$out"
    threads=1
    c=2
    while ((c <= $(nproc))); do threads="$threads,$c"; c=$((c * 2)); done
    {
        echo "# commit $(cat "$bundle/commit"); part $part; threads $threads"
        grep -m1 'model name' /proc/cpuinfo || true
        echo "# cores: $(nproc); memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
        echo "# before: $(uptime)"
    } > "$out/machine.txt"
    local args=(--threads "$threads" --out "$out")
    case "$part" in
    go) args+=(--only go --hasher foldhash --benchtime 100) ;;
    mix) args+=(--only mix) ;;
    all) args+=(--only go,mix --benchtime 100) ;;
    esac
    if [[ "$part" != mix ]]; then
        go_bench "$bundle/go-1.19-sync.test" "$threads" > "$out/go-1.19.txt" 2>&1
        go_bench "$bundle/go-current-sync.test" "$threads" > "$out/go-current.txt" 2>&1
        args+=(--go "$out/go-1.19.txt" --go "$out/go-current.txt")
    fi
    "$bundle/syncmap-bench" "${args[@]}" > /dev/null 2> "$out/run.log"
    echo "# after: $(uptime)" >> "$out/machine.txt"
    cat "$out/machine.txt"
    tail -n 5 "$out/run.log"
}

case "${1:-}" in
prepare) shift; prepare "$@" ;;
run) shift; run "$@" ;;
*) usage ;;
esac
