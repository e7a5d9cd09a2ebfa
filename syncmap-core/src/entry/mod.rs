//! The entry state machine: one key, its hash and its value slot, shared by the read map and the
//! dirty map.
//!
//! ```text
//!                 store / swap / CAS (lock-free)
//!               ┌───────────────┐
//!               ▼               │
//!   ┌────────► Value ───────────┘
//!   │            │ remove / compare_and_remove / retain (lock-free)
//!   │            ▼
//!   │         Deleted ──(dirty rebuild, under the lock)──► Expunged
//!   │            │  ▲                                          │
//!   └────────────┘  └───────(store, under the lock)────────────┘
//!  store / load-or-store                     (unexpunge, then dirty[key] = entry)
//!  (lock-free: the entry is still reachable from dirty)
//! ```
//!
//! Go's invariants for an entry `e` of key `k` (map.go), kept by the code in this file together
//! with `dirty.rs` (which expunges and unexpunges):
//!
//! - **Deleted**: `k` has no value, and either there is no dirty map or `dirty[k]` is `e`.
//! - **Expunged**: `k` has no value, a dirty map exists, and `k` is *absent* from it.
//! - **Value**: `e` is live; it is in the read map, and in the dirty map too if one exists.
//! - A value may be replaced lock-free only while the slot is not expunged; so an expunged entry is
//!   revived only under the lock, by `Expunged → Deleted` and re-inserting it into the dirty map
//!   before the lock is released. Otherwise a store could land in an entry no dirty map can reach,
//!   and the next promotion would silently lose it.
//!
//! The entry owns its key, so tables hold only pointers to entries ([`SharedEntry`], counted
//! handles) and a dirty rebuild copies pointers, never keys. Every operation here runs under a
//! reclamation guard; a value taken out of the slot is returned to the caller, who retires it
//! (see `slot.rs`).

mod shared;

pub(crate) use shared::SharedEntry;

use crate::primitive::{Arc, AtomicU32};
use crate::reclaim::Guard;
use crate::slot::{Loaded, Owned, Val, ValueSlot};

/// The observable state of an entry's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryState {
    /// The key has a value.
    Value,
    /// Deleted (Go's `nil`): still reachable from the dirty map, or there is no dirty map.
    Deleted,
    /// Expunged: deleted and left out of the current dirty map.
    Expunged,
}

/// One key and its slot. The read map and the dirty map hold the *same* entry (through
/// [`SharedEntry`] handles), so a lock-free update through the read map is seen through the
/// dirty map, and promotion need not copy.
pub(crate) struct Entry<K, V> {
    /// How many [`SharedEntry`] handles point here (see `shared.rs`).
    handles: AtomicU32,
    /// The low half of the key's 64-bit hash ([`short_hash`]): what tables index and compare.
    pub(crate) hash: u32,
    pub(crate) key: K,
    slot: ValueSlot<V>,
}

// The count and the short hash share one word: an entry of a `u64` key is three words. (Loom's
// atomics are larger.)
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Entry<u64, u64>>() == 24);

/// What an entry keeps of its key's 64-bit hash: the low 32 bits. The shard is chosen by bits of
/// the high half (`shard::shard_index`), and a table takes both its bucket index and its 7-bit
/// tag from these 32 (`table.rs`), so nothing else needs the rest.
#[inline]
pub(crate) fn short_hash(hash: u64) -> u32 {
    hash as u32
}

/// Outcome of [`Entry::try_load_or_store`].
pub(crate) enum LoadOrStore<'g, V> {
    /// A value was present; the offered value is handed back.
    Loaded(Val<'g, V>, V),
    /// The offered value was stored.
    Stored(Val<'g, V>),
    /// The entry is expunged; the caller must retry under the lock.
    Expunged(V),
}

impl<K, V> Entry<K, V> {
    /// An entry holding `value`, with its first handle.
    pub(crate) fn new_shared(hash: u64, key: K, value: Arc<V>) -> SharedEntry<K, V> {
        SharedEntry::new(Entry {
            handles: AtomicU32::new(1),
            hash: short_hash(hash),
            key,
            slot: ValueSlot::new(Owned::Value(value)),
        })
    }

    /// The key and the live value, if any, of an entry no table or guard can reach any more.
    pub(crate) fn into_parts(self) -> (K, Option<Arc<V>>) {
        (self.key, self.slot.into_owned().into_value())
    }

    /// Go's `entry.load`: the live value, if any. One acquire load; writes nothing.
    #[inline]
    pub(crate) fn load<'g>(&self, guard: &'g Guard<'_>) -> Option<Val<'g, V>> {
        self.slot.load(guard).value()
    }

    /// Whether the entry is expunged at the moment of the call (needs no guard: no value is
    /// read). Only the lock holder expunges or unexpunges, so under the lock the answer holds.
    pub(crate) fn is_expunged(&self) -> bool {
        self.slot.is_expunged()
    }

    /// The slot's state at the moment of the call.
    pub(crate) fn state(&self, guard: &Guard<'_>) -> EntryState {
        let current = self.slot.load(guard);
        if current.is_expunged() {
            EntryState::Expunged
        } else if current.is_deleted() {
            EntryState::Deleted
        } else {
            EntryState::Value
        }
    }

    /// Go's `trySwap`: replaces the value unless the entry is expunged.
    /// `Ok(previous)` (`None` if it was deleted) or `Err(value)` if expunged. Lock-free.
    pub(crate) fn try_swap(
        &self,
        guard: &Guard<'_>,
        value: Arc<V>,
    ) -> Result<Option<Arc<V>>, Arc<V>> {
        let mut current = self.slot.load(guard);
        let mut new = Owned::Value(value);
        loop {
            if current.is_expunged() {
                return Err(offered_value(new));
            }
            match self.slot.compare_exchange(current, new) {
                Ok((previous, _)) => return Ok(previous.into_value()),
                Err((offered, observed)) => (new, current) = (offered, observed),
            }
        }
    }

    /// Go's `swapLocked`: unconditional swap. The caller holds the dirty lock and has made sure
    /// the entry is not expunged (only the lock holder can expunge).
    pub(crate) fn swap_locked(&self, value: Arc<V>) -> Option<Arc<V>> {
        let previous = self.slot.swap(Owned::Value(value));
        debug_assert!(
            !matches!(previous, Owned::Expunged),
            "swap_locked on an expunged entry"
        );
        previous.into_value()
    }

    /// Go's `tryLoadOrStore`. The value is moved into an `Arc` only when a store is attempted, so
    /// a hit allocates nothing.
    pub(crate) fn try_load_or_store<'g>(
        &self,
        guard: &'g Guard<'_>,
        value: V,
    ) -> LoadOrStore<'g, V> {
        let mut current = self.slot.load(guard);
        if current.is_expunged() {
            return LoadOrStore::Expunged(value);
        }
        if let Some(existing) = current.value() {
            return LoadOrStore::Loaded(existing, value);
        }
        let mut new = Owned::Value(Arc::new(value));
        loop {
            match self.slot.compare_exchange(current, new) {
                // The previous state was deleted: it owns nothing.
                Ok((_, stored)) => {
                    return LoadOrStore::Stored(stored.value().expect("just stored a value"))
                }
                Err((offered, observed)) => (new, current) = (offered, observed),
            }
            if current.is_expunged() {
                return LoadOrStore::Expunged(unwrap_unpublished(offered_value(new)));
            }
            if let Some(existing) = current.value() {
                return LoadOrStore::Loaded(existing, unwrap_unpublished(offered_value(new)));
            }
        }
    }

    /// Go's `entry.delete`: value → deleted. Returns the removed value.
    pub(crate) fn delete(&self, guard: &Guard<'_>) -> Option<Arc<V>> {
        let mut current = self.slot.load(guard);
        loop {
            current.value()?;
            match self.slot.compare_exchange(current, Owned::Deleted) {
                Ok((previous, _)) => return previous.into_value(),
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Deletes the value only if it is still `expected` (the same allocation), for `retain`:
    /// a value replaced after the predicate saw the old one survives.
    pub(crate) fn delete_if_same(&self, guard: &Guard<'_>, expected: &V) -> Option<Arc<V>> {
        let current = self.slot.load(guard);
        if !current.is(expected) {
            return None;
        }
        self.slot
            .compare_exchange(current, Owned::Deleted)
            .ok()
            .and_then(|(previous, _)| previous.into_value())
    }

    /// Replaces the value with `f(value)`, calling `f` again on the newer value whenever another
    /// writer replaced it first. Returns the replaced value and the stored one, or `None` once
    /// the entry has no value. Lock-free; a value `f` built for a lost race is dropped here.
    pub(crate) fn update<'g>(
        &self,
        guard: &'g Guard<'_>,
        f: &mut impl FnMut(&V) -> V,
    ) -> Option<(Arc<V>, Val<'g, V>)> {
        let mut current = self.slot.load(guard);
        loop {
            let new = Owned::Value(Arc::new(f(current.value()?.get())));
            match self.slot.compare_exchange(current, new) {
                Ok((previous, stored)) => {
                    let previous = previous.into_value().expect("replaced a live value");
                    return Some((previous, stored.value().expect("stored a value")));
                }
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Replaces the value only if it is still `expected` (the same allocation): `Ok(previous)`,
    /// or `new` handed back. One exchange suffices: an allocation that left the slot can never
    /// come back while the caller's reference keeps it alive.
    pub(crate) fn replace_if_same(
        &self,
        guard: &Guard<'_>,
        expected: &V,
        new: Arc<V>,
    ) -> Result<Arc<V>, Arc<V>> {
        let current = self.slot.load(guard);
        if !current.is(expected) {
            return Err(new);
        }
        match self.slot.compare_exchange(current, Owned::Value(new)) {
            Ok((previous, _)) => Ok(previous.into_value().expect("replaced a live value")),
            Err((offered, _)) => Err(offered_value(offered)),
        }
    }

    /// Go's `tryCompareAndSwap`: fails if the entry has no value or its value `!= old`, handing
    /// `new` back. `old` is compared with `PartialEq`; the map's lock is never held here. `new`
    /// is put in its `Arc` only once a comparison has matched, so a failed compare allocates
    /// nothing.
    #[inline]
    pub(crate) fn compare_and_swap(&self, guard: &Guard<'_>, old: &V, new: V) -> Result<Arc<V>, V>
    where
        V: PartialEq,
    {
        let matches = |current: Loaded<'_, V>| current.value().is_some_and(|v| *v.get() == *old);
        let mut current = self.slot.load(guard);
        if !matches(current) {
            return Err(new);
        }
        let mut new = Owned::Value(Arc::new(new));
        loop {
            match self.slot.compare_exchange(current, new) {
                Ok((previous, _)) => {
                    return Ok(previous.into_value().expect("compared a live value"))
                }
                Err((offered, observed)) => (new, current) = (offered, observed),
            }
            if !matches(current) {
                return Err(unwrap_unpublished(offered_value(new)));
            }
        }
    }

    /// Go 1.20's `CompareAndDelete` loop: value == `old` → deleted.
    pub(crate) fn compare_and_delete(&self, guard: &Guard<'_>, old: &V) -> Option<Arc<V>>
    where
        V: PartialEq,
    {
        let mut current = self.slot.load(guard);
        loop {
            match current.value() {
                Some(v) if *v.get() == *old => {}
                _ => return None,
            }
            match self.slot.compare_exchange(current, Owned::Deleted) {
                Ok((previous, _)) => return previous.into_value(),
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Value or deleted → expunged, taking the value out: for an entry that `clear` unlinks
    /// from a dirty map while keeping the read snapshot (`Dirty::clear_in_place_locked`), so
    /// that an operation still holding the entry fails on it as on any expunged entry. Caller
    /// holds the lock; the entry is in no read map's table.
    pub(crate) fn take_expunging_locked(&self) -> Option<Arc<V>> {
        self.slot.swap(Owned::Expunged).into_value()
    }

    /// Go's `unexpungeLocked`: expunged → deleted. Returns whether the entry was expunged, in
    /// which case the caller (holding the lock) must put it back into the dirty map before
    /// releasing the lock.
    pub(crate) fn unexpunge_locked(&self, guard: &Guard<'_>) -> bool {
        let current = self.slot.load(guard);
        current.is_expunged() && self.slot.compare_exchange(current, Owned::Deleted).is_ok()
    }

    /// Go's `tryExpungeLocked`: deleted → expunged, while a new dirty map is being built under
    /// the lock. Returns whether the entry is (now) expunged and so must be left out of it.
    pub(crate) fn try_expunge_locked(&self, guard: &Guard<'_>) -> bool {
        let mut current = self.slot.load(guard);
        loop {
            if current.is_expunged() {
                return true;
            }
            if !current.is_deleted() {
                return false;
            }
            match self.slot.compare_exchange(current, Owned::Expunged) {
                Ok(_) => return true,
                Err((_, observed)) => current = observed,
            }
        }
    }
}

/// The value of an offered state.
fn offered_value<V>(offered: Owned<V>) -> Arc<V> {
    offered.into_value().expect("offered a value")
}

/// Takes back a value whose `Arc` was never published (every exchange that offered it failed),
/// so this handle is the only one.
pub(crate) fn unwrap_unpublished<V>(value: Arc<V>) -> V {
    match Arc::try_unwrap(value) {
        Ok(value) => value,
        Err(_) => unreachable!("an unpublished Arc has exactly one owner"),
    }
}
