//! The module's exports, behind [`actor!`](crate::actor). Not public API.
//!
//! Everything runs on the instance's one thread. The host calls in only
//! while the guest is not running, except for one case: a type declared
//! `reentrant: call_chain` whose module answers `wactor_reentrant` with 1
//! may get a request nested in a turn that waits in `ask` (the host calls
//! `wactor_alloc` and `wactor_handle` again from inside that import). So:
//!
//! - each handler depth has its own input buffer: the waiting turn's
//!   request (which its `Context` and payload borrow) stays intact;
//! - no reference into these statics is held across a call out of this
//!   file (the handlers may re-enter it); every access takes a fresh one;
//! - the reply is built in a local vector and stored in `REPLY` only when
//!   the handler has returned; the host copies a reply out before it calls
//!   in again or returns into a waiting turn;
//! - a [`Handlers`] table is shared (`Rc`) between the depths, since its
//!   handlers need no `&mut` to it. Any other [`Actor`] has
//!   `handle(&mut self)`, which a nested call would alias, so such a module
//!   declares that it cannot be re-entered, and a nested request (which a
//!   host keeping to the ABI never sends) gets an `unavailable` error.
//!
//! A turn's `Context` (sender, message id, self ref, argument buffer,
//! refused state call) is a local of its own dispatch, and the result of a
//! host call is fetched into a fresh vector (see `sys`), so nothing else is
//! shared between a waiting turn and a nested one.

use std::rc::Rc;

use crate::actor::{dispatch, dispatch_table, Actor, Handlers};
use crate::error::codes;

use core::ptr::addr_of_mut;

/// The actor of a module whose actor is not a [`Handlers`] table, leaked
/// so that no `Box` asserts uniqueness while its turn runs.
static mut CUSTOM: Option<*mut dyn Actor> = None;
/// The actor of a module whose actor is a [`Handlers`] table.
static mut TABLE: Option<Rc<Handlers>> = None;
/// Input buffers by handler depth: `INPUTS[d]` holds the request `alloc`
/// was asked for while `d` handlers ran. Level 0 is kept for reuse; deeper
/// ones are freed when their handler returns.
static mut INPUTS: Vec<Vec<u8>> = Vec::new();
/// The last reply, valid until the next call in.
static mut REPLY: Vec<u8> = Vec::new();
/// How many `handle` calls are running.
static mut DEPTH: usize = 0;

/// Creates the actor with `make` unless it exists.
///
/// SAFETY: the caller holds no reference to CUSTOM or TABLE.
unsafe fn ensure_actor(make: fn() -> Box<dyn Actor>) {
    if (*addr_of_mut!(CUSTOM)).is_some() || (*addr_of_mut!(TABLE)).is_some() {
        return;
    }
    let mut actor = make();
    match actor.take_table() {
        Some(t) => *addr_of_mut!(TABLE) = Some(Rc::new(t)),
        None => *addr_of_mut!(CUSTOM) = Some(Box::into_raw(actor)),
    }
}

/// `wactor_reentrant`: 1 when the module's actor is a [`Handlers`] table,
/// which the SDK can re-enter safely; 0 otherwise. Creates the actor (as
/// the first message would) to find out.
pub fn reentrant(make: fn() -> Box<dyn Actor>) -> i32 {
    // SAFETY: single-threaded; no reference to the statics is held here.
    unsafe {
        ensure_actor(make);
        (*addr_of_mut!(TABLE)).is_some() as i32
    }
}

/// `wactor_activate_hook`: 0 when the module's actor is a [`Handlers`]
/// table without an activate hook, which answers an activate request with
/// an empty success and nothing else; 1 otherwise (any other [`Actor`]
/// may do something in `activate`). Creates the actor to find out. The
/// table cannot change once made, so the answer holds for every instance
/// the host starts from the snapshot it asks this in.
pub fn activate_hook(make: fn() -> Box<dyn Actor>) -> i32 {
    // SAFETY: single-threaded; no reference to the statics is held here.
    unsafe {
        ensure_actor(make);
        match &*addr_of_mut!(TABLE) {
            Some(t) if !t.has_activate_hook() => 0,
            _ => 1,
        }
    }
}

/// `wactor_alloc`: a buffer of at least `len` bytes for the next request,
/// one that no running handler reads.
pub fn alloc(len: i32) -> i32 {
    alloc_buf(len as u32 as usize) as usize as i32
}

/// `wactor_handle`: handles the request at `[ptr, ptr+len)`, creating the
/// actor with `make` on the first call, and returns the packed location of
/// the reply.
pub fn handle(ptr: i32, len: i32, make: fn() -> Box<dyn Actor>) -> i64 {
    let (p, n) = handle_at(ptr as u32 as usize as *const u8, len as u32 as usize, make);
    ((p as usize as u64) << 32 | n as u64) as i64
}

/// [`alloc`] with native pointers (32 bits wide on wasm32).
pub(crate) fn alloc_buf(n: usize) -> *mut u8 {
    // SAFETY: single-threaded, and this calls nothing that could re-enter;
    // the buffer of a running handler (a lower level) is not touched, and
    // growing the outer vector moves no level's bytes.
    unsafe {
        let level = *addr_of_mut!(DEPTH);
        let inputs = &mut *addr_of_mut!(INPUTS);
        while inputs.len() <= level {
            inputs.push(Vec::new());
        }
        let buf = &mut inputs[level];
        if buf.len() < n {
            buf.resize(n, 0);
        }
        buf.as_mut_ptr()
    }
}

/// [`handle`] with native pointers: the reply is at the returned pointer,
/// of the returned length, until the next call in.
///
/// The host wrote `len` bytes at `ptr`, into the buffer [`alloc_buf`]
/// returned at this depth, which nothing writes until this handler has
/// returned (deeper requests get buffers of their own).
pub(crate) fn handle_at(ptr: *const u8, len: usize, make: fn() -> Box<dyn Actor>) -> (*const u8, usize) {
    // SAFETY: single-threaded; `[ptr, ptr+len)` is the request, as above.
    // No reference into the statics lives across the dispatch, which may
    // call back in here.
    unsafe {
        let level = *addr_of_mut!(DEPTH);
        let input: &[u8] = if len == 0 { &[] } else { core::slice::from_raw_parts(ptr, len) };
        ensure_actor(make);
        // The last reply was copied out before this call: reuse its memory.
        let mut out = core::mem::take(&mut *addr_of_mut!(REPLY));
        let table = (*addr_of_mut!(TABLE)).clone();
        *addr_of_mut!(DEPTH) = level + 1;
        match (table, *addr_of_mut!(CUSTOM)) {
            (Some(t), _) => dispatch_table(&t, input, &mut out),
            (None, Some(actor)) if level == 0 => dispatch(&mut *actor, input, &mut out),
            _ => crate::envelope::put_reply_err(
                &mut out,
                codes::UNAVAILABLE,
                "wactor: the host re-entered an actor that is not a Handlers table while its turn waits; \
                 such a module declares it cannot be re-entered (wactor_reentrant answers 0)",
            ),
        }
        *addr_of_mut!(DEPTH) = level;
        if level > 0 {
            // This request's buffer is not needed any more.
            if let Some(b) = (*addr_of_mut!(INPUTS)).get_mut(level) {
                *b = Vec::new();
            }
        }
        let reply = &mut *addr_of_mut!(REPLY);
        *reply = out;
        (reply.as_ptr(), reply.len())
    }
}

/// Forgets the actor and the buffers, as a fresh instance would have none.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn reset() {
    // SAFETY: single-threaded tests (serialized by their caller); nothing
    // runs in here.
    unsafe {
        *addr_of_mut!(TABLE) = None;
        if let Some(p) = (*addr_of_mut!(CUSTOM)).take() {
            drop(Box::from_raw(p));
        }
        *addr_of_mut!(INPUTS) = Vec::new();
        *addr_of_mut!(REPLY) = Vec::new();
        *addr_of_mut!(DEPTH) = 0;
    }
}
