//! The read map: an immutable snapshot published atomically, loaded without any lock.
//!
//! Go's invariant: `read` is loaded lock-free but replaced only under the dirty lock, and a
//! published table is never mutated; only its entries' slots change, atomically. The one field
//! that does change is `amended`, from `false` to `true`, under the lock (Go instead publishes a
//! new `readOnly` sharing the same map; the flag saves that allocation and an indirection on
//! every read), and back to `false` only by a clear in place (below).
//!
//! Each snapshot also carries a small **new-key filter** (a departure from Go, golang/go#21032):
//! the hashes of the keys added to the dirty map while this snapshot is current, as a 4096-bit
//! Bloom filter with two bits per key. A lookup that misses the table of an amended snapshot and
//! finds its key's bits clear knows the dirty map cannot hold the key, so it returns "absent"
//! without taking the lock. Under the default rule (`Promotion::Amortized`) such a lookup counts
//! nothing. Under Go's rules (`DirtyLen`, `AfterMisses`) it still counts its miss (see
//! `ReadOnly::try_count_miss`; folded into the dirty map's count under the lock), and once the
//! count is about to reach the promotion threshold it takes the lock instead, so with one thread
//! promotions happen exactly when Go's rule says; under concurrency one can come a few misses
//! late, because the budget a lock-free miss checks is refreshed only when the lock is released.
//! The first new key of a snapshot is kept inline, as its hash (one word); the filter is
//! allocated by the second (512 bytes; none for a snapshot that gets at most one new key, such
//! as a settled registry's, an unwritten shard's, or a shard cleared and given one key).
//! The inline hash is written once and the filter only ever gains bits, until the snapshot is
//! dropped at the next promotion or `clear`, or a clear in place empties the dirty map and
//! resets both; so they never lie about a key added while it is current: invariant, **every
//! key in the dirty map but not in the read map's table has the inline hash or its filter bits
//! set** (keys enter the dirty map without being in the read map only through
//! `insert_new_locked`, which notes them first; a later key whose hash equals the inline one,
//! low bit set, is left out of the filter, since the inline word already answers for it).
//!
//! **Clear in place** (`raw.rs`, `clear_in`; a departure, to spare Go's Clear benchmark and a
//! registry reset two allocations). When a shard's snapshot has an empty table, every key of
//! the shard is in the dirty map, and if that is small (one `clear` keeps, `dirty.rs`), `clear`
//! keeps the snapshot instead of publishing a new empty one: under the lock it empties the dirty
//! map, leaving each entry expunged with its value taken out (`Dirty::clear_in_place_locked`),
//! then lowers the live count by the values it took and resets `amended`, the inline hash, the
//! filter and the lock-free miss count (`ReadOnly::clear_in_place_locked`). Why that is safe:
//!
//! - *Readers.* With an empty table, a lock-free lookup answers only "absent" or "ask the
//!   dirty map"; the first is right for any key once the clear has begun (only the lock holder
//!   adds keys), the second takes the lock, which orders it after the clear.
//! - *The live count.* A new generation exists so that a writer still working on an entry of a
//!   cleared map changes the old count, not the new one. Here the count goes on, so every
//!   change to it must be one the map still reflects. Lock-free writers change only entries
//!   found in a read map's table, and this snapshot's is empty; an older snapshot of the same
//!   generation holds only entries that are expunged now (each promotion published a dirty map
//!   holding every entry of the snapshot before it that was not expunged, and the last one
//!   published this empty table), and no exchange succeeds on an expunged entry. Operations
//!   that found an entry in the dirty map under the lock and act on it after releasing it only
//!   replace or remove a value, and fail on the expunged entries `clear` leaves. Changes made before the clear took
//!   a value out are its own, already counted or still to land; the clear subtracts exactly the
//!   values it took out. So the count is exact again once every operation in flight is done,
//!   as it is after any operation.
//!
//! A larger dirty map, or a snapshot with entries, is cleared as before: a new, empty snapshot
//! and a new generation.

use crate::entry::SharedEntry;
use crate::primitive::{Arc, AtomicBool, AtomicIsize, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use crate::reclaim::Guard;
use crate::table::{ProbeHint, Table};
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;

/// The published read map (Go's `read`): an atomic pointer to a boxed snapshot. Loaded under a
/// reclamation guard; replaced only under the dirty lock, and the replaced snapshot is retired
/// through the reclaimer, so a snapshot loaded under a guard stays valid while the guard lives.
pub(crate) struct ReadCell<K, V> {
    current: AtomicPtr<ReadOnly<K, V>>,
    /// Where the shard's dirty table begins its lookups ([`ProbeHint`]): kept beside the
    /// pointer every operation loads first, so that reading it costs no miss of its own.
    dirty_hint: ProbeHint,
}

impl<K, V> ReadCell<K, V> {
    pub(crate) fn new(read: ReadOnly<K, V>) -> Self {
        ReadCell {
            current: AtomicPtr::new(Box::into_raw(Box::new(read))),
            dirty_hint: ProbeHint::new(),
        }
    }

    /// The current snapshot, as [`load`](Self::load), for a write of `hash` that may go on to
    /// the dirty map: if the snapshot is amended, the dirty table's first cache lines for the
    /// key are asked for now, while the read table is probed.
    #[inline]
    pub(crate) fn load_for_write<'g>(&self, guard: &'g Guard<'_>, hash: u64) -> &'g ReadOnly<K, V> {
        let read = self.load(guard);
        if read.amended() {
            self.dirty_hint.prefetch::<K, V>(hash);
        }
        read
    }

    /// Points the dirty-table hint at `table`, the shard's dirty table (or at nothing). Caller
    /// holds the lock.
    #[inline]
    pub(crate) fn publish_dirty_locked(&self, table: Option<&Table<K, V>>) {
        self.dirty_hint.publish(table);
    }

    /// Whether the dirty-table hint names `table` (or nothing, for `None`), for the invariant
    /// checks of the tests.
    #[cfg(feature = "testing")]
    pub(crate) fn dirty_hint_names(&self, table: Option<&Table<K, V>>) -> bool {
        self.dirty_hint.names(table)
    }

    /// The current snapshot, valid for the guard's lifetime.
    #[inline]
    pub(crate) fn load<'g>(&self, _guard: &'g Guard<'_>) -> &'g ReadOnly<K, V> {
        // SAFETY: the pointer came from `Box::into_raw` and is never null; a snapshot is freed
        // only after it was swapped out and retired, and the reclaimer keeps it alive while a
        // guard that could have loaded it lives.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Publishes `read` and returns the previous snapshot, which the caller must retire. Caller
    /// holds the dirty lock.
    pub(crate) fn swap_locked(&self, read: ReadOnly<K, V>) -> RetiredRead<K, V> {
        let previous = self
            .current
            .swap(Box::into_raw(Box::new(read)), Ordering::AcqRel);
        RetiredRead(NonNull::new(previous).expect("the cell never holds null"))
    }
}

impl<K, V> ReadCell<K, V> {
    /// The current snapshot, through a cell owned exclusively (no guard can be alive).
    pub(crate) fn get_mut(&mut self) -> &mut ReadOnly<K, V> {
        // SAFETY: `&mut self`: no guard of the map is alive and no other thread can swap the
        // pointer, which is the cell's own `Box::into_raw` snapshot, never null.
        unsafe { &mut *self.current.load(Ordering::Acquire) }
    }

    /// The current snapshot, taken out of a cell that no guard can reach any more.
    pub(crate) fn into_inner(self) -> ReadOnly<K, V> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: as in `drop`: owned by value, so no guard of the map is alive, and the pointer
        // is the cell's own `Box::into_raw` snapshot; `ManuallyDrop` keeps `drop` from freeing it
        // a second time.
        *unsafe { Box::from_raw(this.current.load(Ordering::Acquire)) }
    }
}

/// A replaced read snapshot, owned through its raw pointer until it is dropped: turning it back
/// into a `Box` while readers may still hold references into it would assert a uniqueness it
/// only has once the reclaimer frees it.
pub(crate) struct RetiredRead<K, V>(NonNull<ReadOnly<K, V>>);

// SAFETY: a `RetiredRead` owns its snapshot exactly as a `Box<ReadOnly<K, V>>` would.
unsafe impl<K, V> Send for RetiredRead<K, V> where ReadOnly<K, V>: Send {}

impl<K, V> Drop for RetiredRead<K, V> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::into_raw` in `ReadCell` and was swapped out of the
        // cell, so this is its one owner; it is dropped only by the reclaimer, once no guard
        // that could have loaded it is held.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

impl<K, V> Drop for ReadCell<K, V> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no guard of the map is alive, and the pointer is the cell's own
        // `Box::into_raw` snapshot.
        drop(unsafe { Box::from_raw(self.current.load(Ordering::Acquire)) });
    }
}

/// The live-value count of one *generation* of the map. A generation lasts from one `clear` to
/// the next: promotions hand the counter on, `clear` starts a new one, so a writer still working
/// on an entry of a cleared generation updates that generation's count, not the current one.
/// (A clear in place, module docs, keeps the generation and subtracts what it removed.)
pub(crate) type LenCell = Arc<Apart<AtomicIsize>>;

/// A value kept apart from its neighbours in memory: 128 bytes on each side, so no cache line,
/// nor the pair of lines that x86's adjacent-line prefetcher fetches together, holds both the
/// value and anything else. Unlike `CachePadded`, it does not raise the alignment of what holds
/// it: an allocation aligned to more than 16 bytes goes through glibc's `posix_memalign`, which
/// cost 430–830 instructions (callgrind) for each allocation that used `CachePadded`: every
/// promotion's new snapshot, and a `clear`'s snapshot and counter (`BENCHMARKS.md`, "Clear and
/// small promotions"). The price is memory: a snapshot of 336 bytes and a length cell of 280,
/// against 256 each aligned.
#[repr(C)]
pub(crate) struct Apart<T> {
    _before: MaybeUninit<[u8; 128]>,
    value: T,
    _after: MaybeUninit<[u8; 128]>,
}

impl<T> Apart<T> {
    pub(crate) const fn new(value: T) -> Self {
        Apart {
            _before: MaybeUninit::uninit(),
            value,
            _after: MaybeUninit::uninit(),
        }
    }
}

impl<T> core::ops::Deref for Apart<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

pub(crate) struct ReadOnly<K, V> {
    pub(crate) table: Table<K, V>,
    /// `true` if the dirty map holds a key that `table` lacks (Go's `amended`).
    amended: AtomicBool,
    pub(crate) len: LenCell,
    /// The hash of the first key added to the dirty map while this snapshot is current, with its
    /// low bit set, or 0 before it.
    first_new: AtomicU64,
    /// Bits of the hashes of the keys added after the first.
    filter: FilterCell,
    /// Null while `table` owns a counted handle to each of its entries. Once a dirty map takes
    /// those over ([`hand_over_locked`](Self::hand_over_locked)): `handed_over_all()`, or a boxed
    /// list of the handles the dirty map did not take (entries that stayed expunged), which
    /// this snapshot's drop releases while it forgets the table's.
    handed_over: AtomicPtr<Stayed<K, V>>,
    /// Lock-free miss accounting, kept apart from the fields a read hit uses.
    miss: Apart<MissCount>,
}

/// Handles of a handed-over snapshot's entries that the dirty map does not hold: aliases of
/// table slots (so never dropped with the list), each released once by the snapshot's drop.
pub(crate) type Stayed<K, V> = Vec<ManuallyDrop<SharedEntry<K, V>>>;

/// `handed_over` of a snapshot whose every entry went to the dirty map.
fn handed_over_all<K, V>() -> *mut Stayed<K, V> {
    NonNull::dangling().as_ptr()
}

struct MissCount {
    /// Misses counted without the lock against this snapshot, not yet folded into the dirty
    /// map's count.
    pending: AtomicUsize,
    /// How many more misses the promotion rule allows before it promotes, as of the last time the
    /// lock was released; a lock-free miss that would reach it takes the lock instead.
    budget: AtomicUsize,
}

const FILTER_WORDS: usize = 64;
const FILTER_BITS: u64 = (FILTER_WORDS * 64) as u64;

type Filter = [AtomicU64; FILTER_WORDS];

/// A snapshot's new-key filter, allocated by the first key noted against the snapshot: until
/// then (a settled map's snapshot, a shard nobody has written) it costs one null pointer. Being
/// its own allocation, setting bits never invalidates the cache lines a read hit uses.
struct FilterCell(AtomicPtr<Filter>);

impl Drop for FilterCell {
    fn drop(&mut self) {
        let filter = self.0.load(Ordering::Acquire);
        if !filter.is_null() {
            // SAFETY: allocated by `Box::into_raw` in `note_new_key_locked`; the snapshot that
            // owns this cell is being dropped, so no guard can reach it any more.
            drop(unsafe { Box::from_raw(filter) });
        }
    }
}

impl<K, V> Drop for ReadOnly<K, V> {
    fn drop(&mut self) {
        let stayed = self.handed_over.load(Ordering::Acquire);
        if stayed.is_null() {
            return; // the table owns its handles, and its drop releases them
        }
        // The dirty map took these handles over: forget them, even while unwinding (a release
        // here would be a second one).
        self.table.forget_handles();
        if stayed != handed_over_all() {
            // SAFETY: a list `hand_over_locked` leaked, taken back once (the snapshot is being
            // dropped). Each alias is one of the table's slots, whose count the dirty map did
            // not take, and it is released exactly once, here.
            let stayed = unsafe { Box::from_raw(stayed) };
            crate::table::drop_each(stayed.into_iter().map(ManuallyDrop::into_inner));
        }
    }
}

#[inline]
fn filter_bits(hash: u64) -> [u64; 2] {
    [(hash >> 20) % FILTER_BITS, (hash >> 40) % FILTER_BITS]
}

impl<K, V> ReadOnly<K, V> {
    pub(crate) fn new(table: Table<K, V>, len: LenCell) -> Self {
        ReadOnly {
            table,
            amended: AtomicBool::new(false),
            len,
            first_new: AtomicU64::new(0),
            filter: FilterCell(AtomicPtr::new(core::ptr::null_mut())),
            handed_over: AtomicPtr::new(core::ptr::null_mut()),
            miss: Apart::new(MissCount {
                pending: AtomicUsize::new(0),
                budget: AtomicUsize::new(0),
            }),
        }
    }

    /// Hands the table's handles over to the dirty map, which holds uncounted aliases of every
    /// entry of this table but `stayed` (see `dirty.rs`, "borrowed handles"): the dirty map's
    /// aliases become its counted handles, and this snapshot, when the reclaimer drops it,
    /// forgets its table's handles and releases only `stayed`'s. Caller holds the lock (or owns
    /// the map), and calls this once, when the dirty map is about to replace this snapshot or to
    /// be taken with it.
    pub(crate) fn hand_over_locked(&self, stayed: Stayed<K, V>) {
        let list = if stayed.is_empty() {
            handed_over_all()
        } else {
            Box::into_raw(Box::new(stayed))
        };
        let previous = self.handed_over.swap(list, Ordering::Relaxed);
        debug_assert!(previous.is_null(), "a snapshot is handed over once");
    }

    /// `clear` of this snapshot, which stays the shard's read map: its table is empty, and the
    /// dirty map (emptied by `Dirty::clear_in_place_locked`) had every key, `removed` values
    /// of them. Caller holds the lock. See the module docs, "Clear in place".
    pub(crate) fn clear_in_place_locked(&self, removed: usize) {
        debug_assert!(self.table.is_empty());
        self.add_len(-(removed as isize));
        self.miss.pending.store(0, Ordering::Relaxed);
        self.first_new.store(0, Ordering::SeqCst);
        let filter = self.filter.0.load(Ordering::SeqCst);
        if !filter.is_null() {
            // SAFETY: allocated by `note_new_key_locked`; freed only with the snapshot, which
            // the caller's guard keeps alive.
            for word in unsafe { &*filter } {
                word.store(0, Ordering::SeqCst);
            }
        }
        self.amended.store(false, Ordering::SeqCst);
    }

    /// An empty read map starting a new generation.
    pub(crate) fn empty() -> Self {
        Self::new(Table::new(), Arc::new(Apart::new(AtomicIsize::new(0))))
    }

    #[inline]
    pub(crate) fn amended(&self) -> bool {
        self.amended.load(Ordering::SeqCst)
    }

    /// Marks this snapshot amended. Caller holds the dirty lock and has just made the dirty map
    /// hold a key this snapshot lacks.
    pub(crate) fn set_amended_locked(&self) {
        self.amended.store(true, Ordering::SeqCst);
    }

    /// Records a key the caller (holding the dirty lock) is about to add to the dirty map while
    /// it is absent from this snapshot's table.
    pub(crate) fn note_new_key_locked(&self, hash: u64) {
        let tag = hash | 1;
        match self.first_new.load(Ordering::SeqCst) {
            // The first key: noted inline, before it enters the dirty map, so a reader that
            // sees 0 is ordered before every key noted against this snapshot.
            0 => return self.first_new.store(tag, Ordering::SeqCst),
            first if first == tag => return, // `may_be_dirty` answers `true` for it already
            _ => {}
        }
        let mut filter = self.filter.0.load(Ordering::SeqCst);
        if filter.is_null() {
            // Only the lock holder allocates; published before any bit is set, so a reader that
            // sees no filter is ordered before every key noted in it (as one that sees a clear
            // bit is).
            filter = Box::into_raw(Box::new(core::array::from_fn(|_| AtomicU64::new(0))));
            self.filter.0.store(filter, Ordering::SeqCst);
        }
        // SAFETY: allocated above or by an earlier call; freed only with the snapshot, which the
        // caller's guard keeps alive.
        let filter = unsafe { &*filter };
        for bit in filter_bits(hash) {
            filter[(bit / 64) as usize].fetch_or(1 << (bit % 64), Ordering::SeqCst);
        }
    }

    /// Whether the dirty map may hold a key with this hash that this snapshot's table lacks.
    /// `false` is certain for every key added while this snapshot was current.
    #[inline]
    pub(crate) fn may_be_dirty(&self, hash: u64) -> bool {
        match self.first_new.load(Ordering::SeqCst) {
            0 => return false, // no key noted yet
            first if first == hash | 1 => return true,
            _ => {}
        }
        let filter = self.filter.0.load(Ordering::SeqCst);
        if filter.is_null() {
            return false; // no key noted after the first yet
        }
        // SAFETY: a filter lives as long as its snapshot, which the caller's guard keeps alive.
        let filter = unsafe { &*filter };
        filter_bits(hash)
            .into_iter()
            .all(|bit| filter[(bit / 64) as usize].load(Ordering::SeqCst) & (1 << (bit % 64)) != 0)
    }

    /// Counts a miss without the lock, unless it could make the promotion rule fire: then it
    /// counts nothing and returns `false`, and the caller must take the locked path, which counts
    /// the miss and promotes.
    #[inline]
    pub(crate) fn try_count_miss(&self) -> bool {
        let budget = self.miss.budget.load(Ordering::Relaxed);
        // One compare-and-swap, so concurrent misses never count past the budget together.
        self.miss
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |pending| {
                (pending + 1 < budget).then_some(pending + 1)
            })
            .is_ok()
    }

    /// Takes the misses counted without the lock. Caller holds the dirty lock.
    pub(crate) fn take_misses_locked(&self) -> usize {
        self.miss.pending.swap(0, Ordering::Relaxed)
    }

    /// Misses counted without the lock and not yet taken.
    pub(crate) fn pending_misses(&self) -> usize {
        self.miss.pending.load(Ordering::Relaxed)
    }

    /// Sets how many more misses the promotion rule allows. Caller holds the dirty lock.
    pub(crate) fn set_miss_budget_locked(&self, budget: usize) {
        self.miss.budget.store(budget, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn add_len(&self, delta: isize) {
        self.len.fetch_add(delta, Ordering::Relaxed);
    }

    /// The generation's live count, clamped: it may dip below zero while a removal's decrement
    /// lands before the matching insertion's increment.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed).max(0) as usize
    }
}
