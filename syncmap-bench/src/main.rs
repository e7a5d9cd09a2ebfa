//! `cargo run --release -p syncmap-bench -- [--quick] [--out DIR] [--go FILE] [--only SECTIONS]`
//!
//! Runs every section and writes `DIR/results.md` (markdown tables, every peer with the speedup
//! of `SyncMap` over it) and `DIR/chart.svg`. DIR defaults to `target/bench`; FILE (Go's own
//! figures, from `syncmap-bench/scripts/go-bench.sh`) to `DIR/go-1.19.txt`. SECTIONS is a
//! comma-separated subset of `read,go,mix,patho,mem,promo,shards` (`promo` and `shards`, issue
//! 9's promotion-rule and shard-count figures, run only when named).

use std::fmt::Write as _;
use std::time::Duration;
use syncmap_bench::go::run_one;
use syncmap_bench::maps::{
    BenchMap, Dash, Hasher, MutexMap, Ours, OursBatched, Papaya, RwLockMap, SccIndex,
};
use syncmap_bench::promotion;
use syncmap_bench::read::{
    range, range_pinned, range_plain, read_hit, read_hit_pinned, read_hit_plain,
};
use syncmap_bench::report::{keep_best, svg, Table};
use syncmap_bench::{go, memory, mixes, pathology, shards};

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

type Std = std::hash::RandomState;
type Fold = foldhash::fast::RandomState;

struct Options {
    quick: bool,
    benchtime: Duration,
    threads: Vec<usize>,
    only: Vec<String>,
    filter: Option<String>,
    /// The Go column's heading, from the Go file's first line (`go version goX.Y.Z ...`).
    go_label: String,
}

/// "Go 1.19 sync.Map", or the version the Go file names (`go-bench.sh --current` runs Go's
/// current hash-trie `sync.Map`).
fn go_label(go_text: &str) -> String {
    let version = go_text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().find(|w| w.starts_with("go1.")))
        .map(|w| w.trim_start_matches("go").trim_end_matches(';'));
    format!("Go {} sync.Map", version.unwrap_or("1.19"))
}

impl Options {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

/// Calls `$f::<Map<$s>>($args)` for every map, in column order.
macro_rules! each_map {
    ($s:ty, $f:ident ( $($arg:expr),* )) => {
        vec![
            $f::<Ours<$s>>($($arg),*),
            $f::<OursBatched<$s>>($($arg),*),
            $f::<RwLockMap<$s>>($($arg),*),
            $f::<MutexMap<$s>>($($arg),*),
            $f::<Dash<$s>>($($arg),*),
            $f::<Papaya<$s>>($($arg),*),
            $f::<SccIndex<$s>>($($arg),*),
        ]
    };
}

/// `--map NAME`: run only the maps whose name contains NAME (the others show as "–").
static MAP_FILTER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn wanted<M: BenchMap>() -> bool {
    MAP_FILTER
        .get()
        .is_none_or(|f| M::NAME.contains(f.as_str()))
}

/// Like `each_map!` for figures: a map left out by `--map` gives `None`.
macro_rules! each_map_opt {
    ($s:ty, $f:ident ( $($arg:expr),* )) => {
        vec![
            if wanted::<Ours<$s>>() { $f::<Ours<$s>>($($arg),*) } else { None },
            if wanted::<OursBatched<$s>>() { $f::<OursBatched<$s>>($($arg),*) } else { None },
            if wanted::<RwLockMap<$s>>() { $f::<RwLockMap<$s>>($($arg),*) } else { None },
            if wanted::<MutexMap<$s>>() { $f::<MutexMap<$s>>($($arg),*) } else { None },
            if wanted::<Dash<$s>>() { $f::<Dash<$s>>($($arg),*) } else { None },
            if wanted::<Papaya<$s>>() { $f::<Papaya<$s>>($($arg),*) } else { None },
            if wanted::<SccIndex<$s>>() { $f::<SccIndex<$s>>($($arg),*) } else { None },
        ]
    };
}

fn names<S: Hasher>() -> Vec<String> {
    fn name<M: BenchMap>() -> String {
        M::NAME.to_string()
    }
    each_map!(S, name())
}

fn go_section<S: Hasher>(opts: &Options, go_figures: &[(String, usize, f64)]) -> Vec<Table> {
    let benches = go::all::<Ours<S>>();
    let mut tables = Vec::new();
    for &threads in &opts.threads {
        let mut columns = names::<S>();
        columns.push(opts.go_label.clone());
        tables.push(Table {
            title: format!(
                "Go's map benchmarks, {} hasher, {threads} thread(s)",
                S::NAME
            ),
            unit: "ns/op",
            higher_is_better: false,
            columns,
            rows: Vec::new(),
        });
    }
    for (index, bench) in benches.iter().enumerate() {
        if opts
            .filter
            .as_ref()
            .is_some_and(|f| !bench.name.contains(f.as_str()))
        {
            continue;
        }
        for (t, &threads) in opts.threads.iter().enumerate() {
            let mut row = each_map_opt!(S, run_one(index, threads, opts.benchtime));
            let go = go_figures
                .iter()
                .find(|(name, procs, _)| name == bench.name && *procs == threads)
                .map(|(_, _, ns)| *ns);
            row.push(go);
            eprintln!("go {} {} t={threads}: {row:.1?}", S::NAME, bench.name);
            tables[t].rows.push((bench.name.to_string(), row));
        }
    }
    tables
}

fn range_section<S: Hasher>(opts: &Options, table: &mut Table) {
    best_of_two_rows::<S>(opts, table, "range", |threads| {
        let mut row = each_map_opt!(S, range(threads, opts.benchtime));
        row.insert(1, Some(range_pinned::<S>(threads, opts.benchtime)));
        row.insert(2, Some(range_plain::<S>(threads, opts.benchtime)));
        row
    });
}

/// One row per thread count: `measure` runs every map (and the extra columns) for that count,
/// twice, interleaved; each cell keeps the better of its two figures.
fn best_of_two_rows<S: Hasher>(
    opts: &Options,
    table: &mut Table,
    what: &str,
    measure: impl Fn(usize) -> Vec<Option<f64>>,
) {
    for &threads in &opts.threads {
        let mut best: Vec<Option<f64>> = Vec::new();
        for _round in 0..2 {
            keep_best(&mut best, measure(threads));
        }
        eprintln!("{what} {} t={threads}: {best:.2?}", S::NAME);
        table
            .rows
            .push((format!("{} hasher, {threads} thread(s)", S::NAME), best));
    }
}

fn read_section<S: Hasher>(opts: &Options, table: &mut Table) {
    best_of_two_rows::<S>(opts, table, "read hit", |threads| {
        let mut row = each_map_opt!(S, read_hit(threads, opts.benchtime));
        row.insert(1, Some(read_hit_pinned::<S>(threads, opts.benchtime)));
        row.insert(2, Some(read_hit_plain::<S>(threads, opts.benchtime)));
        row
    });
}

fn mix_one<M: BenchMap>(mix: mixes::Mix, log2: u32, threads: usize, prime: bool) -> Option<f64> {
    Some(mixes::run::<M>(mix, log2, threads, prime))
}

fn mix_section<S: Hasher>(opts: &Options) -> Table {
    let log2 = if opts.quick { 16 } else { 20 };
    let mut table = Table {
        title: format!(
            "conc-map-bench mixes, 2^{log2} slots, {} hasher (primed = prefilled keys read once before timing)",
            S::NAME
        ),
        unit: "Mops/s",
        higher_is_better: true,
        columns: names::<S>(),
        rows: Vec::new(),
    };
    for mix in mixes::MIXES {
        for &threads in &opts.threads {
            let primes: &[bool] = if mix.prefill > 0.0 {
                &[true, false]
            } else {
                &[false]
            };
            for &prime in primes {
                let row = each_map_opt!(S, mix_one(mix, log2, threads, prime));
                let name = format!(
                    "{}{}, {threads} thread(s)",
                    mix.name,
                    if mix.prefill > 0.0 && !prime {
                        " (unprimed)"
                    } else {
                        ""
                    }
                );
                eprintln!("mix {} {name}: {row:.2?}", S::NAME);
                table.rows.push((name, row));
            }
        }
    }
    table
}

fn patho_range<M: BenchMap>(n: u64) -> Option<f64> {
    Some(pathology::insert_then_early_exit_range::<M>(n).as_secs_f64() * 1e3)
}

fn patho_missing<M: BenchMap>(n: u64) -> Option<f64> {
    Some(pathology::insert_then_missing_load::<M>(n).as_secs_f64() * 1e3)
}

fn patho_section<S: Hasher>(opts: &Options, go: &[(u64, f64, f64)]) -> Vec<Table> {
    let mut columns = names::<S>();
    columns.push(opts.go_label.clone());
    let mut range = Table {
        title: format!(
            "Pathology: n unique inserts, each followed by a Range that stops at once; total, {} hasher, 1 thread (Go 1.19: 44 ms at 1k, 0.63 s at 4k, 14.7 s at 16k, 68.5 s at 32k)",
            S::NAME
        ),
        unit: "ms",
        higher_is_better: false,
        columns,
        rows: Vec::new(),
    };
    let mut missing = Table {
        title: format!(
            "Pathology: n unique inserts, each followed by a Load of a missing key; total, {} hasher, 1 thread",
            S::NAME
        ),
        ..range.clone()
    };
    for n in pathology::sizes(opts.quick) {
        let go_row = go.iter().find(|(gn, _, _)| *gn == n);
        let mut row = each_map_opt!(S, patho_range(n));
        row.push(go_row.map(|g| g.1));
        eprintln!("range-after-insert n={n}: {row:.2?}");
        range.rows.push((format!("n = {n}"), row));
        let mut row = each_map_opt!(S, patho_missing(n));
        row.push(go_row.map(|g| g.2));
        eprintln!("missing-after-insert n={n}: {row:.2?}");
        missing.rows.push((format!("n = {n}"), row));
    }
    vec![range, missing]
}

fn mem_one<M: BenchMap>(n: u64) -> memory::Footprint {
    memory::footprint::<M>(n)
}

fn mem_section(opts: &Options) -> Table {
    let n = 1_000_000;
    memory::counting(true);
    let mut prints = each_map!(Std, mem_one(n));
    prints.insert(1, memory::footprint_std::<Std>(n));
    memory::counting(false);
    let mut columns = names::<Std>();
    columns.insert(1, "HashMap (no lock)".into());
    let _ = opts;
    let row = |f: fn(&memory::Footprint) -> f64| prints.iter().map(|p| Some(f(p))).collect();
    Table {
        title: format!("Memory, u64 → u64, std hasher, {n} entries (requested heap bytes)"),
        unit: "bytes",
        higher_is_better: false,
        columns,
        rows: vec![
            ("bytes per entry".into(), row(|p| p.per_entry)),
            ("empty map".into(), row(|p| p.empty as f64)),
            (
                "after removing all (SyncMap: + one new key and its promotion)".into(),
                row(|p| p.after_delete_all as f64),
            ),
        ],
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut quick = false;
    let mut out_dir = std::path::PathBuf::from("target/bench");
    let mut go_file = None;
    let mut only = Vec::new();
    let mut filter = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out_dir = args.next().expect("--out DIR").into(),
            "--go" => go_file = Some(std::path::PathBuf::from(args.next().expect("--go FILE"))),
            "--only" => {
                only = args
                    .next()
                    .expect("--only SECTIONS")
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--filter" => filter = args.next(),
            "--map" => {
                let _ = MAP_FILTER.set(args.next().expect("--map NAME"));
            }
            "-h" | "--help" => {
                println!("usage: syncmap-bench [--quick] [--out DIR] [--go FILE] [--only read,go,mix,patho,mem,promo,shards,shardmem] [--filter BENCH] [--map MAP]");
                return;
            }
            other => panic!("unknown argument {other:?} (try --help)"),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    while threads.last().unwrap() * 2 <= cores {
        threads.push(threads.last().unwrap() * 2);
    }
    let mut opts = Options {
        quick,
        benchtime: Duration::from_millis(if quick { 20 } else { 200 }),
        threads,
        only,
        filter,
        go_label: String::new(),
    };
    let go_file = go_file.unwrap_or_else(|| out_dir.join("go-1.19.txt"));
    let go_text = std::fs::read_to_string(&go_file).unwrap_or_else(|_| {
        eprintln!(
            "no Go figures at {} (run syncmap-bench/scripts/go-bench.sh)",
            go_file.display()
        );
        String::new()
    });
    opts.go_label = go_label(&go_text);
    let go_figures = syncmap_bench::parse_go_output(&go_text);
    let go_pathology = syncmap_bench::parse_go_pathology(&go_text);

    let started = std::time::Instant::now();
    let mut tables: Vec<Table> = Vec::new();
    if opts.wants("read") {
        let mut columns = names::<Std>();
        columns.insert(1, "SyncMap via pin()".into());
        columns.insert(2, "HashMap::get (no lock)".into());
        let mut table = Table {
            title: "Read hit: Load of a present key, 1024 keys (best of 2 interleaved rounds)"
                .into(),
            unit: "ns/op",
            higher_is_better: false,
            columns: columns.clone(),
            rows: Vec::new(),
        };
        read_section::<Std>(&opts, &mut table);
        read_section::<Fold>(&opts, &mut table);
        tables.push(table);
        let mut range = Table {
            title: "Range: a full walk of 1,024 entries (best of 2 interleaved rounds)".into(),
            unit: "ns/walk",
            higher_is_better: false,
            columns,
            rows: Vec::new(),
        };
        range_section::<Std>(&opts, &mut range);
        range_section::<Fold>(&opts, &mut range);
        tables.push(range);
    }
    if opts.wants("go") {
        tables.extend(go_section::<Fold>(&opts, &go_figures));
        tables.extend(go_section::<Std>(&opts, &go_figures));
    }
    if opts.wants("mix") {
        tables.push(mix_section::<Std>(&opts));
        tables.push(mix_section::<Fold>(&opts));
    }
    if opts.wants("patho") {
        tables.extend(patho_section::<Std>(&opts, &go_pathology));
    }
    if opts.wants("mem") {
        tables.push(mem_section(&opts));
    }
    // Not part of a default run: only with `--only promo`.
    let promo = if opts.only.iter().any(|s| s == "promo") {
        promotion::section::<Fold>(opts.quick, &opts.threads, opts.benchtime)
    } else {
        String::new()
    };
    // Not part of a default run: only with `--only shards` (or its memory table alone,
    // `--only shardmem`).
    let shards = if opts.only.iter().any(|s| s == "shards") {
        shards::section::<Fold>(opts.quick, &opts.threads)
    } else if opts.only.iter().any(|s| s == "shardmem") {
        shards::memory_table::<Fold>()
    } else {
        String::new()
    };

    let mut md = String::new();
    let _ = writeln!(
        md,
        "Each peer's cell: its figure (how many times faster SyncMap is; **bold** below 1×: the peer is faster).\n"
    );
    for t in &tables {
        md.push_str(&t.markdown());
        md.push('\n');
    }
    md.push_str(&promo);
    md.push_str(&shards);
    let _ = writeln!(
        md,
        "_{} mode, benchtime {:?}, threads {:?}, took {:.0} s_",
        if quick { "quick" } else { "full" },
        opts.benchtime,
        opts.threads,
        started.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&out_dir).expect("create output directory");
    std::fs::write(out_dir.join("results.md"), &md).expect("write results.md");
    let charted: Vec<&Table> = tables
        .iter()
        .filter(|t| t.rows.len() > 1 || t.unit != "bytes")
        .collect();
    std::fs::write(
        out_dir.join("chart.svg"),
        svg(
            "How many times faster SyncMap is than each peer (log scale; right of the axis: SyncMap faster)",
            &charted,
        ),
    )
    .expect("write chart.svg");
    println!("{md}");
    eprintln!(
        "wrote {} and {}",
        out_dir.join("results.md").display(),
        out_dir.join("chart.svg").display()
    );
}
