//! The default promotion rule, `Promotion::Amortized` (issue 9), against Go's (`DirtyLen`):
//! a bulk load is promoted after a handful of locked misses, a miss the new-key filter answers
//! without the lock counts nothing, and a workload that inserts a new key after every promotion
//! still copies O(1) entries per operation. Every map names its rule, so `--cfg syncmap_stress`
//! (which changes only the default) runs the same checks.

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use syncmap_core::{Promotion, SyncMap};

/// A fixed hasher, so which keys the new-key filter rules out is the same on every run.
type Fixed = BuildHasherDefault<DefaultHasher>;
type Map = SyncMap<u64, u64, Fixed>;

/// The most misses the default rule waits for once every key of the dirty map is new (its
/// floor; documented in `promote.rs`).
const FLOOR: u64 = 64;

/// One shard: the rule's schedule is a shard's, so counting it needs all keys in one.
fn map(promotion: Promotion) -> Map {
    SyncMap::builder()
        .shards(1)
        .hasher(Fixed::default())
        .promotion(promotion)
        .build()
}

/// A map whose read map holds `0..n` and which has no dirty map.
fn promoted(promotion: Promotion, n: u64) -> Map {
    let m = map(promotion);
    for i in 0..n {
        m.insert(i, i);
    }
    let _ = m.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(())); // a full walk promotes
    let st = m.stats();
    assert_eq!((st.read_len, st.dirty_len), (n as usize, None));
    m
}

#[test]
#[cfg(not(syncmap_stress))]
fn amortized_is_the_default() {
    assert_eq!(Promotion::default(), Promotion::Amortized);
}

/// (i) A bulk load into a fresh map (the dirty map was built from an empty read map, so every
/// entry is a new key) is promoted after `FLOOR` locked reads, not after `len` of them.
#[test]
fn bulk_load_is_promoted_after_a_handful_of_locked_misses() {
    let n = 20_000;
    let m = map(Promotion::Amortized);
    for i in 0..n {
        m.insert(i, i);
    }
    assert_eq!(m.stats().dirty_len, Some(n as usize));
    for i in 0..n {
        assert_eq!(m.get_cloned(&i), Some(i));
    }
    let st = m.stats();
    assert_eq!(st.promotions, 1);
    assert_eq!(
        st.misses, FLOOR,
        "only the reads before the promotion took the lock"
    );
    assert_eq!((st.read_len, st.dirty_len), (n as usize, None));
    assert_eq!(st.entries_copied, 0);

    // Go's rule: every one of those reads takes the lock, and the last one promotes.
    let g = map(Promotion::DirtyLen);
    for i in 0..n {
        g.insert(i, i);
    }
    for i in 0..n - 1 {
        g.get(&i);
    }
    assert_eq!((g.stats().misses, g.stats().promotions), (n - 1, 0));
    g.get(&0);
    assert_eq!((g.stats().misses, g.stats().promotions), (n, 1));
}

/// Fewer keys than the floor: still `FLOOR` misses (a promotion's cost is mostly fixed), where
/// Go's rule promotes after the dirty map's length.
#[test]
fn small_dirty_maps_wait_for_the_floor() {
    for (promotion, after) in [(Promotion::Amortized, FLOOR), (Promotion::DirtyLen, 4)] {
        let m = map(promotion);
        for i in 0..4 {
            m.insert(i, i);
        }
        for _ in 0..after - 1 {
            m.get(&0);
        }
        assert_eq!(m.stats().promotions, 0, "{promotion:?}");
        m.get(&0);
        assert_eq!((m.stats().misses, m.stats().promotions), (after, 1));
    }
}

/// Go's SwapMostlyMisses: beside one settled key, a new key is inserted and removed over and
/// over. Each removal is a locked miss on a dirty map of one or two keys; Go's rule promotes on
/// nearly every one of them (and the next insert rebuilds), the default once per `FLOOR`.
#[test]
fn inserting_and_removing_new_keys_promotes_once_per_floor() {
    let n = 10 * FLOOR;
    for (promotion, at_least, at_most) in [
        (Promotion::Amortized, n / FLOOR, n / FLOOR),
        (Promotion::DirtyLen, n / 2, n),
    ] {
        let m = promoted(promotion, 1);
        for i in 1..=n {
            m.insert(i, i);
            assert_eq!(m.remove(&i).as_deref(), Some(&i));
        }
        let promotions = m.stats().promotions - 1; // the walk in `promoted`
        assert!(
            (at_least..=at_most).contains(&promotions),
            "{promotion:?}: {promotions}"
        );
        assert_eq!(m.get_cloned(&0), Some(0));
        assert_eq!(m.len(), 1);
    }
}

/// After a rebuild that copied `n` entries, the rule waits for `n / 2` misses (a miss weighs
/// twice an entry copied): the misses pay for the copy, whatever new keys arrived since.
#[test]
fn a_rebuilt_dirty_map_waits_for_misses_in_proportion_to_what_it_copied() {
    let n = 1_000;
    let m = promoted(Promotion::Amortized, n);
    m.insert(n, n); // rebuild: copies n entries
    assert_eq!(m.stats().entries_copied, n);
    for i in 1..n / 2 {
        m.insert(n + i, n + i); // new keys add nothing to the threshold
    }
    let walked = m.stats().promotions; // the walk in `promoted`
    for _ in 0..n / 2 - 1 {
        m.get(&n);
    }
    assert_eq!(m.stats().promotions, walked);
    m.get(&n);
    assert_eq!(
        (m.stats().misses, m.stats().promotions),
        (n / 2, walked + 1)
    );
}

/// While the dirty map keeps growing (a new key between misses), the misses must pay for the
/// whole next copy, `len / 2`: a read map promoted in the middle of a fill would be outgrown at
/// once, and the next new key would copy it all.
#[test]
fn a_growing_dirty_map_waits_for_misses_in_proportion_to_its_length() {
    let n = 1_000;
    let m = promoted(Promotion::Amortized, n);
    let walked = m.stats().promotions;
    let mut j = 0;
    while m.stats().promotions == walked {
        j += 1;
        m.insert(n + j, j);
        assert_eq!(m.get_cloned(&(n + j)), Some(j)); // a miss
    }
    // Promoted at the miss that reached half the dirty map's length (n + j entries), not at
    // n / 2 (the copy), nor at n + j (Go).
    assert_eq!(j, n);
    assert_eq!(m.stats().misses, n);
    assert_eq!(m.stats().read_len, 2 * n as usize);
}

/// (ii) A lookup that the new-key filter answers without the lock counts no miss under the
/// default rule; under Go's rule it counts one (lock-free), as Go's locked miss would.
#[test]
fn a_miss_answered_by_the_filter_is_not_counted() {
    for (promotion, counted) in [(Promotion::Amortized, 0), (Promotion::DirtyLen, 3)] {
        let m = promoted(promotion, 100);
        m.insert(1_000, 0); // the read map is amended; the filter holds key 1000's bits
        let absent = 2_000; // its bits are clear under the fixed hasher (checked below)
        assert!(m.get(&absent).is_none());
        assert!(m.remove(&absent).is_none());
        assert!(m.compare_and_remove(&absent, &0).is_none());
        assert!(m.compare_and_swap(&absent, &0, 1).is_err()); // counts nothing under either rule
        let st = m.stats();
        assert_eq!(st.misses, counted, "{promotion:?}");
        assert_eq!(st.pending_misses, counted as usize, "{promotion:?}");
        assert!(st.amended);
    }
    // Under the default rule a lookup that reached the lock would have counted (found or not;
    // see the next test), so the 0 above also shows that the filter answered all three.
}

/// A locked miss (a key only in the dirty map, or one the filter cannot rule out) counts under
/// the default rule as under Go's.
#[test]
fn a_locked_miss_is_counted() {
    let m = promoted(Promotion::Amortized, 100);
    m.insert(1_000, 7);
    assert_eq!(m.get_cloned(&1_000), Some(7));
    assert_eq!(m.stats().misses, 1);
    assert_eq!(m.remove(&1_000).as_deref(), Some(&7)); // unlinked from the dirty map: a miss
    assert_eq!(m.stats().misses, 2);
    assert!(m.get(&1_000).is_none()); // its filter bits stay set: the lock, and a miss
    assert_eq!(m.stats().misses, 3);
}

/// (iii) The adversary of a cheap threshold: a new key right after every promotion, so every
/// promotion is followed by a rebuild of the whole map. `k` operations on an `n`-entry map copy
/// O(k) entries, not O(k·n).
///
/// Bound: a dirty map rebuilt with `c` copies is promoted only after `min(len, max(64, c / 2))
/// >= c / 2` misses, so every rebuild but the last copies at most twice the misses counted
/// after it, and the last one at most the map's length: `copied <= 2 * misses + len`.
#[test]
fn a_new_key_after_every_promotion_stays_amortized() {
    let n = 2_000;
    let k = 20_000;
    let run = |promotion: Promotion| {
        let m = promoted(promotion, n);
        let mut next = n;
        let mut ops = 0;
        while ops < k {
            // Insert right after the promotion (a rebuild), then miss until the next one.
            m.insert(next, next);
            ops += 1;
            let promotions = m.stats().promotions;
            while m.stats().promotions == promotions && ops < k {
                m.get(&next);
                ops += 1;
            }
            next += 1;
        }
        m.stats()
    };
    let st = run(Promotion::Amortized);
    assert!(st.dirty_rebuilds >= 2, "the pattern ran: {st:?}");
    assert!(
        st.entries_copied <= 2 * st.misses + (n + k),
        "copies {} for {} misses: {st:?}",
        st.entries_copied,
        st.misses
    );
    assert!(st.entries_copied <= 3 * k + n, "O(k), not O(k·n): {st:?}");
    // The same adversary against a rule that ignores the size of the copy: O(k·n).
    let cheap = run(Promotion::AfterMisses(FLOOR as usize));
    assert!(cheap.entries_copied > k / (FLOOR + 1) * n, "{cheap:?}");
    assert!(
        cheap.entries_copied > 10 * st.entries_copied,
        "{cheap:?} vs {st:?}"
    );
}

/// With several threads reading a bulk-loaded map, the promotion still comes after `FLOOR`
/// locked misses: misses are counted under the lock, and a lookup that waited for the lock
/// while another promoted finds its key in the new read map without counting.
#[test]
fn concurrent_readers_promote_a_bulk_load_once() {
    let n = 10_000;
    let m = map(Promotion::Amortized);
    for i in 0..n {
        m.insert(i, i);
    }
    std::thread::scope(|s| {
        for t in 0..4 {
            let m = &m;
            s.spawn(move || {
                for i in 0..n {
                    let key = (i * 7 + t * 1_000) % n;
                    assert_eq!(m.get_cloned(&key), Some(key));
                }
            });
        }
    });
    let st = m.stats();
    assert_eq!((st.misses, st.promotions), (FLOOR, 1));
    m.check_invariants().unwrap();
}

/// Departure 6 (`promote.rs`): with at most one entry in eight of the read map deleted, the
/// rebuild copies the table whole and carries the deleted entries into the dirty map, still
/// deleted; with one more, it reads every entry and expunges the deleted ones, as Go does.
#[test]
fn a_rebuild_carries_up_to_one_deleted_entry_in_eight() {
    for (removed, whole) in [(0, true), (8, true), (9, false)] {
        let m = promoted(Promotion::Amortized, 64);
        let rebuilds = m.stats().dirty_rebuilds; // the bulk load's, from an empty read map
        for k in 0..removed {
            assert_eq!(m.remove(&k).as_deref(), Some(&k));
        }
        m.insert(100, 100); // the first new key rebuilds the dirty map
        let st = m.stats();
        let context = format!("{removed} removed: {st:?}");
        assert_eq!(st.dirty_rebuilds, rebuilds + 1, "{context}");
        if whole {
            assert_eq!(st.whole_copies, 1, "{context}");
            assert_eq!(
                (st.entries_copied, st.entries_expunged),
                (64, 0),
                "{context}"
            );
            assert_eq!(st.dirty_len, Some(65), "{context}");
        } else {
            assert_eq!(st.whole_copies, 0, "{context}");
            assert_eq!(
                (st.entries_copied, st.entries_expunged),
                (64 - removed, removed),
                "{context}"
            );
            assert_eq!(st.dirty_len, Some(65 - removed as usize), "{context}");
        }
        m.check_invariants().unwrap();
        // Carried or expunged, a removed key stays absent, and comes back when stored again.
        assert_eq!(m.len(), 65 - removed as usize);
        assert!((0..removed).all(|k| m.get(&k).is_none()));
        assert!((0..removed).all(|k| m.insert(k, k + 1).is_none()));
        m.check_invariants().unwrap();
        assert_eq!(m.len(), 65);
        assert!((0..64).all(|k| m.get(&k).as_deref() == Some(&(k + u64::from(k < removed)))));
    }
}

/// Go's rules copy the table whole only when no entry is deleted: then it holds what Go's
/// rebuild would. One deleted entry is read and expunged.
#[test]
fn go_rules_copy_whole_only_without_deleted_entries() {
    for (removed, whole) in [(0, 1), (1, 0)] {
        let m = promoted(Promotion::DirtyLen, 64);
        for k in 0..removed {
            m.remove(&k);
        }
        m.insert(100, 100);
        let st = m.stats();
        assert_eq!(
            (st.whole_copies, st.entries_expunged),
            (whole, removed),
            "{st:?}"
        );
        m.check_invariants().unwrap();
    }
}

/// Deleted entries carried from rebuild to rebuild stay under one in eight of the read map: a
/// key removed in every promotion cycle is expunged once enough of them gather.
#[test]
fn carried_deleted_entries_stay_under_one_in_eight() {
    const N: u64 = 256;
    let m = promoted(Promotion::Amortized, N);
    let mut next = N;
    for cycle in 0..200 {
        m.remove(&cycle); // a settled key: deleted in the read map
        m.insert(next, next); // rebuild (the first new key of the cycle)
        next += 1;
        // Read back until the rule promotes.
        let promotions = m.stats().promotions;
        while m.stats().promotions == promotions {
            assert_eq!(m.get(&(next - 1)).as_deref(), Some(&(next - 1)));
        }
        let st = m.stats();
        let deleted = st.read_len - m.len();
        assert!(
            deleted <= st.read_len / 8 + 1,
            "cycle {cycle}: {deleted} deleted of {} entries: {st:?}",
            st.read_len
        );
        m.check_invariants().unwrap();
    }
    let st = m.stats();
    assert!(st.whole_copies > 0 && st.entries_expunged > 0, "{st:?}");
    assert_eq!(m.len(), 256);
}

/// A table of 2^11 buckets or more remembers where its buckets lie, so that a lookup can ask
/// for its home bucket's cache line early (`table.rs`, `BucketBase`). Every way a map builds
/// such a table must leave that address right: growth under inserts, a promotion, a rebuild's
/// copy, removals. `check_invariants` compares it with each occupied bucket.
#[test]
#[cfg_attr(miri, ignore = "10,000 keys")]
fn large_tables_know_where_their_buckets_lie_however_they_were_built() {
    const N: u64 = 10_000;
    let m = map(Promotion::Amortized);
    for i in 0..N {
        m.insert(i, i); // the dirty table grows past 2^11 buckets
    }
    m.check_invariants().unwrap();
    let _ = m.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(())); // promotes
    assert_eq!(m.stats().read_len, N as usize);
    m.check_invariants().unwrap();
    m.insert(N, N); // the first new key copies the read table into a new dirty one
    assert_eq!(m.stats().whole_copies, 1);
    m.check_invariants().unwrap();
    for i in (0..N).step_by(7) {
        assert_eq!(m.remove(&i).as_deref(), Some(&i));
    }
    m.check_invariants().unwrap();
    assert!((0..=N).all(|i| m.get(&i).map(|v| *v) == (i % 7 != 0).then_some(i)));
}

/// Departure 7: under the default rule, a store to a key only the dirty map holds counts a
/// miss, so a key that is written but never read is promoted after `FLOOR` stores and later
/// stores replace its value without the lock (counting nothing); under Go's rule such stores
/// count nothing and the key stays in the dirty map.
#[test]
fn stores_to_a_dirty_only_key_promote_it_under_the_default_rule_only() {
    for (promotion, promoted) in [(Promotion::Amortized, true), (Promotion::DirtyLen, false)] {
        let m = map(promotion);
        m.insert(0, 0); // a new key: in the dirty map only
        for i in 1..=FLOOR {
            assert_eq!(m.insert(0, i).as_deref(), Some(&(i - 1)), "{promotion:?}");
        }
        let st = m.stats();
        let expected = if promoted {
            (FLOOR, 1, 1, None)
        } else {
            (0, 0, 0, Some(1))
        };
        assert_eq!(
            (st.misses, st.promotions, st.read_len, st.dirty_len),
            expected,
            "{promotion:?}"
        );
        for i in 0..10 {
            m.insert(0, 100 + i);
        }
        assert_eq!(m.stats().misses, st.misses, "{promotion:?}");
        assert_eq!(m.get(&0).as_deref(), Some(&109));
        m.check_invariants().unwrap();
    }
}

/// A store that may need the dirty map asks for the dirty table's first cache lines before it
/// takes the lock, through a hint the lock holder keeps (`table.rs`, `ProbeHint`). Whenever the
/// lock is free the hint names the current dirty table (nothing while there is none, or while
/// it is small enough to stay in cache): through its build, its growth, an expunged entry
/// re-linked into it, a promotion and a `clear`. `check_invariants` compares the two.
#[test]
fn the_dirty_table_hint_follows_the_dirty_table() {
    let n = 4_000; // 8,192 buckets: large enough for a hint
    let m = promoted(Promotion::Amortized, n);
    m.check_invariants().unwrap();
    // Built: the first new key copies the read table whole.
    m.insert(n, n);
    assert_eq!(m.stats().whole_copies, 1);
    m.check_invariants().unwrap();
    // Grown: 7,168 entries fill 8,192 buckets.
    for k in n + 1..2 * n {
        m.insert(k, k);
        if k % 500 == 0 {
            m.check_invariants().unwrap();
        }
    }
    assert!(m.stats().dirty_len.unwrap() > 7_168);
    m.check_invariants().unwrap();
    // Promoted (a full walk), then rebuilt with most of the read map deleted, so that the
    // rebuild expunges; storing an expunged key again re-links its entry into the dirty map.
    let _ = m.for_each(|_, _| std::ops::ControlFlow::<()>::Continue(()));
    assert_eq!(m.stats().dirty_len, None);
    m.check_invariants().unwrap();
    for k in 0..n {
        m.remove(&k);
    }
    m.insert(3 * n, 0);
    assert!(m.stats().entries_expunged >= n);
    m.check_invariants().unwrap();
    for k in 0..n {
        m.insert(k, k);
    }
    m.check_invariants().unwrap();
    m.clear();
    m.check_invariants().unwrap();
    assert!(m.is_empty());
}
