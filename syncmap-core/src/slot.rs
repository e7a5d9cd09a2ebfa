//! What an entry's atomic slot holds: a value, "deleted" (Go's `nil`) or "expunged".
//!
//! The slot is one machine word swapped atomically by arc-swap, exactly like Go's `entry.p`:
//! `Deleted` is the null pointer, `Expunged` is the address of a private static (Go's `expunged`
//! sentinel), and `Value` is an [`Arc`] turned into its raw data pointer. No state change
//! allocates, and a read of a live value is one pointer load.

use crate::primitive::Arc;
use arc_swap::RefCnt;
use core::cell::Cell;
use core::ptr;
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

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

    /// Called by arc-swap in the middle of its own bookkeeping (a load's fallback path drops the
    /// reference it took on a value that a writer replaced meanwhile, and that may be the value's
    /// last). A panic from `V::drop` unwinding out of there would skip the rest of that
    /// bookkeeping and leak the value arc-swap was about to hand out, so it is deferred (see
    /// [`drop_deferring_panic`]).
    unsafe fn dec(ptr: *const V) {
        // SAFETY: arc-swap passes a pointer whose reference it owns, as for `from_ptr`.
        drop_deferring_panic(unsafe { Self::from_ptr(ptr) });
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

/// An `Arc` as the read-map cell holds it: arc-swap's own `RefCnt` for `Arc`, except that a panic
/// from dropping the last reference inside arc-swap's bookkeeping is deferred, as for [`Slot`]
/// (the last reference to a stale read map owns keys and entries, whose `Drop`s are user code).
pub(crate) struct Shared<T>(pub(crate) Arc<T>);

impl<T> Shared<T> {
    pub(crate) fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    #[inline]
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> core::ops::Deref for Shared<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

// SAFETY: the same pointer protocol as arc-swap's impl for `Arc<T>`: `into_ptr`/`from_ptr` are
// `Arc::into_raw`/`Arc::from_raw` and transfer the one reference the `Shared` owns, and `as_ptr`
// borrows without touching the count. Only `dec` differs, in how a panicking drop unwinds.
unsafe impl<T> RefCnt for Shared<T> {
    type Base = T;

    #[inline]
    fn into_ptr(me: Self) -> *mut T {
        Arc::into_raw(me.0).cast_mut()
    }

    #[inline]
    fn as_ptr(me: &Self) -> *mut T {
        Arc::as_ptr(&me.0).cast_mut()
    }

    #[inline]
    unsafe fn from_ptr(ptr: *const T) -> Self {
        // SAFETY: arc-swap only passes back pointers from `into_ptr` whose reference it owns.
        Shared(unsafe { Arc::from_raw(ptr) })
    }

    unsafe fn dec(ptr: *const T) {
        // SAFETY: as for `from_ptr`.
        drop_deferring_panic(unsafe { Self::from_ptr(ptr) });
    }
}

/// Drops `value`, catching a panic from its `Drop` (user code) so that it does not unwind
/// through arc-swap's bookkeeping; [`finish`] raises it at the end of the public operation.
fn drop_deferring_panic<T>(value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(value))) {
        DEFERRED_PANIC.with(|deferred| {
            // Keep the first panic; a second one in the same operation is dropped with its payload.
            let first = deferred.take().unwrap_or(payload);
            deferred.set(Some(first));
        });
        PANIC_DEFERRED.set(true);
    }
}

thread_local! {
    /// A panic from a key's or value's `Drop` caught inside arc-swap (see `drop_deferring_panic`).
    static DEFERRED_PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
    /// Whether `DEFERRED_PANIC` holds a panic. A plain flag with no destructor, so checking it
    /// at the end of every operation is one thread-local load.
    static PANIC_DEFERRED: Cell<bool> = const { Cell::new(false) };
}

/// Runs a public operation: returns its result, or, if a key's or value's `Drop` panicked inside
/// arc-swap during the operation, raises that panic once the operation's bookkeeping is complete
/// (the result is dropped on the way out, so nothing leaks). Every operation ends here except
/// the lock-free paths of `get`, for which even this one flag test is a tenth of the cost: a
/// panic deferred there is raised by the thread's next operation that ends here.
#[inline(always)]
pub(crate) fn finish<R>(operation: impl FnOnce() -> R) -> R {
    let result = operation();
    if PANIC_DEFERRED.get() {
        return raise_deferred_panic(result);
    }
    result
}

/// The rare path of [`finish`], kept out of line so the common path is one flag test.
#[cold]
#[inline(never)]
fn raise_deferred_panic<R>(result: R) -> R {
    PANIC_DEFERRED.set(false);
    if let Some(payload) = DEFERRED_PANIC.take() {
        drop(result);
        panic::resume_unwind(payload);
    }
    result
}
