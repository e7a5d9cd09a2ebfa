//! The promotion rule: when the dirty map becomes the read map.
//!
//! Every lookup that has to consult the dirty map (a *miss*) is counted. Once the misses reach
//! the rule's threshold, the dirty map is published as the new read map in one pointer store,
//! the dirty map becomes `None` and the count restarts. Iteration also promotes, once it has
//! walked the whole read map and the dirty map still holds keys it has not seen. With several
//! shards (`shard.rs`), each shard runs the rule on its own dirty map, misses and counters.
//!
//! Which operations count a miss (as in Go 1.20–1.23): the slow paths of `get`, `remove`
//! (found or not), `compare_and_remove` (found or not) and `compare_and_swap` (only when the key
//! is found in the dirty map), and `try_insert` finding the key only in the dirty map. New-key
//! inserts count none; stores (`insert`) to dirty-only keys count none under Go's rules and one
//! under the default rule (departure 7).
//!
//! # What a promotion costs
//!
//! The pointer store is cheap; what a promotion commits to is O(n). The first new key after it
//! rebuilds the dirty map by copying the promoted map's entries (pointers, `dirty.rs`), and the
//! promotion after that drops the table they were in (one reference-count decrement each). Go
//! pays for that with as many misses as the dirty map has entries: [`Promotion::DirtyLen`],
//! kept as Go's exact schedule.
//!
//! # The default rule, [`Promotion::Amortized`], and how it departs from Go
//!
//! Promote once `misses >= min(len, max(FLOOR, owed * COPY / MISS))`, where `len` is the dirty
//! map's length and `owed` is `len` while the dirty map is growing, or only the entries it
//! inherited from the read map (copied by its rebuild, or re-linked since) once `FLOOR` misses
//! in a row have come with no new key. Figures: `BENCHMARKS.md`, "Issue 9: promotion rule"
//! (2-core Zen 5 KVM guest, foldhash, one thread unless said; ±30% between runs). Each
//! departure, with the figure that justified it:
//!
//! 1. **A miss the new-key filter answers without the lock does not count.** It took no lock,
//!    and no promotion can make an absent key findable, so it is no evidence that promoting
//!    would pay. Under Go's rules these misses still promote, every n of them, and the next
//!    store rebuilds: Go's AdversarialAlloc runs 2.6–2.9× faster without them (12.0 against
//!    35.1 ns/op at 1 thread), AdversarialDelete 1.8–2.0×.
//! 2. **A locked miss counts as two entries copied** (`MISS` / `COPY`), not one. A locked miss
//!    costs 26, 160 and 325 ns more than a read-map hit at 1k, 64k and 786k keys (25, 155 and
//!    272 ns of wall time per lookup at 2 threads); a rebuild and the later drop cost 24, 95
//!    and 115 ns per entry at 1k, 64k and 1M entries: copy / miss = 0.92, 0.59 and 0.35. Go's
//!    one miss per entry over-pays by up to 3× on large maps; one half sits inside the
//!    measured range, nearer the large maps, where a rebuild is expensive.
//! 3. **Once the dirty map has stopped growing, its new keys are not owed.** Each was inserted
//!    under the lock at a cost (340 ns at 786k keys) three times what copying it and dropping it
//!    later will cost (115 ns), so it has paid its own way, and only the inherited entries need
//!    misses. A bulk load into a fresh or cleared map (a dirty map built from an empty read map)
//!    is then promoted after `FLOOR` locked reads instead of one per key: reading back 786,432
//!    prefilled keys, 64 locked reads instead of 786,432, and 1.8–2.4× the read throughput.
//!    While the map grows, though, the misses owe the whole next copy: a read map promoted in
//!    the middle of a fill is outgrown at once, and the next new key copies it all. Counting
//!    new keys as paid for while they still arrive made conc-map-bench's RapidGrow (80% inserts)
//!    0.63× as fast as under Go's rule; with the check, 0.99×.
//! 4. **At least `FLOOR` = 64 misses, however small the dirty map.** Promoting and rebuilding a
//!    16-entry map costs 1.4–2.2 µs, 50–90 locked misses of a cache-resident map, and most of
//!    that is fixed (a new snapshot, a new table, a new filter, the old ones dropped), so a
//!    small map is no cheaper to promote. Go promotes a map of one or two dirty keys every one
//!    or two misses: its SwapMostlyMisses (a new key inserted and removed, the removal a miss,
//!    beside one settled key) promoted on every removal: 3,500–3,650 instructions per operation
//!    (callgrind), over half of them in the promotion, the next insert's rebuild and the drops;
//!    with the floor, 1,590. So a dirty map of fewer than 64 entries is promoted later than Go
//!    would (after at most 64 locked misses).
//! 5. **Exact under concurrency:** every miss this rule counts is counted under the lock, so the
//!    promotion comes at the threshold, never a few misses late.
//! 6. **A rebuild may carry deleted entries over** (`Promotion::carried_deleted`). When at most
//!    one entry in `CARRY_DIVISOR` = 8 of the read map is deleted (by the shard's live count),
//!    the rebuild copies the read table whole: hashbrown copies its control bytes and each
//!    slot's pointer, and no entry is read (`Table::alias_copy`). The deleted entries go into
//!    the dirty map as deleted entries, which Go's invariant allows, instead of being expunged.
//!    Go's rebuild reads every entry's state to find the deleted ones: 16–30 ns an entry from
//!    16,384 to 1M entries, against 1.5–2.1 for the whole copy (`examples/rebuild_cost.rs`),
//!    and the first new key after every promotion pays it. What the departure costs: a deleted
//!    key (its value was dropped when it was removed) stays in memory until a rebuild finds
//!    more than one entry in eight deleted, or the shard compacts (below), instead of until the
//!    next rebuild; the deleted entries a read map carries stay under one in eight. Go's rules
//!    copy whole only when none is deleted, which builds the dirty map Go's rebuild would.
//!
//! 7. **A store to a key only the dirty map holds counts a miss.** Go's `Store` and `Swap` of
//!    such a key take the lock and count nothing, so a key that is written but never read stays
//!    in the dirty map, and every write to it takes the shard's lock, for as long as no other
//!    miss promotes it. Go's SwapCollision (a key stored once, then swapped by every goroutine)
//!    never promoted: 310 ns an operation at 2 threads, every one locked. Counted, it is
//!    promoted after `FLOOR` stores and then swapped lock-free (BENCHMARKS.md, session 11). The
//!    store took the lock the read map could not spare it, which is what a miss is.
//!
//! **Bound.** A dirty map whose rebuild copied `c` entries is promoted only after at least
//! `c / 2` misses (`len >= inherited >= c`), and only a promotion lets the next rebuild happen.
//! So every rebuild but the last copies at most twice the misses counted after it, and the last
//! at most the map's length: entries copied ≤ 2 × misses + len, O(1) per operation even when a
//! new key follows every promotion (`tests/promotion.rs`), where a threshold that ignored the
//! size of the copy would copy the whole map every few operations.
//!
//! # Go's rules: misses counted without the lock
//!
//! Under [`Promotion::DirtyLen`] and [`Promotion::AfterMisses`], a lookup of a key that the read
//! map's new-key filter rules out of the dirty map (see `read.rs`) counts its miss without the
//! lock, in the read snapshot; those misses are folded in here, under the lock, before the rule
//! is checked, and a lock-free miss that would make the rule fire takes the locked path instead.
//! So, with one thread, promotions happen at the same miss as in Go (under concurrency, possibly
//! a few misses later; see `read.rs`).

use crate::config::Promotion;
use crate::dirty::{Dirty, Garbage};
use crate::primitive::Arc;
use crate::read::{ReadCell, ReadOnly};
use crate::reclaim::Op;
use crate::table::Table;

impl Promotion {
    /// The misses at which the rule promotes `dirty`.
    #[inline]
    pub(crate) fn threshold<K, V>(self, dirty: &Dirty<K, V>) -> usize {
        match self {
            Promotion::Amortized => {
                amortized_threshold(dirty.len(), dirty.inherited(), dirty.quiet_misses())
            }
            Promotion::DirtyLen => dirty.len(),
            Promotion::AfterMisses(n) => n,
        }
    }

    #[inline]
    pub(crate) fn due<K, V>(self, dirty: &Dirty<K, V>) -> bool {
        dirty.misses >= self.threshold(dirty)
    }

    /// How many more misses may be counted before the rule fires.
    #[inline]
    pub(crate) fn remaining<K, V>(self, dirty: &Dirty<K, V>) -> usize {
        self.threshold(dirty).saturating_sub(dirty.misses)
    }

    /// How many deleted entries of a read map of `entries` entries the rebuild may carry into
    /// the dirty map, so as to copy the table whole, instead of reading every entry to expunge
    /// them: a fraction under [`Promotion::Amortized`] (departure 6 in the module docs), none
    /// under Go's rules (with none deleted, the whole copy holds what Go's rebuild would).
    #[inline]
    pub(crate) fn carried_deleted(self, entries: usize) -> usize {
        match self {
            Promotion::Amortized => entries / CARRY_DIVISOR,
            Promotion::DirtyLen | Promotion::AfterMisses(_) => 0,
        }
    }

    /// Whether a lookup that the read map's new-key filter answers without the lock counts a
    /// miss (Go's rules), or not ([`Promotion::Amortized`]).
    #[inline]
    pub(crate) fn counts_filtered_misses(self) -> bool {
        !matches!(self, Promotion::Amortized)
    }

    /// Whether a store to a key found only in the dirty map counts a miss
    /// ([`Promotion::Amortized`], departure 7 in the module docs), or not (Go's rules).
    #[inline]
    pub(crate) fn counts_dirty_stores(self) -> bool {
        matches!(self, Promotion::Amortized)
    }
}

/// [`Promotion::Amortized`]'s weights: a locked miss counts `MISS`, an entry copied `COPY`
/// (see the module documentation for the figures).
const COPY: usize = 1;
const MISS: usize = 2;
/// The fewest misses [`Promotion::Amortized`] promotes after, and the run of misses without
/// growth that says the dirty map is no longer being filled. (Under loom, 1: the models hold a
/// few keys and need their promotions.)
const FLOOR: usize = if cfg!(loom) { 1 } else { 64 };

/// [`Promotion::Amortized`] lets a rebuild carry up to one deleted entry in `CARRY_DIVISOR`
/// (departure 6).
const CARRY_DIVISOR: usize = 8;

/// [`Promotion::Amortized`]'s threshold for a dirty map of `len` entries, `inherited` of them
/// from the read map, that has not grown for the last `quiet` misses: the misses that pay for
/// copying the next rebuild's `len` entries, or only the `inherited` ones once the map has
/// stopped growing; at least `FLOOR`.
#[inline]
fn amortized_threshold(len: usize, inherited: usize, quiet: usize) -> usize {
    let owed = if quiet >= FLOOR { inherited } else { len };
    owed.saturating_mul(COPY).div_ceil(MISS).max(FLOOR)
}

/// Moves the misses counted without the lock (see `ReadOnly::try_count_miss`) into the dirty
/// map's count. Caller holds the lock.
pub(crate) fn fold_misses_locked<K, V>(read: &ReadOnly<K, V>, dirty: &mut Dirty<K, V>) {
    let pending = read.take_misses_locked();
    dirty.misses += pending;
    dirty.counters.misses += pending as u64;
}

/// Go's `missLocked`: counts a miss and promotes when the rule says so. (Inlined: the lookups
/// under the lock call it on every miss, and it is small but for the promotion.)
#[inline]
pub(crate) fn miss_locked<K, V>(
    cell: &ReadCell<K, V>,
    dirty: &mut Dirty<K, V>,
    promotion: Promotion,
    op: &Op<'_, Garbage<K, V>>,
) {
    fold_misses_locked(cell.load(op.guard()), dirty);
    dirty.count_miss();
    if promotion.due(dirty) {
        promote_locked(cell, dirty, op);
    }
}

/// A shard's read map is compacted once it holds at least this many entries (under loom, few
/// enough for a model) ...
const COMPACT_MIN: usize = if cfg!(loom) { 4 } else { 64 };

/// ... and at most a quarter of them have a value: the rest are deleted or expunged entries,
/// which only a rebuild drops. Checked without the lock (a hint) and again under it.
#[inline]
pub(crate) fn mostly_deleted<K, V>(read: &ReadOnly<K, V>) -> bool {
    let entries = read.table.len();
    entries >= COMPACT_MIN && read.len().saturating_mul(4) <= entries && !read.amended()
}

/// Drops a shard's deleted entries when nothing else would (a departure from Go). In Go, deleted
/// entries leave the read map at the rebuild that the next new key starts, once a promotion
/// publishes it; with shards, a shard that gets no new key after a mass delete would keep them
/// (a map sharded 8 ways kept 51 MB after its 1M keys were deleted and one was added). So a
/// removal that leaves the shard's read map mostly deleted ([`mostly_deleted`]) runs Go's two
/// steps itself, under the lock: `dirtyLocked` (a dirty map of the entries with a value,
/// expunging the deleted ones) and the promotion of that dirty map. The read map is not amended
/// and there is no dirty map, so the promoted table holds exactly the entries the read map had
/// minus the expunged ones: every key keeps its value, and a writer that saw an entry expunged
/// takes the lock, as after any rebuild. Each compaction copies at most a third as many entries
/// as it drops, so its cost is amortized over the removals that made them.
pub(crate) fn compact_locked<K, V>(
    cell: &ReadCell<K, V>,
    dirty: &mut Dirty<K, V>,
    op: &Op<'_, Garbage<K, V>>,
) {
    if dirty.table.is_some() {
        return; // a rebuild is under way; the promotion that ends it drops them
    }
    // Carrying none: dropping the deleted entries is the point.
    dirty.rebuild_locked(op.guard(), cell.load(op.guard()), 0, 0);
    promote_locked(cell, dirty, op);
}

/// Publishes the dirty map as the read map and retires the old one. The caller holds the lock,
/// and the current read map is amended or was just rebuilt into the dirty map (so a dirty map
/// exists and holds every entry worth keeping).
pub(crate) fn promote_locked<K, V>(
    cell: &ReadCell<K, V>,
    dirty: &mut Dirty<K, V>,
    op: &Op<'_, Garbage<K, V>>,
) {
    let current = cell.load(op.guard());
    dirty.take_over_locked(current);
    let table = dirty.table.take().unwrap_or_else(Table::new);
    fold_misses_locked(current, dirty);
    let generation = Arc::clone(&current.len);
    let old = cell.swap_locked(ReadOnly::new(table, generation));
    op.retire_large(Garbage::Read(old));
    dirty.misses = 0;
    dirty.counters.promotions += 1;
}
