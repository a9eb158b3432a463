//! The module's exports, behind [`actor!`](crate::actor). Not public API.

use crate::actor::{dispatch, Actor};
use crate::error::codes;

use core::ptr::addr_of_mut;

// Everything runs on the instance's one thread, and the host never calls
// into an instance concurrently, so plain statics are enough.
static mut ACTOR: Option<Box<dyn Actor>> = None;
static mut INPUT: Vec<u8> = Vec::new(); // reused for every request
static mut SPARE: Vec<u8> = Vec::new(); // an input asked for during a turn
static mut REPLY: Vec<u8> = Vec::new(); // valid until the next call in
static mut DEPTH: u32 = 0;

/// `wactor_alloc`: a buffer of at least `len` bytes for the next request.
/// During a turn (which ABI v1 never does) it hands out another buffer, so
/// the running turn's request stays intact.
pub fn alloc(len: i32) -> i32 {
    let n = len as u32 as usize;
    // SAFETY: single-threaded; no reference to these statics outlives a call.
    let buf = unsafe {
        if DEPTH > 0 {
            &mut *addr_of_mut!(SPARE)
        } else {
            &mut *addr_of_mut!(INPUT)
        }
    };
    if buf.len() < n {
        buf.resize(n, 0);
    }
    buf.as_mut_ptr() as usize as i32
}

/// `wactor_handle`: handles the request at `[ptr, ptr+len)`, creating the
/// actor with `make` on the first call, and returns the packed location of
/// the reply.
pub fn handle(ptr: i32, len: i32, make: fn() -> Box<dyn Actor>) -> i64 {
    // SAFETY: single-threaded. The host wrote `len` bytes at `ptr`, into the
    // buffer `alloc` returned, and does not touch it until we return. The
    // reply buffer is only written here and read by the host after return.
    unsafe {
        let reply = &mut *addr_of_mut!(REPLY);
        if DEPTH > 0 {
            reply.clear();
            crate::envelope::put_reply_err(
                reply,
                codes::UNAVAILABLE,
                "wactor: the host re-entered the actor during a turn, which ABI v1 does not allow",
            );
        } else {
            let input: &[u8] = if len == 0 {
                &[]
            } else {
                core::slice::from_raw_parts(ptr as u32 as usize as *const u8, len as u32 as usize)
            };
            DEPTH += 1;
            let actor = &mut *addr_of_mut!(ACTOR);
            if actor.is_none() {
                *actor = Some(make());
            }
            let mut out = core::mem::take(reply);
            dispatch(actor.as_deref_mut().unwrap(), input, &mut out);
            *reply = out;
            DEPTH -= 1;
        }
        ((reply.as_ptr() as usize as u64) << 32 | reply.len() as u64) as i64
    }
}
