//! Typed concurrent registries built on [`SyncMap`].

pub use syncmap_core::*;
