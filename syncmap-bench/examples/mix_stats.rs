//! One conc-map-bench mix on `SyncMap` (foldhash), with the map's statistics just before and
//! just after the timed part: how many promotions, rebuilds and entries copied a run pays for.
//!
//! ```text
//! cargo build --release -p syncmap-bench --example mix_stats
//! target/release/examples/mix_stats ReadHeavy 1 primed 20 3
//! ```
//!
//! Arguments: mix (`ReadHeavy`, `Exchange`, `RapidGrow`), threads, `primed` or `unprimed`,
//! log2 of the table's slots (20, as the harness), rounds.

use std::time::Duration;
use syncmap_bench::maps::Ours;
use syncmap_bench::mixes::{run_with, MIXES};
use syncmap_bench::timing::run_parallel;

type Fold = foldhash::fast::RandomState;

fn timed(
    map: &Ours<Fold>,
    threads: usize,
    n: u64,
    per_thread: &(dyn Fn(&Ours<Fold>, u64, u64) + Sync),
) -> Duration {
    let before = map.0.stats();
    let elapsed = run_parallel(map, threads, n, per_thread);
    let after = map.0.stats();
    println!("  before: {before:?}\n  after:  {after:?}");
    elapsed
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let name = arg(0, "ReadHeavy");
    let mix = *MIXES
        .iter()
        .find(|m| m.name == name)
        .expect("mix: ReadHeavy, Exchange or RapidGrow");
    let threads: usize = arg(1, "1").parse().expect("threads");
    let prime = arg(2, "primed") == "primed";
    let log2: u32 = arg(3, "20").parse().expect("log2 of the slots");
    let rounds: usize = arg(4, "1").parse().expect("rounds");
    for _ in 0..rounds {
        let mops = run_with::<Ours<Fold>>(timed, mix, log2, threads, prime);
        println!(
            "{} 2^{log2} slots, {threads} thread(s): {mops:.3} Mops/s",
            mix.name
        );
    }
}
