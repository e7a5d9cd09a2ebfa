//! Fenced mode: how a map that is being written often spares its writers the heavy barrier.
//!
//! In the normal mode a reader enters with plain stores and every writer that unlinked something
//! pays a heavy barrier (a system call that interrupts every CPU running the process) before it
//! may trust its scan of the readers' slots. That is the right trade while writes are rare. When
//! they are not, the map switches to **fenced mode**: each reader issues a full fence after
//! storing its epoch (one locked instruction), and a writer needs only a full fence of its own
//! before its scan. The two fences stand on either side of the classic store-then-load race, so
//! either the writer's scan sees the reader's epoch or the reader's loads see the unlink.
//! Readers check a flag, in the cache line of the epoch they load anyway, to know which entry to
//! use: in the normal mode that costs one load and a predictable branch.
//!
//! **Switching on** costs nothing extra. A writer about to take a heavy barrier, finding that
//! the map's previous one was less than [`ON_WINDOW_US`] ago, raises the flag *before* its
//! barrier and marks the mode `FAST` after it. The barrier sorts every reader into one of two
//! groups: those whose epoch store came before it, which every later scan sees, and those that
//! load the flag after it, which see it raised and fence. (The reader loads the flag after its
//! light barrier, so the barrier's point of interruption cannot fall between the two.) A writer
//! that finds the mode `FAST` therefore knows that every reader that could hold what it unlinked
//! is visible to a scan after its own full fence.
//!
//! **Switching off** is done by a reader: after [`OFF_CHECK`] fenced entries in which no writer
//! retired anything (the sum of the slots' retire counts, each written by its own thread, did not
//! move), it lowers the flag, so a map whose writes have stopped goes back to plain-store reads. It
//! may do so only while no writer relies on `FAST`. A writer announces itself in its own slot
//! (`relying`), then full-fences, then loads the mode; the reader moves the mode from `FAST` to
//! `SWITCHING`, full-fences, then looks at every slot's `relying`. The two fences stand on either
//! side of the store-then-load race again: either the writer sees `SWITCHING` (and takes the heavy
//! barrier), or the reader sees the writer's flag (and puts `FAST` back: the switch is not made). A
//! writer lowers its flag with release once its scan is done, and the switching reader loads the
//! flags with acquire, then takes a heavy barrier before it lowers the readers' flag: a reader that
//! enters without a fence after the switch therefore sees every unlink of the writers that relied
//! on `FAST` until then, as invariant 1 has any reader see a writer's unlinks (one system call a
//! switch off, which happens only once writes have stopped). Loom's model of a full fence orders
//! more than a fence does, so it cannot check the announcement (TESTING.md); the argument is the
//! C++ fence rule: of two `SeqCst` fences, the later one's thread reads the other thread's store
//! made before the earlier one. Nobody ever waits for anybody, and a writer's announcement writes
//! only its own cache line (a count of writers in the mode's word, written by every writer twice,
//! was a third of a two-thread Swap's time: BENCHMARKS.md, session 10).
//!
//! Only the scan that decides to drop garbage at once relies on the mode (batched mode's full
//! bags go through the same scan). Deferring garbage to the last reader out (invariant 3) still
//! takes the heavy barrier, so readers leave with plain stores in both modes.

use super::barrier::shared_heavy_barrier;
use super::slots::Slot;
use super::Core;
use crate::primitive::{full_fence, reader_full_fence, AtomicU64, AtomicUsize, Ordering};

/// Two heavy barriers of one map less than this far apart (in microseconds) switch it to fenced
/// mode: writes at more than a thousand a second. (Unused under loom, see `recent`.)
#[cfg_attr(loom, allow(dead_code))]
const ON_WINDOW_US: u64 = 1_000;

/// How many fenced entries a reader makes between two looks at whether writes have stopped.
const OFF_CHECK: u32 = if cfg!(loom) { 1 } else { 4_096 };

/// `Switch::state`, the mode. Readers may enter with plain stores; writers take the heavy
/// barrier.
const NORMAL: usize = 0;
/// Readers fence; a writer that announced itself and then saw `FAST` needs only a full fence.
const FAST: usize = 1;
/// Between the two, either way; writers take the heavy barrier.
const SWITCHING: usize = 2;

/// A domain's mode switch.
pub(super) struct Switch {
    /// The mode. Writers only load it on their way through (a switch writes it), so it stays
    /// in every core's cache.
    state: AtomicUsize,
    /// When the domain's last heavy barrier was taken, in microseconds since the process's first
    /// one, plus one (0: never).
    last_heavy: AtomicU64,
}

impl Switch {
    pub(super) fn new() -> Self {
        Switch {
            state: AtomicUsize::new(NORMAL),
            last_heavy: AtomicU64::new(0),
        }
    }

    /// Whether the domain is in fenced mode (for `Stats`; advisory).
    pub(super) fn is_fast(&self) -> bool {
        self.state.load(Ordering::Relaxed) == FAST
    }

    /// Whether the domain's previous heavy barrier was recent; records this one.
    #[cfg(not(loom))]
    fn recent(&self) -> bool {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let micros = START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_micros();
        let now = u64::try_from(micros).unwrap_or(u64::MAX - 1) + 1;
        let last = self.last_heavy.swap(now, Ordering::Relaxed);
        last != 0 && now - last.min(now) < ON_WINDOW_US
    }

    /// Under loom every heavy barrier after the first switches the mode on, so that the models
    /// run both modes and the switches.
    #[cfg(loom)]
    fn recent(&self) -> bool {
        self.last_heavy.swap(1, Ordering::Relaxed) != 0
    }
}

/// How a writer made its unlinks visible before scanning the readers' slots.
pub(super) enum Fenced<'a> {
    /// With a heavy barrier.
    Heavy,
    /// With a full fence, the mode being `FAST`; the writer's slot says it relies on that mode
    /// until this drops.
    Fast(&'a Slot),
}

impl Drop for Fenced<'_> {
    fn drop(&mut self) {
        if let Fenced::Fast(slot) = self {
            // Release: the writer's scan comes before a switch that sees the flag down.
            slot.relying.store(false, Ordering::Release);
        }
    }
}

impl Core {
    /// Invariant 1 for everything the calling writer has unlinked so far: once this returns,
    /// every reader that could hold any of it is visible to a scan of the slots made while the
    /// returned value is alive (and, for `Heavy`, to any later scan). `slot` is the caller's
    /// own slot.
    pub(super) fn fence_unlinks<'s>(&self, slot: &'s Slot) -> Fenced<'s> {
        let switch = &self.switch;
        slot.relying.store(true, Ordering::Relaxed);
        // Pairs with the full fence of every reader that entered since the switch on, and with
        // the fence of a reader switching the mode off (see the module docs).
        full_fence();
        if switch.state.load(Ordering::Acquire) == FAST {
            return Fenced::Fast(slot);
        }
        slot.relying.store(false, Ordering::Relaxed);
        let on = switch.recent()
            && switch
                .state
                .compare_exchange(NORMAL, SWITCHING, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok();
        if on {
            // Raised before the barrier: every reader that enters after it sees the flag.
            self.readers.fenced.store(true, Ordering::Relaxed);
        }
        shared_heavy_barrier(slot.index);
        if on {
            switch.state.store(FAST, Ordering::Release);
        }
        Fenced::Heavy
    }

    /// A reader's entry in fenced mode, after its epoch store: the fence, and now and then a
    /// look at whether writes have stopped.
    #[inline(always)]
    pub(super) fn fenced_entry(&self, slot: &Slot) {
        reader_full_fence();
        let entries = slot.fenced_entries.get() + 1;
        if entries < OFF_CHECK {
            slot.fenced_entries.set(entries);
        } else {
            slot.fenced_entries.set(0);
            self.check_writes_stopped(slot);
        }
    }

    /// Switches fenced mode off if no writer retired anything since this reader's last look.
    #[cold]
    fn check_writes_stopped(&self, slot: &Slot) {
        let retires = self.total_retires();
        if slot.checked_retires.replace(retires) != retires {
            return;
        }
        let switch = &self.switch;
        if switch
            .state
            .compare_exchange(FAST, SWITCHING, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // Pairs with the full fence of a writer announcing itself (see the module docs).
        full_fence();
        if self.any_relying() {
            // A writer relies on `FAST`: the switch is not made.
            switch.state.store(FAST, Ordering::Release);
            return;
        }
        // Before the flag goes down: a reader that will see it down enters with no fence, so
        // every unlink of the writers that relied on `FAST` until now (their flags were seen
        // lowered, with acquire) must reach it first: the heavy barrier carries them to every
        // reader (invariant 1's argument, with this thread as the writer). Once a switch off.
        shared_heavy_barrier(slot.index);
        self.readers.fenced.store(false, Ordering::Release);
        switch.state.store(NORMAL, Ordering::Release);
    }
}
