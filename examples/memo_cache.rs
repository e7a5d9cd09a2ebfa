//! A memoizing cache on the core `SyncMap` alone, as a library would build one without the
//! derive: `get_or_insert_with` computes a missing value outside the map's lock, so the
//! computation may itself use the cache (here, recursively).
//!
//! ```text
//! cargo run -p syncmap-examples --example memo_cache
//! ```

use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use syncmap_core::{Ref, SyncMap};

/// Memoizes a function of one argument, shared by any number of threads.
///
/// Reads of cached keys take no lock. If threads race on a missing key, each may compute it;
/// one value is kept and returned to all of them (`computed` counts every computation).
struct Memo<K, V> {
    cache: SyncMap<K, V>,
    computed: AtomicUsize,
}

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    fn new() -> Self {
        Memo {
            cache: SyncMap::new(),
            computed: AtomicUsize::new(0),
        }
    }

    /// The value for `key`, computed with `compute` (given this memo) if it is not cached yet.
    fn get(&self, key: K, compute: impl FnOnce(&Self) -> V) -> Ref<'_, V> {
        self.cache.get_or_insert_with(key, || {
            self.computed.fetch_add(1, Ordering::Relaxed);
            compute(self)
        })
    }
}

/// Steps for `n` to reach 1 in the Collatz process, memoized on every number along the way.
fn collatz_steps(memo: &Memo<u64, u32>, n: u64) -> u32 {
    if n == 1 {
        return 0;
    }
    *memo.get(n, |memo| {
        let next = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        1 + collatz_steps(memo, next)
    })
}

/// Fibonacci numbers, memoized: exponential time becomes linear.
fn fib(memo: &Memo<u32, u128>, n: u32) -> u128 {
    if n < 2 {
        return u128::from(n);
    }
    *memo.get(n, |memo| fib(memo, n - 1) + fib(memo, n - 2))
}

fn main() {
    println!("== fibonacci, memoized recursively");
    let fibs = Memo::new();
    println!("fib(150) = {}", fib(&fibs, 150));
    println!(
        "{} values computed for {} cached keys; asking again computes nothing:",
        fibs.computed.load(Ordering::Relaxed),
        fibs.cache.len()
    );
    let before = fibs.computed.load(Ordering::Relaxed);
    assert_eq!(fib(&fibs, 150), fib(&fibs, 150));
    println!(
        "fib(150) again: {} new computations",
        fibs.computed.load(Ordering::Relaxed) - before
    );

    const LIMIT: u64 = 100_000;
    const THREADS: u64 = 4;
    println!("\n== Collatz steps for 1..={LIMIT}, {THREADS} threads sharing one cache");
    let steps = Memo::new();
    let longest = thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let steps = &steps;
                // Interleaved ranges, so the threads keep meeting each other's numbers.
                s.spawn(move || {
                    (1 + t..=LIMIT)
                        .step_by(THREADS as usize)
                        .map(|n| (collatz_steps(steps, n), n))
                        .max()
                        .unwrap()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .max()
            .unwrap()
    });
    println!(
        "longest chain below {}: {} takes {} steps",
        LIMIT + 1,
        longest.1,
        longest.0
    );
    let cached = steps.cache.len();
    let computed = steps.computed.load(Ordering::Relaxed);
    println!(
        "{cached} numbers cached (the chains pass through many above {LIMIT}); {computed} \
         computations, so {} were duplicated by racing threads and discarded",
        computed - cached
    );
    let stats = steps.cache.stats();
    println!(
        "map stats: {} promotions, {} dirty rebuilds copying {} entries in total",
        stats.promotions, stats.dirty_rebuilds, stats.entries_copied
    );
    // Cross-check a few values against a plain, unmemoized computation.
    for n in [27u64, 97, 871, 77_031] {
        let mut x = n;
        let mut plain = 0;
        while x != 1 {
            x = if x % 2 == 0 { x / 2 } else { 3 * x + 1 };
            plain += 1;
        }
        assert_eq!(collatz_steps(&steps, n), plain);
    }
    println!("spot checks against the unmemoized computation: ok");
}
