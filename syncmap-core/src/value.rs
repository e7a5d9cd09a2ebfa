//! How values are handed out: [`Ref`], a zero-copy guard, and [`OccupiedError`].

use crate::primitive::{guard_from_inner, guard_into_inner, Arc, Guard};
use crate::slot::Slot;
use core::fmt;
use core::ops::Deref;

/// A zero-copy handle to a value in a [`SyncMap`](crate::SyncMap).
///
/// Obtaining one takes no lock and, on the fast path, writes no shared memory: it is an
/// [arc-swap](https://docs.rs/arc-swap) guard, which records the loan in a slot owned by the
/// current thread. It dereferences to the value as it was when it was loaded; a later `insert` or
/// `remove` of the key does not change what this handle sees, and the old value is dropped when
/// the last handle to it goes.
///
/// Holding a `Ref` never blocks a writer and never deadlocks, even while the holder calls back
/// into the map. It is meant to be short-lived: each thread has a few fast loan slots, and when
/// many `Ref`s are held at once the extra ones fall back to an ordinary reference count. Convert
/// it with [`Ref::into_arc`] to keep the value for long.
///
/// ```
/// use syncmap_core::SyncMap;
///
/// let map = SyncMap::new();
/// map.insert("answer", 42);
/// let value = map.get("answer").unwrap();
/// assert_eq!(*value, 42);
/// map.insert("answer", 43); // does not wait for `value`
/// assert_eq!(*value, 42);
/// ```
pub struct Ref<V> {
    // Invariant: holds `Slot::Value`.
    guard: Guard<Slot<V>>,
}

impl<V> Ref<V> {
    /// Wraps a guard that holds a value.
    #[inline]
    pub(crate) fn new(guard: Guard<Slot<V>>) -> Self {
        debug_assert!(guard.value().is_some());
        Ref { guard }
    }

    #[inline]
    pub(crate) fn from_arc(value: Arc<V>) -> Self {
        Ref {
            guard: guard_from_inner(Slot::Value(value)),
        }
    }

    /// Converts the handle into an owned [`Arc`], which may be kept as long as needed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use syncmap_core::SyncMap;
    ///
    /// let map = SyncMap::new();
    /// map.insert(1, String::from("one"));
    /// let owned: Arc<String> = syncmap_core::Ref::into_arc(map.get(&1).unwrap());
    /// map.remove(&1);
    /// assert_eq!(*owned, "one");
    /// ```
    #[inline]
    pub fn into_arc(this: Self) -> Arc<V> {
        match guard_into_inner(this.guard) {
            Slot::Value(value) => value,
            _ => unreachable!("a Ref always holds a value"),
        }
    }

    /// Returns a new owned [`Arc`] to the value, keeping this handle.
    #[inline]
    pub fn to_arc(this: &Self) -> Arc<V> {
        Arc::clone(this.arc())
    }

    #[inline]
    pub(crate) fn as_arc(this: &Self) -> &Arc<V> {
        this.arc()
    }

    #[inline]
    fn arc(&self) -> &Arc<V> {
        match &*self.guard {
            Slot::Value(value) => value,
            _ => unreachable!("a Ref always holds a value"),
        }
    }
}

impl<V> Deref for Ref<V> {
    type Target = V;

    #[inline]
    fn deref(&self) -> &V {
        self.arc()
    }
}

impl<V> AsRef<V> for Ref<V> {
    #[inline]
    fn as_ref(&self) -> &V {
        self
    }
}

impl<V: fmt::Debug> fmt::Debug for Ref<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<V: fmt::Display> fmt::Display for Ref<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<V: PartialEq> PartialEq<V> for Ref<V> {
    fn eq(&self, other: &V) -> bool {
        **self == *other
    }
}

/// The error of [`SyncMap::try_insert`](crate::SyncMap::try_insert): the key already had a value.
///
/// It holds the value that is in the map and hands back the value that was not inserted.
pub struct OccupiedError<V> {
    /// The value already in the map.
    pub existing: Ref<V>,
    /// The value that was offered and not inserted.
    pub value: V,
}

impl<V: fmt::Debug> fmt::Debug for OccupiedError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedError")
            .field("existing", &self.existing)
            .field("value", &self.value)
            .finish()
    }
}

impl<V: fmt::Debug> fmt::Display for OccupiedError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key already has a value ({:?}); {:?} was not inserted",
            self.existing, self.value
        )
    }
}

impl<V: fmt::Debug> std::error::Error for OccupiedError<V> {}
