//! Walking the map: the cursor shared by `for_each`, `retain`, [`Iter`] and pinned walks.
//!
//! A walk runs under one guard. It first visits the read map it loaded (the snapshot is
//! immutable, so its entries can be walked without a lock). If, at its end, that read map is
//! amended (the dirty map holds keys it lacks), the cursor promotes the dirty map once, under the
//! lock, and walks the new read map, skipping every key the first snapshot held. So no key is
//! visited twice, every key present for the whole walk is visited, and a walk that stops early
//! never forces a promotion.

use crate::entry::Entry;
use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::raw::MapOp;
use crate::read::ReadOnly;
use crate::slot::Val;
use crate::table::Entries;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::ControlFlow;
use core::ptr::NonNull;
use std::collections::hash_map::RandomState;

/// A live entry being visited: the entry, its value (loaded during the walk) and the read map
/// (and so the `len` generation) it belongs to.
pub(crate) type Visit<'g, K, V> = (&'g Entry<K, V>, Val<'g, V>, &'g ReadOnly<K, V>);

pub(crate) struct Cursor<'g, K, V> {
    /// The read map being walked. The snapshots are held as pointers, not references: an
    /// [`Iter`] owns both its cursor and the guard that keeps them alive, and a reference field
    /// would promise they outlive any call the iterator is passed to by value, including the
    /// one in which it is dropped and its guard reclaims them.
    read: NonNull<ReadOnly<K, V>>,
    entries: Entries<'g, K, V>,
    /// The read map walked before the promotion, once the cursor has moved past it.
    walked: Option<NonNull<ReadOnly<K, V>>>,
    done: bool,
    _guard: PhantomData<&'g ReadOnly<K, V>>,
}

impl<'g, K, V> Cursor<'g, K, V> {
    pub(crate) fn new<S>(map: &SyncMap<K, V, S>, op: &'g MapOp<'_, K, V>) -> Self {
        let read = map.read.load(op.guard());
        Cursor {
            read: NonNull::from(read),
            entries: read.table.iter(),
            walked: None,
            done: false,
            _guard: PhantomData,
        }
    }

    #[inline]
    fn read(&self) -> &'g ReadOnly<K, V> {
        // SAFETY: loaded under the guard of the operation this cursor walks for `'g`, which
        // keeps the snapshot alive (retired read maps are freed only after it is released).
        unsafe { self.read.as_ref() }
    }

    #[inline]
    fn walked(&self) -> Option<&'g ReadOnly<K, V>> {
        // SAFETY: as for `read`.
        self.walked.map(|walked| unsafe { walked.as_ref() })
    }

    /// Moves on to the read map published by a promotion.
    fn promote<S>(&mut self, map: &SyncMap<K, V, S>, op: &'g MapOp<'_, K, V>) {
        let promoted = map.promote_for_iteration(op);
        self.walked = Some(core::mem::replace(&mut self.read, NonNull::from(promoted)));
        self.entries = promoted.table.iter();
    }

    /// Visits every remaining live entry with `visit` until it breaks: the internal-iteration
    /// form of [`next_live`](Self::next_live), for `for_each` and `retain`, with a tight loop
    /// over each read map's table (no batching: the per-entry instructions dominate there).
    #[inline]
    pub(crate) fn walk<S, B>(
        mut self,
        map: &SyncMap<K, V, S>,
        op: &'g MapOp<'_, K, V>,
        mut visit: impl FnMut(Visit<'g, K, V>) -> ControlFlow<B>,
    ) -> ControlFlow<B>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        let guard = op.guard();
        loop {
            let read = self.read();
            match self.walked() {
                None => {
                    for entry in self.entries.by_ref() {
                        if let Some(value) = entry.load(guard) {
                            visit((entry, value, read))?;
                        }
                    }
                }
                Some(walked) => {
                    for entry in self.entries.by_ref() {
                        if walked.table.find(entry.hash, &entry.key).is_some() {
                            continue;
                        }
                        if let Some(value) = entry.load(guard) {
                            visit((entry, value, read))?;
                        }
                    }
                }
            }
            if self.walked.is_some() || !self.read().amended() {
                return ControlFlow::Continue(());
            }
            self.promote(map, op);
        }
    }

    /// The next entry that has a value, with that value and the read map it belongs to.
    #[inline]
    pub(crate) fn next_live<S>(
        &mut self,
        map: &SyncMap<K, V, S>,
        op: &'g MapOp<'_, K, V>,
    ) -> Option<Visit<'g, K, V>>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        loop {
            if self.done {
                return None;
            }
            let (read, walked) = (self.read(), self.walked());
            for entry in self.entries.by_ref() {
                let seen = walked
                    .is_some_and(|walked| walked.table.find(entry.hash, &entry.key).is_some());
                if seen {
                    continue;
                }
                if let Some(value) = entry.load(op.guard()) {
                    return Some((entry, value, read));
                }
            }
            if walked.is_some() || !read.amended() {
                self.done = true;
                return None;
            }
            self.promote(map, op);
        }
    }
}

/// An iterator over a [`SyncMap`]'s keys and values, from [`SyncMap::iter`].
///
/// Yields a clone of each key and an [`Arc`] to its value. It holds the map's guard for the
/// current thread while it lives (see [`Ref`](crate::Ref) for what that costs), so it is not
/// `Send`. [`SyncMap::pin`] gives a walk that yields references instead, with no clones. See
/// [`SyncMap::for_each`] for what a walk guarantees while writers run alongside it.
pub struct Iter<'a, K, V, S = RandomState> {
    map: &'a SyncMap<K, V, S>,
    // Declared before `op`, so it is dropped first: its references point into snapshots that
    // `op`'s guard keeps alive.
    cursor: Cursor<'a, K, V>,
    op: ManuallyDrop<MapOp<'a, K, V>>,
}

impl<'a, K, V, S> Iter<'a, K, V, S> {
    pub(crate) fn new(map: &'a SyncMap<K, V, S>) -> Self {
        let op = ManuallyDrop::new(map.domain.begin());
        // SAFETY: see `op_for_cursor`.
        let cursor = Cursor::new(map, unsafe { op_for_cursor(&op) });
        Iter { map, cursor, op }
    }
}

/// Extends the borrow of an iterator's own operation to the iterator's lifetime.
///
/// # Safety
///
/// The cursor built or advanced with the result keeps only references into read snapshots
/// (heap allocations that `op`'s guard keeps alive, wherever `op` itself moves), never to `op`;
/// the caller keeps `op` alive, in the same iterator, for as long as that cursor exists, and
/// never returns those references to its own caller.
unsafe fn op_for_cursor<'a, K, V>(op: &MapOp<'a, K, V>) -> &'a MapOp<'a, K, V> {
    // SAFETY: the caller's contract above.
    unsafe { &*(op as *const MapOp<'a, K, V>) }
}

impl<K, V, S> Iterator for Iter<'_, K, V, S>
where
    K: Eq + Hash + Clone,
    S: BuildHasher,
{
    type Item = (K, Arc<V>);

    fn next(&mut self) -> Option<Self::Item> {
        crate::reclaim::finish(|| {
            // SAFETY: see `op_for_cursor`; the item returned is owned.
            let op = unsafe { op_for_cursor(&self.op) };
            let (entry, value, _) = self.cursor.next_live(self.map, op)?;
            let value = value.share();
            Some((entry.key.clone(), value))
        })
    }
}

impl<K, V, S> Drop for Iter<'_, K, V, S> {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here; the cursor's references are not used again.
        unsafe { ManuallyDrop::drop(&mut self.op) };
        // Ending the walk may have reclaimed garbage whose `Drop` panicked.
        crate::reclaim::raise_deferred_in_drop();
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
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}
