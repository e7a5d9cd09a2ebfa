//! The read map: an immutable snapshot published atomically, loaded without any lock.
//!
//! Go's invariant: `read` is loaded lock-free but replaced only under the dirty lock, and a
//! published table is never mutated; only its entries' slots change, atomically. The one field
//! that does change is `amended`, and only from `false` to `true`, under the lock (Go instead
//! publishes a new `readOnly` sharing the same map; the flag saves that allocation and an
//! indirection on every read).

use crate::primitive::{Arc, AtomicBool, AtomicIsize, Ordering};
use crate::table::Table;
use crossbeam_utils::CachePadded;

/// The live-value count of one *generation* of the map. A generation lasts from one `clear` to
/// the next: promotions hand the counter on, `clear` starts a new one, so a writer still working
/// on an entry of a cleared generation updates that generation's count, not the current one.
pub(crate) type LenCell = Arc<CachePadded<AtomicIsize>>;

pub(crate) struct ReadOnly<K, V> {
    pub(crate) table: Table<K, V>,
    /// `true` if the dirty map holds a key that `table` lacks (Go's `amended`).
    amended: AtomicBool,
    pub(crate) len: LenCell,
}

impl<K, V> ReadOnly<K, V> {
    pub(crate) fn new(table: Table<K, V>, len: LenCell) -> Self {
        ReadOnly {
            table,
            amended: AtomicBool::new(false),
            len,
        }
    }

    /// An empty read map starting a new generation.
    pub(crate) fn empty() -> Self {
        Self::new(
            Table::new(),
            Arc::new(CachePadded::new(AtomicIsize::new(0))),
        )
    }

    #[inline]
    pub(crate) fn amended(&self) -> bool {
        self.amended.load(Ordering::SeqCst)
    }

    /// Marks this snapshot amended. Caller holds the dirty lock and has just made the dirty map
    /// hold a key this snapshot lacks.
    pub(crate) fn set_amended_locked(&self) {
        self.amended.store(true, Ordering::SeqCst);
    }

    #[inline]
    pub(crate) fn add_len(&self, delta: isize) {
        self.len.fetch_add(delta, Ordering::Relaxed);
    }

    /// The generation's live count, clamped: it may dip below zero while a removal's decrement
    /// lands before the matching insertion's increment.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed).max(0) as usize
    }
}
