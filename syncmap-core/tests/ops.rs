//! Unit tests of every operation's return values, every entry state transition and Go's miss
//! accounting (which paths count a miss).

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use syncmap_core::{EntryState::*, Promotion, Ref, SyncMap};

type Map = SyncMap<u32, String>;

/// A map with Go's promotion rule regardless of `--cfg syncmap_stress`.
fn map() -> Map {
    // Go's structure exactly: one shard, Go's promotion rule.
    SyncMap::builder()
        .shards(1)
        .promotion(Promotion::DirtyLen)
        .build()
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Builds a map whose read map holds `keys` (promoted) and has no dirty map.
fn promoted(keys: &[u32]) -> Map {
    let m = map();
    for &k in keys {
        m.insert(k, format!("v{k}"));
    }
    while m.view().amended {
        m.get(&keys[0]);
    }
    assert!(m.view().dirty.is_none());
    m
}

fn misses(m: &Map) -> u64 {
    m.stats().misses
}

fn state(m: &Map, key: u32) -> Option<syncmap_core::EntryState> {
    m.view()
        .read
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, s)| s)
}

#[test]
fn get_on_empty_map_takes_no_slow_path() {
    let m = map();
    assert!(m.get(&1).is_none());
    assert!(!m.contains_key(&1));
    assert_eq!(misses(&m), 0);
}

#[test]
fn get_counts_a_miss_found_or_not_when_amended() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    m.insert(3, s("c"));
    assert!(m.get(&9).is_none());
    assert_eq!(misses(&m), 1);
    assert_eq!(m.get(&1).as_deref().map(String::as_str), Some("a"));
    assert_eq!(misses(&m), 2);
}

#[test]
fn get_on_read_hit_counts_nothing() {
    let m = promoted(&[1, 2]);
    let before = m.stats();
    assert_eq!(m.get_cloned(&2), Some(s("v2")));
    assert_eq!(m.get_arc(&1).as_deref(), Some(&s("v1")));
    assert_eq!(m.with(&1, |v| v.len()), Some(2));
    assert_eq!(m.stats(), before);
}

#[test]
fn insert_returns_previous_value() {
    let m = map();
    assert_eq!(m.insert(1, s("a")), None);
    assert_eq!(m.insert(1, s("b")).as_deref(), Some(&s("a")));
    assert_eq!(m.get_cloned(&1), Some(s("b")));
    assert_eq!(m.len(), 1);
}

#[test]
fn insert_to_dirty_only_key_counts_no_miss() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(1, s("b"));
    assert_eq!(misses(&m), 0);
}

#[test]
fn insert_on_read_hit_is_lock_free_value_to_value() {
    let m = promoted(&[1]);
    assert_eq!(m.insert(1, s("x")).as_deref(), Some(&s("v1")));
    let v = m.view();
    assert!(v.dirty.is_none() && !v.amended, "no dirty map was needed");
}

#[test]
fn deleted_entry_revived_lock_free() {
    // deleted (nil) -> value without the lock: the entry is still reachable (no dirty map).
    let m = promoted(&[1]);
    m.remove(&1);
    assert_eq!(state(&m, 1), Some(Deleted));
    assert_eq!(m.insert(1, s("again")), None);
    assert_eq!(state(&m, 1), Some(Value));
    assert!(m.view().dirty.is_none());
    assert_eq!(m.len(), 1);
    m.check_invariants().unwrap();
}

#[test]
fn expunged_entry_revived_under_lock_and_reinserted_into_dirty() {
    let m = promoted(&[1, 2]);
    m.remove(&1);
    m.insert(3, s("c")); // rebuild: 1 expunged
    assert_eq!(state(&m, 1), Some(Expunged));
    assert!(!m.view().dirty_keys().unwrap().contains(&1));
    assert_eq!(m.insert(1, s("back")), None);
    assert_eq!(state(&m, 1), Some(Value));
    assert!(m.view().dirty_keys().unwrap().contains(&1));
    m.check_invariants().unwrap();
    // And it survives the next promotion.
    while m.view().amended {
        m.get(&3);
    }
    assert_eq!(m.get_cloned(&1), Some(s("back")));
}

#[test]
fn try_insert_absent_then_present() {
    let m = map();
    let stored = m.try_insert(1, s("a")).unwrap();
    assert_eq!(*stored, "a");
    let err = m.try_insert(1, s("b")).unwrap_err();
    assert_eq!(*err.existing, "a");
    assert_eq!(err.value, "b");
    assert!(err.to_string().contains("was not inserted"));
    assert_eq!(m.len(), 1);
}

#[test]
fn try_insert_found_only_in_dirty_counts_a_miss() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    assert!(m.try_insert(1, s("x")).is_err());
    assert_eq!(misses(&m), 1);
    // A new key counts none.
    assert!(m.try_insert(3, s("c")).is_ok());
    assert_eq!(misses(&m), 1);
}

#[test]
fn try_insert_on_deleted_and_expunged_entries() {
    let m = promoted(&[1, 2]);
    m.remove(&1);
    assert!(m.try_insert(1, s("n")).is_ok()); // deleted -> value, lock-free
    assert_eq!(state(&m, 1), Some(Value));
    m.remove(&2);
    m.insert(3, s("c")); // rebuild: 2 expunged
    assert_eq!(state(&m, 2), Some(Expunged));
    assert_eq!(*m.try_insert(2, s("m")).unwrap(), "m");
    assert_eq!(state(&m, 2), Some(Value));
    m.check_invariants().unwrap();
}

#[test]
fn get_or_insert_and_with() {
    let m = map();
    assert_eq!(*m.get_or_insert(1, s("a")), "a");
    assert_eq!(*m.get_or_insert(1, s("b")), "a");
    let calls = AtomicUsize::new(0);
    let make = || {
        calls.fetch_add(1, Ordering::SeqCst);
        s("z")
    };
    // Present only in the dirty map: f is not called.
    assert_eq!(*m.get_or_insert_with(1, make), "a");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Absent: called once.
    assert_eq!(*m.get_or_insert_with(2, make), "z");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Present in the read map: not called.
    let p = promoted(&[5]);
    assert_eq!(*p.get_or_insert_with(5, make), "v5");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn remove_read_hit_leaves_deleted_entry() {
    let m = promoted(&[1]);
    let base = misses(&m);
    assert_eq!(m.remove(&1).as_deref(), Some(&s("v1")));
    assert_eq!(m.remove(&1), None);
    assert_eq!(state(&m, 1), Some(Deleted));
    assert_eq!(m.len(), 0);
    assert_eq!(misses(&m), base);
}

#[test]
fn remove_dirty_only_key_deletes_from_dirty_and_counts_a_miss() {
    // Go issue 40999: a dirty-only key must really leave the dirty map.
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    m.insert(3, s("c"));
    assert_eq!(m.remove(&1).as_deref(), Some(&s("a")));
    assert_eq!(misses(&m), 1);
    assert_eq!(m.view().dirty_keys(), Some(vec![2, 3]));
    // Absent but amended: still a miss.
    assert_eq!(m.remove(&9), None);
    assert_eq!(misses(&m), 2);
    m.check_invariants().unwrap();
}

#[test]
fn remove_absent_not_amended_takes_no_slow_path() {
    let m = promoted(&[1]);
    let base = misses(&m);
    assert_eq!(m.remove(&2), None);
    assert_eq!(misses(&m), base);
}

#[test]
fn compare_and_swap_semantics() {
    let m = promoted(&[1]);
    let base = misses(&m);
    assert_eq!(
        m.compare_and_swap(&1, &s("v1"), s("w")).as_deref(),
        Ok(&s("v1"))
    );
    assert_eq!(m.compare_and_swap(&1, &s("v1"), s("x")), Err(s("x")));
    assert_eq!(m.get_cloned(&1), Some(s("w")));
    // Absent keys never match, whatever `current` is.
    assert_eq!(m.compare_and_swap(&2, &s(""), s("y")), Err(s("y")));
    // Deleted entries never match either.
    m.remove(&1);
    assert_eq!(m.compare_and_swap(&1, &s("w"), s("z")), Err(s("z")));
    assert_eq!(misses(&m), base);
}

#[test]
fn compare_and_swap_counts_a_miss_only_when_found_in_dirty() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    assert!(m.compare_and_swap(&9, &s("a"), s("x")).is_err());
    assert_eq!(misses(&m), 0);
    assert!(m.compare_and_swap(&1, &s("a"), s("x")).is_ok());
    assert_eq!(misses(&m), 1);
    assert_eq!(m.get_cloned(&1), Some(s("x")));
}

#[test]
fn compare_and_remove_semantics() {
    let m = promoted(&[1]);
    assert!(m.compare_and_remove(&1, &s("nope")).is_none());
    assert_eq!(
        m.compare_and_remove(&1, &s("v1")).as_deref(),
        Some(&s("v1"))
    );
    assert!(m.compare_and_remove(&1, &s("v1")).is_none());
    assert!(m.compare_and_remove(&7, &s("v1")).is_none());
    assert_eq!(m.len(), 0);
}

#[test]
fn compare_and_remove_dirty_only_keeps_key_in_dirty_and_counts_a_miss() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    m.insert(3, s("c"));
    assert!(m.compare_and_remove(&1, &s("a")).is_some());
    assert_eq!(misses(&m), 1);
    let dirty = m.view().dirty.unwrap();
    assert!(dirty.contains(&(1, Deleted)), "{dirty:?}");
    assert!(m.compare_and_remove(&9, &s("a")).is_none());
    assert_eq!(misses(&m), 2, "a miss found or not");
    m.check_invariants().unwrap();
}

#[test]
fn clear_empties_and_is_a_no_op_when_empty() {
    let m = map();
    m.clear();
    assert_eq!(m.stats(), map().stats());
    for i in 0..10 {
        m.insert(i, i.to_string());
    }
    m.get(&0);
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.iter().count(), 0);
    assert!(m.get(&3).is_none());
    let v = m.view();
    assert!(v.read.is_empty() && !v.amended && v.dirty.is_none() && v.misses == 0);
    m.insert(3, s("again"));
    assert_eq!(m.len(), 1);
    m.check_invariants().unwrap();
}

/// Go's `Clear` keeps the dirty map, emptied. So does `clear` for a dirty map of at most one
/// key, and the next new key needs no rebuild; a larger one is dropped (a departure, for its
/// memory). Either way nothing is amended, no key is found, and Go's invariants hold.
#[test]
fn clear_keeps_a_one_key_dirty_map_emptied_and_drops_a_larger_one() {
    let m = map();
    m.insert(1, s("a"));
    let before = m.stats();
    assert_eq!((before.dirty_len, before.amended), (Some(1), true));
    m.clear();
    let st = m.stats();
    assert_eq!((st.dirty_len, st.amended, st.read_len), (Some(0), false, 0));
    assert!(m.get(&1).is_none() && m.is_empty());
    m.check_invariants().unwrap();
    m.insert(2, s("b"));
    let st = m.stats();
    assert_eq!((st.dirty_len, st.amended), (Some(1), true));
    assert_eq!(st.dirty_rebuilds, before.dirty_rebuilds, "no rebuild");
    assert_eq!(m.get(&2).as_deref().map(String::as_str), Some("b"));
    m.check_invariants().unwrap();

    // (The `get` promoted key 2; key 3 starts a new dirty map holding both.)
    m.insert(3, s("c"));
    assert_eq!(m.stats().dirty_len, Some(2));
    m.clear();
    let st = m.stats();
    assert_eq!((st.dirty_len, st.amended, st.read_len), (None, false, 0));
    m.check_invariants().unwrap();
    m.insert(4, s("d"));
    assert_eq!(m.stats().dirty_rebuilds, st.dirty_rebuilds + 1, "a rebuild");
    assert_eq!(m.len(), 1);
    m.check_invariants().unwrap();
}

/// Clear in place (`read.rs`): when every key is in a small dirty map (the read map's table
/// empty), `clear` keeps the read snapshot and resets it; with a key in the read map, or a
/// larger dirty map, it publishes a new one.
#[test]
fn clear_keeps_the_snapshot_when_every_key_is_in_a_small_dirty_map() {
    let m = map();
    for round in 0..3 {
        m.insert(round, s("a"));
        let before = m.snapshot_addresses();
        m.clear();
        assert_eq!(m.snapshot_addresses(), before, "round {round}: kept");
        let st = m.stats();
        assert_eq!((st.dirty_len, st.amended, st.read_len), (Some(0), false, 0));
        assert!(m.is_empty() && m.get(&round).is_none());
        m.check_invariants().unwrap();
    }
    // Two new keys allocate the new-key filter; removing one leaves a dirty map `clear` keeps
    // (under the default rule: Go's would promote it at that removal's miss). The clear resets
    // the filter: the keys added after it are found, the removed one is not.
    let m: Map = SyncMap::builder()
        .shards(1)
        .promotion(Promotion::Amortized)
        .build();
    m.insert(10, s("x"));
    m.insert(11, s("y"));
    assert_eq!(m.remove(&11).as_deref().map(String::as_str), Some("y"));
    let before = m.snapshot_addresses();
    m.clear();
    assert_eq!(m.snapshot_addresses(), before, "kept, filter and all");
    m.check_invariants().unwrap();
    for k in [12, 13, 14] {
        m.insert(k, format!("v{k}"));
    }
    assert!(m.get(&10).is_none() && m.get(&11).is_none());
    for k in [12, 13, 14] {
        assert_eq!(m.get(&k).as_deref(), Some(&format!("v{k}")));
    }
    assert_eq!(m.len(), 3);
    m.check_invariants().unwrap();
    // A full walk promotes: a key in the read map, so a new snapshot.
    let _ = m.for_each(|_, _| ControlFlow::<()>::Continue(()));
    assert_eq!(m.stats().read_len, 3);
    clear_publishes_a_new_snapshot(&m, m.get(&12).unwrap());
    // A dirty map of two keys (more than a clear keeps), the read map empty: a new snapshot.
    let m = map();
    m.insert(20, s("p"));
    m.insert(21, s("q"));
    let held = m.get(&20).unwrap(); // one miss of two: no promotion under Go's rule
    assert_eq!(m.stats().read_len, 0);
    clear_publishes_a_new_snapshot(&m, held);
}

/// Clears `m`, checking that it publishes a new read snapshot (`held` keeps the old one from
/// being freed and its address reused) and leaves the map empty.
fn clear_publishes_a_new_snapshot(m: &Map, held: Ref<'_, String>) {
    let before = m.snapshot_addresses();
    m.clear();
    assert_ne!(m.snapshot_addresses(), before, "a new snapshot");
    drop(held);
    assert!(m.is_empty());
    m.check_invariants().unwrap();
}

#[test]
fn full_walk_promotes_an_amended_dirty_map() {
    let m = promoted(&[1, 2]);
    m.insert(3, s("c"));
    assert!(m.view().amended);
    let mut seen = Vec::new();
    let _ = m.for_each(|k, _| {
        seen.push(*k);
        ControlFlow::<()>::Continue(())
    });
    seen.sort();
    assert_eq!(seen, [1, 2, 3]);
    assert!(!m.view().amended, "Range promotes an amended dirty map");
    assert_eq!(m.stats().promotions, 2);
}

#[test]
fn early_exit_walk_does_not_promote() {
    let m = promoted(&[1, 2]);
    m.insert(3, s("c"));
    let before = m.stats().promotions;
    let r = m.for_each(|k, _| ControlFlow::Break(*k));
    assert!(matches!(r, ControlFlow::Break(1 | 2)));
    assert_eq!(m.stats().promotions, before);
    assert!(m.view().amended);
}

#[test]
fn walks_skip_deleted_and_visit_each_key_once() {
    let m = promoted(&[1, 2, 3, 4]);
    m.remove(&2);
    m.insert(5, s("e"));
    m.insert(6, s("f"));
    let mut keys: Vec<u32> = m.iter().map(|(k, _)| k).collect();
    keys.sort();
    assert_eq!(keys, [1, 3, 4, 5, 6]);
    let mut it = m.iter();
    while it.next().is_some() {}
    m.insert(7, s("g"));
    assert!(it.next().is_none(), "fused");
    assert_eq!((&m).into_iter().count(), 6);
}

#[test]
fn retain_removes_rejected_entries() {
    let m: Map = (0..20).map(|i| (i, i.to_string())).collect();
    m.retain(|k, _| k % 3 == 0);
    let mut keys: Vec<u32> = m.iter().map(|(k, _)| k).collect();
    keys.sort();
    assert_eq!(keys, [0, 3, 6, 9, 12, 15, 18]);
    assert_eq!(m.len(), 7);
    m.check_invariants().unwrap();
}

#[test]
fn len_tracks_every_transition() {
    let m = map();
    m.insert(1, s("a"));
    m.insert(2, s("b"));
    m.insert(2, s("b2"));
    assert_eq!(m.len(), 2);
    m.remove(&1);
    assert_eq!(m.len(), 1);
    m.try_insert(1, s("a")).unwrap();
    assert_eq!(m.len(), 2);
    m.compare_and_remove(&1, &s("a"));
    assert_eq!(m.len(), 1);
    m.compare_and_swap(&2, &s("b2"), s("b3")).unwrap();
    assert_eq!(m.len(), 1);
    assert!(!m.is_empty());
    m.remove(&2);
    assert!(m.is_empty());
    m.check_invariants().unwrap();
}

#[test]
fn borrowed_lookups_with_string_keys() {
    let m: SyncMap<String, u8> = SyncMap::new();
    m.insert(s("key"), 1);
    assert!(m.contains_key("key"));
    assert_eq!(m.get_cloned("key"), Some(1));
    assert_eq!(m.compare_and_swap("key", &1, 2), Ok(Arc::new(1)));
    assert_eq!(m.remove("key").as_deref(), Some(&2));
}

#[test]
fn custom_hasher_and_capacity() {
    type Fixed = BuildHasherDefault<DefaultHasher>;
    let m: SyncMap<u64, u64, Fixed> = SyncMap::with_capacity_and_hasher(64, Fixed::default());
    for i in 0..100 {
        m.insert(i, i * 2);
    }
    assert_eq!(m.get_cloned(&50), Some(100));
    let d: SyncMap<u64, u64, Fixed> = SyncMap::default();
    assert!(d.is_empty());
    let b: SyncMap<u64, u64, Fixed> = SyncMap::builder()
        .hasher(Fixed::default())
        .capacity(8)
        .build();
    b.insert(1, 1);
    assert_eq!(b.len(), 1);
}

#[test]
fn conversions_and_debug() {
    let m = SyncMap::from([(1, "a")]);
    assert_eq!(format!("{m:?}"), r#"{1: "a"}"#);
    let mut e: SyncMap<u8, u8> = SyncMap::new();
    e.extend([(1, 1), (2, 2)]);
    assert_eq!(e.len(), 2);
    let r = e.get(&1).unwrap();
    assert_eq!(format!("{r:?} {r}"), "1 1");
    assert!(r == 1);
}

#[test]
fn handed_out_values_outlive_removal_and_drop_with_the_last_handle() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let m: SyncMap<u8, Counted> = SyncMap::new();
    m.insert(1, Counted(drops.clone()));
    let guard = m.get(&1).unwrap();
    let owned = Ref::to_arc(&guard);
    m.insert(1, Counted(drops.clone())); // replaces; old value still held
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(guard);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(owned);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "dropped with its last handle"
    );
    m.remove(&1);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    m.insert(2, Counted(drops.clone()));
    drop(m);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn promotion_threshold_is_configurable() {
    let m: Map = SyncMap::builder()
        .shards(1)
        .promotion(Promotion::AfterMisses(1))
        .build();
    for i in 0..4 {
        m.insert(i, s("x"));
    }
    m.get(&0);
    assert_eq!(m.stats().promotions, 1);
    let g = map();
    for i in 0..4 {
        g.insert(i, s("x"));
    }
    for _ in 0..3 {
        g.get(&0);
    }
    assert_eq!(
        g.stats().promotions,
        0,
        "Go's rule waits for len(dirty) misses"
    );
    g.get(&0);
    assert_eq!(g.stats().promotions, 1);
}

#[test]
fn stats_count_rebuild_copies() {
    let m = promoted(&[1, 2, 3, 4]);
    m.remove(&4);
    m.insert(5, s("e"));
    let st = m.stats();
    assert_eq!(st.entries_copied, 3);
    assert_eq!(st.entries_expunged, 1);
    assert_eq!(st.dirty_len, Some(4));
    assert!(st.amended);
}

/// A large dirty map grows by moving its entries itself, prefetching them (`table.rs`, from
/// 32,768 entries on): across several such growths, with a promotion and a rebuild between
/// them, every key keeps its own value, every entry is found under its own hash
/// (`check_invariants`), and the rebuild copies each kept entry once.
#[test]
fn a_dirty_map_growing_past_the_prefetched_size_keeps_every_key() {
    const N: u32 = 60_000; // the dirty table grows at 57,344 entries, and at 114,688 below
    let m = map();
    for k in 0..N {
        assert_eq!(m.insert(k, format!("v{k}")), None);
    }
    m.check_invariants().unwrap();
    assert_eq!(
        (m.len(), m.stats().dirty_len),
        (N as usize, Some(N as usize))
    );
    for k in 0..N {
        assert_eq!(m.get(&k).as_deref(), Some(&format!("v{k}")), "key {k}");
    }
    assert_eq!(
        m.stats().dirty_len,
        None,
        "the misses promoted the dirty map"
    );
    // A new key rebuilds a dirty map of every entry, and the next ones grow it again.
    for k in N..2 * N {
        m.insert(k, format!("v{k}"));
    }
    let st = m.stats();
    assert_eq!(st.entries_copied, u64::from(N));
    assert_eq!(st.dirty_len, Some(2 * N as usize));
    m.check_invariants().unwrap();
    for k in 0..2 * N {
        assert_eq!(m.get(&k).as_deref(), Some(&format!("v{k}")), "key {k}");
    }
    assert_eq!(m.get(&(2 * N)), None);
}

/// The same growth in a dirty map that removals have left tombstones in (never promoted, so
/// every removal takes the key out of the dirty table): the table is rebuilt for twice its
/// entries whatever its bucket count, and nothing is lost or kept that was removed.
#[test]
fn a_dirty_map_with_tombstones_grows_without_losing_keys() {
    let m: SyncMap<u32, u32> = SyncMap::builder()
        .shards(1)
        .promotion(Promotion::AfterMisses(usize::MAX))
        .build();
    for k in 0..60_000 {
        m.insert(k, k);
    }
    for k in (0..60_000).step_by(2) {
        assert_eq!(m.remove(&k).as_deref(), Some(&k));
    }
    for k in 60_000..150_000 {
        m.insert(k, k);
    }
    m.check_invariants().unwrap();
    assert_eq!(m.stats().promotions, 0);
    assert_eq!(m.len(), 30_000 + 90_000);
    for k in 0..150_000 {
        let expected = (k >= 60_000 || k % 2 == 1).then_some(k);
        assert_eq!(m.get(&k).as_deref().copied(), expected, "key {k}");
    }
}

fn _send_sync() {
    fn assert<T: Send + Sync>() {}
    assert::<SyncMap<String, Vec<u8>>>();
    assert::<syncmap_core::Stats>();
    // `Ref`, `OccupiedError` and `Pinned` are not `Send`: compile_fail doctests on them.
}
