//! The timing loop: Go's `testing.B` iteration scaling and `RunParallel` work split.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Drops `value` (a benchmark's map, outside the timed region) and then makes the allocator
/// settle the frees it deferred ([`settle_allocator`]), so that the next timed round does not
/// pay for them.
pub fn drop_untimed<T>(value: T) {
    drop(black_box(value));
    settle_allocator();
}

/// Makes glibc merge, now, the small blocks freed so far into any of its arenas.
///
/// glibc keeps small freed blocks in per-arena fast bins without merging them, and merges them
/// all at once (`malloc_consolidate`) the next time that arena serves a large request. A map of
/// millions of entries dropped between rounds leaves millions of such blocks in the arenas of
/// the round's threads, which have exited; the next round's fresh threads inherit those arenas,
/// and their first large allocation merges them inside the timed region. At two threads about
/// one full run of Go's set in three reported one benchmark at 2 ms to 230 ms an operation: a
/// calibration round of 1 to 100 operations that lasted that long (BENCHMARKS.md, session 14).
///
/// So, untimed, as many threads as glibc may have arenas (eight a core) start together, each
/// holding an arena of its own (a free one, a new one, or, past the limit, the next one in
/// turn), and each asks for one large block, which merges its arena's fast bins. The timed
/// rounds keep glibc's defaults: fast bins and all. Go's `testing.B` collects garbage before
/// each round for the same reason. Elsewhere (another libc or system) it does nothing.
pub fn settle_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let sweepers = 8 * cores + 1;
        let start = Barrier::new(sweepers);
        std::thread::scope(|s| {
            for _ in 0..sweepers {
                s.spawn(|| {
                    start.wait();
                    // A large request (small ones stop under 1 KiB), far below the mmap
                    // threshold (128 KiB): the arena serves it after merging its fast bins.
                    drop(black_box(Vec::<u8>::with_capacity(4096)));
                });
            }
        });
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
        drop_untimed(map);
        if elapsed >= benchtime || n >= 1_000_000_000 {
            return elapsed.as_nanos() as f64 / n as f64;
        }
        let per_op = (elapsed.as_nanos() as f64 / n as f64).max(1.0);
        let goal = benchtime.as_nanos() as f64 * 1.2 / per_op;
        let next = (goal as u64).min(n.saturating_mul(100)).max(n + 1);
        n = next.min(1_000_000_000);
    }
}
