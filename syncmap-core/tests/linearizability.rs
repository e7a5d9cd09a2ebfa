//! Linearizability of every single-key operation, checked on histories recorded from real
//! threads (issue 5, part 3).
//!
//! Linearizability is *local* (Herlihy & Wing): a history of operations on many objects is
//! linearizable iff its projection on each object is. Every operation recorded here touches one
//! key, so checking each key's sub-history on its own against a sequential model of one slot
//! (`Option<u64>`) is exact, and each sub-history stays small enough for an exhaustive search.
//!
//! The checker is Wing & Gong's search with Lowe's memoization: repeatedly pick a *minimal*
//! operation (one that was called before every pending operation returned), apply it to the
//! model, and backtrack on a mismatch; a set of (linearized operations, model state) pairs
//! already explored prunes the search. Real-time order comes from one global counter read with
//! `SeqCst` just before each call and just after each return.
//!
//! `broken_compare_and_swap_is_caught` runs the same harness over a deliberately broken map
//! whose `compare_and_swap` is a load followed by a separate store, and requires the checker to
//! reject it: the checker can fail.
//!
//! Sizes: `SYNCMAP_LIN_OPS` (default 1,048,576 in the normal run); the ignored
//! `linearizable_long` checks 16M.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::thread;
use syncmap_core::{Promotion, SyncMap, DEFAULT_SHARDS};

mod support;
use support::Rng;

/// One single-key operation and its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get,
    Insert(u64),
    Remove,
    TryInsert(u64),
    CompareAndSwap(u64, u64),
    CompareAndRemove(u64),
    GetOrInsertWith(u64),
}

/// What an operation returned (values are unique `u64`s, so they identify writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    /// `get`, `insert` (previous), `remove`, `compare_and_remove`.
    Opt(Option<u64>),
    /// `try_insert`: `Ok(stored)` or `Err(existing)`; `compare_and_swap`: `Ok(previous)` or
    /// `Err(())` (encoded as `Err(0)`).
    Res(Result<u64, u64>),
    /// `get_or_insert_with`.
    Val(u64),
}

/// The sequential specification of one key: the new state and the expected return.
fn spec(state: Option<u64>, op: Op) -> (Option<u64>, Ret) {
    match op {
        Op::Get => (state, Ret::Opt(state)),
        Op::Insert(v) => (Some(v), Ret::Opt(state)),
        Op::Remove => (None, Ret::Opt(state)),
        Op::TryInsert(v) => match state {
            Some(cur) => (state, Ret::Res(Err(cur))),
            None => (Some(v), Ret::Res(Ok(v))),
        },
        Op::CompareAndSwap(cur, new) => match state {
            Some(s) if s == cur => (Some(new), Ret::Res(Ok(s))),
            _ => (state, Ret::Res(Err(0))),
        },
        Op::CompareAndRemove(cur) => match state {
            Some(s) if s == cur => (None, Ret::Opt(Some(s))),
            _ => (state, Ret::Opt(None)),
        },
        Op::GetOrInsertWith(v) => match state {
            Some(cur) => (state, Ret::Val(cur)),
            None => (Some(v), Ret::Val(v)),
        },
    }
}

/// One completed operation.
#[derive(Clone, Copy, Debug)]
struct Event {
    key: u32,
    op: Op,
    ret: Ret,
    call: u64,
    done: u64,
}

/// Checks one key's history, starting from an absent key. `Err` describes the history.
fn check_key(history: &[Event]) -> Result<(), String> {
    let n = history.len();
    assert!(n <= 128, "per-key history too long for the bitset: {n}");
    let mut ops = history.to_vec();
    ops.sort_by_key(|e| e.call);
    let full: u128 = if n == 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    };
    let mut seen: HashSet<(u128, Option<u64>)> = HashSet::new();
    // Depth-first search with an explicit stack of (linearized set, state).
    let mut stack: Vec<(u128, Option<u64>)> = vec![(0, None)];
    while let Some((done, state)) = stack.pop() {
        if done == full {
            return Ok(());
        }
        if !seen.insert((done, state)) {
            continue;
        }
        // The earliest return among pending operations bounds which ones may go next.
        let min_return = (0..n)
            .filter(|&i| done & (1 << i) == 0)
            .map(|i| ops[i].done)
            .min()
            .expect("a pending operation");
        for (i, e) in ops.iter().enumerate() {
            if e.call > min_return {
                break; // sorted by call: no later one is minimal either
            }
            if done & (1 << i) != 0 {
                continue;
            }
            let (next, expected) = spec(state, e.op);
            if expected == e.ret {
                stack.push((done | (1 << i), next));
            }
        }
    }
    Err(format!("not linearizable ({n} operations): {ops:#?}"))
}

/// Checks a whole history, key by key. Returns the number of keys checked.
fn check_history(events: &[Event]) -> Result<usize, String> {
    let mut by_key: HashMap<u32, Vec<Event>> = HashMap::new();
    for e in events {
        by_key.entry(e.key).or_default().push(*e);
    }
    for (key, history) in &by_key {
        check_key(history).map_err(|e| format!("key {key}: {e}"))?;
    }
    Ok(by_key.len())
}

/// The map under test, behind the operations the histories record.
trait Target: Sync {
    fn apply(&self, key: u32, op: Op) -> Ret;
}

impl Target for SyncMap<u32, u64> {
    fn apply(&self, key: u32, op: Op) -> Ret {
        match op {
            Op::Get => Ret::Opt(self.get(&key).map(|v| *v)),
            Op::Insert(v) => Ret::Opt(self.insert(key, v).map(|p| *p)),
            Op::Remove => Ret::Opt(self.remove(&key).map(|p| *p)),
            Op::TryInsert(v) => Ret::Res(match self.try_insert(key, v) {
                Ok(stored) => Ok(*stored),
                Err(e) => Err(*e.existing),
            }),
            Op::CompareAndSwap(cur, new) => Ret::Res(
                self.compare_and_swap(&key, &cur, new)
                    .map(|p| *p)
                    .map_err(|_| 0),
            ),
            Op::CompareAndRemove(cur) => Ret::Opt(self.compare_and_remove(&key, &cur).map(|p| *p)),
            Op::GetOrInsertWith(v) => Ret::Val(*self.get_or_insert_with(key, || v)),
        }
    }
}

/// A deliberately broken map: `compare_and_swap` loads, compares and then stores in separate
/// steps, so two racing swaps from the same value can both succeed.
struct BrokenCas(SyncMap<u32, u64>);

impl Target for BrokenCas {
    fn apply(&self, key: u32, op: Op) -> Ret {
        match op {
            Op::CompareAndSwap(cur, new) => {
                let seen = self.0.get(&key).map(|v| *v);
                thread::yield_now(); // widen the window
                if seen == Some(cur) {
                    self.0.insert(key, new);
                    Ret::Res(Ok(cur))
                } else {
                    Ret::Res(Err(0))
                }
            }
            other => self.0.apply(key, other),
        }
    }
}

struct Plan {
    threads: usize,
    /// Operations per thread per phase; all threads start each phase together (barrier).
    ops_per_phase: usize,
    /// Fresh keys per phase: each phase's keys start absent.
    keys_per_phase: u32,
    /// Percentage of compare-and-swap operations.
    cas_percent: u64,
}

const PLAN: Plan = Plan {
    threads: 4,
    ops_per_phase: 24,
    keys_per_phase: 3,
    cas_percent: 15,
};

/// Releases the other threads from the phase barrier when a recording thread panics.
struct Poison<'a>(&'a Barrier, &'a AtomicBool);

impl Drop for Poison<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.1.store(true, Ordering::SeqCst);
            self.0.wait();
        }
    }
}

/// Runs `phases` phases on `target` and returns the recorded history.
fn record(target: &dyn Target, plan: &Plan, phases: usize, seed: u64) -> Vec<Event> {
    let clock = AtomicU64::new(1);
    let barrier = Barrier::new(plan.threads);
    let poisoned = AtomicBool::new(false);
    let per_thread: Vec<Vec<Event>> = thread::scope(|s| {
        let handles: Vec<_> = (0..plan.threads)
            .map(|t| {
                let (clock, barrier, poisoned) = (&clock, &barrier, &poisoned);
                s.spawn(move || {
                    // If this thread panics, release the others from the next barrier so the
                    // test fails instead of hanging.
                    let _guard = Poison(barrier, poisoned);
                    let mut rng =
                        Rng(seed ^ 0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(t as u64 + 1) | 1);
                    let mut events = Vec::with_capacity(phases * plan.ops_per_phase);
                    let mut next_value = 1u64;
                    let mut last_seen: HashMap<u32, u64> = HashMap::new();
                    for phase in 0..phases {
                        barrier.wait();
                        if poisoned.load(Ordering::SeqCst) {
                            break;
                        }
                        let base = phase as u32 * plan.keys_per_phase;
                        for _ in 0..plan.ops_per_phase {
                            let key = base + rng.below(u64::from(plan.keys_per_phase)) as u32;
                            // Unique across threads: thread id in the high bits.
                            let v = ((t as u64 + 1) << 40) | next_value;
                            next_value += 1;
                            let known = last_seen.get(&key).copied().unwrap_or(v);
                            let roll = rng.below(100);
                            let op = if roll < plan.cas_percent {
                                Op::CompareAndSwap(known, v)
                            } else {
                                match (roll - plan.cas_percent) * 100 / (100 - plan.cas_percent) {
                                    0..=29 => Op::Get,
                                    30..=54 => Op::Insert(v),
                                    55..=69 => Op::Remove,
                                    70..=81 => Op::TryInsert(v),
                                    82..=92 => Op::CompareAndRemove(known),
                                    _ => Op::GetOrInsertWith(v),
                                }
                            };
                            let call = clock.fetch_add(1, Ordering::SeqCst);
                            let ret = target.apply(key, op);
                            let done = clock.fetch_add(1, Ordering::SeqCst);
                            let observed = match ret {
                                Ret::Opt(Some(x)) | Ret::Res(Ok(x)) | Ret::Val(x) => Some(x),
                                Ret::Res(Err(x)) if x != 0 => Some(x),
                                _ => None,
                            };
                            if let Some(x) = observed {
                                last_seen.insert(key, x);
                            }
                            events.push(Event {
                                key,
                                op,
                                ret,
                                call,
                                done,
                            });
                        }
                    }
                    events
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    per_thread.into_iter().flatten().collect()
}

/// Records and checks at least `total_ops` operations on fresh maps, cycling through the default
/// promotion rule, Go's rule and constant promotion. Returns (operations, keys) checked.
fn run_checked(total_ops: usize, seed: u64) -> (usize, usize) {
    let phases_per_round = 512;
    let ops_per_round = phases_per_round * PLAN.threads * PLAN.ops_per_phase;
    let rounds = total_ops.div_ceil(ops_per_round);
    let (mut ops, mut keys) = (0, 0);
    for round in 0..rounds {
        let promotion = [
            Promotion::Amortized,
            Promotion::DirtyLen,
            Promotion::AfterMisses(1),
        ][round % 3];
        // Go's structure (one shard) and the default, under each rule in turn.
        let shards = if round % 6 < 3 { 1 } else { DEFAULT_SHARDS };
        let map: SyncMap<u32, u64> = SyncMap::builder()
            .shards(shards)
            .promotion(promotion)
            .build();
        let events = record(&map, &PLAN, phases_per_round, seed + round as u64);
        ops += events.len();
        keys += check_history(&events).unwrap_or_else(|e| {
            panic!("round {round} ({promotion:?}, {shards} shards), seed {seed}: {e}")
        });
        map.check_invariants().unwrap();
    }
    (ops, keys)
}

fn ops_from_env(default: usize) -> usize {
    std::env::var("SYNCMAP_LIN_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn linearizable_1m_ops() {
    let total = ops_from_env(1 << 20);
    let (ops, keys) = run_checked(total, 0x5EED_0001);
    assert!(ops >= total);
    println!("linearizability: {ops} operations on {keys} key histories checked");
}

#[test]
#[ignore = "long: 16M operations; run with --ignored (release recommended)"]
fn linearizable_long() {
    let (ops, keys) = run_checked(16 << 20, 0x5EED_0002);
    println!("linearizability: {ops} operations on {keys} key histories checked");
}

#[test]
fn broken_compare_and_swap_is_caught() {
    let plan = Plan {
        threads: 4,
        ops_per_phase: 16,
        keys_per_phase: 1,
        cas_percent: 60,
    };
    for attempt in 0..200u64 {
        let map = BrokenCas(SyncMap::new());
        let events = record(&map, &plan, 64, 0xBAD0 + attempt);
        if let Err(e) = check_history(&events) {
            assert!(e.contains("not linearizable"));
            println!("broken CAS caught on attempt {attempt}");
            return;
        }
    }
    panic!("the checker never rejected the broken compare-and-swap");
}

// ---- The checker on hand-written histories ----

fn ev(op: Op, ret: Ret, call: u64, done: u64) -> Event {
    Event {
        key: 0,
        op,
        ret,
        call,
        done,
    }
}

#[test]
fn checker_accepts_sequential_and_overlapping_histories() {
    // insert(1); get → 1; remove → 1; get → None, one after the other.
    let seq = [
        ev(Op::Insert(1), Ret::Opt(None), 1, 2),
        ev(Op::Get, Ret::Opt(Some(1)), 3, 4),
        ev(Op::Remove, Ret::Opt(Some(1)), 5, 6),
        ev(Op::Get, Ret::Opt(None), 7, 8),
    ];
    assert!(check_key(&seq).is_ok());
    // A get overlapping an insert may see either state.
    for seen in [None, Some(1)] {
        let h = [
            ev(Op::Insert(1), Ret::Opt(None), 1, 4),
            ev(Op::Get, Ret::Opt(seen), 2, 3),
        ];
        assert!(check_key(&h).is_ok(), "{seen:?}");
    }
    // Two overlapping try_inserts: one wins, the other sees it.
    let h = [
        ev(Op::TryInsert(1), Ret::Res(Err(2)), 1, 4),
        ev(Op::TryInsert(2), Ret::Res(Ok(2)), 2, 3),
    ];
    assert!(check_key(&h).is_ok());
}

#[test]
fn checker_rejects_violations() {
    // A stale read after the insert returned.
    let stale = [
        ev(Op::Insert(1), Ret::Opt(None), 1, 2),
        ev(Op::Get, Ret::Opt(None), 3, 4),
    ];
    assert!(check_key(&stale).is_err());
    // Two overlapping swaps from the same value both succeed.
    let double = [
        ev(Op::Insert(1), Ret::Opt(None), 1, 2),
        ev(Op::CompareAndSwap(1, 2), Ret::Res(Ok(1)), 3, 6),
        ev(Op::CompareAndSwap(1, 3), Ret::Res(Ok(1)), 4, 5),
    ];
    assert!(check_key(&double).is_err());
    // Two try_inserts that both win.
    let two_winners = [
        ev(Op::TryInsert(1), Ret::Res(Ok(1)), 1, 4),
        ev(Op::TryInsert(2), Ret::Res(Ok(2)), 2, 3),
    ];
    assert!(check_key(&two_winners).is_err());
    // A value that was never written.
    let invented = [ev(Op::Get, Ret::Opt(Some(9)), 1, 2)];
    assert!(check_key(&invented).is_err());
}
