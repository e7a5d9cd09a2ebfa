//! The dirty map: keys not yet in the read map, guarded by the map's one mutex.
//!
//! Go's invariants, kept here:
//!
//! - **amended ⇔ dirty holds a key the read map lacks.** `amended` is set right after the first
//!   new key goes into a fresh dirty map (see `SyncMap::insert_new_locked`).
//! - **A dirty map, when it exists, holds every non-expunged entry of the read map, as the same
//!   entry (a `SharedEntry` handle to it)**, so promoting it is one pointer publish.
//!   [`Dirty::rebuild_locked`] keeps this by copying all live and deleted read entries and
//!   expunging the deleted ones it leaves out; from then on, every entry that gets a value again
//!   is either still in the dirty map or is unexpunged and re-inserted under the lock.
//! - **After `clear`, the dirty map is absent or empty** (Go's is absent: a small table stays,
//!   emptied, for the next new key; see [`Dirty::clear_locked`]).
//! - **No user code runs under the lock that can call back into the map**, except the key's `Eq`
//!   (lookups). Everything the lock holder unlinks (values, entries, whole tables) becomes
//!   [`Garbage`], retired through the reclaimer after the lock is released, so a `Drop` impl may
//!   use the map freely.

use crate::entry::{EntryState, SharedEntry};
use crate::primitive::Arc;
use crate::read::{ReadOnly, RetiredRead};
use crate::reclaim::Guard;
use crate::stats::Counters;
use crate::table::Table;

/// State behind the map's mutex.
pub(crate) struct Dirty<K, V> {
    /// `None` is Go's `dirty == nil`: the read map is complete and no new key has arrived since
    /// the last promotion.
    pub(crate) table: Option<Table<K, V>>,
    /// Lookups that had to consult the dirty map since the last promotion (Go's `misses`).
    pub(crate) misses: usize,
    /// Entries of `table` that came from the read map: copied by the rebuild that built it, or
    /// re-linked since (expunged entries given a value again). The others are new keys, each
    /// added under the lock since that rebuild (see [`Promotion::Amortized`]).
    ///
    /// [`Promotion::Amortized`]: crate::Promotion::Amortized
    inherited: usize,
    /// Misses counted since the dirty map last grew (a new key or a re-linked entry), and its
    /// length then: a long run says the map is being read rather than filled.
    quiet_misses: usize,
    quiet_len: usize,
    pub(crate) counters: Counters,
}

impl<K, V> Dirty<K, V> {
    pub(crate) fn new() -> Self {
        Dirty {
            table: None,
            misses: 0,
            inherited: 0,
            quiet_misses: 0,
            quiet_len: 0,
            counters: Counters::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.as_ref().map_or(0, Table::len)
    }

    /// Entries of the dirty map that came from the read map (copied or re-linked); the rest are
    /// new keys, each added under the lock.
    pub(crate) fn inherited(&self) -> usize {
        if self.table.is_some() {
            self.inherited
        } else {
            0
        }
    }

    /// Counts one miss (Go's `misses++`), and one more miss since the dirty map last grew.
    pub(crate) fn count_miss(&mut self) {
        let len = self.len();
        if len > self.quiet_len {
            self.quiet_misses = 0;
        }
        self.quiet_len = len;
        self.quiet_misses += 1;
        self.misses += 1;
        self.counters.misses += 1;
    }

    /// Misses counted since the dirty map last grew.
    pub(crate) fn quiet_misses(&self) -> usize {
        self.quiet_misses
    }

    /// Go's `if e.unexpungeLocked() { m.dirty[key] = e }`, for an entry found in the read map,
    /// before a store to it: an expunged entry is revived (expunged → deleted) and put back into
    /// the dirty map, which an expunged entry guarantees exists; otherwise the dirty map, if any,
    /// already holds the entry.
    pub(crate) fn relink_locked(&mut self, guard: &Guard<'_>, entry: &SharedEntry<K, V>) {
        if entry.unexpunge_locked(guard) {
            self.table
                .as_mut()
                .expect("invariant: an expunged entry implies a dirty map")
                .push_unique(SharedEntry::clone(entry));
            self.inherited += 1;
        }
    }

    /// Go's `dirtyLocked`: if there is no dirty map, builds one from the read map, copying every
    /// entry that still has a value or is merely deleted and expunging the deleted ones. Copies
    /// entry pointers only; runs no user code.
    pub(crate) fn rebuild_locked(
        &mut self,
        guard: &Guard<'_>,
        read: &ReadOnly<K, V>,
        capacity: usize,
    ) {
        if self.table.is_some() {
            return;
        }
        // First the entries to keep (pointers, with their short hashes, so that the second loop
        // reads no entry again), so the table is sized for them, not for the read map's deleted
        // entries (after a delete-all, that would be a table for every key).
        //
        // Prefetched: each kept entry's count increment is a locked instruction, which waits for
        // the entry's cache line (BENCHMARKS.md, "Rebuilds that do not wait for each entry").
        let mut kept = Vec::new();
        let mut expunged = 0;
        for entry in read.table.iter_prefetched() {
            // An entry seen with a value is kept without a second look (if it is deleted
            // meanwhile, it is a deleted entry that the dirty map holds, which is allowed); only
            // the ones seen deleted are offered to `try_expunge_locked`.
            match entry.state(guard) {
                EntryState::Expunged => {}
                EntryState::Deleted if entry.try_expunge_locked(guard) => expunged += 1,
                _ => kept.push((entry.hash, SharedEntry::clone(entry))),
            }
        }
        let kept_len = kept.len();
        let copied = kept_len as u64;
        let mut table = Table::with_capacity(capacity.max(kept_len + 1));
        for (short, entry) in kept {
            table.push_unique_hashed(short, entry);
        }
        self.counters.dirty_rebuilds += 1;
        self.counters.entries_copied += copied;
        self.inherited = kept_len;
        self.quiet_misses = 0;
        self.quiet_len = kept_len;
        self.counters.entries_expunged += expunged;
        self.table = Some(table);
    }

    /// Go's `m.dirty = nil; m.misses = 0` for `clear`, which has just published an empty read
    /// snapshot; hands what the caller retires to `retire`.
    ///
    /// A departure: a small dirty table (at most [`KEPT_ENTRIES`] entries, room for at most
    /// [`KEPT_CAPACITY`]) is emptied and stays as the dirty map, its entry handles retired one by
    /// one, instead of being retired whole. An empty dirty map beside the empty read map keeps
    /// Go's invariants (it holds every entry of the read map, none, and no key the read map
    /// lacks, so the snapshot is not amended), and the next new key fills it without a rebuild.
    /// A map cleared and refilled with a key (Go's Clear benchmark, a registry reset) thus
    /// allocates no table and boxes none (BENCHMARKS.md, "A clear that keeps its small table").
    /// Moves handles only; runs no user code.
    pub(crate) fn clear_locked(&mut self, mut retire: impl FnMut(Garbage<K, V>)) {
        self.misses = 0;
        self.inherited = 0;
        self.quiet_misses = 0;
        self.quiet_len = 0;
        match &mut self.table {
            None => {}
            Some(table) if table.len() <= KEPT_ENTRIES && table.capacity() <= KEPT_CAPACITY => {
                for entry in table.drain() {
                    retire(Garbage::Entry(entry));
                }
            }
            Some(_) => {
                let table = self.table.take().expect("matched as present");
                retire(Garbage::Table(Box::new(table)));
            }
        }
    }
}

/// The most entries a dirty table may hold for `clear` to keep it, emptied (each entry is
/// retired on its own; an operation keeps two retired items without allocating, and `clear`
/// retires the read snapshot first).
const KEPT_ENTRIES: usize = 1;

/// The largest dirty table `clear` keeps, in entries it has room for: 32 buckets, 304 bytes.
const KEPT_CAPACITY: usize = 28;

/// What an operation unlinked, retired through the reclaimer once the operation ends (never
/// dropped under the lock, since dropping keys and values runs user code that may call back into
/// the map, and never before every guard that could reach it is released). Its fields are only
/// ever dropped.
#[allow(dead_code)]
pub(crate) enum Garbage<K, V> {
    /// A value taken out of an entry's slot.
    Value(Arc<V>),
    /// An entry's handle, from a table the entry left (the last one holding it, or a dirty
    /// table emptied by `clear`).
    Entry(SharedEntry<K, V>),
    /// A replaced read snapshot.
    Read(RetiredRead<K, V>),
    /// A dirty table dropped by `clear` (boxed, to keep every operation's garbage slot small).
    Table(Box<Table<K, V>>),
}
