//! The read-path figures of issue 8: a `Load` of a present key (read hit) and a full walk
//! (Range), for every map, beside the unsynchronized `HashMap` limit and `SyncMap`'s pinned
//! session. 1,024 `u64` keys, each map read twice before timing so that `SyncMap`'s keys are
//! promoted.

use crate::maps::{BenchMap, Hasher};
use crate::timing;
use std::hint::black_box;
use std::time::Duration;
use syncmap_core::SyncMap;

/// A map of keys `0..1024`, each read twice (so that `SyncMap` promotes them).
fn filled<M: BenchMap>() -> M {
    let m = M::new();
    for i in 0..1024 {
        m.store(i, i);
    }
    for i in 0..2048 {
        black_box(m.load(i % 1024));
    }
    m
}

/// ns per `Load` of a present key, keys `0..1024` promoted first, at `threads` threads.
pub fn read_hit<M: BenchMap>(threads: usize, benchtime: Duration) -> Option<f64> {
    let make = filled::<M>;
    Some(timing::go_style(
        &make,
        threads,
        benchtime,
        &|m: &M, i, n| {
            for i in i..i + n {
                black_box(m.load(i & 1023));
            }
        },
    ))
}

/// A `SyncMap` of keys `0..1024`, promoted (each key read twice).
pub fn filled_syncmap<S: Hasher>() -> SyncMap<u64, u64, S> {
    let m = SyncMap::with_hasher(S::default());
    for i in 0..1024 {
        m.insert(i, i);
    }
    for i in 0..2048 {
        black_box(m.get(&(i % 1024)).map(|v| *v));
    }
    m
}

/// A plain `HashMap` of keys `0..1024`.
pub fn filled_hashmap<S: Hasher>() -> std::collections::HashMap<u64, u64, S> {
    (0..1024).map(|i| (i, i)).collect()
}

/// The limit: an unsynchronized `HashMap::get` (shared read-only between threads). The key goes
/// through `black_box`, so each iteration is one real lookup the compiler cannot hoist or fold.
pub fn read_hit_plain<S: Hasher>(threads: usize, benchtime: Duration) -> f64 {
    let make = filled_hashmap::<S>;
    timing::go_style(&make, threads, benchtime, &|m, i, n| {
        for i in i..i + n {
            black_box(m.get(&black_box(i & 1023)).copied());
        }
    })
}

/// `SyncMap` through one `pin()` session per thread's batch: the guard is paid once.
pub fn read_hit_pinned<S: Hasher>(threads: usize, benchtime: Duration) -> f64 {
    let make = filled_syncmap::<S>;
    timing::go_style(&make, threads, benchtime, &|m, i, n| {
        let pinned = m.pin();
        for i in i..i + n {
            black_box(pinned.get(&(i & 1023)).copied());
        }
    })
}

/// A full walk of 1,024 entries, per walk.
pub fn range<M: BenchMap>(threads: usize, benchtime: Duration) -> Option<f64> {
    let make = filled::<M>;
    Some(timing::go_style(
        &make,
        threads,
        benchtime,
        &|m: &M, _, n| {
            for _ in 0..n {
                let mut sum = 0_u64;
                m.range(|k, v| {
                    sum = sum.wrapping_add(k ^ v);
                    true
                });
                black_box(sum);
            }
        },
    ))
}

/// A full walk of a plain `HashMap` of 1,024 entries, per walk: the limit.
pub fn range_plain<S: Hasher>(threads: usize, benchtime: Duration) -> f64 {
    let make = filled_hashmap::<S>;
    timing::go_style(&make, threads, benchtime, &|m, _, n| {
        for _ in 0..n {
            let mut sum = 0_u64;
            for (k, v) in black_box(m) {
                sum = sum.wrapping_add(k ^ v);
            }
            black_box(sum);
        }
    })
}

/// A full walk of 1,024 entries through one `pin()` session's iterator, per walk.
pub fn range_pinned<S: Hasher>(threads: usize, benchtime: Duration) -> f64 {
    let make = filled_syncmap::<S>;
    timing::go_style(&make, threads, benchtime, &|m, _, n| {
        for _ in 0..n {
            let mut sum = 0_u64;
            for (k, v) in m.pin().iter() {
                sum = sum.wrapping_add(k ^ v);
            }
            black_box(sum);
        }
    })
}
