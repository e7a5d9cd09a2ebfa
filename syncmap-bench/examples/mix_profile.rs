//! One conc-map-bench mix on one map, repeated, for profiling with `perf`:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example mix_profile
//! perf record -g target/release/examples/mix_profile ReadHeavy ours 1 5
//! ```
//!
//! Arguments: mix (`ReadHeavy`, `Exchange`, `RapidGrow`), map (`ours`, `rwlock`, `dash`,
//! `papaya`, `scc`), threads, rounds, and `primed` to read every prefilled key once first.
//! Prints Mops/s per round (std hasher, 2^20 slots, as the bench's mix table).

use syncmap_bench::maps::{BenchMap, Dash, Ours, Papaya, RwLockMap, SccIndex};
use syncmap_bench::mixes::{run, MIXES};

type Std = std::hash::RandomState;

fn rounds<M: BenchMap>(mix: &str, threads: usize, rounds: usize, prime: bool) {
    let mix = *MIXES
        .iter()
        .find(|m| m.name == mix)
        .expect("mix: ReadHeavy, Exchange or RapidGrow");
    for _ in 0..rounds {
        println!(
            "{} {}: {:.3} Mops/s",
            M::NAME,
            mix.name,
            run::<M>(mix, 20, threads, prime)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let mix = arg(0, "ReadHeavy");
    let threads: usize = arg(2, "1").parse().expect("threads");
    let n: usize = arg(3, "3").parse().expect("rounds");
    let prime = arg(4, "") == "primed";
    match arg(1, "ours").as_str() {
        "ours" => rounds::<Ours<Std>>(&mix, threads, n, prime),
        "rwlock" => rounds::<RwLockMap<Std>>(&mix, threads, n, prime),
        "dash" => rounds::<Dash<Std>>(&mix, threads, n, prime),
        "papaya" => rounds::<Papaya<Std>>(&mix, threads, n, prime),
        "scc" => rounds::<SccIndex<Std>>(&mix, threads, n, prime),
        other => panic!("unknown map {other}"),
    }
}
