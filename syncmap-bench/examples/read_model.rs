//! The read-hit model of issue 8 beside `SyncMap` and `HashMap::get`, in one run:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example read_model
//! target/release/examples/read_model 30
//! ```
//!
//! Issue 8 set its read targets from a model of a hit measured on a 16-core Xeon: a table of
//! pointers to entries that hold the key and an `AtomicPtr` to the value, with a guard of two
//! plain stores around each lookup (1.9× `HashMap::get` there). This binary builds that model
//! (hashbrown's `HashTable` of boxed entries, each value an `Arc<u64>` as in `SyncMap`, foldhash,
//! the keys inserted in order as the harness does) in two forms, and times ns per lookup at
//! 1,024 and 4,096 `u64` keys, 1 thread:
//!
//! - `HashMap::get`: the limit;
//! - the model without a guard, and with a guard per lookup (its enter a plain store and a
//!   compiler fence, its leave a release store);
//! - the model with `SyncMap`'s entry (24 bytes: key, value pointer, a 32-bit count and the low
//!   32 bits of the hash, compared before the key), its table built on that short hash as
//!   `table.rs` does, and the table behind an atomic pointer loaded per lookup;
//! - the same split over 8 shards as `SyncMap`'s default: the high half of the hash picks a
//!   shard, whose cell points to a snapshot holding that shard's table, so the snapshot's load
//!   waits for the hash;
//! - `SyncMap::pin().get()` and `SyncMap::get()` (8 shards, the default).
//!
//! Argument: rounds (default 30). Each round times every variant once, 2M lookups each, in
//! turn; each figure is the best of its rounds (on a shared machine, the minimum filters out
//! the rounds a neighbour disturbed).

use hashbrown::HashTable;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::atomic::{compiler_fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use syncmap_core::SyncMap;

type Fold = foldhash::fast::RandomState;

/// The model's entry: what a table bucket points to.
struct Entry {
    key: u64,
    value: AtomicPtr<u64>,
}

/// The model with `SyncMap`'s entry layout.
struct ShortEntry {
    key: u64,
    value: AtomicPtr<u64>,
    /// Only there for the size, as `SyncMap`'s count of the tables holding the entry.
    _handles: AtomicU32,
    hash: u32,
}

/// The values of both models, released when the model is dropped.
fn release(value: &AtomicPtr<u64>) {
    // SAFETY: the pointer came from `Arc::into_raw` in `value_of` and is released once, by the
    // entry's drop.
    drop(unsafe { Arc::from_raw(value.load(Ordering::Relaxed)) });
}

fn value_of(key: u64) -> AtomicPtr<u64> {
    AtomicPtr::new(Arc::into_raw(Arc::new(key)).cast_mut())
}

impl Drop for Entry {
    fn drop(&mut self) {
        release(&self.value);
    }
}

impl Drop for ShortEntry {
    fn drop(&mut self) {
        release(&self.value);
    }
}

/// The hash the short-hash table is built on (`table.rs`'s `table_hash`).
fn table_hash(short: u32) -> u64 {
    u64::from(short) * 0x1_0000_0001
}

thread_local! {
    /// The model guard's slot: the epoch a reader entered at, 0 when outside.
    static SLOT: AtomicU64 = const { AtomicU64::new(0) };
    static EPOCH: Cell<u64> = const { Cell::new(1) };
}

/// A shard's cell, on its own cache lines as `SyncMap`'s are.
#[repr(align(128))]
struct ShardCell(AtomicPtr<HashTable<Box<ShortEntry>>>);

const SHARDS: u64 = 8;

struct Model {
    hasher: Fold,
    table: HashTable<Box<Entry>>,
    short: AtomicPtr<HashTable<Box<ShortEntry>>>,
    shards: Box<[ShardCell]>,
}

impl Model {
    fn new(n: u64) -> Self {
        let hasher = Fold::default();
        let mut table = HashTable::new();
        for key in 0..n {
            let entry = Box::new(Entry {
                key,
                value: value_of(key),
            });
            table.insert_unique(hasher.hash_one(key), entry, |e| hasher.hash_one(e.key));
        }
        // Built in a loop of its own, so that each model's entries and values lie together as
        // they would in a map that holds only them.
        let mut short = HashTable::new();
        for key in 0..n {
            let hash = hasher.hash_one(key) as u32;
            let entry = Box::new(ShortEntry {
                key,
                value: value_of(key),
                _handles: AtomicU32::new(1),
                hash,
            });
            short.insert_unique(table_hash(hash), entry, |e| table_hash(e.hash));
        }
        let short = AtomicPtr::new(Box::into_raw(Box::new(short)));
        let mut split: Vec<HashTable<Box<ShortEntry>>> =
            (0..SHARDS).map(|_| HashTable::new()).collect();
        for key in 0..n {
            let full = hasher.hash_one(key);
            let hash = full as u32;
            let entry = Box::new(ShortEntry {
                key,
                value: value_of(key),
                _handles: AtomicU32::new(1),
                hash,
            });
            split[shard_of(full)].insert_unique(table_hash(hash), entry, |e| table_hash(e.hash));
        }
        let shards = split
            .into_iter()
            .map(|table| ShardCell(AtomicPtr::new(Box::into_raw(Box::new(table)))))
            .collect();
        Model {
            hasher,
            table,
            short,
            shards,
        }
    }

    /// A lookup without a guard: table, entry, value pointer, value.
    #[inline]
    fn get(&self, key: u64) -> Option<u64> {
        let entry = self
            .table
            .find(self.hasher.hash_one(key), |e| e.key == key)?;
        // SAFETY: values are never replaced in the model, so the pointer stays valid.
        Some(unsafe { *entry.value.load(Ordering::Acquire) })
    }

    /// The same lookup inside a guard of two plain stores (enter: the epoch stored and a
    /// compiler fence, the heavy barrier being the writer's; leave: a release store).
    #[inline]
    fn get_guarded(&self, key: u64) -> Option<u64> {
        SLOT.with(|slot| {
            slot.store(EPOCH.get(), Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            let found = self.get(key);
            slot.store(0, Ordering::Release);
            found
        })
    }

    /// A lookup in the table of `SyncMap`-shaped entries, without a guard.
    #[inline]
    fn get_short(&self, key: u64) -> Option<u64> {
        let short = self.hasher.hash_one(key) as u32;
        // SAFETY: the table is never replaced, so the pointer stays valid.
        let table = unsafe { &*self.short.load(Ordering::Acquire) };
        let entry = table.find(table_hash(short), |e| e.hash == short && e.key == key)?;
        let value = entry.value.load(Ordering::Acquire);
        // SAFETY: as in `get`; the check stands for `SyncMap`'s deleted/expunged test.
        (value.addr() > 1).then(|| unsafe { *value })
    }

    /// [`get_short`](Self::get_short) with the table found through the key's shard.
    #[inline]
    fn get_sharded(&self, key: u64) -> Option<u64> {
        let full = self.hasher.hash_one(key);
        let short = full as u32;
        let cell = &self.shards[shard_of(full)];
        // SAFETY: as in `get_short`.
        let table = unsafe { &*cell.0.load(Ordering::Acquire) };
        let entry = table.find(table_hash(short), |e| e.hash == short && e.key == key)?;
        let value = entry.value.load(Ordering::Acquire);
        // SAFETY: as in `get_short`.
        (value.addr() > 1).then(|| unsafe { *value })
    }
}

/// The shard of a key of hash `full`: its high half, as `SyncMap` picks it.
fn shard_of(full: u64) -> usize {
    ((full >> 32) & (SHARDS - 1)) as usize
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: from `Box::into_raw` in `new`, each freed once.
        drop(unsafe { Box::from_raw(self.short.load(Ordering::Relaxed)) });
        for cell in &self.shards {
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(cell.0.load(Ordering::Relaxed)) });
        }
    }
}

/// ns per call of `op` over keys `0..n` in turn, `count` calls.
fn time(n: u64, count: u64, mut op: impl FnMut(u64) -> Option<u64>) -> f64 {
    let mut sum = 0_u64;
    let start = Instant::now();
    for i in 0..count {
        sum = sum.wrapping_add(op(black_box(i) & (n - 1)).unwrap_or(0));
    }
    black_box(sum);
    start.elapsed().as_nanos() as f64 / count as f64
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(30, |a| a.parse().expect("a count"));
    const COUNT: u64 = 2_000_000;
    let names = [
        "HashMap::get",
        "model, no guard",
        "model, guard per lookup",
        "model, SyncMap's entry",
        "  ... in 8 shards",
        "SyncMap pin().get()",
        "SyncMap get()",
    ];
    for n in [1024_u64, 4096] {
        let plain: HashMap<u64, u64, Fold> = (0..n).map(|i| (i, i)).collect();
        let model = Model::new(n);
        let map: SyncMap<u64, u64, Fold> = SyncMap::with_hasher(Fold::default());
        for i in 0..n {
            map.insert(i, i);
        }
        for i in 0..2 * n {
            black_box(map.get(&(i % n)).map(|v| *v)); // promotes
        }
        let mut best = [f64::INFINITY; 7];
        for _ in 0..rounds {
            let figures = [
                time(n, COUNT, |k| plain.get(&k).copied()),
                time(n, COUNT, |k| model.get(k)),
                time(n, COUNT, |k| model.get_guarded(k)),
                time(n, COUNT, |k| model.get_short(k)),
                time(n, COUNT, |k| model.get_sharded(k)),
                {
                    let pinned = map.pin();
                    time(n, COUNT, |k| pinned.get(&k).copied())
                },
                time(n, COUNT, |k| map.get(&k).map(|v| *v)),
            ];
            for (b, f) in best.iter_mut().zip(figures) {
                *b = b.min(f);
            }
        }
        println!("{n} keys, foldhash, 1 thread, best of {rounds} (ns per lookup; × HashMap::get):");
        for (name, b) in names.iter().zip(best) {
            println!("  {name:<24} {b:6.2}  {:5.2}×", b / best[0]);
        }
    }
}
