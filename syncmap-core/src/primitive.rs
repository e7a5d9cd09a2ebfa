//! The synchronization primitives the algorithm is written against: `std`'s, or under
//! `--cfg loom` [loom]'s model-checked ones, so the code loom checks is the code that ships.
//!
//! The two barriers of the reclamation protocol (`reclaim/`) are the
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
//! Two more things live here because they differ by build: the loom mutants (`mutant`, runs
//! of the loom build with one barrier removed), and `prefetch`, a cache hint that is nothing
//! under miri and loom.
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
/// Under loom, the mutant `no_heavy_barrier` (see `mutant`) removes it, to show that the loom
/// model of the protocol catches its absence (see TESTING.md).
#[inline]
pub(crate) fn heavy_barrier() {
    #[cfg(not(loom))]
    membarrier2::heavy();
    #[cfg(loom)]
    if mutant("no_heavy_barrier") {
        return;
    }
    #[cfg(loom)]
    for light in &BARRIERS.light {
        // Every thread, including one that has not issued a light barrier yet: the real
        // barrier interrupts every running thread of the process.
        light.fetch_add(0, Ordering::AcqRel);
    }
}

/// A full fence: both sides of a store-then-load race that each issue one cannot both miss the
/// other's store.
#[inline(always)]
pub(crate) fn full_fence() {
    #[cfg(not(loom))]
    fence(Ordering::SeqCst);
    #[cfg(loom)]
    BARRIERS.full.fetch_add(0, Ordering::AcqRel);
}

/// Asks the processor to start loading the cache line at `p`, without waiting for it: a hint,
/// for loops that touch many entries scattered in memory (a rebuild, a table's drop), where
/// each entry's atomic count update would otherwise wait for its own cache miss. A no-op where
/// there is no such instruction, under miri and under loom.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse", not(miri), not(loom)))]
    // SAFETY: the `sse` target feature the intrinsic requires is enabled (checked by the `cfg`),
    // and a prefetch never accesses memory architecturally: it cannot fault or be observed,
    // whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse", not(miri), not(loom))))]
    let _ = p;
}

/// The readers' full fence in fenced mode (`reclaim/mode.rs`): [`full_fence`], and nothing else
/// outside loom. Under loom, the mutant `no_reader_fence` (see `mutant`) removes it, to show
/// that the loom model of fenced mode catches its absence.
#[inline(always)]
pub(crate) fn reader_full_fence() {
    #[cfg(loom)]
    if mutant("no_reader_fence") {
        return;
    }
    full_fence();
}

/// The mutants: each removes one barrier of the reclamation protocol.
#[cfg(loom)]
const MUTANTS: [&str; 2] = ["no_heavy_barrier", "no_reader_fence"];

/// Whether this loom run is the mutant `name`: the environment variable `SYNCMAP_LOOM_MUTANT`
/// names it (read once per process). A mutant is a run, not a build, so the mutants reuse the
/// ordinary `--cfg loom` build; `.ci/correctness.sh` runs each and requires that its model
/// reports the use-after-free (see TESTING.md). Only loom builds have mutants: the code that
/// ships checks nothing. Panics on a name, or a variable, that is not one of `MUTANTS`, so a
/// misspelt mutant cannot pass for the unmutated protocol.
#[cfg(loom)]
pub(crate) fn mutant(name: &str) -> bool {
    static MUTANT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    assert!(MUTANTS.contains(&name), "unknown loom mutant {name:?}");
    let chosen = MUTANT.get_or_init(|| {
        let chosen = std::env::var("SYNCMAP_LOOM_MUTANT").ok();
        if let Some(chosen) = &chosen {
            assert!(
                MUTANTS.contains(&chosen.as_str()),
                "SYNCMAP_LOOM_MUTANT={chosen:?} is not one of {MUTANTS:?}"
            );
        }
        chosen
    });
    chosen.as_deref() == Some(name)
}
