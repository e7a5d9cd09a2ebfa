//! The timing loop: Go's `testing.B` iteration scaling and `RunParallel` work split.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Turns glibc's fast bins off for the whole process; call it first, before anything is timed.
///
/// glibc keeps small freed blocks in per-arena fast bins without merging them, and merges them
/// all at once (`malloc_consolidate`) the next time that arena serves a large request or frees a
/// block of 64 KiB or more. A benchmark that drops a map of millions of entries (untimed) leaves
/// millions of such blocks in the arenas of its threads, which have exited; the next
/// benchmark's fresh threads inherit those arenas, and its first large allocation merges them
/// inside the timed region. At two threads about one full run of Go's set in three reported one
/// benchmark at 2 ms to 230 ms an operation: a calibration round of 1 to 100 operations that
/// lasted that long (LoadOrStoreCollision's n = 1 round, 230 ms, right after LoadOrStoreUnique
/// had dropped millions of keys). With fast bins off, a free merges at once, so the drop pays
/// for its own blocks. Go's `testing.B` collects garbage before each round for the same reason;
/// figures and how they were taken are in BENCHMARKS.md. It applies to every map in the process
/// alike. Elsewhere (another libc or system) it does nothing.
pub fn quiet_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets one of malloc's tuning parameters; `M_MXFAST` with 0
        // (no fast bins) is a value its manual documents, and the call is safe at any time.
        let set = unsafe { libc::mallopt(libc::M_MXFAST, 0) };
        if set != 1 {
            eprintln!("warning: mallopt(M_MXFAST, 0) failed: rounds may pay earlier frees");
        }
    }
}

/// Runs `per_thread(map, start, count)` on `threads` threads, as Go's `RunParallel` does: thread
/// `t` works on keys from `t * n`, and the `n` iterations are split evenly. Returns the wall
/// time from the moment all threads are released until the last one finishes.
pub fn run_parallel<M: Sync>(
    map: &M,
    threads: usize,
    n: u64,
    per_thread: &(dyn Fn(&M, u64, u64) + Sync),
) -> Duration {
    if threads == 1 {
        let start = Instant::now();
        per_thread(map, 0, n);
        return start.elapsed();
    }
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let barrier = &barrier;
                let count = thread_share(t, threads, n);
                s.spawn(move || {
                    barrier.wait();
                    per_thread(map, t * n, count);
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().expect("benchmark thread panicked");
        }
        start.elapsed()
    })
}

/// How many of `n` iterations thread `t` of `threads` runs: an even split, the remainder on
/// thread 0 (Go's `RunParallel`).
pub fn thread_share(t: u64, threads: usize, n: u64) -> u64 {
    let share = n / threads as u64;
    if t == 0 {
        n - share * (threads as u64 - 1)
    } else {
        share
    }
}

/// Go's `b.N` scaling: runs with n = 1, then predicts the n that fills `benchtime` (growing at
/// most 100× per round, at least by one), until a run lasts at least `benchtime`. Each run gets
/// a fresh map from `make` (setup included, untimed). Returns ns per operation of the last run.
pub fn go_style<M: Sync>(
    make: &dyn Fn() -> M,
    threads: usize,
    benchtime: Duration,
    per_thread: &(dyn Fn(&M, u64, u64) + Sync),
) -> f64 {
    go_style_with(run_parallel, make, threads, benchtime, per_thread)
}

/// A timer: runs `per_thread(map, start, count)` on `threads` threads over `n` iterations and
/// returns the wall time ([`run_parallel`], or `promotion::run_timed`, where each thread reads
/// the clock itself).
pub type Timer<M> = fn(&M, usize, u64, &(dyn Fn(&M, u64, u64) + Sync)) -> Duration;

/// [`go_style`] with the given timer.
pub fn go_style_with<M: Sync>(
    timer: Timer<M>,
    make: &dyn Fn() -> M,
    threads: usize,
    benchtime: Duration,
    per_thread: &(dyn Fn(&M, u64, u64) + Sync),
) -> f64 {
    let mut n: u64 = 1;
    loop {
        let map = make();
        let elapsed = timer(&map, threads, n, per_thread);
        // Drop outside the timed region, as Go's GC work is (mostly) outside b.N's loop.
        drop(black_box(map));
        if elapsed >= benchtime || n >= 1_000_000_000 {
            return elapsed.as_nanos() as f64 / n as f64;
        }
        let per_op = (elapsed.as_nanos() as f64 / n as f64).max(1.0);
        let goal = benchtime.as_nanos() as f64 * 1.2 / per_op;
        let next = (goal as u64).min(n.saturating_mul(100)).max(n + 1);
        n = next.min(1_000_000_000);
    }
}
