//! Memory reclamation: when a value, entry or table that a writer unlinked may be dropped.
//!
//! This module is the only place that knows how readers are tracked. Everything else sees three
//! things:
//! a [`Guard`], taken once per public operation (or once per [`pin`](crate::SyncMap::pin)
//! session) and protecting every pointer loaded while it is held; an [`Op`], a guard plus the
//! garbage the operation unlinked, which is retired when the operation ends (or, for a value
//! the operation returns to its caller, handed over whole when no reader can hold it:
//! [`Op::end_keeping`]); and [`finish`],
//! which raises a panic from a `Drop` that ran during reclamation once the operation is complete.
//!
//! # The protocol
//!
//! Each map has its own reclamation *domain*: an epoch counter and one slot per thread that has
//! used the map. A reader **enters** by copying the epoch into its slot and **leaves** by storing
//! zero there. Both are plain stores (on x86-64, `mov`s), separated from the reader's loads only
//! by a *light barrier*, a compiler fence. The cost of ordering moves to the writer, which after
//! unlinking something issues the *heavy barrier* (`membarrier(PRIVATE_EXPEDITED)` through the
//! [`membarrier2`](https://docs.rs/membarrier2) crate: it runs a full fence on every CPU running
//! a thread of the process; writers that need one at the same time share it, `barrier.rs`) and
//! then scans the slots, waiting a moment for readers seen inside with an older epoch. This is
//! the design of liburcu's membarrier flavour. While a map is written often it runs in *fenced
//! mode* (`mode.rs`): readers add a full fence to their entry and writers replace the heavy
//! barrier by a full fence of their own. In batched mode ([`Reclaim::Batched`]) what a thread
//! retires waits in a bag of its own, with no barrier and no scan, until the bag holds a batch,
//! which is then retired as one operation's garbage (`bags.rs`); [`SyncMap::flush`] does the same
//! with every thread's bag. Garbage whose drop runs no code (keys and values without drop glue)
//! is batched so in the default mode too, and a batch found out of every reader's reach is
//! dropped a few items at each of the thread's later retires. The invariants, each kept by the
//! code below that names it:
//!
//! [`Reclaim::Batched`]: crate::Reclaim::Batched
//! [`SyncMap::flush`]: crate::SyncMap::flush
//!
//! 1. **Visible readers.** After a writer's heavy barrier, every reader is in one of two states:
//!    its slot store is visible to the writer's scan, or it has not yet loaded anything, so its
//!    loads will see the unlink. (The barrier pairs with the reader's light barrier.) In fenced
//!    mode a writer's full fence gives the same two states for every reader that entered with
//!    a full fence, and the switch to that mode makes sure no other reader is left unseen.
//! 2. **Epochs.** A writer whose scan (after invariant 1's barrier) finds no reader inside at
//!    all drops its garbage at once and leaves the epoch alone. Otherwise it takes a fresh epoch
//!    `r` *after* unlinking. A reader that entered with
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
//! The files: this one (the protocol: domains, guards, retiring and reclaiming), `op.rs` (an
//! operation and the garbage it retires), `slots.rs` (each thread's slot in each domain, and
//! thread indices), `bags.rs` (batched mode's per-thread bags), `barrier.rs` (the shared heavy
//! barrier), `mode.rs` (fenced mode and its switches) and `unwind.rs` (how a panicking `Drop`
//! during reclamation is raised once the operation is complete). How the
//! barriers are modelled under loom and miri is in `primitive.rs`; the loom models of this
//! protocol are `tests/loom_reclaim.rs`.

use crate::primitive::{
    fence, light_barrier, spin_loop, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Mutex, Ordering,
};
use core::cell::Cell;
use core::marker::PhantomData;
use core::mem;
use core::ptr::{self, NonNull};
use crossbeam_utils::CachePadded;

mod bags;
mod barrier;
mod mode;
mod op;
mod slots;
mod unwind;

use bags::Bags;
use barrier::shared_heavy_barrier;
use mode::Switch;
pub(crate) use op::Op;
use op::{free, free_retired, retired_with, Retired};
use slots::{Slot, ThreadIndex, BUCKETS, LAST, NEXT_DOMAIN_ID};
pub(crate) use unwind::{finish, raise_deferred, raise_deferred_in_drop};

/// How many times an eager retire re-scans for readers seen inside before deferring.
const SPINS: usize = if cfg!(loom) { 1 } else { 64 };

/// A slot's epoch while its thread is outside every guard of the domain.
const QUIET: u64 = 0;
/// The domain state that does not depend on the garbage type.
pub(crate) struct Core {
    /// Unique for the life of the process (never reused, unlike addresses): the key of each
    /// thread's `LAST` cache.
    id: u64,
    /// What every reader's enter loads.
    readers: CachePadded<Readers>,
    /// The largest epoch among pending garbage, or 0 (invariant 3).
    pending_max: CachePadded<AtomicU64>,
    /// Thread index + 1 of the first thread that used the domain, 0 before (invariant 4).
    owner: AtomicUsize,
    /// Whether a thread other than the owner has used the domain (invariant 4).
    shared: AtomicBool,
    buckets: [AtomicPtr<CachePadded<Slot>>; BUCKETS],
    /// One more than the highest bucket allocated, so scans skip the empty tail.
    buckets_used: AtomicUsize,
    /// Fenced mode's switch (`mode.rs`).
    switch: CachePadded<Switch>,
    /// `reclaim_erased::<G>` for the `Domain<G>` this core is the first field of: how a guard,
    /// which knows only the core, reclaims pending garbage.
    reclaim: unsafe fn(*const Core),
}

/// The fields a reader's enter loads, in one cache line.
struct Readers {
    epoch: AtomicU64,
    /// Whether readers enter with a full fence (fenced mode, `mode.rs`).
    fenced: AtomicBool,
}

/// A domain whose garbage is of type `G`. `repr(C)` with the core first, so that a pointer to
/// the domain is also a pointer to its core (see `Core::reclaim`).
#[repr(C)]
pub(crate) struct Domain<G> {
    core: Core,
    /// Garbage waiting for readers, each item with the epoch it was retired at; a heavy
    /// barrier came after its unlink, so it is freed once no reader's epoch is below.
    pending: Mutex<Vec<(u64, G)>>,
    /// `Some(n)`: garbage other than tables waits in per-thread bags, retired `n` items at a
    /// time (`bags.rs`).
    batch: Option<usize>,
    bags: Bags<G>,
    /// Whether dropping garbage runs no code but the allocator's (see `new`).
    quiet_drops: bool,
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
    /// A domain that retires each operation's garbage at once (`batch: None`) or in per-thread
    /// batches of `n` items (`Some(n)`, `bags.rs`). `quiet_drops`: dropping the garbage runs
    /// no code but the allocator's, so a batch found out of every reader's reach may be dropped
    /// a few items a retire rather than all at once.
    pub(crate) fn new(batch: Option<usize>, quiet_drops: bool) -> Self {
        Domain {
            core: Core {
                id: NEXT_DOMAIN_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                readers: CachePadded::new(Readers {
                    epoch: AtomicU64::new(1),
                    fenced: AtomicBool::new(false),
                }),
                pending_max: CachePadded::new(AtomicU64::new(0)),
                owner: AtomicUsize::new(0),
                shared: AtomicBool::new(false),
                buckets: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
                buckets_used: AtomicUsize::new(0),
                switch: CachePadded::new(Switch::new()),
                reclaim: reclaim_erased::<G>,
            },
            pending: Mutex::new(Vec::new()),
            batch,
            bags: Bags::new(),
            quiet_drops,
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
            let epoch = self.core.readers.epoch.load(Ordering::Acquire);
            slot.epoch.store(epoch, Ordering::Release);
            // Invariant 1: pairs with the writer's heavy barrier.
            light_barrier(slot.index);
            // Invariant 1 in fenced mode: loaded after the light barrier (see `mode.rs`; a flag
            // seen lowered comes after a heavy barrier, which orders this reader's loads).
            if self.core.readers.fenced.load(Ordering::Relaxed) {
                self.core.fenced_entry(slot);
            }
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
        self.adopt(self.enter())
    }

    /// Starts an operation on a guard of this domain already held, for a path that looks
    /// lock-free first and unlinks something only afterwards: what the guard protected stays
    /// protected, and what the operation retires is handled exactly as if it had begun with
    /// the guard (the epoch of retirement is taken when it ends, after every unlink).
    #[inline(always)]
    pub(crate) fn adopt<'a>(&'a self, guard: Guard<'a>) -> Op<'a, G> {
        debug_assert!(ptr::eq(
            guard.core.as_ptr(),
            ptr::from_ref(self).cast::<Core>()
        ));
        Op::new(guard, self)
    }

    /// Retires garbage that was unlinked while `guard` was held: leaves the guard, then drops
    /// the garbage at once if no other reader can hold it, or hands it to the last reader out.
    /// Called only with garbage (`Op::drop` leaves a bare guard itself).
    fn retire(&self, guard: Guard<'_>, garbage: Retired<G>, large: bool) {
        self.retire_keeping(guard, Some(garbage), large, (), |()| None);
    }

    /// [`retire`](Self::retire), for an operation that also took something out of the map for
    /// its caller (`kept`, say an `Arc` whose count the map owned). If no reader can hold
    /// what was unlinked, the garbage is dropped and `kept` goes to the caller as it is; only
    /// otherwise does `share` make the map's own garbage of it (an `Arc` clone: a count that
    /// waits for the readers), so the common case writes no reference count. `share` must run
    /// no user code.
    fn retire_keeping<T>(
        &self,
        guard: Guard<'_>,
        garbage: Option<Retired<G>>,
        large: bool,
        kept: T,
        share: impl FnOnce(&T) -> Option<G>,
    ) -> T {
        let slot = guard.slot;
        let index = slot.index;
        let nested = slot.depth.get() > 1;
        drop(guard);
        let batch = self.batch.filter(|_| !large);
        // A map seen shared stays shared, so a batched retire, which needs no ordering until
        // its bag is retired, skips the fence that tells a thread alone apart.
        if batch.is_none() || !self.core.shared.load(Ordering::Relaxed) {
            // Invariant 4: pairs with the fence in `Core::register`. (Skipping it in the eager
            // path once the map is seen shared measured no faster, since that path fences
            // again, and changed how loom's mutants show their use-after-free; BENCHMARKS.md,
            // session 10.)
            fence(Ordering::SeqCst);
            let alone = !nested
                && !self.core.shared.load(Ordering::Relaxed)
                && self.core.owner.load(Ordering::Relaxed) == index + 1;
            if alone {
                free_retired(garbage);
                return kept;
            }
        }
        // The sign by which readers in fenced mode see that writes go on (`mode.rs`): a count
        // in this thread's own slot, so no shared line.
        slot.retires
            .store(slot.retires.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        if let Some(batch) = batch {
            // No barrier, no scan: the garbage waits in this thread's bag (`bags.rs`), and a
            // full bag is retired as one operation's garbage, every item of it unlinked before.
            let pushed = self.bags.push(index, garbage, share(&kept), batch);
            // Ready items are garbage whose drop runs no code but the allocator's: no panic to
            // catch.
            drop(pushed.ready);
            if let Some(full) = pushed.full {
                let full = Retired::from_vec(full);
                if self.quiet_drops {
                    // Dropped a few items a retire rather than all at once: a burst of frees
                    // overflows the allocator's per-thread cache (BENCHMARKS.md, session 12).
                    let ready = |safe: Option<Retired<G>>| {
                        let mut items = Vec::new();
                        if let Some(safe) = safe {
                            safe.append_to(&mut items);
                        }
                        if let Some(overflow) = self.bags.make_ready(index, items, batch) {
                            free(overflow);
                        }
                    };
                    self.retire_shared(slot, nested, full, (), |()| None, ready);
                } else {
                    self.retire_shared(slot, nested, full, (), |()| None, free_retired);
                }
            }
            return kept;
        }
        self.retire_shared(slot, nested, garbage, kept, share, free_retired)
    }

    /// The rest of [`retire_keeping`](Self::retire_keeping), for garbage unlinked by this
    /// thread (`slot`'s) in a map that other threads use, or taken out of a bag. Garbage found
    /// to be out of every reader's reach goes to `release` (which drops it, or hands it back to
    /// the bag); otherwise it waits for the last reader out.
    fn retire_shared<T>(
        &self,
        slot: &Slot,
        nested: bool,
        garbage: Option<Retired<G>>,
        kept: T,
        share: impl FnOnce(&T) -> Option<G>,
        release: impl FnOnce(Option<Retired<G>>),
    ) -> T {
        let index = slot.index;
        // Invariant 1. (A nested retire in an unshared map could skip the barriers, but another
        // thread registering meanwhile could then miss `pending_max`; it takes the general path.)
        let fenced = self.core.fence_unlinks(slot);
        // Invariant 1: no reader inside at all, so none can hold what was unlinked; the epoch,
        // which only tells readers inside apart, is left alone (a shared line no write needs
        // to touch).
        if self.core.min_active() == u64::MAX {
            drop(fenced);
            release(garbage);
            return kept;
        }
        // Invariant 2: the epoch is taken after every unlink of this operation.
        let retired_at = self.core.readers.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        // Readers seen inside with an older epoch are usually in the middle of a short
        // operation: wait a moment for them (each re-scan sees a slot's current state or a
        // newer one, and a reader that has left cannot come back to what was unlinked), unless
        // this thread itself is one of them.
        let spins = if nested { 0 } else { SPINS };
        for _ in 0..=spins {
            if self.core.min_active() >= retired_at {
                // No user code (a `Drop`) runs while this writer relies on fenced mode.
                drop(fenced);
                release(garbage);
                return kept;
            }
            spin_loop();
        }
        drop(fenced);
        // Invariant 3: publish the pending epoch, then make sure every reader still inside
        // will see it when it leaves, and try once more.
        if let Some(garbage) = retired_with(garbage, share(&kept)) {
            self.defer(retired_at, garbage);
            shared_heavy_barrier(index);
            self.reclaim_pending();
        }
        kept
    }

    fn defer(&self, retired_at: u64, garbage: Retired<G>) {
        let mut pending = lock(&self.pending);
        pending.extend(garbage.into_iter().map(|g| (retired_at, g)));
        let max = self
            .core
            .pending_max
            .load(Ordering::Relaxed)
            .max(retired_at);
        self.core.pending_max.store(max, Ordering::Relaxed);
    }

    /// Retires what every thread's bag holds (every item was unlinked before it went in), as
    /// one operation's garbage: dropped at once if no reader can hold it, otherwise by the
    /// last reader out. Then drops what the last reader out has not dropped yet (normally
    /// nothing).
    pub(crate) fn flush(&self) {
        if let Some(garbage) = Retired::from_vec(self.bags.take_all()) {
            // `large`: straight to the protocol, not back into a bag.
            self.retire_keeping(self.enter(), Some(garbage), true, (), |()| None);
        }
        self.reclaim_pending();
    }

    /// Drops the pending garbage that no reader can hold any more. The scan runs under the
    /// pending lock, after the lock holder that deferred the garbage read the same slots, so it
    /// never sees an older slot state than that writer did.
    fn reclaim_pending(&self) {
        let freed = {
            let mut pending = lock(&self.pending);
            if pending.is_empty() {
                return;
            }
            let min_active = self.core.min_active();
            let (freed, kept): (Vec<_>, Vec<_>) = mem::take(&mut *pending)
                .into_iter()
                .partition(|(retired_at, _)| *retired_at <= min_active);
            let max = kept.iter().map(|(r, _)| *r).max().unwrap_or(0);
            self.core.pending_max.store(max, Ordering::Relaxed);
            *pending = kept;
            freed
        };
        free(freed.into_iter().map(|(_, g)| g));
    }

    /// Whether the domain is in fenced mode (`mode.rs`; for `Stats`).
    pub(crate) fn fenced_readers(&self) -> bool {
        self.core.switch.is_fast()
    }

    /// How many items wait for a reader to leave or in a bag (for tests and `Stats`).
    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.pending).len() + self.bags.len()
    }
}

impl<G> Drop for Domain<G> {
    fn drop(&mut self) {
        // No guard can outlive the domain (guards borrow it), so everything pending is free;
        // the bags are dropped with the domain's fields.
        let pending = mem::take(&mut *lock(&self.pending));
        drop(pending);
        for (b, bucket) in self.core.buckets.iter().enumerate() {
            // SAFETY: bucket `b` is null or was published by `Core::grow` with `1 << b` slots,
            // and nothing refers to the slots once the domain is dropped.
            unsafe { free_published(bucket.load(Ordering::Relaxed), 1 << b) };
        }
    }
}

/// A read-side critical section in one domain; see the module documentation.
///
/// Two words (the thread's slot and the domain), so that it is returned in registers rather than
/// through memory (see `Domain::enter`). Not `Send`: it is this thread's slot that it keeps
/// marked.
pub(crate) struct Guard<'a> {
    slot: &'a Slot,
    /// The domain's core, derived from a reference to the whole domain (see `reclaim_erased`).
    core: NonNull<Core>,
    _domain: PhantomData<(&'a Core, *const ())>,
}

impl<'a> Guard<'a> {
    /// Another guard of the same thread in the same domain: nested, so it costs one plain
    /// store, and the thread stays inside until both are dropped.
    #[inline]
    pub(crate) fn nest(&self) -> Guard<'a> {
        let depth = self.slot.depth.get();
        self.slot.depth.set(depth + 1);
        Guard {
            slot: self.slot,
            core: self.core,
            _domain: PhantomData,
        }
    }
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

/// Publishes `fresh` in `cell`, unless another thread published a slice there first: returns
/// the first element of the slice `cell` now holds, and whether it is `fresh` (the loser's is
/// freed). The slice lives until [`free_published`] (slots, `slots.rs`; bags, `bags.rs`).
fn publish_slice<T>(cell: &AtomicPtr<T>, fresh: Box<[T]>) -> (*mut T, bool) {
    let len = fresh.len();
    let fresh = Box::into_raw(fresh).cast::<T>();
    match cell.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => (fresh, true),
        Err(installed) => {
            // SAFETY: `fresh` was never published; it is the boxed slice of `len` taken above.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, len)) });
            (installed, false)
        }
    }
}

/// Frees the slice of `len` elements that `first` starts, if any.
///
/// # Safety
///
/// `first` is null or came from [`publish_slice`] of a slice of `len` elements, and nothing
/// refers to them any more.
unsafe fn free_published<T>(first: *mut T, len: usize) {
    if !first.is_null() {
        // SAFETY: the caller's contract: `Box::into_raw` of a boxed slice of `len`, unused.
        drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(first, len)) });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> crate::primitive::MutexGuard<'_, T> {
    // Nothing panics while the pending lock is held (drops happen after it is released).
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
