//! Read hits in a large settled map, one thread: `SyncMap::contains_key` (the entry's slot, not
//! the value), `get` and `pin().get()` (the value too) beside `HashMap::get`, at 786,432 `u64`
//! keys (the ReadHeavy mix's prefill at 2^20 slots), foldhash, the keys read in random order.
//! If `get` costs no more than `contains_key`, the value is no cache miss of its own.
//!
//! ```text
//! cargo build --release -p syncmap-bench --example large_reads
//! target/release/examples/large_reads 3
//! ```
//!
//! Argument: rounds (default 3), each timing every variant once, 2M lookups each, in ns.

use std::hint::black_box;
use std::time::Instant;
use syncmap_bench::mixes::splitmix64;
use syncmap_core::SyncMap;

type Fold = foldhash::fast::RandomState;

const KEYS: u64 = 786_432;
const LOOKUPS: u64 = 2_000_000;

/// ns per call of `lookup` on random present keys.
fn time(rng: &mut u64, mut lookup: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for _ in 0..LOOKUPS {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        lookup(splitmix64(*rng % KEYS));
    }
    start.elapsed().as_nanos() as f64 / LOOKUPS as f64
}

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .map_or(3, |r| r.parse().expect("rounds"));
    let map: SyncMap<u64, u64, Fold> = SyncMap::with_hasher(Fold::default());
    let mut plain = std::collections::HashMap::with_hasher(Fold::default());
    for i in 0..KEYS {
        map.insert(splitmix64(i), i);
        plain.insert(splitmix64(i), i);
    }
    for i in 0..KEYS {
        black_box(map.get(&splitmix64(i))); // promotes every shard's keys
    }
    for round in 0..rounds {
        let mut rng = 0x1234_5678 + round;
        let contains = time(&mut rng, |k| {
            black_box(map.contains_key(&k));
        });
        let get = time(&mut rng, |k| {
            black_box(map.get(&k).map(|v| *v));
        });
        let pinned = map.pin();
        let pin_get = time(&mut rng, |k| {
            black_box(pinned.get(&k).copied());
        });
        drop(pinned);
        let hash_map = time(&mut rng, |k| {
            black_box(plain.get(&k).copied());
        });
        println!(
            "contains_key {contains:.1}  get {get:.1}  pin().get {pin_get:.1}  HashMap::get {hash_map:.1} ns"
        );
    }
}
