//! Differential fuzzing of [`SyncMap`] against `std::collections::HashMap` (see TESTING.md).
//!
//! [`run`] decodes arbitrary bytes into a sequence of map operations, applies each to a
//! `SyncMap<u8, u8>` and to a `HashMap<u8, u8>` model, and panics on the first difference in a
//! return value, in the contents, in `len`, or in Go's invariants (`check_invariants`). The first
//! byte picks the promotion rule, so inputs explore both Go's rule and constant promotion.
//!
//! The same function is driven by AFL++ (`src/bin/afl_diff.rs`, feature `afl`, via
//! `cargo afl`) and, on plain stable with no tool, by `tests/corpus.rs`, which replays the
//! committed corpus in `corpus/diff/` and a batch of generated inputs.

use std::collections::HashMap;
use std::ops::ControlFlow;
use syncmap_core::{Promotion, SyncMap};

/// The number of distinct keys inputs use: small, so operations collide on the same keys.
pub const KEYS: u8 = 12;

/// Applies the operations encoded in `data` to a `SyncMap` and to a `HashMap`, panicking on the
/// first disagreement. Returns the number of operations applied.
pub fn run(data: &[u8]) -> usize {
    let Some((&mode, mut rest)) = data.split_first() else {
        return 0;
    };
    let promotion = match mode % 4 {
        0 => Promotion::DirtyLen,
        n => Promotion::AfterMisses(usize::from(n)),
    };
    let map: SyncMap<u8, u8> = SyncMap::builder().promotion(promotion).build();
    let mut model: HashMap<u8, u8> = HashMap::new();
    let mut ops = 0;
    while rest.len() >= 3 {
        let (op, k, v) = (rest[0], rest[1] % KEYS, rest[2]);
        rest = &rest[3..];
        ops += 1;
        step(&map, &mut model, op, k, v);
        if op % 16 == 15 {
            check(&map, &model);
        }
    }
    check(&map, &model);
    ops
}

fn step(map: &SyncMap<u8, u8>, model: &mut HashMap<u8, u8>, op: u8, k: u8, v: u8) {
    match op % 15 {
        0 | 1 => assert_eq!(map.get(&k).map(|x| *x), model.get(&k).copied(), "get {k}"),
        2 | 3 => assert_eq!(
            map.insert(k, v).map(|x| *x),
            model.insert(k, v),
            "insert {k} {v}"
        ),
        4 => assert_eq!(map.remove(&k).map(|x| *x), model.remove(&k), "remove {k}"),
        5 => {
            let got = match map.try_insert(k, v) {
                Ok(stored) => Ok(*stored),
                Err(e) => Err((*e.existing, e.value)),
            };
            let want = match model.get(&k) {
                Some(&cur) => Err((cur, v)),
                None => {
                    model.insert(k, v);
                    Ok(v)
                }
            };
            assert_eq!(got, want, "try_insert {k} {v}");
        }
        6 => {
            // Compare against the current value half the time, so swaps succeed.
            let current = if v % 2 == 0 {
                model.get(&k).copied().unwrap_or(v)
            } else {
                v / 2
            };
            let new = v.wrapping_add(1);
            let got = map.compare_and_swap(&k, &current, new).map(|x| *x);
            let want = match model.get_mut(&k) {
                Some(x) if *x == current => Ok(std::mem::replace(x, new)),
                _ => Err(new),
            };
            assert_eq!(got, want, "compare_and_swap {k} {current} {new}");
        }
        7 => {
            let current = if v % 2 == 0 {
                model.get(&k).copied().unwrap_or(v)
            } else {
                v / 2
            };
            let got = map.compare_and_remove(&k, &current).map(|x| *x);
            let want = match model.get(&k) {
                Some(&x) if x == current => model.remove(&k),
                _ => None,
            };
            assert_eq!(got, want, "compare_and_remove {k} {current}");
        }
        8 => {
            let got = *map.get_or_insert_with(k, || v);
            let want = *model.entry(k).or_insert(v);
            assert_eq!(got, want, "get_or_insert_with {k} {v}");
        }
        9 => assert_eq!(map.contains_key(&k), model.contains_key(&k), "contains {k}"),
        10 => {
            // Walk part of the map, stopping after `v % 4` items.
            let mut seen = Vec::new();
            let _ = map.for_each(|key, value| {
                assert_eq!(model.get(key), Some(value), "for_each saw {key}");
                seen.push(*key);
                if seen.len() > usize::from(v % 4) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            let n = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "for_each visited a key twice");
        }
        11 => {
            let keep = |key: &u8, value: &u8| (key ^ value ^ v) % 3 != 0;
            map.retain(|key, value| keep(key, value));
            model.retain(|key, value| keep(key, value));
        }
        12 if v % 8 == 0 => {
            map.clear();
            model.clear();
        }
        13 => {
            let mut items: Vec<(u8, u8)> = map.iter().map(|(k, v)| (k, *v)).collect();
            items.sort_unstable();
            let mut want: Vec<(u8, u8)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            want.sort_unstable();
            assert_eq!(items, want, "iter");
        }
        _ => assert_eq!(map.len(), model.len(), "len"),
    }
}

fn check(map: &SyncMap<u8, u8>, model: &HashMap<u8, u8>) {
    if let Err(e) = map.check_invariants() {
        panic!("invariants: {e}\n{:?}", map.view());
    }
    assert_eq!(map.len(), model.len(), "len");
    for k in 0..KEYS {
        assert_eq!(map.get(&k).map(|x| *x), model.get(&k).copied(), "get {k}");
    }
}
