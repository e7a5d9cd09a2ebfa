//! A shard: one read map / dirty map pair running Go's algorithm exactly, with its own read
//! snapshot, dirty map, lock and miss count (issue 9).
//!
//! A map splits its keys over a power-of-two number of shards by bits 32 and up of each key's
//! hash ([`shard_index`]); those bits are disjoint from the bits hashbrown uses inside a table
//! (the low bits pick a bucket, the top seven are its control byte) and from the bits the read
//! map's new-key filter uses (20–31 and 40–51, for up to 256 shards), so every shard's tables and
//! filter see well-spread hashes. With one shard the map is Go's structure exactly. A hasher
//! that leaves those bits empty (an identity hash of small integers) puts every key in shard 0:
//! still correct, but unsharded.
//!
//! Invariant (**a key lives in one shard**): a key's hash, and so its shard, never changes, and
//! every operation on a key runs in that shard alone. So each shard keeps Go's invariants by
//! itself, and a walk that visits the shards one after the other visits no key twice.

use crate::dirty::Dirty;
use crate::primitive::{Mutex, MutexGuard};
use crate::read::{ReadCell, ReadOnly};
use crossbeam_utils::CachePadded;
use std::sync::PoisonError;

/// How many times [`Shard::lock`] tries the lock, backing off exponentially between tries (1, 2,
/// 4 … 64 pauses, 319 in all: about 9 µs at the 27 ns a pause of session 13's AMD guest), before
/// it blocks in std's lock, which spins about 100 pauses more and then sleeps on a futex.
///
/// Why: a thread that sleeps on the lock is woken by a futex wake-up (a system call for the
/// thread that unlocks, and on a virtual machine perhaps a wait for the host to run the halted
/// vCPU again), while a short critical section ends within a few microseconds. Six alternated
/// full runs of Go's benchmarks at two threads on a 2-vCPU guest: LoadOrStoreBalanced and
/// LoadOrStoreUnique 1.2–1.3× faster, the other rows within their spread; futex calls 10 to
/// 200 times fewer in the rows that write (Clear 16,268 → 108). The stalls those runs also
/// showed (one benchmark at 2 to 300 ms an operation in some runs) were not the lock's but the
/// benchmark harness's allocator (BENCHMARKS.md, session 14). `parking_lot`'s lock measured
/// the same on the rows, so no dependency was added. Each try is a compare-exchange on the
/// lock's word, which shares its cache line with the dirty map's state, hence the growing
/// pauses; what the tries cost with many writers queued on one lock is for the 16-core run to
/// measure. Under loom the lock is taken at once: the tries change nothing loom checks, and a
/// spinning model would never end.
#[cfg(not(loom))]
const LOCK_TRIES: u32 = 10;

/// The most shards a map can have: the shard index takes at most 8 hash bits (see above).
pub(crate) const MAX_SHARDS: usize = 256;

pub(crate) struct Shard<K, V> {
    /// The read map (Go's `read`), published atomically, loaded under a guard without a lock.
    pub(crate) read: CachePadded<ReadCell<K, V>>,
    /// The dirty map, the miss counter and the statistics (Go's `mu`, `dirty`, `misses`).
    pub(crate) dirty: CachePadded<Mutex<Dirty<K, V>>>,
}

impl<K, V> Shard<K, V> {
    pub(crate) fn new() -> Self {
        Shard {
            read: CachePadded::new(ReadCell::new(ReadOnly::empty())),
            dirty: CachePadded::new(Mutex::new(Dirty::new())),
        }
    }

    /// Locks the dirty map, trying [`LOCK_TRIES`] times with a growing pause before it blocks.
    /// A panic under the lock (a user `Eq`) never leaves the state half-changed, so poisoning
    /// carries no information and is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Dirty<K, V>> {
        #[cfg(not(loom))]
        for round in 0..LOCK_TRIES {
            match self.dirty.try_lock() {
                Ok(dirty) => return dirty,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    for _ in 0..1_u32 << round.min(6) {
                        crate::primitive::spin_loop();
                    }
                }
            }
        }
        self.dirty.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the dirty map for a write: when the returned guard is released, even by
    /// unwinding, the dirty-table hint ([`ReadCell::publish_dirty_locked`]) is pointed at the
    /// dirty table the holder leaves, so that it names the current one whenever the lock is free.
    pub(crate) fn write_lock(&self) -> WriteLock<'_, K, V> {
        WriteLock {
            read: &self.read,
            dirty: self.lock(),
        }
    }

    /// Takes the shard apart: its read snapshot and its dirty map, which, if it exists, has
    /// taken over the snapshot's handles (so it may be kept alone, or both dropped).
    pub(crate) fn into_parts(self) -> (ReadOnly<K, V>, Dirty<K, V>) {
        let mut this = core::mem::ManuallyDrop::new(self);
        this.hand_over_to_dirty();
        // SAFETY: `this` is never dropped, and each field is moved out of it exactly once.
        let (read, dirty) = unsafe { (core::ptr::read(&this.read), core::ptr::read(&this.dirty)) };
        let read = CachePadded::into_inner(read).into_inner();
        let dirty = CachePadded::into_inner(dirty)
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        (read, dirty)
    }

    /// Before the shard is dropped or taken apart: a dirty map's aliases of the read map's
    /// entries become its counted handles (`dirty.rs`, "borrowed handles"), so that each table
    /// releases, or keeps, only what it counts.
    fn hand_over_to_dirty(&mut self) {
        let dirty = self.dirty.get_mut().unwrap_or_else(PoisonError::into_inner);
        dirty.take_over_locked(self.read.get_mut());
    }
}

impl<K, V> Drop for Shard<K, V> {
    fn drop(&mut self) {
        self.hand_over_to_dirty();
    }
}

/// A shard's lock held by a write ([`Shard::write_lock`]).
pub(crate) struct WriteLock<'s, K, V> {
    read: &'s ReadCell<K, V>,
    dirty: MutexGuard<'s, Dirty<K, V>>,
}

impl<K, V> core::ops::Deref for WriteLock<'_, K, V> {
    type Target = Dirty<K, V>;

    #[inline]
    fn deref(&self) -> &Dirty<K, V> {
        &self.dirty
    }
}

impl<K, V> core::ops::DerefMut for WriteLock<'_, K, V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Dirty<K, V> {
        &mut self.dirty
    }
}

impl<K, V> Drop for WriteLock<'_, K, V> {
    #[inline]
    fn drop(&mut self) {
        // Runs before the field releases the lock.
        self.read.publish_dirty_locked(self.dirty.table.as_ref());
    }
}

/// The shard of a hash, for `shards` a power of two no larger than [`MAX_SHARDS`].
#[inline(always)]
pub(crate) fn shard_index(hash: u64, shards: usize) -> usize {
    (hash >> 32) as usize & (shards - 1)
}
