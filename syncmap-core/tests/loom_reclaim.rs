//! Loom models of the reclamation protocol (`src/reclaim/`), run through the map itself so
//! that what is checked is the shipped code.
//!
//! Run with `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p syncmap-core
//! --release --test loom_reclaim`. Under loom both barriers are `SeqCst` fences (the
//! `membarrier2` crate's loom mode). Each value keeps its contents in a loom `UnsafeCell`: a
//! reader reads it through its guard and the value's `Drop` writes it, so if the reclaimer ever
//! dropped a value that a reader could still be reading, loom reports the two accesses as a data
//! race. Every model also counts live values: none leaks, none is dropped twice, and garbage is
//! dropped by the time the operations that could see it have returned (deterministic drops).
//!
//! **Shown to fail:** run with `SYNCMAP_LOOM_MUTANT=no_heavy_barrier` in the environment (the
//! same `--cfg loom` build; the writer's heavy barrier removed, see `src/primitive.rs`),
//! `reader_racing_replace` fails with loom's "Causality violation: Concurrent read and write
//! accesses to `UnsafeCell`": the writer's scan misses the reader's epoch store and drops the
//! value while the reader still reads it. (In a mutant run the model skips its drop-promptness
//! check, which the mutant also fails, so that the use-after-free is what is reported;
//! `.ci/correctness.sh` runs it and requires that message.) Likewise, run with
//! `SYNCMAP_LOOM_MUTANT=no_reader_fence` (fenced mode's reader-side full fence removed),
//! `fenced_mode_reader_racing_replace` fails with the same message.
//!
//! Under loom a map switches to fenced mode (`src/reclaim/mode.rs`) at its second heavy barrier
//! whatever the time between them, and a reader looks at whether writes have stopped at every
//! fenced entry, so the models below run both modes and both switches.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicIsize, Ordering};
use syncmap_core::SyncMap;

type Map = SyncMap<u32, Val, BuildHasherDefault<DefaultHasher>>;

/// A value whose contents loom tracks, and which counts its live copies.
struct Val {
    contents: UnsafeCell<u32>,
    live: std::sync::Arc<AtomicIsize>,
}

// SAFETY: (test) the contents are written only by `Drop`, which has `&mut self`; everything
// else reads them. Loom checks exactly that those accesses never race.
unsafe impl Sync for Val {}

impl Val {
    fn new(v: u32, live: &std::sync::Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Val {
            contents: UnsafeCell::new(v),
            live: live.clone(),
        }
    }

    fn read(&self) -> u32 {
        // SAFETY: (test) a shared read; loom reports it if it races with the drop's write.
        self.contents.with(|p| unsafe { *p })
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        // SAFETY: (test) `&mut self`; loom checks no reader is concurrently inside `read`.
        self.contents.with_mut(|p| unsafe { *p = u32::MAX });
        assert!(
            self.live.fetch_sub(1, Ordering::SeqCst) > 0,
            "dropped twice"
        );
    }
}

/// Explores every interleaving (`LOOM_MAX_PREEMPTIONS` bounds it).
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    model_bounded(name, None, f);
}

/// Explores the interleavings with at most `bound` preemptions (`None`: all), unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise.
fn model_bounded(name: &str, bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = bound;
    }
    // Long executions, not spinning: a model of five operations (`switching_off_racing_writer`)
    // passes loom's default of 1,000 branches once a store reads `amended` for its dirty-table
    // hint. The bound only stops executions that never end; the same as `loom_support`'s.
    builder.max_branches = builder.max_branches.max(20_000);
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = count.clone();
    builder.check(move || {
        c2.fetch_add(1, Ordering::Relaxed);
        f()
    });
    println!(
        "loom model {name}: {} executions",
        count.load(Ordering::Relaxed)
    );
}

/// Run as a mutant (`SYNCMAP_LOOM_MUTANT` set: one of the protocol's barriers removed): the
/// models skip their drop-promptness checks, which such a run also fails, so that the
/// use-after-free is what loom reports.
fn mutant() -> bool {
    std::env::var_os("SYNCMAP_LOOM_MUTANT").is_some()
}

/// A thread that reads key 1's value once, through a guard.
fn spawn_reader(map: &Arc<Map>) -> thread::JoinHandle<Option<u32>> {
    let map = map.clone();
    thread::spawn(move || map.with(&1, Val::read))
}

/// A map holding key 1 in its read map, used by two threads (so it is shared).
fn shared_map(live: &std::sync::Arc<AtomicIsize>) -> Arc<Map> {
    let map = Arc::new(Map::default());
    map.insert(1, Val::new(1, live));
    assert!(map.get(&1).is_some()); // promotes: key 1 is in the read map
    let other = map.clone();
    thread::spawn(move || drop(other.get(&1))).join().unwrap(); // a second thread registers
    map
}

/// Invariants 1 and 2: a lock-free reader racing a lock-free replacement never sees its value
/// dropped under it, and once both have returned the old value is gone.
#[test]
fn reader_racing_replace() {
    model("reader_racing_replace", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = shared_map(&live);
        let reader = spawn_reader(&map);
        drop(map.insert(1, Val::new(2, &live)));
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1 | 2)), "reader saw {seen:?}");
        if !mutant() {
            assert_eq!(
                live.load(Ordering::SeqCst),
                1,
                "the replaced value was not dropped"
            );
        }
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// Invariant 3: a reader holding a `Ref` across the replacement defers the drop, and the last
/// reader out drops it: by the time both threads are done, nothing is pending.
#[test]
fn held_ref_defers_the_drop_to_the_last_reader_out() {
    model("held_ref_defers_the_drop_to_the_last_reader_out", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = shared_map(&live);
        let reader = {
            let map = map.clone();
            thread::spawn(move || {
                // `None` if the removal came first.
                let held = map.get(&1)?;
                let first = held.read();
                thread::yield_now();
                assert_eq!(held.read(), first, "a held value changed under its Ref");
                Some(first)
            })
        };
        drop(map.remove(&1));
        let seen = reader.join().unwrap();
        assert!(matches!(seen, None | Some(1)), "reader saw {seen:?}");
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "the removed value was not dropped"
        );
        assert_eq!(map.stats().retired_pending, 0);
    });
}

/// Invariant 4: the map's first user replaces a value with no barrier while a second thread
/// uses the map for the first time; the newcomer either registers in time to be seen or reads
/// the new value.
#[test]
fn newcomer_racing_owner_replace() {
    model("newcomer_racing_owner_replace", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = Arc::new(Map::default());
        map.insert(1, Val::new(1, &live));
        assert!(map.get(&1).is_some()); // promotes; this thread is the map's owner
        let newcomer = spawn_reader(&map);
        drop(map.insert(1, Val::new(2, &live)));
        let seen = newcomer.join().unwrap();
        assert!(matches!(seen, Some(1 | 2)), "newcomer saw {seen:?}");
        assert_eq!(live.load(Ordering::SeqCst), 1);
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// Batched mode: replaced values wait, unfenced, for `flush`, which fences them with one
/// barrier and drops those no reader can hold; a reader racing the replacement and the flush
/// never sees its value dropped, and nothing is left once both are done and flushed again.
#[test]
fn batched_flush_racing_reader() {
    model("batched_flush_racing_reader", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = batched_map(8, &live);
        let reader = spawn_reader(&map);
        drop(map.insert(1, Val::new(2, &live)));
        map.flush();
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1 | 2)), "reader saw {seen:?}");
        map.flush();
        assert_eq!(
            live.load(Ordering::SeqCst),
            1,
            "flushed values were not dropped"
        );
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// A shared map built with `Reclaim::Batched(batch)`, holding key 1 in its read map, with
/// nothing pending.
fn batched_map(batch: usize, live: &std::sync::Arc<AtomicIsize>) -> Arc<Map> {
    let builder = SyncMap::builder().reclaim(syncmap_core::Reclaim::Batched(batch));
    prepared_map(builder, live)
}

/// A shared map from `builder`, holding key 1 in its read map, with nothing pending.
fn prepared_map(
    builder: syncmap_core::Builder<u32, Val>,
    live: &std::sync::Arc<AtomicIsize>,
) -> Arc<Map> {
    let map: Arc<Map> = Arc::new(builder.hasher(Default::default()).build());
    map.insert(1, Val::new(1, live));
    assert!(map.get(&1).is_some()); // promotes
    let other = map.clone();
    thread::spawn(move || drop(other.get(&1))).join().unwrap();
    map.flush();
    assert_eq!(map.stats().retired_pending, 0);
    map
}

/// Batched mode's bags (`src/reclaim/bags.rs`): the second replacement fills the writer's bag
/// (a batch of two), which is retired as one operation's garbage while a reader races both
/// replacements. The reader never sees its value dropped under it, and the full batch is
/// dropped by the time both threads are done, as eager garbage is.
#[test]
fn batched_full_bag_racing_reader() {
    model("batched_full_bag_racing_reader", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = batched_map(2, &live);
        let reader = spawn_reader(&map);
        drop(map.insert(1, Val::new(2, &live)));
        drop(map.insert(1, Val::new(3, &live)));
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1..=3)), "reader saw {seen:?}");
        if !mutant() {
            assert_eq!(
                live.load(Ordering::SeqCst),
                1,
                "the full batch was not dropped"
            );
            assert_eq!(map.stats().retired_pending, 0);
        }
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// Two writers' bags racing a reader: each writer replaces key 1 once (a batch of one, so each
/// bag is retired at once, possibly by the other writer's thread when two threads share a
/// stripe). No value is dropped under the reader, none twice, and none is left.
#[test]
fn batched_writers_racing_reader() {
    model_bounded("batched_writers_racing_reader", Some(2), || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = batched_map(1, &live);
        let reader = spawn_reader(&map);
        let writer = {
            let (map, live) = (map.clone(), live.clone());
            thread::spawn(move || drop(map.insert(1, Val::new(2, &live))))
        };
        drop(map.insert(1, Val::new(3, &live)));
        writer.join().unwrap();
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1..=3)), "reader saw {seen:?}");
        if !mutant() {
            assert_eq!(
                live.load(Ordering::SeqCst),
                1,
                "a replaced value was not dropped"
            );
        }
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// The path of keys and values with no drop glue (`Reclaim::Eager` batches their garbage, and a
/// batch found out of every reader's reach is dropped a few items at each later retire):
/// checked with watched values by building the map as if their drops ran no code. Three
/// replacements race a reader: the second fills the writer's bag (two items under loom), the
/// third drops one of them on its way. The reader never sees its value dropped under it, and
/// nothing leaks or is dropped twice.
#[test]
fn quiet_drops_racing_reader() {
    model_bounded("quiet_drops_racing_reader", Some(2), || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = prepared_map(SyncMap::builder().assume_quiet_drops(), &live);
        let reader = spawn_reader(&map);
        for v in 2..=4 {
            drop(map.insert(1, Val::new(v, &live)));
        }
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1..=4)), "reader saw {seen:?}");
        map.flush();
        if !mutant() {
            assert_eq!(live.load(Ordering::SeqCst), 1, "flush left a value behind");
        }
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// A shared map switched to fenced mode by two replacements of key 1 (each a heavy barrier; the
/// second switches), holding the value 3. (Nothing else enters the map here: under loom, a
/// thread's second fenced entry with no retire since its first switches the mode off.)
fn fenced_map(live: &std::sync::Arc<AtomicIsize>) -> Arc<Map> {
    let map = shared_map(live);
    drop(map.insert(1, Val::new(2, live)));
    drop(map.insert(1, Val::new(3, live)));
    map
}

/// Fenced mode, invariant 1 without a heavy barrier: a reader entering with a full fence races a
/// replacement whose writer fences and scans without the system call; the reader never sees its
/// value dropped under it, and the replaced value is dropped by the time both have returned.
/// (Every interleaving: 10,620 executions.)
#[test]
fn fenced_mode_reader_racing_replace() {
    model("fenced_mode_reader_racing_replace", || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = fenced_map(&live);
        let reader = spawn_reader(&map);
        drop(map.insert(1, Val::new(4, &live)));
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(3 | 4)), "reader saw {seen:?}");
        if !mutant() {
            assert_eq!(
                live.load(Ordering::SeqCst),
                1,
                "the replaced value was not dropped"
            );
        }
        // Each thread made one fenced entry (a first look records the epoch, it switches
        // nothing), so the replacement ran in fenced mode, without a heavy barrier.
        assert!(map.stats().fenced_readers, "the mode was switched off");
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// Switching fenced mode off racing a writer: a reader whose fenced entries see no retire in
/// between switches the mode off and then enters with plain stores, while a writer replaces the
/// value with whatever mode it finds. Nothing is dropped under a reader and nothing is left
/// pending; and once writes have stopped, two more entries switch the mode off for certain.
/// (Three preemptions: 4,614 executions; four, run by hand: 32,619.)
#[test]
fn switching_off_racing_writer() {
    model_bounded("switching_off_racing_writer", Some(3), || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let map = fenced_map(&live);
        let reader = {
            let map = map.clone();
            thread::spawn(move || {
                let first = map.with(&1, Val::read);
                let second = map.with(&1, Val::read);
                let third = map.with(&1, Val::read);
                [first, second, third]
            })
        };
        drop(map.insert(1, Val::new(4, &live)));
        let seen = reader.join().unwrap();
        assert!(
            seen.iter().all(|v| matches!(v, Some(3 | 4))),
            "reader saw {seen:?}"
        );
        assert_eq!(
            live.load(Ordering::SeqCst),
            1,
            "the replaced value was not dropped"
        );
        assert_eq!(map.stats().retired_pending, 0);
        // Writes have stopped: this thread's next two entries switch the mode off.
        map.with(&1, Val::read);
        map.with(&1, Val::read);
        assert!(
            !map.stats().fenced_readers,
            "fenced mode outlived the writes"
        );
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// Compaction (`promote::compact_locked`, a departure from Go): the removal that leaves a
/// shard's read map mostly deleted rebuilds and promotes it under the lock, expunging the
/// deleted entries and retiring the old read map, while a store revives one of those deleted
/// keys and a reader reads a surviving one. Whichever comes first, every key ends with the value
/// of its last write, the reader never sees its value dropped under it, and nothing leaks.
#[test]
fn compaction_racing_store_and_reader() {
    model_bounded("compaction_racing_store_and_reader", Some(2), || {
        let live = std::sync::Arc::new(AtomicIsize::new(0));
        let mut map: Map = SyncMap::builder()
            .shards(1)
            .hasher(Default::default())
            .build();
        // Four entries in the read map (under loom a shard is compacted from four entries on).
        map.extend((1..=4).map(|k| (k, Val::new(k, &live))));
        let map = Arc::new(map);
        assert!(map.remove(&1).is_some() && map.remove(&2).is_some());
        let remover = {
            let map = map.clone();
            // Leaves one value in four entries: compacts, unless the store came first.
            thread::spawn(move || map.remove(&3).map(|v| v.read()))
        };
        let storer = {
            let (map, live) = (map.clone(), live.clone());
            thread::spawn(move || map.insert(1, Val::new(10, &live)).is_none())
        };
        let seen = map.with(&4, Val::read);
        assert_eq!(remover.join().unwrap(), Some(3));
        assert!(storer.join().unwrap(), "key 1 had no value");
        assert_eq!(seen, Some(4));
        assert_eq!(map.with(&1, Val::read), Some(10));
        assert_eq!(map.with(&4, Val::read), Some(4));
        assert!(map.with(&2, Val::read).is_none() && map.with(&3, Val::read).is_none());
        assert_eq!(map.len(), 2);
        assert_eq!(
            live.load(Ordering::SeqCst),
            2,
            "a removed value was not dropped"
        );
        drop(map);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}
