//! The hash table both the read map and the dirty map are made of.
//!
//! Buckets live densely in a `Vec` (so an iterator can resume by index over an immutable read
//! map), and a [`hashbrown::HashTable`] of indices finds them. Each bucket stores its key's hash:
//! the user's `Hash` runs once per operation, before any lock is taken, and never while the table
//! grows, is rebuilt or is copied. A panicking `Hash` therefore cannot leave a table half-moved,
//! and a panicking `Eq` only ever runs during a lookup, which changes nothing.

use crate::entry::Entry;
use crate::primitive::Arc;
use core::borrow::Borrow;
use hashbrown::HashTable;

/// One key and its shared entry.
pub(crate) struct Bucket<K, V> {
    pub(crate) hash: u64,
    pub(crate) key: K,
    pub(crate) entry: Arc<Entry<V>>,
}

pub(crate) struct Table<K, V> {
    buckets: Vec<Bucket<K, V>>,
    /// Positions in `buckets`, as `u32` to keep the index small (a table never holds 2^32 keys:
    /// that would take hundreds of GiB).
    index: HashTable<u32>,
}

impl<K, V> Table<K, V> {
    pub(crate) fn new() -> Self {
        Table {
            buckets: Vec::new(),
            index: HashTable::new(),
        }
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Table {
            buckets: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
        }
    }

    /// Builds a table from buckets with distinct keys. Calls no user code.
    pub(crate) fn from_buckets(buckets: Vec<Bucket<K, V>>, capacity: usize) -> Self {
        let mut table = Table::with_capacity(capacity.max(buckets.len()));
        for bucket in buckets {
            table.push_unique(bucket);
        }
        table
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    #[inline]
    pub(crate) fn buckets(&self) -> &[Bucket<K, V>] {
        &self.buckets
    }

    /// Finds `key`. Runs the user's `Eq` only on buckets whose full hash matches.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<&Bucket<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let buckets = &self.buckets;
        self.index
            .find(hash, |&i| {
                let bucket = &buckets[i as usize];
                bucket.hash == hash && bucket.key.borrow() == key
            })
            .map(|&i| &buckets[i as usize])
    }

    /// Appends a bucket whose key the caller knows is absent. Calls no user code.
    pub(crate) fn push_unique(&mut self, bucket: Bucket<K, V>) {
        let buckets = &self.buckets;
        let at = u32::try_from(buckets.len()).expect("a table holds fewer than 2^32 keys");
        self.index
            .insert_unique(bucket.hash, at, |&i| buckets[i as usize].hash);
        self.buckets.push(bucket);
    }

    /// Removes `key` and returns its bucket (the last bucket takes its place).
    pub(crate) fn swap_remove<Q>(&mut self, hash: u64, key: &Q) -> Option<Bucket<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let buckets = &self.buckets;
        let found = self.index.find_entry(hash, |&i| {
            let bucket = &buckets[i as usize];
            bucket.hash == hash && bucket.key.borrow() == key
        });
        // From here on no user code runs.
        let (at, _) = found.ok()?.remove();
        let at = at as usize;
        let removed = self.buckets.swap_remove(at);
        if let Some(moved) = self.buckets.get(at) {
            let last = self.buckets.len();
            let slot = self
                .index
                .find_mut(moved.hash, |&i| i as usize == last)
                .expect("table index out of sync");
            *slot = at as u32;
        }
        Some(removed)
    }

    /// Checks that the index and the buckets agree (for `check_invariants`).
    #[cfg(feature = "testing")]
    pub(crate) fn check_index(&self) -> Result<(), String> {
        if self.index.len() != self.buckets.len() {
            return Err(format!(
                "index has {} slots for {} buckets",
                self.index.len(),
                self.buckets.len()
            ));
        }
        for (at, bucket) in self.buckets.iter().enumerate() {
            if self
                .index
                .find(bucket.hash, |&i| i as usize == at)
                .is_none()
            {
                return Err(format!("bucket {at} is not indexed"));
            }
        }
        Ok(())
    }
}
