//! Re-entrancy and panic injection.
//!
//! Closures passed to `for_each`, `retain` and `get_or_insert_with`, and the `Drop` of keys and
//! values, may call back into the map without deadlocking. A panicking `Hash`, `Eq`, `Clone`,
//! `PartialEq` or closure leaves the map consistent and usable.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;
use syncmap_core::{Promotion, SyncMap};

/// Runs `body` on its own thread and fails (instead of hanging the suite) if it deadlocks.
fn no_deadlock(body: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    let worker = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match wait.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: the body never finished"),
    }
}

fn stress_map<K, V>() -> SyncMap<K, V> {
    SyncMap::builder()
        .promotion(Promotion::AfterMisses(1))
        .build()
}

#[test]
fn for_each_closure_calls_every_method() {
    no_deadlock(|| {
        let map: SyncMap<u32, u32> = (0..50).map(|i| (i, i)).collect();
        let mut visits = 0;
        let _ = map.for_each(|k, v| {
            visits += 1;
            map.insert(k + 1000, *v); // new keys while walking
            map.remove(&(k + 1));
            let _ = map.compare_and_swap(k, v, v + 1);
            let _ = map.for_each(|_, _| ControlFlow::Break(())); // nested walk
            assert!(!map.is_empty());
            let _ = map.stats();
            ControlFlow::<()>::Continue(())
        });
        assert!(visits > 0);
        map.check_invariants().unwrap();
        let _ = map.for_each(|_, _| {
            map.clear();
            ControlFlow::<()>::Continue(())
        });
        map.check_invariants().unwrap();
    });
}

#[test]
fn get_or_insert_with_closure_uses_the_map() {
    no_deadlock(|| {
        let map: SyncMap<u32, u32> = stress_map();
        let v = map.get_or_insert_with(1, || {
            map.insert(2, 20);
            // Even the same key: the closure's value loses the race and is dropped.
            map.insert(1, 10);
            *map.get(&2).unwrap() + 1
        });
        assert_eq!(*v, 10, "the value inserted first wins");
        assert_eq!(map.get_cloned(&2), Some(20));
        map.check_invariants().unwrap();
    });
}

#[test]
fn retain_closure_uses_the_map() {
    no_deadlock(|| {
        let map: SyncMap<u32, u32> = (0..20).map(|i| (i, i)).collect();
        map.retain(|k, _| {
            map.insert(k + 100, 0);
            let _ = map.get(&(k + 1));
            k % 2 == 0
        });
        map.check_invariants().unwrap();
        assert!((0..20).all(|k| map.contains_key(&k) == (k % 2 == 0)));
    });
}

/// A value whose `Drop` writes to the map that held it.
struct Reenter {
    map: Arc<SyncMap<u32, Reenter>>,
    key: u32,
}

impl Drop for Reenter {
    fn drop(&mut self) {
        if self.key < 1_000 {
            let _ = self.map.get(&self.key);
            self.map.insert(
                self.key + 1_000,
                Reenter {
                    map: Arc::clone(&self.map),
                    key: u32::MAX,
                },
            );
            let _ = self.map.for_each(|_, _| ControlFlow::Break(()));
            self.map.remove(&(self.key + 2_000));
        }
    }
}

#[test]
fn value_drop_calls_back_into_the_map() {
    no_deadlock(|| {
        let map: Arc<SyncMap<u32, Reenter>> = Arc::new(stress_map());
        let make = |key| Reenter {
            map: Arc::clone(&map),
            key,
        };
        for k in 0..20 {
            map.insert(k, make(k));
        }
        for k in 0..20 {
            map.insert(k, make(k + 3_000)); // replaced values are dropped by us, outside locks
            map.remove(&k);
            map.insert(k, make(k));
        }
        map.insert(5_000, make(7));
        map.clear(); // drops values after releasing the lock
        map.retain(|_, _| false);
        map.check_invariants().unwrap();
        // Break the Arc cycle: values hold the map.
        map.clear();
    });
}

thread_local! {
    /// Calls left before a hostile trait method panics (`None`: never).
    static FUSE: Cell<Option<usize>> = const { Cell::new(None) };
    static WHICH: Cell<&'static str> = const { Cell::new("") };
}

fn arm(which: &'static str, after: usize) {
    WHICH.with(|w| w.set(which));
    FUSE.with(|f| f.set(Some(after)));
}

fn disarm() {
    FUSE.with(|f| f.set(None));
}

fn tick(which: &'static str) {
    if WHICH.with(|w| w.get()) != which {
        return;
    }
    FUSE.with(|f| match f.get() {
        Some(0) => {
            f.set(None);
            panic!("injected {which} panic");
        }
        Some(n) => f.set(Some(n - 1)),
        None => {}
    });
}

/// A key whose `Hash`, `Eq` and `Clone` panic on demand.
#[derive(Debug, PartialOrd, Ord)]
struct Hostile(u32);

impl Hash for Hostile {
    fn hash<H: Hasher>(&self, state: &mut H) {
        tick("hash");
        self.0.hash(state);
    }
}
impl PartialEq for Hostile {
    fn eq(&self, other: &Self) -> bool {
        tick("eq");
        self.0 == other.0
    }
}
impl Eq for Hostile {}
impl Clone for Hostile {
    fn clone(&self) -> Self {
        tick("clone");
        Hostile(self.0)
    }
}

/// A value whose `PartialEq` panics on demand.
#[derive(Debug)]
struct Touchy(u32);
impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        tick("value_eq");
        self.0 == other.0
    }
}

fn run_all_ops(map: &SyncMap<Hostile, Touchy>, round: u32) {
    for k in 0..8 {
        map.insert(Hostile(k), Touchy(round));
        let _ = map.get(&Hostile(k + 1));
        let _ = map.try_insert(Hostile(k + 4), Touchy(round));
        let _ = map.compare_and_swap(&Hostile(k), &Touchy(round), Touchy(round + 1));
        if k % 3 == 0 {
            map.remove(&Hostile(k + 2));
            let _ = map.compare_and_remove(&Hostile(k + 1), &Touchy(round));
        }
        map.get_or_insert_with(Hostile(k + 20), || Touchy(round));
    }
    map.retain(|k, _| k.0 % 5 != 0);
    let _ = map.for_each(|_, _| ControlFlow::<()>::Continue(()));
    // The only place the map clones keys: `iter` yields owned keys.
    let _ = map.iter().count();
}

#[test]
fn panicking_hash_eq_clone_and_value_eq_leave_the_map_usable() {
    no_deadlock(|| {
        for which in ["hash", "eq", "clone", "value_eq"] {
            for promotion in [Promotion::DirtyLen, Promotion::AfterMisses(1)] {
                let map: SyncMap<Hostile, Touchy> = SyncMap::builder().promotion(promotion).build();
                let mut panics = 0;
                for n in 0..200 {
                    arm(which, n);
                    if catch_unwind(AssertUnwindSafe(|| run_all_ops(&map, n as u32))).is_err() {
                        panics += 1;
                    }
                    disarm();
                    map.check_invariants()
                        .unwrap_or_else(|e| panic!("{which} panic at call {n}: {e}"));
                }
                assert!(panics > 0, "{which}: the fuse never fired");
                // Still fully usable.
                map.insert(Hostile(999), Touchy(1));
                assert_eq!(map.get(&Hostile(999)).map(|v| v.0), Some(1));
                assert_eq!(map.len(), map.iter().count());
            }
        }
    });
}

#[test]
fn panicking_closures_leave_the_map_usable() {
    no_deadlock(|| {
        let map: SyncMap<u32, u32> = stress_map();
        for i in 0..10 {
            map.insert(i, i);
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.get_or_insert_with(100, || panic!("builder panics"));
        }));
        assert!(r.is_err());
        assert!(!map.contains_key(&100));
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = map.for_each(|k, _| {
                if *k == 5 {
                    panic!("walk panics")
                } else {
                    ControlFlow::<()>::Continue(())
                }
            });
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.retain(|k, _| {
                if *k == 3 {
                    panic!("retain panics")
                } else {
                    false
                }
            })
        }));
        assert!(r.is_err());
        map.check_invariants().unwrap();
        map.insert(7, 70);
        assert_eq!(map.get_cloned(&7), Some(70));
    });
}

#[test]
fn inconsistent_hash_and_eq_give_wrong_answers_at_worst() {
    /// Hash is random per call; Eq is always true.
    #[derive(Clone, Debug, PartialOrd, Ord)]
    struct Liar(u32);
    static SALT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    impl Hash for Liar {
        fn hash<H: Hasher>(&self, s: &mut H) {
            SALT.fetch_add(0x9E37_79B9, std::sync::atomic::Ordering::Relaxed)
                .hash(s);
        }
    }
    impl PartialEq for Liar {
        fn eq(&self, _: &Self) -> bool {
            true
        }
    }
    impl Eq for Liar {}
    no_deadlock(|| {
        let map: SyncMap<Liar, u32> = stress_map();
        for i in 0..500 {
            map.insert(Liar(i), i);
            let _ = map.get(&Liar(i / 2));
            let _ = map.remove(&Liar(i / 3));
            let _ = map.try_insert(Liar(i), i);
            if i % 50 == 0 {
                let _ = map.iter().count();
            }
        }
        map.clear();
        assert!(map.is_empty());
    });
}
