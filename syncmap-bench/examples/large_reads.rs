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
//! Arguments: rounds (default 3), each timing every variant once, 2M lookups each, in ns; and
//! the number of keys (default 786,432).

use std::hint::black_box;
use std::time::Instant;
use syncmap_bench::mixes::splitmix64;
use syncmap_core::SyncMap;

type Fold = foldhash::fast::RandomState;

const LOOKUPS: u64 = 2_000_000;

/// ns per call of `lookup` on random present keys.
fn time(keys: u64, rng: &mut u64, mut lookup: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for _ in 0..LOOKUPS {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        lookup(splitmix64(*rng % keys));
    }
    start.elapsed().as_nanos() as f64 / LOOKUPS as f64
}

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .map_or(default, |a| a.parse().expect("a count"))
    };
    let (rounds, keys) = (arg(1, 3), arg(2, 786_432));
    let map: SyncMap<u64, u64, Fold> = SyncMap::with_hasher(Fold::default());
    let mut plain = std::collections::HashMap::with_hasher(Fold::default());
    for i in 0..keys {
        map.insert(splitmix64(i), i);
        plain.insert(splitmix64(i), i);
    }
    for i in 0..keys {
        black_box(map.get(&splitmix64(i))); // promotes every shard's keys
    }
    for round in 0..rounds {
        let mut rng = 0x1234_5678 + round;
        let contains = time(keys, &mut rng, |k| {
            black_box(map.contains_key(&k));
        });
        let get = time(keys, &mut rng, |k| {
            black_box(map.get(&k).map(|v| *v));
        });
        let pinned = map.pin();
        let pin_get = time(keys, &mut rng, |k| {
            black_box(pinned.get(&k).copied());
        });
        drop(pinned);
        let hash_map = time(keys, &mut rng, |k| {
            black_box(plain.get(&k).copied());
        });
        println!(
            "contains_key {contains:.1}  get {get:.1}  pin().get {pin_get:.1}  HashMap::get {hash_map:.1} ns"
        );
    }
}
