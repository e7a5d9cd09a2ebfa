//! The hash table both the read map and the dirty map are made of: a
//! [`hashbrown::HashTable`] of shared entries.
//!
//! Each entry stores its key's hash (its low 32 bits, [`short_hash`]): the user's `Hash` runs
//! once per operation, before any lock is taken, and never while a table grows, is rebuilt or is
//! copied. A panicking `Hash` therefore cannot leave a table half-moved, and a panicking `Eq`
//! only ever runs during a lookup, which changes nothing. Copying a table copies entry pointers,
//! never keys.
//!
//! hashbrown takes a bucket index from the low bits of the hash it is given and a 7-bit tag from
//! its top 7 bits; it is given the short hash in both halves ([`table_hash`]), so the index
//! comes from the short hash's low bits and the tag from its bits 25–31. The two overlap only in
//! tables of more than 2²⁵ buckets (some 29 million keys in one shard), where a tag match is
//! then less telling and a lookup compares a few more keys.

use crate::entry::{short_hash, Entry, SharedEntry};
use crate::primitive::prefetch;
use core::borrow::Borrow;
use hashbrown::hash_table::{self, HashTable};
use std::panic::{self, AssertUnwindSafe};

pub(crate) struct Table<K, V> {
    entries: HashTable<Slot<K, V>>,
    /// Where the table's buckets end ([`BucketBase`]), so that a lookup can ask for its home
    /// bucket's cache line while it reads the control bytes.
    base: BucketBase,
}

/// A table's hold on one entry: its handle, which the slot owns and drops as the handle would.
///
/// Cloning a slot makes an uncounted alias of its handle ([`SharedEntry::alias`]), so that
/// hashbrown's table clone (its control bytes copied whole, each slot cloned in place) copies
/// a table without reading a single entry: [`Table::alias_copy`], a rebuild's copy of the read
/// map. `Slot` is private to this module and that is the one clone of it.
struct Slot<K, V>(SharedEntry<K, V>);

impl<K, V> Clone for Slot<K, V> {
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: only `Table::alias_copy` clones a slot (the type is private to this module),
        // and its caller keeps `SharedEntry::alias`'s contract for every alias it makes.
        Slot(unsafe { SharedEntry::alias(&self.0) })
    }
}

/// An iterator over a table's entries.
pub(crate) struct Entries<'t, K, V>(hash_table::Iter<'t, Slot<K, V>>);

impl<'t, K, V> Iterator for Entries<'t, K, V> {
    type Item = &'t SharedEntry<K, V>;

    #[inline]
    fn next(&mut self) -> Option<&'t SharedEntry<K, V>> {
        self.0.next().map(|slot| &slot.0)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> Clone for Entries<'_, K, V> {
    fn clone(&self) -> Self {
        Entries(self.0.clone())
    }
}

/// A table's entries, by value ([`Table::into_entries`]).
pub(crate) struct IntoEntries<K, V>(hash_table::IntoIter<Slot<K, V>>);

impl<K, V> Iterator for IntoEntries<K, V> {
    type Item = SharedEntry<K, V>;

    #[inline]
    fn next(&mut self) -> Option<SharedEntry<K, V>> {
        self.0.next().map(|slot| slot.0)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> Table<K, V> {
    pub(crate) fn new() -> Self {
        Table {
            entries: HashTable::new(),
            base: BucketBase::NONE,
        }
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Table {
            entries: HashTable::with_capacity(capacity),
            base: BucketBase::NONE,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many entries the table holds room for before it grows.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Takes every entry out, keeping the allocation. Runs no user code (the handles are moved
    /// to the caller).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = SharedEntry<K, V>> + '_ {
        self.entries.drain().map(|slot| slot.0)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    pub(crate) fn iter(&self) -> Entries<'_, K, V> {
        Entries(self.entries.iter())
    }

    /// The entries, each one's cache line asked for [`READ_AHEAD`] entries before it is
    /// yielded: for a loop that reads every entry (a rebuild reads each one's state and hash),
    /// which would otherwise wait for one cache miss after another.
    pub(crate) fn iter_prefetched(&self) -> impl Iterator<Item = &SharedEntry<K, V>> {
        let mut ahead = self.iter().skip(READ_AHEAD);
        self.iter().inspect(move |_| {
            if let Some(next) = ahead.next() {
                prefetch(SharedEntry::as_ptr(next));
            }
        })
    }

    /// Finds `key`, whose 64-bit hash is `hash`. Runs the user's `Eq` only on entries whose
    /// short hash matches.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<&SharedEntry<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let short = short_hash(hash);
        self.base
            .prefetch_home::<Slot<K, V>>(table_hash(short), self.entries.num_buckets());
        self.entries
            .find(table_hash(short), |e| {
                e.0.hash == short && e.0.key.borrow() == key
            })
            .map(|slot| &slot.0)
    }

    /// Finds the entry of `entry`'s key (`entry` itself, or another entry of an equal key).
    #[inline]
    pub(crate) fn find_key_of(&self, entry: &Entry<K, V>) -> Option<&SharedEntry<K, V>>
    where
        K: Eq,
    {
        self.find(u64::from(entry.hash), &entry.key)
    }

    /// Adds an entry whose key the caller knows is absent. Calls no user code.
    pub(crate) fn push_unique(&mut self, entry: SharedEntry<K, V>) {
        self.push_unique_hashed(entry.hash, entry);
    }

    /// [`push_unique`](Self::push_unique) for a caller that already has the entry's short hash,
    /// so that the entry itself is not read again (a rebuild, where it left the cache since).
    pub(crate) fn push_unique_hashed(&mut self, short: u32, entry: SharedEntry<K, V>) {
        debug_assert_eq!(short, entry.hash);
        if self.len() == self.entries.capacity() && self.len() >= PREFETCH_GROWTH_FROM {
            self.grow_prefetched();
        }
        let inserted = self
            .entries
            .insert_unique(table_hash(short), Slot(entry), |e| table_hash(e.0.hash));
        let (index, at) = (inserted.bucket_index(), core::ptr::from_ref(inserted.get()));
        self.base = BucketBase::of(index, at, self.entries.num_buckets());
    }

    /// Moves a full table's entries into one sized for twice as many, each entry's cache line
    /// asked for [`PREFETCH_AHEAD`] entries before its short hash is read: hashbrown's rehash
    /// reads each entry's hash in bucket order, which in a large table is one cache miss after
    /// another. With nothing removed that is twice the buckets, as hashbrown's own growth; when
    /// removals' tombstones used up the room it is fewer (hashbrown would rehash in place),
    /// and either way the next growth is as many inserts away as the table holds. Moves
    /// handles, so no count changes; runs no user code and cannot panic (but for running out of
    /// memory, which aborts).
    #[cold]
    #[inline(never)]
    fn grow_prefetched(&mut self) {
        let bigger = HashTable::with_capacity(self.entries.capacity() * 2);
        let old = core::mem::replace(&mut self.entries, bigger);
        for_each_prefetched(IntoEntries(old.into_iter()), |entry| {
            self.entries
                .insert_unique(table_hash(entry.hash), Slot(entry), |e| {
                    table_hash(e.0.hash)
                });
        });
    }

    /// Removes `key` and returns its entry.
    pub(crate) fn remove<Q>(&mut self, hash: u64, key: &Q) -> Option<SharedEntry<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let short = short_hash(hash);
        let found = self.entries.find_entry(table_hash(short), |e| {
            e.0.hash == short && e.0.key.borrow() == key
        });
        // From here on no user code runs.
        Some(found.ok()?.remove().0 .0)
    }

    /// The entries, by value, for a map being taken apart.
    pub(crate) fn into_entries(mut self) -> IntoEntries<K, V> {
        IntoEntries(core::mem::take(&mut self.entries).into_iter())
    }

    /// A second table of the same entries, in the same layout, whose handles are uncounted
    /// aliases of this table's: hashbrown copies the control bytes whole and each slot's
    /// pointer in place, so no entry is read (a rebuild's copy of the read map, `dirty.rs`).
    /// Runs no user code and cannot panic (but for running out of memory, which aborts).
    ///
    /// # Safety
    ///
    /// [`SharedEntry::alias`]'s contract, for each entry: of this table's handle and the copy's,
    /// at most one may ever be dropped as a counted handle (this table's must be forgotten, as a
    /// handed-over read map's are, or the copy's), and neither may be used once the entry's last
    /// counted handle is gone.
    pub(crate) unsafe fn alias_copy(&self) -> Self {
        let entries = self.entries.clone();
        let base = BucketBase::find(&entries);
        Table { entries, base }
    }

    /// Drops the entries one by one, so that a panicking key or value `Drop` (user code) does
    /// not leak the rest (hashbrown's own drop stops at the first panic); the first panic is
    /// raised again once every entry is dropped.
    ///
    /// In a large table, each entry is dropped [`PREFETCH_AHEAD`] entries after it was
    /// prefetched: releasing a handle is an atomic read-modify-write, which waits for the entry's
    /// cache line, and there each line is a miss (see `dirty::Dirty::rebuild_locked`). A small
    /// table's entries are likely cached, and the window would only cost.
    fn drop_entries(&mut self) {
        let mut first_panic = None;
        let mut release = |entry: SharedEntry<K, V>| drop_one(entry, &mut first_panic);
        if self.entries.len() < PREFETCH_DROPS_FROM {
            // (A `for` loop: `drain().for_each` measured slower, 25 against 14 ns an entry.)
            for entry in self.drain() {
                release(entry);
            }
        } else {
            for_each_prefetched(self.drain(), release);
        }
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    }

    /// Empties the table without releasing any handle: for a read map whose handles a dirty map
    /// took over (`read::ReadOnly::hand_over_locked`). Reads no entry; runs no user code.
    pub(crate) fn forget_handles(&mut self) {
        self.entries.drain().for_each(core::mem::forget);
    }

    /// Checks that every entry is found under its own hash (for `check_invariants`).
    #[cfg(feature = "testing")]
    pub(crate) fn check_index(&self) -> Result<(), String> {
        for (at, entry) in self.entries.iter().enumerate() {
            if self
                .entries
                .find(table_hash(entry.0.hash), |e| {
                    SharedEntry::ptr_eq(&e.0, &entry.0)
                })
                .is_none()
            {
                return Err(format!("entry {at} is not found under its hash"));
            }
        }
        // The prefetch address of each occupied bucket is that bucket.
        if !self.base.is_known() {
            if self.entries.num_buckets() >= PREFETCH_HOME_FROM && !self.is_empty() {
                return Err("a large table has no bucket base".into());
            }
            return Ok(());
        }
        for index in self.entries.iter_buckets() {
            let bucket = self.entries.get_bucket(index).map(core::ptr::from_ref);
            if bucket != Some(self.base.bucket::<Slot<K, V>>(index)) {
                return Err(format!(
                    "bucket {index} is not where the table's base puts it"
                ));
            }
        }
        Ok(())
    }
}

/// Drops `item`, keeping the first panic a `Drop` raises in `first_panic` instead of unwinding.
fn drop_one<T>(item: T, first_panic: &mut Option<Box<dyn std::any::Any + Send>>) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(item))) {
        first_panic.get_or_insert(payload);
    }
}

/// Drops every item, even if some `Drop` panics (user code: a key or value), then raises the
/// first panic again. While the thread is already unwinding, drops them plainly (a second panic
/// aborts, as in any drop).
pub(crate) fn drop_each<T>(items: impl IntoIterator<Item = T>) {
    if std::thread::panicking() {
        items.into_iter().for_each(drop);
        return;
    }
    let mut first_panic = None;
    for item in items {
        drop_one(item, &mut first_panic);
    }
    if let Some(payload) = first_panic {
        panic::resume_unwind(payload);
    }
}

/// How many entries ahead a loop over a table's entries asks for their cache lines
/// ([`prefetch`]), so that that many misses are in flight at once.
const PREFETCH_AHEAD: usize = 8;

/// [`PREFETCH_AHEAD`] for [`Table::iter_prefetched`], whose loop only reads the entries (a
/// rebuild, since borrowed handles: no count to write): more misses in flight pay there. The
/// rebuild at 1M entries took 24.2–27.4 ns an entry with 8, 20.6–22.2 with 32, 21.7–22.3 with
/// 64; at 262,144, 23.6–25.2, 20.9–21.0 and 19.6–21.1; at 16,384 and 65,536 the same with each
/// (`examples/rebuild_cost.rs`, BENCHMARKS.md, "borrowed handles").
const READ_AHEAD: usize = 32;

/// The size from which a table's drop prefetches its entries: at 65,536 entries (2 MB of
/// entries and values) the window made the drop slower (14–15 → 18 ns an entry), at 1M faster
/// (40–44 → 27; BENCHMARKS.md, "Rebuilds that do not wait for each entry").
const PREFETCH_DROPS_FROM: usize = 1 << 17;

/// The number of buckets from which a lookup asks for its home bucket's cache line
/// ([`BucketBase::prefetch_home`]): 16 KB of buckets. The prefetch paid from 2^11 buckets a
/// table (16,384 keys over eight shards) and cost nothing measurable at 2^11 in one table
/// (1,024 keys); below, the buckets stay in the L1 cache.
const PREFETCH_HOME_FROM: usize = 1 << 11;

/// The size from which a full table grows through [`Table::grow_prefetched`] rather than
/// hashbrown's rehash: at 57,344 entries and more it measured 1.1–2.8× faster per entry moved,
/// at 14,336 no faster (BENCHMARKS.md, "Growth that does not wait for each entry").
const PREFETCH_GROWTH_FROM: usize = 1 << 15;

/// Calls `f` on each handle [`PREFETCH_AHEAD`] handles after asking for its entry's cache line,
/// so that that many misses are in flight while `f` works (a loop that would otherwise wait for
/// each entry in turn). If `f` panics, the handles still in the window are dropped normally.
fn for_each_prefetched<K, V>(
    entries: impl Iterator<Item = SharedEntry<K, V>>,
    mut f: impl FnMut(SharedEntry<K, V>),
) {
    let mut window: [Option<SharedEntry<K, V>>; PREFETCH_AHEAD] = [const { None }; PREFETCH_AHEAD];
    for (at, entry) in entries.enumerate() {
        prefetch(SharedEntry::as_ptr(&entry));
        if let Some(due) = window[at % PREFETCH_AHEAD].replace(entry) {
            f(due);
        }
    }
    window.into_iter().flatten().for_each(f);
}

/// Where a lookup's home bucket lies, for a prefetch: hashbrown lays its buckets out in one
/// array, bucket `i` at `end - (i + 1) · size_of::<Slot>()`, ending at the control bytes, and
/// probes first the bucket its hash's low bits name (`hash & (buckets - 1)`). Learnt from an
/// occupied bucket whenever the table may have moved (an insert, a copy). The address is only
/// ever a hint, never dereferenced, so a layout other than the one assumed would cost speed,
/// not correctness ([`Table::check_index`] checks it in the tests).
///
/// A table with fewer than [`PREFETCH_HOME_FROM`] buckets, or none known yet, has no base
/// ([`BucketBase::NONE`], a null `end`), and its lookups ask for nothing.
///
/// One word, the bucket count coming from hashbrown: a second would take the dirty map's lock
/// cell past its two cache lines (`dirty.rs`; measured: an empty shard 888 → 1,024 bytes).
#[derive(Clone, Copy)]
struct BucketBase {
    end: *const u8,
}

// SAFETY: the pointer is never dereferenced, only offset (wrapping) for a prefetch hint.
unsafe impl Send for BucketBase {}
// SAFETY: as for `Send`.
unsafe impl Sync for BucketBase {}

impl BucketBase {
    /// No base: no prefetch.
    const NONE: BucketBase = BucketBase {
        end: core::ptr::null(),
    };

    /// The base of a table of `buckets` buckets whose bucket `index` is at `at`;
    /// [`NONE`](Self::NONE) for a table small enough to stay in cache.
    fn of<T>(index: usize, at: *const T, buckets: usize) -> BucketBase {
        if buckets < PREFETCH_HOME_FROM {
            return BucketBase::NONE;
        }
        BucketBase {
            end: at
                .cast::<u8>()
                .wrapping_add((index + 1) * core::mem::size_of::<T>()),
        }
    }

    /// [`of`](Self::of) a table's first occupied bucket.
    fn find<T>(table: &HashTable<T>) -> BucketBase {
        let occupied = table
            .iter_buckets()
            .next()
            .and_then(|index| Some((index, table.get_bucket(index)?)));
        occupied.map_or(BucketBase::NONE, |(index, bucket)| {
            BucketBase::of(index, core::ptr::from_ref(bucket), table.num_buckets())
        })
    }

    /// Whether this is a table's base, not [`NONE`](Self::NONE).
    #[inline]
    fn is_known(self) -> bool {
        !self.end.is_null()
    }

    /// Bucket `index`'s address, computed, not read. Wrapping throughout: [`ProbeHint`] may
    /// ask with an index from a torn pair, far outside any table.
    #[inline]
    fn bucket<T>(self, index: usize) -> *const T {
        self.end
            .wrapping_sub(
                index
                    .wrapping_add(1)
                    .wrapping_mul(core::mem::size_of::<T>()),
            )
            .cast()
    }

    /// Asks for the cache line of the bucket a lookup of `hash` probes first in a table of
    /// `buckets` buckets, so that it arrives while the control bytes are read rather than after
    /// them: a hit's bucket is then no second dependent miss. Read hits, prefetch on against
    /// off in one process: 4–12% faster from 16,384 keys up to 786,432, no different at 1,024
    /// (BENCHMARKS.md, "A lookup that asks for its bucket early"). A table without a base pays
    /// one predicted branch.
    #[inline]
    fn prefetch_home<T>(self, hash: u64, buckets: usize) {
        if self.is_known() {
            prefetch(self.bucket::<T>(hash as usize & (buckets - 1)));
        }
    }
}

/// Where a table's lookups begin, published for threads that may not read the table itself: a
/// shard's dirty table lives behind its lock, and a write that will probably need it (a store or
/// load-or-store while the read map is amended) asks for the cache lines its locked lookup will
/// read (the key's control-byte group and home bucket) before it probes the read map, so that
/// the two tables' misses overlap instead of following each other (BENCHMARKS.md, "Asking for
/// the dirty table early").
///
/// Every write that took the shard's lock refreshes it as it releases the lock (`shard.rs`,
/// `WriteLock`), so it names the current dirty table whenever the lock is free (the tests'
/// invariant check compares the two). A thread that reads it while the lock is held may find
/// a table just dropped or moved; that is harmless, because both words are only ever hints,
/// loaded and stored on their own with `Relaxed` ordering and never dereferenced: a stale or
/// torn pair costs a wasted prefetch, never correctness. For the same reason they are std's
/// atomics even under loom (not `primitive`'s), whose model has nothing to check in them.
pub(crate) struct ProbeHint {
    end: core::sync::atomic::AtomicPtr<u8>,
    buckets: core::sync::atomic::AtomicUsize,
}

impl ProbeHint {
    pub(crate) const fn new() -> Self {
        ProbeHint {
            end: core::sync::atomic::AtomicPtr::new(core::ptr::null_mut()),
            buckets: core::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Points the hint at `table` (nothing for `None`), storing only what changed. A table
    /// small enough to stay in cache has no base ([`PREFETCH_HOME_FROM`]) and is named as
    /// nothing: its lookups need no early request.
    #[inline]
    pub(crate) fn publish<K, V>(&self, table: Option<&Table<K, V>>) {
        use core::sync::atomic::Ordering::Relaxed;
        let (end, buckets) = Self::of(table);
        if self.end.load(Relaxed) != end {
            self.end.store(end, Relaxed);
        }
        if self.buckets.load(Relaxed) != buckets {
            self.buckets.store(buckets, Relaxed);
        }
    }

    /// What [`publish`](Self::publish) stores for `table`.
    #[inline]
    fn of<K, V>(table: Option<&Table<K, V>>) -> (*mut u8, usize) {
        match table {
            Some(table) if table.base.is_known() => {
                (table.base.end.cast_mut(), table.entries.num_buckets())
            }
            _ => (core::ptr::null_mut(), 0),
        }
    }

    /// Whether the hint names `table` as [`publish`](Self::publish) would: the table's own
    /// base and bucket count, whose bucket addresses [`Table::check_index`] checks.
    #[cfg(feature = "testing")]
    pub(crate) fn names<K, V>(&self, table: Option<&Table<K, V>>) -> bool {
        use core::sync::atomic::Ordering::Relaxed;
        (self.end.load(Relaxed), self.buckets.load(Relaxed)) == Self::of(table)
    }

    /// Asks for the control bytes and the home bucket that a lookup of `hash` reads first in the
    /// table last published, if any.
    #[inline]
    pub(crate) fn prefetch<K, V>(&self, hash: u64) {
        use core::sync::atomic::Ordering::Relaxed;
        let end = self.end.load(Relaxed);
        if end.is_null() {
            return;
        }
        // A torn pair may give any mask: the index is only used in wrapping arithmetic.
        let mask = self.buckets.load(Relaxed).wrapping_sub(1);
        let index = table_hash(short_hash(hash)) as usize & mask;
        // hashbrown's control bytes start where the buckets end, one byte a bucket.
        prefetch(end.wrapping_add(index));
        prefetch(BucketBase { end }.bucket::<Slot<K, V>>(index));
    }
}

/// The hash hashbrown is given for an entry of short hash `short`: `short` in both halves (see
/// the module docs). One multiplication.
#[inline]
fn table_hash(short: u32) -> u64 {
    u64::from(short) * 0x1_0000_0001
}

impl<K, V> Drop for Table<K, V> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.drop_entries();
        }
        // While unwinding, a second panic would abort: let hashbrown drop what it can.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hint read while a write republishes it may pair one table's bucket end with another
    /// table's bucket count, or with none at all (zero buckets, an all-ones mask). Asking for
    /// lines from such a pair must not overflow: in a debug build that was a panic inside a
    /// store, found by `linearizable_1m_ops` in the package check.
    #[test]
    fn a_torn_hint_asks_for_lines_without_overflowing() {
        let buckets = [0u64; 64];
        let end = buckets.as_ptr_range().end.cast::<u8>().cast_mut();
        for count in [0, 1, PREFETCH_HOME_FROM, usize::MAX] {
            let hint = ProbeHint {
                end: core::sync::atomic::AtomicPtr::new(end),
                buckets: core::sync::atomic::AtomicUsize::new(count),
            };
            for hash in [0, 1, u64::MAX, u64::MAX << 32, 0x9e37_79b9_7f4a_7c15] {
                hint.prefetch::<u64, u64>(hash);
                hint.prefetch::<String, [u8; 100]>(hash);
            }
        }
    }
}
