//! Concurrent tests with values that count their drops: nothing leaks, nothing is dropped twice,
//! and once the map is dropped every value ever created was dropped exactly once.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use syncmap_core::{Promotion, SyncMap};

mod support;
use support::Rng;

/// A value that records its creation and destruction; dropping one twice panics.
struct Tracked {
    id: usize,
    ledger: Arc<Ledger>,
}

#[derive(Default)]
struct Ledger {
    created: AtomicUsize,
    live: AtomicIsize,
    dropped: Mutex<HashSet<usize>>,
}

impl Ledger {
    fn make(self: &Arc<Self>) -> Tracked {
        let id = self.created.fetch_add(1, SeqCst);
        self.live.fetch_add(1, SeqCst);
        Tracked {
            id,
            ledger: Arc::clone(self),
        }
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        assert!(
            self.ledger.dropped.lock().unwrap().insert(self.id),
            "value {} dropped twice",
            self.id
        );
        self.ledger.live.fetch_sub(1, SeqCst);
    }
}

const THREADS: usize = 4;
const OPS: usize = if cfg!(miri) { 200 } else { 20_000 };
const KEYS: u64 = 64;

fn hammer(promotion: Promotion) {
    let ledger = Arc::new(Ledger::default());
    let map: SyncMap<u64, Tracked> = SyncMap::builder().promotion(promotion).build();
    thread::scope(|s| {
        for t in 0..THREADS {
            let (map, ledger) = (&map, &ledger);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                for i in 0..OPS {
                    let k = rng.next() % KEYS;
                    match rng.next() % 10 {
                        0..=2 => {
                            map.insert(k, ledger.make());
                        }
                        3 => {
                            let _ = map.try_insert(k, ledger.make());
                        }
                        4 => {
                            map.get_or_insert_with(k, || ledger.make());
                        }
                        5 => {
                            map.remove(&k);
                        }
                        6 => {
                            if let Some(cur) = map.get(&k) {
                                let _ = map.compare_and_swap(&k, &cur, ledger.make());
                            }
                        }
                        7 => {
                            if let Some(cur) = map.get(&k) {
                                map.compare_and_remove(&k, &cur);
                            }
                        }
                        8 => {
                            let _ = map.for_each(|_, v| {
                                if v.id % 7 == 0 {
                                    ControlFlow::Break(())
                                } else {
                                    ControlFlow::Continue(())
                                }
                            });
                        }
                        _ => {
                            if i % 1000 == 999 && t == 0 {
                                map.clear();
                            } else {
                                let _ = map.get(&k).map(|v| v.id);
                            }
                        }
                    }
                }
            });
        }
    });
    map.check_invariants().unwrap();
    // Live values are exactly those in the map.
    assert_eq!(ledger.live.load(SeqCst), map.len() as isize);
    assert_eq!(map.iter().count(), map.len());
    drop(map);
    assert_eq!(ledger.live.load(SeqCst), 0, "leaked values");
    assert_eq!(
        ledger.dropped.lock().unwrap().len(),
        ledger.created.load(SeqCst),
        "every value dropped exactly once"
    );
}

#[test]
fn drops_exactly_once_with_default_promotion() {
    hammer(Promotion::Amortized);
}

#[test]
fn drops_exactly_once_with_go_promotion() {
    hammer(Promotion::DirtyLen);
}

#[test]
fn drops_exactly_once_with_constant_promotion() {
    hammer(Promotion::AfterMisses(1));
}

#[test]
fn every_key_and_key_clone_is_released() {
    // Each key (and each clone the dirty rebuilds make) holds a handle on `token`; once the map
    // is gone, only ours may remain.
    #[derive(Clone)]
    struct Key(u64, #[allow(dead_code)] Arc<()>);
    impl PartialEq for Key {
        fn eq(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }
    impl Eq for Key {}
    impl std::hash::Hash for Key {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            self.0.hash(h)
        }
    }
    let token = Arc::new(());
    let map: SyncMap<Key, u64> = SyncMap::builder()
        .promotion(Promotion::AfterMisses(1))
        .build();
    thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let (map, token) = (&map, &token);
            s.spawn(move || {
                let key = |k: u64| Key(k, Arc::clone(token));
                for i in 0..(OPS as u64 / 4) {
                    let k = (i * 7 + t) % 32;
                    match i % 5 {
                        0 => drop(map.insert(key(k), i)),
                        1 => drop(map.remove(&key(k))),
                        2 => drop(map.get(&key(k))),
                        3 if t == 0 && i % 500 == 3 => map.clear(),
                        _ => drop(map.try_insert(key(k), i)),
                    }
                }
            });
        }
    });
    assert!(Arc::strong_count(&token) > 1, "the map holds keys");
    drop(map);
    assert_eq!(Arc::strong_count(&token), 1, "a key or key clone leaked");
}
