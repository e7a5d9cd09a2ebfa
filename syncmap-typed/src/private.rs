//! What the derived code refers to, by absolute path. Not public API: no stability guarantee.

pub use crate::{Ref, RegisterError, SyncMap};
#[cfg(feature = "watch")]
pub use crate::{Watched, Watcher};
pub use core::borrow::Borrow;
pub use core::clone::Clone;
pub use core::cmp::Eq;
pub use core::hash::{BuildHasher, Hash};
pub use core::iter::{IntoIterator, Iterator};
pub use core::marker::Sized;
pub use core::ops::{ControlFlow, FnMut};
pub use core::option::Option;
pub use core::result::Result;
pub use std::sync::Arc;
pub use std::vec::Vec;

/// Turns an entry of a map of `Arc<T>` values into one without the map's own `Arc`.
pub fn unwrap_entry<K, V: Clone>((key, value): (K, Arc<V>)) -> (K, V) {
    (key, Arc::unwrap_or_clone(value))
}

/// The map operations behind the derived `item` methods.
///
/// The derive hands each map out once, from a hidden method, as `&impl RegistryMap<K, V>`; the
/// compiler checks there, once per field, that the map's key is `Eq + Hash + Clone` and its
/// hasher a `BuildHasher`, and the `item` methods need no bounds on concrete types of their own
/// (which a key that is not `Hash` would fail once per method, and which the docs would show).
pub trait RegistryMap<K, V> {
    /// [`SyncMap::try_insert`], with the error turned into a [`RegisterError`] that hands back
    /// the key and the value.
    fn register(&self, item: &'static str, key: K, value: V) -> Result<(), RegisterError<K, V>>;
    /// [`SyncMap::insert`].
    fn insert(&self, key: K, value: V) -> Option<Arc<V>>;
    /// [`SyncMap::get_arc`].
    fn get_arc<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized;
    /// [`SyncMap::get_cloned`].
    fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone;
    /// [`SyncMap::remove`].
    fn remove<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized;
    /// [`SyncMap::contains_key`].
    fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized;
    /// [`SyncMap::for_each`].
    fn for_each<B>(&self, f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B>;
    /// [`SyncMap::iter`], collected.
    fn snapshot(&self) -> Vec<(K, Arc<V>)>;
}

impl<K, V, S> RegistryMap<K, V> for SyncMap<K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher,
{
    #[inline]
    fn register(&self, item: &'static str, key: K, value: V) -> Result<(), RegisterError<K, V>> {
        match self.try_insert(key, value) {
            Ok(_) => Ok(()),
            Err(occupied) => Err(RegisterError::new(
                item,
                occupied.key,
                occupied.existing,
                occupied.value,
            )),
        }
    }

    #[inline]
    fn insert(&self, key: K, value: V) -> Option<Arc<V>> {
        SyncMap::insert(self, key, value)
    }

    #[inline]
    fn get_arc<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        SyncMap::get_arc(self, key)
    }

    #[inline]
    fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone,
    {
        SyncMap::get_cloned(self, key)
    }

    #[inline]
    fn remove<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        SyncMap::remove(self, key)
    }

    #[inline]
    fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        SyncMap::contains_key(self, key)
    }

    #[inline]
    fn for_each<B>(&self, f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        SyncMap::for_each(self, f)
    }

    #[inline]
    fn snapshot(&self) -> Vec<(K, Arc<V>)> {
        self.iter().collect()
    }
}
