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
//! # Features
//!
//! - `derive` (default): [`macro@Registry`]. Without it (`default-features = false`) the crate is
//!   the map alone, with no proc-macro dependency.
//! - `watch`: `Watched` maps and `Watcher`s: a registry field declared `Watched<K, V>` can be
//!   waited on, blocking or in any async runtime, for changes made through its generated
//!   methods (built on [`event-listener`](https://docs.rs/event-listener), no runtime needed).
//! - `serde`: `Serialize` and `Deserialize` for [`SyncMap`] (and, with `watch`, `Watched`), on
//!   [serde](https://serde.rs), the standard serialization framework, so a registry can derive
//!   them beside [`macro@Registry`] and be saved and loaded in any serde format. A map
//!   serializes as a map (a walk, not a snapshot, when other threads write meanwhile) and
//!   deserializes from one, the last of repeated keys winning; see `syncmap-core`'s feature.
//!
//! # Consistency and limits
//!
//! A registry is its `SyncMap` fields, and every generated method is one map operation, so the
//! map's guarantees are the registry's. In short:
//!
//! - each single-key operation (`register_*`, `replace_*`, a lookup, `remove_*`) is
//!   linearizable, and a write *synchronizes before* any lookup that observes it: whatever the
//!   writing thread did before registering a value is visible to a thread that finds it;
//! - lookups of keys already in the read map take no lock and write no shared memory; new keys
//!   take one mutex;
//! - walks (`for_each_*`, `*_snapshot`) are not snapshots: they see each key at most once, with
//!   a value it held during the walk;
//! - there is no multi-key or multi-field atomicity: two fields of one registry, or two keys of
//!   one field, are never changed together;
//! - a key's `Eq` may run under the map's lock and must not call back into the same map;
//! - a replaced or removed value is dropped promptly: before the call returns when no reader
//!   holds it, otherwise when the last reader that could see it lets go (so a replaced service's
//!   `Drop` runs without waiting for a collector).
//!
//! The full statements are in `syncmap-core`'s documentation, re-exported here:
//! [consistency and memory ordering](syncmap_core#consistency-and-memory-ordering),
//! [user code and panics](syncmap_core#user-code-and-panics) and
//! [limits](syncmap_core#limits) (writes of many new keys contend on one lock; deleted keys
//! linger until the next rebuild; each value is its own allocation).

// Lets the derive's default path, `::syncmap_typed`, resolve inside this crate's own unit tests.
extern crate self as syncmap_typed;

mod error;
#[cfg(feature = "watch")]
mod watch;

pub use error::RegisterError;
pub use syncmap_core::*;
#[cfg(feature = "watch")]
pub use watch::{Watched, Watcher};

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
/// A field declared `Watched<K, V>` (or `Watched<K, V, S>`, the `watch` feature) is a map whose
/// changes can be waited for: its accessor returns the `Watched` map, its `register_*`,
/// `replace_*` and `remove_*` methods wake its watchers after each change they make (a
/// rejected registration or the removal of an absent key changes nothing and wakes no one),
/// and it gets `watch_<field>() -> Watcher`. Changes made through the map itself, via the
/// accessor, are silent unless followed by `Watched::notify`.
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
/// Each method is a thin wrapper with a one-line doc that links the `SyncMap` method it wraps;
/// `register_*` documents its error in an `# Errors` section, and the generated code is clean
/// under `clippy::pedantic`.
///
/// # Attributes
///
/// On the struct, `#[registry(..)]` accepts:
/// - `crate = ::path`: where the facade is, for a renamed dependency or a re-export
///   (default `::syncmap_typed`). It must be absolute (`::name` or `crate::..`).
/// - `vis = "pub(crate)"`: the visibility of the `item` methods (default: the struct's).
///
/// On a field:
/// - `item = name`: generate the item methods above, named after `name` (raw identifiers such
///   as `r#type` work; `register_type` drops the `r#`).
/// - `vis = "pub"`: the visibility of this field's `item` methods; `vis = ""` makes them
///   private.
/// - `accessor_vis = "pub(crate)"`: the visibility of the accessor.
/// - `skip`: leave the field alone. Every field that is not skipped must be a `SyncMap`.
///
/// # Visibility
///
/// The accessor hands out the whole map, `clear()` included, so it is exactly as visible as
/// the field unless `accessor_vis` says otherwise: a `pub` struct with a private field gets a
/// private accessor, and outside code reaches the map only through the `item` methods, which
/// take the struct's visibility (or `vis`). Widening the accessor takes an explicit
/// `accessor_vis`.
///
/// # Bounds
///
/// The generated methods carry no bounds on concrete types (no `where String: Hash`): the
/// derive checks once per field that the key is `Eq + Hash + Clone` and the hasher a
/// `BuildHasher`, so a key type that is not `Hash` is one error, at the key type. Bounds that
/// involve the struct's generic parameters are written on the methods that need them.
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
/// segment is `SyncMap` (or `Watched`) with two or three type arguments (`SyncMap<K, V>`,
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
/// method, reported at both; a relative `crate` path. Each mistake is reported once: a key type
/// that is not `Hash` is one error at the key type, and a `SyncMap` with the wrong number of
/// type arguments is left to the compiler's own error (the derive generates nothing for that
/// field). Fields without mistakes still get their methods, so one mistake does not cascade
/// into errors at every call site.
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
#[path = "private.rs"]
pub mod __private;

/// This crate's README's code blocks, compiled and run as doctests so the quick start cannot
/// rot. (The README ships in the package; the repository's root README is tested by the
/// examples crate.)
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
