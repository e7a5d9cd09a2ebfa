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
//! **Switching off** is done by a reader: after [`OFF_CHECK`] fenced entries that saw no
//! writer retire anything in between (the map's epoch did not move), it lowers the flag, so a
//! map whose writes have stopped goes back to plain-store reads. It may do so only while no
//! writer relies on `FAST`: writers announce themselves in the same atomic word as the mode, and
//! the reader's switch is one compare-and-swap that succeeds only on `FAST` with no writer
//! inside. Writers that arrive during or after the switch see a mode other than `FAST` and take
//! the heavy barrier. Nobody ever waits for anybody: a switch that finds a writer inside is
//! simply not made.
//!
//! Only the scan that decides to drop garbage at once relies on the mode. Deferring garbage to
//! the last reader out (invariant 3) still takes the heavy barrier, so readers leave with plain
//! stores in both modes, and batched mode's `flush` keeps its barriers.

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

/// `Switch::state`'s low bits: the mode.
const MODE: usize = 0b11;
/// Readers may enter with plain stores; writers take the heavy barrier.
const NORMAL: usize = 0;
/// Readers fence; a writer that registered while the mode was `FAST` needs only a full fence.
const FAST: usize = 1;
/// Between the two, either way; writers take the heavy barrier.
const SWITCHING: usize = 2;
/// `Switch::state`'s high bits count the writers relying on `FAST`, in steps of this.
const WRITER: usize = 4;

/// A domain's mode switch.
pub(super) struct Switch {
    /// The mode (low bits) and the number of writers relying on it (high bits), in one word so
    /// that a writer's registration and a reader's switch off are ordered one way or the other.
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
        self.state.load(Ordering::Relaxed) & MODE == FAST
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
    /// With a full fence, the mode being `FAST`; the writer stays registered until this drops.
    Fast(&'a Switch),
}

impl Drop for Fenced<'_> {
    fn drop(&mut self) {
        if let Fenced::Fast(switch) = self {
            switch.state.fetch_sub(WRITER, Ordering::Release);
        }
    }
}

impl Core {
    /// Invariant 1 for everything the calling writer has unlinked so far: once this returns,
    /// every reader that could hold any of it is visible to a scan of the slots made while the
    /// returned value is alive (and, for `Heavy`, to any later scan). `thread` is the caller's
    /// thread index.
    pub(super) fn fence_unlinks(&self, thread: usize) -> Fenced<'_> {
        let switch = &self.switch;
        if switch.state.fetch_add(WRITER, Ordering::AcqRel) & MODE == FAST {
            // Pairs with the full fence of every reader that entered since the switch.
            full_fence();
            return Fenced::Fast(switch);
        }
        switch.state.fetch_sub(WRITER, Ordering::Release);
        let on = switch.recent()
            && switch
                .state
                .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |s| {
                    (s & MODE == NORMAL).then_some(s | SWITCHING)
                })
                .is_ok();
        if on {
            // Raised before the barrier: every reader that enters after it sees the flag.
            self.readers.fenced.store(true, Ordering::Relaxed);
        }
        shared_heavy_barrier(thread);
        if on {
            // `SWITCHING` to `FAST`, keeping the count of writers passing through.
            switch.state.fetch_xor(SWITCHING ^ FAST, Ordering::Release);
        }
        Fenced::Heavy
    }

    /// A reader's entry in fenced mode, after its epoch store: the fence, and now and then a
    /// look at whether writes have stopped. `epoch` is the epoch the reader entered with.
    #[inline(always)]
    pub(super) fn fenced_entry(&self, slot: &Slot, epoch: u64) {
        reader_full_fence();
        let entries = slot.fenced_entries.get() + 1;
        if entries < OFF_CHECK {
            slot.fenced_entries.set(entries);
        } else {
            slot.fenced_entries.set(0);
            self.check_writes_stopped(slot, epoch);
        }
    }

    /// Switches fenced mode off if no writer retired anything since this reader's last look.
    #[cold]
    fn check_writes_stopped(&self, slot: &Slot, epoch: u64) {
        if slot.checked_epoch.replace(epoch) != epoch {
            return;
        }
        let switch = &self.switch;
        // Only from `FAST` with no writer relying on it.
        if switch
            .state
            .compare_exchange(FAST, SWITCHING, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.readers.fenced.store(false, Ordering::Release);
            // `SWITCHING` to `NORMAL`, keeping the count of writers passing through.
            switch.state.fetch_xor(SWITCHING, Ordering::Release);
        }
    }
}
