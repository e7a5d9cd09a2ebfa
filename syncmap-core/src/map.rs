//! [`SyncMap`]: the public API over the read map, the dirty map and the entries.

use crate::config::{Builder, Config, Promotion, Reclaim, DROP_FREE_BATCH};
use crate::dirty::Garbage;
use crate::iter::Cursor;
use crate::pin::Pinned;
use crate::primitive::Arc;
use crate::raw::{NeedsLock, Slow};
use crate::reclaim::Domain;
use crate::shard::{shard_index, Shard};
use crate::slot::Val;
use crate::table::Table;
use crate::value::Ref;
use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use core::mem;
use core::ops::ControlFlow;
use std::collections::hash_map::RandomState;

/// A concurrent hash map for read-mostly work: Go's `sync.Map`, in Rust.
///
/// Reads of keys that are already in the *read map* take no lock and write no shared memory.
/// New keys go to a mutex-guarded *dirty map* and move to the read map once enough lookups have
/// had to consult the dirty map. Keys are split by hash over several such pairs, *shards*, each
/// with its own lock (see the [crate documentation](crate) for the algorithm, its consistency
/// guarantees and its limits).
///
/// It is a good fit when each key is written once and read many times (caches that only grow,
/// registries filled at startup), or when threads work on disjoint sets of keys. For write-heavy
/// work, a sharded or lock-free map does better.
///
/// Values are handed out without cloning them: [`get`](Self::get) returns a [`Ref`] handle,
/// [`get_arc`](Self::get_arc) an owned [`Arc`], and [`get_cloned`](Self::get_cloned) a clone for
/// cheap `V`; [`pin`](Self::pin) starts a read session for many lookups. Keys need not be
/// `Clone`: each key lives once, in its entry, which both maps share.
///
/// ```
/// use syncmap_core::SyncMap;
///
/// let map: SyncMap<String, u32> = SyncMap::new();
/// map.insert("a".to_string(), 1);
/// assert_eq!(*map.get("a").unwrap(), 1); // lookups take a &str for String keys
/// assert!(map.try_insert("a".to_string(), 2).is_err()); // like Go's LoadOrStore, loaded
/// assert_eq!(map.remove("a").as_deref(), Some(&1));
/// assert!(map.is_empty());
/// ```
pub struct SyncMap<K, V, S = RandomState> {
    /// The read map / dirty map pairs, a power of two of them (`shard.rs`).
    pub(crate) shards: Box<[Shard<K, V>]>,
    /// Who is reading, and what waits for them to leave (`reclaim/`).
    pub(crate) domain: Domain<Garbage<K, V>>,
    pub(crate) hash_builder: S,
    pub(crate) config: Config,
}

impl<K, V> SyncMap<K, V, RandomState> {
    /// Creates an empty map.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u64, String> = SyncMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Creates an empty map whose first dirty map holds `capacity` keys without growing.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::builder().capacity(capacity).build()
    }

    /// Starts a [`Builder`] to set the capacity, hasher or promotion rule.
    pub fn builder() -> Builder<K, V, RandomState> {
        Builder::new()
    }
}

impl<K, V, S> SyncMap<K, V, S> {
    /// Creates an empty map that hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u64, u64> = SyncMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// ```
    pub fn with_hasher(hash_builder: S) -> Self {
        Self::with_capacity_and_hasher(0, hash_builder)
    }

    /// Creates an empty map with a capacity (see [`with_capacity`](SyncMap::with_capacity)) and
    /// a hasher.
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        Self::from_parts(
            Config {
                capacity,
                shards: crate::config::default_shards(),
                promotion: Promotion::default(),
                reclaim: Reclaim::default(),
                assume_quiet_drops: false,
            },
            hash_builder,
        )
    }

    /// Takes the map apart: for each shard, the one table that holds every key with a value
    /// (the dirty map if there is one, since it holds every entry not expunged; else the read
    /// map), each entry held by it alone.
    pub(crate) fn into_tables(self) -> Vec<Table<K, V>> {
        let SyncMap { shards, domain, .. } = self;
        // Pending garbage (replaced read maps and tables) holds entries too. The map is owned,
        // so no guard is alive and the domain frees all of it.
        drop(domain);
        let mut tables = Vec::with_capacity(shards.len());
        for shard in shards {
            let (mut read, dirty) = shard.into_parts();
            tables.push(match dirty.table {
                // (`read` handed its handles over to `table`: dropping it releases only the
                // entries `table` lacks.)
                Some(table) => {
                    drop(read);
                    table
                }
                None => core::mem::replace(&mut read.table, Table::new()),
            });
        }
        tables
    }

    /// The shard of a key's hash.
    #[inline(always)]
    pub(crate) fn shard(&self, hash: u64) -> &Shard<K, V> {
        &self.shards[shard_index(hash, self.shards.len())]
    }

    pub(crate) fn from_parts(config: Config, hash_builder: S) -> Self {
        let quiet_drops =
            config.assume_quiet_drops || (!mem::needs_drop::<K>() && !mem::needs_drop::<V>());
        SyncMap {
            shards: (0..config.shards).map(|_| Shard::new()).collect(),
            domain: Domain::new(
                match config.reclaim {
                    // Dropping a key or value with no drop glue runs no code, so when it
                    // happens is seen only in memory: `Eager` retires such garbage in
                    // per-thread batches (`reclaim/bags.rs`), which spares every write its look
                    // at the readers.
                    Reclaim::Eager if quiet_drops => Some(DROP_FREE_BATCH),
                    Reclaim::Eager => None,
                    Reclaim::Batched(n) => Some(n.max(1)),
                },
                quiet_drops,
            ),
            hash_builder,
            config,
        }
    }

    /// The map's hasher builder.
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// The number of keys with a value. O(1), lock-free.
    ///
    /// Exact whenever no write is in flight. While writes run concurrently it may be off by the
    /// number of writes in flight (each write updates the count just after its effect becomes
    /// visible), and it never goes below zero.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(1, "a");
    /// map.insert(2, "b");
    /// map.remove(&1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let guard = self.domain.enter();
        let len = self
            .shards
            .iter()
            .map(|shard| shard.read.load(&guard).len())
            .sum();
        drop(guard);
        crate::reclaim::raise_deferred(len)
    }

    /// Whether [`len`](Self::len) is zero, with the same cost and consistency.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every removed or replaced value that no reader can still see: what every thread's
    /// bag holds (one process-wide barrier) in [`Reclaim::Batched`] mode, and in the default
    /// mode for keys and values without drop glue (see the crate documentation, "Memory
    /// reclamation"); otherwise there is normally nothing to do. Values a held [`Ref`] (or
    /// pinned session, or iterator) could still see are dropped when the last of those is
    /// released.
    pub fn flush(&self) {
        crate::reclaim::finish(|| self.domain.flush());
    }
}

/// Lookups and removals.
impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Returns a zero-copy handle to the value of `key` (Go's `Load`).
    ///
    /// If the key is in the read map this takes no lock and writes no shared memory. Otherwise,
    /// if the dirty map may hold it, the lock is taken and a miss is counted, whether or not the
    /// key is found. A key added since the last promotion always "may" be there; any other key is
    /// usually ruled out by a filter, and then the answer comes without the lock (the default
    /// rule counts no miss for it; Go's rules, `DirtyLen` and `AfterMisses`, count it lock-free).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(String::from("k"), vec![1, 2, 3]);
    /// assert_eq!(map.get("k").map(|v| v.len()), Some(3));
    /// assert!(map.get("missing").is_none());
    /// ```
    #[doc(alias = "Load")]
    #[inline(always)]
    pub fn get<Q>(&self, key: &Q) -> Option<Ref<'_, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        // A hit in the read map needs only a bare guard, which the `Ref` keeps.
        let guard = self.domain.enter();
        let found = self.load_read(&guard, hash, key).map(|v| v.map(Val::ptr));
        match found {
            // SAFETY: loaded under `guard`, which the Ref keeps.
            Ok(Some(value)) => Some(unsafe { Ref::new(guard, value) }),
            Ok(None) => {
                drop(guard);
                crate::reclaim::raise_deferred(None)
            }
            Err(NeedsLock) => {
                drop(guard);
                self.get_slow(hash, key)
            }
        }
    }

    #[cold]
    fn get_slow<Q>(&self, hash: u64, key: &Q) -> Option<Ref<'_, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let value = self.load_slow(&op, hash, key)?.ptr();
            // SAFETY: loaded under `op`'s guard, which `into_guard` keeps (or nests) for the Ref.
            Some(unsafe { Ref::new(op.into_guard(), value) })
        })
    }

    /// Returns an owned handle to the value of `key`, which may be kept as long as needed.
    /// Same path as [`get`](Self::get), plus one reference-count increment.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(1, "one".to_string());
    /// let v = map.get_arc(&1).unwrap();
    /// map.clear();
    /// assert_eq!(*v, "one");
    /// ```
    pub fn get_arc<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).map(Ref::into_arc)
    }

    /// Returns a clone of the value of `key`. Convenient for cheap `V`.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert("hits", 3_u64);
    /// assert_eq!(map.get_cloned("hits"), Some(3));
    /// ```
    pub fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.with(key, V::clone)
    }

    /// Calls `f` with the value of `key`, without cloning it, and returns what `f` returns.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(7, String::from("seven"));
    /// assert_eq!(map.with(&7, |s| s.len()), Some(5));
    /// ```
    #[inline]
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.domain.enter();
        match self.load_read(&guard, hash, key) {
            Ok(found) => {
                let result = found.map(|v| f(v.get()));
                drop(guard);
                crate::reclaim::raise_deferred(result)
            }
            Err(NeedsLock) => {
                drop(guard);
                crate::reclaim::finish(|| {
                    let op = self.domain.begin();
                    self.load_slow(&op, hash, key).map(|v| f(v.get()))
                })
            }
        }
    }

    /// Returns a clone of the stored key equal to `key`, with a handle to its value: for keys
    /// whose stored copy matters (an interned `Arc<str>` found by `&str`). Same path and miss
    /// accounting as [`get`](Self::get); [`Pinned::get_key_value`] returns references instead.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use syncmap_core::SyncMap;
    /// let interned: SyncMap<Arc<str>, u32> = SyncMap::new();
    /// let stored: Arc<str> = Arc::from("token");
    /// interned.insert(Arc::clone(&stored), 1);
    /// let (key, value) = interned.get_key_value("token").unwrap();
    /// assert!(Arc::ptr_eq(&key, &stored));
    /// assert_eq!(*value, 1);
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(K, Ref<'_, V>)>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let (entry, _) = self.find(&op, hash, key, Slow::Load, Slow::Load)?;
            let value = entry.load(op.guard())?.ptr();
            let key = entry.key.clone();
            // SAFETY: loaded under `op`'s guard, which `into_guard` keeps (or nests) for the Ref.
            Some((key, unsafe { Ref::new(op.into_guard(), value) }))
        })
    }

    /// Whether `key` has a value. Same path and miss accounting as [`get`](Self::get).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with(key, |_| ()).is_some()
    }

    /// Starts a read session: one guard shared by every lookup and walk made through the
    /// returned handle, for hot loops that read many keys (papaya's `pin`).
    ///
    /// Lookups through the handle return plain references (`&V`) that live as long as the
    /// handle, with [`get`](Self::get)'s semantics and miss accounting. Like a [`Ref`], the
    /// handle delays the dropping of whatever the map's writers replace or remove while it is
    /// held, so keep sessions short, and it is not `Send`.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u32, u64> = (0..100).map(|i| (i, u64::from(i) * 2)).collect();
    /// let pinned = map.pin();
    /// let sum: u64 = (0..100).filter_map(|i| pinned.get(&i)).sum();
    /// assert_eq!(sum, 9900);
    /// assert!(pinned.contains_key(&7));
    /// assert_eq!(pinned.iter().count(), 100);
    /// ```
    pub fn pin(&self) -> Pinned<'_, K, V, S> {
        Pinned::new(self)
    }

    /// Removes `key` and returns its value (Go's `LoadAndDelete`, and `Delete`).
    ///
    /// A key in the read map is removed lock-free: its entry becomes *deleted* and is dropped from
    /// the maps by a later rebuild. A key whose read-map entry is already deleted, or that is
    /// absent, costs what a [`get`](Self::get) that finds nothing costs, and writes nothing. A
    /// key only in the dirty map is removed from it under the lock, counting a miss (found or
    /// not), as Go does since 1.15's fix of golang/go#40999.
    ///
    /// The returned `Arc` may be shared with outstanding [`Ref`]s; the value is dropped when the
    /// last of them goes.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(1, 'a');
    /// assert_eq!(map.remove(&1).as_deref(), Some(&'a'));
    /// assert_eq!(map.remove(&1), None);
    /// ```
    #[doc(alias = "LoadAndDelete")]
    #[doc(alias = "Delete")]
    pub fn remove<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| self.remove_value(hash, key))
    }

    /// Removes `key` and returns a clone of the stored key with its value, as
    /// [`remove`](Self::remove) does. The stored key is not moved out: the key's entry stays in
    /// the read map, deleted, until the next rebuild drops it (see [`remove`](Self::remove)).
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(String::from("k"), 1);
    /// let (key, value) = map.remove_entry("k").unwrap();
    /// assert_eq!((key.as_str(), *value), ("k", 1));
    /// ```
    pub fn remove_entry<Q>(&self, key: &Q) -> Option<(K, Arc<V>)>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let (key, value) = self.remove_in(&op, hash, key)?;
            Some((key.clone(), value))
        })
    }

    /// Replaces the value of `key` with `new` if its value equals `current` (Go's
    /// `CompareAndSwap`). Returns `Ok(previous)` on success and hands `new` back in `Err` on
    /// failure. An absent key never matches.
    ///
    /// Lock-free when the key is in the read map. `current` is compared with `V::eq`, which is
    /// never called while the map's lock is held. `new` is moved into its `Arc` only once the
    /// comparison matched: a failed call allocates nothing.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert("state", 1);
    /// assert_eq!(map.compare_and_swap("state", &1, 2).as_deref(), Ok(&1));
    /// assert_eq!(map.compare_and_swap("state", &1, 3), Err(3));
    /// assert_eq!(map.compare_and_swap("absent", &1, 3), Err(3));
    /// ```
    #[doc(alias = "CompareAndSwap")]
    #[doc(alias = "compare_exchange")]
    pub fn compare_and_swap<Q>(&self, key: &Q, current: &V, new: V) -> Result<Arc<V>, V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| self.compare_and_swap_in(hash, key, current, new))
    }

    /// Removes `key` if its value equals `current` (Go's `CompareAndDelete`), returning the
    /// removed value. An absent key never matches.
    ///
    /// As in Go, a key found only in the dirty map stays there, deleted, until the next rebuild
    /// (the comparison happens after the lookup), and the slow path counts a miss either way.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map = SyncMap::new();
    /// map.insert(1, "x");
    /// assert!(map.compare_and_remove(&1, &"y").is_none());
    /// assert!(map.compare_and_remove(&1, &"x").is_some());
    /// assert!(!map.contains_key(&1));
    /// ```
    #[doc(alias = "CompareAndDelete")]
    pub fn compare_and_remove<Q>(&self, key: &Q, current: &V) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let hash = self.hash(key);
        crate::reclaim::finish(|| {
            self.compare_and_remove_in(self.domain.begin(), hash, key, current)
        })
    }

    /// Calls `f` on each key and value, in no particular order, until it breaks (Go's `Range`).
    ///
    /// No key is visited twice. Each value is the one the key had at the moment it was visited;
    /// the walk is not a snapshot: writers run alongside it, and `f` may call any method of the
    /// map, including `for_each` itself. Keys present for the whole call are visited unless `f`
    /// breaks first. The walk visits the shards one after the other and takes no lock
    /// except once per shard, to promote its dirty map when it has walked the shard's whole read
    /// map and keys remain only in the dirty map; breaking out earlier promotes nothing (Go promotes on every `Range`, which made insert-then-range loops
    /// quadratic).
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use syncmap_core::SyncMap;
    ///
    /// let map: SyncMap<u32, u32> = (0..10).map(|i| (i, i * i)).collect();
    /// let mut sum = 0;
    /// map.for_each(|_, v| {
    ///     sum += v;
    ///     ControlFlow::<()>::Continue(())
    /// });
    /// assert_eq!(sum, 285);
    /// // Early exit: the Break value is returned.
    /// let found = map.for_each(|k, v| if *v == 49 { ControlFlow::Break(*k) } else { ControlFlow::Continue(()) });
    /// assert_eq!(found, ControlFlow::Break(7));
    /// ```
    #[doc(alias = "Range")]
    pub fn for_each<B>(&self, mut f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            Cursor::new(self, &op).walk(self, &op, |(entry, value, _)| f(&entry.key, value.get()))
        })
    }

    /// Removes every entry for which `f` returns `false`, walking the map as
    /// [`for_each`](Self::for_each) does. A value replaced after `f` judged the old one is kept.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.retain(|_, v| v % 2 == 0);
    /// assert_eq!(map.len(), 5);
    /// ```
    pub fn retain(&self, mut f: impl FnMut(&K, &V) -> bool) {
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            let mut removed_any = false;
            let _ = Cursor::new(self, &op).walk(self, &op, |(entry, value, read)| {
                if !f(&entry.key, value.get()) {
                    if let Some(removed) = entry.delete_if_same(op.guard(), value.get()) {
                        op.retire(Garbage::Value(removed));
                        read.add_len(-1);
                        removed_any = true;
                    }
                }
                ControlFlow::<()>::Continue(())
            });
            if removed_any {
                self.compact_mostly_deleted(&op);
            }
        })
    }

    /// Publishes the dirty map as the read map if it holds keys the read map lacks, so that
    /// every key is then read lock-free: after a bulk load (`collect`, `extend`, `clone`), which
    /// would otherwise leave the keys to be promoted by the misses of later reads.
    pub(crate) fn settle(&self) {
        crate::reclaim::finish(|| {
            let op = self.domain.begin();
            for shard in &*self.shards {
                if shard.read.load(op.guard()).amended() {
                    self.promote_for_iteration(shard, &op);
                }
            }
        });
    }

    /// Removes every key (Go 1.23's `Clear`).
    ///
    /// Returns at once, without allocating, if the map is already empty. Values are dropped
    /// outside the lock, once no [`Ref`] or `Arc` holds them. A write racing with `clear` is
    /// ordered either before it (and removed) or after it. The shards are cleared one after the
    /// other, each atomically under its own lock (with one shard, the whole `clear` is atomic,
    /// as Go's). A shard whose dirty map held at most one key keeps that map's table, emptied
    /// (304 bytes at most), for its next new key; if the shard's read map held no entry besides
    /// (a map cleared and given a key again, over and over), the shard also keeps its read
    /// snapshot, and the clear allocates nothing.
    ///
    /// ```
    /// use syncmap_core::SyncMap;
    /// let map: SyncMap<u8, u8> = (0..10).map(|i| (i, i)).collect();
    /// map.clear();
    /// assert!(map.is_empty());
    /// assert!(map.get(&3).is_none());
    /// ```
    #[doc(alias = "Clear")]
    pub fn clear(&self) {
        crate::reclaim::finish(|| self.clear_in(&self.domain.begin()))
    }
}
