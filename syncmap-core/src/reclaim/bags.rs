//! Batched retirement: each thread's retired garbage waits in a bag of its own until the bag
//! holds a batch, and the batch is then retired like one operation's garbage (the module
//! documentation's protocol, once for the whole batch).
//!
//! A retire into a bag touches no line another thread writes: no scan of the readers' slots, no
//! epoch, no barrier. That is what a write pays for in the eager protocol when another thread
//! uses the map (each scan reads lines the readers write at every guard), and it is what makes
//! two threads replacing values run several times slower than one (BENCHMARKS.md, session 12).
//! The price is time: an item waits until its thread has retired a batch's worth, or until
//! [`Domain::flush`](super::Domain::flush) or the domain's drop. So only garbage whose drop runs
//! no user code is batched in the default mode (see `SyncMap::from_parts`), and
//! [`Reclaim::Batched`](crate::Reclaim::Batched) asks for it explicitly.
//!
//! Bags are *stripes*, chosen by thread index: as many as the machine has CPUs (a power of two,
//! at most [`MAX_STRIPES`]), allocated on the first batched retire, so a map never written by
//! two threads carries one null pointer. Each is a mutex, so that `flush` on any thread can take
//! them all; its owner's lock and unlock stay in its own cache line unless two threads share a
//! stripe.

use super::lock;
use crate::primitive::{AtomicPtr, Mutex, Ordering};
use core::mem;
use core::ptr;
use crossbeam_utils::CachePadded;
use std::sync::OnceLock;

/// The most stripes a domain allocates (threads beyond share them).
const MAX_STRIPES: usize = if cfg!(loom) { 2 } else { 64 };

type Stripe<G> = CachePadded<Mutex<Vec<G>>>;

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
            .map(|_| CachePadded::new(Mutex::new(Vec::new())))
            .collect();
        let fresh = Box::into_raw(fresh).cast::<Stripe<G>>();
        if let Err(_installed) = self.stripes.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `fresh` was never published; it is the boxed slice built above.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, stripe_count())) });
        }
        self.stripes().expect("installed above")
    }

    /// Puts garbage that was unlinked before this call into the bag of thread `index`; if that
    /// makes the bag hold at least `batch` items, empties it and returns them all, for the
    /// caller to retire.
    pub(super) fn push(
        &self,
        index: usize,
        garbage: impl IntoIterator<Item = G>,
        batch: usize,
    ) -> Option<Vec<G>> {
        let stripes = match self.stripes() {
            Some(stripes) => stripes,
            None => self.allocate(),
        };
        // `stripe_count()` is a power of two.
        let mut bag = lock(&stripes[index & (stripes.len() - 1)]);
        bag.extend(garbage);
        (bag.len() >= batch).then(|| mem::take(&mut *bag))
    }

    /// Empties every bag, returning what they held.
    pub(super) fn take_all(&self) -> Vec<G> {
        let mut all = Vec::new();
        for stripe in self.stripes().into_iter().flatten() {
            all.append(&mut lock(stripe));
        }
        all
    }

    /// How many items wait in the bags.
    pub(super) fn len(&self) -> usize {
        self.stripes()
            .into_iter()
            .flatten()
            .map(|stripe| lock(stripe).len())
            .sum()
    }
}

impl<G> Drop for Bags<G> {
    fn drop(&mut self) {
        let first = self.stripes.load(Ordering::Acquire);
        if !first.is_null() {
            // SAFETY: `first` came from `Box::into_raw` of a boxed slice of `stripe_count()`
            // stripes in `allocate`; nothing else refers to them once the domain is dropped.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(first, stripe_count())) });
        }
    }
}
