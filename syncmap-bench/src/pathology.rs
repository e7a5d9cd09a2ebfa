//! The pathologies of Go's read/dirty design, single-threaded, as total wall time.

use crate::maps::BenchMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `n` unique inserts, each followed by a `Range` that stops at the first key. Go 1.19 promotes
/// on every `Range`, so the next insert copies the whole map: 14.7 s at n = 16k.
pub fn insert_then_early_exit_range<M: BenchMap>(n: u64) -> Duration {
    let map = M::new();
    let start = Instant::now();
    for i in 0..n {
        map.store(i, i);
        map.range(|k, v| {
            black_box((k, v));
            false
        });
    }
    let elapsed = start.elapsed();
    crate::timing::drop_untimed(map);
    elapsed
}

/// `n` unique inserts, each followed by a load of a key that is not in the map (golang/go#21032:
/// in Go, every such load takes the mutex until the next promotion).
pub fn insert_then_missing_load<M: BenchMap>(n: u64) -> Duration {
    let map = M::new();
    let start = Instant::now();
    for i in 0..n {
        map.store(i, i);
        black_box(map.load(i | 1 << 40));
    }
    let elapsed = start.elapsed();
    crate::timing::drop_untimed(map);
    elapsed
}

/// The sizes the pathologies run at.
pub fn sizes(quick: bool) -> Vec<u64> {
    if quick {
        vec![1 << 10, 1 << 12, 1 << 14]
    } else {
        vec![1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15]
    }
}
