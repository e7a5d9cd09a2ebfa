//! The code `#[derive(Registry)]` generates is clean under `clippy::pedantic`, which users
//! enable in their own crates: CI's `cargo clippy --all-targets -D warnings` checks this file.
#![deny(clippy::pedantic)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use syncmap_typed::{Registry, SyncMap};

/// A plugin.
pub trait Plugin: Send + Sync {
    /// Its name.
    fn name(&self) -> &str;
}

struct Named(&'static str);

impl Plugin for Named {
    fn name(&self) -> &str {
        self.0
    }
}

/// A public registry: every generated method is public and documented.
#[derive(Registry, Default)]
pub struct Plugins {
    /// Plugins by name.
    #[registry(item = plugin)]
    plugins: SyncMap<String, Arc<dyn Plugin>>,
    /// Hit counts by plugin name.
    #[registry(item = hit_count, accessor_vis = "pub")]
    hits: SyncMap<String, u64>,
}

/// A generic registry with a custom hasher.
#[derive(Registry)]
pub struct Index<K: Eq + Hash + Clone, V, S: BuildHasher = RandomState> {
    /// Entries by key.
    #[registry(item = entry)]
    pub entries: SyncMap<K, V, S>,
}

#[test]
fn pedantic_registry_works() {
    let plugins = Plugins::default();
    plugins
        .register_plugin("a".to_string(), Arc::new(Named("a")))
        .unwrap();
    plugins.replace_hit_count("a".to_string(), 1);
    assert_eq!(
        plugins.plugin("a").map(|p| p.name().to_string()),
        Some("a".into())
    );
    assert_eq!(plugins.hits().len(), 1);
    let index: Index<u32, String> = Index {
        entries: SyncMap::new(),
    };
    index.register_entry(1, "one".into()).unwrap();
    assert!(index.contains_entry(&1));
}

/// A watched registry (the `watch` feature), under the same lints.
#[cfg(feature = "watch")]
pub mod watched {
    use std::sync::Arc;
    use syncmap_typed::{Registry, Watched};

    /// Settings that services re-read when they change.
    #[derive(Registry, Default)]
    pub struct Settings {
        /// Settings by name.
        #[registry(item = setting)]
        pub settings: Watched<String, Arc<str>>,
    }

    #[test]
    fn pedantic_watched_registry_works() {
        let settings = Settings::default();
        let watcher = settings.watch_settings();
        settings.replace_setting("a".into(), "1".into());
        assert!(watcher.has_changed());
    }
}
