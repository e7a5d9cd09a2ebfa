//! The `serde` feature: a `SyncMap` serializes as a map and deserializes from one.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, DefaultHasher};
use syncmap_core::SyncMap;

/// The map's contents, ordered, for comparisons that ignore the map's internal order.
fn contents<V: Clone>(map: &SyncMap<String, V>) -> BTreeMap<String, V> {
    map.pin()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn round_trip() {
    let map: SyncMap<String, u64> = (0..100).map(|i| (format!("key{i}"), i * i)).collect();
    let json = serde_json::to_string(&map).unwrap();
    let back: SyncMap<String, u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), 100);
    assert_eq!(contents(&back), contents(&map));
    // A bulk load: every key is in the read map, so reads take no lock.
    let stats = back.stats();
    assert_eq!((stats.read_len, stats.amended), (100, false));
    // The same JSON as a `HashMap` of the same contents would give, up to order.
    let as_hash_map: HashMap<String, u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_hash_map.len(), 100);
    assert_eq!(as_hash_map["key7"], 49);
}

#[test]
fn round_trip_after_removals_and_replacements() {
    let map: SyncMap<u32, String> = SyncMap::new();
    for i in 0..50 {
        map.insert(i, i.to_string());
    }
    // Promote, so that deleted entries stay behind in the read map: they must not be written.
    assert_eq!(map.iter().count(), 50);
    for i in (0..50).step_by(2) {
        map.remove(&i);
    }
    map.insert(1, "one".into());
    let json = serde_json::to_string(&map).unwrap();
    let back: HashMap<u32, String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), 25);
    assert!(back.keys().all(|k| k % 2 == 1));
    assert_eq!(back[&1], "one");
    assert_eq!(back[&3], "3");
}

#[test]
fn empty_map() {
    let map: SyncMap<String, u32> = SyncMap::new();
    assert_eq!(serde_json::to_string(&map).unwrap(), "{}");
    let back: SyncMap<String, u32> = serde_json::from_str("{}").unwrap();
    assert!(back.is_empty());
}

#[test]
fn the_last_of_duplicate_keys_wins() {
    let map: SyncMap<String, u32> = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map.get("a").as_deref(), Some(&3));
    assert_eq!(map.get("b").as_deref(), Some(&2));
}

#[test]
fn string_to_vec_of_u32() {
    let map: SyncMap<String, Vec<u32>> = SyncMap::new();
    map.insert("primes".into(), vec![2, 3, 5, 7]);
    map.insert("none".into(), vec![]);
    let json = serde_json::to_string(&map).unwrap();
    let back: SyncMap<String, Vec<u32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(contents(&back), contents(&map));
    assert_eq!(back.get("primes").as_deref(), Some(&vec![2, 3, 5, 7]));
    assert_eq!(back.get("none").as_deref(), Some(&vec![]));
    let value: serde_json::Value = serde_json::to_value(&map).unwrap();
    assert_eq!(
        value,
        serde_json::json!({ "primes": [2, 3, 5, 7], "none": [] })
    );
}

#[test]
fn wrong_types_are_errors_not_panics() {
    // Not a map at all.
    let err = serde_json::from_str::<SyncMap<String, u32>>("[1, 2]").unwrap_err();
    assert!(err.is_data(), "{err}");
    assert!(err.to_string().contains("a map"), "{err}");
    // A value of the wrong type.
    let err = serde_json::from_str::<SyncMap<String, u32>>(r#"{"a": "x"}"#).unwrap_err();
    assert!(err.is_data(), "{err}");
    // A key that does not parse as the key type.
    let err = serde_json::from_str::<SyncMap<u32, u32>>(r#"{"one": 1}"#).unwrap_err();
    assert!(err.to_string().contains("number"), "{err}");
    // Truncated input.
    let err = serde_json::from_str::<SyncMap<String, u32>>(r#"{"a": 1"#).unwrap_err();
    assert!(err.is_eof(), "{err}");
}

#[test]
fn custom_hashers() {
    let map: SyncMap<u32, u32, BuildHasherDefault<DefaultHasher>> =
        serde_json::from_str(r#"{"1": 10, "2": 20}"#).unwrap();
    assert_eq!(map.get(&2).as_deref(), Some(&20));
    assert_eq!(
        serde_json::to_value(&map).unwrap(),
        serde_json::json!({ "1": 10, "2": 20 })
    );
    let map: SyncMap<u32, u32, RandomState> = serde_json::from_str(r#"{"3": 30}"#).unwrap();
    assert_eq!(map.get(&3).as_deref(), Some(&30));
}

#[test]
fn a_huge_length_hint_is_not_trusted() {
    // serde_json gives no length hint, so drive the visitor with a `MapAccess` that claims
    // `usize::MAX` entries and has two.
    use serde::de::value::{Error, MapDeserializer};
    use serde::de::{Deserialize, DeserializeSeed, MapAccess};

    struct Lying(MapDeserializer<'static, std::vec::IntoIter<(u32, u32)>, Error>);
    impl MapAccess<'static> for Lying {
        type Error = Error;
        fn next_key_seed<T: DeserializeSeed<'static>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, Error> {
            self.0.next_key_seed(seed)
        }
        fn next_value_seed<T: DeserializeSeed<'static>>(
            &mut self,
            seed: T,
        ) -> Result<T::Value, Error> {
            self.0.next_value_seed(seed)
        }
        fn size_hint(&self) -> Option<usize> {
            Some(usize::MAX)
        }
    }

    let entries = MapDeserializer::new(vec![(1u32, 10u32), (2, 20)].into_iter());
    let de = serde::de::value::MapAccessDeserializer::new(Lying(entries));
    let map = SyncMap::<u32, u32>::deserialize(de).unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map.get(&1).as_deref(), Some(&10));
}

#[test]
fn a_length_announcing_format_gets_the_exact_length() {
    // A serializer that records the length announced and the entries written.
    use serde::ser::{Impossible, Serialize, SerializeMap, Serializer};
    use std::fmt;

    #[derive(Debug)]
    struct Unsupported;
    impl fmt::Display for Unsupported {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("unsupported")
        }
    }
    impl std::error::Error for Unsupported {}
    impl serde::ser::Error for Unsupported {
        fn custom<T: fmt::Display>(_: T) -> Self {
            Unsupported
        }
    }

    struct Recorder;
    struct Entries {
        announced: Option<usize>,
        written: usize,
    }
    impl SerializeMap for Entries {
        type Ok = (Option<usize>, usize);
        type Error = Unsupported;
        fn serialize_key<T: ?Sized + Serialize>(&mut self, _: &T) -> Result<(), Unsupported> {
            self.written += 1;
            Ok(())
        }
        fn serialize_value<T: ?Sized + Serialize>(&mut self, _: &T) -> Result<(), Unsupported> {
            Ok(())
        }
        fn end(self) -> Result<Self::Ok, Unsupported> {
            Ok((self.announced, self.written))
        }
    }
    macro_rules! unsupported {
        ($($name:ident($($arg:ty),*);)*) => {
            $(fn $name(self, $(_: $arg),*) -> Result<Self::Ok, Unsupported> { Err(Unsupported) })*
        };
    }
    impl Serializer for Recorder {
        type Ok = (Option<usize>, usize);
        type Error = Unsupported;
        type SerializeSeq = Impossible<Self::Ok, Unsupported>;
        type SerializeTuple = Impossible<Self::Ok, Unsupported>;
        type SerializeTupleStruct = Impossible<Self::Ok, Unsupported>;
        type SerializeTupleVariant = Impossible<Self::Ok, Unsupported>;
        type SerializeMap = Entries;
        type SerializeStruct = Impossible<Self::Ok, Unsupported>;
        type SerializeStructVariant = Impossible<Self::Ok, Unsupported>;
        fn serialize_map(self, len: Option<usize>) -> Result<Entries, Unsupported> {
            Ok(Entries {
                announced: len,
                written: 0,
            })
        }
        unsupported! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
            serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
            serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
            serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
            serialize_unit_struct(&'static str);
            serialize_unit_variant(&'static str, u32, &'static str);
        }
        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Unsupported> {
            Err(Unsupported)
        }
    }

    let map: SyncMap<u32, u32> = (0..40).map(|i| (i, i)).collect();
    for i in (0..40).step_by(3) {
        map.remove(&i);
    }
    let live = map.len();
    assert_eq!(map.serialize(Recorder).unwrap(), (Some(live), live));
}
