//! Walking the map: the cursor shared by `for_each`, `retain` and [`Iter`].
//!
//! A walk first visits the read map it loaded, by index (the snapshot is immutable, so indices
//! are stable). If, at its end, that read map is amended (the dirty map holds keys it lacks), the
//! cursor promotes the dirty map once, under the lock, and walks the new read map, skipping every
//! key the first snapshot held. So no key is visited twice, every key present for the whole walk
//! is visited, and a walk that stops early never forces a promotion.

use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::read::ReadOnly;
use crate::slot::Shared;
use crate::table::Bucket;
use crate::value::Ref;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use std::collections::hash_map::RandomState;

/// A bucket to visit, with the read map (and so the generation) it belongs to.
pub(crate) type Visit<'a, K, V> = (&'a Bucket<K, V>, &'a ReadOnly<K, V>);

pub(crate) struct Cursor<K, V> {
    read: Shared<ReadOnly<K, V>>,
    next: usize,
    /// The read map walked before the promotion, once the cursor has moved past it.
    walked: Option<Shared<ReadOnly<K, V>>>,
    done: bool,
}

impl<K, V> Cursor<K, V> {
    pub(crate) fn new<S>(map: &SyncMap<K, V, S>) -> Self {
        Cursor {
            read: map.read_cell().load_full(),
            next: 0,
            walked: None,
            done: false,
        }
    }

    /// The next bucket to visit, with the read map it belongs to.
    pub(crate) fn next_bucket<S>(&mut self, map: &SyncMap<K, V, S>) -> Option<Visit<'_, K, V>>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        let at = self.next_index(map)?;
        Some((&self.read.table.buckets()[at], &self.read))
    }

    fn next_index<S>(&mut self, map: &SyncMap<K, V, S>) -> Option<usize>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        loop {
            if self.done {
                return None;
            }
            let buckets = self.read.table.buckets();
            if let Some(bucket) = buckets.get(self.next) {
                let at = self.next;
                self.next += 1;
                let seen = self
                    .walked
                    .as_ref()
                    .is_some_and(|walked| walked.table.find(bucket.hash, &bucket.key).is_some());
                if !seen {
                    return Some(at);
                }
                continue;
            }
            if self.walked.is_some() || !self.read.amended() {
                self.done = true;
                return None;
            }
            let promoted = map.promote_for_iteration();
            self.walked = Some(core::mem::replace(&mut self.read, promoted));
            self.next = 0;
        }
    }
}

/// An iterator over a [`SyncMap`]'s keys and values, from [`SyncMap::iter`].
///
/// Yields a clone of each key and an [`Arc`] to its value. See [`SyncMap::for_each`] for what a
/// walk guarantees while writers run alongside it.
pub struct Iter<'a, K, V, S = RandomState> {
    map: &'a SyncMap<K, V, S>,
    cursor: Cursor<K, V>,
}

impl<'a, K, V, S> Iter<'a, K, V, S> {
    pub(crate) fn new(map: &'a SyncMap<K, V, S>) -> Self {
        Iter {
            map,
            cursor: Cursor::new(map),
        }
    }
}

impl<K, V, S> Iterator for Iter<'_, K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher,
{
    type Item = (K, Arc<V>);

    fn next(&mut self) -> Option<Self::Item> {
        crate::slot::finish(|| loop {
            let (bucket, _) = self.cursor.next_bucket(self.map)?;
            if let Some(value) = bucket.entry.load() {
                return Some((bucket.key.clone(), Ref::into_arc(value)));
            }
        })
    }
}

impl<K, V, S> FusedIterator for Iter<'_, K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher,
{
}

impl<K, V, S> fmt::Debug for Iter<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("position", &self.cursor.next)
            .finish_non_exhaustive()
    }
}
