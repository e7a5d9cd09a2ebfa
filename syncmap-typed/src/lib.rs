//! Typed concurrent registries on [`SyncMap`], Go's `sync.Map` for Rust.
//!
//! This is the crate to depend on. It re-exports everything public from
//! [`syncmap-core`](https://docs.rs/syncmap-core) ([`SyncMap`], [`Ref`], [`OccupiedError`],
//! [`Stats`], [`Builder`], …) and, behind the default `derive` feature, [`macro@Registry`]: a
//! derive that turns a struct of `SyncMap` fields into a registry with one typed method per
//! operation.
//!
//! ```
//! use std::sync::Arc;
//! use syncmap_typed::{Registry, SyncMap};
//!
//! pub trait Handler: Send + Sync {
//!     fn handle(&self, request: &str) -> String;
//! }
//!
//! struct Echo;
//! impl Handler for Echo {
//!     fn handle(&self, request: &str) -> String {
//!         request.to_string()
//!     }
//! }
//!
//! #[derive(Registry, Default)]
//! pub struct Services {
//!     /// HTTP handlers by route.
//!     #[registry(item = handler)]
//!     handlers: SyncMap<String, Arc<dyn Handler>>,
//!     /// Request counts by route; no `item`, so only the accessor is generated.
//!     hits: SyncMap<String, u64>,
//! }
//!
//! let services = Services::default();
//! services.register_handler("/echo".into(), Arc::new(Echo)).unwrap();
//! assert!(services.register_handler("/echo".into(), Arc::new(Echo)).is_err());
//! let handler: Arc<dyn Handler> = services.handler("/echo").unwrap(); // owned, not a guard
//! assert_eq!(handler.handle("hi"), "hi");
//! services.hits().insert("/echo".into(), 1); // the accessor gives the whole map API
//! assert_eq!(services.handler_snapshot().len(), 1);
//! ```
//!
//! Without the `derive` feature (`default-features = false`) the crate is the map alone, with no
//! proc-macro dependency.

// Lets the derive's default path, `::syncmap_typed`, resolve inside this crate's own unit tests.
extern crate self as syncmap_typed;

mod error;

pub use error::RegisterError;
pub use syncmap_core::*;

/// Derives a typed concurrent registry from a struct whose fields are `SyncMap`s.
///
/// # What is generated
///
/// For every field of type `SyncMap<K, V>` or `SyncMap<K, V, S>`, an inherent method named
/// after the field returns `&SyncMap<K, V, S>`: the escape hatch to the whole map API. The
/// field's `///` documentation becomes the accessor's.
///
/// A field with `#[registry(item = NAME)]` also gets, for `item = handler`:
///
/// | method | signature | wraps |
/// |---|---|---|
/// | `register_handler` | `(&self, K, V) -> Result<(), RegisterError<K, V>>` | [`SyncMap::try_insert`] |
/// | `replace_handler` | `(&self, K, V) -> Option<Arc<V>>` (the replaced value) | [`SyncMap::insert`] |
/// | `handler` | `(&self, &Q) -> Option<Arc<V>>` | [`SyncMap::get_arc`] |
/// | `remove_handler` | `(&self, &Q) -> Option<Arc<V>>` | [`SyncMap::remove`] |
/// | `contains_handler` | `(&self, &Q) -> bool` | [`SyncMap::contains_key`] |
/// | `for_each_handler` | `(&self, FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B>` | [`SyncMap::for_each`] |
/// | `handler_snapshot` | `(&self) -> Vec<(K, Arc<V>)>` | [`SyncMap::iter`] |
///
/// Lookups take the key borrowed (`&str` for `String` keys) and return an owned handle, never a
/// guard, so a caller may hold the value as long as it likes. When the value type is written
/// `Arc<T>` (`SyncMap<String, Arc<dyn Handler>>`, the usual registry), the methods hand out
/// that `Arc<T>` itself wherever the table says `Arc<V>` (the lookup wraps
/// [`SyncMap::get_cloned`], a reference-count increment) rather than an `Arc<Arc<T>>`; like the
/// `SyncMap` detection below, this goes by how the type is written.
///
/// Name a field in the plural and its item in the singular (`handlers`, `item = handler`): a
/// field named like its own item would get two methods of the same name, which is an error.
///
/// `register_*` refuses a key that already has a value and hands the rejected value back in a
/// [`RegisterError`] (it clones the key to do so, once per call); `replace_*` is the hot swap.
/// Each method is a thin wrapper with a one-line doc that links the `SyncMap` method it wraps.
///
/// # Attributes
///
/// On the struct, `#[registry(..)]` accepts:
/// - `crate = ::path`: where the facade is, for a renamed dependency or a re-export
///   (default `::syncmap_typed`). It must be absolute (`::name` or `crate::..`).
/// - `vis = "pub(crate)"`: the visibility of all generated methods (default: the struct's).
///
/// On a field:
/// - `item = name`: generate the item methods above, named after `name` (raw identifiers such
///   as `r#type` work; `register_type` drops the `r#`).
/// - `vis = "pub"`: the visibility of this field's methods; `vis = ""` makes them private.
/// - `skip`: leave the field alone. Every field that is not skipped must be a `SyncMap`.
///
/// Generic structs, `where` clauses and lifetimes are supported, and `#[cfg(..)]` on a field is
/// carried over to each of its methods.
///
/// ```
/// use std::collections::hash_map::RandomState;
/// use std::hash::{BuildHasher, Hash};
/// use std::sync::atomic::AtomicU64;
/// use syncmap_typed::{Registry, SyncMap};
///
/// #[derive(Registry)]
/// #[registry(vis = "pub")]
/// struct Index<'a, K: Eq + Hash + Clone, V, S: BuildHasher = RandomState> {
///     #[registry(item = entry)]
///     entries: SyncMap<K, V, S>,
///     #[registry(item = r#type, vis = "pub(crate)")]
///     types: SyncMap<&'a str, u8>,
///     #[registry(skip)]
///     lookups: AtomicU64,
/// }
///
/// let index: Index<u32, String> = Index {
///     entries: SyncMap::new(),
///     types: SyncMap::new(),
///     lookups: AtomicU64::new(0),
/// };
/// index.register_entry(7, "seven".into()).unwrap();
/// index.register_type("u8", 1).unwrap();
/// assert_eq!(index.entry(&7).as_deref().map(String::as_str), Some("seven"));
/// assert_eq!(index.r#type("u8").as_deref(), Some(&1));
/// ```
///
/// # Which fields are maps
///
/// The derive sees syntax, not types: a field is a map when its type is a path whose last
/// segment is `SyncMap` with two or three type arguments (`SyncMap<K, V>`,
/// `syncmap_typed::SyncMap<K, V, S>`, …). A type alias of a `SyncMap`, or a wrapper around one,
/// is not seen through: mark such a field `#[registry(skip)]` and write its methods by hand.
/// Conversely a different type that happens to be called `SyncMap` is taken for the real one:
/// its accessor works, but the `item` methods, which call the real one, fail to type-check.
///
/// # Hygiene
///
/// The generated code names everything through absolute paths into a hidden module of this
/// crate (`::syncmap_typed::__private`, or the `crate = ..` path), so it compiles inside
/// `#![no_implicit_prelude]` modules and beside local items called `Option`, `SyncMap` or
/// `core`. (One thing it cannot guard against: a lower-case `const key` or `const value` in
/// the deriving module, which Rust would read as a constant pattern in the generated
/// parameters.) The generated `impl` allows `dead_code`, as derives do, so unused registry
/// methods of a private struct draw no warning.
///
/// # Errors
///
/// Misuse is a compile error at the offending token, and all errors of one derive are reported
/// together: an enum, union, tuple or unit struct; a field that is neither a `SyncMap` nor
/// skipped; an unknown key (with the closest valid one suggested), a duplicate key or a bad
/// value; `skip` with `item`; two fields (or a field and its own `item`) generating the same
/// method, reported at both; a relative `crate` path. Fields without mistakes still get their
/// methods, so one mistake does not cascade into errors at every call site.
///
/// ```compile_fail
/// use syncmap_typed::{Registry, SyncMap};
///
/// #[derive(Registry)]
/// struct Users {
///     #[registry(item = user)]
///     by_id: SyncMap<u32, String>,
///     #[registry(item = user)] // error: `register_user`, `user`, … would exist twice
///     by_name: SyncMap<String, u32>,
/// }
/// ```
#[cfg(feature = "derive")]
pub use syncmap_macros::Registry;

/// What the derived code refers to, by absolute path. Not public API: no stability guarantee.
#[doc(hidden)]
pub mod __private {
    pub use crate::{Ref, RegisterError, SyncMap};
    pub use core::borrow::Borrow;
    pub use core::clone::Clone;
    pub use core::cmp::Eq;
    pub use core::hash::{BuildHasher, Hash};
    pub use core::iter::Iterator;
    pub use core::marker::Sized;
    pub use core::ops::{ControlFlow, FnMut};
    pub use core::option::Option;
    pub use core::result::Result;
    pub use std::sync::Arc;
    pub use std::vec::Vec;

    /// Turns an entry of a map of `Arc<T>` values into one without the map's own `Arc`.
    pub fn unwrap_entry<K, V: Clone>((key, value): (K, Arc<V>)) -> (K, V) {
        (key, Arc::unwrap_or_clone(value))
    }

    /// The body of every `register_*` method: [`SyncMap::try_insert`], with the error turned
    /// into a [`RegisterError`] that hands back the key and the value.
    pub fn register<K, V, S>(
        map: &SyncMap<K, V, S>,
        item: &'static str,
        key: K,
        value: V,
    ) -> Result<(), RegisterError<K, V>>
    where
        K: Eq + Hash + Clone,
        S: BuildHasher,
    {
        match map.try_insert(key.clone(), value) {
            Ok(_) => Ok(()),
            Err(occupied) => Err(RegisterError::new(
                item,
                key,
                Ref::into_arc(occupied.existing),
                occupied.value,
            )),
        }
    }
}

/// This crate's README's code blocks, compiled and run as doctests so the quick start cannot
/// rot. (The README ships in the package; the repository's root README is tested by the
/// examples crate.)
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
