//! Loom models of the algorithm's races (issue 5, part 1): the entry state machine and the races
//! of single-key operations (stores, removals, promotion, dirty rebuilds, `try_insert`,
//! `update`, compare-and-swap, the new-key filter). Walks across shards, iteration, `clear` and
//! the drop-under-lock model are in `loom_walks.rs`; the helpers both share are in
//! `loom_support/`.
//!
//! Run with `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p syncmap-core
//! --release --test loom --test loom_walks`. Under `--cfg loom`, `primitive.rs` swaps the map's
//! mutex, atomics, thread-locals and the reclaimer's barriers for loom-visible versions, so what
//! is model-checked here is the shipped algorithm code. Every model runs with the default
//! promotion rule (`Promotion::Amortized`: under loom its floor is one miss, so on these few
//! keys it promotes after half the dirty map's length, at least one miss, and a lookup the
//! new-key filter answers counts nothing) and with
//! `Promotion::AfterMisses(1)` (constant promotions and dirty rebuilds); the two models that
//! reach a filter-answered lookup (`filtered_lookup_racing_new_key`, `…_first_new_key`) also run
//! Go's rule, whose lock-free miss counting is the only path they do not share with the default. Each
//! checks the values every thread saw, the final contents, `len`, Go's invariants
//! (`check_invariants`) and the number of live values (none leaked, none dropped twice).
//!
//! Every model is explored with at most two preemptions per execution, the three-thread one,
//! `update_racing_update_and_rebuild` and `update_or_insert_racing_remove` with one (at two they
//! take 467k, 175k and 50k executions: run them with `LOOM_MAX_PREEMPTIONS=2`);
//! `LOOM_MAX_PREEMPTIONS` overrides the bound. The reclamation protocol itself is modelled
//! exhaustively in `loom_reclaim.rs`.
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::{
    contents, finish, get, model, model_rules, new_map, with_read_key, Values, BOUND,
};
use std::sync::atomic::Ordering;
use syncmap_core::{EntryState, Promotion};

/// Entry state machine: value → value (store), value → deleted (remove), deleted → value
/// (store), raced on a key in the read map.
#[test]
fn entry_state_machine() {
    model("entry_state_machine", BOUND, |promotion| {
        let values = Values::new();
        let map = Arc::new(with_read_key(promotion, &values, 1, 10));
        let (m, vs) = (map.clone(), values.clone());
        let a = thread::spawn(move || {
            let prev = m.insert(1, vs.make(11)).map(|v| v.v);
            let removed = m.remove(&1).map(|v| v.v);
            (prev, removed)
        });
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || m.insert(1, vs.make(12)).map(|v| v.v));
        let (prev_a, removed_a) = a.join().unwrap();
        let prev_b = b.join().unwrap();
        let last = get(&map, 1);
        // Linearizations: B first, A's two ops, or A's two ops around B, or A then B.
        match (prev_a, removed_a, prev_b, last) {
            (Some(12), Some(11), Some(10), None) => {}
            (Some(10), Some(12), Some(11), None) => {}
            (Some(10), Some(11), None, Some(12)) => {}
            other => panic!("not linearizable: {other:?}"),
        }
        assert_eq!(map.len(), usize::from(last.is_some()));
        finish(map, &values);
    });
}

/// Promotion (a lookup's miss) racing a write of the same key and of a new key.
#[test]
fn promotion_racing_write() {
    model("promotion_racing_write", BOUND, |promotion| {
        let values = Values::new();
        let map = new_map(promotion);
        map.insert(1, values.make(10)); // only in the dirty map
        let map = Arc::new(map);
        let m = map.clone();
        let a = thread::spawn(move || get(&m, 1));
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || {
            let prev = m.insert(1, vs.make(11)).map(|v| v.v);
            let new = m.insert(2, vs.make(20)).map(|v| v.v);
            (prev, new)
        });
        let seen = a.join().unwrap();
        assert_eq!(b.join().unwrap(), (Some(10), None));
        assert!(matches!(seen, Some(10) | Some(11)), "get saw {seen:?}");
        assert_eq!(contents(&map), [(1, 11), (2, 20)]);
        assert_eq!(map.len(), 2);
        finish(map, &values);
    });
}

/// Delete racing the dirty rebuild (deleted → expunged) and a store of the same key
/// (expunged → value under the lock), on a key in the read map.
#[test]
fn delete_racing_rebuild_and_store() {
    model("delete_racing_rebuild_and_store", Some(1), |promotion| {
        let values = Values::new();
        let map = Arc::new(with_read_key(promotion, &values, 1, 10));
        let m = map.clone();
        let a = thread::spawn(move || m.remove(&1).map(|v| v.v));
        let (m, vs) = (map.clone(), values.clone());
        // A new key: rebuilds the dirty map from the read map, expunging 1 if it is deleted.
        let b = thread::spawn(move || m.insert(2, vs.make(20)).is_none());
        let (m, vs) = (map.clone(), values.clone());
        let c = thread::spawn(move || m.insert(1, vs.make(11)).map(|v| v.v));
        let removed = a.join().unwrap();
        assert!(b.join().unwrap());
        let prev_c = c.join().unwrap();
        let last = get(&map, 1);
        match (removed, prev_c, last) {
            // remove, then store
            (Some(10), None, Some(11)) => {}
            // store, then remove
            (Some(11), Some(10), None) => {}
            other => panic!("not linearizable: {other:?}"),
        }
        assert_eq!(get(&map, 2), Some(20));
        assert_eq!(map.len(), 1 + usize::from(last.is_some()));
        // Both keys must survive promotions and rebuilds that follow.
        map.insert(3, values.make(30));
        for _ in 0..3 {
            let _ = get(&map, 3);
        }
        assert_eq!(get(&map, 1), last);
        assert_eq!(get(&map, 2), Some(20));
        finish(map, &values);
    });
}

/// A rebuild that copies the read table whole, carrying a deleted entry into the dirty map
/// (`promote.rs`, departure 6: eight entries, one deleted), racing a store that revives that
/// entry and a removal that deletes a second one (so the live count the rebuild reads to choose
/// between the whole copy and the expunging walk may be stale either way).
#[test]
fn whole_copy_rebuild_racing_revive_and_delete() {
    model(
        "whole_copy_rebuild_racing_revive_and_delete",
        BOUND,
        |promotion| {
            let values = Values::new();
            let map = new_map(promotion);
            for k in 1..=8 {
                map.insert(k, values.make(k));
            }
            let _ = contents(&map); // a full walk promotes
            assert_eq!(map.view().dirty, None, "setup: promoted");
            assert_eq!(map.remove(&1).map(|v| v.v), Some(1));
            let map = Arc::new(map);
            let (m, vs) = (map.clone(), values.clone());
            // The first new key: rebuilds the dirty map.
            let a = thread::spawn(move || m.insert(100, vs.make(100)).is_none());
            let (m, vs) = (map.clone(), values.clone());
            let b = thread::spawn(move || {
                let revived = m.insert(1, vs.make(11)).is_none();
                let removed = m.remove(&2).map(|v| v.v);
                (revived, removed)
            });
            assert!(a.join().unwrap());
            assert_eq!(b.join().unwrap(), (true, Some(2)));
            assert_eq!(
                (get(&map, 1), get(&map, 2), get(&map, 100)),
                (Some(11), None, Some(100))
            );
            assert_eq!(map.len(), 8);
            // Every key survives the promotion and the rebuild that follow.
            map.insert(101, values.make(101));
            let _ = contents(&map);
            let mut expected: Vec<(u32, u32)> = (3..=8).map(|k| (k, k)).collect();
            expected.extend([(1, 11), (100, 100), (101, 101)]);
            expected.sort_unstable();
            assert_eq!(contents(&map), expected);
            finish(map, &values);
        },
    );
}

/// The deleted → expunged → value path done sequentially first, then a lock-free store
/// racing the unexpunging store: the expunged entry must be revived exactly once.
#[test]
fn store_racing_store_on_expunged() {
    model("store_racing_store_on_expunged", BOUND, |promotion| {
        let values = Values::new();
        let map = with_read_key(promotion, &values, 1, 10);
        assert!(map.remove(&1).is_some());
        map.insert(2, values.make(20)); // rebuild: 1 becomes expunged
        assert_eq!(map.view().read, [(1, EntryState::Expunged)]);
        let map = Arc::new(map);
        let (m, vs) = (map.clone(), values.clone());
        let a = thread::spawn(move || m.insert(1, vs.make(11)).map(|v| v.v));
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || m.insert(1, vs.make(12)).map(|v| v.v));
        let (pa, pb) = (a.join().unwrap(), b.join().unwrap());
        let last = get(&map, 1);
        match (pa, pb, last) {
            (None, Some(11), Some(12)) | (Some(12), None, Some(11)) => {}
            other => panic!("not linearizable: {other:?}"),
        }
        // A promotion must carry the revived entry.
        map.insert(3, values.make(30));
        for _ in 0..3 {
            let _ = get(&map, 3);
        }
        assert_eq!(get(&map, 1), last);
        assert_eq!(map.len(), 3);
        finish(map, &values);
    });
}

/// `try_insert` racing itself on an absent key and on a deleted read-map key: exactly one wins,
/// and the loser sees the winner's value and gets its own back.
#[test]
fn load_or_store_racing_itself() {
    for deleted_first in [false, true] {
        model("load_or_store_racing_itself", BOUND, move |promotion| {
            let values = Values::new();
            let map = if deleted_first {
                let map = with_read_key(promotion, &values, 1, 10);
                assert!(map.remove(&1).is_some());
                map
            } else {
                new_map(promotion)
            };
            let map = Arc::new(map);
            let spawn = |v: u32| {
                let (m, vs) = (map.clone(), values.clone());
                thread::spawn(move || match m.try_insert(1, vs.make(v)) {
                    Ok(stored) => Ok(stored.v),
                    Err(e) => Err((e.existing.v, e.value.v)),
                })
            };
            let (a, b) = (spawn(11), spawn(12));
            let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
            let winner = match (ra, rb) {
                (Ok(11), Err((11, 12))) => 11,
                (Err((12, 11)), Ok(12)) => 12,
                other => panic!("not exactly one winner: {other:?}"),
            };
            assert_eq!(get(&map, 1), Some(winner));
            assert_eq!(map.len(), 1);
            finish(map, &values);
        });
    }
}

/// Two `update`s of one key racing each other, one of them followed by a new key (a dirty
/// rebuild): neither increment is lost, and every value built for a lost race is dropped.
#[test]
fn update_racing_update_and_rebuild() {
    // One preemption in CI (175k executions and about two minutes at two, run by hand).
    model("update_racing_update_and_rebuild", Some(1), |promotion| {
        let values = Values::new();
        let map = Arc::new(with_read_key(promotion, &values, 1, 10));
        let (m, vs) = (map.clone(), values.clone());
        let a = thread::spawn(move || m.update(&1, |t| vs.make(t.v + 1)).map(|v| v.v));
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || {
            let updated = m.update(&1, |t| vs.make(t.v + 100)).map(|v| v.v);
            let new = m.insert(2, vs.make(20)).is_none();
            (updated, new)
        });
        let updated_a = a.join().unwrap();
        let (updated_b, new) = b.join().unwrap();
        assert!(new);
        match (updated_a, updated_b) {
            (Some(11), Some(111)) | (Some(111), Some(110)) => {}
            other => panic!("not linearizable: {other:?}"),
        }
        assert_eq!(contents(&map), [(1, 111), (2, 20)]);
        finish(map, &values);
    });
}

/// `update_or_insert_with` racing `remove` of a read-map key: either the update comes first
/// (and the removal takes its value) or the removal does (and the key is inserted again, from
/// a deleted entry, lock-free).
#[test]
fn update_or_insert_racing_remove() {
    // One preemption in CI (the removal landing between the update's load and its exchange
    // needs only one); at two, 50,075 executions, run by hand.
    model("update_or_insert_racing_remove", Some(1), |promotion| {
        let values = Values::new();
        let map = Arc::new(with_read_key(promotion, &values, 1, 10));
        let (m, vs) = (map.clone(), values.clone());
        let a = thread::spawn(move || {
            let vs2 = vs.clone();
            m.update_or_insert_with(1, |t| vs.make(t.v + 1), || vs2.make(5))
                .v
        });
        let m = map.clone();
        let b = thread::spawn(move || m.remove(&1).map(|v| v.v));
        let stored = a.join().unwrap();
        let removed = b.join().unwrap();
        let last = get(&map, 1);
        match (stored, removed, last) {
            (11, Some(11), None) | (5, Some(10), Some(5)) => {}
            other => panic!("not linearizable: {other:?}"),
        }
        assert_eq!(map.len(), usize::from(last.is_some()));
        finish(map, &values);
    });
}

/// A lookup of an absent key on an amended map, which the new-key filter may answer without the
/// lock, racing an insert of that key: a lookup that happens after the insert (through a flag
/// the inserter sets afterwards) must find it, so the filter never hides a key it should show.
/// Here the raced key is the snapshot's second new key, the one that allocates its filter (the
/// first is kept inline).
#[test]
fn filtered_lookup_racing_new_key() {
    filtered_lookup_racing("filtered_lookup_racing_new_key", true);
}

/// The same race when the raced key is the snapshot's first new key, kept inline: it is the
/// insert that makes the map amended.
#[test]
fn filtered_lookup_racing_first_new_key() {
    filtered_lookup_racing("filtered_lookup_racing_first_new_key", false);
}

fn filtered_lookup_racing(name: &str, earlier_new_key: bool) {
    let all = [
        Promotion::Amortized,
        Promotion::DirtyLen,
        Promotion::AfterMisses(1),
    ];
    model_rules(name, BOUND, &all, move |promotion| {
        let values = Values::new();
        let map = with_read_key(promotion, &values, 1, 10);
        if earlier_new_key {
            map.insert(2, values.make(20)); // dirty only: amended, so the filter is consulted
        }
        let map = Arc::new(map);
        let done = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let (m, vs, d) = (map.clone(), values.clone(), done.clone());
        let inserter = thread::spawn(move || {
            m.insert(3, vs.make(30));
            d.store(true, Ordering::Release);
        });
        let (m, d) = (map.clone(), done.clone());
        let reader = thread::spawn(move || {
            let after = d.load(Ordering::Acquire);
            let seen = get(&m, 3);
            if after {
                assert_eq!(
                    seen,
                    Some(30),
                    "the filter hid a key inserted before the lookup"
                );
            }
            assert!(matches!(seen, None | Some(30)));
            get(&m, 4) // absent throughout
        });
        inserter.join().unwrap();
        assert_eq!(reader.join().unwrap(), None);
        let mut expected = vec![(1, 10), (3, 30)];
        if earlier_new_key {
            expected.insert(1, (2, 20));
        }
        assert_eq!(contents(&map), expected);
        finish(map, &values);
    });
}

/// `compare_and_swap` racing `remove`, with the key in the read map and only in the dirty map.
#[test]
fn compare_exchange_racing_remove() {
    for in_read in [true, false] {
        model("compare_exchange_racing_remove", BOUND, move |promotion| {
            let values = Values::new();
            let map = if in_read {
                with_read_key(promotion, &values, 1, 10)
            } else {
                let map = new_map(promotion);
                map.insert(1, values.make(10));
                map
            };
            let map = Arc::new(map);
            let (m, vs) = (map.clone(), values.clone());
            let a = thread::spawn(move || {
                let expected = vs.make(10);
                match m.compare_and_swap(&1, &expected, vs.make(11)) {
                    Ok(prev) => Ok(prev.v),
                    Err(new) => Err(new.v),
                }
            });
            let m = map.clone();
            let b = thread::spawn(move || m.remove(&1).map(|v| v.v));
            let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
            match (ra, rb) {
                (Ok(10), Some(11)) | (Err(11), Some(10)) => {}
                other => panic!("not linearizable: {other:?}"),
            }
            assert_eq!(get(&map, 1), None);
            assert_eq!(map.len(), 0);
            finish(map, &values);
        });
    }
}

/// `compare_and_remove` racing `compare_and_swap` from the same expected value: one wins.
#[test]
fn compare_remove_racing_compare_swap() {
    model("compare_remove_racing_compare_swap", BOUND, |promotion| {
        let values = Values::new();
        let map = Arc::new(with_read_key(promotion, &values, 1, 10));
        let (m, vs) = (map.clone(), values.clone());
        let a = thread::spawn(move || {
            m.compare_and_swap(&1, &vs.make(10), vs.make(11))
                .map(|p| p.v)
                .map_err(|n| n.v)
        });
        let (m, vs) = (map.clone(), values.clone());
        let b = thread::spawn(move || m.compare_and_remove(&1, &vs.make(10)).map(|v| v.v));
        let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
        let last = get(&map, 1);
        match (ra, rb, last) {
            (Ok(10), None, Some(11)) | (Err(11), Some(10), None) => {}
            other => panic!("not exactly one winner: {other:?}"),
        }
        assert_eq!(map.len(), usize::from(last.is_some()));
        finish(map, &values);
    });
}
