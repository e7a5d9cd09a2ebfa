//! [`SharedEntry`]: the counted handle through which tables hold entries.
//!
//! The read map, the dirty map and retired read snapshots may all index one entry, and it is
//! freed when the last handle that counts goes. The dirty map's copies of the read map's entries
//! are uncounted aliases ([`SharedEntry::alias`]), whose count the read map's handle carries
//! until the read map hands it over (`dirty.rs`, "borrowed handles"), so a rebuild writes no
//! count; every other handle is counted.
//!
//! `std`'s `Arc` would do, but its header is two `usize` counts, and an entry never needs the
//! weak one. Here the count is a `u32` that shares its word with the entry's 32-bit hash
//! (`Entry::handles` and `Entry::hash`), so an entry of a `u64` key is 24 bytes, not `Arc`'s 40
//! (at a million `u64` pairs, 66.9 bytes a pair instead of 82.9: BENCHMARKS.md, "Entries of 24
//! bytes"). `triomphe::Arc` drops the weak count too, but its count is a `usize` word of its
//! own, which leaves the entry at 32 bytes; sharing the word with the hash is what this small
//! type is for.
//!
//! The protocol is `Arc`'s, minus weak handles: a clone increments the count (relaxed: a new
//! handle is made from an existing one, which keeps the entry alive); a drop decrements it with
//! release ordering, and the one that takes it to zero loads it again with acquire ordering (so
//! every other holder's accesses happen before the free) and frees the entry. A count past
//! `i32::MAX` aborts, as `Arc` does past `isize::MAX`: only a program that leaks handles could
//! get there, and it must not wrap around to a free.
//!
//! A drop that finds the count at one (an acquire load) is the last handle and frees without
//! decrementing: with no weak handles nothing can raise a count only its holder could clone
//! from. That spares a locked read-modify-write for each entry removed or expunged (Go's Clear
//! at one thread 4–11% faster: BENCHMARKS.md, session 13). The map itself never leans on that
//! acquire: a table's handle is dropped under its shard's lock or by the reclaimer, which
//! order the earlier holders' accesses before the free already (a version with a relaxed load
//! passed loom and miri too); it keeps the handle's own protocol whole, as `Arc`'s, for any
//! future holder.
//!
//! Under loom the count is loom's `AtomicU32`, so the models check this protocol along with the
//! rest; miri, ASan and valgrind check the allocation.

use super::Entry;
use crate::primitive::Ordering;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

/// A counted handle to an [`Entry`] on the heap (see the module docs).
pub(crate) struct SharedEntry<K, V> {
    // Invariant: `ptr` is a `Box<Entry>` leaked by `new`, whose `handles` counts the
    // `SharedEntry`s pointing at it; it is freed only when that count drops to zero.
    ptr: NonNull<Entry<K, V>>,
    _owns: PhantomData<Entry<K, V>>,
}

// SAFETY: as for `Arc<Entry>`: a handle gives shared access to the entry from any thread, and
// the last one, on whichever thread, drops it; so both need the entry to be `Send + Sync`.
unsafe impl<K, V> Send for SharedEntry<K, V> where Entry<K, V>: Send + Sync {}
// SAFETY: as above.
unsafe impl<K, V> Sync for SharedEntry<K, V> where Entry<K, V>: Send + Sync {}

/// The most handles an entry may have; one more aborts.
const MAX_HANDLES: u32 = i32::MAX as u32;

impl<K, V> SharedEntry<K, V> {
    /// Moves `entry` to the heap, as its first and only handle.
    pub(crate) fn new(entry: Entry<K, V>) -> Self {
        debug_assert_eq!(entry.handles.load(Ordering::Relaxed), 1);
        SharedEntry {
            ptr: NonNull::from(Box::leak(Box::new(entry))),
            _owns: PhantomData,
        }
    }

    /// The entry's address, valid for as long as some handle to it is.
    #[inline]
    pub(crate) fn as_ptr(this: &Self) -> *const Entry<K, V> {
        this.ptr.as_ptr()
    }

    /// Whether two handles point to the same entry.
    #[cfg(feature = "testing")]
    pub(crate) fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// How many counted handles the entry has (for `check_invariants`).
    #[cfg(feature = "testing")]
    pub(crate) fn count(this: &Self) -> u32 {
        this.handles.load(Ordering::SeqCst)
    }

    /// A second handle to the same entry that the count does not include: the dirty map's copy
    /// of an entry the read map holds (see `dirty.rs`, "borrowed handles").
    ///
    /// # Safety
    ///
    /// Of `this` and the alias, at most as many may be dropped as counted handles as the count
    /// includes: the caller must forget one of them (or keep it in a `ManuallyDrop` it never
    /// drops), or give the alias the count `this` leaves behind by forgetting `this`. The alias
    /// must not be used once the entry's last counted handle is gone.
    pub(crate) unsafe fn alias(this: &Self) -> Self {
        SharedEntry {
            ptr: this.ptr,
            _owns: PhantomData,
        }
    }

    /// The entry itself, if this is its only handle; otherwise the handle back.
    pub(crate) fn try_unwrap(this: Self) -> Result<Entry<K, V>, Self> {
        if this
            .handles
            .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(this);
        }
        let this = core::mem::ManuallyDrop::new(this);
        // SAFETY: the count was 1 and is now 0: this was the only handle, so no other can reach
        // the box `new` leaked, and the acquire exchange ordered every earlier holder's accesses
        // before this. The handle is forgotten, so the box is taken back exactly once.
        Ok(*unsafe { Box::from_raw(this.ptr.as_ptr()) })
    }
}

impl<K, V> Clone for SharedEntry<K, V> {
    #[inline]
    fn clone(&self) -> Self {
        if self.handles.fetch_add(1, Ordering::Relaxed) >= MAX_HANDLES {
            std::process::abort();
        }
        SharedEntry {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<K, V> Deref for SharedEntry<K, V> {
    type Target = Entry<K, V>;

    #[inline]
    fn deref(&self) -> &Entry<K, V> {
        // SAFETY: this handle is counted, so the entry is not freed while it lives.
        unsafe { self.ptr.as_ref() }
    }
}

impl<K, V> Drop for SharedEntry<K, V> {
    #[inline]
    fn drop(&mut self) {
        // The last handle (the common case: an entry only one table held, removed or expunged)
        // frees without the read-modify-write: with no weak handles, a new handle can only be
        // cloned from a counted one, and this is the only one, so the count cannot rise again.
        // Acquire: every other handle's release decrement, which left the count at one,
        // happens before the free.
        if self.handles.load(Ordering::Acquire) != 1
            && self.handles.fetch_sub(1, Ordering::Release) != 1
        {
            return;
        }
        // Acquire (after the decrement): as above. (A load, not a fence, as `Arc` does under
        // ThreadSanitizer, which does not model fences.)
        self.handles.load(Ordering::Acquire);
        // SAFETY: the count reached zero: this was the last handle, so nothing else can reach
        // the box `new` leaked, and it is taken back once.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}
