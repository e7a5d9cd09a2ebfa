//! Entry-state and promotion tests sized for miri (issue 5, part 4).
//!
//! They run in the normal test run too, but exist to be run under miri, which checks every
//! unsafe step (the reclaimer's guards and thread slots, the value slot's pointer tagging, the
//! counts of entry handles and value `Arc`s, values read through guards) for undefined
//! behaviour, use-after-free and leaks, and explores thread interleavings:
//! `cargo +nightly miri test -p syncmap-core --test miri` with
//! `MIRIFLAGS=-Zmiri-many-seeds=0..N` (see `.ci/sanitizers.sh`). Sizes shrink under `cfg(miri)`.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::thread;
use syncmap_core::{EntryState, Promotion, Ref, SyncMap};

/// A value that counts its live copies.
#[derive(Debug)]
struct Counted(u32, Arc<AtomicIsize>);

impl Counted {
    fn new(v: u32, live: &Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Counted(v, Arc::clone(live))
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        assert!(self.1.fetch_sub(1, Ordering::SeqCst) > 0, "dropped twice");
    }
}

fn state_of(map: &SyncMap<u32, Counted>, key: u32) -> (Option<EntryState>, Option<bool>) {
    let view = map.view();
    let read = view.read.iter().find(|(k, _)| *k == key).map(|(_, s)| *s);
    let dirty = view
        .dirty
        .as_ref()
        .map(|d| d.iter().any(|(k, _)| *k == key));
    (read, dirty)
}

/// Walks one entry through every transition of the state machine, checking the state, the
/// invariants and the live-value count after each step.
#[test]
fn entry_state_machine_walk() {
    let live = Arc::new(AtomicIsize::new(0));
    {
        // One shard, so that key 2's rebuild is the one that expunges key 1; Go's promotion
        // rule, so that one miss promotes a one-key dirty map.
        let map: SyncMap<u32, Counted> = SyncMap::builder()
            .shards(1)
            .promotion(Promotion::DirtyLen)
            .build();
        let v = |n| Counted::new(n, &live);
        map.insert(1, v(10)); // new key: dirty only
        assert_eq!(state_of(&map, 1), (None, Some(true)));
        assert_eq!(map.get(&1).map(|x| x.0), Some(10)); // miss: promote (1 ≥ 1)
        assert_eq!(state_of(&map, 1), (Some(EntryState::Value), None));
        // value → value, lock-free; a Ref to the old value stays valid.
        let old: Ref<Counted> = map.get(&1).unwrap();
        assert_eq!(map.insert(1, v(11)).map(|x| x.0), Some(10));
        assert_eq!(old.0, 10);
        drop(old);
        // value → deleted.
        assert_eq!(map.remove(&1).map(|x| x.0), Some(11));
        assert_eq!(state_of(&map, 1), (Some(EntryState::Deleted), None));
        // deleted → expunged: a new key rebuilds the dirty map without 1.
        map.insert(2, v(20));
        assert_eq!(state_of(&map, 1), (Some(EntryState::Expunged), Some(false)));
        map.check_invariants().unwrap();
        // expunged → deleted → value, under the lock, and back into the dirty map.
        assert!(map.insert(1, v(12)).is_none());
        assert_eq!(state_of(&map, 1), (Some(EntryState::Value), Some(true)));
        map.check_invariants().unwrap();
        // deleted → value, lock-free, via try_insert.
        assert!(map.remove(&1).is_some());
        assert_eq!(map.try_insert(1, v(13)).map(|r| r.0).ok(), Some(13));
        // compare-and-swap and compare-and-remove.
        let new = v(14);
        assert!(map.compare_and_swap(&1, &v(13), new).is_ok());
        assert!(map.compare_and_remove(&1, &v(99)).is_none());
        assert_eq!(map.compare_and_remove(&1, &v(14)).map(|x| x.0), Some(14));
        map.check_invariants().unwrap();
        // A promotion drops the expunged and deleted entries' keys from the read map.
        for _ in 0..3 {
            let _ = map.get(&2);
        }
        map.check_invariants().unwrap();
        assert_eq!(map.len(), 1);
        // Refs and Arcs outlive clear and the map itself.
        let kept = map.get_arc(&2).unwrap();
        map.clear();
        assert_eq!(kept.0, 20);
        drop(map);
        assert_eq!(kept.0, 20);
        assert_eq!(live.load(Ordering::SeqCst), 1);
    }
    assert_eq!(live.load(Ordering::SeqCst), 0, "leaked values");
}

/// Repeated promotion / rebuild cycles with deletions in between, under both rules.
#[test]
fn promotion_and_rebuild_cycles() {
    let n: u32 = if cfg!(miri) { 12 } else { 200 };
    for promotion in [Promotion::DirtyLen, Promotion::AfterMisses(1)] {
        let live = Arc::new(AtomicIsize::new(0));
        let map: SyncMap<u32, Counted> = SyncMap::builder().promotion(promotion).build();
        for round in 0..4u32 {
            for k in 0..n {
                map.insert(k + round * n / 2, Counted::new(k, &live));
            }
            for k in (0..n).step_by(3) {
                map.remove(&(k + round * n / 2));
            }
            for k in 0..n * 2 {
                let _ = map.get(&k);
            }
            map.check_invariants().unwrap();
            let mut walked = 0;
            let _ = map.for_each(|_, _| {
                walked += 1;
                ControlFlow::<()>::Continue(())
            });
            assert_eq!(walked, map.len());
        }
        let stats = map.stats();
        assert!(
            stats.promotions > 0 && stats.dirty_rebuilds > 0,
            "{stats:?}"
        );
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }
}

/// One shard under the default rule, named (`--cfg syncmap_stress` changes the default): the
/// whole-table rebuild and the clear in place are its paths.
fn one_shard_default_rule() -> SyncMap<u32, Counted> {
    SyncMap::builder()
        .shards(1)
        .promotion(Promotion::Amortized)
        .build()
}

/// The default rule's whole-table rebuild (`promote.rs`, departure 6): the copy's handles are
/// aliases of the read map's, deleted entries are carried over, revived and, once more than one
/// entry in eight is deleted, expunged by a walk; every value is dropped once.
#[test]
fn whole_copies_carrying_deleted_entries() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = one_shard_default_rule();
    let walk = |map: &SyncMap<u32, Counted>| {
        let _ = map.for_each(|_, _| ControlFlow::<()>::Continue(())); // promotes
    };
    for k in 0..16 {
        map.insert(k, Counted::new(k, &live));
    }
    walk(&map);
    for round in 0..3u32 {
        // Two deleted of 16 or more: carried, unless those carried before make it more than
        // one in eight. Then one revived, and a walk promotes.
        for k in [round * 2, round * 2 + 1] {
            map.remove(&k);
        }
        map.insert(100 + round, Counted::new(100 + round, &live));
        map.check_invariants().unwrap();
        map.insert(round * 2, Counted::new(round, &live));
        walk(&map);
        map.check_invariants().unwrap();
    }
    // Now more than one in eight: the next rebuild walks and expunges.
    for k in 6..12 {
        map.remove(&k);
    }
    map.insert(200, Counted::new(200, &live));
    walk(&map);
    map.check_invariants().unwrap();
    let stats = map.stats();
    assert!(
        stats.whole_copies >= 2 && stats.entries_expunged > 0,
        "{stats:?}"
    );
    assert_eq!(map.len(), 16 - 3 - 6 + 3 + 1);
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

/// Clear in place (`read.rs`): the key only in the dirty map, its value held through a `Ref`
/// across the clear, which keeps the snapshot and expunges the entry; the value outlives the
/// clear until the `Ref` goes, and is dropped once.
#[test]
fn clear_in_place_with_a_held_ref() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = one_shard_default_rule();
    for round in 0..3 {
        map.insert(round, Counted::new(round, &live));
        let held: Ref<'_, Counted> = map.get(&round).unwrap(); // a locked miss: no promotion
        assert_eq!(map.stats().read_len, 0);
        let before = map.snapshot_addresses();
        map.clear();
        assert_eq!(map.snapshot_addresses(), before, "cleared in place");
        assert_eq!((held.0, live.load(Ordering::SeqCst)), (round, 1));
        assert!(map.get(&round).is_none() && map.is_empty());
        drop(held);
        assert_eq!(live.load(Ordering::SeqCst), 0);
        map.check_invariants().unwrap();
    }
}

/// A few threads racing on a handful of keys with constant promotion; under miri each seed
/// explores a different interleaving.
#[test]
fn small_concurrent_mix() {
    let live = Arc::new(AtomicIsize::new(0));
    let map: SyncMap<u32, Counted> = SyncMap::builder()
        .promotion(Promotion::AfterMisses(1))
        .build();
    concurrent_mix(map, &live);
}

/// The same, on the path of keys and values with no drop glue (per-thread batches, dropped a
/// few items at a time once out of every reader's reach), taken here by counted values.
#[test]
fn small_concurrent_mix_quiet_drops() {
    let live = Arc::new(AtomicIsize::new(0));
    let map: SyncMap<u32, Counted> = SyncMap::builder()
        .promotion(Promotion::AfterMisses(1))
        .assume_quiet_drops()
        .build();
    concurrent_mix(map, &live);
}

fn concurrent_mix(map: SyncMap<u32, Counted>, live: &Arc<AtomicIsize>) {
    let ops: u32 = if cfg!(miri) { 40 } else { 2_000 };
    thread::scope(|s| {
        for t in 0..3u32 {
            let map = &map;
            s.spawn(move || {
                for i in 0..ops {
                    let k = (i * 7 + t) % 5;
                    match (i + t) % 6 {
                        0 => drop(map.insert(k, Counted::new(i, live))),
                        1 => drop(map.get(&k)),
                        2 => drop(map.remove(&k)),
                        3 => drop(map.try_insert(k + 5, Counted::new(i, live))),
                        4 => {
                            let _ = map.iter().count();
                        }
                        _ => {
                            if i % 20 == 5 {
                                map.clear();
                            } else {
                                drop(map.compare_and_remove(&k, &Counted::new(i - 1, live)));
                            }
                        }
                    }
                }
            });
        }
    });
    map.check_invariants().unwrap();
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

/// The reclaimer's deferred paths: a value replaced while another thread holds a `Ref` to it is
/// freed by that thread's release; batched garbage is freed by `flush`; a pinned session reads
/// through one guard while the map changes.
#[test]
fn deferred_reclamation_paths() {
    let live = Arc::new(AtomicIsize::new(0));
    {
        let map: SyncMap<u32, Counted> = SyncMap::new();
        map.insert(1, Counted::new(1, &live));
        assert!(map.get(&1).is_some()); // promote
        let (held, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        thread::scope(|s| {
            s.spawn(|| {
                let r = map.get(&1).unwrap();
                held.wait();
                release.wait();
                assert_eq!(r.0, 1);
                let kept: Arc<Counted> = Ref::into_arc(r);
                assert_eq!(kept.0, 1);
            });
            held.wait();
            drop(map.insert(1, Counted::new(2, &live))); // deferred to the reader's release
            release.wait();
        });
        let pinned = map.pin();
        assert_eq!(pinned.get(&1).map(|v| v.0), Some(2));
        assert_eq!(pinned.iter().count(), 1);
        drop(pinned);
        assert_eq!(live.load(Ordering::SeqCst), 1);
    }
    {
        let map: SyncMap<u32, Counted> = SyncMap::builder()
            .reclaim(syncmap_core::Reclaim::Batched(4))
            .build();
        map.insert(1, Counted::new(1, &live));
        assert!(map.get(&1).is_some());
        thread::scope(|s| {
            s.spawn(|| assert!(map.get(&1).is_some()));
        });
        for v in 2..5 {
            drop(map.insert(1, Counted::new(v, &live)));
        }
        map.flush();
        assert_eq!(live.load(Ordering::SeqCst), 1); // only the current value is left
    }
    assert_eq!(live.load(Ordering::SeqCst), 0);
}
