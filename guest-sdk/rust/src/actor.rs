//! Actors, handler tables and dispatch.

use std::rc::Rc;

use crate::context::Context;
use crate::typed::{Decode, Encode};
use crate::envelope::{self, Request, KIND_ACTIVATE, KIND_MESSAGE};
use crate::error::{codes, Error};

/// A method handler: gets the turn's [`Context`] and the message's payload
/// (CBOR; empty when the sender sent none) and returns the reply's payload
/// (CBOR; empty for none) or an error.
pub type Handler = fn(&mut Context<'_>, &[u8]) -> Result<Vec<u8>, Error>;

/// An activation or deactivation hook.
pub type Hook = fn(&mut Context<'_>) -> Result<(), Error>;

/// A registered method: a [`Handler`], or a typed handler wrapped by
/// [`Handlers::typed`].
type Method = dyn Fn(&mut Context<'_>, &[u8]) -> Result<Vec<u8>, Error>;

/// An actor: what the host's messages are dispatched to. Implement it for a
/// type of your own, or use a [`Handlers`] table.
///
/// One value lives as long as its activation's instance: fields keep their
/// values from one message to the next, but the instance may be dropped at
/// any time (idle, memory pressure, a crash, a new module version), and
/// fields are **not** rolled back when a turn fails. Keep what must last in
/// state ([`Context::set`]); use fields only as a cache of it.
pub trait Actor {
    /// Handles one message sent to `method`. An actor with no such method
    /// answers `Err(Error::unknown_method(method))`.
    fn handle(&mut self, ctx: &mut Context<'_>, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error>;

    /// Runs when an activation has started and its state is loaded, as a
    /// turn of its own. The default does nothing.
    fn activate(&mut self, _ctx: &mut Context<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// Runs when the activation is about to end, as a turn of its own. The
    /// default does nothing.
    fn deactivate(&mut self, _ctx: &mut Context<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// For the SDK: a [`Handlers`] table hands itself over here, which is
    /// what lets the module be re-entered (see the crate's docs on
    /// reentrancy); other actors keep the default, `None`.
    #[doc(hidden)]
    fn take_table(&mut self) -> Option<Handlers> {
        None
    }
}

/// A table of handlers by method name: the simplest [`Actor`].
///
/// ```
/// use wactor::{Context, Error, Handlers, MapBuilder};
///
/// fn ping(_ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
///     Ok(MapBuilder::new().bool("pong", true).build())
/// }
///
/// let actor = Handlers::new().method("ping", ping);
/// assert_eq!(actor.methods().collect::<Vec<_>>(), ["ping"]);
/// ```
#[derive(Clone, Default)]
pub struct Handlers {
    methods: Vec<(&'static str, Rc<Method>)>,
    on_activate: Option<Hook>,
    on_deactivate: Option<Hook>,
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers `handler` for `name`, replacing an earlier one.
    pub fn method(self, name: &'static str, handler: Handler) -> Handlers {
        self.register(name, Rc::new(handler))
    }

    /// Registers a typed handler for `name`: the payload is decoded as a
    /// `Req` (an empty payload as `{}`; one that does not decode answers
    /// `bad_request` naming the method and the field, without calling the
    /// handler) and the `Resp` it returns is encoded as the reply (`()`:
    /// no payload). Requests and replies are usually [`record!`](crate::record)
    /// structs. Registering a name again replaces its handler.
    pub fn typed<Req: Decode + 'static, Resp: Encode + 'static>(
        self,
        name: &'static str,
        handler: fn(&mut Context<'_>, Req) -> Result<Resp, Error>,
    ) -> Handlers {
        self.register(
            name,
            Rc::new(move |ctx: &mut Context<'_>, payload: &[u8]| {
                let req = Req::from_cbor(payload).map_err(|mut e| {
                    e.message.insert_str(0, ": ");
                    e.message.insert_str(0, name);
                    e
                })?;
                Ok(handler(ctx, req)?.to_cbor())
            }),
        )
    }

    fn register(mut self, name: &'static str, handler: Rc<Method>) -> Handlers {
        match self.methods.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = handler,
            None => self.methods.push((name, handler)),
        }
        self
    }

    /// Runs `hook` when an activation starts.
    pub fn on_activate(mut self, hook: Hook) -> Handlers {
        self.on_activate = Some(hook);
        self
    }

    /// Whether the table has an activate hook: without one its answer to
    /// an activate request is an empty success (what `wactor_activate_hook`
    /// tells the host).
    pub(crate) fn has_activate_hook(&self) -> bool {
        self.on_activate.is_some()
    }

    /// Runs `hook` when an activation is about to end.
    pub fn on_deactivate(mut self, hook: Hook) -> Handlers {
        self.on_deactivate = Some(hook);
        self
    }

    /// The registered method names, in registration order.
    pub fn methods(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.methods.iter().map(|(n, _)| *n)
    }

    fn unknown(&self, method: &str) -> Error {
        let mut e = Error::unknown_method(method);
        let mut names: Vec<&str> = self.methods().collect();
        // An insertion sort: a handful of names, and no sort code in the
        // module.
        for i in 1..names.len() {
            let mut j = i;
            while j > 0 && names[j - 1] > names[j] {
                names.swap(j - 1, j);
                j -= 1;
            }
        }
        if names.is_empty() {
            e.message.push_str("; the actor registers none");
        } else {
            e.message.push_str("; the actor handles ");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    e.message.push_str(", ");
                }
                e.message.push_str(n);
            }
        }
        e
    }
}

impl Handlers {
    /// Runs the handler of `method`; needs no `&mut self`, so a nested call
    /// can run while an outer one waits.
    fn serve(&self, ctx: &mut Context<'_>, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        match self.methods.iter().find(|(n, _)| *n == method) {
            Some((_, h)) => h(ctx, payload),
            None => Err(self.unknown(method)),
        }
    }

    fn hook(hook: Option<Hook>, ctx: &mut Context<'_>) -> Result<(), Error> {
        match hook {
            Some(h) => h(ctx),
            None => Ok(()),
        }
    }
}

impl Actor for Handlers {
    fn handle(&mut self, ctx: &mut Context<'_>, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        self.serve(ctx, method, payload)
    }

    fn activate(&mut self, ctx: &mut Context<'_>) -> Result<(), Error> {
        Handlers::hook(self.on_activate, ctx)
    }

    fn deactivate(&mut self, ctx: &mut Context<'_>) -> Result<(), Error> {
        Handlers::hook(self.on_deactivate, ctx)
    }

    fn take_table(&mut self) -> Option<Handlers> {
        Some(core::mem::take(self))
    }
}

/// Handles one Request envelope for `actor` and writes the Reply envelope
/// into `out` (cleared first).
pub(crate) fn dispatch(actor: &mut dyn Actor, input: &[u8], out: &mut Vec<u8>) {
    run(input, out, |ctx, kind, method, payload| match kind {
        KIND_MESSAGE => actor.handle(ctx, method, payload),
        KIND_ACTIVATE => actor.activate(ctx).map(|()| Vec::new()),
        _ => actor.deactivate(ctx).map(|()| Vec::new()),
    })
}

/// [`dispatch`] for a shared [`Handlers`] table: what the module's exports
/// use for a table, so that a call nested in a waiting turn reaches the same
/// handlers without a second `&mut` to them.
pub(crate) fn dispatch_table(table: &Handlers, input: &[u8], out: &mut Vec<u8>) {
    run(input, out, |ctx, kind, method, payload| match kind {
        KIND_MESSAGE => table.serve(ctx, method, payload),
        KIND_ACTIVATE => Handlers::hook(table.on_activate, ctx).map(|()| Vec::new()),
        _ => Handlers::hook(table.on_deactivate, ctx).map(|()| Vec::new()),
    })
}

/// Decodes the Request in `input`, runs `turn` with a fresh [`Context`]
/// (kind, method, payload) and writes the Reply into `out`.
fn run<F>(input: &[u8], out: &mut Vec<u8>, turn: F)
where
    F: FnOnce(&mut Context<'_>, u64, &str, &[u8]) -> Result<Vec<u8>, Error>,
{
    out.clear();
    let req = match Request::decode(input) {
        Ok(r) => r,
        Err(e) => {
            let mut m = String::from("wactor: malformed request: ");
            m.push_str(e.what);
            m.push_str(" at byte ");
            crate::error::push_uint(&mut m, e.offset as u64);
            envelope::put_reply_err(out, codes::BAD_REQUEST, &m);
            return;
        }
    };
    let mut ctx = Context::new(req.method, req.sender, req.id);
    let res = turn(&mut ctx, req.kind, req.method, req.payload);
    // A state call the host refused fails the turn, whatever the handler
    // answered, so no partial state ever commits.
    let res = match ctx.take_turn_error() {
        Some(e) => Err(e),
        None => res,
    };
    match res {
        Ok(payload) => envelope::put_reply_ok(out, &payload),
        Err(e) => envelope::put_reply_err(out, &e.code, &e.message),
    }
}
