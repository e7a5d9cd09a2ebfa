//! The algorithm's paths, each written once, under one reclamation guard per operation.
//!
//! Every public operation of [`SyncMap`] (in `map.rs`, `iter.rs` and `pin.rs`) is a thin wrapper
//! around one function here. Each takes an [`Op`]: the guard that protects every read snapshot,
//! entry and value it loads, and the list of what it unlinks, retired when the operation ends.
//!
//! Go's shape (map.go) is kept path for path: [`probe_read`](SyncMap::probe_read) is the
//! lock-free look at the read map that every operation starts with, and
//! [`lookup_locked`](SyncMap::lookup_locked) is the slow path that re-checks the read map under
//! the lock, consults the dirty map and counts a miss according to [`Slow`], Go's rule of which
//! operation counts what. The store paths (Go's `Store`, `Swap` and `LoadOrStore`) are in
//! `store.rs`.

use crate::dirty::{Dirty, Garbage};
use crate::entry::{Entry, SharedEntry};
use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::promote::{compact_locked, miss_locked, mostly_deleted, promote_locked};
use crate::read::ReadOnly;
use crate::reclaim::{Guard, Op};
use crate::shard::Shard;
use crate::slot::Val;
use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

/// An operation of one map.
pub(crate) type MapOp<'a, K, V> = Op<'a, Garbage<K, V>>;

/// What a lookup that missed the read map does (Go 1.20–1.23).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slow {
    /// `Load`, `CompareAndDelete`: a miss whether or not the key is found. A key the read map's
    /// new-key filter rules out counts its miss without the lock.
    Load,
    /// `LoadAndDelete`: as `Load`, and the key is also unlinked from the dirty map.
    Delete,
    /// `CompareAndSwap`: a miss only if the key is found in the dirty map; a key the filter
    /// rules out counts nothing.
    Compare,
}

/// An entry found by a lookup, with the read map (and so the `len` generation) it was found
/// through.
pub(crate) type Found<'g, K, V> = (&'g Entry<K, V>, &'g ReadOnly<K, V>);

/// The lock-free path cannot answer: the dirty map must be consulted under the lock.
pub(crate) struct NeedsLock;

/// Outcome of [`SyncMap::probe_read`].
pub(crate) enum Probe<'g, K, V> {
    /// In the read map, with the snapshot (and so the `len` generation) it was found in.
    Read(&'g Entry<K, V>, &'g ReadOnly<K, V>),
    /// Certainly absent; any miss is already counted.
    Absent,
    /// Only the dirty map can tell: take the lock.
    Dirty,
}

/// An entry reached through a table, borrowed for the guard's lifetime.
///
/// Invariant (**tables release entries through the reclaimer**): an entry handle held by a table
/// is only ever released by retiring it, alone (`Garbage::Entry`) or with its table
/// (`Garbage::Read`, `Garbage::Table`); promotion moves tables, and no table is dropped while
/// the map is alive. So an entry found in a table under a guard is allocated until the guard is
/// released, even after the lock that protected the table is.
#[inline]
pub(crate) fn protect<'g, K, V>(
    _guard: &'g Guard<'_>,
    entry: &SharedEntry<K, V>,
) -> &'g Entry<K, V> {
    // SAFETY: see the invariant above: the allocation outlives the guard's lifetime `'g`.
    unsafe { &*SharedEntry::as_ptr(entry) }
}

impl<K, V, S> SyncMap<K, V, S> {
    /// Runs `f` under the shard's lock, then refreshes the lock-free miss budget of its read map.
    pub(crate) fn locked<R>(
        &self,
        shard: &Shard<K, V>,
        op: &MapOp<'_, K, V>,
        f: impl FnOnce(&mut Dirty<K, V>) -> R,
    ) -> R {
        let mut dirty = shard.write_lock();
        let result = f(&mut dirty);
        let budget = self.config.promotion.remaining(&dirty);
        shard.read.load(op.guard()).set_miss_budget_locked(budget);
        result
    }

    /// Hands a value taken out of the map to the caller, keeping the map's own count until no
    /// reader can hold the value. Call it right after the take, before any user code (a key's
    /// `Drop`, a closure) or anything else that may panic: unwinding through a taken value
    /// would drop it while a reader may still hold it (`slot.rs`, "retire, never drop").
    #[inline]
    pub(crate) fn hand_back(op: &MapOp<'_, K, V>, taken: Option<Arc<V>>) -> Option<Arc<V>> {
        taken.map(|value| {
            let handed = Arc::clone(&value);
            op.retire(Garbage::Value(value));
            handed
        })
    }

    /// Ends `op` and hands the value it took out of the map to the caller, cloning a count
    /// for the reclaimer only if a reader may still hold the value (`Op::end_keeping`): the
    /// common case writes no reference count. Like [`hand_back`](Self::hand_back), call it
    /// right after the take.
    #[inline(always)]
    pub(crate) fn end_handing_back(op: MapOp<'_, K, V>, taken: Option<Arc<V>>) -> Option<Arc<V>> {
        match taken {
            None => {
                drop(op);
                None
            }
            Some(value) => {
                Some(op.end_keeping(value, |value| Some(Garbage::Value(Arc::clone(value)))))
            }
        }
    }

    /// Publishes a shard's amended dirty map for a walk that has covered the shard's whole read
    /// map, and returns the read map to walk next.
    pub(crate) fn promote_for_iteration<'g>(
        &self,
        shard: &Shard<K, V>,
        op: &'g MapOp<'_, K, V>,
    ) -> &'g ReadOnly<K, V> {
        self.locked(shard, op, |dirty| {
            if shard.read.load(op.guard()).amended() {
                promote_locked(&shard.read, dirty, op);
            }
        });
        shard.read.load(op.guard())
    }
}

impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hash_builder.hash_one(key)
    }

    /// Go's fast path: the read map, lock-free; then whether the dirty map must be consulted.
    #[inline(always)]
    pub(crate) fn probe_read<'g, Q>(
        &self,
        guard: &'g Guard<'_>,
        hash: u64,
        key: &Q,
        slow: Slow,
    ) -> Probe<'g, K, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let read = self.shard(hash).read.load(guard);
        if let Some(entry) = read.table.find(hash, key) {
            return Probe::Read(protect(guard, entry), read);
        }
        if !read.amended() {
            return Probe::Absent;
        }
        if !read.may_be_dirty(hash)
            && (slow == Slow::Compare
                || !self.config.promotion.counts_filtered_misses()
                || read.try_count_miss())
        {
            return Probe::Absent;
        }
        Probe::Dirty
    }

    /// Go's slow path: under the lock, re-checks the read map, then consults the dirty map and
    /// counts a miss as `slow` says (which may promote).
    pub(crate) fn lookup_locked<'g, Q>(
        &self,
        shard: &Shard<K, V>,
        op: &'g MapOp<'_, K, V>,
        dirty: &mut Dirty<K, V>,
        hash: u64,
        key: &Q,
        slow: Slow,
    ) -> Option<Found<'g, K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let guard = op.guard();
        let read = shard.read.load(guard);
        if let Some(entry) = read.table.find(hash, key) {
            return Some((protect(guard, entry), read));
        }
        if !read.amended() {
            return None;
        }
        let found = match slow {
            Slow::Delete => dirty
                .table
                .as_mut()
                .and_then(|t| t.remove(hash, key))
                .map(|entry| {
                    let found = protect(guard, &entry);
                    op.retire(Garbage::Entry(entry));
                    found
                }),
            Slow::Load | Slow::Compare => dirty
                .table
                .as_ref()
                .and_then(|t| t.find(hash, key))
                .map(|entry| protect(guard, entry)),
        };
        if slow != Slow::Compare || found.is_some() {
            miss_locked(&shard.read, dirty, self.config.promotion, op);
        }
        found.map(|entry| (entry, read))
    }

    /// An entry for an operation that acts on one existing entry: the read map lock-free, then,
    /// if only the dirty map can tell, the slow path under the lock. `probe` is the rule for a
    /// key the new-key filter rules out (`Load` or `Compare`), `locked` the slow path's.
    pub(crate) fn find<'g, Q>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
        probe: Slow,
        locked: Slow,
    ) -> Option<Found<'g, K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self.probe_read(op.guard(), hash, key, probe) {
            Probe::Read(entry, read) => Some((entry, read)),
            Probe::Absent => None,
            Probe::Dirty => {
                let shard = self.shard(hash);
                self.locked(shard, op, |dirty| {
                    self.lookup_locked(shard, op, dirty, hash, key, locked)
                })
            }
        }
    }

    /// Go's `Load`.
    #[inline(always)]
    pub(crate) fn load<'g, Q>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
    ) -> Option<Val<'g, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.load_read(op.guard(), hash, key)
            .unwrap_or_else(|NeedsLock| self.load_slow(op, hash, key))
    }

    /// The lock-free part of Go's `Load`, under a bare guard (no operation is started, so a hit
    /// costs only the guard): the answer, or `Err` if only the dirty map can tell.
    #[inline(always)]
    pub(crate) fn load_read<'g, Q>(
        &self,
        guard: &'g Guard<'_>,
        hash: u64,
        key: &Q,
    ) -> Result<Option<Val<'g, V>>, NeedsLock>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self.probe_read(guard, hash, key, Slow::Load) {
            Probe::Read(entry, _) => Ok(entry.load(guard)),
            Probe::Absent => Ok(None),
            Probe::Dirty => Err(NeedsLock),
        }
    }

    /// Go's `Load` slow path (the lock, the dirty map, a miss).
    #[cold]
    pub(crate) fn load_slow<'g, Q>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
    ) -> Option<Val<'g, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let shard = self.shard(hash);
        let (entry, _) = self.locked(shard, op, |dirty| {
            self.lookup_locked(shard, op, dirty, hash, key, Slow::Load)
        })?;
        entry.load(op.guard())
    }

    /// Go's `LoadAndDelete`: the stored key and the removed value.
    pub(crate) fn remove_in<'g, Q>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
    ) -> Option<(&'g K, Arc<V>)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let (entry, read) = self.find(op, hash, key, Slow::Load, Slow::Delete)?;
        // Retired first, so that nothing after the take can unwind through it.
        let removed = Self::hand_back(op, entry.delete(op.guard()))?;
        self.note_removed(op, hash, read);
        Some((&entry.key, removed))
    }

    /// Go's `LoadAndDelete` for a caller that needs only the value (`remove`). The read map is
    /// probed under a bare guard, which an operation adopts only once a value has been taken
    /// out or the lock is needed: a key that is absent or whose entry is already deleted costs
    /// what a `get` miss costs (Go's LoadAndDeleteCollision and DeleteCollision delete one key over and over).
    pub(crate) fn remove_value<Q>(&self, hash: u64, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let guard = self.domain.enter();
        let (removed, compact) = match self.probe_read(&guard, hash, key, Slow::Load) {
            Probe::Read(entry, read) => {
                let removed = entry.delete(&guard)?;
                (removed, count_removed(read))
            }
            Probe::Absent => return None,
            Probe::Dirty => {
                let op = self.domain.adopt(guard);
                let (entry, read) = self.find(&op, hash, key, Slow::Load, Slow::Delete)?;
                let removed = entry.delete(op.guard())?;
                let compact = count_removed(read);
                return self.end_removing(op, hash, removed, compact);
            }
        };
        // From here the value is the operation's to retire (`adopt`: as if it had begun with
        // the guard).
        self.end_removing(self.domain.adopt(guard), hash, removed, compact)
    }

    /// Ends a removal that took `removed` out of the key's entry (already counted), handing it
    /// to the caller ([`end_handing_back`](Self::end_handing_back)); first, if `compact`,
    /// compacts the key's shard, with the value retired before that work.
    #[inline(always)]
    pub(crate) fn end_removing(
        &self,
        op: MapOp<'_, K, V>,
        hash: u64,
        removed: Arc<V>,
        compact: bool,
    ) -> Option<Arc<V>> {
        if compact {
            let removed = Self::hand_back(&op, Some(removed));
            self.compact(&op, self.shard(hash));
            return removed;
        }
        Self::end_handing_back(op, Some(removed))
    }

    /// Counts a value removed from an entry found through `read` and, if that leaves the key's
    /// shard mostly deleted entries, compacts the shard (see `promote::compact_locked`).
    #[inline]
    pub(crate) fn note_removed(&self, op: &MapOp<'_, K, V>, hash: u64, read: &ReadOnly<K, V>) {
        if count_removed(read) {
            self.compact(op, self.shard(hash));
        }
    }

    /// After a walk that removed values (`retain`): compacts every shard it left mostly
    /// deleted, as a removal does (after the walk, so no cursor sees a read map replaced).
    pub(crate) fn compact_mostly_deleted(&self, op: &MapOp<'_, K, V>) {
        for shard in &*self.shards {
            if mostly_deleted(shard.read.load(op.guard())) {
                self.compact(op, shard);
            }
        }
    }

    #[cold]
    fn compact(&self, op: &MapOp<'_, K, V>, shard: &Shard<K, V>) {
        self.locked(shard, op, |dirty| {
            let read = shard.read.load(op.guard());
            if mostly_deleted(read) {
                compact_locked(&shard.read, dirty, op);
            }
        });
    }

    /// Go's `CompareAndSwap`. `V::eq` runs outside the lock (Go runs it under the lock).
    ///
    /// The lock-free part runs under a bare guard, adopted by an operation only once a value
    /// has been swapped out: an absent key or a failed comparison costs what a `get` costs.
    pub(crate) fn compare_and_swap_in<Q>(
        &self,
        hash: u64,
        key: &Q,
        current: &V,
        new: V,
    ) -> Result<Arc<V>, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: PartialEq,
    {
        let guard = self.domain.enter();
        let previous = match self.probe_read(&guard, hash, key, Slow::Compare) {
            Probe::Read(entry, _) => entry.compare_and_swap(&guard, current, new)?,
            Probe::Absent => return Err(new),
            Probe::Dirty => {
                drop(guard);
                return self.compare_and_swap_locked(self.domain.begin(), hash, key, current, new);
            }
        };
        let op = self.domain.adopt(guard);
        Ok(Self::end_handing_back(op, Some(previous)).expect("a value"))
    }

    /// [`compare_and_swap_in`](Self::compare_and_swap_in) for a key only the dirty map can
    /// answer for (the read map is looked at again, under the lock).
    #[cold]
    fn compare_and_swap_locked<Q>(
        &self,
        op: MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
        current: &V,
        new: V,
    ) -> Result<Arc<V>, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: PartialEq,
    {
        let Some((entry, _)) = self.find(&op, hash, key, Slow::Compare, Slow::Compare) else {
            return Err(new);
        };
        let previous = entry.compare_and_swap(op.guard(), current, new)?;
        Ok(Self::end_handing_back(op, Some(previous)).expect("a value"))
    }

    /// Go's `CompareAndDelete`.
    pub(crate) fn compare_and_remove_in<Q>(
        &self,
        op: MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
        current: &V,
    ) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: PartialEq,
    {
        let (entry, read) = self.find(&op, hash, key, Slow::Load, Slow::Load)?;
        let removed = entry.compare_and_delete(op.guard(), current)?;
        let compact = count_removed(read);
        self.end_removing(op, hash, removed, compact)
    }

    /// Go's `Clear`, shard by shard: each shard is cleared atomically under its own lock.
    pub(crate) fn clear_in(&self, op: &MapOp<'_, K, V>) {
        for shard in &*self.shards {
            let read = shard.read.load(op.guard());
            if read.table.is_empty() && !read.amended() {
                continue;
            }
            self.locked(shard, op, |dirty| {
                // Also resets the miss count: don't promote the cleared dirty map right away
                // (Go's comment).
                let read = shard.read.load(op.guard());
                if read.table.is_empty() && dirty.clears_in_place() {
                    // Every key is in the (small) dirty map: the snapshot stays (`read.rs`,
                    // "Clear in place").
                    let removed = dirty.clear_in_place_locked(|garbage| op.retire_large(garbage));
                    read.clear_in_place_locked(removed);
                    return;
                }
                dirty.clear_locked(read, |garbage| op.retire_large(garbage));
                op.retire_large(Garbage::Read(shard.read.swap_locked(ReadOnly::empty())));
            });
        }
    }
}

/// Counts a value removed from an entry found through `read`, and says whether that left the
/// shard's read map mostly deleted entries (to compact, once under an operation).
#[inline]
pub(crate) fn count_removed<K, V>(read: &ReadOnly<K, V>) -> bool {
    read.add_len(-1);
    mostly_deleted(read)
}
