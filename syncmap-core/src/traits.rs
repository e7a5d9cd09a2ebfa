//! Standard trait implementations for [`SyncMap`].

use crate::iter::Iter;
use crate::map::SyncMap;
use crate::primitive::Arc;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::ops::ControlFlow;
use std::collections::hash_map::RandomState;

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

impl<K, V, S> Extend<(K, V)> for SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
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
