//! An entry's value slot: one atomic pointer, exactly like Go's `entry.p`.
//!
//! The null pointer is *deleted* (Go's `nil`), address 1 is *expunged* (Go's `expunged`
//! sentinel), and any other pointer is a live value: the data pointer of an
//! [`Arc`] whose one strong count the slot owns. No state change allocates, and reading a live
//! value is one acquire load and no write.
//!
//! Invariant (**retire, never drop**): whoever takes a value's count out of a slot (a successful
//! exchange returns it as [`Owned::Value`]) hands it to the reclaimer or to the caller, never
//! drops it while a guard that loaded it may still be held. So a pointer loaded under a
//! [`Guard`] stays valid for as long as that guard lives.

use crate::primitive::{Arc, AtomicPtr, Ordering};
use crate::reclaim::Guard;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

/// The `expunged` sentinel: address 1, never dereferenced. A live value's pointer is the data
/// pointer of an `Arc`, inside an allocation aligned for the `Arc`'s atomic counts (so to at
/// least 2), hence never odd; and unlike the address of a static, comparing against a constant
/// costs no load.
#[inline]
fn expunged<V>() -> *mut V {
    ptr::without_provenance_mut(1)
}

/// Whether `raw` is deleted (null) or expunged: one compare.
#[inline]
fn is_empty<V>(raw: *mut V) -> bool {
    raw.addr() <= 1
}

/// A slot state with ownership: what is stored into a slot, or taken out of one.
pub(crate) enum Owned<V> {
    Deleted,
    Expunged,
    Value(Arc<V>),
}

impl<V> Owned<V> {
    fn into_raw(self) -> *mut V {
        match self {
            Owned::Deleted => ptr::null_mut(),
            Owned::Expunged => expunged(),
            Owned::Value(v) => Arc::into_raw(v).cast_mut(),
        }
    }

    /// # Safety
    ///
    /// `raw` must come from [`Owned::into_raw`] and its count (if a value) must be owned by the
    /// caller, who hands it over.
    unsafe fn from_raw(raw: *mut V) -> Self {
        if raw.is_null() {
            Owned::Deleted
        } else if raw == expunged() {
            Owned::Expunged
        } else {
            // SAFETY: neither null nor the sentinel, so an `Arc::into_raw` pointer whose count
            // the caller owns.
            Owned::Value(unsafe { Arc::from_raw(raw) })
        }
    }

    /// The value, if live.
    pub(crate) fn into_value(self) -> Option<Arc<V>> {
        match self {
            Owned::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A slot state loaded under a guard that lives for `'g`.
pub(crate) struct Loaded<'g, V> {
    raw: *mut V,
    _guard: PhantomData<&'g V>,
}

impl<V> Clone for Loaded<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Loaded<'_, V> {}

impl<'g, V> Loaded<'g, V> {
    /// The live value, valid for the guard's lifetime.
    #[inline]
    pub(crate) fn value(self) -> Option<Val<'g, V>> {
        if is_empty(self.raw) {
            None
        } else {
            Some(Val {
                // SAFETY: not null (checked above).
                ptr: unsafe { NonNull::new_unchecked(self.raw) },
                _guard: PhantomData,
            })
        }
    }

    #[inline]
    pub(crate) fn is_deleted(self) -> bool {
        self.raw.is_null()
    }

    #[inline]
    pub(crate) fn is_expunged(self) -> bool {
        self.raw == expunged()
    }

    /// Whether this is the live value `value` points to (compared by address).
    #[inline]
    pub(crate) fn is(self, value: *const V) -> bool {
        ptr::eq(self.raw, value)
    }
}

/// Outcome of [`ValueSlot::compare_exchange`]: `Ok((previous, stored))` or
/// `Err((offered, observed))`.
pub(crate) type Exchange<'g, V> = Result<(Owned<V>, Loaded<'g, V>), (Owned<V>, Loaded<'g, V>)>;

/// A live value loaded under a guard that lives for `'g`. It keeps the pointer the slot held,
/// whose provenance covers the value's whole `Arc` allocation (a `&V` covers only the value), so
/// it can also become an `Arc` ([`share`](Self::share)).
pub(crate) struct Val<'g, V> {
    ptr: NonNull<V>,
    _guard: PhantomData<&'g V>,
}

impl<V> Clone for Val<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Val<'_, V> {}

impl<'g, V> Val<'g, V> {
    /// A value just stored by this thread.
    ///
    /// # Safety
    ///
    /// `ptr` must be the `Arc::as_ptr` of a value published in a slot while a guard that lives
    /// for `'g` was held.
    pub(crate) unsafe fn published(ptr: *const V) -> Self {
        Val {
            // SAFETY: an `Arc` data pointer is never null.
            ptr: unsafe { NonNull::new_unchecked(ptr.cast_mut()) },
            _guard: PhantomData,
        }
    }

    /// The value, borrowed for the guard's lifetime.
    #[inline]
    pub(crate) fn get(self) -> &'g V {
        // SAFETY: a live value's pointer, loaded under a guard that lives for `'g`; by the
        // module's invariant its allocation is not dropped before that guard is released.
        unsafe { self.ptr.as_ref() }
    }

    /// The pointer, with the provenance of the whole `Arc` (for a [`Ref`](crate::Ref)).
    #[inline]
    pub(crate) fn ptr(self) -> NonNull<V> {
        self.ptr
    }

    /// A new owned handle to the value.
    pub(crate) fn share(self) -> Arc<V> {
        // SAFETY: loaded under a live guard, so the slot's (or the reclaimer's) count is held.
        unsafe { share(self.ptr) }
    }
}

/// The atomic slot itself.
pub(crate) struct ValueSlot<V> {
    raw: AtomicPtr<V>,
    _owns: PhantomData<Arc<V>>,
}

impl<V> ValueSlot<V> {
    pub(crate) fn new(value: Owned<V>) -> Self {
        ValueSlot {
            raw: AtomicPtr::new(value.into_raw()),
            _owns: PhantomData,
        }
    }

    /// Whether the slot is expunged at the moment of the call. Needs no guard: it compares the
    /// slot with the sentinel and reads no value.
    pub(crate) fn is_expunged(&self) -> bool {
        self.raw.load(Ordering::Acquire) == expunged()
    }

    /// Loads the state; the value stays readable while `guard` lives.
    #[inline]
    pub(crate) fn load<'g>(&self, _guard: &'g Guard<'_>) -> Loaded<'g, V> {
        Loaded {
            raw: self.raw.load(Ordering::Acquire),
            _guard: PhantomData,
        }
    }

    /// Replaces `current` by `new`. On success the previous state's ownership passes to the
    /// caller (see the module invariant), and the stored state is returned borrowed for the
    /// guard's lifetime. On failure `new` is handed back, unpublished, with the state found
    /// instead.
    #[inline]
    pub(crate) fn compare_exchange<'g>(
        &self,
        current: Loaded<'g, V>,
        new: Owned<V>,
    ) -> Exchange<'g, V> {
        let new = new.into_raw();
        let stored = Loaded {
            raw: new,
            _guard: PhantomData,
        };
        match self
            .raw
            .compare_exchange(current.raw, new, Ordering::AcqRel, Ordering::Acquire)
        {
            // SAFETY: the exchange moved the slot's count of `previous` to us, and `new`'s count
            // to the slot.
            Ok(previous) => Ok((unsafe { Owned::from_raw(previous) }, stored)),
            Err(observed) => Err((
                // SAFETY: `new` was not published, so its count is still ours.
                unsafe { Owned::from_raw(new) },
                Loaded {
                    raw: observed,
                    _guard: PhantomData,
                },
            )),
        }
    }

    /// Unconditional exchange; the previous state's ownership passes to the caller.
    pub(crate) fn swap(&self, new: Owned<V>) -> Owned<V> {
        let previous = self.raw.swap(new.into_raw(), Ordering::AcqRel);
        // SAFETY: the swap moved the slot's count of `previous` to us.
        unsafe { Owned::from_raw(previous) }
    }
}

impl<V> ValueSlot<V> {
    /// The state, with its ownership, taken out of a slot that nothing else can reach.
    pub(crate) fn into_owned(self) -> Owned<V> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the slot is owned by value, so no guard can reach it (as in `drop`), and
        // `ManuallyDrop` keeps `drop` from taking its count a second time.
        unsafe { Owned::from_raw(this.raw.load(Ordering::Acquire)) }
    }
}

impl<V> Drop for ValueSlot<V> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no guard can reach the slot any more (entries are dropped only
        // once the reclaimer has freed the last table holding them), so its count is ours.
        drop(unsafe { Owned::from_raw(self.raw.load(Ordering::Acquire)) });
    }
}

/// A new owned handle to a value of the map.
///
/// # Safety
///
/// `value` must be a live value's pointer as a slot held it (with the provenance of its whole
/// `Arc`), loaded from (or stored into) a slot under a guard that is still held: its `Arc`'s
/// count is then owned by the slot or, until that guard is released, by the reclaimer, so it is
/// at least one.
pub(crate) unsafe fn share<V>(value: NonNull<V>) -> Arc<V> {
    let value = value.as_ptr().cast_const();
    // SAFETY: the caller's contract: `value` is the data pointer of an `Arc` with a live count.
    unsafe {
        Arc::increment_strong_count(value);
        Arc::from_raw(value)
    }
}
