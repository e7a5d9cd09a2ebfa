//! `Watched` registries (the `watch` feature): watchers wake on every change made through the
//! derived methods, blocking and async, on real threads, and never miss the latest state.
//! No timing: every wait is for an event the test itself causes.

use futures_lite::future::block_on;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use syncmap_typed::{Registry, Watched, Watcher};

#[derive(Debug, PartialEq)]
struct Config {
    version: u32,
}

#[derive(Registry, Default)]
struct Service {
    #[registry(item = config)]
    configs: Watched<String, Arc<Config>>,
}

fn config(version: u32) -> Arc<Config> {
    Arc::new(Config { version })
}

#[test]
fn register_replace_and_remove_notify_and_failed_changes_do_not() {
    let service = Service::default();
    let mut watcher = service.watch_configs();
    assert!(!watcher.has_changed());

    service.register_config("db".into(), config(1)).unwrap();
    assert!(watcher.has_changed());
    watcher.wait();
    assert!(!watcher.has_changed());

    // A rejected registration and the removal of an absent key change nothing.
    assert!(service.register_config("db".into(), config(2)).is_err());
    assert!(service.remove_config("absent").is_none());
    assert!(!watcher.has_changed());

    service.replace_config("db".into(), config(2));
    assert!(watcher.has_changed());
    watcher.mark_seen();
    service.remove_config("db").unwrap();
    assert!(watcher.has_changed());

    // Changes through the raw map are silent until `notify`.
    let before = watcher.version();
    watcher.mark_seen();
    service.configs().insert("raw".into(), config(3));
    assert!(!watcher.has_changed());
    service.configs().notify();
    assert!(watcher.has_changed());
    assert_eq!(watcher.version(), before + 1);
}

#[test]
fn changes_coalesce_and_the_latest_state_is_seen() {
    let service = Service::default();
    let mut watcher = service.watch_configs();
    for version in 1..=5 {
        service.replace_config("db".into(), config(version));
    }
    watcher.wait(); // one wake-up for five changes
    assert!(!watcher.has_changed());
    assert_eq!(service.config("db").unwrap().version, 5);
}

/// A blocking waiter on another thread wakes once per change when each change waits for the
/// previous wake-up to be handled (a rendezvous, no sleeps).
#[test]
fn a_blocking_waiter_wakes_on_every_change() {
    const CHANGES: u32 = 200;
    let service = Arc::new(Service::default());
    let (seen_tx, seen_rx) = mpsc::channel();
    let mut watcher = service.watch_configs();
    let waiter = {
        let service = Arc::clone(&service);
        thread::spawn(move || {
            for _ in 0..CHANGES {
                watcher.wait();
                let version = service.config("db").map(|c| c.version);
                seen_tx.send(version).unwrap();
            }
        })
    };
    for version in 1..=CHANGES {
        service.replace_config("db".into(), config(version));
        // The waiter reports the state it woke to: the change just made, never an older one.
        assert_eq!(seen_rx.recv().unwrap(), Some(version));
    }
    waiter.join().unwrap();
}

/// Many async waiters, each on its own thread with its own executor, while another thread
/// writes without waiting for them: every waiter ends having seen the final state.
#[test]
fn async_waiters_on_many_threads_never_miss_the_latest_state() {
    const WAITERS: usize = 4;
    const CHANGES: u32 = 500;
    let service = Arc::new(Service::default());
    let start = Arc::new(Barrier::new(WAITERS + 1));
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let service = Arc::clone(&service);
            let start = Arc::clone(&start);
            let mut watcher = service.watch_configs();
            thread::spawn(move || {
                start.wait();
                block_on(async {
                    let mut wakeups = 0;
                    loop {
                        watcher.changed().await;
                        wakeups += 1;
                        if service.config("db").is_some_and(|c| c.version == CHANGES) {
                            return wakeups;
                        }
                    }
                })
            })
        })
        .collect();
    start.wait();
    for version in 1..=CHANGES {
        service.replace_config("db".into(), config(version));
    }
    for waiter in waiters {
        let wakeups = waiter.join().unwrap();
        assert!((1..=CHANGES as usize).contains(&wakeups));
    }
}

/// An async task wakes on each change (rendezvous with the writer, as above) and holds the
/// looked-up `Arc` across an `.await`: the future is `Send` and runs on another thread.
#[test]
fn lookups_can_be_held_across_await_in_send_futures() {
    fn assert_send<F: std::future::Future + Send>(future: F) -> F {
        future
    }
    const CHANGES: u32 = 50;
    let service = Arc::new(Service::default());
    service.register_config("db".into(), config(0)).unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let task = {
        let service = Arc::clone(&service);
        // The watcher and the first lookup are taken here, before the writer starts; the task
        // may first be polled later.
        let mut watcher: Watcher = service.watch_configs();
        let mut held = service.config("db").unwrap();
        assert_send(async move {
            for _ in 0..CHANGES {
                watcher.changed().await; // `held`, an `Arc<Config>`, lives across this await
                let fresh = service.config("db").unwrap();
                assert_eq!(fresh.version, held.version + 1);
                held = fresh;
                seen_tx.send(held.version).unwrap();
            }
            held.version
        })
    };
    let runner = thread::spawn(move || block_on(task));
    for version in 1..=CHANGES {
        service.replace_config("db".into(), config(version));
        assert_eq!(seen_rx.recv().unwrap(), version);
    }
    assert_eq!(runner.join().unwrap(), CHANGES);
}

#[test]
fn watched_is_the_whole_map_and_watchers_are_send_sync_static() {
    fn assert_send_sync_static<T: Send + Sync + 'static>(_: &T) {}
    let watched: Watched<u32, String> = Watched::default();
    let watcher = watched.watch();
    assert_send_sync_static(&watcher);
    assert_send_sync_static(&watched);
    watched.insert(1, "one".into()); // through Deref: the SyncMap API
    assert_eq!(watched.len(), 1);
    assert!(!watcher.has_changed());
    let mut clone = watcher.clone();
    watched.notify();
    assert!(clone.has_changed() && watcher.has_changed());
    clone.wait();
    assert!(!clone.has_changed() && watcher.has_changed());
    assert_eq!(watched.into_map().len(), 1);
}
