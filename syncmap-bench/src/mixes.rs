//! The conc-map-bench mixes (bustle workloads), in Mops/s, with u64 keys.
//!
//! conc-map-bench runs a table of 2^25 slots, prefilled to 75% (read-heavy and exchange) or
//! empty (rapid-grow), and as many operations as slots. This harness keeps the mixes, the
//! prefill fractions and the ops-per-slot ratio, and scales the table down (2^20 by default,
//! 2^16 in quick mode) to fit a small machine. Each thread owns a stream of random keys: reads
//! and updates pick a random key it has inserted and not yet removed, inserts take the next new
//! key, removes the oldest present one (bustle's scheme).

use crate::maps::BenchMap;
use crate::timing::{run_parallel, Timer};
use std::hint::black_box;

/// One mix, in percent.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// Name as in conc-map-bench.
    pub name: &'static str,
    /// Reads of present keys.
    pub read: u32,
    /// Inserts of new keys.
    pub insert: u32,
    /// Removals of present keys.
    pub remove: u32,
    /// Updates (stores) of present keys.
    pub update: u32,
    /// Fraction of the table filled before timing starts.
    pub prefill: f64,
}

/// conc-map-bench's three workloads.
pub const MIXES: [Mix; 3] = [
    Mix {
        name: "ReadHeavy",
        read: 98,
        insert: 1,
        remove: 1,
        update: 0,
        prefill: 0.75,
    },
    Mix {
        name: "Exchange",
        read: 10,
        insert: 40,
        remove: 40,
        update: 10,
        prefill: 0.75,
    },
    Mix {
        name: "RapidGrow",
        read: 5,
        insert: 80,
        remove: 5,
        update: 10,
        prefill: 0.0,
    },
];

/// splitmix64: a bijection, so distinct inputs give distinct keys.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn key(thread: u64, index: u64) -> u64 {
    splitmix64((thread << 40) | index)
}

/// Runs `mix` on a table of `2^capacity_log2` slots with `threads` threads and returns Mops/s.
///
/// With `prime`, every prefilled key is read once after the prefill, untimed, as Go's own
/// benchmarks "prime the map to get it into a steady state"; without it, the timed run
/// includes each map's ramp-up from a freshly filled state.
pub fn run<M: BenchMap>(mix: Mix, capacity_log2: u32, threads: usize, prime: bool) -> f64 {
    run_with::<M>(run_parallel, mix, capacity_log2, threads, prime)
}

/// [`run`] with the given timer.
pub fn run_with<M: BenchMap>(
    timer: Timer<M>,
    mix: Mix,
    capacity_log2: u32,
    threads: usize,
    prime: bool,
) -> f64 {
    let capacity = 1_u64 << capacity_log2;
    let threads_u = threads as u64;
    let prefill = ((capacity as f64 * mix.prefill) as u64) / threads_u;
    let ops = capacity;
    let map = M::new();
    for t in 0..threads_u {
        for i in 0..prefill {
            map.store(key(t, i), i);
        }
    }
    if prime {
        for t in 0..threads_u {
            for i in 0..prefill {
                black_box(map.load(key(t, i)));
            }
        }
    }
    let elapsed = timer(&map, threads, ops, &|map: &M, start, count| {
        let t = start / ops;
        let (mut lo, mut hi) = (0_u64, prefill);
        let mut rng = splitmix64(t ^ 0xDEAD_BEEF) | 1;
        for _ in 0..count {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let pick = (rng % 100) as u32;
            let present = |r: u64| lo + (r >> 8) % (hi - lo);
            if pick < mix.read {
                if hi > lo {
                    black_box(map.load(key(t, present(rng))));
                } else {
                    black_box(map.load(key(t, hi)));
                }
            } else if pick < mix.read + mix.insert {
                map.store(key(t, hi), hi);
                hi += 1;
            } else if pick < mix.read + mix.insert + mix.remove {
                if hi > lo {
                    black_box(map.load_and_delete(key(t, lo)));
                    lo += 1;
                } else {
                    black_box(map.load_and_delete(key(t, hi)));
                }
            } else if hi > lo {
                let i = present(rng);
                map.store(key(t, i), i + 1);
            } else {
                black_box(map.load(key(t, hi)));
            }
        }
    });
    crate::timing::drop_untimed(map);
    ops as f64 / elapsed.as_secs_f64() / 1e6
}
