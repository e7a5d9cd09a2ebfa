//! Heap bytes per entry, counted by a global allocator wrapper that the binary installs.

use crate::maps::BenchMap;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting live requested bytes while [`counting`] is on. Off, it costs
/// one read of a flag that no one writes, so timings are unaffected.
pub struct CountingAlloc;

// SAFETY: every call is forwarded unchanged to `System`; the counters are side bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Turns counting on or off. Only meaningful single-threaded, around allocations made and
/// freed while it is on.
pub fn counting(on: bool) {
    COUNTING.store(on, Ordering::SeqCst);
}

/// Live bytes counted so far.
pub fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// What one map costs.
#[derive(Clone, Copy, Debug)]
pub struct Footprint {
    /// Bytes of the empty map's own allocations.
    pub empty: isize,
    /// Bytes per entry with `n` entries (the empty map subtracted).
    pub per_entry: f64,
    /// Bytes after removing every key, then (for `SyncMap`) one new key and its promotion, then
    /// removing that key too: what the emptied map still holds.
    pub after_delete_all: isize,
}

/// Measures `M` at `n` entries. Call with counting on.
pub fn footprint<M: BenchMap>(n: u64) -> Footprint {
    let base = live();
    let map = M::new();
    let empty = live() - base;
    for i in 0..n {
        map.store(i, i);
    }
    // Steady state: SyncMap's keys move from the dirty map to the read map on reads.
    for i in 0..n {
        black_box(map.load(i));
    }
    let full = live() - base;
    for i in 0..n {
        map.delete(i);
    }
    // One new key: SyncMap rebuilds its dirty map (dropping the deleted entries), and the load
    // that follows promotes it.
    map.store(u64::MAX, 0);
    black_box(map.load(u64::MAX));
    map.delete(u64::MAX);
    let after = live() - base;
    drop(black_box(map));
    Footprint {
        empty,
        per_entry: (full - empty) as f64 / n as f64,
        after_delete_all: after,
    }
}

/// The same for a plain `std::collections::HashMap<u64, u64>` with `S`.
pub fn footprint_std<S: crate::maps::Hasher>(n: u64) -> Footprint {
    let base = live();
    let mut map: std::collections::HashMap<u64, u64, S> = Default::default();
    let empty = live() - base;
    for i in 0..n {
        map.insert(i, i);
    }
    let full = live() - base;
    for i in 0..n {
        map.remove(&i);
    }
    let after = live() - base;
    drop(black_box(map));
    Footprint {
        empty,
        per_entry: (full - empty) as f64 / n as f64,
        after_delete_all: after,
    }
}
