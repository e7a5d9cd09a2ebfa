//! Guides: documentation only, no code.
//!
//! - [`porting_from_go`]: Go `sync.Map` idioms and their Rust spelling.
//! - [`handles`]: which way of reading a value to use.

pub mod porting_from_go {
    //! # Porting code that uses Go's `sync.Map`
    //!
    //! | Go | Rust |
    //! |---|---|
    //! | `var m sync.Map` (zero value usable) | `SyncMap::new()` or `Default::default()` |
    //! | `v, ok := m.Load(k)` | `if let Some(v) = m.get(&k) { … }` |
    //! | `m.Store(k, v)` | `m.insert(k, v);` |
    //! | `prev, loaded := m.Swap(k, v)` | `let prev: Option<Arc<V>> = m.insert(k, v);` |
    //! | `actual, loaded := m.LoadOrStore(k, v)` | `match m.try_insert(k, v) { Ok(stored) => …, Err(e) => e.existing … }` |
    //! | `v, loaded := m.LoadAndDelete(k)` | `let v: Option<Arc<V>> = m.remove(&k);` |
    //! | `m.Delete(k)` | `m.remove(&k);` |
    //! | `m.CompareAndSwap(k, old, new)` | `m.compare_and_swap(&k, &old, new).is_ok()` |
    //! | `m.CompareAndDelete(k, old)` | `m.compare_and_remove(&k, &old).is_some()` |
    //! | `m.Range(func(k, v any) bool { …; return true })` | `m.for_each(\|k, v\| { …; ControlFlow::Continue(()) })` |
    //! | `m.Clear()` | `m.clear()` |
    //!
    //! Differences worth knowing:
    //!
    //! - **Types.** Keys and values are typed; no type assertions. Go's "the old value must be of a
    //!   comparable type" (a runtime panic) becomes the `V: PartialEq` bound of the compare
    //!   operations.
    //! - **Copying.** Go's "must not be copied after first use" is enforced by the compiler: a
    //!   `SyncMap` moves; share it with `&`, `Arc` or a `static`, or `clone()` it for an
    //!   independent copy.
    //! - **Read-modify-write.** Go's idiom is a `CompareAndSwap` loop, which needs comparable
    //!   values; `update(&k, f)` does it for any `V`, and `replace_if_same`/`remove_if_same`
    //!   compare by identity with a value you hold, not by equality.
    //! - **Values are shared, not copied.** Go hands out interface values that point to shared
    //!   data; `get` hands out a [`Ref`](crate::Ref) to the shared value, and `remove`/`insert`
    //!   return the old value as an `Arc`, because readers may still hold it.
    //! - **`Range`'s `bool`** is `ControlFlow`, so a walk can also return a value on `Break`.
    //! - **`LoadOrStore`'s allocation.** As in Go, a hit does not allocate.
    //! - **Walks that stop early** do not promote the dirty map (Go's `Range` always does).
    //!
    //! ```
    //! use std::ops::ControlFlow;
    //! use syncmap_core::SyncMap;
    //!
    //! // Go: actual, loaded := m.LoadOrStore("k", 1)
    //! let m = SyncMap::new();
    //! let (actual, loaded) = match m.try_insert("k", 1) {
    //!     Ok(stored) => (*stored, false),
    //!     Err(e) => (*e.existing, true),
    //! };
    //! assert_eq!((actual, loaded), (1, false));
    //!
    //! // Go: m.Range(func(k, v any) bool { n++; return n < 10 })
    //! let mut n = 0;
    //! let _ = m.for_each(|_, _| {
    //!     n += 1;
    //!     if n < 10 { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
    //! });
    //! assert_eq!(n, 1);
    //! ```
}

pub mod handles {
    //! # Reading values: `Ref`, `Arc`, clone or closure
    //!
    //! | you want | use | cost on a read-map hit |
    //! |---|---|---|
    //! | to look at the value now | [`get`](crate::SyncMap::get) → [`Ref`](crate::Ref) | no lock, no shared write |
    //! | to compute something from it | [`with`](crate::SyncMap::with) | same as `get` |
    //! | many lookups in a loop | [`pin`](crate::SyncMap::pin) → [`Pinned::get`](crate::Pinned::get) → `&V` | one guard for the whole session |
    //! | to keep it (store it, send it to another thread, hold it across `.await`) | [`get_arc`](crate::SyncMap::get_arc) → `Arc<V>` | plus one reference-count increment |
    //! | a copy of a small value | [`get_cloned`](crate::SyncMap::get_cloned) | plus `V::clone` |
    //!
    //! A `Ref` or a pinned session holds the map's reclamation guard for the current thread:
    //! two plain stores to take, two to release, and nothing shared is written. While one is held,
    //! whatever writers remove or replace in the map waits to be dropped until the last such
    //! handle is released, so keep them short and convert to `Arc` for long holds. Neither is
    //! `Send`. None of them ever blocks a writer: a value replaced while you hold it stays valid
    //! for you.
    //!
    //! ```
    //! use std::sync::Arc;
    //! use syncmap_core::SyncMap;
    //!
    //! let m = SyncMap::new();
    //! m.insert(1, vec![1, 2, 3]);
    //! let len = m.with(&1, Vec::len);
    //! let kept: Arc<Vec<i32>> = m.get_arc(&1).unwrap();
    //! m.remove(&1);
    //! assert_eq!((len, kept.len()), (Some(3), 3));
    //! ```
}
