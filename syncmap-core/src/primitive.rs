//! The synchronization primitives the algorithm is written against.
//!
//! Normally these are `std`'s atomics and mutex plus [`arc_swap::ArcSwapAny`]. Under `--cfg loom`
//! they switch to [loom]'s model-checked versions, and the two atomically swappable cells (the
//! published read map and each entry's slot) become a loom mutex around the value: arc-swap's
//! internals are invisible to loom, so a real `ArcSwap` would let a model explore one interleaving
//! only. Both variants have the same API, so the algorithm code is written once and the code that
//! loom checks is the code that ships.
//!
//! [loom]: https://docs.rs/loom

pub(crate) use std::sync::Arc;

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

use arc_swap::RefCnt;

#[cfg(not(loom))]
mod cell {
    use super::RefCnt;

    /// A loaded value: holding one keeps the value alive but never blocks a writer.
    pub(crate) type Guard<T> = arc_swap::Guard<T>;

    /// Turns a guard into the value it protects.
    #[inline]
    pub(crate) fn guard_into_inner<T: RefCnt>(guard: Guard<T>) -> T {
        Guard::into_inner(guard)
    }

    /// Wraps an owned value as a guard.
    #[inline]
    pub(crate) fn guard_from_inner<T: RefCnt>(value: T) -> Guard<T> {
        Guard::from_inner(value)
    }

    /// An atomically replaceable reference-counted value (arc-swap).
    pub(crate) struct AtomicCell<T: RefCnt>(arc_swap::ArcSwapAny<T>);

    impl<T: RefCnt> AtomicCell<T> {
        #[inline]
        pub(crate) fn new(value: T) -> Self {
            Self(arc_swap::ArcSwapAny::new(value))
        }

        /// Loads the current value; lock-free, and on the fast path it writes only this thread's
        /// own debt slot, no shared cache line.
        #[inline]
        pub(crate) fn load(&self) -> Guard<T> {
            self.0.load()
        }

        #[inline]
        pub(crate) fn load_full(&self) -> T {
            self.0.load_full()
        }

        #[inline]
        pub(crate) fn swap(&self, new: T) -> T {
            self.0.swap(new)
        }

        /// Replaces the value with `new` if it is still `current` (compared by pointer).
        /// `Ok(previous)` on success; on failure `Err((new, observed))` hands `new` back with a
        /// guard on the value found instead, so the caller decides where that handle is released
        /// (under the map's lock it may be the last one to its value, whose `Drop` must not run
        /// there) and can retry from it without another load.
        #[inline]
        pub(crate) fn compare_exchange(&self, current: &T, new: T) -> Result<T, (T, Guard<T>)> {
            let expected = T::as_ptr(current);
            // arc-swap consumes `new` even when the exchange fails, so keep a second handle.
            let spare = new.clone();
            let previous = self.0.compare_and_swap(expected, new);
            if T::as_ptr(&previous) == expected {
                // Release the spare before building the result: it may be the last handle to its
                // value (replaced meanwhile by another thread), and a panicking `Drop` after the
                // return value is built leaks it (rust-lang/rust#47949).
                drop(spare);
                Ok(guard_into_inner(previous))
            } else {
                Err((spare, previous))
            }
        }
    }
}

#[cfg(loom)]
mod cell {
    use super::RefCnt;
    use core::ops::Deref;
    use std::sync::Arc;

    /// Stand-in for `arc_swap::Guard`: an owned copy of the value, plus the cell it came from.
    /// Releasing an arc-swap guard is itself an atomic operation on the cell's debt list, which a
    /// writer may have paid in the meantime (making the guard own a real reference), so releasing
    /// this one touches the cell's mutex too: loom can then schedule a writer between a guard's
    /// load and its release, which is when a guard can turn out to hold the last handle to a
    /// value.
    pub(crate) struct Guard<T> {
        value: Option<T>,
        cell: Option<Arc<loom::sync::Mutex<T>>>,
    }

    impl<T> Deref for Guard<T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.value
                .as_ref()
                .expect("guard holds a value until released")
        }
    }

    impl<T> Drop for Guard<T> {
        fn drop(&mut self) {
            if let (Some(_), Some(cell)) = (&self.value, &self.cell) {
                drop(cell.lock().unwrap());
            }
        }
    }

    pub(crate) fn guard_into_inner<T: RefCnt>(mut guard: Guard<T>) -> T {
        guard
            .value
            .take()
            .expect("guard holds a value until released")
    }

    pub(crate) fn guard_from_inner<T: RefCnt>(value: T) -> Guard<T> {
        Guard {
            value: Some(value),
            cell: None,
        }
    }

    /// Stand-in for `arc_swap::ArcSwapAny` that loom can see: every access is a loom mutex
    /// acquisition, i.e. a sequentially consistent synchronization point, which is what arc-swap
    /// guarantees for its loads and stores.
    pub(crate) struct AtomicCell<T: RefCnt>(Arc<loom::sync::Mutex<T>>);

    impl<T: RefCnt> AtomicCell<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(Arc::new(loom::sync::Mutex::new(value)))
        }

        fn guard(&self, value: T) -> Guard<T> {
            Guard {
                value: Some(value),
                cell: Some(Arc::clone(&self.0)),
            }
        }

        pub(crate) fn load(&self) -> Guard<T> {
            self.guard(self.load_full())
        }

        pub(crate) fn load_full(&self) -> T {
            self.0.lock().unwrap().clone()
        }

        pub(crate) fn swap(&self, new: T) -> T {
            core::mem::replace(&mut *self.0.lock().unwrap(), new)
        }

        pub(crate) fn compare_exchange(&self, current: &T, new: T) -> Result<T, (T, Guard<T>)> {
            let observed = {
                let mut slot = self.0.lock().unwrap();
                if T::as_ptr(&slot) == T::as_ptr(current) {
                    return Ok(core::mem::replace(&mut *slot, new));
                }
                slot.clone()
            };
            Err((new, self.guard(observed)))
        }
    }
}

pub(crate) use cell::{guard_from_inner, guard_into_inner, AtomicCell, Guard};
