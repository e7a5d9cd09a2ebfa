//! The cost per entry of one promotion cycle at a few sizes, for side-by-side runs of two builds:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example rebuild_cost
//! target/release/examples/rebuild_cost 1000000 5
//! ```
//!
//! Arguments: entries (default 1,000,000) and rounds (default 5). Prints the best of the rounds
//! of `syncmap_bench::promotion::rebuild_cost` (foldhash): ns per entry of the rebuild the first
//! new key after a promotion triggers, and of the promotion that follows (publishing the dirty
//! map and dropping the old read map's table).

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("a count"));
    let rounds: usize = args.next().map_or(5, |a| a.parse().expect("a count"));
    let cost = syncmap_bench::promotion::rebuild_cost::<foldhash::fast::RandomState>(n, rounds);
    println!(
        "{n} entries: rebuild {:.1} ns/entry, promote {:.1} ns/entry",
        cost.rebuild, cost.promote
    );
}
