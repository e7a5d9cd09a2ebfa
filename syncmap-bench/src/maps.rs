//! The maps under test, behind one small trait with Go's `sync.Map` vocabulary.
//!
//! Keys and values are `u64` (Go's benchmarks use `int`). Every adapter is generic over the
//! hasher, so each map runs with std's SipHash (`RandomState`) and with foldhash.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::ControlFlow;
use std::sync::{Mutex, RwLock};
use syncmap_core::SyncMap;

/// A hasher builder usable by every map.
pub trait Hasher: BuildHasher + Default + Clone + Send + Sync + 'static {
    /// Short name for tables.
    const NAME: &'static str;
}

impl Hasher for std::hash::RandomState {
    const NAME: &'static str = "std";
}

impl Hasher for foldhash::fast::RandomState {
    const NAME: &'static str = "foldhash";
}

/// The operations the workloads need, named after Go's `sync.Map` methods.
pub trait BenchMap: Send + Sync + Sized + 'static {
    /// Display name.
    const NAME: &'static str;
    /// A new, empty map.
    fn new() -> Self;
    /// Go's `Load`.
    fn load(&self, k: u64) -> Option<u64>;
    /// Go's `Store`.
    fn store(&self, k: u64, v: u64);
    /// Go's `LoadOrStore`: `(actual, loaded)`.
    fn load_or_store(&self, k: u64, v: u64) -> (u64, bool);
    /// Go's `LoadAndDelete`.
    fn load_and_delete(&self, k: u64) -> Option<u64>;
    /// Go's `Delete`.
    fn delete(&self, k: u64) {
        self.load_and_delete(k);
    }
    /// Go's `Swap`.
    fn swap(&self, k: u64, v: u64) -> Option<u64>;
    /// Go's `CompareAndSwap`.
    fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool;
    /// Go's `CompareAndDelete`.
    fn compare_and_delete(&self, k: u64, old: u64) -> bool;
    /// Go's `Range`; `f` returns `false` to stop. `f` must not call back into the map (the
    /// lock-based peers hold a lock during the walk); workloads that mutate use
    /// [`first_key`](Self::first_key) and then act outside the walk.
    fn range(&self, f: impl FnMut(u64, u64) -> bool);
    /// The first key a `Range` would visit (a `Range` whose callback returns `false` at once).
    fn first_key(&self) -> Option<u64> {
        let mut first = None;
        self.range(|k, _| {
            first = Some(k);
            false
        });
        first
    }
    /// Go's `Clear`.
    fn clear(&self);
}

/// `syncmap_core::SyncMap`.
pub struct Ours<S>(pub SyncMap<u64, u64, S>);

impl<S: Hasher> BenchMap for Ours<S> {
    const NAME: &'static str = "SyncMap";
    fn new() -> Self {
        Ours(SyncMap::with_hasher(S::default()))
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.0.get(&k).map(|v| *v)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.0.insert(k, v);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
        let (value, loaded) = self.0.get_or_insert_full(k, v);
        (*value, loaded)
    }
    #[inline]
    fn load_and_delete(&self, k: u64) -> Option<u64> {
        self.0.remove(&k).map(|v| *v)
    }
    #[inline]
    fn swap(&self, k: u64, v: u64) -> Option<u64> {
        self.0.insert(k, v).map(|v| *v)
    }
    #[inline]
    fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
        self.0.compare_and_swap(&k, &old, new).is_ok()
    }
    #[inline]
    fn compare_and_delete(&self, k: u64, old: u64) -> bool {
        self.0.compare_and_remove(&k, &old).is_some()
    }
    fn range(&self, mut f: impl FnMut(u64, u64) -> bool) {
        let _ = self.0.for_each(|k, v| {
            if f(*k, *v) {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
    }
    fn clear(&self) {
        self.0.clear();
    }
}

/// Declares a `SyncMap` adapter built with non-default settings: a newtype over [`Ours`] that
/// delegates every operation to it, so each variant differs only in its name and its builder.
#[macro_export]
macro_rules! ours_variant {
    ($(#[$doc:meta])* $name:ident $(<const $n:ident: usize>)?, $label:expr, |$s:ident| $build:expr) => {
        $(#[$doc])*
        pub struct $name<S $(, const $n: usize)?>(pub $crate::maps::Ours<S>);

        impl<$s: $crate::maps::Hasher $(, const $n: usize)?> $crate::maps::BenchMap
            for $name<$s $(, $n)?>
        {
            const NAME: &'static str = $label;
            fn new() -> Self {
                $name($crate::maps::Ours($build))
            }
            #[inline]
            fn load(&self, k: u64) -> Option<u64> {
                self.0.load(k)
            }
            #[inline]
            fn store(&self, k: u64, v: u64) {
                self.0.store(k, v);
            }
            #[inline]
            fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
                self.0.load_or_store(k, v)
            }
            #[inline]
            fn load_and_delete(&self, k: u64) -> Option<u64> {
                self.0.load_and_delete(k)
            }
            #[inline]
            fn swap(&self, k: u64, v: u64) -> Option<u64> {
                self.0.swap(k, v)
            }
            #[inline]
            fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
                self.0.compare_and_swap(k, old, new)
            }
            #[inline]
            fn compare_and_delete(&self, k: u64, old: u64) -> bool {
                self.0.compare_and_delete(k, old)
            }
            fn range(&self, f: impl FnMut(u64, u64) -> bool) {
                self.0.range(f);
            }
            fn clear(&self) {
                self.0.clear();
            }
        }
    };
}

ours_variant!(
    /// `syncmap_core::SyncMap` built with `Reclaim::Batched(64)`: one barrier per 64 retired
    /// values instead of one per removing write.
    OursBatched,
    "SyncMap batched",
    |S| SyncMap::builder()
        .hasher(S::default())
        .reclaim(syncmap_core::Reclaim::Batched(64))
        .build()
);

ours_variant!(
    /// `syncmap_core::SyncMap` built with `shards(N)` (issue 9's shard-count figures).
    OursShards<const N: usize>,
    "SyncMap, shards(N)",
    |S| SyncMap::builder().shards(N).hasher(S::default()).build()
);

macro_rules! locked_std_map {
    ($name:ident, $display:literal, $lock:ident, $read:ident, $write:ident) => {
        #[doc = concat!("`", $display, "`.")]
        pub struct $name<S>(pub $lock<HashMap<u64, u64, S>>);

        impl<S: Hasher> BenchMap for $name<S> {
            const NAME: &'static str = $display;
            fn new() -> Self {
                $name($lock::new(HashMap::with_hasher(S::default())))
            }
            #[inline]
            fn load(&self, k: u64) -> Option<u64> {
                self.0.$read().unwrap().get(&k).copied()
            }
            #[inline]
            fn store(&self, k: u64, v: u64) {
                self.0.$write().unwrap().insert(k, v);
            }
            #[inline]
            fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
                match self.0.$write().unwrap().entry(k) {
                    std::collections::hash_map::Entry::Occupied(o) => (*o.get(), true),
                    std::collections::hash_map::Entry::Vacant(e) => (*e.insert(v), false),
                }
            }
            #[inline]
            fn load_and_delete(&self, k: u64) -> Option<u64> {
                self.0.$write().unwrap().remove(&k)
            }
            #[inline]
            fn swap(&self, k: u64, v: u64) -> Option<u64> {
                self.0.$write().unwrap().insert(k, v)
            }
            #[inline]
            fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
                match self.0.$write().unwrap().get_mut(&k) {
                    Some(v) if *v == old => {
                        *v = new;
                        true
                    }
                    _ => false,
                }
            }
            #[inline]
            fn compare_and_delete(&self, k: u64, old: u64) -> bool {
                let mut map = self.0.$write().unwrap();
                if map.get(&k) == Some(&old) {
                    map.remove(&k);
                    true
                } else {
                    false
                }
            }
            fn range(&self, mut f: impl FnMut(u64, u64) -> bool) {
                for (k, v) in self.0.$read().unwrap().iter() {
                    if !f(*k, *v) {
                        break;
                    }
                }
            }
            fn clear(&self) {
                self.0.$write().unwrap().clear();
            }
        }
    };
}

locked_std_map!(RwLockMap, "RwLock<HashMap>", RwLock, read, write);
locked_std_map!(MutexMap, "Mutex<HashMap>", Mutex, lock, lock);

/// `dashmap::DashMap`.
pub struct Dash<S>(pub dashmap::DashMap<u64, u64, S>);

impl<S: Hasher> BenchMap for Dash<S> {
    const NAME: &'static str = "dashmap";
    fn new() -> Self {
        Dash(dashmap::DashMap::with_hasher(S::default()))
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.0.get(&k).map(|r| *r)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.0.insert(k, v);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
        match self.0.entry(k) {
            dashmap::Entry::Occupied(o) => (*o.get(), true),
            dashmap::Entry::Vacant(e) => (*e.insert(v), false),
        }
    }
    #[inline]
    fn load_and_delete(&self, k: u64) -> Option<u64> {
        self.0.remove(&k).map(|(_, v)| v)
    }
    #[inline]
    fn swap(&self, k: u64, v: u64) -> Option<u64> {
        self.0.insert(k, v)
    }
    #[inline]
    fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
        match self.0.get_mut(&k) {
            Some(mut v) if *v == old => {
                *v = new;
                true
            }
            _ => false,
        }
    }
    #[inline]
    fn compare_and_delete(&self, k: u64, old: u64) -> bool {
        self.0.remove_if(&k, |_, v| *v == old).is_some()
    }
    fn range(&self, mut f: impl FnMut(u64, u64) -> bool) {
        for r in self.0.iter() {
            if !f(*r.key(), *r.value()) {
                break;
            }
        }
    }
    fn clear(&self) {
        self.0.clear();
    }
}

/// `papaya::HashMap` (one `pin` per operation).
pub struct Papaya<S>(pub papaya::HashMap<u64, u64, S>);

impl<S: Hasher> BenchMap for Papaya<S> {
    const NAME: &'static str = "papaya";
    fn new() -> Self {
        Papaya(papaya::HashMap::with_hasher(S::default()))
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.0.pin().get(&k).copied()
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        self.0.pin().insert(k, v);
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
        match self.0.pin().try_insert(k, v) {
            Ok(v) => (*v, false),
            Err(e) => (*e.current, true),
        }
    }
    #[inline]
    fn load_and_delete(&self, k: u64) -> Option<u64> {
        self.0.pin().remove(&k).copied()
    }
    #[inline]
    fn swap(&self, k: u64, v: u64) -> Option<u64> {
        self.0.pin().insert(k, v).copied()
    }
    #[inline]
    fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
        let map = self.0.pin();
        let result = map.compute(k, |entry| match entry {
            Some((_, v)) if *v == old => papaya::Operation::Insert(new),
            _ => papaya::Operation::Abort(()),
        });
        matches!(result, papaya::Compute::Updated { .. })
    }
    #[inline]
    fn compare_and_delete(&self, k: u64, old: u64) -> bool {
        let map = self.0.pin();
        let result = map.compute(k, |entry| match entry {
            Some((_, v)) if *v == old => papaya::Operation::Remove,
            _ => papaya::Operation::Abort(()),
        });
        matches!(result, papaya::Compute::Removed(..))
    }
    fn range(&self, mut f: impl FnMut(u64, u64) -> bool) {
        for (k, v) in self.0.pin().iter() {
            if !f(*k, *v) {
                break;
            }
        }
    }
    fn clear(&self) {
        self.0.pin().clear();
    }
}

/// `scc::HashIndex` (lock-free reads through `peek_with`).
pub struct SccIndex<S: Hasher>(pub scc::HashIndex<u64, u64, S>);

impl<S: Hasher> BenchMap for SccIndex<S> {
    const NAME: &'static str = "scc::HashIndex";
    fn new() -> Self {
        SccIndex(scc::HashIndex::with_hasher(S::default()))
    }
    #[inline]
    fn load(&self, k: u64) -> Option<u64> {
        self.0.peek_with(&k, |_, v| *v)
    }
    #[inline]
    fn store(&self, k: u64, v: u64) {
        match self.0.entry_sync(k) {
            scc::hash_index::Entry::Occupied(mut o) => o.update(v),
            scc::hash_index::Entry::Vacant(e) => {
                e.insert_entry(v);
            }
        }
    }
    #[inline]
    fn load_or_store(&self, k: u64, v: u64) -> (u64, bool) {
        match self.0.entry_sync(k) {
            scc::hash_index::Entry::Occupied(o) => (*o.get(), true),
            scc::hash_index::Entry::Vacant(e) => {
                e.insert_entry(v);
                (v, false)
            }
        }
    }
    #[inline]
    fn load_and_delete(&self, k: u64) -> Option<u64> {
        let o = self.0.get_sync(&k)?;
        let v = *o.get();
        o.remove_entry();
        Some(v)
    }
    #[inline]
    fn swap(&self, k: u64, v: u64) -> Option<u64> {
        match self.0.entry_sync(k) {
            scc::hash_index::Entry::Occupied(mut o) => {
                let old = *o.get();
                o.update(v);
                Some(old)
            }
            scc::hash_index::Entry::Vacant(e) => {
                e.insert_entry(v);
                None
            }
        }
    }
    #[inline]
    fn compare_and_swap(&self, k: u64, old: u64, new: u64) -> bool {
        match self.0.get_sync(&k) {
            Some(mut o) if *o.get() == old => {
                o.update(new);
                true
            }
            _ => false,
        }
    }
    #[inline]
    fn compare_and_delete(&self, k: u64, old: u64) -> bool {
        self.0.remove_if_sync(&k, |v| *v == old)
    }
    fn range(&self, mut f: impl FnMut(u64, u64) -> bool) {
        self.0.iter_sync(|k, v| f(*k, *v));
    }
    fn clear(&self) {
        self.0.clear_sync();
    }
}
