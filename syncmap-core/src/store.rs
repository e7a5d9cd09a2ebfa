//! The store paths of `raw.rs`: Go's `Store` and `Swap` ([`insert_in`](SyncMap::insert_in)),
//! `LoadOrStore` ([`try_insert_in`](SyncMap::try_insert_in)) and the new key's insert under the
//! lock that both end in ([`insert_new_locked`](SyncMap::insert_new_locked)).
//!
//! Each starts as Go's does, with a lock-free attempt on the entry the read map holds (a swap,
//! or a load-or-store, that an expunged entry refuses), and falls back to the lock: the read
//! map again (an expunged entry is re-linked into the dirty map, Go's `unexpungeLocked`), then
//! the dirty map, then a new entry. While the read map is amended, the lock-free attempt first
//! asks for the dirty table's lines for the key (`ReadCell::load_for_write`), so that the
//! locked lookup does not wait for them after the read map's.

use crate::dirty::Dirty;
use crate::entry::{Entry, LoadOrStore};
use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::promote::miss_locked;
use crate::raw::{protect, MapOp};
use crate::reclaim::Guard;
use crate::shard::Shard;
use crate::slot::Val;
use core::hash::{BuildHasher, Hash};

impl<K, V, S> SyncMap<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    /// Go's `Store`/`Swap`.
    pub(crate) fn insert_in(
        &self,
        op: MapOp<'_, K, V>,
        hash: u64,
        key: K,
        value: V,
    ) -> Option<Arc<V>> {
        let guard = op.guard();
        let value = Arc::new(value);
        let shard = self.shard(hash);
        let read = shard.read.load_for_write(guard, hash);
        let value = match read.table.find(hash, &key) {
            Some(entry) => match entry.try_swap(guard, value) {
                Ok(previous) => {
                    if previous.is_none() {
                        read.add_len(1);
                    }
                    // Settled before any user code runs ("retire, never drop": unwinding must
                    // not drop a value a reader may hold)...
                    let previous = Self::end_handing_back(op, previous);
                    // ...and the key's `Drop` runs before the return value is built (a panic in
                    // a later `Drop` would leak it, rust-lang/rust#47949).
                    drop(key);
                    return previous;
                }
                Err(value) => value,
            },
            None => value,
        };
        let (previous, unused_key) = self.locked(shard, &op, |dirty| {
            let read = shard.read.load(guard);
            let (previous, unused_key) = if let Some(entry) = read.table.find(hash, &key) {
                dirty.relink_locked(guard, entry);
                (entry.swap_locked(value), Some(key))
            } else if let Some(entry) = dirty.table.as_ref().and_then(|t| t.find(hash, &key)) {
                let previous = entry.swap_locked(value);
                // Departure 7 (`promote.rs`): under the default rule, a store that only the
                // dirty map could take counts a miss, so that a key written but never read is
                // promoted and its stores go lock-free.
                if self.config.promotion.counts_dirty_stores() {
                    miss_locked(&shard.read, dirty, self.config.promotion, &op);
                }
                (previous, Some(key))
            } else {
                self.insert_new_locked(guard, shard, dirty, hash, key, value);
                (None, None)
            };
            if previous.is_none() {
                read.add_len(1);
            }
            (previous, unused_key)
        });
        let previous = Self::end_handing_back(op, previous); // before user code, as above
        drop(unused_key); // after the lock: user code
        previous
    }

    /// Go's `LoadOrStore`: `Ok(stored)`, or `Err((existing, offered, key))` handing back the
    /// offered value and the key.
    pub(crate) fn try_insert_in<'g>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<Val<'g, V>, (Val<'g, V>, V, K)> {
        let guard = op.guard();
        let shard = self.shard(hash);
        let read = shard.read.load_for_write(guard, hash);
        let value = match read.table.find(hash, &key) {
            Some(entry) => match entry.try_load_or_store(guard, value) {
                LoadOrStore::Stored(stored) => {
                    read.add_len(1);
                    drop(key); // before the return value: see `insert_in`
                    return Ok(stored);
                }
                LoadOrStore::Loaded(existing, value) => return Err((existing, value, key)),
                LoadOrStore::Expunged(value) => value,
            },
            None => value,
        };
        let (outcome, unused_key) = self.locked(shard, op, |dirty| {
            let read = shard.read.load(guard);
            let (outcome, unused_key) = if let Some(entry) = read.table.find(hash, &key) {
                dirty.relink_locked(guard, entry);
                (entry.try_load_or_store(guard, value), Some(key))
            } else if let Some(entry) = dirty.table.as_ref().and_then(|t| t.find(hash, &key)) {
                let entry = protect(guard, entry);
                let outcome = entry.try_load_or_store(guard, value);
                miss_locked(&shard.read, dirty, self.config.promotion, op);
                (outcome, Some(key))
            } else {
                let value = Arc::new(value);
                let stored: *const V = Arc::as_ptr(&value);
                self.insert_new_locked(guard, shard, dirty, hash, key, value);
                // SAFETY: `stored` was just published in a new entry of the dirty map under
                // `guard`.
                (LoadOrStore::Stored(unsafe { Val::published(stored) }), None)
            };
            if let LoadOrStore::Stored(_) = outcome {
                read.add_len(1);
            }
            (outcome, unused_key)
        });
        match (outcome, unused_key) {
            (LoadOrStore::Loaded(existing, value), Some(key)) => Err((existing, value, key)),
            (LoadOrStore::Loaded(..), None) => unreachable!("a new entry stores its value"),
            (LoadOrStore::Stored(stored), unused_key) => {
                drop(unused_key); // after the lock: user code
                Ok(stored)
            }
            (LoadOrStore::Expunged(_), _) => unreachable!("unexpunged under the lock"),
        }
    }

    /// Adds a key that is in neither map of its shard. Caller holds the shard's lock.
    fn insert_new_locked(
        &self,
        guard: &Guard<'_>,
        shard: &Shard<K, V>,
        dirty: &mut Dirty<K, V>,
        hash: u64,
        key: K,
        value: Arc<V>,
    ) {
        let read = shard.read.load(guard);
        if !read.amended() {
            // The first new key since a promotion: build the dirty map, then mark the read map
            // amended (Go's invariant: amended ⇔ the dirty map has keys the read map lacks).
            let may_carry = self.config.promotion.carried_deleted(read.table.len());
            dirty.rebuild_locked(guard, read, self.config.capacity, may_carry);
            read.set_amended_locked();
        }
        read.note_new_key_locked(hash);
        dirty
            .table
            .as_mut()
            .expect("invariant: amended implies a dirty map")
            .push_unique(Entry::new_shared(hash, key, value));
    }
}
