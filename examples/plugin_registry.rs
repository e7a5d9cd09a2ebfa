//! A plugin registry: plugins are trait objects registered at startup, reader threads dispatch
//! requests through the registry, and the main thread hot-swaps one plugin while they run.
//!
//! ```text
//! cargo run -p syncmap-examples --example plugin_registry
//! ```
//!
//! Lookups of registered plugins never take a lock, and `replace_plugin` swaps a plugin in one
//! atomic step: a reader sees the old version or the new one, never a mix, and once it has seen
//! the new one it never sees the old one again.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use syncmap_typed::{Registry, SyncMap};

/// A plugin: a named text transformation, versioned so readers can tell which one served them.
trait Plugin: Send + Sync {
    fn version(&self) -> u32;
    fn apply(&self, input: &str) -> String;
}

struct Upper;
impl Plugin for Upper {
    fn version(&self) -> u32 {
        1
    }
    fn apply(&self, input: &str) -> String {
        input.to_uppercase()
    }
}

/// Version 2 of `upper`, hot-swapped in while the readers run.
struct UpperV2;
impl Plugin for UpperV2 {
    fn version(&self) -> u32 {
        2
    }
    fn apply(&self, input: &str) -> String {
        format!("{}!", input.to_uppercase())
    }
}

struct Reverse;
impl Plugin for Reverse {
    fn version(&self) -> u32 {
        1
    }
    fn apply(&self, input: &str) -> String {
        input.chars().rev().collect()
    }
}

struct Length;
impl Plugin for Length {
    fn version(&self) -> u32 {
        1
    }
    fn apply(&self, input: &str) -> String {
        input.chars().count().to_string()
    }
}

/// The registry: one derive gives typed methods for both maps.
#[derive(Registry, Default)]
struct Plugins {
    /// Plugins by command name.
    #[registry(item = plugin)]
    plugins: SyncMap<&'static str, Arc<dyn Plugin>>,
    /// Requests served, by command name (values with interior mutability: no write to the map).
    #[registry(item = counter)]
    served: SyncMap<&'static str, AtomicU64>,
}

impl Plugins {
    /// Runs `command` on `input` through the registry.
    fn dispatch(&self, command: &str, input: &str) -> Result<(u32, String), String> {
        let plugin = self
            .plugin(command)
            .ok_or_else(|| format!("unknown command `{command}`"))?;
        if let Some(counter) = self.counter(command) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok((plugin.version(), plugin.apply(input)))
    }
}

const READERS: usize = 4;
/// Requests each reader serves with each version of `upper` before the next step.
const PER_VERSION: u64 = 2_000;

/// What one reader saw of the `upper` plugin.
#[derive(Default)]
struct Seen {
    v1: u64,
    v2: u64,
    first_v2_output: Option<String>,
}

fn main() {
    let registry = Plugins::default();

    println!("== startup: registering plugins");
    let startup: [(&'static str, Arc<dyn Plugin>); 3] = [
        ("upper", Arc::new(Upper)),
        ("reverse", Arc::new(Reverse)),
        ("length", Arc::new(Length)),
    ];
    for (name, plugin) in startup {
        registry.register_plugin(name, plugin).expect("fresh name");
        registry
            .register_counter(name, AtomicU64::new(0))
            .expect("fresh name");
        println!("registered `{name}`");
    }
    match registry.register_plugin("upper", Arc::new(UpperV2)) {
        Ok(()) => unreachable!("`upper` is taken"),
        Err(err) => println!(
            "rejected: {err}; the offered plugin (v{}) was handed back",
            err.value.version()
        ),
    }

    println!("\n== {READERS} readers dispatching while `upper` is hot-swapped");
    // Progress of each reader on each version, so the swap happens mid-stream for every one.
    let v1_done: Vec<AtomicU64> = (0..READERS).map(|_| AtomicU64::new(0)).collect();
    let v2_done: Vec<AtomicU64> = (0..READERS).map(|_| AtomicU64::new(0)).collect();
    let stop = AtomicBool::new(false);
    let seen: Vec<Seen> = thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let (registry, v1_done, v2_done, stop) = (&registry, &v1_done, &v2_done, &stop);
                s.spawn(move || {
                    let mut seen = Seen::default();
                    let commands = ["upper", "reverse", "upper", "length"];
                    for i in 0usize.. {
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        let command = commands[i % commands.len()];
                        let (version, output) =
                            registry.dispatch(command, "hello").expect("registered");
                        if command != "upper" {
                            continue;
                        }
                        match version {
                            1 => {
                                assert_eq!(seen.v2, 0, "reader {r} went back to v1 after v2");
                                seen.v1 += 1;
                                v1_done[r].store(seen.v1, Ordering::Release);
                            }
                            _ => {
                                seen.first_v2_output.get_or_insert(output);
                                seen.v2 += 1;
                                v2_done[r].store(seen.v2, Ordering::Release);
                            }
                        }
                    }
                    seen
                })
            })
            .collect();

        wait_until(|| {
            v1_done
                .iter()
                .all(|n| n.load(Ordering::Acquire) >= PER_VERSION)
        });
        let old = registry
            .replace_plugin("upper", Arc::new(UpperV2))
            .expect("`upper` was registered");
        println!(
            "swapped `upper` v{} -> v2 while readers ran (replace_plugin returned the old one)",
            old.version()
        );
        wait_until(|| {
            v2_done
                .iter()
                .all(|n| n.load(Ordering::Acquire) >= PER_VERSION)
        });
        stop.store(true, Ordering::Release);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (r, seen) in seen.iter().enumerate() {
        println!(
            "reader {r}: `upper` v1 served {} requests, then v2 served {} (first v2 output {:?}); \
             never back to v1",
            seen.v1,
            seen.v2,
            seen.first_v2_output.as_deref().unwrap_or("-")
        );
    }

    println!("\n== after the run");
    let mut served = registry.counter_snapshot();
    served.sort_by_key(|(name, _)| *name);
    let mut lookups = 0;
    for (name, count) in &served {
        let count = count.load(Ordering::Relaxed);
        lookups += count;
        println!("`{name}` served {count} requests");
    }
    let first_v2 = registry.for_each_plugin(|name, plugin| {
        if plugin.version() == 2 {
            ControlFlow::Break(*name)
        } else {
            ControlFlow::Continue(())
        }
    });
    println!("first plugin found at v2: {first_v2:?}");
    let removed = registry.remove_plugin("reverse").expect("registered");
    println!(
        "unregistered `reverse` (v{}); dispatching it now: {:?}",
        removed.version(),
        registry.dispatch("reverse", "hello")
    );

    let stats = registry.plugins().stats();
    println!(
        "plugin map stats: {} misses, {} promotions, {} dirty rebuilds, read map {} keys, \
         dirty map {:?}",
        stats.misses, stats.promotions, stats.dirty_rebuilds, stats.read_len, stats.dirty_len
    );
    println!(
        "{} of {} plugin lookups missed the lock-free read map and took the lock",
        stats.misses,
        lookups + 1
    );
}

/// Spins, yielding, until `done` holds.
fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        thread::yield_now();
    }
}
