//! Walking the map: the cursor shared by `for_each`, `retain`, [`Iter`] and pinned walks.
//!
//! A walk runs under one guard. It first visits the read map it loaded (the snapshot is
//! immutable, so its entries can be walked without a lock). If, at its end, that read map is
//! amended (the dirty map holds keys it lacks), the cursor promotes the dirty map once, under the
//! lock, and walks the new read map, skipping every key the first snapshot held. So no key is
//! visited twice, every key present for the whole walk is visited, and a walk that stops early
//! never forces a promotion.

use crate::entry::{Entry, SharedEntry};
use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::raw::MapOp;
use crate::read::ReadOnly;
use crate::slot::Val;
use crate::table::{Entries, IntoEntries, Table};
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
    /// The shard being walked; shards are walked in order, each one as Go walks its map.
    shard: usize,
    /// The read map being walked. The snapshots are held as pointers, not references: an
    /// [`Iter`] owns both its cursor and the guard that keeps them alive, and a reference field
    /// would promise they outlive any call the iterator is passed to by value, including the
    /// one in which it is dropped and its guard reclaims them.
    read: NonNull<ReadOnly<K, V>>,
    entries: Entries<'g, K, V>,
    /// The shard's read map walked before its promotion, once the cursor has moved past it.
    walked: Option<NonNull<ReadOnly<K, V>>>,
    done: bool,
    _guard: PhantomData<&'g ReadOnly<K, V>>,
}

impl<K, V> Clone for Cursor<'_, K, V> {
    fn clone(&self) -> Self {
        Cursor {
            entries: self.entries.clone(),
            ..*self
        }
    }
}

impl<'g, K, V> Cursor<'g, K, V> {
    pub(crate) fn new<S>(map: &SyncMap<K, V, S>, op: &'g MapOp<'_, K, V>) -> Self {
        let read = map.shards[0].read.load(op.guard());
        Cursor {
            shard: 0,
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

    /// At the end of a shard's read map: moves on to the read map published by a promotion of
    /// the shard if it is amended (and not promoted for this walk yet), else to the next shard.
    /// Returns `false` at the end of the last shard.
    fn advance<S>(&mut self, map: &SyncMap<K, V, S>, op: &'g MapOp<'_, K, V>) -> bool {
        if self.walked.is_none() && self.read().amended() {
            let promoted = map.promote_for_iteration(&map.shards[self.shard], op);
            self.walked = Some(core::mem::replace(&mut self.read, NonNull::from(promoted)));
            self.entries = promoted.table.iter();
            return true;
        }
        if self.shard + 1 == map.shards.len() {
            return false;
        }
        self.shard += 1;
        let read = map.shards[self.shard].read.load(op.guard());
        self.read = NonNull::from(read);
        self.entries = read.table.iter();
        self.walked = None;
        true
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
                        if walked.table.find_key_of(entry).is_some() {
                            continue;
                        }
                        if let Some(value) = entry.load(guard) {
                            visit((entry, value, read))?;
                        }
                    }
                }
            }
            if !self.advance(map, op) {
                return ControlFlow::Continue(());
            }
        }
    }

    /// The next entry that has a value, with that value and the read map it belongs to.
    ///
    /// The common case, a live entry of a read map walked for the first time, is inlined into
    /// the caller's loop: a table step and one load. The rest (a promoted read map, whose
    /// entries are checked against the one walked before it, the move to the next read map, the
    /// end) is [`next_live_slow`](Self::next_live_slow), out of line.
    #[inline(always)]
    pub(crate) fn next_live<S>(
        &mut self,
        map: &SyncMap<K, V, S>,
        op: &'g MapOp<'_, K, V>,
    ) -> Option<Visit<'g, K, V>>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        if self.walked.is_none() {
            let read = self.read();
            for entry in self.entries.by_ref() {
                if let Some(value) = entry.load(op.guard()) {
                    return Some((entry, value, read));
                }
            }
        }
        // The slow path works on a copy, written back after: passing it `self` would let this
        // cursor's address escape, and keep its fields in memory in the caller's loop. (If it
        // unwinds, from a user `Eq` in a promoted map's check, the cursor stays where this call
        // found it: it yielded nothing since, and promoting again is a no-op, so the walk's
        // guarantees hold for a caller that catches the panic and goes on.)
        let mut cursor = self.clone();
        let visit = cursor.next_live_slow(map, op);
        *self = cursor;
        visit
    }

    /// [`next_live`](Self::next_live) in full, once the fast path has run out of entries (or
    /// finds the cursor on a promoted read map). A finished walk's table stays exhausted, so
    /// calls after the end come here and return `None` at `done`.
    #[inline(never)]
    fn next_live_slow<S>(
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
                let seen = walked.is_some_and(|walked| walked.table.find_key_of(entry).is_some());
                if seen {
                    continue;
                }
                if let Some(value) = entry.load(op.guard()) {
                    return Some((entry, value, read));
                }
            }
            if !self.advance(map, op) {
                self.done = true;
                return None;
            }
        }
    }
}

/// The walk behind [`Iter`], [`Keys`] and [`Values`]: a cursor and the operation whose guard
/// keeps what it points into alive.
struct Walk<'a, K, V, S> {
    map: &'a SyncMap<K, V, S>,
    // Declared before `op`, so it is dropped first: its references point into snapshots that
    // `op`'s guard keeps alive.
    cursor: Cursor<'a, K, V>,
    op: ManuallyDrop<MapOp<'a, K, V>>,
}

impl<'a, K, V, S> Walk<'a, K, V, S> {
    fn new(map: &'a SyncMap<K, V, S>) -> Self {
        let op = ManuallyDrop::new(map.domain.begin());
        // SAFETY: see `op_for_cursor`.
        let cursor = Cursor::new(map, unsafe { op_for_cursor(&op) });
        Walk { map, cursor, op }
    }

    /// The next live entry, turned into an owned item by `item` while the guard is held.
    #[inline]
    fn next_item<R>(&mut self, item: impl FnOnce(&K, Val<'_, V>) -> R) -> Option<R>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        crate::reclaim::finish(|| {
            // SAFETY: see `op_for_cursor`; `item` returns an owned value, so no reference into
            // a snapshot leaves this call.
            let op = unsafe { op_for_cursor(&self.op) };
            let (entry, value, _) = self.cursor.next_live(self.map, op)?;
            Some(item(&entry.key, value))
        })
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

impl<K, V, S> Drop for Walk<'_, K, V, S> {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here; the cursor's references are not used again.
        unsafe { ManuallyDrop::drop(&mut self.op) };
        // Ending the walk may have reclaimed garbage whose `Drop` panicked.
        crate::reclaim::raise_deferred_in_drop();
    }
}

/// Declares an iterator over a walk of the map: the type, its `Iterator`, `FusedIterator` and
/// `Debug` impls. Each yields owned items; the walk's guard is held while it lives.
macro_rules! walk_iterator {
    ($(#[$doc:meta])* $name:ident, $item:ty, [$($bound:tt)*], |$key:ident, $value:ident| $make:expr) => {
        $(#[$doc])*
        pub struct $name<'a, K, V, S = RandomState> {
            walk: Walk<'a, K, V, S>,
        }

        impl<K, V, S> Iterator for $name<'_, K, V, S>
        where
            K: Eq + Hash $($bound)*,
            S: BuildHasher,
        {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                self.walk.next_item(|$key, $value| $make)
            }
        }

        impl<K, V, S> FusedIterator for $name<'_, K, V, S>
        where
            K: Eq + Hash $($bound)*,
            S: BuildHasher,
        {
        }

        impl<K, V, S> fmt::Debug for $name<'_, K, V, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

walk_iterator!(
    /// An iterator over a [`SyncMap`]'s keys and values, from [`SyncMap::iter`].
    ///
    /// Yields a clone of each key and an [`Arc`] to its value. It holds the map's guard for the
    /// current thread while it lives (see [`Ref`](crate::Ref) for what that costs), so it is not
    /// `Send`. [`SyncMap::pin`] gives a walk that yields references instead, with no clones. See
    /// [`SyncMap::for_each`] for what a walk guarantees while writers run alongside it.
    Iter, (K, Arc<V>), [+ Clone], |key, value| (key.clone(), value.share())
);

walk_iterator!(
    /// An iterator over a [`SyncMap`]'s keys (clones), from [`SyncMap::keys`]. As [`Iter`].
    Keys, K, [+ Clone], |key, _value| key.clone()
);

walk_iterator!(
    /// An iterator over a [`SyncMap`]'s values (as [`Arc`]s), from [`SyncMap::values`]. As
    /// [`Iter`]; the keys need not be `Clone`.
    Values, Arc<V>, [], |_key, value| value.share()
);

/// Walks.
impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// An iterator over keys and values, with [`for_each`](Self::for_each)'s semantics. It yields
    /// owned items: a clone of the key and an `Arc` to the value.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<&str, i32> = [("a", 1), ("b", 2)].into_iter().collect();
    /// let mut items: Vec<_> = map.iter().map(|(k, v)| (k, *v)).collect();
    /// items.sort();
    /// assert_eq!(items, [("a", 1), ("b", 2)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S>
    where
        K: Clone,
    {
        Iter {
            walk: Walk::new(self),
        }
    }

    /// An iterator over the keys (clones), with [`for_each`](Self::for_each)'s semantics.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u32, &str> = [(2, "b"), (1, "a")].into_iter().collect();
    /// let mut keys: Vec<u32> = map.keys().collect();
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V, S>
    where
        K: Clone,
    {
        Keys {
            walk: Walk::new(self),
        }
    }

    /// An iterator over the values (as `Arc`s), with [`for_each`](Self::for_each)'s semantics.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u32, u64> = (0..4).map(|i| (i, u64::from(i))).collect();
    /// assert_eq!(map.values().map(|v| *v).sum::<u64>(), 6);
    /// ```
    pub fn values(&self) -> Values<'_, K, V, S> {
        Values {
            walk: Walk::new(self),
        }
    }
}

/// An owning iterator over a [`SyncMap`]'s keys and values, from its `into_iter`.
///
/// The map is taken apart: each key is moved out (no `Clone`), each value comes as the `Arc` the
/// map held (`Arc::try_unwrap` or `Arc::unwrap_or_clone` turns it into a `V`; it is unique
/// unless an `Arc` handed out earlier is still held).
pub struct IntoIter<K, V> {
    /// The shards' tables not yet started.
    tables: std::vec::IntoIter<Table<K, V>>,
    /// The entries of the table being taken apart.
    entries: IntoEntries<K, V>,
}

impl<K, V> IntoIter<K, V> {
    /// The next entry of any table.
    fn next_entry(&mut self) -> Option<SharedEntry<K, V>> {
        loop {
            if let Some(entry) = self.entries.next() {
                return Some(entry);
            }
            self.entries = self.tables.next()?.into_entries();
        }
    }
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, Arc<V>);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(entry) = self.next_entry() {
            let entry = SharedEntry::try_unwrap(entry)
                .unwrap_or_else(|_| unreachable!("a map taken apart holds each entry once"));
            if let (key, Some(value)) = entry.into_parts() {
                return Some((key, value));
            }
        }
        None
    }
}

impl<K, V> FusedIterator for IntoIter<K, V> {}

impl<K, V> Drop for IntoIter<K, V> {
    fn drop(&mut self) {
        // One by one, so that a panicking key or value `Drop` does not leak the rest (as
        // `Table`'s own drop); the first panic is raised again at the end.
        let mut first_panic = None;
        while let Some(entry) = self.next_entry() {
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(entry)));
            if let Err(payload) = dropped {
                first_panic.get_or_insert(payload);
            }
        }
        if let (Some(payload), false) = (first_panic, std::thread::panicking()) {
            std::panic::resume_unwind(payload);
        }
    }
}

impl<K, V> fmt::Debug for IntoIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

/// Takes the map apart, yielding every key and value (see [`IntoIter`]).
///
/// ```
/// use std::sync::Arc;
/// use syncmap_core::SyncMap;
///
/// struct Key(u32); // neither Clone nor Copy
/// # impl PartialEq for Key { fn eq(&self, o: &Self) -> bool { self.0 == o.0 } }
/// # impl Eq for Key {}
/// # impl std::hash::Hash for Key { fn hash<H: std::hash::Hasher>(&self, h: &mut H) { self.0.hash(h) } }
/// let map = SyncMap::new();
/// map.insert(Key(1), "one".to_string());
/// let (key, value) = map.into_iter().next().unwrap();
/// assert_eq!((key.0, Arc::unwrap_or_clone(value)), (1, "one".to_string()));
/// ```
impl<K, V, S> IntoIterator for SyncMap<K, V, S> {
    type Item = (K, Arc<V>);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        IntoIter {
            tables: self.into_tables().into_iter(),
            entries: Table::new().into_entries(),
        }
    }
}
