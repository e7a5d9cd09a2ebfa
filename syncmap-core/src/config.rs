//! Construction options: [`Builder`] and the [`Promotion`] rule.

use crate::map::SyncMap;
use crate::shard::MAX_SHARDS;
use core::marker::PhantomData;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// When the dirty map is promoted to become the read map.
///
/// A promotion is one pointer store, but it commits the map to an O(n) step: the first new key
/// after it rebuilds the dirty map by copying the promoted map's entries (pointers), and the
/// promotion after that drops the table they were in. Until it comes, every lookup of a key
/// that only the dirty map holds takes the lock (a *miss*). The rules differ in how many misses
/// they let that cost before paying for the copy.
///
/// ```
/// use syncmap_core::{Promotion, SyncMap};
///
/// // Promote on every slow lookup: constant promotions and dirty rebuilds, for testing.
/// let map: SyncMap<u32, u32> = SyncMap::builder().promotion(Promotion::AfterMisses(1)).build();
/// map.insert(1, 1);
/// assert_eq!(*map.get(&1).unwrap(), 1);
/// assert_eq!(map.stats().promotions, 1);
///
/// // The default: a bulk load is promoted after a handful of locked reads (Go: one per key).
/// // (Counted here with one shard; with several, each shard runs the rule for its own keys.)
/// let map: SyncMap<u32, u32> = SyncMap::builder()
///     .shards(1)
///     .promotion(Promotion::Amortized)
///     .build();
/// for i in 0..10_000 {
///     map.insert(i, i);
/// }
/// for i in 0..10_000 {
///     assert_eq!(*map.get(&i).unwrap(), i);
/// }
/// assert_eq!((map.stats().misses, map.stats().promotions), (64, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Promotion {
    /// The default: promote once the misses have paid, at measured costs, for the copy that
    /// promoting commits to. Departs from Go's schedule in these ways (figures: `BENCHMARKS.md`,
    /// "Issue 9: promotion rule"; the reasoning: the `promote.rs` source):
    ///
    /// - a lookup that the read map's new-key filter answers without the lock counts no miss
    ///   (it took no lock, and no promotion can make an absent key findable); Go's
    ///   AdversarialAlloc and AdversarialDelete benchmarks, which under Go's schedule promote
    ///   and rebuild on such misses, run 1.8–2.9× faster;
    /// - a miss counts as two entries copied, not one: a locked miss costs 26–325 ns more than a
    ///   read-map hit, copying an entry and later dropping it 24–115 ns (1k to 1M entries), a
    ///   ratio of 0.35–0.92;
    /// - while the dirty map keeps growing, the misses pay for the whole next copy: half its
    ///   length. Once 64 misses in a row have come with no new key, only the entries it
    ///   inherited from the read map are owed: its new keys paid their own way, each insert
    ///   costing about three times (340 ns at 786k keys) what its copy and drop will. So a bulk
    ///   load into a fresh or cleared map is promoted after 64 locked reads instead of one per
    ///   key (786,432 prefilled keys read back: 1.8–2.4× the read throughput);
    /// - at least 64 misses, however small the dirty map (promoting and rebuilding a tiny map
    ///   costs 1.4–2.2 µs, mostly fixed costs), so a dirty map of fewer than 64 keys is
    ///   promoted later than Go would; and every miss is counted under the lock, so the
    ///   promotion comes at the threshold even under concurrency.
    /// - a rebuild copies the read map's table whole, reading no entry, when at most one entry in
    ///   eight is deleted, and carries the deleted ones into the dirty map instead of expunging
    ///   them (16–30 ns an entry rebuilt becomes 1.5–2.1); a removed key (not its value, which
    ///   is dropped when removed) may thus stay in memory for more than one promotion cycle;
    /// - an `insert` of a key only the dirty map holds counts a miss (Go's `Store` and `Swap`
    ///   count none), so a key that is written but never read is promoted after 64 stores and
    ///   then written lock-free, where under Go's schedule every write to it takes the lock.
    ///
    /// Every rebuild but the last copies at most twice the misses counted after it, so the
    /// entries copied stay O(1) per operation even when a new key follows every promotion.
    Amortized,
    /// Go's exact schedule: promote once the misses since the last promotion reach the dirty
    /// map's length, so the O(n) copy that the next new key triggers is paid for by n slow
    /// lookups. A lookup that the new-key filter answers without the lock still counts its miss
    /// (lock-free), as Go's locked lookup would.
    DirtyLen,
    /// Promote once this many misses have been counted (0 and 1 both mean: on every miss),
    /// counted as under [`DirtyLen`](Promotion::DirtyLen). Small values make promotions and
    /// dirty rebuilds constant, which is what stress tests want.
    AfterMisses(usize),
}

impl Default for Promotion {
    /// [`Promotion::Amortized`]; built with `--cfg syncmap_stress`,
    /// [`Promotion::AfterMisses`]`(1)`, so the whole test suite can run with promotions and
    /// rebuilds happening all the time.
    fn default() -> Self {
        if cfg!(syncmap_stress) {
            Promotion::AfterMisses(1)
        } else {
            Promotion::Amortized
        }
    }
}

/// When removed and replaced values (and keys) are dropped.
///
/// See the crate documentation's [Memory reclamation](crate#memory-reclamation) section.
///
/// ```
/// use syncmap_core::{Reclaim, SyncMap};
///
/// // A write-heavy cache that does not need prompt drops: one barrier per 256 retired values.
/// let cache: SyncMap<u64, Vec<u8>> = SyncMap::builder().reclaim(Reclaim::Batched(256)).build();
/// cache.insert(1, vec![0; 16]);
/// cache.insert(1, vec![1; 16]); // the first vector may live on until the next batch or flush
/// cache.flush(); // now it is dropped (no reader holds it)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Reclaim {
    /// Drop promptly (the default): with no concurrent reader, before the call that removed
    /// the value returns; otherwise when the last reader that could see it is released. Costs
    /// a process-wide barrier per removing write once several threads use the map, or, while
    /// such writes come more than about a thousand a second, a full fence on every read and
    /// write instead (fenced mode: see the crate documentation). Keys and values without drop
    /// glue have no `Drop` to run: their memory is freed in per-thread batches, as in
    /// `Batched(64)` (see the crate documentation, "Memory reclamation").
    #[default]
    Eager,
    /// Collect removed values in a bag per thread (threads beyond the machine's CPU count
    /// share them) and drop a bag's values once it holds (at least) this many, with one barrier
    /// and one look at the readers per batch instead of one per write; or at
    /// [`SyncMap::flush`](crate::SyncMap::flush), on any thread, which takes every thread's
    /// bag; or when the map is dropped. A value left in the bag of a thread that stops writing
    /// waits for one of those. For write-heavy maps whose values need no prompt `Drop`. `0`
    /// and `1` mean every retire is dropped as in `Eager`. A map only one thread has used drops
    /// at once, as in `Eager`.
    Batched(usize),
}

/// The batch in which [`Reclaim::Eager`] retires the garbage of a map whose keys and values have
/// no drop glue (`reclaim/bags.rs`; two under loom and miri, so that their short runs fill bags
/// and free ready items). Go's replace and remove workloads at two threads, against a look at
/// the readers at every write: 1.6-2.1x faster (BENCHMARKS.md, session 12).
pub(crate) const DROP_FREE_BATCH: usize = if cfg!(any(loom, miri)) { 2 } else { 64 };

/// Settings shared by all operations of one map.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    pub(crate) capacity: usize,
    /// A power of two, at most `MAX_SHARDS`.
    pub(crate) shards: usize,
    pub(crate) promotion: Promotion,
    pub(crate) reclaim: Reclaim,
    /// Treat dropping keys and values as running no code whatever their type (set only by
    /// the `testing` feature's `Builder::assume_quiet_drops`).
    pub(crate) assume_quiet_drops: bool,
}

/// Builds a [`SyncMap`] with non-default settings.
///
/// ```
/// use std::collections::hash_map::RandomState;
/// use syncmap_core::{Promotion, SyncMap};
///
/// let map: SyncMap<String, u64> = SyncMap::builder()
///     .capacity(1024)
///     .hasher(RandomState::new())
///     .promotion(Promotion::DirtyLen)
///     .build();
/// assert!(map.is_empty());
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<K, V, S = RandomState> {
    pub(crate) config: Config,
    hasher: S,
    map: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Builder<K, V, RandomState> {
    pub(crate) fn new() -> Self {
        Builder {
            config: Config {
                capacity: 0,
                shards: default_shards(),
                promotion: Promotion::default(),
                reclaim: Reclaim::default(),
                assume_quiet_drops: false,
            },
            hasher: RandomState::new(),
            map: PhantomData,
        }
    }
}

impl<K, V, S> Builder<K, V, S> {
    /// Capacity the first dirty map (where new keys go) is allocated with.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.config.capacity = capacity;
        self
    }

    /// The hasher builder; the default is std's [`RandomState`] (SipHash 1-3).
    pub fn hasher<S2>(self, hasher: S2) -> Builder<K, V, S2> {
        Builder {
            config: self.config,
            hasher,
            map: PhantomData,
        }
    }

    /// How many read map / dirty map pairs the keys are split over (by hash), rounded up to a
    /// power of two, at most 256. Each shard runs Go's algorithm by itself, with its own lock,
    /// so writers of new keys in different shards do not wait for each other, and each
    /// promotion and rebuild copies one shard, not the whole map. `shards(1)` is Go's structure
    /// exactly. The default is [`DEFAULT_SHARDS`](crate::DEFAULT_SHARDS).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let go_exactly: SyncMap<u32, u32> = SyncMap::builder().shards(1).build();
    /// assert_eq!(go_exactly.shards(), 1);
    /// assert_eq!(SyncMap::<u32, u32>::builder().shards(6).build().shards(), 8);
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.config.shards = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        self
    }

    /// The promotion rule; the default is [`Promotion::Amortized`], and Go's exact schedule is
    /// [`Promotion::DirtyLen`].
    pub fn promotion(mut self, promotion: Promotion) -> Self {
        self.config.promotion = promotion;
        self
    }

    /// When removed and replaced values are dropped; the default is [`Reclaim::Eager`].
    pub fn reclaim(mut self, reclaim: Reclaim) -> Self {
        self.config.reclaim = reclaim;
        self
    }

    /// Creates the map.
    pub fn build(self) -> SyncMap<K, V, S>
    where
        S: BuildHasher,
    {
        SyncMap::from_parts(self.config, self.hasher)
    }
}

/// How many shards a map has unless [`Builder::shards`] says otherwise.
///
/// Chosen by measurement (`BENCHMARKS.md`, "Issue 9: shards"; 2 cores): a read hit costs the
/// same with 1 to 8 shards (7.1 ns) and about 0.7 ns more with 32; at 2 threads, 8 shards make
/// new-key writes 1.4–2.7× faster than one; each shard costs 888 bytes, so an empty map takes
/// 8.1 KiB with 8 (2 KiB with one). A fixed number, not one per core, so that a map's
/// memory does not depend on the machine; raise it for write-heavy maps on many cores, or use
/// `shards(1)` for many small maps.
pub const DEFAULT_SHARDS: usize = 8;

/// The default shard count; built with `--cfg syncmap_stress`, 1, so that the whole suite runs
/// both with the default and with Go's exact structure (and promotions everywhere).
pub(crate) fn default_shards() -> usize {
    if cfg!(syncmap_stress) {
        1
    } else {
        DEFAULT_SHARDS
    }
}
