//! Standard trait implementations for [`SyncMap`].

use crate::iter::Iter;
use crate::map::SyncMap;
use crate::primitive::Arc;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::ops::ControlFlow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;

impl<K, V, S: Default> Default for SyncMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> fmt::Debug for SyncMap<K, V, S>
where
    K: Eq + Hash + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        let _ = self.for_each(|k, v| {
            map.entry(k, v);
            ControlFlow::<()>::Continue(())
        });
        map.finish()
    }
}

/// Inserts each pair as [`insert`](SyncMap::insert) does, then publishes the new keys to the
/// read map at once (one promotion), so that they are read lock-free from the start rather than
/// after the misses of later reads have promoted them.
impl<K, V, S> Extend<(K, V)> for SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
        self.settle();
    }
}

/// A new map with a clone of each key and value (and of the hasher and settings), built by a
/// walk of this one ([`for_each`](SyncMap::for_each)'s guarantees: writers may run alongside).
/// Every key of the clone is in its read map.
///
/// ```
/// use syncmap_core::SyncMap;
/// let map: SyncMap<u32, String> = [(1, "one".to_string())].into_iter().collect();
/// let copy = map.clone();
/// copy.insert(1, "uno".to_string());
/// assert_eq!(map.get(&1).unwrap(), "one"); // independent
/// ```
impl<K, V, S> Clone for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    fn clone(&self) -> Self {
        let clone = SyncMap::from_parts(self.config, self.hash_builder.clone());
        let _ = self.for_each(|k, v| {
            clone.insert(k.clone(), v.clone());
            ControlFlow::<()>::Continue(())
        });
        clone.settle();
        clone
    }
}

/// Moves the keys and values of a std `HashMap` into a new map with its hasher; every key is in
/// the read map.
///
/// ```
/// use std::collections::HashMap;
/// use syncmap_core::SyncMap;
/// let plain: HashMap<&str, u32> = HashMap::from([("a", 1), ("b", 2)]);
/// let map = SyncMap::from(plain);
/// assert_eq!(*map.get("b").unwrap(), 2);
/// assert_eq!(map.stats().read_len, 2);
/// ```
impl<K, V, S> From<HashMap<K, V, S>> for SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher + Clone,
{
    fn from(plain: HashMap<K, V, S>) -> Self {
        let mut map = SyncMap::with_capacity_and_hasher(plain.len(), plain.hasher().clone());
        map.extend(plain);
        map
    }
}

impl<K, V, S> FromIterator<(K, V)> for SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher + Default,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::default();
        map.extend(iter);
        map
    }
}

impl<K, V, const N: usize> From<[(K, V); N]> for SyncMap<K, V, RandomState>
where
    K: Eq + Hash,
{
    fn from(items: [(K, V); N]) -> Self {
        items.into_iter().collect()
    }
}

impl<'a, K, V, S> IntoIterator for &'a SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher,
{
    type Item = (K, Arc<V>);
    type IntoIter = Iter<'a, K, V, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
