//! The Rust guest SDK for wactor, a WebAssembly virtual-actor runtime
//! (ABI version 1, see docs/ABI.md in the repository).
//!
//! An actor is a [`Handlers`] table of functions by method name, or any type
//! that implements [`Actor`]. The [`actor!`] macro makes the module's
//! exports (`wactor_abi_version`, `wactor_alloc`, `wactor_handle`,
//! `wactor_reentrant`, `wactor_activate_hook`) and creates the actor on the
//! first call that needs it (a message, or the host asking whether it can
//! be re-entered or has an activate hook):
//!
//! ```no_run
//! use wactor::{Context, Doc, Error, MapBuilder};
//!
//! // hello {"name": "Ada"} -> {"greeting": "Hello, Ada!"}
//! fn hello(_ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
//!     let doc = Doc::parse(payload)?;
//!     let name = doc.text("name").ok_or_else(|| Error::bad_request("hello needs a text \"name\""))?;
//!     Ok(MapBuilder::new().text("greeting", &format!("Hello, {}!", name)).build())
//! }
//!
//! wactor::actor! {
//!     "hello" => hello,
//! }
//! ```
//!
//! Build it as a `cdylib` for `wasm32-unknown-unknown`. Payloads are CBOR
//! (the HTTP gateway converts JSON bodies): read them with [`Doc`], answer
//! with [`MapBuilder`], or use the low-level [`cbor`] module. A handler
//! returns `Ok(payload)` or an [`Error`] whose code and message the caller
//! gets; either way the instance stays. A panic traps the instance
//! (build with `panic = "abort"`): the host discards it and reports
//! `trapped`.
//!
//! # Reentrancy
//!
//! A type declared `reentrant: call_chain` in the manifest may get a call
//! nested in one of its own turns: while a handler waits in
//! [`Context::ask`], an ask on that ask's call chain that comes back to
//! this actor (A asks B, B asks A; or A asks itself) runs at once, on the
//! same instance, through the same handlers, and the outer `ask` returns
//! afterwards. The nested handler gets a [`Context`] of its own (its own
//! sender, message id and turn error); it sees the waiting turn's
//! uncommitted writes, and its effects join that turn. The waiting
//! handler's payload, context and locals are untouched by it; statics and
//! `thread_local`s the actor keeps itself are not (a `RefCell` borrowed
//! across an `ask` would panic when the nested call borrows it again).
//!
//! Only a module whose actor is a [`Handlers`] table (the `actor!` list
//! form, or `actor!(Handlers::new()...)`) can be re-entered: its handlers
//! are plain functions. A type of your own that implements [`Actor`]
//! takes `&mut self`, which a nested call would alias, so such a module's
//! `wactor_reentrant` answers 0 and the host refuses to deploy it as
//! reentrant.

mod actor;
pub mod cbor;
mod context;
mod doc;
mod envelope;
mod error;
#[cfg(any(test, all(target_arch = "wasm32", target_os = "unknown", feature = "allocator")))]
mod heap;
pub mod limits;
mod schedule;
mod sys;
pub mod typed;
mod watch;

#[doc(hidden)]
pub mod rt;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use actor::{Actor, Handler, Handlers, Hook};
pub use context::{Context, Level};
pub use doc::{ArrayBuilder, Doc, MapBuilder, Value};
pub use error::{codes, Error};
pub use schedule::{Missed, Schedule};
pub use typed::{Bytes, Decode, Encode, Ref, State};
pub use watch::{reasons, Lifecycle, METHOD_DEACTIVATED};

/// The ABI version this SDK implements: what `wactor_abi_version` returns.
pub const ABI_VERSION: i32 = 1;

/// Declares the module's actor and generates its exports.
///
/// Either a list of `"method" => handler` pairs:
///
/// ```ignore
/// wactor::actor! {
///     "add" => add,
///     "get" => get,
/// }
/// ```
///
/// or any expression whose value implements [`Actor`] (a [`Handlers`]
/// table with hooks, a struct of your own), evaluated once per instance,
/// when the first message arrives (or when the host asks
/// `wactor_reentrant`, which answers 1 only for a [`Handlers`] table: see
/// [Reentrancy](crate#reentrancy)):
///
/// ```ignore
/// wactor::actor!(Handlers::new().method("add", add).on_activate(warm_up));
/// wactor::actor!(Counter::default());
/// ```
///
/// Use it once per module, at the top level of the `cdylib` crate. The
/// exports exist only when compiling for wasm32; natively the expression is
/// still type-checked, and [`testing::TestActor`] runs the actor.
#[macro_export]
macro_rules! actor {
    ($($name:literal => $handler:expr),+ $(,)?) => {
        $crate::actor!($crate::Handlers::new()$(.method($name, $handler))+);
    };
    ($make:expr $(,)?) => {
        const _: () = {
            #[allow(dead_code)]
            fn __wactor_make() -> ::std::boxed::Box<dyn $crate::Actor> {
                ::std::boxed::Box::new($make)
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn wactor_abi_version() -> i32 {
                $crate::ABI_VERSION
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn wactor_alloc(len: i32) -> i32 {
                $crate::rt::alloc(len)
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn wactor_reentrant() -> i32 {
                $crate::rt::reentrant(__wactor_make)
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn wactor_activate_hook() -> i32 {
                $crate::rt::activate_hook(__wactor_make)
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn wactor_handle(ptr: i32, len: i32) -> i64 {
                $crate::rt::handle(ptr, len, __wactor_make)
            }
        };
    };
}

#[cfg(test)]
mod tests;
