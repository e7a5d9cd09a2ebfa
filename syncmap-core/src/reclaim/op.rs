//! An operation's garbage: [`Op`], a guard plus what the operation unlinked, and [`Retired`],
//! what it hands to the reclaimer when it ends (kept inline for one or two items, the common
//! cases, so that ending an operation allocates nothing and reads back no wide value).

use super::{Domain, Guard};
use core::cell::Cell;
use core::mem::{ManuallyDrop, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};

use super::unwind::defer_panic;

/// An operation in progress: a guard and the garbage unlinked under it. Dropping it (also when
/// unwinding) leaves the guard and retires the garbage, so nothing unlinked is ever lost or
/// dropped early.
pub(crate) struct Op<'a, G> {
    guard: ManuallyDrop<Guard<'a>>,
    domain: &'a Domain<G>,
    /// How many items were retired, up to `MANY`: a one-byte count, so the common end of an
    /// operation never reads the (wide) garbage back; reading it right after building it would
    /// stall on store forwarding.
    retired: Cell<u8>,
    /// Whether something retired is too large to wait for a batch.
    large: Cell<bool>,
    /// Invariant: `first` holds the first item retired iff `retired >= 1`, `second` the second
    /// iff `retired == 2`, and `rest` a vector of all but the first iff `retired == MANY`; each
    /// is uninitialised otherwise, so an operation that retires nothing writes none of them, and
    /// one that retires two (a removal from the dirty map: the entry and its value; a `clear`:
    /// the snapshot and the dirty table) allocates no vector.
    first: Cell<MaybeUninit<G>>,
    second: Cell<MaybeUninit<G>>,
    rest: Cell<MaybeUninit<Vec<G>>>,
}

/// `Op::retired` once `rest` is in use.
const MANY: u8 = 3;

impl<'a, G> Op<'a, G> {
    /// An operation of `domain` on `guard`, a guard of that domain; nothing retired yet.
    #[inline(always)]
    pub(super) fn new(guard: Guard<'a>, domain: &'a Domain<G>) -> Self {
        Op {
            guard: ManuallyDrop::new(guard),
            domain,
            retired: Cell::new(0),
            large: Cell::new(false),
            first: Cell::new(MaybeUninit::uninit()),
            second: Cell::new(MaybeUninit::uninit()),
            rest: Cell::new(MaybeUninit::uninit()),
        }
    }

    /// The operation's guard.
    #[inline]
    pub(crate) fn guard(&self) -> &Guard<'a> {
        &self.guard
    }

    /// Hands over something this operation unlinked; it is dropped once no reader can hold it.
    /// Takes `&self`, so references loaded under the operation's guard stay usable.
    #[inline]
    pub(crate) fn retire(&self, garbage: G) {
        if self.retired.get() == 0 {
            // Invariant: `first` was uninitialised (it owns nothing) and now holds the item.
            self.first.set(MaybeUninit::new(garbage));
            self.retired.set(1);
        } else {
            self.retire_more(garbage);
        }
    }

    #[cold]
    #[inline(never)]
    fn retire_more(&self, garbage: G) {
        match self.retired.get() {
            1 => {
                self.second.set(MaybeUninit::new(garbage));
                self.retired.set(2);
            }
            2 => {
                // SAFETY: `retired == 2`, so `second` holds an item (the invariant); it moves
                // into `rest`, and `second` is uninitialised again.
                let second = unsafe { self.second.replace(MaybeUninit::uninit()).assume_init() };
                self.rest.set(MaybeUninit::new(vec![second, garbage]));
                self.retired.set(MANY);
            }
            _ => {
                // SAFETY: `retired == MANY`, so `rest` holds a vector (the invariant), which is
                // taken out and put back.
                let mut rest = unsafe { self.rest.replace(MaybeUninit::uninit()).assume_init() };
                rest.push(garbage);
                self.rest.set(MaybeUninit::new(rest));
            }
        }
    }

    /// Like [`retire`](Self::retire), for something large (a whole table): never left waiting
    /// for a batch, whatever the domain's mode.
    pub(crate) fn retire_large(&self, garbage: G) {
        self.large.set(true);
        self.retire(garbage);
    }

    /// Ends the operation but keeps a guard, for a result that borrows from the map: if nothing
    /// was unlinked this is the operation's own guard, otherwise a nested one taken before the
    /// garbage is retired. (Always inlined, so the operation is not moved: see `enter`.)
    #[inline(always)]
    pub(crate) fn into_guard(self) -> Guard<'a> {
        if self.retired.get() == 0 {
            let mut this = ManuallyDrop::new(self);
            // SAFETY: `this` is never dropped, so the guard is taken exactly once; nothing was
            // retired, so its garbage slots are uninitialised and own nothing.
            return unsafe { ManuallyDrop::take(&mut this.guard) };
        }
        let kept = self.domain.enter();
        drop(self);
        kept
    }
}

impl<'a, G> Op<'a, G> {
    /// Ends the operation, handing `kept` (something it took out of the map for its caller,
    /// such as a replaced value's `Arc`) to the caller: as it is when no reader can hold it
    /// any more, which is the common case, and otherwise after `share` has made the map's own
    /// garbage of it (see `Domain::retire_keeping`). Between taking `kept` out of the map and
    /// this call, nothing may panic: unwinding would drop `kept` under a reader.
    #[inline(always)]
    pub(crate) fn end_keeping<T>(self, kept: T, share: impl FnOnce(&T) -> Option<G>) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the guard is taken exactly once.
        let guard = unsafe { ManuallyDrop::take(&mut this.guard) };
        let garbage = this.take_garbage();
        this.domain
            .retire_keeping(guard, garbage, this.large.get(), kept, share)
    }

    /// The garbage retired so far, leaving the operation's slots uninitialised.
    #[inline(always)]
    fn take_garbage(&self) -> Option<Retired<G>> {
        let retired = self.retired.replace(0);
        if retired == 0 {
            return None;
        }
        let take = |slot: &Cell<MaybeUninit<G>>| {
            // SAFETY: called only for a slot that the invariant says holds an item, once
            // (`retired` is reset to 0 first, so the slots are uninitialised again).
            unsafe { slot.replace(MaybeUninit::uninit()).assume_init() }
        };
        let more = match retired {
            1 => More::Nothing,
            2 => More::One(take(&self.second)),
            // SAFETY: `retired == MANY`: `rest` holds a vector (the invariant), taken once.
            _ => More::Many(unsafe { self.rest.replace(MaybeUninit::uninit()).assume_init() }),
        };
        Some(Retired {
            first: take(&self.first),
            more,
        })
    }
}

impl<G> Drop for Op<'_, G> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: taken exactly once, here; the field is not used afterwards.
        let guard = unsafe { ManuallyDrop::take(&mut self.guard) };
        match self.take_garbage() {
            None => drop(guard),
            Some(garbage) => self.domain.retire(guard, garbage, self.large.get()),
        }
    }
}

/// Garbage of one operation: usually one item; two are kept inline too.
pub(super) struct Retired<G> {
    first: G,
    more: More<G>,
}

/// What an operation retired after its first item.
enum More<G> {
    Nothing,
    One(G),
    /// Two or more.
    Many(Vec<G>),
}

impl<G> Retired<G> {
    /// The items of `all`, in order, if there is one.
    pub(super) fn from_vec(mut all: Vec<G>) -> Option<Self> {
        if all.is_empty() {
            return None;
        }
        let first = all.remove(0);
        Some(Retired {
            first,
            more: match all.len() {
                0 => More::Nothing,
                1 => More::One(all.pop().expect("one item")),
                _ => More::Many(all),
            },
        })
    }

    /// Moves every item, in order, to the end of `to`; returns how many there were.
    pub(super) fn append_to(self, to: &mut Vec<G>) -> usize {
        to.push(self.first);
        1 + match self.more {
            More::Nothing => 0,
            More::One(second) => {
                to.push(second);
                1
            }
            More::Many(mut rest) => {
                let n = rest.len();
                to.append(&mut rest);
                n
            }
        }
    }

    /// Drops every item (see [`free`]); one or two items take no iterator.
    #[inline]
    fn free(self) {
        free(Some(self.first));
        match self.more {
            More::Nothing => {}
            more => more.free(),
        }
    }
}

impl<G> More<G> {
    #[cold]
    #[inline(never)]
    fn free(self) {
        match self {
            More::Nothing => {}
            More::One(second) => free(Some(second)),
            More::Many(rest) => free(rest),
        }
    }
}

/// Drops the garbage of an operation, if any (see [`Retired::free`]).
#[inline]
pub(super) fn free_retired<G>(garbage: Option<Retired<G>>) {
    if let Some(garbage) = garbage {
        garbage.free();
    }
}

/// An operation's garbage with one more item, if either is there.
pub(super) fn retired_with<G>(garbage: Option<Retired<G>>, extra: Option<G>) -> Option<Retired<G>> {
    match (garbage, extra) {
        (garbage, None) => garbage,
        (None, Some(first)) => Some(Retired {
            first,
            more: More::Nothing,
        }),
        (Some(Retired { first, more }), Some(extra)) => Some(Retired {
            first,
            more: match more {
                More::Nothing => More::One(extra),
                More::One(second) => More::Many(vec![second, extra]),
                More::Many(mut rest) => {
                    rest.push(extra);
                    More::Many(rest)
                }
            },
        }),
    }
}

/// Drops each item, catching a panicking `Drop` so that the rest are still dropped; the first
/// panic is raised by [`finish`] once the public operation is complete.
pub(super) fn free<G>(garbage: impl IntoIterator<Item = G>) {
    for g in garbage {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(g))) {
            defer_panic(payload);
        }
    }
}

impl<G> IntoIterator for Retired<G> {
    type Item = G;
    type IntoIter = core::iter::Chain<
        core::iter::Chain<core::iter::Once<G>, core::option::IntoIter<G>>,
        std::vec::IntoIter<G>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let (second, rest) = match self.more {
            More::Nothing => (None, Vec::new()),
            More::One(second) => (Some(second), Vec::new()),
            More::Many(rest) => (None, rest),
        };
        core::iter::once(self.first).chain(second).chain(rest)
    }
}
