//! Read-modify-write on one key (issue 10): `update`, `update_or_insert_with`, the identity
//! operations `replace_if_same`/`remove_if_same`, and `remove_if`. Atomicity under real threads,
//! miss accounting, hostile closures, and exact drop counts.

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use syncmap_core::{Promotion, SyncMap};

/// A value that counts its live instances, and is neither `Clone` nor `PartialEq`.
struct Counted {
    n: u64,
    live: Arc<AtomicIsize>,
}

impl Counted {
    fn new(n: u64, live: &Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Counted {
            n,
            live: Arc::clone(live),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let before = self.live.fetch_sub(1, Ordering::SeqCst);
        assert!(before > 0, "value {} dropped twice", self.n);
    }
}

fn go_rule<K: Eq + std::hash::Hash, V>() -> SyncMap<K, V> {
    SyncMap::builder().promotion(Promotion::DirtyLen).build()
}

#[test]
fn update_replaces_a_present_value_and_skips_an_absent_key() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = SyncMap::new();
    map.insert("a", Counted::new(1, &live));
    let updated = map.update("a", |v| Counted::new(v.n + 1, &live)).unwrap();
    assert_eq!(updated.n, 2);
    drop(updated);
    let mut called = false;
    assert!(map
        .update("b", |v| {
            called = true;
            Counted::new(v.n, &live)
        })
        .is_none());
    assert!(!called, "no value, no call");
    assert_eq!(map.get("a").unwrap().n, 2);
    // The replaced value was dropped before `update` returned (no other reader).
    assert_eq!(live.load(Ordering::SeqCst), 1);
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn updates_racing_on_few_keys_lose_no_increment_and_drop_every_loser() {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 2_000;
    let live = Arc::new(AtomicIsize::new(0));
    let calls = AtomicUsize::new(0);
    let map: SyncMap<u64, Counted> = SyncMap::new();
    for k in 0..4 {
        map.insert(k, Counted::new(0, &live));
    }
    thread::scope(|s| {
        for t in 0..THREADS {
            let (map, live, calls) = (&map, &live, &calls);
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let k = (t + i) % 4;
                    map.update(&k, |v| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        Counted::new(v.n + 1, live)
                    });
                    if i % 500 == 0 {
                        map.insert(100 + t * ROUNDS + i, Counted::new(0, live));
                        // rebuilds
                    }
                }
            });
        }
    });
    let total: u64 = (0..4).map(|k| map.get(&k).unwrap().n).sum();
    assert_eq!(total, THREADS * ROUNDS);
    assert!(calls.load(Ordering::Relaxed) as u64 >= THREADS * ROUNDS);
    map.flush();
    assert_eq!(live.load(Ordering::SeqCst), map.len() as isize);
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn update_counts_misses_like_compare_and_swap() {
    let map = go_rule::<u32, u32>();
    map.insert(1, 1); // only in the dirty map
    assert_eq!(*map.update(&1, |v| v + 1).unwrap(), 2);
    let stats = map.stats();
    assert_eq!(stats.misses, 1, "found in the dirty map: one miss");
    assert_eq!(stats.promotions, 1, "one miss promotes a one-key dirty map");
    // In the read map now: no miss.
    assert_eq!(*map.update(&1, |v| v + 1).unwrap(), 3);
    map.insert(2, 0);
    // An absent key that the new-key filter rules out counts nothing (as CompareAndSwap).
    assert!(map.update(&3, |v| v + 1).is_none());
    assert_eq!(map.stats().misses, 1);
}

#[test]
fn a_panicking_update_closure_changes_nothing() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = SyncMap::new();
    map.insert(1, Counted::new(7, &live));
    let result = catch_unwind(AssertUnwindSafe(|| {
        map.update(&1, |_| -> Counted { panic!("closure") });
    }));
    assert!(result.is_err());
    assert_eq!(map.get(&1).unwrap().n, 7);
    assert_eq!(
        *map.update(&1, |v| Counted::new(v.n + 1, &live))
            .map(|v| v.n)
            .as_ref()
            .unwrap(),
        8
    );
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn update_closures_may_use_the_map() {
    let map: SyncMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    let updated = map.update(&1, |v| {
        // Reads, writes of other keys, walks: no deadlock, nothing lost.
        let other = *map.get(&2).unwrap();
        map.insert(50, 50);
        let _ = map.for_each(|_, _| ControlFlow::<()>::Continue(()));
        v + other
    });
    assert_eq!(*updated.unwrap(), 3);
    assert_eq!(*map.get(&50).unwrap(), 50);
}

#[test]
fn update_or_insert_with_inserts_once_then_updates() {
    let map: SyncMap<String, u32> = SyncMap::new();
    let mut inserts = 0;
    for _ in 0..3 {
        map.update_or_insert_with(
            "k".to_string(),
            |v| v + 1,
            || {
                inserts += 1;
                1
            },
        );
    }
    assert_eq!(inserts, 1);
    assert_eq!(*map.get("k").unwrap(), 3);
}

#[test]
fn update_or_insert_with_counts_exactly_under_contention() {
    const THREADS: usize = 4;
    const WORDS: [&str; 5] = ["a", "b", "c", "d", "e"];
    let live = Arc::new(AtomicIsize::new(0));
    let map: SyncMap<&str, Counted> = SyncMap::new();
    thread::scope(|s| {
        for t in 0..THREADS {
            let (map, live) = (&map, &live);
            s.spawn(move || {
                for i in 0..1_000 {
                    let word = WORDS[(t + i) % WORDS.len()];
                    map.update_or_insert_with(
                        word,
                        |v| Counted::new(v.n + 1, live),
                        || Counted::new(1, live),
                    );
                    if i % 300 == 0 {
                        // Removing and counting the removed value keeps the total exact.
                        if let Some(removed) = map.remove(word) {
                            map.update_or_insert_with(
                                "removed",
                                |v| Counted::new(v.n + removed.n, live),
                                || Counted::new(removed.n, live),
                            );
                        }
                    }
                }
            });
        }
    });
    let total: u64 = WORDS
        .iter()
        .chain(&["removed"])
        .filter_map(|w| map.get(w).map(|v| v.n))
        .sum();
    assert_eq!(total, (THREADS * 1_000) as u64);
    map.flush();
    assert_eq!(live.load(Ordering::SeqCst), map.len() as isize);
}

/// Values that are neither `Clone` nor `PartialEq`: trait objects.
trait Plugin: Send + Sync {
    fn version(&self) -> u32;
}

struct P(u32);

impl Plugin for P {
    fn version(&self) -> u32 {
        self.0
    }
}

#[test]
fn replace_if_same_matches_by_identity_not_equality() {
    let map: SyncMap<&str, Box<dyn Plugin>> = SyncMap::new();
    map.insert("auth", Box::new(P(1)));
    // Through an Arc, a Ref and a pinned reference.
    let seen = map.get_arc("auth").unwrap();
    let replaced = map
        .replace_if_same("auth", &seen, Box::new(P(2)))
        .ok()
        .unwrap();
    assert!(Arc::ptr_eq(&replaced, &seen));
    let stale = map.replace_if_same("auth", &seen, Box::new(P(3)));
    assert_eq!(stale.err().map(|p| p.version()), Some(3), "handed back");
    let current = map.get("auth").unwrap();
    assert!(map
        .replace_if_same("auth", &current, Box::new(P(4)))
        .is_ok());
    drop(current);
    {
        let pinned = map.pin();
        let now = pinned.get("auth").unwrap();
        assert!(map.replace_if_same("auth", now, Box::new(P(5))).is_ok());
    }
    assert_eq!(map.get("auth").unwrap().version(), 5);
    // An equal value that is another allocation never matches; an absent key neither.
    let twin: Box<dyn Plugin> = Box::new(P(5));
    assert!(map.replace_if_same("auth", &twin, Box::new(P(6))).is_err());
    assert!(map.replace_if_same("none", &twin, Box::new(P(6))).is_err());
}

#[test]
fn remove_if_same_and_remove_if() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = go_rule::<u32, Counted>();
    map.insert(1, Counted::new(1, &live));
    map.insert(2, Counted::new(2, &live));
    let seen = map.get_arc(&1).unwrap();
    map.insert(1, Counted::new(10, &live)); // replaced meanwhile
    assert!(map.remove_if_same(&1, &seen).is_none());
    drop(seen);
    let current = map.get_arc(&1).unwrap();
    assert_eq!(map.remove_if_same(&1, &current).map(|v| v.n), Some(10));
    drop(current);
    assert!(map.remove_if(&2, |v| v.n > 5).is_none());
    assert_eq!(map.remove_if(&2, |v| v.n == 2).map(|v| v.n), Some(2));
    assert!(map.remove_if(&2, |_| true).is_none(), "absent");
    assert!(map.is_empty());
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn remove_if_removes_only_an_approved_value_under_contention() {
    // One thread keeps replacing odd values by even ones and back; another removes only odd
    // values. Whatever it removed must be odd.
    for _ in 0..50 {
        let map: SyncMap<u32, u64> = SyncMap::new();
        map.insert(0, 1);
        let removed = thread::scope(|s| {
            let writer = s.spawn(|| {
                for i in 0..2_000_u64 {
                    if map.update(&0, |_| i).is_none() {
                        map.insert(0, i);
                    }
                }
            });
            let remover = s.spawn(|| {
                let mut removed = Vec::new();
                for _ in 0..2_000 {
                    removed.extend(map.remove_if(&0, |v| v % 2 == 1).map(|v| *v));
                }
                removed
            });
            writer.join().unwrap();
            remover.join().unwrap()
        });
        assert!(removed.iter().all(|v| v % 2 == 1), "{removed:?}");
    }
}
