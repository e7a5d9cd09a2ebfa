//! Property tests: random sequences of every operation against a reference `HashMap`, with the
//! same results and the same final contents, under the default promotion rule, Go's rule and
//! constant promotion, checking Go's invariants after every step.

use proptest::prelude::*;
use std::collections::HashMap;
use std::ops::ControlFlow;
use syncmap_core::{Promotion, SyncMap, DEFAULT_SHARDS};

#[derive(Clone, Debug)]
enum Op {
    Get(u8),
    Insert(u8, u8),
    TryInsert(u8, u8),
    GetOrInsertWith(u8, u8),
    Remove(u8),
    CompareAndSwap(u8, u8, u8),
    CompareAndRemove(u8, u8),
    Retain(u8),
    WalkBreakAfter(u8),
    Clear,
    Len,
}

fn op() -> impl Strategy<Value = Op> {
    // Few keys and values, so that hits, CAS matches and deleted/expunged entries are common.
    let k = 0..12_u8;
    let v = 0..4_u8;
    prop_oneof![
        6 => k.clone().prop_map(Op::Get),
        6 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::TryInsert(k, v)),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::GetOrInsertWith(k, v)),
        4 => k.clone().prop_map(Op::Remove),
        3 => (k.clone(), v.clone(), v.clone()).prop_map(|(k, a, b)| Op::CompareAndSwap(k, a, b)),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::CompareAndRemove(k, v)),
        1 => (2..5_u8).prop_map(Op::Retain),
        1 => (0..6_u8).prop_map(Op::WalkBreakAfter),
        1 => Just(Op::Clear),
        1 => Just(Op::Len),
    ]
}

/// Runs `ops` on a SyncMap and a HashMap side by side; returns the first divergence.
/// Each sequence runs on Go's structure (one shard) and on the default shards.
fn run(ops: &[Op], promotion: Promotion) -> Result<(), TestCaseError> {
    run_sharded(ops, promotion, 1)?;
    run_sharded(ops, promotion, DEFAULT_SHARDS)
}

fn run_sharded(ops: &[Op], promotion: Promotion, shards: usize) -> Result<(), TestCaseError> {
    let map: SyncMap<u8, u8> = SyncMap::builder()
        .shards(shards)
        .promotion(promotion)
        .build();
    let mut model: HashMap<u8, u8> = HashMap::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Get(k) => prop_assert_eq!(map.get_cloned(&k), model.get(&k).copied()),
            Op::Insert(k, v) => {
                prop_assert_eq!(map.insert(k, v).map(|p| *p), model.insert(k, v))
            }
            Op::TryInsert(k, v) => {
                let expected = model.get(&k).copied();
                match map.try_insert(k, v) {
                    Ok(stored) => {
                        prop_assert_eq!(expected, None);
                        prop_assert_eq!(*stored, v);
                        model.insert(k, v);
                    }
                    Err(e) => {
                        prop_assert_eq!(Some(*e.existing), expected);
                        prop_assert_eq!(e.value, v);
                    }
                }
            }
            Op::GetOrInsertWith(k, v) => {
                let absent = !model.contains_key(&k);
                let mut called = false;
                let got = *map.get_or_insert_with(k, || {
                    called = true;
                    v
                });
                let expected = *model.entry(k).or_insert(v);
                prop_assert_eq!(got, expected);
                prop_assert_eq!(called, absent, "f runs exactly when the key is absent");
            }
            Op::Remove(k) => prop_assert_eq!(map.remove(&k).map(|p| *p), model.remove(&k)),
            Op::CompareAndSwap(k, old, new) => {
                let matches = model.get(&k) == Some(&old);
                let got = map.compare_and_swap(&k, &old, new);
                if matches {
                    prop_assert_eq!(got.map(|p| *p), Ok(old));
                    model.insert(k, new);
                } else {
                    prop_assert_eq!(got, Err(new));
                }
            }
            Op::CompareAndRemove(k, old) => {
                let matches = model.get(&k) == Some(&old);
                prop_assert_eq!(map.compare_and_remove(&k, &old).is_some(), matches);
                if matches {
                    model.remove(&k);
                }
            }
            Op::Retain(m) => {
                map.retain(|k, v| (k + v) % m != 0);
                model.retain(|k, v| (*k + *v) % m != 0);
            }
            Op::WalkBreakAfter(n) => {
                let mut seen = Vec::new();
                let r = map.for_each(|k, v| {
                    seen.push((*k, *v));
                    if seen.len() > n as usize {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                let mut unique = seen.clone();
                unique.sort();
                unique.dedup_by_key(|(k, _)| *k);
                prop_assert_eq!(unique.len(), seen.len(), "a key visited twice");
                for (k, v) in &seen {
                    prop_assert_eq!(model.get(k), Some(v));
                }
                if r.is_continue() {
                    prop_assert_eq!(seen.len(), model.len());
                }
            }
            Op::Clear => {
                map.clear();
                model.clear();
            }
            Op::Len => prop_assert_eq!(map.len(), model.len()),
        }
        if let Err(e) = map.check_invariants() {
            return Err(TestCaseError::fail(format!(
                "after step {step} ({op:?}): {e}"
            )));
        }
    }
    let mut contents: Vec<(u8, u8)> = map.iter().map(|(k, v)| (k, *v)).collect();
    contents.sort();
    let mut expected: Vec<(u8, u8)> = model.into_iter().collect();
    expected.sort();
    prop_assert_eq!(contents, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 512 }))]

    #[test]
    fn matches_hashmap_with_default_promotion(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops, Promotion::Amortized)?;
    }

    #[test]
    fn matches_hashmap_with_go_promotion(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops, Promotion::DirtyLen)?;
    }

    #[test]
    fn matches_hashmap_with_constant_promotion(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops, Promotion::AfterMisses(1))?;
    }

    #[test]
    fn matches_hashmap_with_rare_promotion(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops, Promotion::AfterMisses(50))?;
    }
}
