//! Issue 9: the shard count (`Builder::shards`), measured to choose `DEFAULT_SHARDS`.
//!
//! - [`read_hit`]: the read path at 1 thread, `get` and `pin().get`, over a map whose keys are
//!   all in the read maps (built with `extend`, which settles);
//! - [`write_section`]: write-heavy work (Go's `LoadOrStoreUnique`, `LoadOrStoreBalanced`,
//!   `SwapMostlyMisses`; conc-map-bench's Exchange and RapidGrow) at each thread count, every
//!   shard count beside `RwLock<HashMap>` and dashmap;
//! - [`memory_section`]: the bytes of an empty map and of a 10-entry map (a plugin registry)
//!   beside std's `HashMap`, dashmap and papaya.
//!
//! Every timed cell is the best of `rounds` rounds; each round runs every column once, in an
//! order that alternates between rounds, so the columns see the same machine load. Each thread
//! reads the clock itself ([`run_timed`]): on a loaded 2-core machine a coordinator that starts
//! the clock after releasing the workers can be scheduled only once they are done.

use crate::go;
use crate::maps::{BenchMap, Dash, Hasher, OursShards, RwLockMap};
use crate::memory;
use crate::mixes;
use crate::promotion::run_timed;
use crate::timing;
use std::fmt::Write as _;
use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};
use syncmap_core::SyncMap;

/// The shard counts timed.
pub const SHARDS: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// The shard counts whose memory is counted (cheap, so up to the maximum).
pub const MEMORY_SHARDS: [usize; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// dashmap's default shard count on this machine: `(available_parallelism * 4)` rounded up to a
/// power of two (`dashmap::default_shard_amount`, private without its `raw-api` feature).
pub fn dashmap_default_shards() -> usize {
    (std::thread::available_parallelism().map_or(1, usize::from) * 4).next_power_of_two()
}

/// A map of `keys` keys (`0..keys`) with `shards` shards, every key in its shard's read map.
fn settled<S: Hasher>(shards: usize, keys: u64) -> SyncMap<u64, u64, S> {
    let mut m = SyncMap::builder()
        .shards(shards)
        .hasher(S::default())
        .build();
    m.extend((0..keys).map(|k| (k, k)));
    assert_eq!(m.shards(), shards);
    assert!(
        m.shard_stats().iter().all(|s| s.dirty_len.is_none()),
        "extend settles every shard"
    );
    m
}

/// ns per `get` and per `pin().get` of a present key, 1 thread: `passes` passes over `keys`
/// keys, for each shard count in [`SHARDS`], best of `rounds` interleaved rounds.
pub fn read_hit<S: Hasher>(keys: u64, passes: u64, rounds: usize) -> Vec<(usize, f64, f64)> {
    let maps: Vec<_> = SHARDS.iter().map(|&n| settled::<S>(n, keys)).collect();
    let mut best = vec![(f64::INFINITY, f64::INFINITY); SHARDS.len()];
    let ops = (keys * passes) as f64;
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..SHARDS.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let m = &maps[i];
            let start = Instant::now();
            for _ in 0..passes {
                for k in 0..keys {
                    black_box(m.get(&k).map(|v| *v));
                }
            }
            let get = start.elapsed().as_nanos() as f64 / ops;
            let start = Instant::now();
            for _ in 0..passes {
                let pinned = m.pin();
                for k in 0..keys {
                    black_box(pinned.get(&k).copied());
                }
            }
            let pinned = start.elapsed().as_nanos() as f64 / ops;
            best[i].0 = best[i].0.min(get);
            best[i].1 = best[i].1.min(pinned);
        }
        // The reads must not have changed anything: every key stays in the read maps.
        for m in &maps {
            assert_eq!(m.stats().misses, 0);
        }
    }
    SHARDS
        .iter()
        .zip(best)
        .map(|(&n, (g, p))| (n, g, p))
        .collect()
}

/// One cell of a Go benchmark (by name): ns/op, Go's iteration scaling.
fn go_cell<M: BenchMap>(name: &str, threads: usize, benchtime: Duration) -> f64 {
    let bench = go::all::<M>()
        .into_iter()
        .find(|b| b.name == name)
        .expect("a Go benchmark");
    let make = || {
        let m = M::new();
        (bench.setup)(&m);
        m
    };
    timing::go_style_with(run_timed, &make, threads, benchtime, &bench.per_g)
}

/// One cell of a conc-map-bench mix, unprimed (as conc-map-bench runs it): Mops/s.
fn mix_cell<M: BenchMap>(mix: &str, log2: u32, threads: usize) -> f64 {
    let mix = *mixes::MIXES
        .iter()
        .find(|m| m.name == mix)
        .expect("a conc-map-bench mix");
    mixes::run_with::<M>(run_timed, mix, log2, threads, false)
}

type Cell = fn(&str, usize, u32, Duration) -> f64;

fn go_col<M: BenchMap>(name: &str, threads: usize, _: u32, benchtime: Duration) -> f64 {
    go_cell::<M>(name, threads, benchtime)
}

fn mix_col<M: BenchMap>(name: &str, threads: usize, log2: u32, _: Duration) -> f64 {
    mix_cell::<M>(name, log2, threads)
}

/// The columns of the write tables, for `$f` one of `go_col` / `mix_col`.
macro_rules! columns {
    ($s:ty, $f:ident) => {
        vec![
            $f::<OursShards<$s, 1>> as Cell,
            $f::<OursShards<$s, 2>> as Cell,
            $f::<OursShards<$s, 4>> as Cell,
            $f::<OursShards<$s, 8>> as Cell,
            $f::<OursShards<$s, 16>> as Cell,
            $f::<OursShards<$s, 32>> as Cell,
            $f::<RwLockMap<$s>> as Cell,
            $f::<Dash<$s>> as Cell,
        ]
    };
}

/// Column names of the write tables.
pub fn write_columns() -> Vec<String> {
    let mut names: Vec<String> = SHARDS.iter().map(|n| format!("shards({n})")).collect();
    names.push("RwLock<HashMap>".into());
    names.push(format!("dashmap ({} shards)", dashmap_default_shards()));
    names
}

/// One row of the write tables: the workload, its unit, whether higher is better, the thread
/// count and the best figure of each column.
pub struct WriteRow {
    /// Workload name.
    pub name: &'static str,
    /// "ns/op" or "Mops/s".
    pub unit: &'static str,
    /// Whether a larger figure is better.
    pub higher_is_better: bool,
    /// Threads.
    pub threads: usize,
    /// One figure per [`write_columns`] column.
    pub figures: Vec<f64>,
}

/// The write-heavy figures: Go's benchmarks (`benchtime` each) and the mixes (`2^log2` slots),
/// at each of `threads`, best of `rounds` interleaved rounds.
pub fn write_section<S: Hasher>(
    threads: &[usize],
    benchtime: Duration,
    log2: u32,
    rounds: usize,
) -> Vec<WriteRow> {
    let workloads: [(&'static str, bool); 5] = [
        ("LoadOrStoreUnique", true),
        ("LoadOrStoreBalanced", true),
        ("SwapMostlyMisses", true),
        ("Exchange", false),
        ("RapidGrow", false),
    ];
    let mut rows = Vec::new();
    for &t in threads {
        for (name, is_go) in workloads {
            let cols: Vec<Cell> = if is_go {
                columns!(S, go_col)
            } else {
                columns!(S, mix_col)
            };
            let higher_is_better = !is_go;
            let mut best = vec![if higher_is_better { 0.0 } else { f64::INFINITY }; cols.len()];
            for round in 0..rounds {
                let mut order: Vec<usize> = (0..cols.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                for i in order {
                    let v = cols[i](name, t, log2, benchtime);
                    best[i] = if higher_is_better {
                        best[i].max(v)
                    } else {
                        best[i].min(v)
                    };
                }
            }
            eprintln!("shards {name} t={t}: {best:.2?}");
            rows.push(WriteRow {
                name,
                unit: if is_go { "ns/op" } else { "Mops/s" },
                higher_is_better,
                threads: t,
                figures: best,
            });
        }
    }
    rows
}

/// Bytes one map costs: `size_of` the map value plus the heap bytes it holds (requested sizes,
/// as the counting allocator sees them; the keys' own `String` buffers included). The 10-entry
/// figures depend on the hasher's random seed (which shards, which buckets the keys fall in), so
/// each is measured over [`SEEDS`] fresh maps.
#[derive(Clone, Copy, Debug)]
pub struct MapBytes {
    /// An empty map, never written.
    pub empty: isize,
    /// After 10 `insert`s, no reads (SyncMap: the keys are in the dirty maps).
    pub ten_inserted: Spread,
    /// 10 entries in the steady state (SyncMap: built with `extend`, which settles them into
    /// the read maps; the others: the same 10 inserts).
    pub ten_settled: Spread,
}

/// Mean, least and most bytes over [`SEEDS`] maps.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Least.
    pub min: isize,
    /// Most.
    pub max: isize,
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{:.0} ({}–{})", self.mean, self.min, self.max)
        }
    }
}

/// How many maps (hasher seeds) each 10-entry figure is measured over.
pub const SEEDS: usize = 32;

fn spread<T>(make: impl Fn() -> T) -> Spread {
    let all: Vec<isize> = (0..SEEDS).map(|_| bytes_of(&make)).collect();
    Spread {
        mean: all.iter().sum::<isize>() as f64 / all.len() as f64,
        min: *all.iter().min().expect("seeds"),
        max: *all.iter().max().expect("seeds"),
    }
}

/// The registry's keys: "plugin-0" to "plugin-9".
fn plugin_keys() -> impl Iterator<Item = (String, u64)> {
    (0..10_u64).map(|i| (format!("plugin-{i}"), i))
}

/// Heap bytes `make` leaves live (its result held), plus `size_of::<T>()`. Counting on.
fn bytes_of<T>(make: impl FnOnce() -> T) -> isize {
    let base = memory::live();
    let t = make();
    let bytes = memory::live() - base;
    drop(black_box(t));
    bytes + size_of::<T>() as isize
}

fn syncmap_bytes<S: Hasher>(shards: usize) -> MapBytes {
    let build = || {
        SyncMap::<String, u64>::builder()
            .shards(shards)
            .hasher(S::default())
            .build()
    };
    MapBytes {
        empty: bytes_of(build),
        ten_inserted: spread(|| {
            let m = build();
            for (k, v) in plugin_keys() {
                m.insert(k, v);
            }
            m
        }),
        ten_settled: spread(|| {
            let mut m = build();
            m.extend(plugin_keys());
            assert!(m.shard_stats().iter().all(|s| s.dirty_len.is_none()));
            m
        }),
    }
}

fn std_bytes<S: Hasher>() -> MapBytes {
    let ten = || {
        let mut m = std::collections::HashMap::<String, u64, S>::default();
        m.extend(plugin_keys());
        m
    };
    MapBytes {
        empty: bytes_of(std::collections::HashMap::<String, u64, S>::default),
        ten_inserted: spread(ten),
        ten_settled: spread(ten),
    }
}

fn dash_bytes<S: Hasher>() -> MapBytes {
    let ten = || {
        let m = dashmap::DashMap::<String, u64, S>::with_hasher(S::default());
        for (k, v) in plugin_keys() {
            m.insert(k, v);
        }
        m
    };
    MapBytes {
        empty: bytes_of(|| dashmap::DashMap::<String, u64, S>::with_hasher(S::default())),
        ten_inserted: spread(ten),
        ten_settled: spread(ten),
    }
}

fn papaya_bytes<S: Hasher>() -> MapBytes {
    let ten = || {
        let m = papaya::HashMap::<String, u64, S>::with_hasher(S::default());
        {
            let pinned = m.pin();
            for (k, v) in plugin_keys() {
                pinned.insert(k, v);
            }
        }
        m
    };
    MapBytes {
        empty: bytes_of(|| papaya::HashMap::<String, u64, S>::with_hasher(S::default())),
        ten_inserted: spread(ten),
        ten_settled: spread(ten),
    }
}

/// The memory rows: one per shard count in [`MEMORY_SHARDS`], then std's `HashMap`, dashmap
/// (its default shard count) and papaya. Each measurement runs once uncounted first, so that
/// one-time global initialisations are not charged to a map.
pub fn memory_section<S: Hasher>() -> Vec<(String, MapBytes)> {
    let measure = || {
        let mut rows: Vec<(String, MapBytes)> = MEMORY_SHARDS
            .iter()
            .map(|&n| (format!("SyncMap, shards({n})"), syncmap_bytes::<S>(n)))
            .collect();
        rows.push(("std HashMap (no lock)".into(), std_bytes::<S>()));
        rows.push((
            format!("dashmap ({} shards)", dashmap_default_shards()),
            dash_bytes::<S>(),
        ));
        rows.push(("papaya".into(), papaya_bytes::<S>()));
        rows
    };
    let _ = measure();
    memory::counting(true);
    let rows = measure();
    memory::counting(false);
    rows
}

/// The whole section, as markdown.
pub fn section<S: Hasher>(quick: bool, threads: &[usize]) -> String {
    let rounds = if quick { 2 } else { 3 };
    let mut md = String::new();
    let keys = 4096;
    let passes = if quick { 64 } else { 512 };
    let _ = writeln!(
        md,
        "#### Issue 9: read hit by shard count, {keys} u64 keys settled in the read maps (`extend`), {} hasher, 1 thread, {passes} passes over the keys, best of {} interleaved rounds (ns/op)\n",
        S::NAME,
        rounds + 2
    );
    let _ = writeln!(md, "| shards | `get` | `pin().get` |");
    let _ = writeln!(md, "|---:|---:|---:|");
    for (n, get, pinned) in read_hit::<S>(keys, passes, rounds + 2) {
        eprintln!("shards read n={n}: get {get:.2} pinned {pinned:.2}");
        let _ = writeln!(md, "| {n} | {get:.2} | {pinned:.2} |");
    }

    let benchtime = Duration::from_millis(if quick { 20 } else { 100 });
    let log2 = if quick { 16 } else { 20 };
    let rows = write_section::<S>(threads, benchtime, log2, rounds);
    let columns = write_columns();
    let _ = writeln!(
        md,
        "\n#### Issue 9: write-heavy work by shard count, {} hasher, best of {rounds} interleaved rounds (Go's benchmarks: ns/op, lower is better, benchtime {benchtime:?}; conc-map-bench mixes, 2^{log2} slots, unprimed: Mops/s, higher is better)\n",
        S::NAME
    );
    let _ = write!(md, "| workload | threads |");
    for c in &columns {
        let _ = write!(md, " {c} |");
    }
    let _ = write!(md, " best shards | 8 vs 1 |\n|---|---:|");
    for _ in &columns {
        let _ = write!(md, "---:|");
    }
    let _ = writeln!(md, "---:|---:|");
    for row in &rows {
        let _ = write!(md, "| {} ({}) | {} |", row.name, row.unit, row.threads);
        for f in &row.figures {
            let _ = write!(md, " {} |", fmt(*f));
        }
        let ours = &row.figures[..SHARDS.len()];
        let best = (0..ours.len())
            .reduce(|a, b| {
                let better = if row.higher_is_better {
                    ours[b] > ours[a]
                } else {
                    ours[b] < ours[a]
                };
                if better {
                    b
                } else {
                    a
                }
            })
            .expect("shard columns");
        let eight = SHARDS.iter().position(|&n| n == 8).expect("8 is timed");
        // How many times better shards(8) does than shards(1).
        let ratio = if row.higher_is_better {
            ours[eight] / ours[0]
        } else {
            ours[0] / ours[eight]
        };
        let _ = writeln!(md, " {} | {ratio:.2}× |", SHARDS[best]);
    }

    md.push_str(&memory_table::<S>());
    md
}

/// The memory rows as a markdown table (also run alone: `--only shardmem`).
pub fn memory_table<S: Hasher>() -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "\n#### Issue 9: bytes of a map, `String` keys \"plugin-0\"..\"plugin-9\", `u64` values, {} hasher (`size_of` the map + requested heap bytes, the keys' 8-byte buffers included; 10 entries: mean (least–most) over {SEEDS} maps, each with its own random seed)\n",
        S::NAME
    );
    let _ = writeln!(
        md,
        "| map | size_of | empty | 10 entries, inserted | 10 entries, settled (`extend`) | empty, per shard beyond the first |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    let sizes = [
        size_of::<SyncMap<String, u64, S>>(),
        size_of::<std::collections::HashMap<String, u64, S>>(),
        size_of::<dashmap::DashMap<String, u64, S>>(),
        size_of::<papaya::HashMap<String, u64, S>>(),
    ];
    let rows = memory_section::<S>();
    let one = rows[0].1.empty;
    for (name, b) in rows {
        let size = if name.starts_with("SyncMap") {
            sizes[0]
        } else if name.starts_with("std") {
            sizes[1]
        } else if name.starts_with("dashmap") {
            sizes[2]
        } else {
            sizes[3]
        };
        eprintln!("shards memory {name}: {b:?}");
        let per_shard = name
            .strip_prefix("SyncMap, shards(")
            .and_then(|n| n.trim_end_matches(')').parse::<isize>().ok())
            .filter(|&n| n > 1)
            .map_or("–".to_string(), |n| {
                ((b.empty - one) / (n - 1)).to_string()
            });
        let _ = writeln!(
            md,
            "| {name} | {size} | {} | {} | {} | {per_shard} |",
            b.empty, b.ten_inserted, b.ten_settled
        );
    }
    md
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
