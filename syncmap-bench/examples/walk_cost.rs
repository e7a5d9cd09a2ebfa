//! A small binary for counting the instructions of a full walk with callgrind:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example walk_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/walk_cost for_each 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/walk_cost for_each 1000
//! ```
//!
//! The difference of the two totals, divided by `1000 × 1024`, is the cost per entry visited.
//! Kinds: `for_each`, `pinned` (`pin().iter()`), `iter` (`SyncMap::iter`), `plain` (a `HashMap`).
//! The map is filled as the bench's Range fills it: 1,024 keys, then reads that promote them.
//!
//! `walk_cost time [ROUNDS]` times every kind instead, interleaved, and prints the best ns per
//! walk of each: a quick side-by-side (the bench's Range table is the reference figure).

use std::hint::black_box;
use std::ops::ControlFlow;
use syncmap_core::SyncMap;

type Fold = foldhash::fast::RandomState;

const KINDS: [&str; 4] = ["for_each", "pinned", "iter", "plain"];

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "for_each".into());
    let map: SyncMap<u64, u64, Fold> = SyncMap::with_hasher(Fold::default());
    let plain: std::collections::HashMap<u64, u64, Fold> = (0..1024).map(|i| (i, i)).collect();
    for i in 0..1024 {
        map.insert(i, i);
    }
    for i in 0..2048 {
        black_box(map.get(&(i % 1024)).map(|v| *v));
    }
    if kind == "time" {
        let rounds: u32 = args
            .next()
            .map_or(5, |n| n.parse().expect("a number of rounds"));
        let mut best = [f64::INFINITY; KINDS.len()];
        for _ in 0..rounds {
            for (kind, best) in KINDS.iter().zip(&mut best) {
                let walks = 20_000;
                let started = std::time::Instant::now();
                black_box(walk(kind, walks, &map, &plain));
                let ns = started.elapsed().as_nanos() as f64 / f64::from(walks);
                *best = best.min(ns);
            }
        }
        for (kind, best) in KINDS.iter().zip(best) {
            println!("{kind:>9}: {best:7.0} ns/walk");
        }
        return;
    }
    let walks: u32 = args
        .next()
        .map_or(1000, |n| n.parse().expect("a number of walks"));
    println!("{}", walk(&kind, walks, &map, &plain));
}

/// `walks` walks of one kind; returns a checksum.
fn walk(
    kind: &str,
    walks: u32,
    map: &SyncMap<u64, u64, Fold>,
    plain: &std::collections::HashMap<u64, u64, Fold>,
) -> u64 {
    let mut total = 0_u64;
    for _ in 0..walks {
        let mut sum = 0_u64;
        match kind {
            "for_each" => {
                let _ = map.for_each(|k, v| {
                    sum = sum.wrapping_add(k ^ v);
                    ControlFlow::<()>::Continue(())
                });
            }
            "pinned" => {
                for (k, v) in map.pin().iter() {
                    sum = sum.wrapping_add(k ^ v);
                }
            }
            "iter" => {
                for (k, v) in map.iter() {
                    sum = sum.wrapping_add(k ^ *v);
                }
            }
            "plain" => {
                for (k, v) in black_box(plain) {
                    sum = sum.wrapping_add(k ^ v);
                }
            }
            other => panic!("unknown kind {other}"),
        }
        total = total.wrapping_add(black_box(sum));
    }
    total
}
