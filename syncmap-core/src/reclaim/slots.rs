//! Each thread's slot in each domain, and the small thread indices that place it.

use super::{publish_slice, Core, QUIET};
use crate::primitive::{fence, thread_local, AtomicBool, AtomicU64, Ordering};
use core::cell::Cell;
use core::ptr;
use crossbeam_utils::CachePadded;
use std::collections::BinaryHeap;

/// Buckets of thread slots: bucket `b` holds `2^b` slots, so 48 buckets cover any thread count
/// (under loom, 4 cover its at most 4 threads and keep the model small).
pub(super) const BUCKETS: usize = if cfg!(loom) { 4 } else { 48 };

/// One thread's reader state in one domain.
pub(crate) struct Slot {
    /// The epoch the thread entered with, or [`QUIET`]. Written only by its thread, read by
    /// writers' scans.
    pub(super) epoch: AtomicU64,
    /// Whether the thread is a writer relying on fenced mode right now (`mode.rs`). Written only
    /// by its thread, read by a reader switching fenced mode off.
    pub(super) relying: AtomicBool,
    /// How many guards the thread holds in this domain. Private to the thread: see the `Sync`
    /// impl.
    pub(super) depth: Cell<usize>,
    /// Whether the thread (or an earlier thread with the same index) has registered. Private.
    pub(super) seen: Cell<bool>,
    /// Whether the current guards borrowed `index` (the thread's own was destroyed). Private.
    pub(super) temporary: Cell<bool>,
    /// Fenced entries since the thread last looked at whether writes have stopped (`mode.rs`).
    /// Private.
    pub(super) fenced_entries: Cell<u32>,
    /// The domain's retire count ([`Core::total_retires`]) the thread saw at that look.
    /// Private.
    pub(super) checked_retires: Cell<u64>,
    /// How many times the thread retired garbage in the domain. Written only by its thread,
    /// read by readers looking at whether writes have stopped (`mode.rs`).
    pub(super) retires: AtomicU64,
    /// The thread index this slot belongs to.
    pub(super) index: usize,
}

// SAFETY: the `Cell`s are read and written only by the thread whose index the slot belongs to
// (enter, leave and `retire` on that thread's own guard); at most one live thread holds an
// index, and an index passes from one thread to the next through the `INDICES` mutex, which
// orders the previous holder's accesses before the next one's. `epoch`, `relying` and `retires`
// are atomic.
unsafe impl Sync for Slot {}

impl Core {
    /// The calling thread's slot, when `LAST` does not have it: found by thread index (and
    /// cached), or, while the thread's thread-locals are being destroyed, the slot of an index
    /// borrowed until the guard is released.
    #[cold]
    pub(super) fn find_slot(&self) -> &Slot {
        match ThreadIndex::current() {
            Some(index) => {
                let slot = self.slot(index);
                let _ = LAST.try_with(|last| last.set((self.id, ptr::from_ref(slot))));
                slot
            }
            None => {
                let slot = self.slot(ThreadIndex::acquire());
                slot.temporary.set(true);
                slot
            }
        }
    }

    /// The slot of thread `index`, allocated and registered on first use.
    #[inline(always)]
    pub(super) fn slot(&self, index: usize) -> &Slot {
        let (b, i) = position(index);
        let mut first = self.buckets[b].load(Ordering::Acquire);
        if first.is_null() {
            first = self.grow(b);
        }
        // SAFETY: bucket `b` is a live allocation of `1 << b` slots (`grow`), `i < 1 << b`, and
        // it is freed only when the domain is dropped, which the borrow of `self` rules out.
        let slot: &Slot = unsafe { &*first.add(i) };
        if !slot.seen.get() {
            self.register(index, slot);
        }
        slot
    }

    #[cold]
    fn grow(&self, b: usize) -> *mut CachePadded<Slot> {
        let slots: Box<[CachePadded<Slot>]> = (0..1_usize << b)
            .map(|i| {
                CachePadded::new(Slot {
                    index: first_index(b) + i,
                    temporary: Cell::new(false),
                    fenced_entries: Cell::new(0),
                    checked_retires: Cell::new(0),
                    retires: AtomicU64::new(0),
                    epoch: AtomicU64::new(QUIET),
                    relying: AtomicBool::new(false),
                    depth: Cell::new(0),
                    seen: Cell::new(false),
                })
            })
            .collect();
        let (first, published) = publish_slice(&self.buckets[b], slots);
        if published {
            // Before the thread's registration fence, hence visible to every scan that must see
            // the thread's slot (invariant 1).
            self.buckets_used.fetch_max(b + 1, Ordering::AcqRel);
        }
        first
    }

    /// Invariant 4: the first thread to use the domain becomes its owner; any other marks it
    /// shared. The fence orders that before the thread's first load of anything protected.
    #[cold]
    fn register(&self, index: usize, slot: &Slot) {
        let me = index + 1;
        match self
            .owner
            .compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(owner) if owner == me => {}
            Err(_) => self.shared.store(true, Ordering::SeqCst),
        }
        fence(Ordering::SeqCst);
        slot.seen.set(true);
    }

    /// The smallest epoch any reader is inside with, or `u64::MAX` when none is.
    pub(super) fn min_active(&self) -> u64 {
        let mut min = u64::MAX;
        self.each_slot(|slot| {
            let epoch = slot.epoch.load(Ordering::Acquire);
            if epoch != QUIET {
                min = min.min(epoch);
            }
        });
        min
    }

    /// Whether any writer relies on fenced mode at the moment of its slot's load (`mode.rs`).
    pub(super) fn any_relying(&self) -> bool {
        let mut any = false;
        // Acquire: a flag seen lowered brings that writer's unlinks with it (`mode.rs`).
        self.each_slot(|slot| any |= slot.relying.load(Ordering::Acquire));
        any
    }

    /// How many retires every thread has made in the domain so far (each slot's count is
    /// written by its own thread only, so a write costs no shared cache line).
    pub(super) fn total_retires(&self) -> u64 {
        let mut total = 0_u64;
        self.each_slot(|slot| total = total.wrapping_add(slot.retires.load(Ordering::Relaxed)));
        total
    }

    /// Calls `f` on every slot allocated so far.
    #[inline]
    fn each_slot(&self, mut f: impl FnMut(&Slot)) {
        let used = self.buckets_used.load(Ordering::Acquire);
        for (b, bucket) in self.buckets[..used].iter().enumerate() {
            let first = bucket.load(Ordering::Acquire);
            if first.is_null() {
                continue;
            }
            for i in 0..1_usize << b {
                // SAFETY: as in `slot`.
                f(unsafe { &*first.add(i) });
            }
        }
    }
}

/// The thread index of the first slot of bucket `b`.
fn first_index(b: usize) -> usize {
    (1 << b) - 1
}

/// Bucket and position of thread `index`'s slot.
#[inline]
fn position(index: usize) -> (usize, usize) {
    let n = index + 1;
    let b = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (b, n - (1 << b))
}

/// Small indices for live threads, reused after a thread exits, so slot buckets stay dense.
pub(super) struct ThreadIndex(usize);

struct Indices {
    next: usize,
    free: BinaryHeap<core::cmp::Reverse<usize>>,
}

#[cfg(not(loom))]
static INDICES: std::sync::Mutex<Indices> = std::sync::Mutex::new(Indices {
    next: 0,
    free: BinaryHeap::new(),
});

// Under loom, indices restart with every explored execution, so each execution allocates the
// same slots and the model stays deterministic.
#[cfg(loom)]
loom::lazy_static! {
    static ref INDICES: std::sync::Mutex<Indices> = std::sync::Mutex::new(Indices {
        next: 0,
        free: BinaryHeap::new(),
    });
}

fn indices() -> std::sync::MutexGuard<'static, Indices> {
    INDICES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

thread_local! {
    static THREAD_INDEX: ThreadIndex = ThreadIndex(ThreadIndex::acquire());
}

impl ThreadIndex {
    #[inline]
    pub(super) fn current() -> Option<usize> {
        THREAD_INDEX.try_with(|t| t.0).ok()
    }

    pub(super) fn acquire() -> usize {
        let mut indices = indices();
        match indices.free.pop() {
            Some(core::cmp::Reverse(index)) => index,
            None => {
                indices.next += 1;
                indices.next - 1
            }
        }
    }

    pub(super) fn release(index: usize) {
        indices().free.push(core::cmp::Reverse(index));
    }
}

impl Drop for ThreadIndex {
    fn drop(&mut self) {
        // Under loom the whole table is reset between executions instead.
        #[cfg(not(loom))]
        ThreadIndex::release(self.0);
    }
}

pub(super) static NEXT_DOMAIN_ID: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(1);

#[cfg(not(loom))]
std::thread_local! {
    /// The slot this thread used last and its domain's id: one compare instead of the index
    /// lookup while a thread keeps using one map. Ids are never reused, so the entry of a
    /// dropped domain never matches again.
    pub(super) static LAST: Cell<(u64, *const Slot)> = const { Cell::new((0, ptr::null())) };
}

#[cfg(loom)]
loom::thread_local! {
    pub(super) static LAST: Cell<(u64, *const Slot)> = Cell::new((0, ptr::null()));
}
