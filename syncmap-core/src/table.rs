//! The hash table both the read map and the dirty map are made of: a
//! [`hashbrown::HashTable`] of shared entries.
//!
//! Each entry stores its key's hash: the user's `Hash` runs once per operation, before any lock
//! is taken, and never while a table grows, is rebuilt or is copied. A panicking `Hash` therefore
//! cannot leave a table half-moved, and a panicking `Eq` only ever runs during a lookup, which
//! changes nothing. Copying a table copies entry pointers, never keys.

use crate::entry::Entry;
use crate::primitive::Arc;
use core::borrow::Borrow;
use hashbrown::hash_table::{self, HashTable};
use std::panic::{self, AssertUnwindSafe};

pub(crate) struct Table<K, V> {
    entries: HashTable<Arc<Entry<K, V>>>,
}

/// An iterator over a table's entries.
pub(crate) type Entries<'t, K, V> = hash_table::Iter<'t, Arc<Entry<K, V>>>;

impl<K, V> Table<K, V> {
    pub(crate) fn new() -> Self {
        Table {
            entries: HashTable::new(),
        }
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Table {
            entries: HashTable::with_capacity(capacity),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    pub(crate) fn iter(&self) -> Entries<'_, K, V> {
        self.entries.iter()
    }

    /// Finds `key`. Runs the user's `Eq` only on entries whose full hash matches.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<&Arc<Entry<K, V>>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries
            .find(hash, |e| e.hash == hash && e.key.borrow() == key)
    }

    /// Adds an entry whose key the caller knows is absent. Calls no user code.
    pub(crate) fn push_unique(&mut self, entry: Arc<Entry<K, V>>) {
        self.entries.insert_unique(entry.hash, entry, |e| e.hash);
    }

    /// Removes `key` and returns its entry.
    pub(crate) fn remove<Q>(&mut self, hash: u64, key: &Q) -> Option<Arc<Entry<K, V>>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self
            .entries
            .find_entry(hash, |e| e.hash == hash && e.key.borrow() == key);
        // From here on no user code runs.
        Some(found.ok()?.remove().0)
    }

    /// The entries, by value, for a map being taken apart.
    pub(crate) fn into_entries(mut self) -> hash_table::IntoIter<Arc<Entry<K, V>>> {
        core::mem::take(&mut self.entries).into_iter()
    }

    /// Drops the entries one by one, so that a panicking key or value `Drop` (user code) does
    /// not leak the rest (hashbrown's own drop stops at the first panic); the first panic is
    /// raised again once every entry is dropped.
    fn drop_entries(&mut self) {
        let mut first_panic = None;
        for entry in self.entries.drain() {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(entry))) {
                first_panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    }

    /// Checks that every entry is found under its own hash (for `check_invariants`).
    #[cfg(feature = "testing")]
    pub(crate) fn check_index(&self) -> Result<(), String> {
        for (at, entry) in self.entries.iter().enumerate() {
            if self
                .entries
                .find(entry.hash, |e| Arc::ptr_eq(e, entry))
                .is_none()
            {
                return Err(format!("entry {at} is not found under its hash"));
            }
        }
        Ok(())
    }
}

impl<K, V> Drop for Table<K, V> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.drop_entries();
        }
        // While unwinding, a second panic would abort: let hashbrown drop what it can.
    }
}
