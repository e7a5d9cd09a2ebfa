//! Loom models of the algorithm's races (issue 5, part 1) over more than one key: a walk across
//! two shards and an iteration racing inserts and promotions, `clear` racing inserts, and a
//! dirty rebuild racing the replacement of a value whose `Drop` takes the map's lock. The
//! single-key races are in `loom.rs`; the helpers both share are in `loom_support/`.
//!
//! Run with `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p syncmap-core
//! --release --test loom --test loom_walks`. Under `--cfg loom`, `primitive.rs` swaps the map's
//! mutex, atomics, thread-locals and the reclaimer's barriers for loom-visible versions, so what
//! is model-checked here is the shipped algorithm code. Every model runs with the default
//! promotion rule (`Promotion::Amortized`: under loom its floor is one miss, so on these few
//! keys it promotes after half the dirty map's length, at least one miss, and a lookup the
//! new-key filter answers counts nothing) and with
//! `Promotion::AfterMisses(1)` (constant promotions and dirty rebuilds). Each checks the values
//! every thread saw, the final contents, `len`, Go's invariants (`check_invariants`) and the
//! number of live values (none leaked, none dropped twice).
//!
//! Every model is explored with at most two preemptions per execution; `LOOM_MAX_PREEMPTIONS`
//! overrides the bound.
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::{
    contents, finish, get, model, model_rules, new_map, with_read_key, Hasher, Map, Values, BOUND,
};
use syncmap_core::{Promotion, SyncMap};

/// The first keys (from 0) whose hashes put them in shard 0 and in shard 1 of a two-shard map.
fn keys_in_two_shards(n: usize) -> (Vec<u32>, Vec<u32>) {
    use std::hash::BuildHasher;
    let (mut zero, mut one) = (Vec::new(), Vec::new());
    for k in 0.. {
        let shard = (Hasher::default().hash_one(k) >> 32) & 1;
        let list = if shard == 0 { &mut zero } else { &mut one };
        if list.len() < n {
            list.push(k);
        }
        if zero.len() == n && one.len() == n {
            break;
        }
    }
    (zero, one)
}

/// A walk across two shards racing promotions of both (issue 9): an insert of a new key in the
/// first shard and a miss that promotes the second, while the walk moves from one shard to the
/// next. No key twice; the keys present throughout are visited; nothing leaks.
#[test]
fn shards_walk_racing_promotions() {
    model("shards_walk_racing_promotions", BOUND, |promotion| {
        let (zero, one) = keys_in_two_shards(2);
        let (a, b, c) = (zero[0], one[0], zero[1]);
        let values = Values::new();
        let map: Map = SyncMap::builder()
            .shards(2)
            .hasher(Hasher::default())
            .promotion(promotion)
            .build();
        map.insert(a, values.make(10)); // dirty only in shard 0
        map.insert(b, values.make(20)); // dirty only in shard 1
        let map = Arc::new(map);
        let m = map.clone();
        let walker = thread::spawn(move || {
            let mut seen = Vec::new();
            for (k, v) in m.iter() {
                seen.push((k, v.v));
            }
            seen
        });
        let (m, vs) = (map.clone(), values.clone());
        let writer = thread::spawn(move || {
            m.insert(c, vs.make(30));
            get(&m, b) // a miss in shard 1: promotes it under AfterMisses(1)
        });
        let mut seen = walker.join().unwrap();
        assert_eq!(writer.join().unwrap(), Some(20));
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup_by_key(|(k, _)| *k);
        assert_eq!(seen.len(), n, "a key visited twice");
        assert!(
            seen.contains(&(a, 10)) && seen.contains(&(b, 20)),
            "{seen:?}"
        );
        let mut all = vec![(a, 10), (b, 20), (c, 30)];
        assert!(seen.iter().all(|kv| all.contains(kv)));
        all.sort_unstable();
        assert_eq!(contents(&map), all);
        assert_eq!(map.len(), 3);
        finish(map, &values);
    });
}

/// Iteration racing an insert of a new key and a promotion: no key twice, every key present
/// for the whole walk visited, each value one the key had.
#[test]
fn iteration_racing_insert_and_promotion() {
    model(
        "iteration_racing_insert_and_promotion",
        BOUND,
        |promotion| {
            let values = Values::new();
            let map = with_read_key(promotion, &values, 1, 10);
            map.insert(2, values.make(20)); // dirty only: amended
            let map = Arc::new(map);
            let m = map.clone();
            let a = thread::spawn(move || {
                let mut seen = Vec::new();
                for (k, v) in m.iter() {
                    seen.push((k, v.v));
                }
                seen
            });
            let (m, vs) = (map.clone(), values.clone());
            let b = thread::spawn(move || {
                m.insert(3, vs.make(30));
                // A lookup of a dirty-only key: a miss, and a promotion under AfterMisses(1).
                get(&m, 2)
            });
            let mut seen = a.join().unwrap();
            assert_eq!(b.join().unwrap(), Some(20));
            let n = seen.len();
            seen.sort_unstable();
            seen.dedup_by_key(|(k, _)| *k);
            assert_eq!(seen.len(), n, "a key visited twice");
            assert!(
                seen.contains(&(1, 10)) && seen.contains(&(2, 20)),
                "{seen:?}"
            );
            assert!(seen
                .iter()
                .all(|kv| [(1, 10), (2, 20), (3, 30)].contains(kv)));
            assert_eq!(contents(&map), [(1, 10), (2, 20), (3, 30)]);
            assert_eq!(map.len(), 3);
            finish(map, &values);
        },
    );
}

/// `clear` racing inserts of a new key and of an existing key: each insert lands before the
/// clear (and is removed) or after it (and stays); `len` follows.
#[test]
fn clear_racing_insert() {
    model("clear_racing_insert", BOUND, |promotion| {
        let values = Values::new();
        let map = with_read_key(promotion, &values, 1, 10);
        let map = Arc::new(map);
        let m = map.clone();
        let a = thread::spawn(move || m.clear());
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || {
            let p1 = m.insert(1, vs.make(11)).map(|v| v.v);
            let p2 = m.insert(2, vs.make(20)).map(|v| v.v);
            (p1, p2)
        });
        a.join().unwrap();
        let (p1, p2) = b.join().unwrap();
        assert_eq!(p2, None);
        let items = contents(&map);
        // Clear before B's first insert, between the two, or after both.
        let ok = match p1 {
            None => items == [(1, 11), (2, 20)],
            Some(10) => items == [(2, 20)] || items.is_empty(),
            _ => false,
        };
        assert!(ok, "not linearizable: p1={p1:?}, contents={items:?}");
        assert_eq!(map.len(), items.len(), "len after clear race");
        finish(map, &values);
    });
}

/// Clear in place (`read.rs`): the key is only in a one-key dirty map (the read map's table
/// empty), so `clear` keeps the snapshot, while a `remove_if` that finds the key in the dirty
/// map under the lock removes its value after releasing it. Either the removal comes first, or
/// the clear does and the late removal fails on the expunged entry; the live count never loses
/// a value twice. `AfterMisses(2)`: the removal's miss must not promote the key into the read
/// map.
#[test]
fn clear_in_place_racing_late_dirty_remove() {
    clear_in_place_racing(false);
}

/// [`clear_in_place_racing_late_dirty_remove`] with an `update`, which replaces the value
/// after releasing the lock: the update lands before the clear, or fails after it.
#[test]
fn clear_in_place_racing_late_dirty_update() {
    clear_in_place_racing(true);
}

fn clear_in_place_racing(update: bool) {
    let name = if update {
        "…_late_dirty_update"
    } else {
        "…_late_dirty_remove"
    };
    model_rules(
        name,
        BOUND,
        &[Promotion::AfterMisses(2)],
        move |promotion| {
            let values = Values::new();
            let map = new_map(promotion);
            map.insert(1, values.make(10)); // only in the dirty map
            let map = Arc::new(map);
            let m = map.clone();
            let a = thread::spawn(move || m.clear());
            let (m, vs) = (map.clone(), values.clone());
            let b = thread::spawn(move || {
                if update {
                    m.update(&1, |v| vs.make(v.v + 1)).map(|v| v.v)
                } else {
                    m.remove_if(&1, |_| true).map(|v| v.v)
                }
            });
            a.join().unwrap();
            let seen = b.join().unwrap();
            let expected = if update { 11 } else { 10 };
            assert!(seen.is_none_or(|v| v == expected), "{seen:?}");
            assert_eq!((get(&map, 1), map.len()), (None, 0));
            map.insert(2, values.make(20));
            assert_eq!(map.len(), 1);
            finish(map, &values);
        },
    );
}

/// A value whose `Drop` takes the map's lock (through `stats`). Dropped while the lock is held,
/// it would deadlock, which loom reports.
struct LocksOnDrop {
    map: std::sync::Arc<std::sync::OnceLock<std::sync::Weak<SyncMap<u32, LocksOnDrop, Hasher>>>>,
}

impl Drop for LocksOnDrop {
    fn drop(&mut self) {
        if let Some(map) = self.map.get().and_then(std::sync::Weak::upgrade) {
            let _ = map.stats();
        }
    }
}

/// Regression (found by analysis in the fault-injection work): the dirty rebuild loads entry
/// slots under the lock. If another thread replaces such a value and drops its handle in
/// between, the rebuild's handle is the last one, and `V::drop` used to run under the lock,
/// deadlocking a `Drop` that uses the map. Handles loaded under the lock now go to the garbage
/// released after unlocking.
#[test]
fn value_drop_never_runs_under_the_lock() {
    model("value_drop_never_runs_under_the_lock", BOUND, |promotion| {
        let cell = std::sync::Arc::new(std::sync::OnceLock::new());
        let map = std::sync::Arc::new(
            SyncMap::builder()
                .shards(1)
                .hasher(Hasher::default())
                .promotion(promotion)
                .build(),
        );
        cell.set(std::sync::Arc::downgrade(&map)).unwrap();
        let make = |cell: &std::sync::Arc<_>| LocksOnDrop {
            map: std::sync::Arc::clone(cell),
        };
        map.insert(1, make(&cell));
        assert!(map.get(&1).is_some()); // promoted: 1 is in the read map
        let (m2, c2) = (std::sync::Arc::clone(&map), std::sync::Arc::clone(&cell));
        // A new key: rebuilds the dirty map under the lock, loading 1's slot.
        let t = thread::spawn(move || drop(m2.insert(2, make(&c2))));
        // Replaces 1's value lock-free and drops the old one.
        drop(map.insert(1, make(&cell)));
        t.join().unwrap();
        assert_eq!(map.len(), 2);
    });
}
