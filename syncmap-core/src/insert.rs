//! Insertions: Go's `Store`, `Swap` and `LoadOrStore`, and the insert-or-get family built on
//! `LoadOrStore`.
//!
//! A value and a key that are not inserted are dropped before the call builds its return value:
//! their `Drop` is user code, and a panic in a drop after a function's return value is built
//! would leak it (rust-lang/rust#47949), and with it a [`Ref`]'s guard.

use crate::map::SyncMap;
use crate::primitive::Arc;
use crate::value::{OccupiedError, Ref};
use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

/// Insertions.
impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Sets the value of `key` and returns the previous one (Go's `Store` and `Swap`).
    ///
    /// If the key is in the read map and not expunged this is one lock-free compare-and-swap.
    /// Otherwise it takes the lock; a brand-new key goes to the dirty map, which is first rebuilt
    /// from the read map if a promotion emptied it (Go's `dirtyLocked`: O(n) once per promotion).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2).as_deref(), Some(&1));
    /// ```
    #[doc(alias = "Store")]
    #[doc(alias = "Swap")]
    pub fn insert(&self, key: K, value: V) -> Option<Arc<V>> {
        let hash = self.hash(&key);
        crate::reclaim::finish(|| self.insert_in(self.domain.begin(), hash, key, value))
    }

    /// Inserts `value` if `key` has none (Go's `LoadOrStore`).
    ///
    /// `Ok` holds the inserted value. `Err` hands back the key and the offered value, with the
    /// value already present (see [`OccupiedError`], which `?` converts into a boxed error).
    /// Lock-free when the key is in the read map (a hit allocates nothing); finding the key only
    /// in the dirty map counts a miss.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// assert_eq!(*map.try_insert("k", 1).unwrap(), 1);
    /// let err = map.try_insert("k", 2).unwrap_err();
    /// assert_eq!((err.key, *err.existing, err.value), ("k", 1, 2));
    /// ```
    #[doc(alias = "LoadOrStore")]
    pub fn try_insert(&self, key: K, value: V) -> Result<Ref<'_, V>, OccupiedError<K, V>> {
        match self.load_or_store(key, value) {
            (inserted, None) => Ok(inserted),
            (existing, Some((value, key))) => Err(OccupiedError {
                key,
                existing: Ref::into_arc(existing),
                value,
            }),
        }
    }

    /// Returns the value of `key`, inserting `value` first if it has none (Go's `LoadOrStore`,
    /// without the `loaded` flag; see [`try_insert`](Self::try_insert) for it).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// assert_eq!(*map.get_or_insert("k", 1), 1);
    /// assert_eq!(*map.get_or_insert("k", 2), 1);
    /// ```
    pub fn get_or_insert(&self, key: K, value: V) -> Ref<'_, V> {
        let (found, rejected) = self.load_or_store(key, value);
        drop(rejected); // before the return value: see the module docs
        found
    }

    /// Go's `LoadOrStore` in full: the value of `key` (inserting `value` first if it has none)
    /// and whether it was already there (Go's `loaded`). When it was, `value` and `key` are
    /// dropped before this returns.
    ///
    /// Unlike [`try_insert`](Self::try_insert), whose error hands back an owned `Arc` of the
    /// value already present (so that it can travel as a `'static` error), this returns a
    /// [`Ref`] either way: no reference count is touched, so threads that keep finding the same
    /// key do not contend on it. Finding a value in the read map costs what a [`get`](Self::get)
    /// costs.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// let (value, loaded) = map.get_or_insert_full("k", 1);
    /// assert_eq!((*value, loaded), (1, false));
    /// let (value, loaded) = map.get_or_insert_full("k", 2);
    /// assert_eq!((*value, loaded), (1, true));
    /// ```
    #[doc(alias = "LoadOrStore")]
    pub fn get_or_insert_full(&self, key: K, value: V) -> (Ref<'_, V>, bool) {
        let (found, rejected) = self.load_or_store(key, value);
        let loaded = rejected.is_some();
        drop(rejected); // before the return value: see the module docs
        (found, loaded)
    }

    /// Returns the value of `key`, building it with `f` and inserting it first if the key has
    /// none.
    ///
    /// `f` runs only when the key has no value (a present key, in the read map or only in the
    /// dirty map, is returned without calling it), and never while the map's lock is held, so
    /// it may use the map. If several threads race on the same absent key, each may run its own
    /// `f`; exactly one value is inserted and returned to all of them, and the others are
    /// dropped. Use a value that is cheap to build and discard, or a `OnceLock` inside `V`, if
    /// `f` must run once.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let squares = SyncMap::new();
    /// assert_eq!(*squares.get_or_insert_with(12_u64, || 12 * 12), 144);
    /// assert_eq!(*squares.get_or_insert_with(12, || unreachable!()), 144);
    /// ```
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> Ref<'_, V> {
        if let Some(present) = self.get(&key) {
            drop(key); // before the return value: see the module docs
            return present;
        }
        self.get_or_insert(key, f())
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) with a borrowed key: a hit allocates
    /// nothing, and the owned key is made (`K::from(key)`) only to insert. For `String` keys
    /// looked up by `&str`, `Vec<u8>` by `&[u8]`, `Arc<str>` by `&str`, and so on.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let lengths: SyncMap<String, usize> = SyncMap::new();
    /// let word: &str = "syncmap";
    /// assert_eq!(*lengths.get_or_insert_with_ref(word, || word.len()), 7);
    /// assert_eq!(*lengths.get_or_insert_with_ref(word, || unreachable!()), 7); // no String built
    /// ```
    pub fn get_or_insert_with_ref<Q>(&self, key: &Q, f: impl FnOnce() -> V) -> Ref<'_, V>
    where
        K: Borrow<Q> + for<'q> From<&'q Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.get(key) {
            Some(present) => present,
            None => {
                let value = f();
                self.get_or_insert(K::from(key), value)
            }
        }
    }

    /// Returns the value of `key`, building it with the fallible `f` and inserting it first if
    /// the key has none; an error from `f` is returned and nothing is inserted.
    ///
    /// `f` runs at most once, only when the key has no value, and never under the map's lock
    /// (see [`get_or_insert_with`](Self::get_or_insert_with) for racing threads).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let ports: SyncMap<&str, u16> = SyncMap::new();
    /// assert_eq!(*ports.get_or_try_insert_with("http", || "80".parse()).unwrap(), 80);
    /// assert!(ports.get_or_try_insert_with("ssh", || "twenty-two".parse()).is_err());
    /// assert!(!ports.contains_key("ssh"));
    /// ```
    pub fn get_or_try_insert_with<E>(
        &self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<Ref<'_, V>, E> {
        if let Some(present) = self.get(&key) {
            drop(key); // before the return value: see the module docs
            return Ok(present);
        }
        match f() {
            Ok(value) => Ok(self.get_or_insert(key, value)),
            Err(error) => {
                drop(key);
                Err(error)
            }
        }
    }

    /// [`get_or_try_insert_with`](Self::get_or_try_insert_with) with a borrowed key, as
    /// [`get_or_insert_with_ref`](Self::get_or_insert_with_ref): a hit allocates nothing.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let config: SyncMap<String, u32> = SyncMap::new();
    /// let limit = config.get_or_try_insert_with_ref("limit", || "100".parse::<u32>());
    /// assert_eq!(*limit.unwrap(), 100);
    /// ```
    pub fn get_or_try_insert_with_ref<Q, E>(
        &self,
        key: &Q,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<Ref<'_, V>, E>
    where
        K: Borrow<Q> + for<'q> From<&'q Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.get(key) {
            Some(present) => Ok(present),
            None => {
                let value = f()?; // before the key is made: an error makes none
                Ok(self.get_or_insert(K::from(key), value))
            }
        }
    }

    /// Go's `LoadOrStore`: the value found or stored, as a [`Ref`], and, if a value was found,
    /// the offered value and the key handed back.
    ///
    /// The `Ref` comes first in either outcome: with a `Result` (the `Ref` at different places
    /// in `Ok` and `Err`), the hit and the slow path met through a copy of the result from
    /// memory that waited for the hit's stores (LoadOrStoreCollision, BENCHMARKS.md, "A
    /// load-or-store hit that does not wait for its own stores").
    fn load_or_store(&self, key: K, value: V) -> (Ref<'_, V>, Option<(V, K)>) {
        let hash = self.hash(&key);
        // Go's `Load` half first: a key with a value in the read map needs only a bare guard,
        // which the `Ref` keeps (as `get`), and no operation (Go's LoadOrStoreCollision).
        let guard = self.domain.enter();
        let read = self.shard(hash).read.load(&guard);
        if let Some(existing) = read.table.find(hash, &key).and_then(|e| e.load(&guard)) {
            let existing = existing.ptr();
            // SAFETY: loaded under `guard`, which the Ref keeps.
            return (unsafe { Ref::new(guard, existing) }, Some((value, key)));
        }
        self.load_or_store_slow(guard, hash, key, value)
    }

    /// [`load_or_store`](Self::load_or_store) once the read map has no value for the key, out
    /// of line.
    #[inline(never)]
    fn load_or_store_slow<'m>(
        &'m self,
        guard: crate::reclaim::Guard<'m>,
        hash: u64,
        key: K,
        value: V,
    ) -> (Ref<'m, V>, Option<(V, K)>) {
        crate::reclaim::finish(|| {
            // The guard goes on as the operation's (`adopt`), rather than being left and taken
            // again.
            let op = self.domain.adopt(guard);
            let (found, rejected) = match self.try_insert_in(&op, hash, key, value) {
                Ok(stored) => (stored.ptr(), None),
                Err((existing, value, key)) => (existing.ptr(), Some((value, key))),
            };
            // SAFETY: `found` was loaded or stored under `op`'s guard, which `into_guard` keeps
            // (or nests) for the Ref.
            (unsafe { Ref::new(op.into_guard(), found) }, rejected)
        })
    }
}
