//! Benchmark harness (see BENCHMARKS.md): our `SyncMap` against Go 1.19's `sync.Map` and the
//! Rust concurrent maps, on Go's own benchmarks, the conc-map-bench mixes, the pathologies of
//! the read/dirty design and memory. Run it with
//! `cargo run --release -p syncmap-bench -- [--quick]`. Benchmarks are not tests: nothing here
//! runs under `cargo test`.

pub mod go;
pub mod maps;
pub mod memory;
pub mod mixes;
pub mod pathology;
pub mod promotion;
pub mod read;
pub mod report;
pub mod scaling;
pub mod shards;
pub mod timing;

/// Parses `go test -bench` output: `(benchmark, GOMAXPROCS) → ns/op` for the `*sync.Map` runs.
pub fn parse_go_output(text: &str) -> Vec<(String, usize, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        // Go 1.24+ names them `BenchmarkMapLoadMostlyHits`; Go 1.19–1.23 `BenchmarkLoadMostlyHits`.
        let Some(rest) = line
            .strip_prefix("BenchmarkMap")
            .or_else(|| line.strip_prefix("Benchmark"))
        else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let Some(name) = fields.next() else { continue };
        let Some((bench, sub)) = name.split_once('/') else {
            continue;
        };
        if !sub.starts_with("*sync.Map") {
            continue;
        }
        let procs = sub
            .rsplit_once('-')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(1);
        let fields: Vec<&str> = fields.collect();
        if let Some(at) = fields.iter().position(|f| *f == "ns/op") {
            if let Some(ns) = at.checked_sub(1).and_then(|i| fields[i].parse().ok()) {
                out.push((bench.to_string(), procs, ns));
            }
        }
    }
    out
}

/// Parses the lines of `scripts/go-pathology`: `(n, range ms, missing-load ms)`.
pub fn parse_go_pathology(text: &str) -> Vec<(u64, f64, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("GoPathology ") else {
            continue;
        };
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|f| f.strip_prefix(name))
                .and_then(|v| v.parse::<f64>().ok())
        };
        if let (Some(n), Some(range), Some(missing)) =
            (field("n="), field("range_ms="), field("missing_ms="))
        {
            out.push((n as u64, range, missing));
        }
    }
    out
}
