//! A handler's view of its turn.

use core::time::Duration;

use crate::cbor;
use crate::envelope;
use crate::error::{codes, Error};
use crate::schedule::{millis, Schedule};
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

    /// Forwards the ask this turn handles to the actor `target`: its reply
    /// to `method` with `payload` answers the original asker, and this
    /// handler's own reply is dropped. Like a tell, the forward leaves when
    /// the turn commits (a failed turn forwards nothing); the asker's
    /// deadline still holds, and a forward to an actor that waits on the
    /// asker fails it with `deadlock`. An error means the host refused: the
    /// message is not an ask, the turn already forwarded, or the target is
    /// malformed or of an unknown type.
    pub fn forward(&mut self, target: &str, method: &str, payload: &[u8]) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_call(&mut self.arg, target, method, payload, 0);
        let (st, res) = sys::call(Func::Forward, &self.arg);
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

    /// Sets a volatile timer named `name`: once the turn has committed,
    /// `method` is delivered with `payload` (CBOR; `&[]` for none) to this
    /// activation `due` later, then every `period` (zero: once). Each tick
    /// is a turn of its own, without a sender. Setting a name that is set
    /// replaces that timer. Timers die with the activation (idle, evicted,
    /// deactivated, a host restart): use a reminder for what must last. An
    /// error means the host refused it (`bad_request` for an empty name or
    /// method or a delay over ten years, `too_large`); a failed turn sets
    /// nothing.
    pub fn set_timer(&mut self, name: &str, due: Duration, period: Duration, method: &str, payload: &[u8]) -> Result<(), Error> {
        self.arg.clear();
        envelope::Timer { name, due_ms: millis(due), period_ms: millis(period), method, payload }.encode(&mut self.arg);
        let (st, res) = sys::call(Func::TimerSet, &self.arg);
        check(st, &res)
    }

    /// Cancels the timer `name` when the turn commits; a tick of it already
    /// waiting in the mailbox is dropped. Cancelling a timer that is not set
    /// is not an error.
    pub fn cancel_timer(&mut self, name: &str) -> Result<(), Error> {
        self.cancel(Func::TimerCancel, name)
    }

    /// Sets a durable reminder named `name`: `method` is delivered with
    /// `payload` (CBOR; `&[]` for none) to this actor when `schedule` says,
    /// activating it if need be. The reminder is stored with the turn's
    /// commit and survives restarts; a firing is a turn of its own, without
    /// a sender, and is retried with backoff if it fails. Setting a name
    /// that is set replaces that reminder. An error means the host (or, for
    /// an empty cron expression, the SDK) refused it, mostly with
    /// `bad_request`; a failed turn sets nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wactor::{Context, Error, MapBuilder, Missed, Schedule};
    ///
    /// fn start(ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    ///     // Poll every 5 s while the actor is active.
    ///     ctx.set_timer("poll", Duration::from_secs(5), Duration::from_secs(5), "poll", &[])?;
    ///     // A report every day at 09:00 UTC, even after restarts; none for days the host was down.
    ///     let body = MapBuilder::new().text("kind", "daily").build();
    ///     ctx.set_reminder("report", Schedule::cron("0 9 * * *").missed(Missed::Skip), "report", &body)?;
    ///     Ok(Vec::new())
    /// }
    ///
    /// fn stop(ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    ///     ctx.cancel_timer("poll")?;
    ///     ctx.cancel_reminder("report")?;
    ///     Ok(Vec::new())
    /// }
    /// # let _ = wactor::Handlers::new().method("start", start).method("stop", stop);
    /// ```
    pub fn set_reminder(&mut self, name: &str, schedule: Schedule, method: &str, payload: &[u8]) -> Result<(), Error> {
        let cron = schedule.cron_expr().unwrap_or("");
        if schedule.cron_expr() == Some("") {
            let mut m = String::from("wactor: reminder \"");
            m.push_str(name);
            m.push_str("\" has an empty cron expression");
            return Err(Error::bad_request(m));
        }
        self.arg.clear();
        envelope::Reminder {
            name,
            in_ms: schedule.in_ms(),
            at_unix_ms: schedule.at_ms(),
            every_ms: schedule.every_ms(),
            first_ms: schedule.first_ms(),
            cron,
            method,
            payload,
            missed: schedule.missed_policy().map(|m| m.as_str()).unwrap_or(""),
        }
        .encode(&mut self.arg);
        let (st, res) = sys::call(Func::ReminderSet, &self.arg);
        check(st, &res)
    }

    /// Deletes the reminder `name` when the turn commits. Cancelling a
    /// reminder that is not set is not an error.
    pub fn cancel_reminder(&mut self, name: &str) -> Result<(), Error> {
        self.cancel(Func::ReminderCancel, name)
    }

    /// Makes this actor a watcher of `target` ("type/id") when the turn
    /// commits: each time `target` deactivates, for any reason, this actor
    /// gets one lifecycle message, the method [`crate::METHOD_DEACTIVATED`]
    /// sent by `target` (read it with [`crate::Lifecycle::parse`]). A watch
    /// lasts until [`Context::unwatch`], across restarts; watching an actor
    /// that is not active tells nothing until it next deactivates. The host
    /// refuses a watch of the actor itself or of a malformed ref
    /// (`bad_request`), of an unknown type (`unknown_type`), and past
    /// [`crate::limits::MAX_WATCHES`] or `MAX_WATCHERS` (`too_large`).
    pub fn watch(&mut self, target: &str) -> Result<(), Error> {
        self.cancel(Func::Watch, target) // the same envelope: {1: target}
    }

    /// Ends this actor's watch of `target` when the turn commits.
    /// Unwatching an actor not watched is not an error.
    pub fn unwatch(&mut self, target: &str) -> Result<(), Error> {
        self.cancel(Func::Unwatch, target)
    }

    /// Publishes `payload` (CBOR; `&[]` for none) to `topic` when the turn
    /// commits: every subscriber then gets it once, as a tell to the method
    /// it subscribed with, sent by this actor. A topic is 1 to
    /// [`crate::limits::MAX_TOPIC_LEN`] bytes, segments separated by dots,
    /// without spaces, `*` or `>` (`bad_request`).
    pub fn publish(&mut self, topic: &str, payload: &[u8]) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_state_op(&mut self.arg, topic, if payload.is_empty() { None } else { Some(payload) });
        let (st, res) = sys::call(Func::Publish, &self.arg);
        check(st, &res)
    }

    /// Subscribes this actor to `topic` when the turn commits: each
    /// message published to it is then delivered to `method`, once. Durable
    /// until [`Context::unsubscribe`]; at most
    /// [`crate::limits::MAX_SUBSCRIPTIONS`] topics (`too_large`).
    pub fn subscribe(&mut self, topic: &str, method: &str) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_subscription(&mut self.arg, topic, method);
        let (st, res) = sys::call(Func::Subscribe, &self.arg);
        check(st, &res)
    }

    /// Ends this actor's subscription to `topic` when the turn commits.
    pub fn unsubscribe(&mut self, topic: &str) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_subscription(&mut self.arg, topic, "");
        let (st, res) = sys::call(Func::Unsubscribe, &self.arg);
        check(st, &res)
    }

    fn cancel(&mut self, f: Func, name: &str) -> Result<(), Error> {
        self.arg.clear();
        envelope::put_cancel(&mut self.arg, name);
        let (st, res) = sys::call(f, &self.arg);
        check(st, &res)
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
