//! What an entry's atomic slot holds: a value, "deleted" (Go's `nil`) or "expunged".
//!
//! The slot is one machine word swapped atomically by arc-swap, exactly like Go's `entry.p`:
//! `Deleted` is the null pointer, `Expunged` is the address of a private static (Go's `expunged`
//! sentinel), and `Value` is an [`Arc`] turned into its raw data pointer. No state change
//! allocates, and a read of a live value is one pointer load.

use crate::primitive::Arc;
use arc_swap::RefCnt;
use core::ptr;

/// The state of one entry.
pub(crate) enum Slot<V> {
    /// Deleted while reachable from the dirty map (or while there is no dirty map): Go's `nil`.
    Deleted,
    /// Deleted and left out of the current dirty map: Go's `expunged`.
    Expunged,
    /// A live value.
    Value(Arc<V>),
}

impl<V> Clone for Slot<V> {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Slot::Deleted => Slot::Deleted,
            Slot::Expunged => Slot::Expunged,
            Slot::Value(v) => Slot::Value(Arc::clone(v)),
        }
    }
}

impl<V> Slot<V> {
    /// The value, if live.
    #[inline]
    pub(crate) fn value(&self) -> Option<&Arc<V>> {
        match self {
            Slot::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Takes the value out, if live.
    #[inline]
    pub(crate) fn into_value(self) -> Option<Arc<V>> {
        match self {
            Slot::Value(v) => Some(v),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn is_expunged(&self) -> bool {
        matches!(self, Slot::Expunged)
    }
}

/// The `expunged` sentinel's address. It is 8-aligned (arc-swap keeps tags in the low two bits of
/// the pointers it tracks, so they must be clear, as they are in every `Arc` data pointer), it is
/// never dereferenced, and being a static it can never equal the address of a heap allocation.
static EXPUNGED: u64 = 0;

#[inline]
fn expunged_ptr<V>() -> *mut V {
    ptr::addr_of!(EXPUNGED).cast::<V>().cast_mut()
}

// SAFETY: `into_ptr`/`as_ptr`/`from_ptr` form a bijection between `Slot<V>` and three disjoint
// pointer classes: null (`Deleted`), the sentinel `&EXPUNGED` (`Expunged`), and `Arc::into_raw`
// pointers (`Value`), which are never null and never point into a static. `as_ptr` does not touch
// the reference count; `into_ptr` transfers the one reference owned by a `Value` to the raw
// pointer and `from_ptr` takes it back, as `RefCnt`'s contract requires. The two dataless states
// own nothing, so the extra `from_ptr` calls arc-swap may make for them are harmless, and for
// `Value` they are `Arc`'s own, already sound, protocol.
unsafe impl<V> RefCnt for Slot<V> {
    type Base = V;

    #[inline]
    fn into_ptr(me: Self) -> *mut V {
        match me {
            Slot::Deleted => ptr::null_mut(),
            Slot::Expunged => expunged_ptr(),
            Slot::Value(v) => Arc::into_raw(v).cast_mut(),
        }
    }

    #[inline]
    fn as_ptr(me: &Self) -> *mut V {
        match me {
            Slot::Deleted => ptr::null_mut(),
            Slot::Expunged => expunged_ptr(),
            Slot::Value(v) => Arc::as_ptr(v).cast_mut(),
        }
    }

    #[inline]
    unsafe fn from_ptr(ptr: *const V) -> Self {
        if ptr.is_null() {
            Slot::Deleted
        } else if ptr == expunged_ptr::<V>().cast_const() {
            Slot::Expunged
        } else {
            // SAFETY: arc-swap only passes back pointers produced by `into_ptr` (or `inc`) whose
            // reference it owns; neither null nor the sentinel, so it came from `Arc::into_raw`.
            Slot::Value(unsafe { Arc::from_raw(ptr) })
        }
    }
}
