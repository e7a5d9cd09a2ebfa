//! [`serde`](https://serde.rs) support (the `serde` feature): a [`SyncMap`] serializes as a map
//! and deserializes from one, like `std::collections::HashMap`.
//!
//! Serde is the standard serialization framework of the Rust ecosystem; implementing its two
//! traits makes a `SyncMap` (and any struct of them, such as a `#[derive(Registry)]` registry
//! that also derives `Serialize` and `Deserialize`) readable and writable in every format serde
//! supports (JSON, TOML, bincode, …) with no glue code.

use crate::map::SyncMap;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The most entries [`Deserialize`] reserves room for up front, whatever the input's length
/// hint says: a hint comes from untrusted input, so it may size the table but not exhaust
/// memory. A longer map still deserializes; the table grows as it would for inserts.
const MAX_PREALLOCATED_ENTRIES: usize = 4096;

/// Serializes the map as a map of its keys to its values, with an exact length (formats such as
/// bincode write the length first).
///
/// The entries are gathered in one read session ([`SyncMap::pin`]), as references (neither
/// keys nor values are cloned), and written once gathered. Like [`SyncMap::for_each`], this is
/// a walk, not a snapshot: an entry inserted, replaced or removed by another thread during the
/// walk may or may not be seen, but no key is written twice, each value written is one its key
/// held during the walk, and every key present for the whole walk is written. The order is the
/// map's internal order, which is unspecified (as for `HashMap`).
///
/// ```
/// use syncmap_core::SyncMap;
///
/// let map: SyncMap<String, u32> = SyncMap::new();
/// map.insert("answer".into(), 42);
/// assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"answer":42}"#);
/// ```
impl<K, V, S> Serialize for SyncMap<K, V, S>
where
    K: Serialize + Eq + Hash,
    V: Serialize,
    S: BuildHasher,
{
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let pinned = self.pin();
        // Gathered first so that the length announced is the number of entries written.
        let entries: Vec<(&K, &V)> = pinned.iter().collect();
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Deserializes a map into a new `SyncMap` with the default configuration (see
/// [`SyncMap::with_capacity_and_hasher`]) and a hasher from `S::default()`.
///
/// When a key appears more than once, the last value wins, as for `HashMap`. The input's length
/// hint, if any, sizes the new map, up to a bound, so that a hostile hint cannot make it
/// allocate much up front. A map built with a non-default [`Builder`](crate::Builder)
/// configuration comes back with the default one: the configuration is not part of the data.
///
/// ```
/// use syncmap_core::SyncMap;
///
/// let map: SyncMap<String, Vec<u32>> = serde_json::from_str(r#"{"primes":[2,3,5]}"#).unwrap();
/// assert_eq!(map.get("primes").as_deref(), Some(&vec![2, 3, 5]));
/// ```
impl<'de, K, V, S> Deserialize<'de> for SyncMap<K, V, S>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    S: BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Builds a [`SyncMap`] from a serde map.
struct MapVisitor<K, V, S>(PhantomData<Builds<K, V, S>>);

/// What [`MapVisitor`] is a marker of: it builds a map but holds no `K`, `V` or `S`, so it is
/// `Send`, `Sync` and covariant whatever they are.
type Builds<K, V, S> = fn() -> SyncMap<K, V, S>;

impl<'de, K, V, S> Visitor<'de> for MapVisitor<K, V, S>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    S: BuildHasher + Default,
{
    type Value = SyncMap<K, V, S>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let capacity = access
            .size_hint()
            .unwrap_or(0)
            .min(MAX_PREALLOCATED_ENTRIES);
        let map = SyncMap::with_capacity_and_hasher(capacity, S::default());
        while let Some((key, value)) = access.next_entry()? {
            // A repeated key replaces the earlier value: the last one wins.
            map.insert(key, value);
        }
        // A bulk load: every key goes to the read map at once (see `Extend`).
        map.settle();
        Ok(map)
    }
}
