//! A key's or value's `Drop` that panics while garbage is reclaimed: caught, so the rest of the
//! garbage is still dropped and nothing leaks, and raised once the public operation (or the
//! release of a `Ref`, pinned session or iterator) is complete.

use core::cell::Cell;
use std::any::Any;
use std::panic;

std::thread_local! {
    /// A panic from a `Drop` that ran during reclamation, to raise when the operation ends.
    static DEFERRED_PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
    /// Whether `DEFERRED_PANIC` holds a panic: one flag with no destructor, so checking it at
    /// the end of every operation is one thread-local load.
    static PANIC_DEFERRED: Cell<bool> = const { Cell::new(false) };
}

pub(super) fn defer_panic(payload: Box<dyn Any + Send>) {
    let stored = DEFERRED_PANIC.try_with(|deferred| {
        // Keep the first panic; a second one in the same operation is dropped with its payload.
        let first = deferred.take().unwrap_or(payload);
        deferred.set(Some(first));
    });
    if stored.is_ok() {
        let _ = PANIC_DEFERRED.try_with(|flag| flag.set(true));
    }
}

/// Runs a public operation: returns its result, or, if a key's or value's `Drop` panicked while
/// garbage was being reclaimed during it, raises that panic once the operation is complete (the
/// result is dropped on the way out, so nothing leaks).
#[inline(always)]
pub(crate) fn finish<R>(operation: impl FnOnce() -> R) -> R {
    let result = operation();
    raise_deferred(result)
}

/// Raises a deferred panic, dropping `result` first; returns `result` if there is none.
#[inline(always)]
pub(crate) fn raise_deferred<R>(result: R) -> R {
    if PANIC_DEFERRED.try_with(Cell::get).unwrap_or(false) {
        return raise_deferred_slow(result);
    }
    result
}

#[cold]
#[inline(never)]
fn raise_deferred_slow<R>(result: R) -> R {
    PANIC_DEFERRED.set(false);
    if let Some(payload) = DEFERRED_PANIC.take() {
        drop(result);
        panic::resume_unwind(payload);
    }
    result
}

/// Raises a deferred panic from a `Drop` (of a [`Ref`](crate::Ref) or a pinned session), unless
/// the thread is already unwinding, in which case it stays deferred to the next operation.
#[inline(always)]
pub(crate) fn raise_deferred_in_drop() {
    if PANIC_DEFERRED.try_with(Cell::get).unwrap_or(false) && !std::thread::panicking() {
        raise_deferred_slow(());
    }
}
