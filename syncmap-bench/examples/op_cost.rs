//! A small binary for counting the instructions of one operation with callgrind:
//!
//! ```text
//! cargo build --release -p syncmap-bench --example op_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/op_cost cas_absent 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/op_cost cas_absent 100000
//! ```
//!
//! The difference of the two totals, divided by the count, is the cost of one operation.
//! Kinds: `get_hit`, `get_miss`, `pin_hit` (`get` through one `pin()`), `plain_hit`
//! (`HashMap::get`), `cas_absent` (Go's CompareAndSwapNoExistingKey: a compare-and-swap of a key
//! never stored, in an empty map), `cas_unequal` (Go's CompareAndSwapValueNotEqual: the key is
//! present, its value differs), `cas_hit` (a `get`, then a compare-and-swap that succeeds),
//! `insert_hit` (an `insert` replacing a value), `insert_new` (an `insert` of a key never stored,
//! growth and promotions included, as in Go's LoadOrStoreUnique), `plain_insert_new` (the same
//! into a `HashMap`), `load_or_store_hit` (`get_or_insert_full` of a present key, as in Go's
//! LoadOrStoreCollision), `remove_deleted` (`remove` of key 0, already removed, whose entry
//! stays in the read map, deleted: Go's LoadAndDeleteCollision and DeleteCollision),
//! `clear_store` (a `clear`, then an `insert` of one of 256 keys: Go's Clear),
//! `insert_remove_new` (an `insert` of a new key, then its `remove`, in the 1,024-key map),
//! `swap_mostly_misses` (Go's SwapMostlyMisses as Go runs it: one key stored and read twice,
//! then of every 1,024 operations one replaces that key and 1,023 insert a new key and remove
//! it). A third argument `shared` has another thread look the map up once before the timed
//! part, so that writes take the reclaimer's general path (a map only one thread has used skips
//! its barriers), as they do in Go's benchmarks. The map holds 1,024 keys, read once so they
//! are promoted, except for `cas_absent` and `swap_mostly_misses`, which set their map up as
//! Go's benchmarks do. foldhash, seeded at random: counts of the paths that change a table move
//! by a few percent from run to run.

use std::hint::black_box;
use syncmap_core::SyncMap;

type Fold = foldhash::fast::RandomState;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "get_hit".into());
    let count: u64 = args.next().map_or(1000, |n| n.parse().expect("a count"));
    let shared = match args.next().as_deref() {
        None => false,
        Some("shared") => true,
        Some(other) => panic!("unknown option {other}: the third argument may only be `shared`"),
    };
    let map: SyncMap<u64, u64, Fold> = SyncMap::with_hasher(Fold::default());
    let plain: std::collections::HashMap<u64, u64, Fold> = (0..1024).map(|i| (i, i)).collect();
    if kind == "swap_mostly_misses" {
        map.insert(0, 0);
        black_box(map.get(&0).map(|v| *v));
        black_box(map.get(&0).map(|v| *v));
    } else if kind != "cas_absent" {
        for i in 0..1024 {
            map.insert(i, i);
        }
        for i in 0..2048 {
            black_box(map.get(&(i % 1024)).map(|v| *v));
        }
    }
    if shared {
        // Another thread looks the map up once: from then on the map is shared, and every write
        // that unlinks something takes the reclaimer's general path, as in Go's benchmarks
        // (set up on one goroutine, run on others).
        std::thread::scope(|s| {
            s.spawn(|| black_box(map.get(&0).map(|v| *v)));
        });
    }
    let sum = match kind.as_str() {
        "get_hit" => run(count, |i| map.get(&(i % 1024)).map_or(0, |v| *v)),
        "get_miss" => run(count, |i| map.get(&(i % 1024 + 1024)).map_or(0, |v| *v)),
        "pin_hit" => {
            let pin = map.pin();
            run(count, |i| pin.get(&(i % 1024)).map_or(0, |v| *v))
        }
        "plain_hit" => run(count, |i| plain.get(&(i % 1024)).map_or(0, |v| *v)),
        "cas_absent" => run(count, |key| {
            u64::from(map.compare_and_swap(&key, &0, 0).is_ok())
        }),
        "cas_unequal" => run(count, |i| {
            u64::from(map.compare_and_swap(&(i % 1024), &u64::MAX, 0).is_ok())
        }),
        "insert_hit" => run(count, |i| map.insert(i % 1024, i).map_or(0, |v| *v)),
        "insert_new" => run(count, |i| map.insert(i + 1024, i).map_or(0, |v| *v)),
        "plain_insert_new" => {
            let mut plain = plain;
            run(count, |i| plain.insert(i + 1024, i).unwrap_or(0))
        }
        "load_or_store_hit" => run(count, |i| {
            let (value, loaded) = map.get_or_insert_full(i % 1024, 0);
            *value + u64::from(loaded)
        }),
        "remove_deleted" => {
            map.remove(&0);
            run(count, |_| map.remove(&0).map_or(0, |v| *v))
        }
        "insert_remove_new" => run(count, |i| {
            map.insert(i + 1024, i);
            map.remove(&(i + 1024)).map_or(0, |v| *v)
        }),
        "swap_mostly_misses" => run(count, |i| {
            if i % 1024 == 0 {
                map.insert(0, 0).map_or(0, |v| *v)
            } else {
                map.insert(i, i);
                map.remove(&i).map_or(0, |v| *v)
            }
        }),
        "clear_store" => run(count, |i| {
            map.clear();
            map.insert(i % 256, i).map_or(0, |v| *v)
        }),
        "cas_hit" => run(count, |i| {
            let key = i % 1024;
            let current = *map.get(&key).expect("present");
            u64::from(map.compare_and_swap(&key, &current, current + 1).is_ok())
        }),
        other => panic!("unknown kind {other}"),
    };
    println!("{}", black_box(sum));
}

/// Runs `op` on 0, 1, …, `count - 1` and sums its results.
fn run(count: u64, mut op: impl FnMut(u64) -> u64) -> u64 {
    let mut sum = 0_u64;
    for i in 0..count {
        sum = sum.wrapping_add(op(black_box(i)));
    }
    sum
}
