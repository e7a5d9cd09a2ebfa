//! The entry state machine: one key's value slot, shared by the read map and the dirty map.
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
//! with `dirty.rs` (which expunges) and `map.rs` (which unexpunges):
//!
//! - **Deleted**: `k` has no value, and either there is no dirty map or `dirty[k]` is `e`.
//! - **Expunged**: `k` has no value, a dirty map exists, and `k` is *absent* from it.
//! - **Value**: `e` is live; it is in the read map, and in the dirty map too if one exists.
//! - A value may be replaced lock-free only while the slot is not expunged; so an expunged entry is
//!   revived only under the lock, by `Expunged → Deleted` and re-inserting it into the dirty map
//!   before the lock is released. Otherwise a store could land in an entry no dirty map can reach,
//!   and the next promotion would silently lose it.

use crate::primitive::{guard_into_inner, Arc, AtomicCell, Guard};
use crate::slot::Slot;
use crate::value::Ref;

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

/// One key's slot. The read map and the dirty map hold the *same* `Arc<Entry>`, so a lock-free
/// update through the read map is seen through the dirty map, and promotion need not copy.
pub(crate) struct Entry<V> {
    slot: AtomicCell<Slot<V>>,
}

/// Outcome of [`Entry::try_load_or_store`].
pub(crate) enum LoadOrStore<V> {
    /// A value was present; the offered value is handed back.
    Loaded(Ref<V>, V),
    /// The offered value was stored.
    Stored(Ref<V>),
    /// The entry is expunged; the caller must retry under the lock.
    Expunged(V),
}

/// Where an entry operation lets go of the value handles it loaded.
///
/// A handle loaded from a slot can become the *last* handle to its value if another thread
/// replaces the value meanwhile; dropping it then runs `V::drop`. That must never happen under
/// the map's lock (a `Drop` may call back into the map), so operations that run under the lock
/// pass the [`Garbage`](crate::dirty::Garbage)'s list, which keeps the handles until the lock is
/// released; lock-free callers pass [`DropNow`].
pub(crate) trait Release<V> {
    fn release(&mut self, guard: Guard<Slot<V>>);
}

/// Releases handles at once: for callers that do not hold the lock.
pub(crate) struct DropNow;

impl<V> Release<V> for DropNow {
    #[inline]
    fn release(&mut self, guard: Guard<Slot<V>>) {
        drop(guard);
    }
}

impl<V> Release<V> for Vec<Slot<V>> {
    #[inline]
    fn release(&mut self, guard: Guard<Slot<V>>) {
        // Only a live value owns anything; the other states drop as no-ops.
        if guard.value().is_some() {
            self.push(guard_into_inner(guard));
        }
    }
}

impl<V> Entry<V> {
    pub(crate) fn new(value: Arc<V>) -> Self {
        Entry {
            slot: AtomicCell::new(Slot::Value(value)),
        }
    }

    /// Go's `entry.load`: the live value, if any. Lock-free; on a hit it writes no shared memory.
    #[inline]
    pub(crate) fn load(&self) -> Option<Ref<V>> {
        let guard = self.slot.load();
        match &*guard {
            Slot::Value(_) => Some(Ref::new(guard)),
            _ => None,
        }
    }

    /// The slot's state at the moment of the call.
    pub(crate) fn state(&self, release: &mut impl Release<V>) -> EntryState {
        let guard = self.slot.load();
        let state = match &*guard {
            Slot::Value(_) => EntryState::Value,
            Slot::Deleted => EntryState::Deleted,
            Slot::Expunged => EntryState::Expunged,
        };
        release.release(guard);
        state
    }

    /// Go's `trySwap`: replaces the value unless the entry is expunged.
    /// `Ok(previous)` (`None` if it was deleted) or `Err(value)` if expunged. Lock-free only.
    pub(crate) fn try_swap(&self, value: Arc<V>) -> Result<Option<Arc<V>>, Arc<V>> {
        let mut current = self.slot.load();
        loop {
            if current.is_expunged() {
                return Err(value);
            }
            match self
                .slot
                .compare_exchange(&current, Slot::Value(Arc::clone(&value)))
            {
                Ok(previous) => {
                    // Release our handles first: once published, `value` may be replaced and
                    // dropped by another thread, leaving ours the last one, and a panicking
                    // `Drop` after the return value is built leaks it (rust-lang/rust#47949).
                    drop(current);
                    drop(value);
                    return Ok(previous.into_value());
                }
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Go's `swapLocked`: unconditional swap. The caller holds the dirty lock and has made sure
    /// the entry is not expunged (only the lock holder can expunge). The previous value is
    /// returned, never dropped here.
    pub(crate) fn swap_locked(&self, value: Arc<V>) -> Option<Arc<V>> {
        let previous = self.slot.swap(Slot::Value(value));
        debug_assert!(!previous.is_expunged(), "swap_locked on an expunged entry");
        previous.into_value()
    }

    /// Go's `tryLoadOrStore`. The value is moved into an `Arc` only when a store is attempted, so
    /// a hit allocates nothing.
    pub(crate) fn try_load_or_store(
        &self,
        value: V,
        release: &mut impl Release<V>,
    ) -> LoadOrStore<V> {
        let mut current = self.slot.load();
        match &*current {
            Slot::Expunged => return LoadOrStore::Expunged(value),
            Slot::Value(_) => return LoadOrStore::Loaded(Ref::new(current), value),
            Slot::Deleted => {}
        }
        let boxed = Arc::new(value);
        loop {
            match self
                .slot
                .compare_exchange(&current, Slot::Value(Arc::clone(&boxed)))
            {
                // `current` and `previous` are the deleted state: they own nothing.
                Ok(_previous) => return LoadOrStore::Stored(Ref::from_arc(boxed)),
                Err((offered, observed)) => {
                    drop(offered); // our own clone of `boxed`, never published
                    release.release(current);
                    current = observed;
                }
            }
            match &*current {
                Slot::Deleted => {}
                Slot::Expunged => return LoadOrStore::Expunged(unwrap_unpublished(boxed)),
                Slot::Value(_) => {
                    return LoadOrStore::Loaded(Ref::new(current), unwrap_unpublished(boxed))
                }
            }
        }
    }

    /// Go's `entry.delete`: value → deleted. Returns the removed value.
    pub(crate) fn delete(&self, release: &mut impl Release<V>) -> Option<Arc<V>> {
        let mut current = self.slot.load();
        loop {
            if current.value().is_none() {
                release.release(current);
                return None;
            }
            match self.slot.compare_exchange(&current, Slot::Deleted) {
                Ok(previous) => {
                    // `previous` keeps the value alive, so this is not the last handle; drop it
                    // before the return value is built: see `try_swap`.
                    drop(current);
                    return previous.into_value();
                }
                Err((_, observed)) => {
                    release.release(current);
                    current = observed;
                }
            }
        }
    }

    /// Deletes the value only if it is still `expected` (the same allocation). Used by `retain`,
    /// so a value replaced after the predicate saw the old one survives. Lock-free only.
    pub(crate) fn delete_if_same(&self, expected: &Arc<V>) -> bool {
        let current = Slot::Value(Arc::clone(expected));
        self.slot.compare_exchange(&current, Slot::Deleted).is_ok()
    }

    /// Go's `tryCompareAndSwap`: fails if the entry has no value or its value `!= old`.
    /// `old` is compared with `PartialEq`; the lock is never held here.
    pub(crate) fn compare_and_swap(&self, old: &V, new: Arc<V>) -> Result<Arc<V>, Arc<V>>
    where
        V: PartialEq,
    {
        let mut current = self.slot.load();
        loop {
            match current.value() {
                Some(v) if **v == *old => {}
                _ => {
                    // The guard may hold the last handle to a value replaced meanwhile; drop it
                    // before the return value is built (rust-lang/rust#47949, see map.rs).
                    drop(current);
                    return Err(new);
                }
            }
            match self
                .slot
                .compare_exchange(&current, Slot::Value(Arc::clone(&new)))
            {
                Ok(previous) => {
                    drop(current); // before the return value is built: see `try_swap`
                    drop(new);
                    return Ok(previous.into_value().expect("compared a live value"));
                }
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Go 1.20's `CompareAndDelete` loop: value == `old` → deleted. Lock-free only.
    pub(crate) fn compare_and_delete(&self, old: &V) -> Option<Arc<V>>
    where
        V: PartialEq,
    {
        let mut current = self.slot.load();
        loop {
            match current.value() {
                Some(v) if **v == *old => {}
                _ => return None,
            }
            match self.slot.compare_exchange(&current, Slot::Deleted) {
                Ok(previous) => {
                    drop(current); // before the return value is built: see `try_swap`
                    return previous.into_value();
                }
                Err((_, observed)) => current = observed,
            }
        }
    }

    /// Go's `unexpungeLocked`: expunged → deleted. Returns whether the entry was expunged, in
    /// which case the caller (holding the lock) must put it back into the dirty map before
    /// releasing the lock.
    pub(crate) fn unexpunge_locked(&self, release: &mut impl Release<V>) -> bool {
        match self.slot.compare_exchange(&Slot::Expunged, Slot::Deleted) {
            Ok(_) => true,
            Err((_, observed)) => {
                release.release(observed);
                false
            }
        }
    }

    /// Go's `tryExpungeLocked`: deleted → expunged, while a new dirty map is being built under
    /// the lock. Returns whether the entry is (now) expunged and so must be left out of it.
    pub(crate) fn try_expunge_locked(&self, release: &mut impl Release<V>) -> bool {
        let mut current = self.slot.load();
        loop {
            match &*current {
                Slot::Value(_) => {
                    release.release(current);
                    return false;
                }
                Slot::Expunged => return true,
                Slot::Deleted => {}
            }
            match self.slot.compare_exchange(&current, Slot::Expunged) {
                Ok(_) => return true,
                Err((_, observed)) => current = observed, // `current` was deleted: owns nothing
            }
        }
    }
}

/// Takes back a value whose `Arc` was never published (every exchange that offered it failed,
/// and a failed exchange keeps no reference), so this handle is the only one.
pub(crate) fn unwrap_unpublished<V>(boxed: Arc<V>) -> V {
    match Arc::try_unwrap(boxed) {
        Ok(value) => value,
        Err(_) => unreachable!("an unpublished Arc has exactly one owner"),
    }
}
