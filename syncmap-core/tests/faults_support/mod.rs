//! Fault machinery shared by the fault-injection tests (`faults.rs`, sequential;
//! `faults_concurrent.rs`, under concurrency): the key's `Hash`, `Eq`, `Clone` and `Drop`, the
//! value's `PartialEq` and `Drop`, and every user closure (through `Ctx::hit(CLOSURE)`) panic at
//! their n-th call once armed, and keys and values count their live copies so that a leak or a
//! second drop is caught.
//!
//! Debugging: `FAULTS_TRACE=1` prints a backtrace where each fault fires; `FAULTS_LOUD=1` prints
//! every injected panic, also one that escapes where it should not.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use syncmap_core::SyncMap;

const HASH: u8 = 1;
const EQ: u8 = 2;
const CLONE: u8 = 4;
const KEY_DROP: u8 = 8;
const VAL_EQ: u8 = 16;
const VAL_DROP: u8 = 32;
pub const CLOSURE: u8 = 64;
pub const KINDS: [(u8, &str); 8] = [
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
pub struct Ctx {
    armed: AtomicU8,
    countdown: AtomicI64,
    fired: AtomicBool,
    live_keys: AtomicI64,
    next_id: AtomicU64,
    live_values: Mutex<HashSet<u64>>,
}

impl Ctx {
    pub fn new() -> Arc<Self> {
        Arc::new(Ctx::default())
    }

    /// Panics if faults of `kind` are armed and this is the n-th armed call.
    pub fn hit(&self, kind: u8) {
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

    pub fn arm(&self, kinds: u8, n: i64) {
        self.fired.store(false, Ordering::SeqCst);
        self.countdown.store(n, Ordering::SeqCst);
        self.armed.store(kinds, Ordering::SeqCst);
    }

    pub fn disarm(&self) -> bool {
        self.armed.store(0, Ordering::SeqCst);
        self.fired.load(Ordering::SeqCst)
    }

    pub fn key(self: &Arc<Self>, k: u32) -> Key {
        self.live_keys.fetch_add(1, Ordering::SeqCst);
        Key {
            k,
            ctx: Arc::clone(self),
        }
    }

    pub fn val(self: &Arc<Self>, v: u64) -> Val {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.live_values.lock().unwrap().insert(id);
        Val {
            v,
            id,
            ctx: Arc::clone(self),
        }
    }

    /// Whether `value` has not been dropped yet. Reads only the accounting, so it may be asked
    /// of a value a held `Ref` points to without dereferencing it.
    #[allow(dead_code)] // faults.rs uses it; faults_concurrent.rs holds no Ref
    pub fn is_live(&self, value: &Val) -> bool {
        self.live_values.lock().unwrap().contains(&value.id)
    }

    pub fn assert_nothing_alive(&self, what: &str) {
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
pub struct Injected;

/// Silences the default hook's message for injected panics only.
pub fn quiet_injected_panics() {
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

pub struct Key {
    pub k: u32,
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

pub struct Val {
    pub v: u64,
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

pub type Map = SyncMap<Key, Val>;
pub type Contents = BTreeMap<u32, u64>;

/// Contents read with faults disarmed.
pub fn contents(map: &Map) -> Contents {
    let mut items = Contents::new();
    let _ = map.for_each(|k, v| {
        items.insert(k.k, v.v);
        ControlFlow::<()>::Continue(())
    });
    items
}

/// After a fault: invariants, usability, then drop and account for every object.
pub fn check_after(map: Map, ctx: &Arc<Ctx>, what: &str) {
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
