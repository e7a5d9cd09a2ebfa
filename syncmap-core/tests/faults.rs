//! Fault injection (issue 5, part 6): the key's `Hash`, `Eq`, `Clone` and `Drop`, the value's
//! `PartialEq` and `Drop`, and every user closure panic at their n-th call, during every
//! operation, from every entry state; sequentially and under concurrency.
//!
//! After each injected panic: the operation took effect entirely or not at all (its key's
//! contents are the state before or after it; `retain` may stop part-way, keeping a subset),
//! Go's invariants hold (`check_invariants`), the map is still usable, and once the map is
//! dropped no key or value is alive and none was dropped twice. Keys whose `Hash` and `Eq`
//! disagree must give wrong answers at worst: no panic, no hang, no leak.
//!
//! Debugging: `FAULTS_ONLY="remove/dirty_only/key Drop"` runs one (operation, state, fault)
//! combination; `FAULTS_TRACE=1` prints a backtrace where each fault fires; `FAULTS_LOUD=1`
//! prints every injected panic, also one that escapes where it should not.
//!
//! Regressions found by this suite (fixed in `map.rs`):
//! - `remove` of a key only in the dirty map, key `Drop` fault at call 1: the key was unlinked
//!   under the lock, then the garbage's key `Drop` panicked before the entry was deleted, so
//!   `len` stayed one too high (`check_invariants`: "len counter says 6, 5 live values").
//! - `insert`/`try_insert`/`get_or_insert_with` on a read-map key, key `Drop` fault at call 1:
//!   the owned key was dropped after the return value was built, and a panic there leaks the
//!   return value (rust-lang/rust#47949); one or two values leaked.
//! - The same #47949 pattern under concurrency, found by `faults_under_concurrency` (an ASan run,
//!   round 29; about 1 round in 10,000 in release with `FAULTS_ROUNDS=10000`): a value `Drop`
//!   panicking in the last handle released at an operation's exit (the read guard of a stale
//!   read map in `get`/`remove`/`insert`/`try_insert`; `try_swap`'s own handle to the value it
//!   published; `compare_and_swap`'s entry handle after a `clear`; the refused value in
//!   `get_or_insert`) leaked the return value. Every such handle is now released before the
//!   return value is built; 160,000 rounds ran clean afterwards.
//! - With the reclaimer of issue 8: a key `Drop` panicking while a retired read map was freed
//!   stopped hashbrown's table drop, leaking the rest of its entries (`clear`, key `Drop` fault
//!   at call 1: 6 keys and 6 values leaked); tables now drop entries one by one. And a panic from
//!   garbage freed when an `Iter` was dropped stayed deferred and escaped from the test's next,
//!   unrelated operation; an `Iter` (like a `Ref` or a pinned session) now raises it when dropped.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use syncmap_core::{EntryState, Promotion, SyncMap};

const HASH: u8 = 1;
const EQ: u8 = 2;
const CLONE: u8 = 4;
const KEY_DROP: u8 = 8;
const VAL_EQ: u8 = 16;
const VAL_DROP: u8 = 32;
const CLOSURE: u8 = 64;
const KINDS: [(u8, &str); 8] = [
    (HASH, "Hash"),
    (EQ, "Eq"),
    (CLONE, "Clone"),
    (KEY_DROP, "key Drop"),
    (VAL_EQ, "value PartialEq"),
    (VAL_DROP, "value Drop"),
    (CLOSURE, "closure"),
    (0x7F, "any"),
];

/// Fault switchboard and live-object accounting for one map.
#[derive(Default)]
struct Ctx {
    armed: AtomicU8,
    countdown: AtomicI64,
    fired: AtomicBool,
    live_keys: AtomicI64,
    next_id: AtomicU64,
    live_values: Mutex<HashSet<u64>>,
}

impl Ctx {
    fn new() -> Arc<Self> {
        Arc::new(Ctx::default())
    }

    /// Panics if faults of `kind` are armed and this is the n-th armed call.
    fn hit(&self, kind: u8) {
        if self.armed.load(Ordering::SeqCst) & kind != 0
            && !thread::panicking()
            && self.countdown.fetch_sub(1, Ordering::SeqCst) == 1
        {
            self.fired.store(true, Ordering::SeqCst);
            if std::env::var_os("FAULTS_TRACE").is_some() {
                eprintln!("{}", std::backtrace::Backtrace::force_capture());
            }
            std::panic::panic_any(Injected);
        }
    }

    fn arm(&self, kinds: u8, n: i64) {
        self.fired.store(false, Ordering::SeqCst);
        self.countdown.store(n, Ordering::SeqCst);
        self.armed.store(kinds, Ordering::SeqCst);
    }

    fn disarm(&self) -> bool {
        self.armed.store(0, Ordering::SeqCst);
        self.fired.load(Ordering::SeqCst)
    }

    fn key(self: &Arc<Self>, k: u32) -> Key {
        self.live_keys.fetch_add(1, Ordering::SeqCst);
        Key {
            k,
            ctx: Arc::clone(self),
        }
    }

    fn val(self: &Arc<Self>, v: u64) -> Val {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.live_values.lock().unwrap().insert(id);
        Val {
            v,
            id,
            ctx: Arc::clone(self),
        }
    }

    fn assert_nothing_alive(&self, what: &str) {
        if let Err(e) = self.nothing_alive() {
            panic!("{what}: {e}");
        }
    }

    fn nothing_alive(&self) -> Result<(), String> {
        let keys = self.live_keys.load(Ordering::SeqCst);
        let values = self.live_values.lock().unwrap().len();
        if keys != 0 || values != 0 {
            return Err(format!("{keys} keys and {values} values leaked"));
        }
        Ok(())
    }
}

/// The payload of an injected panic.
struct Injected;

/// Silences the default hook's message for injected panics only.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::env::var_os("FAULTS_LOUD").is_some()
                || info.payload().downcast_ref::<Injected>().is_none()
            {
                default(info);
            }
        }));
    });
}

struct Key {
    k: u32,
    ctx: Arc<Ctx>,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.ctx.hit(HASH);
        self.k.hash(h);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.ctx.hit(EQ);
        self.k == other.k
    }
}

impl Eq for Key {}

impl Clone for Key {
    fn clone(&self) -> Self {
        self.ctx.hit(CLONE);
        self.ctx.key(self.k)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.k.cmp(&other.k)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.k)
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.ctx.live_keys.fetch_sub(1, Ordering::SeqCst);
        self.ctx.hit(KEY_DROP);
    }
}

struct Val {
    v: u64,
    id: u64,
    ctx: Arc<Ctx>,
}

impl PartialEq for Val {
    fn eq(&self, other: &Self) -> bool {
        self.ctx.hit(VAL_EQ);
        self.v == other.v
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        let was_live = self.ctx.live_values.lock().unwrap().remove(&self.id);
        assert!(was_live, "value {} dropped twice", self.id);
        self.ctx.hit(VAL_DROP);
    }
}

type Map = SyncMap<Key, Val>;
type Contents = BTreeMap<u32, u64>;

/// Contents read with faults disarmed.
fn contents(map: &Map) -> Contents {
    let mut items = Contents::new();
    let _ = map.for_each(|k, v| {
        items.insert(k.k, v.v);
        ControlFlow::<()>::Continue(())
    });
    items
}

const TARGET: u32 = 3;

/// Builds a map where key 3 is in a given state, and returns it with its contents (tracked
/// here, because reading them with a walk would promote the dirty map and change the state).
/// Values: key k ↦ 10k + 1.
fn setup(ctx: &Arc<Ctx>, state: &str, promotion: Promotion) -> (Map, Contents) {
    // Go's structure exactly, so that each setup state is the one named.
    let map: Map = SyncMap::builder().shards(1).promotion(promotion).build();
    let mut model = Contents::new();
    let mut put = |k: u32| {
        map.insert(ctx.key(k), ctx.val(u64::from(k) * 10 + 1));
        model.insert(k, u64::from(k) * 10 + 1);
    };
    let promote = || {
        let _ = map.for_each(|_, _| ControlFlow::<()>::Continue(()));
    };
    let others = [0, 1, 2, 4, 5];
    others.iter().for_each(|&k| put(k));
    let (expect, removed) = match state {
        "read" => {
            put(TARGET);
            promote();
            put(6); // rebuild: a dirty map holding 3 too, amended
            (Some(EntryState::Value), false)
        }
        "dirty_only" => {
            promote();
            put(TARGET);
            (None, false)
        }
        "deleted" => {
            put(TARGET);
            promote();
            put(6);
            map.remove(&ctx.key(TARGET));
            (Some(EntryState::Deleted), true)
        }
        "expunged" => {
            put(TARGET);
            promote();
            map.remove(&ctx.key(TARGET));
            put(6); // rebuild expunges 3
            (Some(EntryState::Expunged), true)
        }
        "absent_amended" => {
            promote();
            put(6);
            (None, false)
        }
        "absent_clean" => {
            promote();
            (None, false)
        }
        _ => unreachable!(),
    };
    if removed {
        model.remove(&TARGET);
    }
    let view = map.view();
    let in_read = view
        .read
        .iter()
        .find(|(k, _)| k.k == TARGET)
        .map(|(_, s)| *s);
    assert_eq!(in_read, expect, "setup {state}: {view:?}");
    let in_dirty = view
        .dirty_keys()
        .is_some_and(|d| d.iter().any(|k| k.k == TARGET));
    assert_eq!(
        in_dirty,
        matches!(state, "read" | "dirty_only" | "deleted"),
        "setup {state}: {view:?}"
    );
    (map, model)
}

const STATES: [&str; 6] = [
    "read",
    "dirty_only",
    "deleted",
    "expunged",
    "absent_amended",
    "absent_clean",
];

/// One operation under test: runs it, and says what the contents must become.
struct OpCase {
    name: &'static str,
    run: fn(&Map, &Arc<Ctx>, &Contents),
    /// The contents after a complete run.
    after: fn(&Contents) -> Contents,
    /// Whether a partial run (a subset between after and before) is acceptable.
    partial: bool,
}

fn same(c: &Contents) -> Contents {
    c.clone()
}

fn current(c: &Contents) -> u64 {
    c.get(&TARGET).copied().unwrap_or(31)
}

const NEW: u64 = 77;

fn cases() -> Vec<OpCase> {
    vec![
        OpCase {
            name: "get",
            run: |m, ctx, _| drop(m.get(&ctx.key(TARGET))),
            after: same,
            partial: false,
        },
        OpCase {
            name: "insert",
            run: |m, ctx, _| drop(m.insert(ctx.key(TARGET), ctx.val(NEW))),
            after: |c| {
                let mut c = c.clone();
                c.insert(TARGET, NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "insert_new_key",
            run: |m, ctx, _| drop(m.insert(ctx.key(9), ctx.val(NEW))),
            after: |c| {
                let mut c = c.clone();
                c.insert(9, NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "remove",
            run: |m, ctx, _| drop(m.remove(&ctx.key(TARGET))),
            after: |c| {
                let mut c = c.clone();
                c.remove(&TARGET);
                c
            },
            partial: false,
        },
        OpCase {
            name: "try_insert",
            run: |m, ctx, _| drop(m.try_insert(ctx.key(TARGET), ctx.val(NEW))),
            after: |c| {
                let mut c = c.clone();
                c.entry(TARGET).or_insert(NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "get_or_insert_with",
            run: |m, ctx, _| {
                drop(m.get_or_insert_with(ctx.key(TARGET), || {
                    ctx.hit(CLOSURE);
                    ctx.val(NEW)
                }))
            },
            after: |c| {
                let mut c = c.clone();
                c.entry(TARGET).or_insert(NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "compare_and_swap_match",
            run: |m, ctx, before| {
                let expected = ctx.val(current(before));
                drop(m.compare_and_swap(&ctx.key(TARGET), &expected, ctx.val(NEW)))
            },
            after: |c| {
                let mut c = c.clone();
                if let Some(v) = c.get_mut(&TARGET) {
                    *v = NEW;
                }
                c
            },
            partial: false,
        },
        OpCase {
            name: "compare_and_swap_mismatch",
            run: |m, ctx, _| {
                let expected = ctx.val(999);
                drop(m.compare_and_swap(&ctx.key(TARGET), &expected, ctx.val(NEW)))
            },
            after: same,
            partial: false,
        },
        OpCase {
            name: "compare_and_remove",
            run: |m, ctx, before| {
                let expected = ctx.val(current(before));
                drop(m.compare_and_remove(&ctx.key(TARGET), &expected))
            },
            after: |c| {
                let mut c = c.clone();
                c.remove(&TARGET);
                c
            },
            partial: false,
        },
        OpCase {
            name: "update",
            run: |m, ctx, _| {
                drop(m.update(&ctx.key(TARGET), |_| {
                    ctx.hit(CLOSURE);
                    ctx.val(NEW)
                }))
            },
            after: |c| {
                let mut c = c.clone();
                if let Some(v) = c.get_mut(&TARGET) {
                    *v = NEW;
                }
                c
            },
            partial: false,
        },
        OpCase {
            name: "update_or_insert_with",
            run: |m, ctx, _| {
                drop(m.update_or_insert_with(
                    ctx.key(TARGET),
                    |_| {
                        ctx.hit(CLOSURE);
                        ctx.val(NEW)
                    },
                    || {
                        ctx.hit(CLOSURE);
                        ctx.val(NEW)
                    },
                ))
            },
            after: |c| {
                let mut c = c.clone();
                c.insert(TARGET, NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "replace_if_same",
            run: |m, ctx, _| {
                if let Some(seen) = m.get_arc(&ctx.key(TARGET)) {
                    drop(m.replace_if_same(&ctx.key(TARGET), &seen, ctx.val(NEW)))
                }
            },
            after: |c| {
                let mut c = c.clone();
                if let Some(v) = c.get_mut(&TARGET) {
                    *v = NEW;
                }
                c
            },
            partial: false,
        },
        OpCase {
            name: "remove_if",
            run: |m, ctx, _| {
                drop(m.remove_if(&ctx.key(TARGET), |_| {
                    ctx.hit(CLOSURE);
                    true
                }))
            },
            after: |c| {
                let mut c = c.clone();
                c.remove(&TARGET);
                c
            },
            partial: false,
        },
        OpCase {
            name: "get_or_try_insert_with",
            run: |m, ctx, _| {
                drop(m.get_or_try_insert_with(ctx.key(TARGET), || {
                    ctx.hit(CLOSURE);
                    Ok::<_, ()>(ctx.val(NEW))
                }))
            },
            after: |c| {
                let mut c = c.clone();
                c.entry(TARGET).or_insert(NEW);
                c
            },
            partial: false,
        },
        OpCase {
            name: "keys_and_values",
            run: |m, _, _| {
                drop(m.keys().map(|k| k.k).collect::<Vec<_>>());
                drop(m.values().collect::<Vec<_>>());
            },
            after: same,
            partial: false,
        },
        OpCase {
            name: "for_each",
            run: |m, ctx, _| {
                let _ = m.for_each(|_, _| {
                    ctx.hit(CLOSURE);
                    ControlFlow::<()>::Continue(())
                });
            },
            after: same,
            partial: false,
        },
        OpCase {
            name: "iter",
            run: |m, _, _| drop(m.iter().collect::<Vec<_>>()),
            after: same,
            partial: false,
        },
        OpCase {
            name: "retain",
            run: |m, ctx, _| {
                m.retain(|k, _| {
                    ctx.hit(CLOSURE);
                    k.k % 2 == 0
                })
            },
            after: |c| {
                c.iter()
                    .filter(|(k, _)| *k % 2 == 0)
                    .map(|(k, v)| (*k, *v))
                    .collect()
            },
            partial: true,
        },
        OpCase {
            name: "clear",
            run: |m, _, _| m.clear(),
            after: |_| Contents::new(),
            partial: false,
        },
    ]
}

/// After a fault: invariants, usability, then drop and account for every object.
fn check_after(map: Map, ctx: &Arc<Ctx>, what: &str) {
    if let Err(e) = map.check_invariants() {
        panic!("{what}: invariants broken: {e}\n{:?}", map.view());
    }
    // Still usable.
    let before = contents(&map);
    assert!(map.insert(ctx.key(50), ctx.val(5)).is_none(), "{what}");
    assert_eq!(map.get(&ctx.key(50)).map(|v| v.v), Some(5), "{what}");
    for (k, v) in &before {
        assert_eq!(
            map.get(&ctx.key(*k)).map(|x| x.v),
            Some(*v),
            "{what}: key {k}"
        );
    }
    assert_eq!(map.remove(&ctx.key(50)).map(|v| v.v), Some(5), "{what}");
    assert_eq!(map.len(), before.len(), "{what}");
    map.check_invariants().unwrap();
    drop(map);
    ctx.assert_nothing_alive(what);
}

#[test]
fn every_fault_in_every_operation_from_every_state() {
    quiet_injected_panics();
    let (mut runs, mut injected) = (0u64, 0u64);
    let only = std::env::var("FAULTS_ONLY").unwrap_or_default();
    for promotion in [Promotion::DirtyLen, Promotion::AfterMisses(1)] {
        for state in STATES {
            for case in cases() {
                for (kinds, kind_name) in KINDS {
                    if !only.is_empty() && only != format!("{}/{state}/{kind_name}", case.name) {
                        continue;
                    }
                    for n in 1.. {
                        let ctx = Ctx::new();
                        let (map, before) = setup(&ctx, state, promotion);
                        let after = (case.after)(&before);
                        ctx.arm(kinds, n);
                        let outcome =
                            catch_unwind(AssertUnwindSafe(|| (case.run)(&map, &ctx, &before)));
                        let fired = ctx.disarm();
                        runs += 1;
                        let what = format!(
                            "{} from {state} ({promotion:?}), {kind_name} fault at call {n}",
                            case.name
                        );
                        let now = contents(&map);
                        match outcome {
                            Ok(()) => {
                                assert!(!fired, "{what}: fault fired but was swallowed");
                                assert_eq!(now, after, "{what}: completed run");
                            }
                            Err(payload) => {
                                assert!(payload.downcast_ref::<Injected>().is_some(), "{what}");
                                injected += 1;
                                let ok = now == before
                                    || now == after
                                    || (case.partial
                                        && now.iter().all(|(k, v)| before.get(k) == Some(v))
                                        && after.iter().all(|(k, v)| now.get(k) == Some(v)));
                                assert!(ok, "{what}: {before:?} → {now:?}, expected {after:?}");
                            }
                        }
                        check_after(map, &ctx, &what);
                        if !fired {
                            break; // the operation makes fewer than n such calls
                        }
                    }
                }
            }
        }
    }
    println!("faults: {runs} runs, {injected} injected panics, all recovered");
    assert!(injected > 1000);
}

/// Threads run random operations while faults fire at random calls; every panic is caught.
#[test]
fn faults_under_concurrency() {
    quiet_injected_panics();
    let rounds: usize = std::env::var("FAULTS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut injected = 0u64;
    for round in 0..rounds {
        let ctx = Ctx::new();
        let promotion = [
            Promotion::Amortized,
            Promotion::DirtyLen,
            Promotion::AfterMisses(1),
        ][round % 3];
        let map: Map = SyncMap::builder().promotion(promotion).build();
        let (kinds, _) = KINDS[round % KINDS.len()];
        ctx.arm(kinds, 50 + (round as i64 * 37) % 400);
        let panics: u64 = thread::scope(|s| {
            let handles: Vec<_> = (0..3u64)
                .map(|t| {
                    let (map, ctx) = (&map, &ctx);
                    s.spawn(move || {
                        let mut panics = 0;
                        let mut x = (round as u64 + 1) * 0x9E37_79B9 + t;
                        for i in 0..300u64 {
                            x = x
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            let k = ((x >> 33) % 16) as u32;
                            let r = catch_unwind(AssertUnwindSafe(|| match (x >> 20) % 11 {
                                0 | 1 => drop(map.get(&ctx.key(k))),
                                2 => drop(map.insert(ctx.key(k), ctx.val(i))),
                                3 => drop(map.remove(&ctx.key(k))),
                                4 => drop(map.try_insert(ctx.key(k), ctx.val(i))),
                                5 => {
                                    let e = ctx.val(i.saturating_sub(1));
                                    drop(map.compare_and_swap(&ctx.key(k), &e, ctx.val(i)))
                                }
                                6 => drop(map.get_or_insert_with(ctx.key(k), || {
                                    ctx.hit(CLOSURE);
                                    ctx.val(i)
                                })),
                                7 => drop(map.update(&ctx.key(k), |v| {
                                    ctx.hit(CLOSURE);
                                    ctx.val(v.v + 1)
                                })),
                                8 => drop(map.update_or_insert_with(
                                    ctx.key(k),
                                    |v| ctx.val(v.v + 1),
                                    || {
                                        ctx.hit(CLOSURE);
                                        ctx.val(i)
                                    },
                                )),
                                9 => {
                                    if let Some(seen) = map.get_arc(&ctx.key(k)) {
                                        if i % 2 == 0 {
                                            drop(map.remove_if_same(&ctx.key(k), &seen))
                                        } else {
                                            drop(map.replace_if_same(
                                                &ctx.key(k),
                                                &seen,
                                                ctx.val(i),
                                            ))
                                        }
                                    }
                                }
                                _ => {
                                    if i % 50 == 0 {
                                        map.clear()
                                    } else if i % 2 == 0 {
                                        // Break out with a value of our own.
                                        let found = map.for_each(|_, v| {
                                            ctx.hit(CLOSURE);
                                            if v.v % 2 == 0 {
                                                ControlFlow::Break(ctx.val(v.v))
                                            } else {
                                                ControlFlow::Continue(())
                                            }
                                        });
                                        drop(found);
                                    } else {
                                        map.retain(|_, v| {
                                            ctx.hit(CLOSURE);
                                            v.v % 3 != 0
                                        })
                                    }
                                }
                            }));
                            if let Err(p) = r {
                                assert!(p.downcast_ref::<Injected>().is_some());
                                panics += 1;
                            }
                        }
                        panics
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        ctx.disarm();
        injected += panics;
        assert!(panics <= 1, "one armed fault, {panics} panics");
        check_after(map, &ctx, &format!("concurrent round {round}"));
    }
    println!("faults under concurrency: {rounds} rounds, {injected} injected panics");
    assert!(injected > 0);
}

// ---- Keys whose Hash and Eq disagree ----

/// A key with a broken `Hash`/`Eq` contract, chosen by `mode`.
#[derive(Clone, Debug)]
struct Liar {
    k: u32,
    mode: u8,
    calls: Arc<AtomicU64>,
}

impl Hash for Liar {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        match self.mode {
            0 => n.hash(h),            // a different hash on every call
            1 => 0u8.hash(h),          // constant hash (legal, but with mode's Eq below)
            _ => (self.k % 3).hash(h), // coarse hash
        }
    }
}

impl PartialEq for Liar {
    fn eq(&self, other: &Self) -> bool {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        match self.mode {
            0 => self.k == other.k,
            1 => true,       // everything equal
            _ => n % 2 == 0, // flips between calls
        }
    }
}

impl Eq for Liar {}

#[test]
fn inconsistent_hash_and_eq_never_hang_or_leak() {
    for mode in 0..3u8 {
        for promotion in [Promotion::DirtyLen, Promotion::AfterMisses(1)] {
            let calls = Arc::new(AtomicU64::new(0));
            let ctx = Ctx::new();
            let map: SyncMap<Liar, Val> = SyncMap::builder().promotion(promotion).build();
            let key = |k: u32| Liar {
                k,
                mode,
                calls: Arc::clone(&calls),
            };
            thread::scope(|s| {
                for t in 0..3u64 {
                    let (map, ctx, key) = (&map, &ctx, &key);
                    s.spawn(move || {
                        for i in 0..400u64 {
                            let k = ((i * 7 + t * 13) % 10) as u32;
                            match i % 7 {
                                0 => drop(map.insert(key(k), ctx.val(i))),
                                1 => drop(map.get(&key(k))),
                                2 => drop(map.remove(&key(k))),
                                3 => drop(map.try_insert(key(k), ctx.val(i))),
                                4 => drop(map.compare_and_swap(&key(k), &ctx.val(i), ctx.val(i))),
                                5 => {
                                    let _ = map.iter().count();
                                }
                                _ if i % 100 == 6 => map.clear(),
                                _ => drop(map.compare_and_remove(&key(k), &ctx.val(i - 1))),
                            }
                        }
                    });
                }
            });
            // Wrong answers are allowed; leaks are not.
            let _ = map.len();
            drop(map);
            ctx.assert_nothing_alive("inconsistent keys");
        }
    }
}
