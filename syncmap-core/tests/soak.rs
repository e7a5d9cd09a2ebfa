//! Soak: many threads, millions of mixed operations, a `clear` mid-run, and keys and values
//! that count their live copies (issue 5, part 5).
//!
//! Afterwards no key or value may be alive, and every value created must have been dropped
//! exactly once (a per-value flag catches a double drop the moment it happens). The same binary
//! runs under valgrind memcheck in CI, with fewer operations.
//!
//! `SYNCMAP_SOAK_OPS` sets the total (default 200,000, so the debug test run stays quick; CI runs
//! 10M+ in release and 100k under valgrind).

use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use syncmap_core::{Promotion, SyncMap};

mod support;
use support::Rng;

/// Counts live keys and values, and records each value's drop.
struct Registry {
    live_keys: AtomicI64,
    live_values: AtomicI64,
    next_id: AtomicU64,
    dropped: Vec<AtomicU8>,
}

impl Registry {
    fn new(max_values: usize) -> Arc<Self> {
        Arc::new(Registry {
            live_keys: AtomicI64::new(0),
            live_values: AtomicI64::new(0),
            next_id: AtomicU64::new(0),
            dropped: (0..max_values).map(|_| AtomicU8::new(0)).collect(),
        })
    }

    fn value(self: &Arc<Self>, v: u64) -> Val {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        assert!((id as usize) < self.dropped.len(), "registry too small");
        self.live_values.fetch_add(1, Ordering::Relaxed);
        Val {
            v,
            id,
            reg: Arc::clone(self),
        }
    }

    fn key(self: &Arc<Self>, k: u32) -> Key {
        self.live_keys.fetch_add(1, Ordering::Relaxed);
        Key {
            k,
            reg: Arc::clone(self),
        }
    }
}

struct Val {
    v: u64,
    id: u64,
    reg: Arc<Registry>,
}

impl PartialEq for Val {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        let was = self.reg.dropped[self.id as usize].swap(1, Ordering::Relaxed);
        assert_eq!(was, 0, "value {} dropped twice", self.id);
        self.reg.live_values.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Key {
    k: u32,
    reg: Arc<Registry>,
}

impl Clone for Key {
    fn clone(&self) -> Self {
        self.reg.key(self.k)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.k.hash(h);
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.k)
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.reg.live_keys.fetch_sub(1, Ordering::Relaxed);
    }
}

const THREADS: usize = 4;
const KEYS: u64 = 512;

/// Runs `ops` mixed operations on one map from `THREADS` threads; thread 0 clears the map
/// half-way. Returns what the threads observed (for a sanity check that work was done).
fn soak(ops: usize, promotion: Promotion, seed: u64) -> u64 {
    let reg = Registry::new(2 * ops + 64);
    let map: SyncMap<Key, Val> = SyncMap::builder().promotion(promotion).build();
    let per_thread = ops / THREADS;
    let barrier = Barrier::new(THREADS);
    let hits: u64 = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (map, reg, barrier) = (&map, &reg, &barrier);
                s.spawn(move || {
                    let mut rng = Rng((seed + t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                    let mut hits = 0u64;
                    barrier.wait();
                    for i in 0..per_thread {
                        if t == 0 && i == per_thread / 2 {
                            map.clear();
                        }
                        let r = rng.next();
                        let k = (r >> 8) % KEYS;
                        let v = r >> 20;
                        let key = reg.key(k as u32);
                        match r % 100 {
                            0..=39 => hits += u64::from(map.get(&key).is_some()),
                            40..=59 => hits += u64::from(map.insert(key, reg.value(v)).is_some()),
                            60..=69 => hits += u64::from(map.remove(&key).is_some()),
                            70..=79 => {
                                hits += u64::from(map.try_insert(key, reg.value(v)).is_err())
                            }
                            80..=84 => {
                                let seen = map.get(&key).map(|x| x.v);
                                let expected = reg.value(seen.unwrap_or(v));
                                hits += u64::from(
                                    map.compare_and_swap(&key, &expected, reg.value(v)).is_ok(),
                                );
                            }
                            85..=89 => {
                                let seen = map.get(&key).map(|x| x.v);
                                let expected = reg.value(seen.unwrap_or(v));
                                hits +=
                                    u64::from(map.compare_and_remove(&key, &expected).is_some());
                            }
                            90..=97 => hits += map.get_or_insert_with(key, || reg.value(v)).v & 1,
                            98 if i % 1000 == 98 => {
                                map.retain(|_, x| x.v % 7 != 0);
                            }
                            _ if i % 1000 == 99 => {
                                let _ = map.for_each(|_, x| {
                                    hits += x.v & 1;
                                    ControlFlow::<()>::Continue(())
                                });
                            }
                            _ => hits += u64::from(map.contains_key(&key)),
                        }
                    }
                    hits
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    map.check_invariants().unwrap();
    let mut counted = 0;
    let _ = map.for_each(|_, _| {
        counted += 1;
        ControlFlow::<()>::Continue(())
    });
    assert_eq!(map.len(), counted, "len disagrees with a walk");
    let stats = map.stats();
    drop(map);
    assert_eq!(reg.live_values.load(Ordering::SeqCst), 0, "values leaked");
    assert_eq!(reg.live_keys.load(Ordering::SeqCst), 0, "keys leaked");
    let created = reg.next_id.load(Ordering::SeqCst) as usize;
    let dropped = reg.dropped[..created]
        .iter()
        .filter(|f| f.load(Ordering::Relaxed) == 1)
        .count();
    assert_eq!(dropped, created, "a value was never dropped");
    println!(
        "soak ({promotion:?}): {} ops, {created} values created and dropped once, \
         {} promotions, {} rebuilds",
        per_thread * THREADS,
        stats.promotions,
        stats.dirty_rebuilds
    );
    hits
}

fn total_ops() -> usize {
    std::env::var("SYNCMAP_SOAK_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000)
}

#[test]
fn soak_mixed_ops_with_clear() {
    let total = total_ops();
    let hits =
        soak(total / 2, Promotion::DirtyLen, 1) + soak(total / 2, Promotion::AfterMisses(1), 2);
    assert!(hits > 0);
}
