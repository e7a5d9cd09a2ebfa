//! Go's `sync.Map` for Rust: a concurrent hash map whose reads never lock.
//!
//! [`SyncMap`] is a faithful port of the read-map / dirty-map algorithm of Go's `sync.Map`
//! (Go 1.19–1.23), with a Rust API in `std::collections::HashMap` vocabulary. Every Go method is
//! findable by its Go name in the documentation search (`Load`, `LoadOrStore`, `Range`, …).
//!
//! ```
//! use std::ops::ControlFlow;
//! use std::thread;
//! use syncmap_core::SyncMap;
//!
//! let map: SyncMap<String, u64> = SyncMap::new();
//! map.insert("requests".into(), 0);
//! thread::scope(|s| {
//!     for _ in 0..4 {
//!         s.spawn(|| {
//!             // Lock-free once "requests" is in the read map.
//!             assert!(map.get("requests").is_some());
//!         });
//!     }
//! });
//! map.for_each(|k, v| {
//!     println!("{k} = {v}");
//!     ControlFlow::<()>::Continue(())
//! });
//! ```
//!
//! Guides: [`docs::porting_from_go`] and [`docs::handles`].
//!
//! # Features
//!
//! - `serde` (off by default): `Serialize` and `Deserialize` for [`SyncMap`], on
//!   [serde](https://serde.rs), the standard serialization framework: a map serializes as a map
//!   (a walk, not a snapshot, like [`for_each`](SyncMap::for_each)) and deserializes from one,
//!   the last of repeated keys winning.
//!
//! # The algorithm
//!
//! The map keeps two hash maps that share their entries:
//!
//! - the **read map**, an immutable snapshot published through an atomic pointer and read
//!   without any lock. Its `amended` flag says whether the dirty map holds keys it lacks;
//! - the **dirty map**, guarded by a mutex, which receives new keys. When it exists it holds every
//!   entry of the read map too (except *expunged* ones), as the same shared entries.
//!
//! Each **entry** owns its key and holds an atomic slot: a value, *deleted* (Go's `nil`) or
//! *expunged* (deleted and left out of the dirty map). Updating or deleting a key that is in the
//! read map is one compare-and-swap on its slot, with no lock. A lookup that misses the read map
//! while it is amended takes the lock, consults the dirty map and counts a **miss**; once the
//! misses have paid for the copy below (Go: once they reach the dirty map's length; see
//! [`Promotion`]), the dirty map is **promoted**: published as the new read map in one pointer
//! store. The first new key after a promotion **rebuilds** the dirty map by copying the read
//! map's live entries (pointers, never keys) and expunging its deleted ones (or, with few
//! deleted, by copying the read table whole and carrying them: see below). Every slow
//! path re-checks the read map under the lock. Each of these pieces lives in one file with Go's
//! invariants beside the code that keeps them: `read.rs`, `dirty.rs`, `entry/`, `promote.rs`,
//! and each of Go's paths is written once, in `raw.rs` (its stores in `store.rs`).
//!
//! **Shards.** A map splits its keys by hash over several such read map / dirty map pairs
//! (`shard.rs`; [`DEFAULT_SHARDS`] unless [`Builder::shards`] says otherwise), each running the
//! algorithm above by itself, with its own snapshot, dirty map, lock and miss count. Writers of
//! new keys in different shards do not wait for each other, and a promotion or rebuild moves one
//! shard, not the whole map. A key always lives in the same shard, so every single-key
//! operation is exactly Go's, within its shard; `shards(1)` is Go's structure exactly. Reads
//! pay one shift and mask to pick the shard.
//!
//! # Memory reclamation
//!
//! A read must not pay for knowing when a replaced value may be freed, so each map tracks its
//! readers itself (`reclaim/`, the design of liburcu's membarrier flavour). Every operation
//! takes one **guard** for the whole operation (a walk, one for the whole walk): two plain stores
//! to enter, two to leave, separated from the reads by a compiler fence, with no atomic
//! read-modify-write and nothing shared written. The cost moves to writers: one that unlinked
//! something issues a process-wide barrier (the `membarrier` system call, through the
//! [`membarrier2`](https://docs.rs/membarrier2) crate) and then looks at every reader's slot. A
//! map that only one thread has ever used skips the barrier.
//!
//! **Fenced mode.** A system call per write is the right price while writes are rare, not
//! while they come by the thousand. When two of a map's barriers come less than a millisecond
//! apart, the writer raises a flag before its barrier; from then on readers enter with a full
//! fence (one locked instruction) and writers need only a fence of their own before they look at
//! the readers' slots, no system call. Every reader, each 4,096 fenced entries, looks at whether
//! anything was retired meanwhile, and when nothing was it switches the map back to plain-store
//! reads. Drops are exactly as prompt in both modes; [`Stats::fenced_readers`] says which mode a
//! map is in (`reclaim/mode.rs` has the protocol and why it is safe).
//!
//! **When things are dropped.** With no concurrent reader, a value removed, replaced or cleared
//! is dropped before the call that removed it returns (if that call handed you an `Arc` to it,
//! when the last such `Arc` goes). If readers are inside the map at that moment (an operation in
//! progress on another thread, a held [`Ref`], a [`pin`](SyncMap::pin) session or an [`Iter`]),
//! it is dropped no later than when the last of them that could still see it is released: the
//! last reader out drops it. Keys (and their entries) likewise, once no table holds them. A
//! `Drop` of your own may therefore run on another thread, inside that reader's release.
//!
//! **Keys and values without drop glue** (`u64`, `&'static str`, any type for which
//! [`core::mem::needs_drop`] is false, for keys and values both) have no `Drop` to run, so only
//! their memory waits, and a map shared by several threads retires it in batches: each thread
//! keeps what it removes in a bag of its own, with no barrier and no look at the readers, until
//! it holds 64 items; the full bag is then retired once, as above, and once no reader can hold
//! it the thread frees it a few items at each later removal (so the allocator frees and
//! reallocates at an even pace). Fewer than 200 items a thread wait this way;
//! [`SyncMap::flush`] frees every thread's on demand, and dropping the map frees everything. An
//! `Arc` a removal hands you may meanwhile have a second count, the batch's. Two threads replacing
//! values run 1.5–2× faster than with a look per write (`BENCHMARKS.md`, session 12).
//!
//! **What it costs.** A read is a plain-store guard plus the probe (plus a full fence while the map
//! is in fenced mode). A write that removes or replaces a value costs a system call once a second
//! thread has used the map (about 2 µs on an idle machine; writers that need one at the same time
//! share it) while such writes are rare, and a full fence and a look at every reader's slot while
//! they are frequent; writes that only add keys pay nothing extra. A write whose look finds no
//! reader inside writes no cache line that other writers write; one that finds a reader inside
//! moves the map's epoch, a counter all writers share, so on many cores writes that overlap reads
//! still meet there. Holding a `Ref` or a session for long delays every drop in that map. For
//! write-heavy maps whose values need no prompt `Drop`, [`Reclaim::Batched`] keeps what each
//! thread removes in a bag of that thread's own and pays one barrier and one look per full bag
//! instead, and [`SyncMap::flush`] drops every thread's bag on demand. Figures: `BENCHMARKS.md`.
//!
//! # Consistency and memory ordering
//!
//! - Every single-key operation is linearizable: it takes effect atomically at one instant
//!   between its call and its return.
//! - As in Go, a write "synchronizes before" any read that observes it: everything the writing
//!   thread did before `insert`, `try_insert` (when it inserts), `remove`, a successful
//!   `compare_and_swap`/`compare_and_remove` or `clear` is visible to a thread whose `get`,
//!   `try_insert`, `remove` or compare operation observes that write's effect. (Slots and the
//!   read map are published with sequentially consistent atomics; the mutex orders the rest.)
//! - [`for_each`](SyncMap::for_each), [`retain`](SyncMap::retain) and [`iter`](SyncMap::iter) are
//!   not snapshots: no key is visited twice, each value is one the key held during the walk, and
//!   keys present for the whole walk are visited.
//! - [`len`](SyncMap::len) is O(1) in the number of keys (a sum over the shards) and exact when
//!   no write is in flight.
//! - [`clear`](SyncMap::clear) clears the shards one after the other, each atomically: a thread
//!   reading during a `clear` may see some keys gone and others not yet, as if they had been
//!   removed one shard at a time (with one shard, it is atomic, as Go's).
//!
//! # Values and keys
//!
//! Values are stored behind [`Arc`](std::sync::Arc). [`get`](SyncMap::get) returns a [`Ref`],
//! which reads the value in place with no lock and no shared write; holding one never blocks a
//! writer (see [Memory reclamation](#memory-reclamation) for what it delays). No read requires
//! `V: Clone`, and keys need not be `Clone`: each key lives once, in its entry, which both maps
//! share (only [`iter`](SyncMap::iter), which yields owned keys, clones them).
//!
//! # Thread safety
//!
//! `SyncMap<K, V, S>` is `Send` and `Sync` exactly when `K`, `V` and `S` are both `Send` and
//! `Sync`: keys and values are read through shared references from any thread and may be dropped
//! on any thread. The compiler enforces it:
//!
//! ```compile_fail
//! use std::rc::Rc;
//! use syncmap_core::SyncMap;
//! let map: SyncMap<u32, Rc<u32>> = SyncMap::new();
//! std::thread::spawn(move || drop(map)); // Rc is neither Send nor Sync
//! ```
//!
//! ```compile_fail
//! use std::cell::Cell;
//! use syncmap_core::SyncMap;
//! fn shared<T: Sync>(_: &T) {}
//! let map: SyncMap<u32, Cell<u32>> = SyncMap::new();
//! shared(&map); // Cell is Send but not Sync
//! ```
//!
//! # Departures from Go
//!
//! - A walk promotes the dirty map only when it reaches the end of the read map; one that stops
//!   early promotes nothing. Go's `Range` always promotes, which makes a loop of "insert a new key,
//!   then range and stop" cost O(n) per iteration.
//! - `amended` is a one-way flag inside the read snapshot rather than a fresh snapshot sharing the
//!   same map; the observable behaviour is the same.
//! - `clear` keeps the dirty map, emptied, only if it held at most one key (Go keeps every one,
//!   with its buckets); a larger one is dropped with its memory, and the next new key rebuilds
//!   from the empty read map in O(1). When such a one-key dirty map held the shard's every key
//!   (the read map empty), `clear` also keeps the read snapshot, resetting it in place, where
//!   Go publishes a new empty one: a clear-and-store loop allocates two objects a round, as
//!   Go's does.
//! - A lookup of an absent key does not always take the lock while the read map is amended
//!   (golang/go#21032). Each read snapshot carries a small Bloom filter of the keys added to the
//!   dirty map since it was published; `get`, `remove`, `compare_and_swap` and
//!   `compare_and_remove` of a key the filter rules out answer "absent" lock-free. The key's
//!   `Eq` then runs on fewer dirty-map lookups. Under the default promotion rule such a lookup
//!   counts no miss (next item). Under Go's rules ([`Promotion::DirtyLen`],
//!   [`Promotion::AfterMisses`]) the miss it would have counted under the lock is still counted
//!   (lock-free, folded in under the lock), and the one that would trigger a promotion takes
//!   the lock as in Go, so [`Stats`] and the promotion schedule are Go's for one thread. Under
//!   concurrency a promotion can then come a few misses late (the budget a lock-free miss checks
//!   is refreshed when the lock is released).
//! - The default promotion rule, [`Promotion::Amortized`], is not Go's (which stays available as
//!   [`Promotion::DirtyLen`]). Misses answered by the filter do not count; a locked miss counts
//!   as two entries copied (measured: a locked miss costs 1.1–2.9× an entry's copy and later
//!   drop); and once the dirty map has stopped growing, only the entries it inherited from the
//!   read map are owed, its new keys having paid their own way. So a bulk load into a fresh map
//!   is promoted after 64 locked reads instead of one per key, while a workload that inserts a
//!   new key after every promotion still copies O(1) entries per operation. A promotion waits
//!   for at least 64 locked misses, even when the dirty map holds fewer keys (Go promotes a
//!   one-key dirty map at its first miss; most of a promotion's cost is fixed). An `insert` of a
//!   key only the dirty map holds counts a miss (Go's `Store` counts none, so a key written but
//!   never read takes the lock on every write forever). Each departure and its figure:
//!   [`Promotion::Amortized`]; the measurements: `BENCHMARKS.md`.
//! - Under the default rule, a rebuild that finds at most one entry in eight of the read map
//!   deleted copies the read table whole (control bytes and entry pointers, reading no entry:
//!   about 2 ns an entry against 16–30 for Go's walk, which reads each entry's state) and
//!   carries the deleted entries into the dirty map, still deleted, instead of expunging them.
//!   Go's rules copy whole only when no entry is deleted.
//! - A `remove`, `remove_entry`, `compare_and_remove`, `remove_if` or `retain` that leaves a
//!   shard's read map mostly deleted entries (at least 64 entries, at most a quarter with a value)
//!   compacts the shard: under the lock it rebuilds the dirty map (expunging the deleted
//!   entries) and promotes it at once, as Go would after the next new key and enough misses.
//!   Without it a shard that gets no new key after a mass delete would keep its deleted keys:
//!   with 8 shards, 51 MB after deleting 1M keys and adding one, now 19 KB. Each compaction
//!   copies at most a third as many entries as it drops. (`retain` checks every shard once,
//!   after its walk.)
//! - Bulk loads (`collect`, `extend`, `From<HashMap>`, `clone`, deserializing) end with one
//!   promotion, so every key they added is read lock-free at once. Go has no bulk load: its keys
//!   sit in the dirty map until as many misses as there are keys have promoted them.
//!
//! # User code and panics
//!
//! The map stays consistent and usable whatever user code does. The key's `Hash` runs once per
//! operation, before any lock; tables store hashes and never rehash with it. Only the key's `Eq`
//! (lookups) runs while the map's lock is held: a panic there leaves the map unchanged, but it
//! **must not call back into the same map**, or it deadlocks. Everything else (`V::eq` in the
//! compare operations, the closures of [`get_or_insert_with`](SyncMap::get_or_insert_with),
//! `get_or_try_insert_with`, [`update`](SyncMap::update), `update_or_insert_with`, `remove_if`,
//! `for_each` and `retain`, and every `Drop` of a key or value) runs without the lock and may use
//! the map freely (an `update` closure that writes its own key makes every attempt fail, and
//! retries forever). Keys whose `Hash` and `Eq` disagree give wrong answers, never undefined
//! behaviour or a hang. A key's or value's `Drop` runs when the reclaimer frees it, at the end of
//! some operation or when some guard is released; a panic there is caught, the rest of the garbage
//! is still dropped, and the panic is raised again once the operation (or the release of the `Ref`,
//! session or iterator) is complete, so nothing leaks.
//!
//! # Limits
//!
//! - Writes of *new* keys take their shard's mutex, and each promotion of a shard is followed by
//!   an O(n/shards) rebuild on the next new key in it: for write-heavy work with many new keys,
//!   a map built for writes (dashmap, scc) is faster.
//! - Each shard costs 888 bytes even when empty (its cache-padded cells, an empty read snapshot
//!   and its length counter, each padded to keep writers' cache lines apart), so an empty map
//!   takes about 8.1 KiB with the default 8 shards and a 10-key registry about 9.3 KiB (a std
//!   `HashMap` of 10 such keys: 0.7 KiB); many small maps may want [`Builder::shards`]`(1)`
//!   (2 KiB empty).
//! - Deleted keys stay in the read map, as deleted entries, until a rebuild drops them (the
//!   first new key's after a promotion in their shard, once more than one entry in eight there
//!   is deleted, or the compaction of a shard that is mostly deleted entries): up to 63 deleted
//!   keys a shard, or one entry in eight of a larger one, may stay until then. Their values
//!   are dropped when removed; only the key and its entry wait.
//! - Every value is a separate allocation (its `Arc`), and every key an entry allocation (the
//!   key, the value's pointer, 32 bits of the hash and a 32-bit count of the tables holding it:
//!   24 bytes for a `u64` key), plus a pointer in its table: at a million `u64 → u64` pairs,
//!   about 67 bytes a pair against a std `HashMap`'s 36 (BENCHMARKS.md).
//! - A write that removes or replaces a value in a map that several threads use costs a
//!   process-wide barrier (a system call) while such writes are rare; that is the price of reads
//!   that write nothing. While they are frequent (fenced mode), every read pays a full fence
//!   instead, which is still less than any lock.
//! - A `Ref`, pinned session or iterator held for long (or leaked with `mem::forget`) keeps
//!   everything removed from that map afterwards alive until it is released.
//! - On one thread a read-map hit costs about three times a std `HashMap::get` with the same
//!   hasher (about twice through [`SyncMap::pin`]), measured at 1,024 `u64` keys: the guard, the
//!   shard and the shared entry each add a part (BENCHMARKS.md, "Where a read hit's time
//!   goes"). What that buys is reads that never block and write nothing shared.
//! - Like Go's map, it is not a snapshot-consistent container: there is no atomic multi-key
//!   operation.

mod config;
mod dirty;
pub mod docs;
mod entry;
mod insert;
mod iter;
mod map;
mod pin;
mod primitive;
mod promote;
mod raw;
mod read;
mod reclaim;
#[cfg(feature = "serde")]
mod serde;
mod shard;
mod slot;
mod stats;
mod store;
mod table;
#[cfg(feature = "testing")]
mod testing;
mod traits;
mod update;
mod value;

pub use config::{Builder, Promotion, Reclaim, DEFAULT_SHARDS};
#[cfg(feature = "testing")]
pub use entry::EntryState;
pub use iter::{IntoIter, Iter, Keys, Values};
pub use map::SyncMap;
pub use pin::{Pinned, PinnedIter};
pub use stats::Stats;
#[cfg(feature = "testing")]
pub use testing::View;
pub use value::{OccupiedError, Ref};
