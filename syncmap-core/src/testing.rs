//! Internal views for this workspace's tests (feature `testing`; not a stable API).

use crate::entry::{short_hash, EntryState, SharedEntry};
use crate::map::SyncMap;
use crate::shard::{shard_index, Shard};
use core::fmt::Debug;
use core::hash::{BuildHasher, Hash};

/// The internal state of a map, as seen under its lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View<K> {
    /// The read map's keys and entry states, sorted by key.
    pub read: Vec<(K, EntryState)>,
    /// Whether the read map is amended.
    pub amended: bool,
    /// The dirty map's keys and entry states, sorted by key; `None` if there is no dirty map.
    pub dirty: Option<Vec<(K, EntryState)>>,
    /// Misses since the last promotion.
    pub misses: usize,
}

impl<K: Clone> View<K> {
    /// The read map's keys.
    pub fn read_keys(&self) -> Vec<K> {
        self.read.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The dirty map's keys, if it exists.
    pub fn dirty_keys(&self) -> Option<Vec<K>> {
        self.dirty
            .as_ref()
            .map(|d| d.iter().map(|(k, _)| k.clone()).collect())
    }
}

impl<K, V, S> SyncMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Takes each shard's lock and reports the read maps, dirty maps, entry states and miss
    /// counts. With one shard this is Go's state exactly; with several it is their union: the
    /// read maps' keys, amended if any shard is, the keys of the dirty maps that exist (`None`
    /// if no shard has one), and the misses summed.
    pub fn view(&self) -> View<K>
    where
        K: Clone + Ord,
    {
        let guard = self.domain.enter();
        let mut view = View {
            read: Vec::new(),
            amended: false,
            dirty: None,
            misses: 0,
        };
        for shard in &*self.shards {
            let dirty = shard.lock();
            let read = shard.read.load(&guard);
            let list = |table: &crate::table::Table<K, V>| {
                table
                    .iter()
                    .map(|e| (e.key.clone(), e.state(&guard)))
                    .collect::<Vec<_>>()
            };
            view.read.extend(list(&read.table));
            view.amended |= read.amended();
            if let Some(table) = &dirty.table {
                view.dirty.get_or_insert_with(Vec::new).extend(list(table));
            }
            view.misses += dirty.misses + read.pending_misses();
        }
        view.read.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(dirty) = &mut view.dirty {
            dirty.sort_by(|a, b| a.0.cmp(&b.0));
        }
        view
    }

    /// The address of each shard's current read snapshot: equal before and after an operation
    /// that kept the snapshot (a clear in place, `read.rs`), different after one that published
    /// a new one (while the old one is still reachable, as under a held guard or `Ref`).
    pub fn snapshot_addresses(&self) -> Vec<usize> {
        let guard = self.domain.enter();
        self.shards
            .iter()
            .map(|shard| core::ptr::from_ref(shard.read.load(&guard)) as usize)
            .collect()
    }

    /// Checks Go's invariants over the read map, the dirty map and every entry, plus the length
    /// counter. Call it only while no operation is in flight.
    pub fn check_invariants(&self) -> Result<(), String>
    where
        K: Debug,
    {
        for (index, shard) in self.shards.iter().enumerate() {
            self.check_shard(index, shard)
                .map_err(|e| format!("shard {index}: {e}"))?;
        }
        Ok(())
    }

    fn check_shard(&self, index: usize, shard: &Shard<K, V>) -> Result<(), String>
    where
        K: Debug,
    {
        let guard = self.domain.enter();
        let dirty = shard.lock();
        let read = shard.read.load(&guard);
        if !shard.read.dirty_hint_names(dirty.table.as_ref()) {
            return Err("the dirty-table hint does not name the dirty table".into());
        }
        for entry in read
            .table
            .iter()
            .chain(dirty.table.iter().flat_map(|t| t.iter()))
        {
            // Entries keep only the low half of the hash; the shard comes from the high half.
            let hash = self.hash(&entry.key);
            if short_hash(hash) != entry.hash {
                return Err(format!(
                    "{:?} holds a hash that is not its key's",
                    entry.key
                ));
            }
            if shard_index(hash, self.shards.len()) != index {
                return Err(format!("{:?} is in the wrong shard", entry.key));
            }
            // Borrowed handles (`dirty.rs`): one count for an entry of the current tables,
            // whether one table holds it or both; handed-over snapshots count none.
            let count = SharedEntry::count(entry);
            if count != 1 {
                return Err(format!(
                    "{:?} has {count} counted handles, not 1",
                    entry.key
                ));
            }
        }
        read.table
            .check_index()
            .map_err(|e| format!("read map: {e}"))?;
        let mut live = 0_isize;
        match &dirty.table {
            None => {
                if read.amended() {
                    return Err("amended read map without a dirty map".into());
                }
                for b in read.table.iter() {
                    match b.state(&guard) {
                        EntryState::Expunged => {
                            return Err(format!("{:?} expunged without a dirty map", b.key))
                        }
                        EntryState::Value => live += 1,
                        EntryState::Deleted => {}
                    }
                }
            }
            Some(table) => {
                table.check_index().map_err(|e| format!("dirty map: {e}"))?;
                for b in read.table.iter() {
                    let in_dirty = table.find_key_of(b);
                    match (b.state(&guard), in_dirty) {
                        (EntryState::Expunged, Some(_)) => {
                            return Err(format!("{:?} is expunged but in the dirty map", b.key))
                        }
                        (EntryState::Expunged, None) => {}
                        (_, None) => {
                            return Err(format!(
                                "{:?} is not expunged but missing from the dirty map",
                                b.key
                            ))
                        }
                        (_, Some(d)) if !SharedEntry::ptr_eq(d, b) => {
                            return Err(format!(
                                "{:?}: read and dirty hold different entries",
                                b.key
                            ))
                        }
                        (_, Some(_)) => {}
                    }
                }
                for b in table.iter() {
                    let state = b.state(&guard);
                    if state == EntryState::Expunged {
                        return Err(format!("{:?} is expunged inside the dirty map", b.key));
                    }
                    if state == EntryState::Value {
                        live += 1;
                    }
                    if read.table.find_key_of(b).is_none() && !read.amended() {
                        return Err(format!(
                            "{:?} is only in the dirty map but not amended",
                            b.key
                        ));
                    }
                }
            }
        }
        let counted = read.len.load(crate::primitive::Ordering::SeqCst);
        if counted != live {
            return Err(format!("len counter says {counted}, {live} live values"));
        }
        Ok(())
    }
}

impl<K, V, S> crate::Builder<K, V, S> {
    /// Builds the map as if dropping its keys and values ran no code, whatever their types:
    /// replaced and removed values then take the path of drop-free types (per-thread batches,
    /// dropped a few at a time once out of every reader's reach), so that loom and the
    /// sanitizers can check that path with values whose `Drop` they watch.
    pub fn assume_quiet_drops(mut self) -> Self {
        self.config.assume_quiet_drops = true;
        self
    }
}
