//! The cost per entry of growing a full dirty table, at a few sizes, for side-by-side runs of two
//! builds:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example growth_cost
//! target/release/examples/growth_cost 5
//! ```
//!
//! Argument: rounds (default 5). Prints, for tables of 2^12 to 2^20 buckets, the best of the
//! rounds of `syncmap_bench::promotion::growth_cost` (foldhash): ns per entry moved by the
//! `insert` that finds the dirty table full.

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(5, |a| a.parse().expect("a count"));
    for log2 in [12, 14, 16, 18, 20] {
        let ns = syncmap_bench::promotion::growth_cost::<foldhash::fast::RandomState>(log2, rounds);
        println!(
            "2^{log2} buckets, {} entries: growth {ns:.1} ns/entry",
            (1_u64 << log2) * 7 / 8
        );
    }
}
