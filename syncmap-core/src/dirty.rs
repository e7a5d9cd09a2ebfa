//! The dirty map: keys not yet in the read map, guarded by the map's one mutex.
//!
//! Go's invariants, kept here:
//!
//! - **amended ⇔ dirty holds a key the read map lacks.** `amended` is set right after the first
//!   new key goes into a fresh dirty map (see `SyncMap::insert_new_locked`).
//! - **A dirty map, when it exists, holds every non-expunged entry of the read map, as the same
//!   entry (a `SharedEntry` handle to it)**, so promoting it is one pointer publish.
//!   [`Dirty::rebuild_locked`] keeps this by copying every live read entry, and each deleted
//!   one it does not expunge (it expunges them all, as Go does, or, copying the table whole,
//!   none); from then on, every entry that gets a value again is either still in the dirty map
//!   or is unexpunged and re-inserted under the lock.
//! - **After `clear`, the dirty map is empty or absent** (Go's stays, emptied; here only a small
//!   one does: see [`Dirty::clear_locked`], and [`Dirty::clear_in_place_locked`] when the read
//!   map's table is empty).
//! - **No user code runs under the lock that can call back into the map**, except the key's `Eq`
//!   (lookups). Everything the lock holder unlinks (values, entries, whole tables) becomes
//!   [`Garbage`], retired through the reclaimer after the lock is released, so a `Drop` impl may
//!   use the map freely.
//!
//! **Borrowed handles** (not Go's concern: Go has a garbage collector). Every entry of a
//! shard's current tables has exactly one counted handle. The dirty map's copy of an entry the
//! read map holds (from the rebuild or an unexpunge) is an uncounted alias: the read map's
//! handle carries the count, so a rebuild writes no count and touches no entry it keeps beyond
//! reading its state. The dirty map's new keys it owns. When the dirty map replaces the read map
//! (a promotion), is dropped with it (`clear`, the map's drop) or is taken alone
//! (`into_iter`), the read map first hands its counts over ([`Dirty::take_over_locked`]): the
//! replaced snapshot then forgets its table's handles instead of releasing them, and releases
//! only those of the entries the dirty map does not hold: the ones this cycle's rebuild expunged
//! (the `expunged` list) and nobody unexpunged since. So a dirty table may be dropped as a
//! table only after its read map handed over.

use crate::entry::{EntryState, SharedEntry};
use crate::primitive::Arc;
use crate::read::{ReadOnly, RetiredRead, Stayed};
use crate::reclaim::Guard;
use crate::stats::Counters;
use crate::table::Table;
use core::mem::ManuallyDrop;

/// State behind the map's mutex: with the mutex, two cache lines (checked below on Linux, where
/// std's mutex is a futex word), so that writers taking the lock share no more. The two lengths
/// the promotion rule keeps are `u32` for it: they saturate at `u32::MAX`, which only a shard of
/// four billion entries reaches, and then only make the rule promote a little early.
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
    inherited: u32,
    /// Misses counted since the dirty map last grew (a new key or a re-linked entry), and its
    /// length then: a long run says the map is being read rather than filled.
    quiet_misses: usize,
    quiet_len: u32,
    /// The read map's entries that this cycle's rebuild expunged (aliases of the read map's
    /// handles; boxed, so that the lock's cache lines stay two), for the read map to release
    /// when it hands its handles over; `None` when the rebuild expunged none, or there is no
    /// dirty map.
    expunged: Option<Box<Stayed<K, V>>>,
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
            expunged: None,
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
            self.inherited as usize
        } else {
            0
        }
    }

    /// Counts one miss (Go's `misses++`), and one more miss since the dirty map last grew.
    pub(crate) fn count_miss(&mut self) {
        let len = saturate(self.len());
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
            // SAFETY: a borrowed handle (module docs): `entry` is the read map's counted handle,
            // which is forgotten instead of released when the read map hands over, and the
            // entry stays in `expunged` but is released only if still expunged then, which it
            // no longer is (only the lock holder expunges, and only in a rebuild).
            let alias = unsafe { SharedEntry::alias(entry) };
            self.table
                .as_mut()
                .expect("invariant: an expunged entry implies a dirty map")
                .push_unique(alias);
            self.inherited = self.inherited.saturating_add(1);
        }
    }

    /// Go's `dirtyLocked`: if there is no dirty map, builds one from the read map, holding every
    /// entry that still has a value or is merely deleted, and expunging deleted ones it leaves
    /// out. Copies entry pointers only; runs no user code.
    ///
    /// With at most `may_carry` deleted entries in the read map (by its live count; see
    /// `Promotion::carried_deleted`), the read table is copied whole ([`Table::alias_copy`]):
    /// no entry is read or expunged, and the deleted ones stay in the dirty map as deleted
    /// entries, which Go's invariant allows (Go's own rebuild leaves one there when it is
    /// deleted just after being looked at). Otherwise each entry's state is read and the deleted
    /// ones are expunged and left out, as Go does. `capacity` is the least the new table is
    /// sized for.
    pub(crate) fn rebuild_locked(
        &mut self,
        guard: &Guard<'_>,
        read: &ReadOnly<K, V>,
        capacity: usize,
        may_carry: usize,
    ) {
        if self.table.is_some() {
            return;
        }
        let entries = read.table.len();
        let deleted = entries.saturating_sub(read.len());
        // Room left for the key that starts the rebuild (a full copy would grow at once, and a
        // large table's growth reads every entry), and at least the configured capacity.
        let roomy = entries < read.table.capacity() && capacity <= read.table.capacity();
        if entries > 0 && deleted <= may_carry && roomy {
            // SAFETY: borrowed handles (module docs): the copy's handles are aliases of the read
            // map's, which carry the counts until the read map hands them over; then the copy's
            // become the counted ones and the read map forgets its own (nothing stayed out, so
            // it releases none). Neither is used after its entry's last counted handle goes:
            // the read map's live while a guard can reach it, and the dirty map's are counted
            // from the hand-over on.
            let table = unsafe { read.table.alias_copy() };
            self.counters.whole_copies += 1;
            return self.rebuilt(table, entries, 0);
        }
        // First the entries to keep (pointers, with their short hashes, so that the second loop
        // reads no entry again), so the table is sized for them, not for the read map's deleted
        // entries (after a delete-all, that would be a table for every key).
        //
        // Prefetched: reading each entry's state waits for the entry's cache line
        // (BENCHMARKS.md, "Rebuilds that do not wait for each entry"). Every copy is a borrowed
        // handle (module docs), so nothing here writes to an entry it keeps.
        let mut kept = Vec::new();
        let mut left_out = Stayed::new();
        for entry in read.table.iter_prefetched() {
            // SAFETY: a borrowed handle (module docs): the read map's handle carries the count
            // until it hands over, and then either the copy in the dirty table becomes the
            // counted one (kept) or, for an entry left out and still expunged, the alias in
            // `left_out` is released by the handed-over snapshot, once, while the snapshot
            // forgets its own. No user code runs here, so nothing unwinds with `kept`.
            let alias = unsafe { SharedEntry::alias(entry) };
            // An entry seen with a value is kept without a second look (if it is deleted
            // meanwhile, it is a deleted entry that the dirty map holds, which is allowed); only
            // the ones seen deleted are offered to `try_expunge_locked`.
            match entry.state(guard) {
                // (A snapshot is rebuilt once, and promoted tables hold no expunged entry, so
                // there is none to find; one would be left out all the same.)
                EntryState::Expunged => left_out.push(ManuallyDrop::new(alias)),
                EntryState::Deleted if entry.try_expunge_locked(guard) => {
                    left_out.push(ManuallyDrop::new(alias));
                }
                _ => kept.push((entry.hash, ManuallyDrop::new(alias))),
            }
        }
        let expunged = left_out.len();
        self.expunged = (!left_out.is_empty()).then(|| Box::new(left_out));
        let kept_len = kept.len();
        let mut table = Table::with_capacity(capacity.max(kept_len + 1));
        for (short, entry) in kept {
            table.push_unique_hashed(short, ManuallyDrop::into_inner(entry));
        }
        self.rebuilt(table, kept_len, expunged);
    }

    /// Installs a rebuilt dirty table that inherited `kept` entries from the read map, which
    /// expunged `expunged` more.
    fn rebuilt(&mut self, table: Table<K, V>, kept: usize, expunged: usize) {
        self.counters.dirty_rebuilds += 1;
        self.counters.entries_copied += kept as u64;
        self.counters.entries_expunged += expunged as u64;
        self.inherited = saturate(kept);
        self.quiet_misses = 0;
        self.quiet_len = saturate(kept);
        self.table = Some(table);
    }

    /// Makes this dirty map's aliases of `read`'s entries counted handles ("borrowed handles"
    /// in the module docs): `read`, the current read map, hands its counts over and will
    /// release, when dropped, only the entries this cycle's rebuild expunged that are still
    /// expunged (the others are in this map). Caller holds the lock (or owns the map), and this
    /// map is about to replace `read`, to be dropped with it or to be taken alone. Without a
    /// dirty map there is nothing to take over: `read` keeps its handles and releases them when
    /// dropped.
    pub(crate) fn take_over_locked(&mut self, read: &ReadOnly<K, V>) {
        if self.table.is_none() {
            debug_assert!(
                self.expunged.is_none(),
                "a rebuild's list outlived its dirty map"
            );
            return;
        }
        let stayed = match self.expunged.take() {
            // Still expunged: never unexpunged (which would have put it in this map), and only
            // the lock holder changes that state.
            Some(list) => list.into_iter().filter(|e| e.is_expunged()).collect(),
            None => Stayed::new(),
        };
        if read.table.is_empty() {
            // Nothing to hand over (a cleared shard's snapshot): its drop releases nothing.
            debug_assert!(stayed.is_empty());
            return;
        }
        read.hand_over_locked(stayed);
    }

    /// Go's `clear(m.dirty); m.misses = 0` for `clear`, which is about to replace `read`, the
    /// current read map, by an empty one: takes `read`'s handles over, then hands what the
    /// caller retires to `retire`.
    ///
    /// Go keeps its dirty map, emptied, whatever its size. Here a small dirty table (at most
    /// [`KEPT_ENTRIES`] entries, room for at most [`KEPT_CAPACITY`]) is emptied and stays, its
    /// entry handles retired one by one; a larger one is retired whole and the shard is left
    /// without a dirty map (a departure: a cleared map does not keep a big table's memory). An
    /// empty dirty map beside the empty read map keeps Go's invariants (it holds every entry of
    /// the read map, none, and no key the read map lacks, so the snapshot is not amended), and
    /// the next new key fills it without a rebuild. A map cleared and refilled with a key (Go's
    /// Clear benchmark, a registry reset) thus allocates no table and boxes none (BENCHMARKS.md,
    /// "A clear that keeps its small table"). Moves handles only; runs no user code.
    pub(crate) fn clear_locked(
        &mut self,
        read: &ReadOnly<K, V>,
        mut retire: impl FnMut(Garbage<K, V>),
    ) {
        self.take_over_locked(read);
        self.restart_locked();
        match &mut self.table {
            None => {}
            Some(table) if kept_on_clear(table) => {
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

    /// Whether `clear` may leave the shard's read snapshot in place when its table is empty
    /// ([`clear_in_place_locked`](Self::clear_in_place_locked)): the dirty map is one `clear`
    /// keeps (or there is none).
    pub(crate) fn clears_in_place(&self) -> bool {
        self.table.as_ref().is_none_or(kept_on_clear)
    }

    /// `clear` of a shard whose read map's table is empty, so that every key is in this (small)
    /// dirty map, and the read snapshot stays (`read.rs`, "Clear in place"): empties the table,
    /// keeping it, and leaves each entry expunged, its value taken out and handed with the entry
    /// to `retire`. Returns how many values it took out, for the snapshot's live count.
    ///
    /// Expunged, not just unlinked: an operation that found one of these entries in the dirty
    /// map under the lock may still act on it after releasing the lock (`compare_and_swap`,
    /// `compare_and_remove`, `update`, `remove_if`: each only ever replaces or removes a value),
    /// and on an expunged entry each fails as for an absent key, so that no such late change
    /// reaches the count this generation goes on with. The swap takes each value out exactly,
    /// so the count drops by exactly the values that were there. Runs no user code.
    pub(crate) fn clear_in_place_locked(&mut self, mut retire: impl FnMut(Garbage<K, V>)) -> usize {
        debug_assert!(self.clears_in_place());
        debug_assert!(
            self.expunged.is_none(),
            "nothing to expunge from an empty read map"
        );
        self.restart_locked();
        let mut removed = 0;
        if let Some(table) = &mut self.table {
            for entry in table.drain() {
                if let Some(value) = entry.take_expunging_locked() {
                    removed += 1;
                    retire(Garbage::Value(value));
                }
                retire(Garbage::Entry(entry));
            }
        }
        removed
    }

    /// Go's `m.misses = 0` for `clear`, with this map's own records of what it inherited.
    fn restart_locked(&mut self) {
        self.misses = 0;
        self.inherited = 0;
        self.quiet_misses = 0;
        self.quiet_len = 0;
    }
}

#[cfg(all(target_os = "linux", not(loom)))]
const _: () = assert!(core::mem::size_of::<crate::primitive::Mutex<Dirty<u64, u64>>>() <= 128);

/// A length as the promotion rule keeps it (see [`Dirty`]).
fn saturate(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Whether `clear` keeps `table`, emptied (see [`Dirty::clear_locked`]).
fn kept_on_clear<K, V>(table: &Table<K, V>) -> bool {
    table.len() <= KEPT_ENTRIES && table.capacity() <= KEPT_CAPACITY
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
