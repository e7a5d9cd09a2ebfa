//! When keys and values are dropped (issue 8, item 5), keys that are not `Clone`, and pinned
//! read sessions.
//!
//! The contract: with no concurrent reader, a removed, replaced or cleared value is dropped
//! before the call that removed it returns (once the caller's own handle, if any, is gone);
//! with readers, no later than when the last guard or `Ref` that could see it is released. Keys
//! likewise, once no table holds their entry.

use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use syncmap_core::{Promotion, SyncMap};

/// Counts live instances of whatever holds one.
#[derive(Default, Debug)]
struct Live(AtomicIsize);

impl Live {
    fn now(&self) -> isize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A value that counts itself.
struct Val {
    v: u32,
    live: Arc<Live>,
}

impl Val {
    fn new(v: u32, live: &Arc<Live>) -> Self {
        live.0.fetch_add(1, Ordering::SeqCst);
        Val {
            v,
            live: Arc::clone(live),
        }
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        assert!(
            self.live.0.fetch_sub(1, Ordering::SeqCst) > 0,
            "dropped twice"
        );
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

/// A key that counts itself and is deliberately not `Clone`.
#[derive(Hash, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key {
    k: u32,
    #[allow(dead_code)]
    token: Token,
}

#[derive(Debug)]
struct Token(Arc<Live>);

impl std::hash::Hash for Token {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}
impl PartialEq for Token {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Token {}
impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Token {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}
impl Drop for Token {
    fn drop(&mut self) {
        assert!(
            self.0 .0.fetch_sub(1, Ordering::SeqCst) > 0,
            "key dropped twice"
        );
    }
}

fn key(k: u32, live: &Arc<Live>) -> Key {
    live.0.fetch_add(1, Ordering::SeqCst);
    Key {
        k,
        token: Token(Arc::clone(live)),
    }
}

/// A map whose keys `0..n` are in the read map (promoted by a full walk), built by this thread.
fn promoted(n: u32, keys: &Arc<Live>, values: &Arc<Live>) -> SyncMap<Key, Val> {
    let map = SyncMap::new();
    for k in 0..n {
        map.insert(key(k, keys), Val::new(k, values));
    }
    let mut walked = 0;
    let _ = map.for_each(|_, _| {
        walked += 1;
        std::ops::ControlFlow::<()>::Continue(())
    });
    assert_eq!(walked, n);
    for k in 0..n {
        assert!(map.get(&key(k, keys)).is_some());
    }
    assert_eq!(map.stats().dirty_len, None, "everything promoted");
    map
}

#[test]
fn keys_need_not_be_clone() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    {
        let map = promoted(8, &keys, &values);
        assert!(map
            .try_insert(key(20, &keys), Val::new(20, &values))
            .is_ok());
        assert_eq!(map.get(&key(20, &keys)).map(|v| v.v), Some(20));
        assert!(map
            .compare_and_swap(&key(1, &keys), &Val::new(1, &values), Val::new(11, &values))
            .is_ok());
        assert!(map
            .compare_and_remove(&key(2, &keys), &Val::new(2, &values))
            .is_some());
        map.retain(|k, _| k.k != 3);
        let mut seen: Vec<u32> = map.pin().iter().map(|(k, _)| k.k).collect();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 4, 5, 6, 7, 20]);
        let mut walked = 0;
        let _ = map.for_each(|_, _| {
            walked += 1;
            std::ops::ControlFlow::<()>::Continue(())
        });
        assert_eq!(walked, 7);
        assert_eq!(map.len(), 7);
    }
    assert_eq!((keys.now(), values.now()), (0, 0));
}

#[test]
fn with_no_reader_a_value_is_dropped_before_the_call_returns() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(4, &keys, &values);
    assert_eq!(values.now(), 4);
    drop(map.insert(key(0, &keys), Val::new(100, &values))); // replace, lock-free
    assert_eq!(values.now(), 4);
    drop(map.remove(&key(1, &keys))); // remove, lock-free
    assert_eq!(values.now(), 3);
    drop(map.compare_and_swap(
        &key(2, &keys),
        &Val::new(2, &values),
        Val::new(102, &values),
    ));
    assert_eq!(values.now(), 3);
    map.retain(|k, _| k.k != 3);
    assert_eq!(values.now(), 2);
    // A value the caller still holds lives exactly as long as the caller's handle.
    let kept = map.remove(&key(0, &keys)).expect("present");
    assert_eq!(values.now(), 2);
    drop(kept);
    assert_eq!(values.now(), 1);
    map.clear();
    assert_eq!(
        (keys.now(), values.now()),
        (0, 0),
        "clear drops every key and value"
    );
    assert_eq!(map.stats().retired_pending, 0);
}

/// One operation retiring one, two and many items (the first two are kept inline, the rest in a
/// vector): each is dropped once, before the call returns.
#[test]
fn operations_that_retire_one_two_or_many_items_drop_each_once() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    // One shard: a `clear` of a read map plus a dirty map retires two items (the snapshot and
    // the dirty table).
    let map: SyncMap<Key, Val> = SyncMap::builder().shards(1).build();
    map.insert(key(0, &keys), Val::new(0, &values));
    let _ = map.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(())); // promotes key 0
    map.insert(key(1, &keys), Val::new(1, &values)); // dirty only
    map.insert(key(2, &keys), Val::new(2, &values));
    drop(map.insert(key(2, &keys), Val::new(22, &values))); // one item: the replaced value
    assert_eq!((keys.now(), values.now()), (3, 3));
    drop(map.remove(&key(1, &keys))); // two items: the dirty-only entry and its value
    assert_eq!((keys.now(), values.now()), (2, 2));
    map.clear(); // two items: the read snapshot and the dirty table
    assert_eq!((keys.now(), values.now()), (0, 0));

    // Eight shards, 64 keys promoted and 64 more in the dirty maps: a `clear` retires a snapshot
    // and a dirty table for each shard written, up to sixteen items.
    let map: SyncMap<Key, Val> = SyncMap::builder().shards(8).build();
    for k in 0..64 {
        map.insert(key(k, &keys), Val::new(k, &values));
    }
    let _ = map.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(())); // promotes them
    for k in 64..128 {
        map.insert(key(k, &keys), Val::new(k, &values));
    }
    assert_eq!((keys.now(), values.now()), (128, 128));
    map.clear();
    assert_eq!((keys.now(), values.now()), (0, 0));
    assert_eq!(map.stats().retired_pending, 0);
}

/// Go's Clear loop: a `clear`, then one new key, again and again. A dirty table of one entry is
/// emptied and kept as the dirty map (its entry retired alone); a larger one is retired whole.
/// Either way every key and value is dropped once, before `clear` returns, and the map stays
/// usable (`ops.rs` checks Go's invariants around the same departure).
#[test]
fn clearing_a_small_dirty_map_again_and_again_drops_each_value_once() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    for shards in [1, 8] {
        let map: SyncMap<Key, Val> = SyncMap::builder().shards(shards).build();
        for round in 0..200 {
            // One key (a dirty-only entry), or every 7th round two (the table is retired whole),
            // or every 5th round one key read first (promoted: the cleared entry is in the read
            // snapshot too, and the dirty map a fresh rebuild's).
            map.insert(key(round, &keys), Val::new(round, &values));
            if round % 5 == 0 {
                assert!(map.get(&key(round, &keys)).is_some());
                let _ = map.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(()));
                map.insert(key(round + 1000, &keys), Val::new(round, &values));
            }
            if round % 7 == 0 {
                map.insert(key(round + 2000, &keys), Val::new(round, &values));
            }
            map.clear();
            assert_eq!((keys.now(), values.now()), (0, 0), "round {round}");
            assert!(map.is_empty() && map.get(&key(round, &keys)).is_none());
            let mut walked = 0;
            let _ = map.for_each(|_, _| {
                walked += 1;
                std::ops::ControlFlow::<()>::Continue(())
            });
            assert_eq!(walked, 0);
        }
        map.insert(key(1, &keys), Val::new(1, &values));
        assert_eq!(map.len(), 1);
        drop(map);
        assert_eq!((keys.now(), values.now()), (0, 0));
    }
}

#[test]
fn a_dirty_only_key_is_dropped_when_removed() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(2, &keys, &values);
    map.insert(key(9, &keys), Val::new(9, &values)); // only in the dirty map
    assert_eq!(keys.now(), 3);
    drop(map.remove(&key(9, &keys)));
    assert_eq!(
        (keys.now(), values.now()),
        (2, 2),
        "its entry, key and value are gone"
    );
}

#[test]
fn a_held_ref_delays_the_drop_until_it_is_released() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(2, &keys, &values);
    let held = map.get(&key(0, &keys)).expect("present");
    drop(map.insert(key(0, &keys), Val::new(50, &values)));
    drop(map.remove(&key(1, &keys)));
    assert_eq!(held.v, 0, "the Ref still reads the old value");
    assert_eq!(
        values.now(),
        3,
        "replaced and removed values wait for the Ref"
    );
    assert_eq!(map.stats().retired_pending, 2);
    drop(held);
    assert_eq!(values.now(), 1, "the last reader out dropped both");
    assert_eq!(map.stats().retired_pending, 0);
}

#[test]
fn a_pinned_session_delays_drops_and_reads_consistently() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(3, &keys, &values);
    {
        let pinned = map.pin();
        let before = pinned.get(&key(1, &keys)).expect("present");
        drop(map.insert(key(1, &keys), Val::new(10, &values)));
        assert_eq!(before.v, 1);
        assert_eq!(pinned.get(&key(1, &keys)).map(|v| v.v), Some(10));
        assert!(pinned.contains_key(&key(2, &keys)));
        assert_eq!(values.now(), 4);
    }
    assert_eq!(values.now(), 3);
}

#[test]
fn another_threads_idle_reads_do_not_delay_drops() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(2, &keys, &values);
    let (go, wait) = mpsc::channel::<()>();
    let (done, finished) = mpsc::channel::<()>();
    let (map, keys) = (&map, &keys);
    thread::scope(|s| {
        s.spawn(move || {
            // Registers with the map, then sits outside any guard.
            assert_eq!(map.get(&key(0, keys)).map(|v| v.v), Some(0));
            done.send(()).unwrap();
            wait.recv().unwrap();
        });
        finished.recv().unwrap();
        drop(map.insert(key(0, keys), Val::new(7, &values)));
        assert_eq!(
            values.now(),
            2,
            "no reader inside: dropped before insert returned"
        );
        go.send(()).unwrap();
    });
}

#[test]
fn another_threads_ref_delays_the_drop_until_that_thread_releases_it() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(2, &keys, &values);
    let (go, wait) = mpsc::channel::<()>();
    let (held, holding) = mpsc::channel::<()>();
    thread::scope(|s| {
        let (map, keys) = (&map, &keys);
        let reader = s.spawn(move || {
            let r = map.get(&key(0, keys)).expect("present");
            held.send(()).unwrap();
            wait.recv().unwrap();
            let v = r.v;
            drop(r); // the last reader out reclaims
            v
        });
        holding.recv().unwrap();
        drop(map.insert(key(0, keys), Val::new(7, &values)));
        assert_eq!(
            values.now(),
            3,
            "the other thread's Ref keeps the old value"
        );
        go.send(()).unwrap();
        assert_eq!(reader.join().unwrap(), 0);
        assert_eq!(values.now(), 2, "dropped when the Ref was released");
    });
    assert_eq!(map.stats().retired_pending, 0);
}

/// A value an operation takes out and returns lives exactly as long as the caller's `Arc` and
/// any `Ref` to it: with no reader, the map's own count goes to the caller; with one, the map
/// keeps a count until the `Ref` goes. Both in a map another thread has used (so writes take
/// the reclaimer's general path), through each operation that returns what it took.
#[test]
fn a_returned_value_lives_as_long_as_the_callers_arc_and_any_ref() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(8, &keys, &values);
    thread::scope(|s| {
        s.spawn(|| assert!(map.get(&key(0, &keys)).is_some()));
    });
    let old = |k: u32| Val::new(k, &values);
    // Puts key `k`'s value back and promotes it, for the next take.
    let restore = |k: u32| {
        map.insert(key(k, &keys), Val::new(k, &values));
        let _ = map.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(()));
    };
    type Take<'a> = &'a dyn Fn(&SyncMap<Key, Val>, u32) -> Option<Arc<Val>>;
    // Each operation, and how many values it adds (a replacement's new value).
    let takes: [(&str, Take<'_>, isize); 5] = [
        (
            "insert",
            &|m, k| m.insert(key(k, &keys), Val::new(100, &values)),
            1,
        ),
        ("remove", &|m, k| m.remove(&key(k, &keys)), 0),
        (
            "compare_and_swap",
            &|m, k| {
                m.compare_and_swap(&key(k, &keys), &old(k), Val::new(100, &values))
                    .ok()
            },
            1,
        ),
        (
            "compare_and_remove",
            &|m, k| m.compare_and_remove(&key(k, &keys), &old(k)),
            0,
        ),
        (
            "remove_if",
            &|m, k| m.remove_if(&key(k, &keys), |_| true),
            0,
        ),
    ];
    for (i, (name, take, added)) in takes.into_iter().enumerate() {
        let k = u32::try_from(i).unwrap();
        // No reader: the caller's Arc is the only thing keeping the value.
        let before = values.now() + added;
        let taken = take(&map, k).unwrap_or_else(|| panic!("{name}: took nothing"));
        assert_eq!(values.now(), before, "{name}: dropped while returned");
        assert_eq!(taken.v, k, "{name}");
        drop(taken);
        assert_eq!(values.now(), before - 1, "{name}: not dropped with the Arc");
        restore(k);
        // A Ref held: the value outlives the caller's Arc until the Ref goes, and the other way
        // round.
        for arc_first in [true, false] {
            let before = values.now() + added;
            let held = map.get(&key(k, &keys)).expect("present");
            let taken = take(&map, k).unwrap_or_else(|| panic!("{name}: took nothing"));
            let (mut arc, mut ref_) = (Some(taken), Some(held));
            if arc_first {
                drop(arc.take());
            } else {
                drop(ref_.take());
            }
            assert_eq!(values.now(), before, "{name}: dropped while still held");
            drop((arc, ref_));
            assert_eq!(values.now(), before - 1, "{name}: not dropped at the last");
            restore(k);
        }
    }
    assert_eq!(map.stats().retired_pending, 0);
}

#[test]
fn concurrent_readers_and_writers_drop_everything_exactly_once() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    {
        let map: SyncMap<Key, Val> = SyncMap::builder()
            .promotion(Promotion::AfterMisses(4))
            .build();
        thread::scope(|s| {
            for t in 0..4_u32 {
                let (map, keys, values) = (&map, &keys, &values);
                s.spawn(move || {
                    for i in 0..2_000_u32 {
                        let k = (i * 7 + t) % 64;
                        match i % 5 {
                            0 | 1 => drop(map.insert(key(k, keys), Val::new(i, values))),
                            2 => drop(map.remove(&key(k, keys))),
                            3 => {
                                if let Some(r) = map.get(&key(k, keys)) {
                                    assert!(r.v < 2_000);
                                }
                            }
                            _ => {
                                let pinned = map.pin();
                                let n = pinned.iter().filter(|(_, v)| v.v < 2_000).count();
                                assert!(n <= 64);
                            }
                        }
                    }
                });
            }
        });
        // Every thread has finished: nothing may still wait for a reader.
        assert_eq!(map.stats().retired_pending, 0);
        assert_eq!(values.now() as usize, map.len());
    }
    assert_eq!((keys.now(), values.now()), (0, 0));
}

#[test]
fn batched_mode_drops_at_the_batch_or_at_flush() {
    use syncmap_core::Reclaim;
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map: SyncMap<Key, Val> = SyncMap::builder().reclaim(Reclaim::Batched(4)).build();
    map.insert(key(0, &keys), Val::new(0, &values));
    assert!(map.get(&key(0, &keys)).is_some()); // promoted
                                                // A second thread uses the map, so drops need a barrier and batching applies.
    thread::scope(|s| {
        s.spawn(|| assert!(map.get(&key(0, &keys)).is_some()));
    });
    map.flush(); // the read map replaced by the promotion
    assert_eq!(map.stats().retired_pending, 0);
    for v in 1..=3 {
        drop(map.insert(key(0, &keys), Val::new(v, &values)));
    }
    assert_eq!(values.now(), 4, "three replaced values wait for the batch");
    assert_eq!(map.stats().retired_pending, 3);
    map.flush();
    assert_eq!(values.now(), 1, "flush dropped them");
    for v in 4..=7 {
        drop(map.insert(key(0, &keys), Val::new(v, &values)));
    }
    assert_eq!(values.now(), 1, "a full batch of four is dropped at once");
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}

/// Batched mode keeps a bag per thread: what a thread that has gone leaves in its bag waits
/// until a `flush` on any thread (or the map's drop), never longer; and a replaced value the
/// caller still holds is dropped when both the caller and the batch have let go.
#[test]
fn flush_takes_what_another_thread_left_in_its_bag() {
    use syncmap_core::Reclaim;
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map: SyncMap<Key, Val> = SyncMap::builder().reclaim(Reclaim::Batched(4)).build();
    map.insert(key(0, &keys), Val::new(0, &values));
    assert!(map.get(&key(0, &keys)).is_some()); // promoted
    map.flush();
    let held = thread::scope(|s| {
        s.spawn(|| {
            let held = map.insert(key(0, &keys), Val::new(1, &values));
            for v in 2..=3 {
                drop(map.insert(key(0, &keys), Val::new(v, &values)));
            }
            held
        })
        .join()
        .unwrap()
    })
    .expect("key 0 had a value");
    assert_eq!(held.v, 0);
    assert_eq!(
        values.now(),
        4,
        "three replaced values wait in the other thread's bag"
    );
    assert_eq!(map.stats().retired_pending, 3);
    map.flush();
    assert_eq!(map.stats().retired_pending, 0);
    assert_eq!(
        values.now(),
        2,
        "the held value lives on, the other two are dropped"
    );
    drop(held);
    assert_eq!(values.now(), 1);
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}

#[test]
fn a_map_used_by_one_thread_drops_at_once_even_when_batched() {
    use syncmap_core::Reclaim;
    let values = Arc::new(Live::default());
    let map: SyncMap<u32, Val> = SyncMap::builder().reclaim(Reclaim::Batched(100)).build();
    map.insert(1, Val::new(1, &values));
    drop(map.insert(1, Val::new(2, &values)));
    assert_eq!(values.now(), 1);
}

/// A mass delete frees the deleted keys of every shard, not only of the shard a later new key
/// lands in: a removal that leaves a shard's read map mostly deleted entries compacts it (a
/// departure from Go, `promote::compact_locked`). Every key keeps its value meanwhile, and the
/// map stays usable.
#[test]
fn a_mass_delete_drops_the_keys_of_every_shard() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(4096, &keys, &values);
    for k in 0..4096 {
        assert_eq!(map.remove(&key(k, &keys)).map(|v| v.v), Some(k));
        if k % 512 == 511 {
            // The keys not yet removed are all still there.
            assert!((k + 1..4096)
                .step_by(97)
                .all(|k| map.contains_key(&key(k, &keys))));
        }
    }
    assert_eq!(values.now(), 0);
    // A shard is compacted when three quarters of its read map are deleted entries and it holds
    // at least 64, so fewer than 64 deleted entries are left in each.
    let bound = 64 * map.shards();
    assert!(
        keys.now() < bound as isize,
        "{} deleted keys still held ({} shards)",
        keys.now(),
        map.shards()
    );
    assert!(map.stats().read_len < bound);
    assert!(map.stats().promotions > 1, "no compaction ran");
    map.insert(key(7, &keys), Val::new(7, &values));
    assert_eq!(map.get(&key(7, &keys)).map(|v| v.v), Some(7));
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}

/// `retain` compacts too: a `retain` that keeps one key in 4,096 leaves every shard's read map
/// with fewer than 64 deleted entries, its removed keys dropped before it returns.
#[test]
fn a_retain_that_removes_most_keys_drops_them() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let map = promoted(4096, &keys, &values);
    map.retain(|k, _| k.k % 1024 == 0);
    assert_eq!(map.len(), 4);
    assert_eq!(values.now(), 4);
    let bound = 64 * map.shards();
    assert!(
        keys.now() < bound as isize,
        "{} keys still held ({} shards)",
        keys.now(),
        map.shards()
    );
    assert!((0..4096).all(|k| map.contains_key(&key(k, &keys)) == (k % 1024 == 0)));
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}

/// A key whose `Drop` panics if it is marked: a panic from user code during a compaction.
/// Compared and hashed by `k` alone.
#[derive(Debug)]
struct Touchy {
    k: u32,
    panics: bool,
    #[allow(dead_code)]
    live: Token,
}

impl std::hash::Hash for Touchy {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.k.hash(state);
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k
    }
}

impl Eq for Touchy {}

impl Drop for Touchy {
    fn drop(&mut self) {
        if self.panics && !std::thread::panicking() {
            panic!("key {} refuses to drop", self.k);
        }
    }
}

/// A key `Drop` that panics while a compaction frees the deleted entries is raised from the
/// removal that compacted, once that removal has taken effect; the other keys and every value
/// are still dropped exactly once and the map stays usable.
#[test]
fn a_panicking_key_drop_during_a_compaction_is_raised_once_and_loses_nothing() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let touchy = |k: u32, panics: bool| {
        keys.0.fetch_add(1, Ordering::SeqCst);
        Touchy {
            k,
            panics,
            live: Token(Arc::clone(&keys)),
        }
    };
    let mut map = SyncMap::builder().shards(1).build();
    map.extend((0..256).map(|k| (touchy(k, k == 100), Val::new(k, &values))));
    let mut raised = Vec::new();
    for k in 0..256 {
        let probe = touchy(k, false);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| map.remove(&probe))) {
            Ok(removed) => assert_eq!(removed.map(|v| v.v), Some(k)),
            Err(_) => {
                raised.push(k);
                assert!(!map.contains_key(&probe), "the removal did not take effect");
            }
        }
    }
    // The compaction at 64 of 256 live (the 192nd removal) frees key 100's entry.
    assert_eq!(raised, [191]);
    assert_eq!((map.len(), values.now()), (0, 0));
    assert!(keys.now() < 64, "{} keys still held", keys.now());
    map.insert(touchy(1, false), Val::new(1, &values));
    assert_eq!(map.get(&touchy(1, false)).map(|v| v.v), Some(1));
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}

/// A table of at least 2^17 entries drops them through a prefetch window (`table.rs`): with one
/// key's `Drop` panicking in the middle, every other key and value is still dropped exactly once,
/// and the panic is raised once, by the map's drop.
#[test]
fn a_large_table_dropped_with_a_panicking_key_loses_nothing() {
    const N: u32 = (1 << 17) + 100;
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    let touchy = |k: u32| {
        keys.0.fetch_add(1, Ordering::SeqCst);
        Touchy {
            k,
            panics: k == N / 2,
            live: Token(Arc::clone(&keys)),
        }
    };
    let mut map = SyncMap::builder().shards(1).build();
    map.extend((0..N).map(|k| (touchy(k), Val::new(k, &values))));
    assert_eq!((keys.now(), values.now()), (N as isize, N as isize));
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(map)));
    let payload = dropped.expect_err("the key's panic is raised");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert_eq!(message, &format!("key {} refuses to drop", N / 2));
    assert_eq!((keys.now(), values.now()), (0, 0));
}

/// A rebuild that copies the read table whole carries its deleted entries into the dirty map
/// (`promote.rs`, departure 6): their keys stay until a rebuild that finds more deleted entries
/// expunges them, and each key is dropped once, then or with the map.
#[test]
fn keys_of_carried_deleted_entries_are_dropped_once() {
    let (keys, values) = (Arc::new(Live::default()), Arc::new(Live::default()));
    // The default rule, named: `--cfg syncmap_stress` changes the default to one that carries
    // no deleted entry.
    let map: SyncMap<Key, Val> = SyncMap::builder()
        .shards(1)
        .promotion(Promotion::Amortized)
        .build();
    let walk = |map: &SyncMap<Key, Val>| {
        // A full walk promotes a dirty map holding keys the read map lacks.
        let _ = map.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(()));
        assert_eq!(map.stats().dirty_len, None, "promoted");
    };
    for k in 0..64 {
        map.insert(key(k, &keys), Val::new(k, &values));
    }
    walk(&map);
    for k in 0..8 {
        assert!(map.remove(&key(k, &keys)).is_some());
    }
    assert_eq!((keys.now(), values.now()), (64, 56));
    map.insert(key(100, &keys), Val::new(100, &values));
    let st = map.stats();
    assert_eq!((st.whole_copies, st.entries_expunged), (1, 0), "{st:?}");
    walk(&map);
    assert_eq!(keys.now(), 65, "the 8 deleted entries were carried over");
    // 17 deleted of 65: the next rebuild reads every entry and expunges them.
    for k in 8..17 {
        assert!(map.remove(&key(k, &keys)).is_some());
    }
    map.insert(key(101, &keys), Val::new(101, &values));
    let st = map.stats();
    assert_eq!((st.whole_copies, st.entries_expunged), (1, 17), "{st:?}");
    walk(&map);
    assert_eq!((keys.now(), values.now()), (49, 49));
    drop(map);
    assert_eq!((keys.now(), values.now()), (0, 0));
}
