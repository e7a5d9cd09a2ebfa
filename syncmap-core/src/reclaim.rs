//! Memory reclamation: when a value, entry or table that a writer unlinked may be dropped.
//!
//! This is the only file that knows how readers are tracked. Everything else sees three things:
//! a [`Guard`], taken once per public operation (or once per [`pin`](crate::SyncMap::pin)
//! session) and protecting every pointer loaded while it is held; an [`Op`], a guard plus the
//! garbage the operation unlinked, which is retired when the operation ends; and [`finish`],
//! which raises a panic from a `Drop` that ran during reclamation once the operation is complete.
//!
//! # The protocol
//!
//! Each map has its own reclamation *domain*: an epoch counter and one slot per thread that has
//! used the map. A reader **enters** by copying the epoch into its slot and **leaves** by storing
//! zero there. Both are plain stores (on x86-64, `mov`s), separated from the reader's loads only
//! by a *light barrier*, a compiler fence. The cost of ordering moves to the writer, which after
//! unlinking something issues the *heavy barrier* (`membarrier(PRIVATE_EXPEDITED)` through the
//! [`membarrier`](https://docs.rs/membarrier) crate: it runs a full fence on every CPU running a
//! thread of the process) and then scans the slots. This is the design of liburcu's membarrier
//! flavour. The invariants, each kept by the code below that names it:
//!
//! 1. **Visible readers.** After a writer's heavy barrier, every reader is in one of two states:
//!    its slot store is visible to the writer's scan, or it has not yet loaded anything, so its
//!    loads will see the unlink. (The barrier pairs with the reader's light barrier.)
//! 2. **Epochs.** A writer takes a fresh epoch `r` *after* unlinking. A reader that entered with
//!    epoch `e >= r` read the epoch after the unlink (acquire/release on the epoch counter), so it
//!    cannot reach what was unlinked. Garbage retired at `r` is therefore blocked only by slots
//!    holding a nonzero `e < r`, and a reader that keeps re-entering never blocks it for long.
//! 3. **Last reader out.** Garbage that is blocked goes to the domain's pending list, and the
//!    largest pending epoch is published in `pending_max`. Then the writer issues a second heavy
//!    barrier and tries again: every reader still inside after that barrier will see
//!    `pending_max` when it leaves, and a leaving reader whose own epoch is below it reclaims
//!    (checking is one plain load). So with no concurrent reader, garbage is dropped before the
//!    writer's operation returns; otherwise, no later than when the last guard that could see it
//!    is released.
//! 4. **Alone.** A map that only one thread has ever used needs no barrier: the first thread to
//!    use the map is its *owner*, and any other thread sets `shared` (then a `SeqCst` fence)
//!    before its first load. A writer that finds itself the owner of an unshared map after its
//!    own `SeqCst` fence knows no other thread can hold what it unlinked.
//!
//! Under `cfg(loom)` and `cfg(miri)` both barriers are `SeqCst` fences, which is how the loom
//! model of this protocol (`tests/loom_reclaim.rs`) checks it.

use crate::primitive::{
    fence, heavy_barrier, light_barrier, spin_loop, thread_local, AtomicBool, AtomicPtr, AtomicU64,
    AtomicUsize, Mutex, Ordering,
};
use core::cell::Cell;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ptr::{self, NonNull};
use crossbeam_utils::CachePadded;
use std::any::Any;
use std::collections::BinaryHeap;
use std::panic::{self, AssertUnwindSafe};

/// How many times an eager retire re-scans for readers seen inside before deferring.
const SPINS: usize = if cfg!(loom) { 1 } else { 64 };

/// A slot's epoch while its thread is outside every guard of the domain.
const QUIET: u64 = 0;
/// Buckets of thread slots: bucket `b` holds `2^b` slots, so 48 buckets cover any thread count
/// (under loom, 4 cover its at most 4 threads and keep the model small).
const BUCKETS: usize = if cfg!(loom) { 4 } else { 48 };

/// One thread's reader state in one domain.
pub(crate) struct Slot {
    /// The epoch the thread entered with, or [`QUIET`]. Written only by its thread, read by
    /// writers' scans.
    epoch: AtomicU64,
    /// How many guards the thread holds in this domain. Private to the thread: see the `Sync`
    /// impl.
    depth: Cell<usize>,
    /// Whether the thread (or an earlier thread with the same index) has registered. Private.
    seen: Cell<bool>,
    /// Whether the current guards borrowed `index` (the thread's own was destroyed). Private.
    temporary: Cell<bool>,
    /// The thread index this slot belongs to.
    index: usize,
}

// SAFETY: the `Cell`s are read and written only by the thread whose index the slot belongs to
// (enter, leave and `retire` on that thread's own guard); at most one live thread holds an
// index, and an index passes from one thread to the next through the `INDICES` mutex, which
// orders the previous holder's accesses before the next one's. `epoch` is atomic.
unsafe impl Sync for Slot {}

/// The domain state that does not depend on the garbage type.
pub(crate) struct Core {
    /// Unique for the life of the process (never reused, unlike addresses): the key of each
    /// thread's `LAST` cache.
    id: u64,
    epoch: CachePadded<AtomicU64>,
    /// The largest epoch among pending garbage, or 0 (invariant 3).
    pending_max: CachePadded<AtomicU64>,
    /// Thread index + 1 of the first thread that used the domain, 0 before (invariant 4).
    owner: AtomicUsize,
    /// Whether a thread other than the owner has used the domain (invariant 4).
    shared: AtomicBool,
    buckets: [AtomicPtr<CachePadded<Slot>>; BUCKETS],
    /// One more than the highest bucket allocated, so scans skip the empty tail.
    buckets_used: AtomicUsize,
    /// `reclaim_erased::<G>` for the `Domain<G>` this core is the first field of: how a guard,
    /// which knows only the core, reclaims pending garbage.
    reclaim: unsafe fn(*const Core),
}

/// A domain whose garbage is of type `G`. `repr(C)` with the core first, so that a pointer to
/// the domain is also a pointer to its core (see `Core::reclaim`).
#[repr(C)]
pub(crate) struct Domain<G> {
    core: Core,
    pending: Mutex<Pending<G>>,
    /// `Some(n)`: batched mode (see [`Reclaim`](crate::Reclaim)).
    batch: Option<usize>,
}

/// Garbage waiting for readers, each item with the epoch it was retired at.
struct Pending<G> {
    /// Fenced (a heavy barrier came after its unlink): free once no reader's epoch is below.
    fenced: Vec<(u64, G)>,
    /// Batched mode only: not yet fenced, so no scan may free it.
    unfenced: Vec<(u64, G)>,
}

/// # Safety
///
/// `core` must point to the `core` field of a live `Domain<G>`, with the provenance of a
/// reference to the whole domain.
unsafe fn reclaim_erased<G>(core: *const Core) {
    // SAFETY: the caller's contract; `Domain` is `repr(C)` with `core` first.
    let domain = unsafe { &*core.cast::<Domain<G>>() };
    domain.reclaim_pending();
}

impl<G> Domain<G> {
    /// A domain in eager mode (`batch: None`) or batched mode.
    pub(crate) fn new(batch: Option<usize>) -> Self {
        Domain {
            core: Core {
                id: NEXT_DOMAIN_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                epoch: CachePadded::new(AtomicU64::new(1)),
                pending_max: CachePadded::new(AtomicU64::new(0)),
                owner: AtomicUsize::new(0),
                shared: AtomicBool::new(false),
                buckets: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
                buckets_used: AtomicUsize::new(0),
                reclaim: reclaim_erased::<G>,
            },
            pending: Mutex::new(Pending {
                fenced: Vec::new(),
                unfenced: Vec::new(),
            }),
            batch,
        }
    }

    /// Enters a read-side critical section: until the guard is dropped, nothing retired through
    /// this domain after this call is dropped. Nests: an inner guard costs two plain stores.
    /// (Always inlined: returned through memory, the guard would be read back with wider loads
    /// than the stores that built it, and stall on store forwarding; measured 5–20 ns a call.)
    #[inline(always)]
    pub(crate) fn enter(&self) -> Guard<'_> {
        let slot = match LAST.try_with(Cell::get) {
            // SAFETY: this thread cached `slot` for the domain with this id, which is `self`
            // (ids are never reused); a slot lives as long as its domain, and this thread's
            // index (so its slot) is fixed for the thread's life.
            Ok((id, slot)) if id == self.core.id => unsafe { &*slot },
            _ => self.core.find_slot(),
        };
        let depth = slot.depth.get();
        if depth == 0 {
            // Invariant 2: the epoch is read before any pointer, and published before them.
            let epoch = self.core.epoch.load(Ordering::Acquire);
            slot.epoch.store(epoch, Ordering::Release);
            // Invariant 1: pairs with the writer's heavy barrier.
            light_barrier(slot.index);
        }
        slot.depth.set(depth + 1);
        Guard {
            slot,
            // Derived from `&self`, the whole domain (see `reclaim_erased`).
            core: NonNull::from(self).cast::<Core>(),
            _domain: PhantomData,
        }
    }

    /// Starts an operation: a guard plus the garbage it will unlink.
    #[inline(always)]
    pub(crate) fn begin(&self) -> Op<'_, G> {
        Op {
            guard: ManuallyDrop::new(self.enter()),
            domain: self,
            unlinked: Cell::new(false),
            garbage: ManuallyDrop::new(Cell::new(Bag::new())),
        }
    }

    /// Retires garbage that was unlinked while `guard` was held: leaves the guard, then drops
    /// the garbage at once if no other reader can hold it, or hands it to the last reader out.
    fn retire(&self, guard: Guard<'_>, garbage: Bag<G>) {
        if garbage.is_empty() {
            drop(guard);
            return;
        }
        let index = guard.slot.index;
        let nested = guard.slot.depth.get() > 1;
        drop(guard);
        // Invariant 4: pairs with the fence in `Core::register`.
        fence(Ordering::SeqCst);
        let alone = !self.core.shared.load(Ordering::Relaxed)
            && self.core.owner.load(Ordering::Relaxed) == index + 1;
        if alone && !nested {
            free(garbage);
            return;
        }
        // Invariant 2: the epoch is taken after every unlink of this operation.
        let retired_at = self.core.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(batch) = self.batch {
            // Batched mode: no barrier per operation; one for every `batch` items.
            let mut pending = lock(&self.pending);
            pending
                .unfenced
                .extend(garbage.into_iter().map(|g| (retired_at, g)));
            let full = pending.unfenced.len() >= batch;
            drop(pending);
            if full {
                self.flush();
            }
            return;
        }
        // Invariant 1. (A nested retire in an unshared map could skip the barriers, but another
        // thread registering meanwhile could then miss `pending_max`; it takes the general path.)
        heavy_barrier();
        // Readers seen inside with an older epoch are usually in the middle of a short
        // operation: wait a moment for them (each re-scan sees a slot's current state or a
        // newer one, and a reader that has left cannot come back to what was unlinked), unless
        // this thread itself is one of them.
        let spins = if nested { 0 } else { SPINS };
        for _ in 0..=spins {
            if self.core.min_active() >= retired_at {
                free(garbage);
                return;
            }
            spin_loop();
        }
        // Invariant 3: publish the pending epoch, then make sure every reader still inside
        // will see it when it leaves, and try once more.
        self.defer(retired_at, garbage);
        heavy_barrier();
        self.reclaim_pending();
    }

    fn defer(&self, retired_at: u64, garbage: Bag<G>) {
        let mut pending = lock(&self.pending);
        pending
            .fenced
            .extend(garbage.into_iter().map(|g| (retired_at, g)));
        let max = self
            .core
            .pending_max
            .load(Ordering::Relaxed)
            .max(retired_at);
        self.core.pending_max.store(max, Ordering::Relaxed);
    }

    /// Batched mode: fences everything retired so far (one heavy barrier) and drops what no
    /// reader can hold; the rest waits for the last reader out. Eager mode: drops what the last
    /// reader out has not dropped yet (normally nothing).
    pub(crate) fn flush(&self) {
        let unfenced = mem::take(&mut lock(&self.pending).unfenced);
        if !unfenced.is_empty() {
            // Invariant 1, for every item at once: they were all unlinked before this point.
            heavy_barrier();
            let mut pending = lock(&self.pending);
            let max = unfenced.iter().map(|(r, _)| *r).max().unwrap_or(0);
            pending.fenced.extend(unfenced);
            let max = self.core.pending_max.load(Ordering::Relaxed).max(max);
            self.core.pending_max.store(max, Ordering::Relaxed);
            drop(pending);
            heavy_barrier();
        }
        self.reclaim_pending();
    }

    /// Drops the pending garbage that no reader can hold any more. The scan runs under the
    /// pending lock, after the lock holder that deferred the garbage read the same slots, so it
    /// never sees an older slot state than that writer did.
    fn reclaim_pending(&self) {
        let freed = {
            let mut pending = lock(&self.pending);
            if pending.fenced.is_empty() {
                return;
            }
            let min_active = self.core.min_active();
            let (freed, kept): (Vec<_>, Vec<_>) = mem::take(&mut pending.fenced)
                .into_iter()
                .partition(|(retired_at, _)| *retired_at <= min_active);
            let max = kept.iter().map(|(r, _)| *r).max().unwrap_or(0);
            self.core.pending_max.store(max, Ordering::Relaxed);
            pending.fenced = kept;
            freed
        };
        free(freed.into_iter().map(|(_, g)| g));
    }

    /// Whether any garbage is waiting for a reader to leave (for tests and `Stats`).
    pub(crate) fn pending_len(&self) -> usize {
        let pending = lock(&self.pending);
        pending.fenced.len() + pending.unfenced.len()
    }
}

impl<G> Drop for Domain<G> {
    fn drop(&mut self) {
        // No guard can outlive the domain (guards borrow it), so everything pending is free.
        let mut pending = lock(&self.pending);
        let (fenced, unfenced) = (
            mem::take(&mut pending.fenced),
            mem::take(&mut pending.unfenced),
        );
        drop(pending);
        drop((fenced, unfenced));
        for (b, bucket) in self.core.buckets.iter().enumerate() {
            let first = bucket.load(Ordering::Relaxed);
            if !first.is_null() {
                // SAFETY: `first` came from `Box::into_raw` of a boxed slice of `1 << b` slots in
                // `Core::grow`, and nothing refers to the slots once the domain is dropped.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(first, 1 << b)) });
            }
        }
    }
}

impl Core {
    /// The calling thread's slot, when `LAST` does not have it: found by thread index (and
    /// cached), or, while the thread's thread-locals are being destroyed, the slot of an index
    /// borrowed until the guard is released.
    #[cold]
    fn find_slot(&self) -> &Slot {
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
    fn slot(&self, index: usize) -> &Slot {
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
                    epoch: AtomicU64::new(QUIET),
                    depth: Cell::new(0),
                    seen: Cell::new(false),
                })
            })
            .collect();
        let fresh = Box::into_raw(slots).cast::<CachePadded<Slot>>();
        match self.buckets[b].compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                // Before the thread's registration fence, hence visible to every scan that must
                // see the thread's slot (invariant 1).
                self.buckets_used.fetch_max(b + 1, Ordering::AcqRel);
                fresh
            }
            Err(installed) => {
                // SAFETY: `fresh` was never published; it is the boxed slice built above.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, 1 << b)) });
                installed
            }
        }
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

    /// The smallest epoch any reader is inside with, or `u64::MAX`.
    fn min_active(&self) -> u64 {
        let mut min = u64::MAX;
        let used = self.buckets_used.load(Ordering::Acquire);
        for (b, bucket) in self.buckets[..used].iter().enumerate() {
            let first = bucket.load(Ordering::Acquire);
            if first.is_null() {
                continue;
            }
            for i in 0..1_usize << b {
                // SAFETY: as in `slot`.
                let slot: &Slot = unsafe { &*first.add(i) };
                let epoch = slot.epoch.load(Ordering::Acquire);
                if epoch != QUIET {
                    min = min.min(epoch);
                }
            }
        }
        min
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

/// A read-side critical section in one domain; see the module documentation.
///
/// One word (the thread's slot), so that it and a [`Ref`](crate::Ref) travel in registers. Not
/// `Send`: it is this thread's slot that it keeps marked.
pub(crate) struct Guard<'a> {
    slot: &'a Slot,
    /// The domain's core, derived from a reference to the whole domain (see `reclaim_erased`).
    core: NonNull<Core>,
    _domain: PhantomData<(&'a Core, *const ())>,
}

impl Drop for Guard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        let slot = self.slot;
        let depth = slot.depth.get() - 1;
        slot.depth.set(depth);
        if depth == 0 {
            let entered = slot.epoch.load(Ordering::Relaxed);
            slot.epoch.store(QUIET, Ordering::Release);
            // Invariant 3: pairs with the heavy barrier after garbage is deferred.
            light_barrier(slot.index);
            // SAFETY: the guard borrows the domain for its whole life.
            let core = unsafe { self.core.as_ref() };
            if entered < core.pending_max.load(Ordering::Relaxed) {
                // SAFETY: `reclaim` was installed by `Domain::<G>::new` for the domain whose
                // core this is, and `self.core` was derived from a reference to that domain.
                unsafe { (core.reclaim)(self.core.as_ptr()) };
            }
            if slot.temporary.get() {
                slot.temporary.set(false);
                ThreadIndex::release(slot.index);
            }
        }
    }
}

/// An operation in progress: a guard and the garbage unlinked under it. Dropping it (also when
/// unwinding) leaves the guard and retires the garbage, so nothing unlinked is ever lost or
/// dropped early.
pub(crate) struct Op<'a, G> {
    guard: ManuallyDrop<Guard<'a>>,
    domain: &'a Domain<G>,
    /// Whether `garbage` holds anything: a one-byte flag, so the common end of an operation
    /// never moves the (wide) bag; reading the bag back right after building it would stall on
    /// store forwarding.
    unlinked: Cell<bool>,
    /// Dropped (retired) only if `unlinked`; otherwise it is empty and owns nothing.
    garbage: ManuallyDrop<Cell<Bag<G>>>,
}

impl<'a, G> Op<'a, G> {
    /// The operation's guard.
    #[inline]
    pub(crate) fn guard(&self) -> &Guard<'a> {
        &self.guard
    }

    /// Hands over something this operation unlinked; it is dropped once no reader can hold it.
    /// Takes `&self`, so references loaded under the operation's guard stay usable.
    #[inline]
    pub(crate) fn retire(&self, garbage: G) {
        let mut bag = self.garbage.take();
        bag.push(garbage);
        self.garbage.set(bag);
        self.unlinked.set(true);
    }

    /// Ends the operation but keeps a guard, for a result that borrows from the map: if nothing
    /// was unlinked this is the operation's own guard, otherwise a nested one taken before the
    /// garbage is retired. (Always inlined, so the operation is not moved: see `enter`.)
    #[inline(always)]
    pub(crate) fn into_guard(self) -> Guard<'a> {
        if !self.unlinked.get() {
            let mut this = ManuallyDrop::new(self);
            // SAFETY: `this` is never dropped, so the guard is taken exactly once; the bag left
            // behind is empty and owns nothing.
            return unsafe { ManuallyDrop::take(&mut this.guard) };
        }
        let kept = self.domain.enter();
        drop(self);
        kept
    }
}

impl<G> Drop for Op<'_, G> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: taken exactly once, here; the field is not used afterwards.
        let guard = unsafe { ManuallyDrop::take(&mut self.guard) };
        if self.unlinked.get() {
            self.domain.retire(guard, self.garbage.take());
        } else {
            drop(guard);
        }
    }
}

/// Garbage of one operation: usually one item, kept inline.
struct Bag<G> {
    first: Option<G>,
    rest: Vec<G>,
}

impl<G> Default for Bag<G> {
    fn default() -> Self {
        Bag::new()
    }
}

impl<G> Bag<G> {
    const fn new() -> Self {
        Bag {
            first: None,
            rest: Vec::new(),
        }
    }

    fn push(&mut self, g: G) {
        if self.first.is_none() {
            self.first = Some(g);
        } else {
            self.rest.push(g);
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// Drops each item, catching a panicking `Drop` so that the rest are still dropped; the first
/// panic is raised by [`finish`] once the public operation is complete.
fn free<G>(garbage: impl IntoIterator<Item = G>) {
    for g in garbage {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(g))) {
            defer_panic(payload);
        }
    }
}

impl<G> IntoIterator for Bag<G> {
    type Item = G;
    type IntoIter = core::iter::Chain<core::option::IntoIter<G>, std::vec::IntoIter<G>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> crate::primitive::MutexGuard<'_, T> {
    // Nothing panics while the pending lock is held (drops happen after it is released).
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Small indices for live threads, reused after a thread exits, so slot buckets stay dense.
struct ThreadIndex(usize);

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
    fn current() -> Option<usize> {
        THREAD_INDEX.try_with(|t| t.0).ok()
    }

    fn acquire() -> usize {
        let mut indices = indices();
        match indices.free.pop() {
            Some(core::cmp::Reverse(index)) => index,
            None => {
                indices.next += 1;
                indices.next - 1
            }
        }
    }

    fn release(index: usize) {
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

static NEXT_DOMAIN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(not(loom))]
std::thread_local! {
    /// The slot this thread used last and its domain's id: one compare instead of the index
    /// lookup while a thread keeps using one map. Ids are never reused, so the entry of a
    /// dropped domain never matches again.
    static LAST: Cell<(u64, *const Slot)> = const { Cell::new((0, ptr::null())) };
}

#[cfg(loom)]
loom::thread_local! {
    static LAST: Cell<(u64, *const Slot)> = Cell::new((0, ptr::null()));
}

std::thread_local! {
    /// A panic from a `Drop` that ran during reclamation, to raise when the operation ends.
    static DEFERRED_PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
    /// Whether `DEFERRED_PANIC` holds a panic: one flag with no destructor, so checking it at
    /// the end of every operation is one thread-local load.
    static PANIC_DEFERRED: Cell<bool> = const { Cell::new(false) };
}

fn defer_panic(payload: Box<dyn Any + Send>) {
    let stored = DEFERRED_PANIC.try_with(|deferred| {
        // Keep the first panic; a second one in the same operation is dropped with its payload.
        let first = deferred.take().unwrap_or(payload);
        deferred.set(Some(first));
    });
    if stored.is_ok() {
        let _ = PANIC_DEFERRED.try_with(|flag| flag.set(true));
    }
}

/// Runs a public operation: returns its result, or, if a key's or value's `Drop` panicked while
/// garbage was being reclaimed during it, raises that panic once the operation is complete (the
/// result is dropped on the way out, so nothing leaks).
#[inline(always)]
pub(crate) fn finish<R>(operation: impl FnOnce() -> R) -> R {
    let result = operation();
    raise_deferred(result)
}

/// Raises a deferred panic, dropping `result` first; returns `result` if there is none.
#[inline(always)]
pub(crate) fn raise_deferred<R>(result: R) -> R {
    if PANIC_DEFERRED.try_with(Cell::get).unwrap_or(false) {
        return raise_deferred_slow(result);
    }
    result
}

#[cold]
#[inline(never)]
fn raise_deferred_slow<R>(result: R) -> R {
    PANIC_DEFERRED.set(false);
    if let Some(payload) = DEFERRED_PANIC.take() {
        drop(result);
        panic::resume_unwind(payload);
    }
    result
}

/// Raises a deferred panic from a `Drop` (of a [`Ref`](crate::Ref) or a pinned session), unless
/// the thread is already unwinding, in which case it stays deferred to the next operation.
#[inline(always)]
pub(crate) fn raise_deferred_in_drop() {
    if PANIC_DEFERRED.try_with(Cell::get).unwrap_or(false) && !std::thread::panicking() {
        raise_deferred_slow(());
    }
}
