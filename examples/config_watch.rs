//! A service that re-reads its configuration when a registry entry is replaced.
//!
//! ```text
//! cargo run -p syncmap-examples --example config_watch
//! ```
//!
//! The configuration lives in a `Watched` registry field. A worker thread serves requests with
//! the configuration it last read, and waits on a `Watcher` (blocking; `changed().await` is the
//! async form) for the operator to replace an entry. Changes that happen while the worker is
//! busy coalesce: it wakes once and reads the latest configuration, never a stale one.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use syncmap_typed::{Registry, Watched};

/// The configuration of one upstream.
#[derive(Debug)]
struct Upstream {
    address: String,
    timeout_ms: u64,
}

#[derive(Registry, Default)]
struct Config {
    /// Upstreams by name; replacing one wakes every watcher.
    #[registry(item = upstream)]
    upstreams: Watched<String, Arc<Upstream>>,
}

fn upstream(address: &str, timeout_ms: u64) -> Arc<Upstream> {
    Arc::new(Upstream {
        address: address.to_string(),
        timeout_ms,
    })
}

fn main() {
    let config = Arc::new(Config::default());
    config
        .register_upstream("db".into(), upstream("10.0.0.1:5432", 500))
        .expect("first registration");

    // The worker reports each configuration it switches to; the operator waits for the report
    // before the next change, so the output is the same on every run.
    let (reloaded_tx, reloaded_rx) = mpsc::channel();
    let worker = {
        let config = Arc::clone(&config);
        let mut watcher = config.watch_upstreams();
        let mut db = config.upstream("db").expect("registered");
        println!("worker: serving with {} ({} ms)", db.address, db.timeout_ms);
        thread::spawn(move || loop {
            watcher.wait();
            match config.upstream("db") {
                Some(new) => {
                    db = new;
                    println!(
                        "worker: re-read config: {} ({} ms)",
                        db.address, db.timeout_ms
                    );
                    reloaded_tx
                        .send(Some(Arc::clone(&db)))
                        .expect("operator listens");
                }
                None => {
                    println!("worker: `db` was removed; stopping (last: {})", db.address);
                    reloaded_tx.send(None).expect("operator listens");
                    return;
                }
            }
        })
    };

    // The operator hot-swaps the entry twice; each replacement wakes the worker.
    for (address, timeout_ms) in [("10.0.0.2:5432", 500), ("10.0.0.2:5432", 250)] {
        let old = config.replace_upstream("db".into(), upstream(address, timeout_ms));
        println!(
            "operator: replaced {:?} with {address} ({timeout_ms} ms)",
            old.map(|o| o.address.clone())
        );
        let seen = reloaded_rx
            .recv()
            .expect("worker reports")
            .expect("still configured");
        assert_eq!(
            (seen.address.as_str(), seen.timeout_ms),
            (address, timeout_ms)
        );
    }

    // A rejected registration changes nothing and wakes no one.
    let err = config
        .register_upstream("db".into(), upstream("10.9.9.9:5432", 1))
        .unwrap_err();
    println!("operator: {err}");

    config.remove_upstream("db");
    assert!(reloaded_rx.recv().expect("worker reports").is_none());
    worker.join().expect("worker exits cleanly");
    println!("done");
}
