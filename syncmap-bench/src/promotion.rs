//! Issue 9: what the promotion rule weighs, and what it changes.
//!
//! - [`rebuild_cost`]: ns per entry of a dirty rebuild (copying the read map's entry pointers
//!   into a new dirty map) and of the promotion that follows it (publishing the dirty map and
//!   dropping the old read map's table), at `n` entries;
//! - [`growth_cost`]: ns per entry of the growth of a full dirty table (moving its entries into
//!   one of twice the buckets), at `7/8 · 2^log2` entries;
//! - [`locked_miss_cost`]: ns per lookup that takes the lock and finds its key in the dirty map
//!   (a *locked miss*), next to a read-map hit of the same keys, at 1 or more threads;
//! - [`bulk_load`]: conc-map-bench's ramp-up: prefill a fresh map, then read the prefilled keys,
//!   counting the reads that took the lock;
//! - [`GoRule`]: the default `SyncMap` adapter with Go's schedule, to run the mixes under both
//!   rules side by side.

use crate::maps::Hasher;
use crate::mixes::splitmix64;
use std::hint::black_box;
use std::ops::ControlFlow;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use syncmap_core::{Builder, Promotion, Stats, SyncMap};

/// Runs `per_thread(map, start, count)` on `threads` threads (thread `t` from `t * n`, `n` split
/// evenly) and returns the time from the first thread's start to the last thread's end, each
/// thread reading the clock itself (on a loaded 2-core machine, a coordinator thread that starts
/// the clock after the release can be scheduled only once the workers are done).
pub fn run_timed<M: Sync>(
    map: &M,
    threads: usize,
    n: u64,
    per_thread: &(dyn Fn(&M, u64, u64) + Sync),
) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let barrier = &barrier;
                let count = crate::timing::thread_share(t, threads, n);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    per_thread(map, t * n, count);
                    (start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("benchmark thread panicked"))
            .collect()
    });
    let start = spans.iter().map(|s| s.0).min().expect("a thread");
    let end = spans.iter().map(|s| s.1).max().expect("a thread");
    end - start
}

/// A `SyncMap` with an explicit rule.
pub fn map<S: Hasher>(promotion: Promotion, capacity: usize) -> SyncMap<u64, u64, S> {
    builder::<S>(promotion).capacity(capacity).build()
}

/// The builder of [`map`], for a map that needs one more setting.
fn builder<S: Hasher>(promotion: Promotion) -> Builder<u64, u64, S> {
    SyncMap::builder().hasher(S::default()).promotion(promotion)
}

/// Per-entry costs of one promotion cycle at `n` entries, best of `rounds`.
#[derive(Clone, Copy, Debug)]
pub struct RebuildCost {
    /// ns per entry of the rebuild that the first new key after a promotion triggers.
    pub rebuild: f64,
    /// ns per entry of the promotion that publishes that dirty map (the old read map's table is
    /// dropped there: one reference-count decrement per entry).
    pub promote: f64,
}

/// Measures [`RebuildCost`] at `n` entries: a one-shard map of `n` keys is promoted, then each
/// round inserts one new key (which rebuilds the dirty map from the `n`-entry read map) and reads
/// it (one miss, which promotes under `AfterMisses(1)`). One shard, so that the cycle is one
/// read/dirty pair of `n` entries (with several, the first read would promote only its own shard).
pub fn rebuild_cost<S: Hasher>(n: u64, rounds: usize) -> RebuildCost {
    let m = builder::<S>(Promotion::AfterMisses(1)).shards(1).build();
    for i in 0..n {
        m.insert(i, i);
    }
    black_box(m.get(&0).map(|v| *v)); // promotes: the read map holds every key
    let mut best = RebuildCost {
        rebuild: f64::INFINITY,
        promote: f64::INFINITY,
    };
    for r in 0..rounds as u64 {
        let key = n + r;
        let copied = m.stats().entries_copied;
        let start = Instant::now();
        m.insert(key, key);
        let rebuilt = start.elapsed();
        let entries = (m.stats().entries_copied - copied) as f64;
        let start = Instant::now();
        black_box(m.get(&key).map(|v| *v));
        let promoted = start.elapsed();
        assert!(m.stats().dirty_len.is_none(), "the read promotes");
        best.rebuild = best.rebuild.min(rebuilt.as_nanos() as f64 / entries);
        best.promote = best.promote.min(promoted.as_nanos() as f64 / entries);
    }
    best
}

/// ns per entry of the growth of a full dirty table of `7/8 · 2^log2` entries (hashbrown's
/// load factor), best of `rounds`: a one-shard map that never promotes is filled with that many
/// new keys, and the next new key's `insert`, which grows the table, is timed.
pub fn growth_cost<S: Hasher>(log2: u32, rounds: usize) -> f64 {
    let full = (1_u64 << log2) * 7 / 8;
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let m = builder::<S>(Promotion::AfterMisses(usize::MAX))
            .shards(1)
            .build();
        for i in 0..full {
            m.insert(splitmix64(i), i);
        }
        let start = Instant::now();
        m.insert(splitmix64(full), full);
        let grown = start.elapsed();
        assert_eq!(m.stats().dirty_len, Some(full as usize + 1));
        best = best.min(grown.as_nanos() as f64 / full as f64);
    }
    best
}

/// ns per lookup of one of `keys` keys, all in the dirty map (read map empty, never promoted:
/// every lookup takes the lock and counts a miss), and the same for a read-map hit, at
/// `threads` threads; `ops` lookups in all, best of `rounds`. Returns `(locked, hit)`.
pub fn locked_miss_cost<S: Hasher>(
    keys: u64,
    threads: usize,
    ops: u64,
    rounds: usize,
) -> (f64, f64) {
    let m = map::<S>(Promotion::AfterMisses(usize::MAX), 0);
    for i in 0..keys {
        m.insert(splitmix64(i), i);
    }
    let look = |m: &SyncMap<u64, u64, S>, start: u64, count: u64| {
        let mut rng = splitmix64(start) | 1;
        for _ in 0..count {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            black_box(m.get(&splitmix64(rng % keys)).map(|v| *v));
        }
    };
    let mut locked = f64::INFINITY;
    let mut hit = f64::INFINITY;
    let promoted = map::<S>(Promotion::DirtyLen, 0);
    for i in 0..keys {
        promoted.insert(splitmix64(i), i);
    }
    let _ = promoted.for_each(|_, _| ControlFlow::<()>::Continue(())); // a full walk promotes
    assert_eq!(promoted.stats().dirty_len, None);
    for _ in 0..rounds {
        let before = m.stats().misses;
        let t = run_timed(&m, threads, ops, &look);
        assert_eq!(m.stats().misses - before, ops, "every lookup took the lock");
        locked = locked.min(t.as_nanos() as f64 / ops as f64);
        let before = promoted.stats().misses;
        let t = run_timed(&promoted, threads, ops, &look);
        assert_eq!(
            promoted.stats().misses,
            before,
            "every lookup hit the read map"
        );
        hit = hit.min(t.as_nanos() as f64 / ops as f64);
    }
    (locked, hit)
}

/// Outcome of [`bulk_load`].
#[derive(Clone, Copy, Debug)]
pub struct BulkLoad {
    /// ns per key of the prefill (new keys: each takes the lock).
    pub insert_ns: f64,
    /// Reads of prefilled keys per second, in millions, over the whole read phase.
    pub read_mops: f64,
    /// ns per read over the first `reads / 16` reads (the ramp-up).
    pub first_reads_ns: f64,
    /// The map's counters after the reads.
    pub stats: Stats,
}

/// A fresh map pre-sized for `2^log2` keys, prefilled to 75% (one thread, untimed for the read
/// figure), then `reads` reads of random prefilled keys on `threads` threads, without priming
/// (as conc-map-bench runs it).
pub fn bulk_load<S: Hasher>(
    promotion: Promotion,
    log2: u32,
    reads: u64,
    threads: usize,
) -> BulkLoad {
    let slots = 1_u64 << log2;
    let n = slots * 3 / 4;
    let m = map::<S>(promotion, slots as usize);
    let start = Instant::now();
    for i in 0..n {
        m.insert(splitmix64(i), i);
    }
    let insert_ns = start.elapsed().as_nanos() as f64 / n as f64;
    let read = |m: &SyncMap<u64, u64, S>, start: u64, count: u64| {
        let mut rng = splitmix64(start ^ 0xDEAD_BEEF) | 1;
        for _ in 0..count {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            black_box(m.get(&splitmix64(rng % n)).map(|v| *v));
        }
    };
    let first = reads / 16;
    let t_first = run_timed(&m, threads, first, &read);
    let t_rest = run_timed(&m, threads, reads - first, &|m, s, c| read(m, s + 1, c));
    let stats = m.stats();
    drop(black_box(m));
    BulkLoad {
        insert_ns,
        read_mops: reads as f64 / (t_first + t_rest).as_secs_f64() / 1e6,
        first_reads_ns: t_first.as_nanos() as f64 / first as f64,
        stats,
    }
}

crate::ours_variant!(
    /// `SyncMap` with Go's promotion schedule ([`Promotion::DirtyLen`]), for the mixes.
    GoRule,
    "SyncMap, Go's rule",
    |S| map::<S>(Promotion::DirtyLen, 0)
);
