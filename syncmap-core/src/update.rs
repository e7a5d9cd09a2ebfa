//! Read-modify-write on one key: computed updates, and conditional replace and remove by the
//! identity of a value the caller holds, for values that are not `Clone` or `PartialEq` (such as
//! `Arc<dyn Plugin>`). Not in Go's API; each is a compare-and-swap loop on the entry's slot,
//! lock-free when the key is in the read map.
//!
//! Miss accounting follows the Go operation each one resembles: `update` and `replace_if_same`
//! count as `CompareAndSwap` (a miss only when the key is found in the dirty map), `remove_if`
//! and `remove_if_same` as `CompareAndDelete`, and the insert of `update_or_insert_with` as
//! `LoadOrStore`.

use crate::dirty::Garbage;
use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::raw::{count_removed, MapOp, Slow};
use crate::slot::Val;
use crate::value::Ref;
use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

/// Updates and conditional writes.
impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Replaces the value of `key` with `f(&value)`, atomically, and returns the new value;
    /// `None` (without calling `f`) if the key has no value.
    ///
    /// Atomic: no write to the key is lost between reading the value and storing `f`'s result.
    /// If another thread replaces the value first, `f` runs again on the newer value (the result
    /// built from the older one is dropped), so `f` runs at least once and may run several
    /// times under contention: keep it free of side effects. It never runs under the map's lock
    /// and may use the map, but a closure that itself writes `key` defeats every attempt and
    /// retries forever, like any compare-and-swap loop. `V` need not be `Clone` or `PartialEq`.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let hits: SyncMap<&str, u64> = SyncMap::new();
    /// hits.insert("/", 0);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| for _ in 0..100 { hits.update("/", |n| n + 1); });
    ///     }
    /// });
    /// assert_eq!(*hits.get("/").unwrap(), 400);
    /// assert!(hits.update("/missing", |n| n + 1).is_none());
    /// ```
    #[doc(alias = "alter")]
    #[doc(alias = "compute")]
    pub fn update<Q>(&self, key: &Q, mut f: impl FnMut(&V) -> V) -> Option<Ref<'_, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let stored = self.update_in(&op, hash, key, &mut f)?.ptr();
            // SAFETY: stored under `op`'s guard, which `into_guard` keeps (or nests) for the Ref.
            Some(unsafe { Ref::new(op.into_guard(), stored) })
        })
    }

    /// Replaces the value of `key` with `update(&value)` as [`update`](Self::update) does, or,
    /// if the key has no value, inserts `insert()`; returns the value now stored.
    ///
    /// `insert` runs at most once, only when the key has no value; `update` may run several
    /// times under contention (see [`update`](Self::update)). If another thread inserts the key
    /// first, `update` is applied to its value and the built value is dropped. Neither closure
    /// runs under the map's lock.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let words: SyncMap<String, usize> = SyncMap::new();
    /// for word in "the cat and the hat".split(' ') {
    ///     words.update_or_insert_with(word.to_string(), |n| n + 1, || 1);
    /// }
    /// assert_eq!(*words.get("the").unwrap(), 2);
    /// assert_eq!(*words.get("cat").unwrap(), 1);
    /// ```
    #[doc(alias = "upsert")]
    pub fn update_or_insert_with(
        &self,
        key: K,
        mut update: impl FnMut(&V) -> V,
        insert: impl FnOnce() -> V,
    ) -> Ref<'_, V> {
        let hash = self.hash(&key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let (mut key, mut insert, mut offered) = (key, Some(insert), None);
            let stored = loop {
                if let Some(stored) = self.update_in(&op, hash, &key, &mut update) {
                    // Before the return value: see `insert.rs`.
                    drop((key, offered));
                    break stored.ptr();
                }
                let value = match (offered.take(), insert.take()) {
                    (Some(value), _) => value,
                    (None, Some(insert)) => insert(),
                    (None, None) => unreachable!("a value built by `insert` is kept until stored"),
                };
                match self.try_insert_in(&op, hash, key, value) {
                    Ok(stored) => break stored.ptr(),
                    // Inserted meanwhile: update that value, keeping ours in case it goes again.
                    Err((_, value, unused_key)) => (offered, key) = (Some(value), unused_key),
                }
            };
            // SAFETY: loaded or stored under `op`'s guard, which `into_guard` keeps (or nests)
            // for the Ref.
            unsafe { Ref::new(op.into_guard(), stored) }
        })
    }

    /// Replaces the value of `key` with `new` only if it is still the value `current` refers
    /// to: the same allocation, compared by address, never with `PartialEq`. Returns the
    /// replaced value, or hands `new` back.
    ///
    /// `current` must refer into the map's own value, as a [`Ref`], an `Arc` from
    /// [`get_arc`](Self::get_arc) or [`insert`](Self::insert), or a reference from a
    /// [`pin`](Self::pin) session does: "replace this plugin only if it is still the one I
    /// saw". An equal value elsewhere never matches. While `current` is borrowed its allocation
    /// stays alive, so no later value can reuse its address (no ABA).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use syncmap_core::SyncMap;
    ///
    /// trait Plugin: Send + Sync { fn version(&self) -> u32; }
    /// struct V(u32);
    /// impl Plugin for V { fn version(&self) -> u32 { self.0 } }
    ///
    /// let plugins: SyncMap<&str, Box<dyn Plugin>> = SyncMap::new();
    /// plugins.insert("auth", Box::new(V(1)));
    /// let seen = plugins.get_arc("auth").unwrap();
    /// assert!(plugins.replace_if_same("auth", &seen, Box::new(V(2))).is_ok());
    /// // `seen` is no longer the current plugin: a second replace based on it fails.
    /// assert!(plugins.replace_if_same("auth", &seen, Box::new(V(3))).is_err());
    /// assert_eq!(plugins.get("auth").unwrap().version(), 2);
    /// ```
    #[doc(alias = "compare_exchange")]
    pub fn replace_if_same<Q>(&self, key: &Q, current: &V, new: V) -> Result<Arc<V>, V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let Some((entry, _)) = self.find(&op, hash, key, Slow::Compare, Slow::Compare) else {
                return Err(new);
            };
            match entry.replace_if_same(op.guard(), current, Arc::new(new)) {
                Ok(previous) => Ok(Self::end_handing_back(op, Some(previous)).expect("a value")),
                Err(new) => Err(crate::entry::unwrap_unpublished(new)),
            }
        })
    }

    /// Removes `key` only if its value is still the one `current` refers to (the same
    /// allocation; see [`replace_if_same`](Self::replace_if_same)), and returns it.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let sessions: SyncMap<u32, String> = SyncMap::new();
    /// sessions.insert(7, "alice".to_string());
    /// let seen = sessions.get(&7).unwrap();
    /// sessions.insert(7, "bob".to_string()); // replaced meanwhile
    /// assert!(sessions.remove_if_same(&7, &seen).is_none()); // bob's session stays
    /// let current = sessions.get(&7).unwrap();
    /// assert!(sessions.remove_if_same(&7, &current).is_some());
    /// ```
    pub fn remove_if_same<Q>(&self, key: &Q, current: &V) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_if_in(key, |value| core::ptr::eq(value, current))
    }

    /// Removes `key` if `f` returns `true` for its value, atomically: the value removed is the
    /// one `f` approved. If another thread replaces the value first, `f` runs again on the newer
    /// one (so it may run several times; it never runs under the map's lock).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let leases: SyncMap<&str, u64> = [("a", 10), ("b", 99)].into_iter().collect();
    /// assert!(leases.remove_if("a", |expiry| *expiry < 50).is_some());
    /// assert!(leases.remove_if("b", |expiry| *expiry < 50).is_none());
    /// assert_eq!(leases.len(), 1);
    /// ```
    pub fn remove_if<Q>(&self, key: &Q, f: impl FnMut(&V) -> bool) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_if_in(key, f)
    }

    fn remove_if_in<Q>(&self, key: &Q, mut f: impl FnMut(&V) -> bool) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let (entry, read) = self.find(&op, hash, key, Slow::Load, Slow::Load)?;
            loop {
                let value = entry.load(op.guard())?;
                if !f(value.get()) {
                    return None;
                }
                if let Some(removed) = entry.delete_if_same(op.guard(), value.get()) {
                    let compact = count_removed(read);
                    return self.end_removing(op, hash, removed, compact);
                }
            }
        })
    }

    /// The update path: the entry (as `CompareAndSwap` finds it), then the entry's loop.
    fn update_in<'g, Q>(
        &self,
        op: &'g MapOp<'_, K, V>,
        hash: u64,
        key: &Q,
        f: &mut impl FnMut(&V) -> V,
    ) -> Option<Val<'g, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let (entry, _) = self.find(op, hash, key, Slow::Compare, Slow::Compare)?;
        let (previous, stored) = entry.update(op.guard(), f)?;
        op.retire(Garbage::Value(previous));
        Some(stored)
    }
}
