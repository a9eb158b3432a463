//! A handler's view of its turn.

use crate::cbor;
use crate::envelope;
use crate::error::{codes, Error};
use crate::sys::{self, Func, STATUS_ERROR, STATUS_NOT_FOUND, STATUS_OK};

/// The severity of a log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// A handler's view of its turn: which message it handles, who sent it, and
/// the host calls the turn may make.
///
/// A turn is a transaction. State writes and deletes and tells are buffered
/// by the host and committed together, atomically, only if the handler
/// returns `Ok`; reads see the turn's own writes. An `Err` from the handler,
/// or a state call the host refused, drops all of them.
pub struct Context<'a> {
    method: &'a str,
    sender: &'a str,
    id: &'a str,
    self_ref: Option<String>,
    failed: Option<Error>,
    arg: Vec<u8>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(method: &'a str, sender: &'a str, id: &'a str) -> Context<'a> {
        Context { method, sender, id, self_ref: None, failed: None, arg: Vec::new() }
    }

    /// The method the message was sent to (`""` in the activate and
    /// deactivate hooks).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The `type/id` of the actor that sent the message; `None` when it
    /// came from outside (HTTP, the CLI, a program embedding the host).
    pub fn sender(&self) -> Option<&'a str> {
        if self.sender.is_empty() {
            None
        } else {
            Some(self.sender)
        }
    }

    /// The message's unique id (a redelivered message keeps its id); `""`
    /// when the host sent none.
    pub fn message_id(&self) -> &'a str {
        self.id
    }

    /// This actor's own `type/id`, asked of the host once per turn.
    pub fn self_ref(&mut self) -> Result<String, Error> {
        if let Some(s) = &self.self_ref {
            return Ok(s.clone());
        }
        let (st, res) = sys::call(Func::SelfRef, &[]);
        check(st, &res)?;
        let s = match String::from_utf8(res) {
            Ok(s) => s,
            Err(_) => return Err(Error::new(codes::BAD_REPLY, "wactor: the host's self reference is not UTF-8")),
        };
        self.self_ref = Some(s.clone());
        Ok(s)
    }

    /// Sends a one-way message to the actor `target` (`type/id`). The host
    /// delivers it only after this turn commits; if the turn fails it is
    /// never sent. An error means the host refused it (a malformed target,
    /// an unknown type, too many tells). `payload` is CBOR; `&[]` sends
    /// none.
    pub fn tell(&mut self, target: &str, method: &str, payload: &[u8]) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_call(&mut self.arg, target, method, payload, 0);
        let (st, res) = sys::call(Func::Tell, &self.arg);
        check(st, &res)
    }

    /// Sends a message to the actor `target` now and waits for its reply
    /// payload. `timeout_ms` 0 means the host's default (5 s). The error is
    /// the callee's own application error or one of the runtime's
    /// (`timeout`, `deadlock`, `unknown_method`, ...): see [`codes`]. The
    /// callee's turn commits on its own, whatever becomes of this one.
    pub fn ask(&mut self, target: &str, method: &str, payload: &[u8], timeout_ms: u32) -> Result<Vec<u8>, Error> {
        self.arg.clear();
        envelope::put_call(&mut self.arg, target, method, payload, timeout_ms as u64);
        let (st, res) = sys::call(Func::Ask, &self.arg);
        check(st, &res)?;
        Ok(res)
    }

    /// The value stored under `key`, including one this turn wrote; `None`
    /// if there is none. If the host refuses the read, the error is returned
    /// and the turn fails when the handler returns, whatever it answers.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.arg.clear();
        envelope::put_state_op(&mut self.arg, key, None);
        let (st, res) = sys::call(Func::StateGet, &self.arg);
        if st == STATUS_NOT_FOUND {
            return Ok(None);
        }
        self.state_result(st, &res)?;
        Ok(Some(res))
    }

    /// Stores `value` under `key` when the turn commits. If the host refuses
    /// the write (a value over the size limit, say), the error is returned
    /// and the turn fails when the handler returns, whatever it answers: no
    /// partial state ever commits.
    pub fn set(&mut self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_state_op(&mut self.arg, key, Some(value));
        let (st, res) = sys::call(Func::StateSet, &self.arg);
        self.state_result(st, &res)
    }

    /// Removes `key` when the turn commits. Deleting a missing key is not an
    /// error. Refusals fail the turn as with [`set`](Context::set).
    pub fn delete(&mut self, key: &str) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_state_op(&mut self.arg, key, None);
        let (st, res) = sys::call(Func::StateDelete, &self.arg);
        self.state_result(st, &res)
    }

    /// A state value holding one CBOR integer; `None` if there is none. A
    /// value that is not a single integer is an error with code
    /// [`codes::BAD_STATE`].
    pub fn get_int(&mut self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => match cbor::decode_int(&v) {
                Ok(n) => Ok(Some(n)),
                Err(_) => {
                    let mut m = String::from("wactor: the state value of \"");
                    m.push_str(key);
                    m.push_str("\" is not a CBOR integer");
                    Err(Error::new(codes::BAD_STATE, m))
                }
            },
        }
    }

    /// Stores one CBOR integer under `key`.
    pub fn set_int(&mut self, key: &str, v: i64) -> Result<(), Error> {
        self.set(key, &cbor::encode_int(v))
    }

    /// Writes `msg` to the host's log at `level`, tagged with the actor and
    /// the method. Logging never fails the turn.
    pub fn log(&mut self, level: Level, msg: &str) {
        self.arg.clear();
        envelope::put_log(&mut self.arg, level as i64, msg);
        let _ = sys::call(Func::Log, &self.arg);
    }

    pub fn debug(&mut self, msg: &str) {
        self.log(Level::Debug, msg)
    }

    pub fn info(&mut self, msg: &str) {
        self.log(Level::Info, msg)
    }

    pub fn warn(&mut self, msg: &str) {
        self.log(Level::Warn, msg)
    }

    /// Logs at [`Level::Error`]. (It does not fail the turn: return an
    /// `Err` for that.)
    pub fn error(&mut self, msg: &str) {
        self.log(Level::Error, msg)
    }

    /// Asks the host to deactivate this actor once the turn has committed:
    /// the instance is dropped and the next message activates the actor
    /// afresh from its committed state. Forgotten if the turn fails.
    pub fn deactivate(&mut self) {
        let _ = sys::call(Func::Deactivate, &[]);
    }

    /// The first state call the host refused in this turn, if any: such a
    /// turn fails with that error whatever the handler returns.
    pub fn turn_error(&self) -> Option<&Error> {
        self.failed.as_ref()
    }

    pub(crate) fn take_turn_error(&mut self) -> Option<Error> {
        self.failed.take()
    }

    fn state_result(&mut self, st: u32, res: &[u8]) -> Result<(), Error> {
        let r = check(st, res);
        if let Err(e) = &r {
            if self.failed.is_none() {
                self.failed = Some(e.clone());
            }
        }
        r
    }
}

/// Interprets a host call's status: `Ok` for OK and NOT_FOUND, the error
/// envelope's error for ERROR.
fn check(st: u32, res: &[u8]) -> Result<(), Error> {
    match st {
        STATUS_OK | STATUS_NOT_FOUND => Ok(()),
        STATUS_ERROR => Err(envelope::decode_error(res)),
        _ => Err(Error::new(codes::BAD_REPLY, "wactor: the host answered with an unknown status")),
    }
}
