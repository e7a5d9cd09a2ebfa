//! Batched retirement: each thread's retired garbage waits in a bag of its own until the bag
//! holds a batch, and the batch is then retired like one operation's garbage (the module
//! documentation's protocol, once for the whole batch).
//!
//! A retire into a bag touches no line another thread writes: no look at the readers' slots
//! (each a line its reader writes at every guard), no epoch, no barrier, not even the fence that
//! tells a thread alone apart once the map is seen shared (the bag's lock is the only
//! read-modify-write). The price is time: an item waits until its thread has retired a batch's
//! worth, or until [`Domain::flush`](super::Domain::flush) or the domain's drop. So the default
//! mode batches only garbage whose drop runs no code but the allocator's (see
//! `SyncMap::from_parts`), and [`Reclaim::Batched`](crate::Reclaim::Batched) asks for it
//! explicitly.
//!
//! A batch found out of every reader's reach is dropped at once, except garbage whose drop runs
//! no code: that goes back to the bag as *ready*, and each later retire into the bag drops as
//! many ready items as it put in (at most [`DRAIN`]). Freed all at once, a batch of 64 overflows
//! glibc's per-thread cache (seven blocks a size) and sends the next allocations down its slow
//! path, which cost what the batching saved (BENCHMARKS.md, session 12); freed at the pace of
//! the retires, each free is followed by an allocation that reuses it.
//!
//! Bags are *stripes*, chosen by thread index: as many as the machine has CPUs (a power of two,
//! at most [`MAX_STRIPES`]), allocated on the first batched retire, so a map never written by
//! two threads carries one null pointer. Each is a mutex, so that `flush` on any thread can take
//! them all; its owner's lock and unlock stay in its own cache line unless two threads share a
//! stripe.

use super::{free_published, lock, publish_slice, Retired};
use crate::primitive::{AtomicPtr, Mutex, Ordering};
use core::mem;
use core::ptr;
use crossbeam_utils::CachePadded;
use std::sync::OnceLock;

/// The most stripes a domain allocates (threads beyond share them).
const MAX_STRIPES: usize = if cfg!(loom) { 2 } else { 64 };

/// The most room a bag reserves for its next batch.
const MAX_ROOM: usize = 1024;

/// The most items that no reader can hold any more a retire into a bag drops on its way: as
/// many as it put in, so that frees keep pace with the allocations of a steady workload.
const DRAIN: usize = 2;

type Stripe<G> = CachePadded<Mutex<Bag<G>>>;

/// One stripe's garbage.
struct Bag<G> {
    /// Retired, waiting for the bag to fill.
    waiting: Vec<G>,
    /// Batches that no reader can hold any more, dropped by later retires (see [`DRAIN`]).
    ready: Vec<G>,
}

/// A domain's bags of batched garbage.
pub(super) struct Bags<G> {
    /// The first of [`stripe_count`] stripes, or null before the first batched retire.
    stripes: AtomicPtr<Stripe<G>>,
}

/// How many stripes every domain allocates: the machine's CPUs, rounded up to a power of two.
fn stripe_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        cpus.clamp(1, MAX_STRIPES).next_power_of_two()
    })
}

impl<G> Bags<G> {
    pub(super) fn new() -> Self {
        Bags {
            stripes: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The stripes, if allocated.
    fn stripes(&self) -> Option<&[Stripe<G>]> {
        let first = self.stripes.load(Ordering::Acquire);
        // SAFETY: a non-null `first` is the start of a boxed slice of `stripe_count()` stripes
        // published by `allocate` (acquire pairs with its release), freed only by `drop`, which
        // the borrow of `self` rules out.
        (!first.is_null()).then(|| unsafe { &*ptr::slice_from_raw_parts(first, stripe_count()) })
    }

    #[cold]
    fn allocate(&self) -> &[Stripe<G>] {
        let fresh: Box<[Stripe<G>]> = (0..stripe_count())
            .map(|_| {
                CachePadded::new(Mutex::new(Bag {
                    waiting: Vec::new(),
                    ready: Vec::new(),
                }))
            })
            .collect();
        publish_slice(&self.stripes, fresh);
        self.stripes().expect("published above")
    }

    /// The stripe of thread `index`.
    fn stripe(&self, index: usize) -> &Stripe<G> {
        let stripes = match self.stripes() {
            Some(stripes) => stripes,
            None => self.allocate(),
        };
        // `stripe_count()` is a power of two.
        &stripes[index & (stripes.len() - 1)]
    }

    /// Puts garbage that was unlinked before this call (an operation's, and one more item) into
    /// the bag of thread `index`. Returns as many items of the bag's ready batch as it put in
    /// (at most [`DRAIN`]), for the caller to drop, and, if the bag now holds at least `batch`
    /// items, all of them, for the caller to retire.
    pub(super) fn push(
        &self,
        index: usize,
        garbage: Option<Retired<G>>,
        extra: Option<G>,
        batch: usize,
    ) -> Pushed<G> {
        let mut bag = lock(self.stripe(index));
        let mut put = garbage.map_or(0, |garbage| garbage.append_to(&mut bag.waiting));
        if let Some(extra) = extra {
            bag.waiting.push(extra);
            put += 1;
        }
        let ready = core::array::from_fn(|i| if i < put { bag.ready.pop() } else { None });
        let full = (bag.waiting.len() >= batch).then(|| {
            // The next batch's room, at once rather than by doubling.
            mem::replace(&mut bag.waiting, Vec::with_capacity(batch.min(MAX_ROOM)))
        });
        Pushed { ready, full }
    }

    /// Hands a retired batch that no reader can hold any more back to the bag of thread
    /// `index`, to be dropped a few items at a time by its next retires. If the bag's ready
    /// items are still at least `batch` (retires of more than [`DRAIN`] items each), the batch
    /// is handed back instead, for the caller to drop at once: the bag holds at most about two
    /// batches.
    pub(super) fn make_ready(&self, index: usize, batch: Vec<G>, size: usize) -> Option<Vec<G>> {
        let mut bag = lock(self.stripe(index));
        if bag.ready.is_empty() {
            bag.ready = batch;
        } else if bag.ready.len() >= size {
            return Some(batch);
        } else {
            bag.ready.extend(batch);
        }
        None
    }

    /// Empties every bag, returning what they held, retired and ready alike.
    pub(super) fn take_all(&self) -> Vec<G> {
        let mut all = Vec::new();
        for stripe in self.stripes().into_iter().flatten() {
            let mut bag = lock(stripe);
            all.append(&mut bag.ready);
            all.append(&mut bag.waiting);
        }
        all
    }

    /// How many items wait in the bags.
    pub(super) fn len(&self) -> usize {
        self.stripes()
            .into_iter()
            .flatten()
            .map(|stripe| {
                let bag = lock(stripe);
                bag.waiting.len() + bag.ready.len()
            })
            .sum()
    }
}

/// What [`Bags::push`] hands back.
pub(super) struct Pushed<G> {
    /// Items no reader can hold, to drop now.
    pub(super) ready: [Option<G>; DRAIN],
    /// A full bag, to retire.
    pub(super) full: Option<Vec<G>>,
}

impl<G> Drop for Bags<G> {
    fn drop(&mut self) {
        // SAFETY: the stripes are null or were published by `allocate` with `stripe_count()`
        // stripes; nothing refers to them once the domain is dropped.
        unsafe { free_published(self.stripes.load(Ordering::Acquire), stripe_count()) };
    }
}
