//! `cargo run --release -p syncmap-bench -- [--quick] [--out DIR] [--go FILE]... [--only SECTIONS]
//! [--threads LIST] [--hasher NAME] [--benchtime MS] [--slots LOG2]`
//!
//! Runs every section and writes `DIR/results.md` (markdown tables, every peer with the speedup
//! of `SyncMap` over it), `DIR/chart.svg` (those speedups as bars) and, when the mixes ran,
//! `DIR/mixes.svg` (each mix's throughput against threads, a line per map). DIR defaults to
//! `target/bench`. Each `--go FILE` (Go's own figures, from `syncmap-bench/scripts/go-bench.sh`:
//! Go 1.19's, and with `--current` Go's current map's) adds a Go column; without one,
//! `DIR/go-1.19.txt` is read. SECTIONS is a comma-separated subset of
//! `read,go,mix,patho,mem,promo,shards` (`promo` and `shards`, issue 9's promotion-rule and
//! shard-count figures, run only when named). `--threads` replaces the default thread counts
//! (every power of two up to the core count), `--hasher std` or `--hasher foldhash` runs one
//! hasher's rows only, `--benchtime` sets the time a Go-benchmark cell aims for (200 ms; 20 in
//! quick mode) and `--slots` the mixes' table size (2^20; 2^16 in quick mode).

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
use syncmap_bench::scaling::{scaling_svg, Scaling};
use syncmap_bench::{go, memory, mixes, pathology, shards};

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

type Std = std::hash::RandomState;
type Fold = foldhash::fast::RandomState;

struct Options {
    quick: bool,
    benchtime: Duration,
    threads: Vec<usize>,
    /// Which hashers run (`--hasher`): "std", "foldhash" or both.
    hashers: Vec<String>,
    /// The mixes' table size, log2 of its slots (`--slots`).
    mix_log2: u32,
    only: Vec<String>,
    /// Only benchmarks whose name contains this (`--filter`), or is it exactly (`=NAME`).
    filter: Option<String>,
    /// Go's own figures, one column each (`--go FILE`, repeatable): Go 1.19's and Go's current.
    go: Vec<GoRun>,
}

/// One Go toolchain's `go test -bench` output, parsed.
struct GoRun {
    /// The column's heading, from the file's first line (`go version goX.Y.Z ...`).
    label: String,
    /// (benchmark, GOMAXPROCS, ns/op).
    figures: Vec<(String, usize, f64)>,
    /// (n, range ms, missing ms), from `go-pathology` (Go 1.19's run only).
    pathology: Vec<(u64, f64, f64)>,
}

impl GoRun {
    fn read(file: &std::path::Path) -> Option<GoRun> {
        let Ok(text) = std::fs::read_to_string(file) else {
            eprintln!(
                "no Go figures at {} (run syncmap-bench/scripts/go-bench.sh)",
                file.display()
            );
            return None;
        };
        Some(GoRun {
            label: go_label(&text),
            figures: syncmap_bench::parse_go_output(&text),
            pathology: syncmap_bench::parse_go_pathology(&text),
        })
    }
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

    fn hasher<S: Hasher>(&self) -> bool {
        self.hashers.iter().any(|h| h == S::NAME)
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

/// `--map NAME`: run only the maps whose name contains NAME (the others show as "–");
/// `--map =NAME`: only the map named exactly NAME (`=SyncMap` leaves out "SyncMap batched").
static MAP_FILTER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn wanted<M: BenchMap>() -> bool {
    MAP_FILTER.get().is_none_or(|f| match f.strip_prefix('=') {
        Some(exact) => M::NAME == exact,
        None => M::NAME.contains(f.as_str()),
    })
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

fn go_section<S: Hasher>(opts: &Options) -> Vec<Table> {
    let benches = go::all::<Ours<S>>();
    let mut tables = Vec::new();
    for &threads in &opts.threads {
        let mut columns = names::<S>();
        columns.extend(opts.go.iter().map(|g| g.label.clone()));
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
            .is_some_and(|f| match f.strip_prefix('=') {
                Some(exact) => bench.name != exact,
                None => !bench.name.contains(f.as_str()),
            })
        {
            continue;
        }
        for (t, &threads) in opts.threads.iter().enumerate() {
            let mut row = each_map_opt!(S, run_one(index, threads, opts.benchtime));
            row.extend(opts.go.iter().map(|g| {
                g.figures
                    .iter()
                    .find(|(name, procs, _)| name == bench.name && *procs == threads)
                    .map(|(_, _, ns)| *ns)
            }));
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

/// The mixes' table, and the same figures as one threads → throughput panel per mix.
fn mix_section<S: Hasher>(opts: &Options) -> (Table, Vec<Scaling>) {
    let log2 = opts.mix_log2;
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
    let mut panels = Vec::new();
    for mix in mixes::MIXES {
        let primes: &[bool] = if mix.prefill > 0.0 {
            &[true, false]
        } else {
            &[false]
        };
        for &prime in primes {
            let workload = format!(
                "{}{}",
                mix.name,
                if mix.prefill > 0.0 && !prime {
                    " (unprimed)"
                } else {
                    ""
                }
            );
            let mut panel = Scaling {
                title: format!("{workload}, 2^{log2} slots, {} hasher", S::NAME),
                unit: "Mops/s",
                columns: names::<S>(),
                points: Vec::new(),
            };
            for &threads in &opts.threads {
                let row = each_map_opt!(S, mix_one(mix, log2, threads, prime));
                let name = format!("{workload}, {threads} thread(s)");
                eprintln!("mix {} {name}: {row:.2?}", S::NAME);
                panel.points.push((threads, row.clone()));
                table.rows.push((name, row));
            }
            panels.push(panel);
        }
    }
    (table, panels)
}

fn patho_range<M: BenchMap>(n: u64) -> Option<f64> {
    Some(pathology::insert_then_early_exit_range::<M>(n).as_secs_f64() * 1e3)
}

fn patho_missing<M: BenchMap>(n: u64) -> Option<f64> {
    Some(pathology::insert_then_missing_load::<M>(n).as_secs_f64() * 1e3)
}

fn patho_section<S: Hasher>(opts: &Options) -> Vec<Table> {
    // Only Go 1.19's run measures the pathologies (Go's current map has neither).
    let go = opts.go.iter().find(|g| !g.pathology.is_empty());
    let mut columns = names::<S>();
    columns.push(go.map_or_else(|| "Go 1.19 sync.Map".into(), |g| g.label.clone()));
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
        let go_row = go.and_then(|g| g.pathology.iter().find(|(gn, _, _)| *gn == n));
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

const USAGE: &str = "usage: syncmap-bench [--quick] [--out DIR] [--go FILE]... \
[--only read,go,mix,patho,mem,promo,shards,shardmem] [--filter BENCH|=BENCH] [--map MAP|=MAP] \
[--threads 1,2,4,...] [--hasher std|foldhash] [--benchtime MS] [--slots LOG2]";

/// Says what was wrong with the command line, then the usage, and exits with status 2.
fn usage_error(problem: std::fmt::Arguments<'_>) -> ! {
    eprintln!("{problem}\n{USAGE}");
    std::process::exit(2)
}

/// The value of option `name`, or a usage error.
fn value(args: &mut impl Iterator<Item = String>, name: &str) -> String {
    args.next()
        .unwrap_or_else(|| usage_error(format_args!("{name} needs a value")))
}

/// `text` parsed as a `T`, or a usage error.
fn parsed<T: std::str::FromStr>(text: &str, name: &str) -> T {
    text.parse()
        .unwrap_or_else(|_| usage_error(format_args!("{name}: cannot read {text:?}")))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut quick = false;
    let mut out_dir = std::path::PathBuf::from("target/bench");
    let mut go_files = Vec::new();
    let mut only = Vec::new();
    let mut filter = None;
    let mut threads = None;
    let mut hashers = vec![Std::NAME.to_string(), Fold::NAME.to_string()];
    let mut benchtime = None;
    let mut slots = None;
    let list = |text: String| text.split(',').map(str::to_string).collect::<Vec<_>>();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out_dir = value(&mut args, "--out").into(),
            "--go" => go_files.push(std::path::PathBuf::from(value(&mut args, "--go"))),
            "--only" => only = list(value(&mut args, "--only")),
            "--filter" => filter = Some(value(&mut args, "--filter")),
            "--map" => {
                let _ = MAP_FILTER.set(value(&mut args, "--map"));
            }
            "--threads" => {
                let counts: Vec<usize> = list(value(&mut args, "--threads"))
                    .iter()
                    .map(|t| parsed(t, "--threads"))
                    .collect();
                if counts.contains(&0) {
                    usage_error(format_args!("--threads: a thread count must be at least 1"));
                }
                threads = Some(counts);
            }
            "--hasher" => {
                hashers = list(value(&mut args, "--hasher"));
                if let Some(h) = hashers
                    .iter()
                    .find(|h| ![Std::NAME, Fold::NAME].contains(&h.as_str()))
                {
                    usage_error(format_args!(
                        "--hasher: {h:?} is neither {:?} nor {:?}",
                        Std::NAME,
                        Fold::NAME
                    ));
                }
            }
            "--benchtime" => {
                let ms: u64 = parsed(&value(&mut args, "--benchtime"), "--benchtime");
                benchtime = Some(Duration::from_millis(ms));
            }
            "--slots" => slots = Some(parsed(&value(&mut args, "--slots"), "--slots")),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => usage_error(format_args!("unknown argument {other:?}")),
        }
    }
    // Every power of two up to the core count, unless named.
    let threads = threads.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut threads = vec![1];
        while threads.last().unwrap() * 2 <= cores {
            threads.push(threads.last().unwrap() * 2);
        }
        threads
    });
    if go_files.is_empty() {
        go_files.push(out_dir.join("go-1.19.txt"));
    }
    let opts = Options {
        quick,
        benchtime: benchtime.unwrap_or(Duration::from_millis(if quick { 20 } else { 200 })),
        threads,
        hashers,
        mix_log2: slots.unwrap_or(if quick { 16 } else { 20 }),
        only,
        filter,
        go: go_files.iter().filter_map(|f| GoRun::read(f)).collect(),
    };

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
        if opts.hasher::<Std>() {
            read_section::<Std>(&opts, &mut table);
        }
        if opts.hasher::<Fold>() {
            read_section::<Fold>(&opts, &mut table);
        }
        tables.push(table);
        let mut range = Table {
            title: "Range: a full walk of 1,024 entries (best of 2 interleaved rounds)".into(),
            unit: "ns/walk",
            higher_is_better: false,
            columns,
            rows: Vec::new(),
        };
        if opts.hasher::<Std>() {
            range_section::<Std>(&opts, &mut range);
        }
        if opts.hasher::<Fold>() {
            range_section::<Fold>(&opts, &mut range);
        }
        tables.push(range);
    }
    if opts.wants("go") {
        if opts.hasher::<Fold>() {
            tables.extend(go_section::<Fold>(&opts));
        }
        if opts.hasher::<Std>() {
            tables.extend(go_section::<Std>(&opts));
        }
    }
    let mut scaling = Vec::new();
    if opts.wants("mix") {
        if opts.hasher::<Std>() {
            let (table, panels) = mix_section::<Std>(&opts);
            tables.push(table);
            scaling.extend(panels);
        }
        if opts.hasher::<Fold>() {
            let (table, panels) = mix_section::<Fold>(&opts);
            tables.push(table);
            scaling.extend(panels);
        }
    }
    if opts.wants("patho") {
        tables.extend(patho_section::<Std>(&opts));
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
    let mut wrote = vec![out_dir.join("results.md"), out_dir.join("chart.svg")];
    if !scaling.is_empty() {
        let file = out_dir.join("mixes.svg");
        std::fs::write(
            &file,
            scaling_svg(
                "conc-map-bench mixes: throughput against threads (higher is better)",
                &scaling,
            ),
        )
        .expect("write mixes.svg");
        wrote.push(file);
    }
    println!("{md}");
    let wrote: Vec<String> = wrote.iter().map(|f| f.display().to_string()).collect();
    eprintln!("wrote {}", wrote.join(", "));
}
