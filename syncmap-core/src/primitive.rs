//! The synchronization primitives the algorithm is written against: `std`'s, or under
//! `--cfg loom` [loom]'s model-checked ones, so the code loom checks is the code that ships.
//!
//! The two barriers of the reclamation protocol (`reclaim.rs`) are the
//! [`membarrier2`](https://docs.rs/membarrier2) crate's: a compiler fence for readers and the
//! `membarrier` system call for writers (with its own fallbacks where the call is missing). Miri
//! cannot run a system call, so there that crate makes both `SeqCst` fences. (The older
//! `membarrier` crate does the same, but 0.2.3 links `windows-sys` on every platform and fails
//! to link on Linux with today's toolchains.)
//!
//! Under loom the barriers are modelled by their contract: a heavy barrier and a light one are
//! ordered one way or the other, and what a thread knew at the earlier one is known to the
//! thread past the later one; two light barriers order nothing. Each thread's light barrier is
//! an acquire-release read-modify-write of that thread's own location, and a heavy barrier does
//! the same on the location of every thread that has one. (Making both `SeqCst` fences, or one
//! shared location, would let light barriers order each other, and let the light barrier a
//! writer issues when it leaves its own guard stand in for the heavy barrier and hide its
//! absence; the mutant below is only caught under this stricter model.)
//!
//! A full fence (`fence(SeqCst)`, used by readers and writers of a map in fenced mode, see
//! `reclaim/mode.rs`) is modelled the same way, as an acquire-release read-modify-write of one
//! location that every full fence shares: any two full fences are ordered one way or the other,
//! and the later thread knows what the earlier one knew, which is what a `SeqCst` fence on each
//! side of a store-then-load race guarantees.
//!
//! [loom]: https://docs.rs/loom

pub(crate) use std::sync::Arc;

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{
        fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    },
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::{hint::spin_loop, thread_local};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{
        fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    },
    Mutex, MutexGuard,
};
#[cfg(loom)]
pub(crate) use loom::{hint::spin_loop, thread_local};

#[cfg(loom)]
struct Barriers {
    /// Each thread's light-barrier location, by thread index (loom runs at most
    /// `loom::MAX_THREADS` threads an execution, and indices restart with each execution).
    light: [AtomicUsize; loom::MAX_THREADS],
    /// The one location every full fence updates.
    full: AtomicUsize,
}

#[cfg(loom)]
loom::lazy_static! {
    static ref BARRIERS: Barriers = Barriers {
        light: core::array::from_fn(|_| AtomicUsize::new(0)),
        full: AtomicUsize::new(0),
    };
}

/// The reader's side of the asymmetric barrier, issued by the thread with index `thread`.
#[inline(always)]
pub(crate) fn light_barrier(thread: usize) {
    #[cfg(not(loom))]
    {
        let _ = thread;
        membarrier2::light();
    }
    #[cfg(loom)]
    BARRIERS.light[thread].fetch_add(0, Ordering::AcqRel);
}

/// The writer's side: a full fence on every thread of the process.
///
/// `--cfg syncmap_mutant="no_heavy_barrier"` removes it, to show that the loom model of the
/// protocol catches its absence (see TESTING.md).
#[inline]
pub(crate) fn heavy_barrier() {
    #[cfg(not(any(loom, syncmap_mutant = "no_heavy_barrier")))]
    membarrier2::heavy();
    #[cfg(all(loom, not(syncmap_mutant = "no_heavy_barrier")))]
    for light in &BARRIERS.light {
        // Every thread, including one that has not issued a light barrier yet: the real
        // barrier interrupts every running thread of the process.
        light.fetch_add(0, Ordering::AcqRel);
    }
}

/// A full fence: both sides of a store-then-load race that each issue one cannot both miss the
/// other's store.
///
/// `--cfg syncmap_mutant="no_reader_fence"` removes it from the readers' side (see
/// `reclaim/mode.rs`), to show that the loom model of fenced mode catches its absence.
#[inline(always)]
pub(crate) fn full_fence() {
    #[cfg(not(loom))]
    fence(Ordering::SeqCst);
    #[cfg(loom)]
    BARRIERS.full.fetch_add(0, Ordering::AcqRel);
}
