//! The dirty map: keys not yet in the read map, guarded by the map's one mutex.
//!
//! Go's invariants, kept here:
//!
//! - **amended ⇔ dirty holds a key the read map lacks.** `amended` is set right after the first
//!   new key goes into a fresh dirty map (see `SyncMap::insert_new_locked`).
//! - **A dirty map, when it exists, holds every non-expunged entry of the read map, as the same
//!   `Arc<Entry>`**, so promoting it is one pointer publish. [`Dirty::rebuild_locked`] keeps this
//!   by copying all live and deleted read entries and expunging the deleted ones it leaves out;
//!   from then on, every entry that gets a value again is either still in the dirty map or is
//!   unexpunged and re-inserted under the lock.
//! - **No user code runs under the lock that can call back into the map**, except the key's `Eq`
//!   (lookups) and `Clone` (rebuilds). Everything the lock holder removes (keys, entries, whole
//!   maps) is moved into [`Garbage`] and dropped after the lock is released, so a `Drop` impl may
//!   use the map freely.

use crate::entry::{Entry, EntryState};
use crate::primitive::Arc;
use crate::read::ReadOnly;
use crate::slot::{Shared, Slot};
use crate::stats::Counters;
use crate::table::{Bucket, Table};

/// State behind the map's mutex.
pub(crate) struct Dirty<K, V> {
    /// `None` is Go's `dirty == nil`: the read map is complete and no new key has arrived since
    /// the last promotion.
    pub(crate) table: Option<Table<K, V>>,
    /// Lookups that had to consult the dirty map since the last promotion (Go's `misses`).
    pub(crate) misses: usize,
    pub(crate) counters: Counters,
}

impl<K, V> Dirty<K, V> {
    pub(crate) fn new() -> Self {
        Dirty {
            table: None,
            misses: 0,
            counters: Counters::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.as_ref().map_or(0, Table::len)
    }

    /// Go's `if e.unexpungeLocked() { m.dirty[key] = e }`, for `key`, found in the read map with
    /// `entry`, before a store to it: an expunged entry is revived (expunged → deleted) and put
    /// back into the dirty map under `key`, which an expunged entry guarantees exists; otherwise
    /// the dirty map, if any, already holds the entry, and `key` is retired.
    pub(crate) fn relink_locked(
        &mut self,
        hash: u64,
        key: K,
        entry: &Arc<Entry<V>>,
        garbage: &mut Garbage<K, V>,
    ) {
        if entry.unexpunge_locked(&mut garbage.handles) {
            self.table
                .as_mut()
                .expect("invariant: an expunged entry implies a dirty map")
                .push_unique(Bucket {
                    hash,
                    key,
                    entry: Arc::clone(entry),
                });
        } else {
            garbage.keys.push(key);
        }
    }

    /// Go's `dirtyLocked`: if there is no dirty map, builds one from the read map, copying every
    /// entry that still has a value or is merely deleted and expunging the deleted ones.
    ///
    /// User code (`K::clone`) runs only in the first phase, before anything is changed; if it
    /// panics, the map is as it was. The second phase expunges and assembles without user code.
    pub(crate) fn rebuild_locked(
        &mut self,
        read: &ReadOnly<K, V>,
        capacity: usize,
        garbage: &mut Garbage<K, V>,
    ) where
        K: Clone,
    {
        if self.table.is_some() {
            return;
        }
        // Phase 1: copy the candidates (may panic in K::clone; nothing has changed yet). Each
        // slot is loaded once: an entry seen with a value is kept without a second look (if it is
        // deleted meanwhile, it is a deleted entry that the dirty map holds, which is allowed);
        // only the ones seen deleted are offered to `try_expunge_locked`.
        let candidates: Vec<(Bucket<K, V>, bool)> = read
            .table
            .buckets()
            .iter()
            .filter_map(|bucket| {
                let state = bucket.entry.state(&mut garbage.handles);
                (state != EntryState::Expunged).then(|| {
                    let copy = Bucket {
                        hash: bucket.hash,
                        key: bucket.key.clone(),
                        entry: Arc::clone(&bucket.entry),
                    };
                    (copy, state == EntryState::Deleted)
                })
            })
            .collect();
        // Phase 2: no user code from here on.
        let mut keep = Vec::with_capacity(candidates.len());
        let mut expunged = Vec::new();
        for (bucket, seen_deleted) in candidates {
            if seen_deleted && bucket.entry.try_expunge_locked(&mut garbage.handles) {
                expunged.push(bucket);
            } else {
                keep.push(bucket);
            }
        }
        self.counters.dirty_rebuilds += 1;
        self.counters.entries_copied += keep.len() as u64;
        self.counters.entries_expunged += expunged.len() as u64;
        let capacity = capacity.max(keep.len() + 1);
        self.table = Some(Table::from_buckets(keep, capacity));
        garbage.buckets.extend(expunged);
    }
}

/// What the lock holder removed; dropped only after the lock is released, because dropping keys
/// and values runs user code that may call back into the map.
pub(crate) struct Garbage<K, V> {
    /// Value handles loaded under the lock (see [`Release`](crate::entry::Release)).
    pub(crate) handles: Vec<Slot<V>>,
    pub(crate) buckets: Vec<Bucket<K, V>>,
    pub(crate) keys: Vec<K>,
    pub(crate) reads: Vec<Shared<ReadOnly<K, V>>>,
    pub(crate) tables: Vec<Table<K, V>>,
}

impl<K, V> Garbage<K, V> {
    pub(crate) fn new() -> Self {
        Garbage {
            handles: Vec::new(),
            buckets: Vec::new(),
            keys: Vec::new(),
            reads: Vec::new(),
            tables: Vec::new(),
        }
    }
}
