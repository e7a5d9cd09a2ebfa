//! How values are handed out: [`Ref`], a zero-copy handle, and [`OccupiedError`], which hands
//! back what `try_insert` could not insert.

use crate::primitive::Arc;
use crate::reclaim::{self, Guard};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::ptr::NonNull;

/// A zero-copy handle to a value in a [`SyncMap`](crate::SyncMap).
///
/// Obtaining one takes no lock and writes no shared memory: it holds the map's reclamation
/// guard for the current thread (see the crate documentation), and dereferences straight to the
/// value in the map. It shows the value as it was when it was looked up; a later `insert` or
/// `remove` of the key does not change what this handle sees.
///
/// # What holding one costs
///
/// Holding a `Ref` never blocks a writer and never deadlocks, even while the holder calls back
/// into the map. But while it is held, nothing that any thread removes or replaces *in this map*
/// afterwards can be dropped: such garbage waits, and the last guard or `Ref` released frees it
/// (so a replaced value's `Drop` runs when this `Ref` goes, not when it was replaced). Keep a
/// `Ref` for the duration of a lookup; for a long hold, convert it with [`Ref::into_arc`] (one
/// reference-count increment), which releases the guard.
///
/// # Threads
///
/// A `Ref` marks the current thread as a reader of the map, so it is **not `Send`**: it cannot
/// be moved to another thread, nor held across an `.await` in a future that must be `Send`
/// (the compiler says so, rather than letting such a future delay every drop in the map for as
/// long as it sleeps). Use [`Ref::into_arc`] or [`SyncMap::get_arc`](crate::SyncMap::get_arc)
/// there.
///
/// ```compile_fail
/// use syncmap_core::SyncMap;
/// let map = SyncMap::new();
/// map.insert(1, 1);
/// std::thread::scope(|s| {
///     let value = map.get(&1).unwrap();
///     s.spawn(move || *value); // a Ref cannot move to another thread
/// });
/// ```
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
pub struct Ref<'a, V> {
    // Invariant: `value` is a live value loaded under `guard`, or stored under it.
    value: NonNull<V>,
    guard: ManuallyDrop<Guard<'a>>,
}

impl<'a, V> Ref<'a, V> {
    /// Wraps a value.
    ///
    /// # Safety
    ///
    /// `value` must be a live value's pointer as its slot held it (see `slot::Val::ptr`), loaded
    /// (or stored) under `guard` or under a guard that `guard` was nested in before that one was
    /// released.
    #[inline]
    pub(crate) unsafe fn new(guard: Guard<'a>, value: NonNull<V>) -> Self {
        Ref {
            value,
            guard: ManuallyDrop::new(guard),
        }
    }

    /// Converts the handle into an owned [`Arc`], which may be kept as long as needed and sent
    /// to other threads. Releases the guard.
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
        let owned = Ref::to_arc(&this);
        // Released before the return value is built: releasing it may raise a deferred panic
        // (see `Drop`), and a panic in a drop after the return value is built would leak it
        // (rust-lang/rust#47949); here `owned` is still a local that unwinding drops.
        drop(this);
        owned
    }

    /// Returns a new owned [`Arc`] to the value, keeping this handle.
    #[inline]
    pub fn to_arc(this: &Self) -> Arc<V> {
        // SAFETY: the type's invariant: a live value's pointer, as its slot held it, under the
        // guard this handle holds.
        unsafe { crate::slot::share(this.value) }
    }
}

impl<V> Drop for Ref<'_, V> {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        // Releasing the last guard may have reclaimed garbage whose `Drop` panicked.
        reclaim::raise_deferred_in_drop();
    }
}

impl<V> Deref for Ref<'_, V> {
    type Target = V;

    #[inline]
    fn deref(&self) -> &V {
        // SAFETY: the type's invariant: a live value, kept alive by the guard this handle holds.
        unsafe { self.value.as_ref() }
    }
}

impl<V> AsRef<V> for Ref<'_, V> {
    #[inline]
    fn as_ref(&self) -> &V {
        self
    }
}

impl<V: fmt::Debug> fmt::Debug for Ref<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<V: fmt::Display> fmt::Display for Ref<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A second handle to the same value: cheap (the guard is nested, no reference count is
/// touched), and what `r.clone()` means. To clone the *value*, write `V::clone(&r)`.
///
/// ```
/// use syncmap_core::SyncMap;
/// let map = SyncMap::new();
/// map.insert(1, String::from("one"));
/// let a = map.get(&1).unwrap();
/// let b = a.clone(); // another Ref, not a String
/// assert!(std::ptr::eq(&*a, &*b));
/// ```
impl<V> Clone for Ref<'_, V> {
    #[inline]
    fn clone(&self) -> Self {
        Ref {
            value: self.value,
            guard: ManuallyDrop::new(self.guard.nest()),
        }
    }
}

/// Compares the values, as `V` does.
///
/// ```
/// use syncmap_core::SyncMap;
/// let map = SyncMap::new();
/// map.insert("a", String::from("x"));
/// map.insert("b", String::from("x"));
/// assert_eq!(map.get("a").unwrap(), "x");
/// assert_eq!(map.get("a").unwrap(), String::from("x"));
/// assert_eq!(map.get("a"), map.get("b")); // Option<Ref<V>> compares too
/// ```
impl<V: PartialEq> PartialEq for Ref<'_, V> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<V: Eq> Eq for Ref<'_, V> {}

impl<V: PartialEq> PartialEq<V> for Ref<'_, V> {
    #[inline]
    fn eq(&self, other: &V) -> bool {
        **self == *other
    }
}

impl PartialEq<str> for Ref<'_, String> {
    #[inline]
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

impl PartialEq<&str> for Ref<'_, String> {
    #[inline]
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl<V: PartialOrd> PartialOrd for Ref<'_, V> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<V: Ord> Ord for Ref<'_, V> {
    #[inline]
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl<V: Hash> Hash for Ref<'_, V> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

/// The error of [`SyncMap::try_insert`](crate::SyncMap::try_insert): the key already had a value.
///
/// Nothing is lost: it hands back the key and the value that were not inserted, with an owned
/// handle to the value already in the map. It borrows nothing, so `?` turns it into a
/// `Box<dyn Error + Send + Sync>`; it is an [`Error`](std::error::Error) for every `V`, and its
/// message names the key (`K: Debug`), never the values (which are often trait objects).
///
/// ```
/// use syncmap_core::SyncMap;
///
/// fn register(map: &SyncMap<String, u32>) -> Result<(), Box<dyn std::error::Error>> {
///     map.try_insert("gzip".to_string(), 1)?;
///     map.try_insert("gzip".to_string(), 2)?; // fails: the key has a value
///     Ok(())
/// }
///
/// let map = SyncMap::new();
/// let err = register(&map).unwrap_err();
/// assert_eq!(err.to_string(), r#"key "gzip" already has a value; the offered value was not inserted"#);
/// ```
pub struct OccupiedError<K, V> {
    /// The key, handed back.
    pub key: K,
    /// The value already in the map.
    pub existing: Arc<V>,
    /// The value that was offered and not inserted.
    pub value: V,
}

impl<K, V> OccupiedError<K, V> {
    /// Takes back the value that was not inserted.
    pub fn into_value(self) -> V {
        self.value
    }
}

impl<K: fmt::Debug, V> fmt::Debug for OccupiedError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedError")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<K: fmt::Debug, V> fmt::Display for OccupiedError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key {:?} already has a value; the offered value was not inserted",
            self.key
        )
    }
}

impl<K: fmt::Debug, V> std::error::Error for OccupiedError<K, V> {}
