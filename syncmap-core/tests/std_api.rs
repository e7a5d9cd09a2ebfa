//! std `HashMap` vocabulary (issue 10): `keys`, `values`, owned `into_iter`, `Clone`,
//! `From<HashMap>`, `get_key_value`, `remove_entry`, borrowed-key insert-or-get paths,
//! comparisons and `Clone` on `Ref`, and `OccupiedError` as an error for every `V`.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use syncmap_core::{Promotion, Ref, SyncMap};

/// A key that is not `Clone`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Id(u32);

/// A value that counts its live instances.
struct Counted(Arc<AtomicIsize>);

impl Counted {
    fn new(live: &Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Counted(Arc::clone(live))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A map with keys in every state. Keys 0..10 inserted and promoted; 3 and 4 removed; a new
/// key 10 rebuilds the dirty map (with one shard, expunging 3 and 4); 5 removed again (deleted,
/// in both maps); 11 new (only in the dirty map). With several shards the same live keys are
/// spread over shards in different states.
fn mixed_states(shards: usize) -> SyncMap<u32, u32> {
    let map = SyncMap::builder()
        .shards(shards)
        .promotion(Promotion::DirtyLen)
        .build();
    for i in 0..10 {
        map.insert(i, i * 10);
    }
    for i in 0..10 {
        assert!(map.get(&i).is_some()); // misses promote
    }
    assert_eq!(map.stats().dirty_len, None, "every shard promoted");
    map.remove(&3);
    map.remove(&4);
    map.insert(10, 100);
    map.remove(&5);
    map.insert(11, 110);
    map
}

/// One shard (Go's structure, every state present) and several.
const SHARDS: [usize; 2] = [1, 8];

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

const LIVE: [u32; 9] = [0, 1, 2, 6, 7, 8, 9, 10, 11];

#[test]
fn keys_values_and_iter_see_each_live_key_once() {
    for map in SHARDS.map(mixed_states) {
        keys_values_and_iter(&map);
    }
    // `values` needs no `Clone` key.
    let ids: SyncMap<Id, u32> = (0..5).map(|i| (Id(i), i)).collect();
    assert_eq!(ids.values().map(|v| *v).sum::<u32>(), 10);
}

fn keys_values_and_iter(map: &SyncMap<u32, u32>) {
    assert_eq!(sorted(map.keys().collect()), LIVE);
    assert_eq!(
        sorted(map.values().map(|v| *v).collect()),
        LIVE.map(|k| k * 10)
    );
    assert_eq!(
        sorted(map.iter().map(|(k, v)| (k, *v)).collect()),
        LIVE.map(|k| (k, k * 10))
    );
}

#[test]
fn into_iter_moves_every_live_key_and_value_out() {
    for map in SHARDS.map(mixed_states) {
        let items = sorted(
            map.into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        Arc::try_unwrap(v).expect("the map's Arc is the only one"),
                    )
                })
                .collect(),
        );
        assert_eq!(items, LIVE.map(|k| (k, k * 10)));
    }

    // Keys that are not `Clone` come out; an Arc handed out earlier stays shared.
    let ids: SyncMap<Id, String> = SyncMap::new();
    ids.insert(Id(1), "one".to_string());
    ids.insert(Id(2), "two".to_string());
    let held = ids.get_arc(&Id(2)).unwrap();
    let mut items: Vec<(Id, Arc<String>)> = ids.into_iter().collect();
    items.sort_by_key(|(id, _)| id.0);
    assert_eq!(items[0].0, Id(1));
    assert!(Arc::ptr_eq(&items[1].1, &held));
}

#[test]
fn a_partly_consumed_into_iter_drops_the_rest() {
    let live = Arc::new(AtomicIsize::new(0));
    let map: SyncMap<u32, Counted> = (0..100).map(|i| (i, Counted::new(&live))).collect();
    map.insert(5, Counted::new(&live)); // a replaced value, retired
    let mut iter = map.into_iter();
    let first = iter.next();
    assert!(first.is_some());
    drop(iter);
    assert_eq!(
        live.load(Ordering::SeqCst),
        1,
        "only the value taken out is alive"
    );
    drop(first);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn clone_is_deep_and_independent_and_settled() {
    for map in SHARDS.map(mixed_states) {
        clone_is_deep(&map);
    }
}

fn clone_is_deep(map: &SyncMap<u32, u32>) {
    let clone = map.clone();
    assert_eq!(sorted(clone.iter().collect()), sorted(map.iter().collect()));
    let stats = clone.stats();
    assert_eq!((stats.read_len, stats.amended), (LIVE.len(), false));
    clone.insert(1, 999);
    clone.remove(&2);
    assert_eq!(*map.get(&1).unwrap(), 10);
    assert_eq!(*map.get(&2).unwrap(), 20);
    // Values are cloned, not shared.
    let a = map.get_arc(&6).unwrap();
    let b = clone.get_arc(&6).unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
}

#[test]
fn from_hash_map_keeps_the_hasher_and_settles() {
    type Fixed = BuildHasherDefault<DefaultHasher>;
    let plain: HashMap<String, u32, Fixed> = (0..50).map(|i| (format!("k{i}"), i)).collect();
    let map: SyncMap<String, u32, Fixed> = SyncMap::from(plain);
    assert_eq!(map.len(), 50);
    assert_eq!(*map.get("k49").unwrap(), 49);
    let stats = map.stats();
    assert_eq!(
        (stats.read_len, stats.amended, stats.misses),
        (50, false, 0)
    );
}

#[test]
fn collected_maps_are_read_lock_free_from_the_start() {
    let map: SyncMap<u32, u32> = (0..1000).map(|i| (i, i)).collect();
    for i in 0..1000 {
        assert_eq!(*map.get(&i).unwrap(), i);
    }
    assert_eq!(map.stats().misses, 0, "every key is in the read map");
}

#[test]
fn get_key_value_returns_the_stored_key() {
    let interned: SyncMap<Arc<str>, u32> = SyncMap::new();
    let stored: Arc<str> = Arc::from("token");
    interned.insert(Arc::clone(&stored), 1);
    let (key, value) = interned.get_key_value("token").unwrap();
    assert!(Arc::ptr_eq(&key, &stored));
    assert_eq!(*value, 1);
    assert!(interned.get_key_value("other").is_none());
    let pinned = interned.pin();
    let (key, value) = pinned.get_key_value("token").unwrap();
    assert!(Arc::ptr_eq(key, &stored));
    assert_eq!(*value, 1);
}

#[test]
fn remove_entry_returns_key_and_value() {
    for map in SHARDS.map(mixed_states) {
        assert_eq!(map.remove_entry(&11).map(|(k, v)| (k, *v)), Some((11, 110)));
        assert_eq!(map.remove_entry(&0).map(|(k, v)| (k, *v)), Some((0, 0)));
        assert!(map.remove_entry(&3).is_none(), "removed earlier");
        assert!(map.remove_entry(&0).is_none(), "already removed");
        assert_eq!(map.len(), LIVE.len() - 2);
    }
}

/// A `String`-like key that counts how many owned keys were made from borrowed ones.
#[derive(PartialEq, Eq, Hash)]
struct Name(String);

static NAMES_MADE: AtomicUsize = AtomicUsize::new(0);

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        NAMES_MADE.fetch_add(1, Ordering::SeqCst);
        Name(s.to_string())
    }
}

#[test]
fn borrowed_key_insert_paths_make_no_key_on_a_hit() {
    let map: SyncMap<Name, u32> = SyncMap::new();
    let made = || NAMES_MADE.load(Ordering::SeqCst);
    let before = made();
    assert_eq!(*map.get_or_insert_with_ref("a", || 1), 1);
    assert_eq!(made(), before + 1, "a miss makes the key once");
    for _ in 0..10 {
        assert_eq!(*map.get_or_insert_with_ref("a", || unreachable!()), 1);
        let hit = map.get_or_try_insert_with_ref("a", || -> Result<u32, ()> { unreachable!() });
        assert_eq!(*hit.unwrap(), 1);
    }
    assert_eq!(made(), before + 1, "hits make no key");
    assert_eq!(
        map.get_or_try_insert_with_ref("b", || Err::<u32, _>("no"))
            .err(),
        Some("no")
    );
    assert!(!map.contains_key("b"));
    assert_eq!(made(), before + 1, "a failed build makes no key");
}

/// Go's `LoadOrStore` in full: the value and `loaded`, for a new key, a key in the read map, a
/// key only in the dirty map and a deleted key; a refused value is dropped before the call
/// returns, and the returned `Ref` shares the stored value without taking a count of its own.
#[test]
fn get_or_insert_full_reports_loaded_and_drops_the_refused_value() {
    let live = Arc::new(AtomicIsize::new(0));
    let map = SyncMap::builder().shards(1).build();
    let (first, loaded) = map.get_or_insert_full(1, Counted::new(&live));
    assert!(!loaded);
    let stored: *const Counted = &*first;
    drop(first);
    assert_eq!(live.load(Ordering::SeqCst), 1);
    // Key 1 only in the dirty map.
    let (again, loaded) = map.get_or_insert_full(1, Counted::new(&live));
    assert!(loaded);
    assert!(std::ptr::eq(&*again, stored), "not the stored value");
    assert_eq!(
        live.load(Ordering::SeqCst),
        1,
        "the refused value was not dropped"
    );
    drop(again);
    // Key 1 in the read map, with no extra count on its Arc.
    assert!(map.get(&1).is_some());
    let (hit, loaded) = map.get_or_insert_full(1, Counted::new(&live));
    assert!(loaded && std::ptr::eq(&*hit, stored));
    drop(hit);
    let taken = map.remove(&1).expect("key 1 is present");
    assert_eq!(
        Arc::strong_count(&taken),
        1,
        "a Ref took a count of its own"
    );
    drop(taken);
    assert_eq!(live.load(Ordering::SeqCst), 0);
    // A deleted key takes the offered value.
    let (new, loaded) = map.get_or_insert_full(1, Counted::new(&live));
    assert!(!loaded);
    drop(new);
    drop(map);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn get_or_try_insert_with_inserts_only_on_success() {
    let map: SyncMap<u32, u32> = SyncMap::new();
    assert_eq!(
        map.get_or_try_insert_with(1, || Err::<u32, _>(7)).err(),
        Some(7)
    );
    assert!(map.is_empty());
    assert_eq!(
        *map.get_or_try_insert_with(1, || Ok::<_, ()>(2)).unwrap(),
        2
    );
    assert_eq!(
        *map.get_or_try_insert_with(1, || -> Result<u32, ()> { unreachable!() })
            .unwrap(),
        2
    );
}

fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

#[test]
fn refs_compare_order_and_hash_like_their_values() {
    let map: SyncMap<u32, String> = SyncMap::new();
    map.insert(1, "b".to_string());
    map.insert(2, "a".to_string());
    map.insert(3, "b".to_string());
    let (one, two, three) = (
        map.get(&1).unwrap(),
        map.get(&2).unwrap(),
        map.get(&3).unwrap(),
    );
    let owned = "b".to_string();
    assert!(one == "b" && one == *"b" && one == owned);
    assert!(one == three && one != two);
    assert_eq!(map.get(&1), map.get(&3));
    assert_ne!(map.get(&1), map.get(&9));
    assert!(two < one);
    let mut refs = [map.get(&1).unwrap(), map.get(&2).unwrap()];
    refs.sort();
    assert_eq!(refs[0], "a");
    assert_eq!(hash_of(&one), hash_of(&"b".to_string()));
    // The guard's depth counter is not part of the hash, which is the value's.
    #[allow(clippy::mutable_key_type)]
    let set: HashSet<Ref<'_, String>> = [one, three].into_iter().collect();
    assert_eq!(set.len(), 1, "equal values hash alike");
}

#[test]
fn cloning_a_ref_gives_another_handle_that_also_holds_the_value() {
    let live = Arc::new(AtomicIsize::new(0));
    let map: SyncMap<u32, Counted> = SyncMap::new();
    map.insert(1, Counted::new(&live));
    // Another thread uses the map, so that a replaced value waits for its readers.
    std::thread::scope(|s| {
        s.spawn(|| drop(map.get(&1)));
    });
    let a = map.get(&1).unwrap();
    let b = a.clone();
    assert!(
        std::ptr::eq(&*a, &*b),
        "a clone of the handle, not of the value"
    );
    map.insert(1, Counted::new(&live));
    drop(a);
    assert_eq!(
        live.load(Ordering::SeqCst),
        2,
        "the clone still holds the old value"
    );
    drop(b);
    assert_eq!(
        live.load(Ordering::SeqCst),
        1,
        "dropped when the last handle goes"
    );
}

#[test]
fn occupied_error_is_an_error_for_any_value_and_names_the_key() {
    type Handler = Box<dyn Fn() -> u32 + Send + Sync>; // not Debug
    fn register(
        map: &SyncMap<String, Handler>,
        name: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        map.try_insert(name.to_string(), Box::new(|| 1))?;
        Ok(())
    }
    let map: SyncMap<String, Handler> = SyncMap::new();
    register(&map, "h").unwrap();
    let err = register(&map, "h").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"key "h" already has a value; the offered value was not inserted"#
    );
    // The key and the value come back, with the value present.
    let Err(err) = map.try_insert("h".to_string(), Box::new(|| 2)) else {
        panic!("the key has a value");
    };
    assert_eq!(err.key, "h");
    assert_eq!(((err.existing)(), (err.value)()), (1, 2));
    assert!(format!("{err:?}").contains(r#"key: "h""#));
}
