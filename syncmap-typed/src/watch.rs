//! [`Watched`] maps and their [`Watcher`]s (the `watch` feature).

use crate::SyncMap;
use core::fmt;
use core::ops::Deref;
use event_listener::{Event, Listener};
use std::collections::hash_map::RandomState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A [`SyncMap`] whose changes can be waited for: a registry field of this type gets, from
/// `#[derive(Registry)]`, a `watch_<field>()` method and `item` methods that wake its watchers.
///
/// The map is the whole [`SyncMap`] API through `Deref`; what `Watched` adds is a change
/// counter (a *version*) and the [`Watcher`]s that wait for it to move. A change is announced
/// by [`notify`](Watched::notify), after the map has been changed, so a watcher that wakes up
/// always finds the map at least as new as the change that woke it. Like a watch channel, a
/// watcher is told *that* the map changed, not how many times: changes made while it was not
/// looking coalesce into one wake-up, and it never misses the latest state.
///
/// **Changes made through the map itself do not notify**: `watched.insert(..)` through `Deref`
/// changes the map silently. Change a watched registry through its derived `register_*`,
/// `replace_*` and `remove_*` methods, which notify, or call [`notify`](Watched::notify)
/// after changing the map directly.
///
/// ```
/// use std::sync::Arc;
/// use syncmap_typed::{Registry, Watched};
///
/// #[derive(Registry, Default)]
/// struct Config {
///     #[registry(item = setting)]
///     settings: Watched<String, Arc<str>>,
/// }
///
/// let config = Config::default();
/// let mut watcher = config.watch_settings();
/// assert!(!watcher.has_changed());
/// config.replace_setting("level".into(), "debug".into());
/// config.replace_setting("level".into(), "info".into());
/// assert!(watcher.has_changed());
/// watcher.wait(); // returns at once: two changes, one wake-up
/// assert!(!watcher.has_changed());
/// assert_eq!(config.setting("level").as_deref(), Some("info"));
/// ```
pub struct Watched<K, V, S = RandomState> {
    map: SyncMap<K, V, S>,
    changes: Arc<Changes>,
}

/// What a [`Watched`] map shares with its watchers.
#[derive(Default)]
struct Changes {
    version: AtomicU64,
    event: Event,
}

impl<K, V, S> Watched<K, V, S> {
    /// Watches `map`.
    pub fn new(map: SyncMap<K, V, S>) -> Self {
        Watched {
            map,
            changes: Arc::default(),
        }
    }

    /// The map (also reachable through `Deref`). Changes made through it do not notify.
    pub fn map(&self) -> &SyncMap<K, V, S> {
        &self.map
    }

    /// Takes the map back; existing watchers are never woken again.
    pub fn into_map(self) -> SyncMap<K, V, S> {
        self.map
    }

    /// A new watcher, which counts as having seen the map as it is now.
    pub fn watch(&self) -> Watcher {
        Watcher {
            seen: self.version(),
            changes: Arc::clone(&self.changes),
        }
    }

    /// Announces a change: moves the version on and wakes every watcher. Call it after the
    /// change, so that the watchers it wakes find the map changed.
    pub fn notify(&self) {
        // SeqCst: a watcher that re-checks the version after registering its listener either
        // sees this increment or is registered before `notify` below runs, so it is woken.
        self.changes.version.fetch_add(1, Ordering::SeqCst);
        self.changes.event.notify(usize::MAX);
    }

    /// How many changes have been announced so far.
    pub fn version(&self) -> u64 {
        self.changes.version.load(Ordering::SeqCst)
    }
}

impl<K, V, S> Deref for Watched<K, V, S> {
    type Target = SyncMap<K, V, S>;

    fn deref(&self) -> &SyncMap<K, V, S> {
        &self.map
    }
}

impl<K, V, S: Default> Default for Watched<K, V, S> {
    fn default() -> Self {
        Watched::new(SyncMap::default())
    }
}

impl<K, V, S> From<SyncMap<K, V, S>> for Watched<K, V, S> {
    fn from(map: SyncMap<K, V, S>) -> Self {
        Watched::new(map)
    }
}

impl<K, V, S> fmt::Debug for Watched<K, V, S>
where
    SyncMap<K, V, S>: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watched")
            .field("version", &self.version())
            .field("map", &self.map)
            .finish()
    }
}

/// Serializes the map alone, exactly as [`SyncMap`] does (the `serde` feature): the version and
/// the watchers are not data.
#[cfg(feature = "serde")]
impl<K, V, S> serde::Serialize for Watched<K, V, S>
where
    K: serde::Serialize + Eq + core::hash::Hash,
    V: serde::Serialize,
    S: core::hash::BuildHasher,
{
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        self.map.serialize(serializer)
    }
}

/// Deserializes a map, exactly as [`SyncMap`] does, into a new `Watched` map (the `serde`
/// feature) at version 0 with no watchers yet.
#[cfg(feature = "serde")]
impl<'de, K, V, S> serde::Deserialize<'de> for Watched<K, V, S>
where
    K: serde::Deserialize<'de> + Eq + core::hash::Hash,
    V: serde::Deserialize<'de>,
    S: core::hash::BuildHasher + Default,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SyncMap::deserialize(deserializer).map(Watched::new)
    }
}

/// Waits for a [`Watched`] map to change: blocking ([`wait`](Watcher::wait)) or in any async
/// runtime ([`changed`](Watcher::changed)).
///
/// A watcher remembers the last version it has seen. Every wait returns as soon as the map's
/// version differs from it (at once if the map changed since the last wait) and marks the
/// current version as seen, so a loop of "wait, then read the registry" never misses the latest
/// state, though changes that happen between two reads are seen together. A watcher owns its
/// share of the map's change state: it is `Send + Sync + 'static`, can be cloned (each clone
/// keeps its own place) and moved into a spawned task.
#[derive(Clone)]
pub struct Watcher {
    seen: u64,
    changes: Arc<Changes>,
}

impl Watcher {
    /// The version of the map now.
    pub fn version(&self) -> u64 {
        self.changes.version.load(Ordering::SeqCst)
    }

    /// Whether the map has changed since this watcher last saw it.
    pub fn has_changed(&self) -> bool {
        self.version() != self.seen
    }

    /// Counts the map as seen as it is now, without waiting.
    pub fn mark_seen(&mut self) {
        self.seen = self.version();
    }

    /// Blocks the thread until the map has changed since this watcher last saw it, then marks
    /// it seen. Returns at once if it has already changed.
    pub fn wait(&mut self) {
        while !self.take_change() {
            let listener = self.changes.event.listen();
            if self.take_change() {
                return;
            }
            listener.wait();
        }
    }

    /// Like [`wait`](Watcher::wait), giving up after `timeout`; whether the map changed.
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if self.take_change() {
                return true;
            }
            let listener = self.changes.event.listen();
            if self.take_change() {
                return true;
            }
            match deadline {
                Some(deadline) => {
                    if listener.wait_deadline(deadline).is_none() {
                        return self.take_change();
                    }
                }
                None => listener.wait(),
            }
        }
    }

    /// Waits, in any async runtime, until the map has changed since this watcher last saw it,
    /// then marks it seen. Completes at once if it has already changed. The future is `Send`;
    /// dropping it cancels the wait and loses nothing.
    pub async fn changed(&mut self) {
        while !self.take_change() {
            let listener = self.changes.event.listen();
            if self.take_change() {
                return;
            }
            listener.await;
        }
    }

    /// Marks the current version seen; whether it differs from the one seen before.
    fn take_change(&mut self) -> bool {
        let now = self.version();
        let changed = now != self.seen;
        self.seen = now;
        changed
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("seen", &self.seen)
            .field("version", &self.version())
            .finish()
    }
}
