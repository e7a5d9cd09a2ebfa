//! Runnable examples of syncmap; each lives beside this file as an `[[example]]` target:
//!
//! - `plugin_registry`: plugins as trait objects in a `#[derive(Registry)]` struct, dispatched
//!   from reader threads while one plugin is hot-swapped;
//! - `service_registry`: services by name and by id in one derived struct;
//! - `memo_cache`: a memoizing cache on the core `SyncMap` alone;
//! - `config_watch`: a service that re-reads its configuration when a `Watched` registry entry
//!   is replaced (the `watch` feature).
//!
//! Run one with `cargo run -p syncmap-examples --example plugin_registry`.

/// The repository's README, compiled and run as doctests so its quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct RootReadme;

/// `syncmap-core`'s README (that crate's package ships it), tested likewise.
#[cfg(doctest)]
#[doc = include_str!("../syncmap-core/README.md")]
struct CoreReadme;
