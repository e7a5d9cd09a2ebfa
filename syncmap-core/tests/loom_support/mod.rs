//! Helpers shared by the loom models of the algorithm (`loom.rs`, `loom_walks.rs`): values that
//! count their live copies, the model runner (each promotion rule, a preemption bound), maps in
//! a given state, and the checks each model ends with.

use loom::sync::Arc;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use syncmap_core::{Promotion, SyncMap};

pub type Hasher = BuildHasherDefault<DefaultHasher>;
pub type Map = SyncMap<u32, Tracked, Hasher>;

/// A value that counts its live copies in its model's own counter.
#[derive(Debug)]
pub struct Tracked {
    pub v: u32,
    live: std::sync::Arc<AtomicIsize>,
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let before = self.live.fetch_sub(1, Ordering::SeqCst);
        assert!(before > 0, "value {} dropped twice", self.v);
    }
}

/// Creates tracked values for one execution.
#[derive(Clone)]
pub struct Values(std::sync::Arc<AtomicIsize>);

impl Values {
    pub fn new() -> Self {
        Values(std::sync::Arc::new(AtomicIsize::new(0)))
    }
    pub fn make(&self, v: u32) -> Tracked {
        self.0.fetch_add(1, Ordering::SeqCst);
        Tracked {
            v,
            live: self.0.clone(),
        }
    }
    fn live(&self) -> isize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The preemption bound of every model. Each operation is now several atomic steps (entering
/// and leaving the reclamation guard, the slot, the read map, the epoch), so exhaustive
/// exploration of even two threads no longer fits in CI; two preemptions per execution cover
/// every race between two operations that needs at most two context switches.
pub const BOUND: Option<usize> = Some(2);

/// Runs `f` under loom for each promotion rule, exhaustively (`bound: None`) or with at most
/// `bound` preemptions per execution; `LOOM_MAX_PREEMPTIONS` overrides the bound.
pub fn model(name: &str, bound: Option<usize>, f: impl Fn(Promotion) + Sync + Send + 'static) {
    model_rules(
        name,
        bound,
        &[Promotion::Amortized, Promotion::AfterMisses(1)],
        f,
    );
}

/// The rules each model runs under: the default (`Amortized`) and promotion on every miss. Under
/// loom `Amortized`'s floor is one miss, so on a model's few keys it promotes at Go's threshold
/// or sooner (half the dirty map's length, at least one miss), and Go's `DirtyLen` takes the
/// same paths as `Amortized` except one, the lock-free counting of misses the new-key filter
/// answers; the two `filtered_lookup_racing_*` models, which reach it, run all three (every model
/// under all three made the tier half as long again).
pub fn model_rules(
    name: &str,
    bound: Option<usize>,
    rules: &[Promotion],
    f: impl Fn(Promotion) + Sync + Send + 'static,
) {
    let f = std::sync::Arc::new(f);
    for &promotion in rules {
        let mut builder = loom::model::Builder::new();
        if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
            builder.preemption_bound = bound;
        }
        // Three operations that each end in a shared heavy barrier make long executions.
        builder.max_branches = builder.max_branches.max(20_000);
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let (f2, c2) = (f.clone(), count.clone());
        builder.check(move || {
            c2.fetch_add(1, Ordering::Relaxed);
            f2(promotion)
        });
        let n = count.load(Ordering::Relaxed);
        println!("loom model {name} ({promotion:?}): {n} executions");
    }
}

pub fn new_map(promotion: Promotion) -> Map {
    // One shard: the models race operations on the same read map / dirty map pair
    // (`shards_walk_racing_promotions`, in `loom_walks.rs`, models two).
    SyncMap::builder()
        .shards(1)
        .hasher(Hasher::default())
        .promotion(promotion)
        .build()
}

/// A map where `key` is in the read map (inserted, then promoted by a lookup).
pub fn with_read_key(promotion: Promotion, values: &Values, key: u32, v: u32) -> Map {
    let map = new_map(promotion);
    map.insert(key, values.make(v));
    // One miss promotes a one-key dirty map under either rule.
    assert!(map.get(&key).is_some());
    assert_eq!(map.view().dirty, None, "setup: {key} promoted");
    map
}

/// Checks invariants, drops the map and checks that no value outlives it.
pub fn finish(map: Arc<Map>, values: &Values) {
    let map = Arc::try_unwrap(map).unwrap_or_else(|_| panic!("threads joined"));
    if let Err(e) = map.check_invariants() {
        panic!("invariants: {e}\n{:?}", map.view());
    }
    drop(map);
    assert_eq!(values.live(), 0, "live values after dropping the map");
}

pub fn get(map: &Map, k: u32) -> Option<u32> {
    map.get(&k).map(|v| v.v)
}

pub fn contents(map: &Map) -> Vec<(u32, u32)> {
    let mut items = Vec::new();
    let _ = map.for_each(|k, v| {
        items.push((*k, v.v));
        ControlFlow::<()>::Continue(())
    });
    items.sort_unstable();
    items
}
