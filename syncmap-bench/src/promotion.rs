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
//!   rules side by side;
//! - [`section`]: all of the above as the harness's `--only promo` report.

use crate::go;
use crate::maps::{Hasher, Ours};
use crate::mixes::{self, splitmix64};
use crate::report::{keep_best, Table};
use std::fmt::Write as _;
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
    crate::timing::drop_untimed(m);
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

/// Issue 9: the figures the default promotion rule is weighed from, and the rule against Go's,
/// side by side (each cell the best of `rounds` interleaved runs). Markdown.
pub fn section<S: Hasher>(quick: bool, threads: &[usize], benchtime: Duration) -> String {
    let rounds = if quick { 2 } else { 5 };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "#### Issue 9: dirty rebuild and promotion, {} hasher, 1 thread, best of {rounds} (ns per entry)\n",
        S::NAME
    );
    let _ = writeln!(
        md,
        "| entries | rebuild (copy into a new dirty map) | promotion (drop of the old read map) |"
    );
    let _ = writeln!(md, "|---:|---:|---:|");
    let sizes: &[u64] = if quick {
        &[1 << 10, 1 << 16]
    } else {
        &[1 << 4, 1 << 10, 1 << 16, 1 << 20]
    };
    for &n in sizes {
        let cost = rebuild_cost::<S>(n, rounds);
        eprintln!("rebuild n={n}: {cost:.2?}");
        let _ = writeln!(md, "| {n} | {:.2} | {:.2} |", cost.rebuild, cost.promote);
    }
    let _ = writeln!(
        md,
        "\n#### Issue 9: a locked miss (key only in the dirty map) against a read-map hit, {} hasher, best of {rounds} (ns per lookup, wall time / lookups)\n",
        S::NAME
    );
    let _ = writeln!(
        md,
        "| keys | threads | locked miss | read hit | difference |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    let keys: &[u64] = if quick {
        &[1 << 10]
    } else {
        &[1 << 10, 1 << 16, 3 << 18]
    };
    for &k in keys {
        for &threads in threads {
            let ops = if quick { 1 << 18 } else { 1 << 21 };
            let (locked, hit) = locked_miss_cost::<S>(k, threads, ops, rounds);
            eprintln!("locked miss keys={k} t={threads}: {locked:.1} vs hit {hit:.1}");
            let _ = writeln!(
                md,
                "| {k} | {threads} | {locked:.1} | {hit:.1} | {:.1} |",
                locked - hit
            );
        }
    }
    let log2 = if quick { 16 } else { 20 };
    let reads = 1_u64 << log2;
    let _ = writeln!(
        md,
        "\n#### Issue 9: bulk load, a fresh map pre-sized for 2^{log2} keys, prefilled to 75% ({} keys), then 2^{log2} reads of prefilled keys, unprimed, {} hasher, best of {rounds} (locked reads: `stats().misses`)\n",
        reads * 3 / 4,
        S::NAME
    );
    let _ = writeln!(md, "| rule | threads | prefill ns/key | locked reads | promotions | first 1/16 of the reads, ns/read | reads, Mops/s |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for &threads in threads {
        let rules = [
            ("default", Promotion::default()),
            ("Go's (`DirtyLen`)", Promotion::DirtyLen),
        ];
        let mut best: Vec<Option<BulkLoad>> = vec![None; rules.len()];
        for round in 0..rounds {
            // Alternate which rule runs first.
            let mut order: Vec<usize> = (0..rules.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let (b, rule) = (&mut best[i], rules[i].1);
                let run = bulk_load::<S>(rule, log2, reads, threads);
                *b = Some(match *b {
                    Some(old) if old.read_mops >= run.read_mops => old,
                    _ => run,
                });
            }
        }
        for (b, (name, _)) in best.iter().zip(&rules) {
            let b = b.expect("ran");
            eprintln!("bulk load {name} t={threads}: {b:.2?}");
            let _ = writeln!(
                md,
                "| {name} | {threads} | {:.0} | {} | {} | {:.1} | {:.2} |",
                b.insert_ns, b.stats.misses, b.stats.promotions, b.first_reads_ns, b.read_mops
            );
        }
    }
    let mix_log2 = if quick { 16 } else { 20 };
    let mut table = Table {
        title: format!(
            "Issue 9: conc-map-bench mixes, 2^{mix_log2} slots, {} hasher, default rule against Go's, best of {rounds} interleaved",
            S::NAME
        ),
        unit: "Mops/s",
        higher_is_better: true,
        columns: vec!["SyncMap, default rule".into(), "SyncMap, Go's rule".into()],
        rows: Vec::new(),
    };
    for mix in mixes::MIXES {
        for &threads in threads {
            let primes: &[bool] = if mix.prefill > 0.0 {
                &[false, true]
            } else {
                &[false]
            };
            for &prime in primes {
                let mut best = Vec::new();
                for round in 0..rounds {
                    // Alternate which rule runs first.
                    let (ours, go) = if round % 2 == 0 {
                        let ours = mixes::run::<Ours<S>>(mix, mix_log2, threads, prime);
                        (ours, mixes::run::<GoRule<S>>(mix, mix_log2, threads, prime))
                    } else {
                        let go = mixes::run::<GoRule<S>>(mix, mix_log2, threads, prime);
                        (mixes::run::<Ours<S>>(mix, mix_log2, threads, prime), go)
                    };
                    // Higher is better here: keep the larger figure.
                    keep_best(&mut best, vec![Some(-ours), Some(-go)]);
                }
                let row: Vec<Option<f64>> = best.iter().map(|v| v.map(|v| -v)).collect();
                let name = format!(
                    "{}{}, {threads} thread(s)",
                    mix.name,
                    if prime { " (primed)" } else { "" }
                );
                eprintln!("promo mix {name}: {row:.2?}");
                table.rows.push((name, row));
            }
        }
    }
    md.push('\n');
    md.push_str(&table.markdown());
    // Go's benchmarks whose misses or promotions the rule changes.
    let mut go = Table {
        title: format!(
            "Issue 9: Go's benchmarks, {} hasher, default rule against Go's, best of {rounds} interleaved",
            S::NAME
        ),
        unit: "ns/op",
        higher_is_better: false,
        columns: vec!["SyncMap, default rule".into(), "SyncMap, Go's rule".into()],
        rows: Vec::new(),
    };
    let names = [
        "LoadMostlyHits",
        "LoadMostlyMisses",
        "LoadOrStoreBalanced",
        "LoadOrStoreUnique",
        "LoadAndDeleteBalanced",
        "AdversarialAlloc",
        "AdversarialDelete",
        "CompareAndSwapNoExistingKey",
    ];
    let benches = go::all::<Ours<S>>();
    for &threads in threads {
        for name in names {
            let index = benches
                .iter()
                .position(|b| b.name == name)
                .expect("a Go benchmark");
            let mut best = Vec::new();
            for round in 0..rounds {
                // Alternate which rule runs first.
                let row = if round % 2 == 0 {
                    let ours = go::run_one::<Ours<S>>(index, threads, benchtime);
                    vec![ours, go::run_one::<GoRule<S>>(index, threads, benchtime)]
                } else {
                    let go = go::run_one::<GoRule<S>>(index, threads, benchtime);
                    vec![go::run_one::<Ours<S>>(index, threads, benchtime), go]
                };
                keep_best(&mut best, row);
            }
            eprintln!("promo go {name} t={threads}: {best:.2?}");
            go.rows.push((format!("{name}, {threads} thread(s)"), best));
        }
    }
    md.push('\n');
    md.push_str(&go.markdown());
    md
}
