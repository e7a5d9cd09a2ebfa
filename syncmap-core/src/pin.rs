//! A pinned read session: [`Pinned`], from [`SyncMap::pin`].

use crate::entry::Entry;
use crate::iter::Cursor;
use crate::map::SyncMap;
use crate::raw::{MapOp, Slow};
use crate::slot::Val;
use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::mem::ManuallyDrop;
use std::collections::hash_map::RandomState;

/// A read session over a [`SyncMap`]: every lookup and walk through it shares one guard, so a
/// lookup costs no more than the hash and the probe. From [`SyncMap::pin`].
///
/// Lookups return references that live as long as the session. Like a [`Ref`](crate::Ref), a
/// session delays the dropping of whatever the map's writers replace or remove while it is held,
/// and it is not `Send`.
///
/// ```compile_fail
/// use syncmap_core::SyncMap;
/// let map: SyncMap<u32, u32> = SyncMap::new();
/// std::thread::scope(|s| {
///     let pinned = map.pin();
///     s.spawn(move || pinned.get(&1).copied()); // a session cannot move to another thread
/// });
/// ```
pub struct Pinned<'a, K, V, S = RandomState> {
    map: &'a SyncMap<K, V, S>,
    op: ManuallyDrop<MapOp<'a, K, V>>,
}

impl<'a, K, V, S> Pinned<'a, K, V, S> {
    pub(crate) fn new(map: &'a SyncMap<K, V, S>) -> Self {
        Pinned {
            map,
            op: ManuallyDrop::new(map.domain.begin()),
        }
    }

    /// The map this session reads.
    pub fn map(&self) -> &'a SyncMap<K, V, S> {
        self.map
    }
}

impl<K, V, S> Pinned<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// The value of `key` ([`SyncMap::get`]'s semantics and miss accounting).
    #[doc(alias = "Load")]
    #[inline(always)]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map
            .load(&self.op, self.map.hash(key), key)
            .map(Val::get)
    }

    /// The stored key equal to `key` and its value ([`SyncMap::get`]'s semantics and miss
    /// accounting), as references: std's `HashMap::get_key_value`.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<String, u32> = [("a".to_string(), 1)].into_iter().collect();
    /// let pinned = map.pin();
    /// assert_eq!(pinned.get_key_value("a"), Some((&"a".to_string(), &1)));
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (entry, _) =
            self.map
                .find(&self.op, self.map.hash(key), key, Slow::Load, Slow::Load)?;
        Some((&entry.key, entry.load(self.op.guard())?.get()))
    }

    /// Whether `key` has a value ([`SyncMap::contains_key`]).
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// The keys and values, as references, with [`SyncMap::for_each`]'s guarantees.
    pub fn iter(&self) -> PinnedIter<'_, K, V, S> {
        PinnedIter {
            map: self.map,
            op: &self.op,
            cursor: Cursor::new(self.map, &self.op),
        }
    }
}

impl<K, V, S> Drop for Pinned<'_, K, V, S> {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here.
        unsafe { ManuallyDrop::drop(&mut self.op) };
        // Ending the session may have reclaimed garbage whose `Drop` panicked.
        crate::reclaim::raise_deferred_in_drop();
    }
}

impl<K, V, S> fmt::Debug for Pinned<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pinned").finish_non_exhaustive()
    }
}

/// An iterator over references to a map's keys and values, from [`Pinned::iter`].
pub struct PinnedIter<'p, K, V, S = RandomState> {
    map: &'p SyncMap<K, V, S>,
    op: &'p MapOp<'p, K, V>,
    cursor: Cursor<'p, K, V>,
}

impl<'p, K, V, S> Iterator for PinnedIter<'p, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    type Item = (&'p K, &'p V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (entry, value, _): (&'p Entry<K, V>, Val<'p, V>, _) =
            self.cursor.next_live(self.map, self.op)?;
        Some((&entry.key, value.get()))
    }
}

impl<K, V, S> FusedIterator for PinnedIter<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
}

impl<K, V, S> fmt::Debug for PinnedIter<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedIter").finish_non_exhaustive()
    }
}
