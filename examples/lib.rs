//! Runnable examples of syncmap; each lives beside this file as an `[[example]]` target:
//!
//! - `plugin_registry`: plugins as trait objects in a `#[derive(Registry)]` struct, dispatched
//!   from reader threads while one plugin is hot-swapped;
//! - `service_registry`: services by name and by id in one derived struct;
//! - `memo_cache`: a memoizing cache on the core `SyncMap` alone.
//!
//! Run one with `cargo run -p syncmap-examples --example plugin_registry`.
