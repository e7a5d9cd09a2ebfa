//! The promotion rule: when the dirty map becomes the read map.
//!
//! Every lookup that has to consult the dirty map (a *miss*) is counted. Once the misses reach
//! the configured threshold (Go: the dirty map's length, so the copy that built it is paid for by
//! as many slow lookups), the dirty map is published as the new read map in one pointer store,
//! the dirty map becomes `None` and the count restarts. Iteration also promotes, once it has
//! walked the whole read map and the dirty map still holds keys it has not seen.
//!
//! Which operations count a miss (as in Go 1.20–1.23): the slow paths of `get`, `remove`
//! (found or not), `compare_and_remove` (found or not) and `compare_and_swap` (only when the key
//! is found in the dirty map), and `try_insert` finding the key only in the dirty map. New-key
//! inserts and stores to dirty-only keys count none.
//!
//! A lookup of a key that the read map's new-key filter rules out of the dirty map (see
//! `read.rs`) counts its miss without the lock, in the read snapshot; those misses are folded in
//! here, under the lock, before the rule is checked, and a lock-free miss that would make the
//! rule fire takes the locked path instead. So, with one thread, promotions happen at the same
//! miss as in Go (under concurrency, possibly a few misses later; see `read.rs`).

use crate::config::Promotion;
use crate::dirty::{Dirty, Garbage};
use crate::primitive::Arc;
use crate::read::{ReadCell, ReadOnly};
use crate::reclaim::Op;
use crate::table::Table;

impl Promotion {
    #[inline]
    pub(crate) fn due(self, misses: usize, dirty_len: usize) -> bool {
        match self {
            Promotion::DirtyLen => misses >= dirty_len,
            Promotion::AfterMisses(n) => misses >= n,
        }
    }

    /// How many more misses may be counted before the rule fires.
    #[inline]
    pub(crate) fn remaining(self, misses: usize, dirty_len: usize) -> usize {
        match self {
            Promotion::DirtyLen => dirty_len.saturating_sub(misses),
            Promotion::AfterMisses(n) => n.saturating_sub(misses),
        }
    }
}

/// Moves the misses counted without the lock (see `ReadOnly::try_count_miss`) into the dirty
/// map's count. Caller holds the lock.
pub(crate) fn fold_misses_locked<K, V>(read: &ReadOnly<K, V>, dirty: &mut Dirty<K, V>) {
    let pending = read.take_misses_locked();
    dirty.misses += pending;
    dirty.counters.misses += pending as u64;
}

/// Go's `missLocked`: counts a miss and promotes when the rule says so.
pub(crate) fn miss_locked<K, V>(
    cell: &ReadCell<K, V>,
    dirty: &mut Dirty<K, V>,
    promotion: Promotion,
    op: &Op<'_, Garbage<K, V>>,
) {
    fold_misses_locked(cell.load(op.guard()), dirty);
    dirty.misses += 1;
    dirty.counters.misses += 1;
    if promotion.due(dirty.misses, dirty.len()) {
        promote_locked(cell, dirty, op);
    }
}

/// Publishes the dirty map as the read map and retires the old one. The caller holds the lock,
/// and the current read map is amended (so a dirty map exists and holds every entry worth
/// keeping).
pub(crate) fn promote_locked<K, V>(
    cell: &ReadCell<K, V>,
    dirty: &mut Dirty<K, V>,
    op: &Op<'_, Garbage<K, V>>,
) {
    let table = dirty.table.take().unwrap_or_else(Table::new);
    let current = cell.load(op.guard());
    fold_misses_locked(current, dirty);
    let generation = Arc::clone(&current.len);
    let old = cell.swap_locked(ReadOnly::new(table, generation));
    op.retire_large(Garbage::Read(old));
    dirty.misses = 0;
    dirty.counters.promotions += 1;
}
