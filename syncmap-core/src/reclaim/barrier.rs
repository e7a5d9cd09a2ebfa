//! One heavy barrier shared by the writers that need one at the same time.
//!
//! A writer needs *a* heavy barrier that begins after its unlink, not one of its own: any
//! process-wide barrier that starts later interrupts the writer's own CPU too, after the unlink
//! in its program order, and so serves it. `BARRIERS` counts barriers: odd while one is running,
//! even when idle. A writer reads it once (after its unlink), then takes the `RUNNING` lock; if a
//! barrier that started after its read has finished by then, it is done, otherwise it runs one
//! itself. Writers that queue while a barrier runs share the next one instead of each making a
//! system call (which the kernel would serialize on its own membarrier mutex anyway).
//!
//! Why a barrier counted after the read is enough (the loom models check it with the barriers'
//! modelled contract): the writer issues its own light barrier after its unlinks and before the
//! read of `BARRIERS`; a barrier that another thread started later, that is after the writer's
//! read in `BARRIERS`' order, is therefore ordered after that light barrier, and carries the
//! unlinks to every reader.

use crate::primitive::{heavy_barrier, light_barrier, AtomicU64, Mutex, Ordering};

#[cfg(not(loom))]
static BARRIERS: AtomicU64 = AtomicU64::new(0);
#[cfg(not(loom))]
static RUNNING: Mutex<()> = Mutex::new(());

#[cfg(loom)]
loom::lazy_static! {
    static ref BARRIERS: AtomicU64 = AtomicU64::new(0);
    static ref RUNNING: Mutex<()> = Mutex::new(());
}

/// Returns once a heavy barrier that began after this call has completed. `thread` is the
/// caller's thread index (for its light barrier).
pub(super) fn shared_heavy_barrier(thread: usize) {
    light_barrier(thread);
    let seen = BARRIERS.load(Ordering::Acquire);
    // The first barrier to start after `seen`: if one is running (odd), the one after it.
    let done = seen.div_ceil(2) * 2 + 2;
    if BARRIERS.load(Ordering::Acquire) >= done {
        return;
    }
    // Writers that arrive while a barrier runs wait here; when they get the lock, the barrier
    // that ran meanwhile (if it started after their read) has served them all.
    let running = RUNNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if BARRIERS.load(Ordering::Acquire) < done {
        BARRIERS.fetch_add(1, Ordering::AcqRel);
        heavy_barrier();
        BARRIERS.fetch_add(1, Ordering::AcqRel);
    }
    drop(running);
}
