//! Counters of the algorithm's own health, and [`SyncMap::stats`], which reports them.

use crate::map::SyncMap;

/// Counters kept under the map's lock; never touched by a read hit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) misses: u64,
    pub(crate) promotions: u64,
    pub(crate) dirty_rebuilds: u64,
    pub(crate) entries_copied: u64,
    pub(crate) entries_expunged: u64,
    pub(crate) whole_copies: u64,
}

/// A snapshot of a map's internal counters, from [`SyncMap::stats`](crate::SyncMap::stats).
///
/// Counters are cumulative since the map was created. They are maintained only on the slow
/// paths, under the map's lock, so keeping them adds no write to the read-hit path.
///
/// ```
/// use syncmap_core::{Promotion, SyncMap};
///
/// // Go's promotion rule (the default waits for at least 64 misses).
/// let map = SyncMap::builder().promotion(Promotion::DirtyLen).build();
/// map.insert("a", 1); // new key: goes to the dirty map
/// let stats = map.stats();
/// assert_eq!((stats.read_len, stats.dirty_len, stats.amended), (0, Some(1), true));
/// assert!(map.get("a").is_some()); // read miss, found in dirty: 1 miss ≥ 1 dirty key → promote
/// let stats = map.stats();
/// assert_eq!((stats.misses, stats.promotions), (1, 1));
/// assert_eq!((stats.read_len, stats.dirty_len, stats.amended), (1, None, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Lookups that missed the read map and had to consult the dirty map (Go's misses). Under
    /// the default rule, [`Promotion::Amortized`](crate::Promotion::Amortized), only those that
    /// took the lock; under Go's rules also those the new-key filter answered without it (each
    /// would have taken the lock in Go).
    pub misses: u64,
    /// Times the dirty map was promoted to the read map.
    pub promotions: u64,
    /// Times a dirty map was built by copying the read map (Go's `dirtyLocked`).
    pub dirty_rebuilds: u64,
    /// Entries copied by those rebuilds, in total: the O(n) cost of the design.
    pub entries_copied: u64,
    /// Deleted entries expunged (left out) by those rebuilds, in total.
    pub entries_expunged: u64,
    /// Those rebuilds that copied the read map's table whole, reading no entry: the ones that
    /// found few enough deleted entries to carry them over instead of expunging them (see
    /// [`Promotion::Amortized`](crate::Promotion::Amortized)).
    pub whole_copies: u64,
    /// Misses counted since the last promotion (the ones the promotion rule weighs).
    pub pending_misses: usize,
    /// Keys in the current read map, including deleted and expunged ones.
    pub read_len: usize,
    /// Keys in the dirty map, or `None` when there is none.
    pub dirty_len: Option<usize>,
    /// Whether the dirty map holds keys the read map lacks.
    pub amended: bool,
    /// Removed or replaced values, entries and tables waiting for a reader (a [`Ref`], a pinned
    /// session or an operation in progress) to be released before they are dropped, or waiting
    /// in a thread's batch ([`Reclaim::Batched`](crate::Reclaim::Batched), and keys and values
    /// without drop glue: see the crate documentation, "Memory reclamation").
    ///
    /// [`Ref`]: crate::Ref
    pub retired_pending: usize,
    /// Whether the map's readers currently enter with a full fence, so that writers need no
    /// heavy barrier: the map switches to this *fenced mode* while it is written more than about
    /// a thousand times a second, and back once its readers see writes stop (see the crate
    /// documentation, "Memory reclamation"). Map-wide, like `retired_pending`.
    pub fenced_readers: bool,
}

impl Stats {
    /// The sum of two shards' statistics (`retired_pending` is map-wide: kept).
    pub(crate) fn sum(self, other: Stats) -> Stats {
        Stats {
            misses: self.misses + other.misses,
            promotions: self.promotions + other.promotions,
            dirty_rebuilds: self.dirty_rebuilds + other.dirty_rebuilds,
            entries_copied: self.entries_copied + other.entries_copied,
            entries_expunged: self.entries_expunged + other.entries_expunged,
            whole_copies: self.whole_copies + other.whole_copies,
            pending_misses: self.pending_misses + other.pending_misses,
            read_len: self.read_len + other.read_len,
            dirty_len: match (self.dirty_len, other.dirty_len) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            },
            amended: self.amended || other.amended,
            retired_pending: self.retired_pending.max(other.retired_pending),
            fenced_readers: self.fenced_readers || other.fenced_readers,
        }
    }
}

impl Counters {
    pub(crate) fn to_stats(
        self,
        pending_misses: usize,
        read_len: usize,
        dirty_len: Option<usize>,
        amended: bool,
        retired_pending: usize,
        fenced_readers: bool,
    ) -> Stats {
        Stats {
            misses: self.misses,
            promotions: self.promotions,
            dirty_rebuilds: self.dirty_rebuilds,
            entries_copied: self.entries_copied,
            entries_expunged: self.entries_expunged,
            whole_copies: self.whole_copies,
            pending_misses,
            read_len,
            dirty_len,
            amended,
            retired_pending,
            fenced_readers,
        }
    }
}

/// Statistics.
impl<K, V, S> SyncMap<K, V, S> {
    /// Counters of the algorithm's own health (misses, promotions, dirty rebuilds and the
    /// entries they copied) and the current sizes of the read and dirty maps, summed over the
    /// shards (`amended` if any shard is; `dirty_len` is `None` only if no shard has a dirty
    /// map). [`shard_stats`](Self::shard_stats) has them shard by shard.
    ///
    /// Takes each shard's lock for a moment; the counters themselves are only ever written on
    /// slow paths, so reads that hit the read map pay nothing for them.
    pub fn stats(&self) -> Stats {
        self.shard_stats()
            .into_iter()
            .reduce(Stats::sum)
            .expect("a map has at least one shard")
    }

    /// [`stats`](Self::stats) for each shard, in shard order (`retired_pending` is the map's in
    /// each, since garbage is collected map-wide). Takes each shard's lock for a moment.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let mut map: SyncMap<u32, u32> = SyncMap::builder().shards(4).build();
    /// map.extend((0..100).map(|i| (i, i)));
    /// let shards = map.shard_stats();
    /// assert_eq!(shards.len(), 4);
    /// assert_eq!(shards.iter().map(|s| s.read_len).sum::<usize>(), 100);
    /// ```
    pub fn shard_stats(&self) -> Vec<Stats> {
        crate::reclaim::finish(|| {
            let guard = self.domain.enter();
            let retired_pending = self.domain.pending_len();
            let fenced_readers = self.domain.fenced_readers();
            self.shards
                .iter()
                .map(|shard| {
                    let dirty = shard.lock();
                    let read = shard.read.load(&guard);
                    let pending = read.pending_misses();
                    let mut counters = dirty.counters;
                    counters.misses += pending as u64;
                    counters.to_stats(
                        dirty.misses + pending,
                        read.table.len(),
                        dirty.table.as_ref().map(|t| t.len()),
                        read.amended(),
                        retired_pending,
                        fenced_readers,
                    )
                })
                .collect()
        })
    }

    /// How many shards (read map / dirty map pairs) the map has; see
    /// [`Builder::shards`](crate::Builder::shards).
    pub fn shards(&self) -> usize {
        self.shards.len()
    }
}
