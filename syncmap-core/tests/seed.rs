//! The seed document's worked example, step by step, asserting the internal state after each
//! step: store 1, store 2, load 1 twice (the second load promotes), delete 1, store 3 (the dirty
//! map is rebuilt: 1 is expunged and left out), store 1 (un-expunged, back in the dirty map).

use syncmap_core::{EntryState::*, Promotion, SyncMap, View};

fn map() -> SyncMap<u32, &'static str> {
    // Go's promotion rule, whatever `--cfg syncmap_stress` makes the default.
    SyncMap::builder()
        .shards(1)
        .promotion(Promotion::DirtyLen)
        .build()
}

#[test]
fn worked_example() {
    let m = map();
    assert_eq!(
        m.view(),
        View {
            read: vec![],
            amended: false,
            dirty: None,
            misses: 0
        }
    );

    // store 1: new key; the (empty) dirty map is built, the read map becomes amended.
    m.insert(1, "one");
    assert_eq!(
        m.view(),
        View {
            read: vec![],
            amended: true,
            dirty: Some(vec![(1, Value)]),
            misses: 0
        }
    );

    // store 2: new key straight into the dirty map; no miss.
    m.insert(2, "two");
    assert_eq!(
        m.view(),
        View {
            read: vec![],
            amended: true,
            dirty: Some(vec![(1, Value), (2, Value)]),
            misses: 0
        }
    );

    // load 1: read miss, found in dirty; misses 1 < len(dirty) 2.
    assert_eq!(m.get(&1).as_deref(), Some(&"one"));
    assert_eq!(m.view().misses, 1);
    assert!(m.view().amended);

    // load 1 again: misses 2 >= 2 -> promote. read = {1, 2}, no dirty map, misses reset.
    assert_eq!(m.get(&1).as_deref(), Some(&"one"));
    assert_eq!(
        m.view(),
        View {
            read: vec![(1, Value), (2, Value)],
            amended: false,
            dirty: None,
            misses: 0
        }
    );

    // delete 1: a read hit, deleted lock-free; the key stays in the read map as deleted (nil).
    assert_eq!(m.remove(&1).as_deref(), Some(&"one"));
    assert_eq!(
        m.view(),
        View {
            read: vec![(1, Deleted), (2, Value)],
            amended: false,
            dirty: None,
            misses: 0
        }
    );

    // store 3: first new key since the promotion. The dirty map is rebuilt from the read map:
    // 2 is copied, deleted 1 is expunged and left out; then 3 is added and read is amended.
    m.insert(3, "three");
    assert_eq!(
        m.view(),
        View {
            read: vec![(1, Expunged), (2, Value)],
            amended: true,
            dirty: Some(vec![(2, Value), (3, Value)]),
            misses: 0
        }
    );
    let stats = m.stats();
    assert_eq!(stats.entries_expunged, 1);
    assert_eq!(stats.dirty_rebuilds, 2); // the first store built an empty one

    // store 1: read hit on an expunged entry -> under the lock, un-expunge it, put it back into
    // the dirty map, then store.
    m.insert(1, "uno");
    assert_eq!(
        m.view(),
        View {
            read: vec![(1, Value), (2, Value)],
            amended: true,
            dirty: Some(vec![(1, Value), (2, Value), (3, Value)]),
            misses: 0
        }
    );
    assert_eq!(m.get(&1).as_deref(), Some(&"uno"));
    assert_eq!(m.len(), 3);
    m.check_invariants().unwrap();
}

#[test]
fn read_and_dirty_share_entries() {
    // A lock-free update through the read map is visible through the dirty map: after the
    // rebuild, updating 2 (a read hit) and promoting shows the new value.
    let m = map();
    m.insert(1, "a");
    m.insert(2, "b");
    m.get(&1);
    m.get(&1); // promoted
    m.insert(3, "c"); // dirty rebuilt with the same entries for 1 and 2
    m.insert(2, "B"); // lock-free, through the read map
    for _ in 0..3 {
        m.get(&3); // misses until promotion
    }
    assert!(!m.view().amended);
    assert_eq!(m.get(&2).as_deref(), Some(&"B"));
    m.check_invariants().unwrap();
}
