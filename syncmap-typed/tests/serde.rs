//! The `serde` feature: a registry that derives `Registry`, `Serialize` and `Deserialize`
//! round-trips through JSON, and its derived methods see what was loaded.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use syncmap_typed::{Registry, SyncMap};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Backend {
    address: String,
    weight: u32,
}

fn backend(address: &str, weight: u32) -> Backend {
    Backend {
        address: address.to_string(),
        weight,
    }
}

#[derive(Registry, Serialize, Deserialize, Default, Debug)]
struct Services {
    /// Backends by name.
    #[registry(item = backend)]
    backends: SyncMap<String, Backend>,
    /// Ports by numeric service id (JSON object keys are strings; serde_json converts).
    #[registry(item = port)]
    ports: SyncMap<u32, u16>,
    /// Only the accessor is generated; missing from the input, it comes back empty.
    #[serde(default)]
    tags: SyncMap<String, Vec<String>>,
    /// Not data: neither a map nor serialized.
    #[registry(skip)]
    #[serde(skip)]
    lookups: AtomicU64,
}

fn sorted<K: Ord + Clone, V: Clone>(snapshot: Vec<(K, std::sync::Arc<V>)>) -> BTreeMap<K, V> {
    snapshot
        .into_iter()
        .map(|(k, v)| (k, (*v).clone()))
        .collect()
}

fn sample() -> Services {
    let services = Services::default();
    services
        .register_backend("auth".into(), backend("10.0.0.1:443", 3))
        .unwrap();
    services
        .register_backend("search".into(), backend("10.0.0.3:9200", 1))
        .unwrap();
    services.register_port(1, 443).unwrap();
    services.register_port(2, 8080).unwrap();
    services
        .tags()
        .insert("auth".into(), vec!["critical".into(), "eu".into()]);
    services.lookups.store(7, Ordering::Relaxed);
    services
}

#[test]
fn a_registry_round_trips_through_json() {
    let services = sample();
    let json = serde_json::to_string(&services).unwrap();
    let loaded: Services = serde_json::from_str(&json).unwrap();

    assert_eq!(loaded.backend("auth").unwrap().address, "10.0.0.1:443");
    assert_eq!(loaded.backend("search").unwrap().weight, 1);
    assert!(!loaded.contains_backend("billing"));
    assert_eq!(loaded.port(&1).as_deref(), Some(&443));
    assert_eq!(loaded.port(&2).as_deref(), Some(&8080));
    assert_eq!(
        loaded.tags().get("auth").as_deref(),
        Some(&vec!["critical".to_string(), "eu".to_string()])
    );
    assert_eq!(
        sorted(loaded.backend_snapshot()),
        sorted(services.backend_snapshot())
    );
    assert_eq!(
        sorted(loaded.port_snapshot()),
        sorted(services.port_snapshot())
    );
    // The skipped field is not data: it comes back as its default.
    assert_eq!(loaded.lookups.load(Ordering::Relaxed), 0);

    // The loaded registry is a working registry.
    assert!(loaded
        .register_backend("auth".into(), backend("elsewhere", 9))
        .is_err());
    loaded.register_port(3, 9200).unwrap();
    assert_eq!(loaded.ports().len(), 3);
}

#[test]
fn the_json_is_an_object_of_maps() {
    let services = Services::default();
    services
        .register_backend("auth".into(), backend("10.0.0.1:443", 3))
        .unwrap();
    services.register_port(1, 443).unwrap();
    let value = serde_json::to_value(&services).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "backends": { "auth": { "address": "10.0.0.1:443", "weight": 3 } },
            "ports": { "1": 443 },
            "tags": {},
        })
    );
}

#[test]
fn loading_hand_written_json() {
    let loaded: Services = serde_json::from_str(
        r#"{
            "backends": {
                "auth": { "address": "old", "weight": 1 },
                "auth": { "address": "new", "weight": 2 }
            },
            "ports": { "7": 70 }
        }"#,
    )
    .unwrap();
    // A repeated key: the last value wins.
    assert_eq!(*loaded.backend("auth").unwrap(), backend("new", 2));
    assert_eq!(loaded.backends().len(), 1);
    assert_eq!(loaded.port(&7).as_deref(), Some(&70));
    // `#[serde(default)]`: absent from the input, empty in the registry.
    assert!(loaded.tags().is_empty());
}

#[test]
fn bad_json_is_an_error() {
    // A field of the wrong type.
    let err = serde_json::from_str::<Services>(r#"{"backends": [], "ports": {}}"#).unwrap_err();
    assert!(err.is_data(), "{err}");
    // A value of the wrong type inside a map.
    let err = serde_json::from_str::<Services>(r#"{"backends": {}, "ports": {"1": "https"}}"#)
        .unwrap_err();
    assert!(err.is_data(), "{err}");
    // A missing field without a default.
    let err = serde_json::from_str::<Services>(r#"{"backends": {}}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `ports`"), "{err}");
}

#[cfg(feature = "watch")]
mod watched {
    use super::*;
    use syncmap_typed::Watched;

    #[derive(Registry, Serialize, Deserialize, Default)]
    struct Config {
        #[registry(item = setting)]
        settings: Watched<String, String>,
        #[registry(item = limit)]
        limits: SyncMap<String, u64>,
    }

    #[test]
    fn a_watched_registry_round_trips_and_its_watchers_are_not_data() {
        let config = Config::default();
        config.replace_setting("level".into(), "debug".into());
        config.replace_setting("level".into(), "info".into());
        config.register_limit("rps".into(), 100).unwrap();
        assert_eq!(config.settings().version(), 2);

        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            json,
            r#"{"settings":{"level":"info"},"limits":{"rps":100}}"#
        );
        let loaded: Config = serde_json::from_str(&json).unwrap();
        assert_eq!(
            loaded.setting("level").as_deref().map(String::as_str),
            Some("info")
        );
        assert_eq!(loaded.limit("rps").as_deref(), Some(&100));
        // A fresh Watched: version 0, and a new watcher sees the next change.
        assert_eq!(loaded.settings().version(), 0);
        let mut watcher = loaded.watch_settings();
        assert!(!watcher.has_changed());
        loaded.replace_setting("level".into(), "warn".into());
        assert!(watcher.has_changed());
        watcher.wait();
        assert_eq!(
            loaded.setting("level").as_deref().map(String::as_str),
            Some("warn")
        );
    }
}
