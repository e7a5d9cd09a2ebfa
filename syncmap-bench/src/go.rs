//! Every benchmark of Go's `src/sync/map_bench_test.go`: the Go 1.19 set, the Swap /
//! CompareAndSwap / CompareAndDelete ones added in 1.20 and `Clear` from 1.23, with the same
//! key patterns, the same setup ("prime" loads included) and the same per-goroutine key ranges.

use crate::maps::BenchMap;
use crate::timing;
use std::hint::black_box;
use std::time::Duration;

/// One Go benchmark: its name, its untimed setup and its per-goroutine body.
pub struct GoBench<M> {
    /// Go's benchmark name, without the `Benchmark` prefix.
    pub name: &'static str,
    /// Whether Go 1.19 has it (the others came in 1.20 and 1.23).
    pub in_go_1_19: bool,
    /// Untimed setup.
    pub setup: fn(&M),
    /// `perG(map, i, count)`: the body of one goroutine starting at key `i`.
    pub per_g: fn(&M, u64, u64),
}

const MOSTLY: (u64, u64) = (1023, 1);
const MOSTLY_MISSES: (u64, u64) = (1, 1023);
const BALANCED: (u64, u64) = (128, 128);

fn fill_and_prime<M: BenchMap>(m: &M, hits: u64) {
    for i in 0..hits {
        m.load_or_store(i, i);
    }
    // "Prime the map to get it into a steady state."
    for i in 0..hits * 2 {
        black_box(m.load(i % hits));
    }
}

fn store_range<M: BenchMap>(m: &M, size: u64) {
    for i in 0..size {
        m.store(i, i);
    }
}

fn load_mix<M: BenchMap>(m: &M, i: u64, n: u64, (hits, misses): (u64, u64)) {
    for i in i..i + n {
        black_box(m.load(i % (hits + misses)));
    }
}

fn swap_mix<M: BenchMap>(m: &M, i: u64, n: u64, (hits, misses): (u64, u64)) {
    for i in i..i + n {
        if i % (hits + misses) < hits {
            let v = i % (hits + misses);
            black_box(m.swap(v, v));
        } else {
            black_box(m.swap(i, i));
            m.delete(i);
        }
    }
}

fn cas_mix<M: BenchMap>(m: &M, i: u64, n: u64, (hits, misses): (u64, u64)) {
    for i in i..i + n {
        let v = if i % (hits + misses) < hits {
            i % (hits + misses)
        } else {
            i
        };
        black_box(m.compare_and_swap(v, v, v));
    }
}

fn cad_mix<M: BenchMap>(m: &M, i: u64, n: u64, (hits, misses): (u64, u64)) {
    for i in i..i + n {
        let v = if i % (hits + misses) < hits {
            i % (hits + misses)
        } else {
            i
        };
        if m.compare_and_delete(v, v) {
            m.store(v, v);
        }
    }
}

fn none<M>(_: &M) {}

fn zero<M: BenchMap>(m: &M) {
    m.load_or_store(0, 0);
}

/// All of Go's map benchmarks, in the order of `map_bench_test.go`.
pub fn all<M: BenchMap>() -> Vec<GoBench<M>> {
    vec![
        GoBench {
            name: "LoadMostlyHits",
            in_go_1_19: true,
            setup: |m| fill_and_prime(m, MOSTLY.0),
            per_g: |m, i, n| load_mix(m, i, n, MOSTLY),
        },
        GoBench {
            name: "LoadMostlyMisses",
            in_go_1_19: true,
            setup: |m| fill_and_prime(m, MOSTLY_MISSES.0),
            per_g: |m, i, n| load_mix(m, i, n, MOSTLY_MISSES),
        },
        GoBench {
            name: "LoadOrStoreBalanced",
            in_go_1_19: true,
            setup: |m| fill_and_prime(m, BALANCED.0),
            per_g: |m, i, n| {
                let (hits, misses) = BALANCED;
                for i in i..i + n {
                    let j = i % (hits + misses);
                    if j < hits {
                        let (_, loaded) = m.load_or_store(j, i);
                        assert!(loaded, "unexpected miss for {j}");
                    } else {
                        let (_, loaded) = m.load_or_store(i, i);
                        assert!(!loaded, "failed to store {i}");
                    }
                }
            },
        },
        GoBench {
            name: "LoadOrStoreUnique",
            in_go_1_19: true,
            setup: none,
            per_g: |m, i, n| {
                for i in i..i + n {
                    black_box(m.load_or_store(i, i));
                }
            },
        },
        GoBench {
            name: "LoadOrStoreCollision",
            in_go_1_19: true,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    black_box(m.load_or_store(0, 0));
                }
            },
        },
        GoBench {
            name: "LoadAndDeleteBalanced",
            in_go_1_19: true,
            setup: |m| fill_and_prime(m, BALANCED.0),
            per_g: |m, i, n| {
                let (hits, misses) = BALANCED;
                for i in i..i + n {
                    let j = i % (hits + misses);
                    black_box(m.load_and_delete(if j < hits { j } else { i }));
                }
            },
        },
        GoBench {
            name: "LoadAndDeleteUnique",
            in_go_1_19: true,
            setup: none,
            per_g: |m, i, n| {
                for i in i..i + n {
                    black_box(m.load_and_delete(i));
                }
            },
        },
        GoBench {
            name: "LoadAndDeleteCollision",
            in_go_1_19: true,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    black_box(m.load_and_delete(0));
                }
            },
        },
        GoBench {
            name: "Range",
            in_go_1_19: true,
            setup: |m| store_range(m, 1 << 10),
            per_g: |m, _, n| {
                for _ in 0..n {
                    m.range(|k, v| {
                        black_box((k, v));
                        true
                    });
                }
            },
        },
        GoBench {
            name: "AdversarialAlloc",
            in_go_1_19: true,
            setup: none,
            per_g: |m, i, n| {
                let (mut stores, mut loads_since_store) = (0_u64, 0_u64);
                for i in i..i + n {
                    black_box(m.load(i));
                    loads_since_store += 1;
                    if loads_since_store > stores {
                        m.load_or_store(i, stores);
                        loads_since_store = 0;
                        stores += 1;
                    }
                }
            },
        },
        GoBench {
            name: "AdversarialDelete",
            in_go_1_19: true,
            setup: |m| store_range(m, 1 << 10),
            per_g: |m, i, n| {
                for i in i..i + n {
                    black_box(m.load(i));
                    if i % (1 << 10) == 0 {
                        // Go: m.Range(func(k, _) bool { m.Delete(k); return false }).
                        if let Some(k) = m.first_key() {
                            m.delete(k);
                        }
                        m.store(i, i);
                    }
                }
            },
        },
        GoBench {
            name: "DeleteCollision",
            in_go_1_19: true,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    m.delete(0);
                }
            },
        },
        GoBench {
            name: "SwapCollision",
            in_go_1_19: false,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    black_box(m.swap(0, 0));
                }
            },
        },
        GoBench {
            name: "SwapMostlyHits",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY.0),
            per_g: |m, i, n| swap_mix(m, i, n, MOSTLY),
        },
        GoBench {
            name: "SwapMostlyMisses",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY_MISSES.0),
            per_g: |m, i, n| swap_mix(m, i, n, MOSTLY_MISSES),
        },
        GoBench {
            name: "CompareAndSwapCollision",
            in_go_1_19: false,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    if m.compare_and_swap(0, 0, 42) {
                        m.compare_and_swap(0, 42, 0);
                    }
                }
            },
        },
        GoBench {
            name: "CompareAndSwapNoExistingKey",
            in_go_1_19: false,
            setup: none,
            per_g: |m, i, n| {
                for i in i..i + n {
                    if m.compare_and_swap(i, 0, 0) {
                        m.delete(i);
                    }
                }
            },
        },
        GoBench {
            name: "CompareAndSwapValueNotEqual",
            in_go_1_19: false,
            setup: |m| m.store(0, 0),
            per_g: |m, _, n| {
                for _ in 0..n {
                    black_box(m.compare_and_swap(0, 1, 2));
                }
            },
        },
        GoBench {
            name: "CompareAndSwapMostlyHits",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY.0),
            per_g: |m, i, n| cas_mix(m, i, n, MOSTLY),
        },
        GoBench {
            name: "CompareAndSwapMostlyMisses",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY_MISSES.0),
            per_g: |m, i, n| cas_mix(m, i, n, MOSTLY_MISSES),
        },
        GoBench {
            name: "CompareAndDeleteCollision",
            in_go_1_19: false,
            setup: zero,
            per_g: |m, _, n| {
                for _ in 0..n {
                    if m.compare_and_delete(0, 0) {
                        m.store(0, 0);
                    }
                }
            },
        },
        GoBench {
            name: "CompareAndDeleteMostlyHits",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY.0),
            per_g: |m, i, n| cad_mix(m, i, n, MOSTLY),
        },
        GoBench {
            name: "CompareAndDeleteMostlyMisses",
            in_go_1_19: false,
            setup: |m| fill_and_prime(m, MOSTLY_MISSES.0),
            per_g: |m, i, n| cad_mix(m, i, n, MOSTLY_MISSES),
        },
        GoBench {
            name: "Clear",
            in_go_1_19: false,
            setup: none,
            per_g: |m, i, n| {
                for i in i..i + n {
                    let (k, v) = (i % 256, i % 256);
                    m.clear();
                    m.store(k, v);
                }
            },
        },
    ]
}

/// Runs the Go benchmark at `index` of [`all`] on a fresh `M`, Go style (`threads` goroutines,
/// `benchtime`), and returns its ns/op.
pub fn run_one<M: BenchMap>(index: usize, threads: usize, benchtime: Duration) -> Option<f64> {
    let bench = all::<M>().swap_remove(index);
    let make = || {
        let m = M::new();
        (bench.setup)(&m);
        m
    };
    Some(timing::go_style(&make, threads, benchtime, &bench.per_g))
}
