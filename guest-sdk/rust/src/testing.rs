//! Running actors natively, without a host: for unit tests (`cargo test` on
//! the build machine). Only outside wasm32.
//!
//! A [`TestActor`] drives an actor through the same code path as the real
//! host (Request envelope in, Reply envelope out) with an in-memory fake
//! host behind the SDK's imports. Turns are transactions as in the real
//! host: state writes and tells commit only when the handler succeeds.
//!
//! ```
//! use wactor::testing::TestActor;
//! use wactor::{Context, Doc, Error, Handlers, MapBuilder};
//!
//! fn add(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
//!     let n = Doc::parse(payload)?.int("n").ok_or_else(|| Error::bad_request("need n"))?;
//!     let total = ctx.get_int("n")?.unwrap_or(0) + n;
//!     ctx.set_int("n", total)?;
//!     Ok(MapBuilder::new().int("n", total).build())
//! }
//!
//! let mut t = TestActor::new("counter/a", Handlers::new().method("add", add));
//! t.call("add", &MapBuilder::new().int("n", 2).build()).unwrap();
//! let out = t.call("add", &MapBuilder::new().int("n", 3).build()).unwrap();
//! assert_eq!(Doc::parse(&out).unwrap().int("n"), Some(5));
//! assert_eq!(t.state_int("n"), Some(5));
//! assert_eq!(t.call("add", &[]).unwrap_err().code, "bad_request");
//! assert_eq!(t.call("nope", &[]).unwrap_err().code, "unknown_method");
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::actor::{dispatch, Actor};
use crate::cbor;
use crate::envelope::{self, Request, KIND_ACTIVATE, KIND_DEACTIVATE, KIND_MESSAGE};
use crate::error::{codes, Error};
use crate::schedule::{Missed, Schedule};
use crate::sys::{self, Func, STATUS_ERROR, STATUS_NOT_FOUND, STATUS_OK};

/// A message a turn told (sent one-way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub target: String,
    pub method: String,
    pub payload: Vec<u8>,
}

/// A timer a committed turn set (see [`TestActor::timers`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    pub name: String,
    pub due_ms: u64,
    pub period_ms: u64,
    pub method: String,
    pub payload: Vec<u8>,
}

/// A reminder a committed turn set (see [`TestActor::reminders`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub name: String,
    pub schedule: Schedule,
    pub method: String,
    pub payload: Vec<u8>,
}

/// Answers the asks of the actor under test: `(target, method, payload)` to
/// the reply payload or an error.
pub type AskFn = Box<dyn FnMut(&str, &str, &[u8]) -> Result<Vec<u8>, Error>>;

#[derive(Default)]
struct Fake {
    self_ref: String,
    state: BTreeMap<String, Vec<u8>>,
    // The running turn's buffered effects.
    writes: BTreeMap<String, Option<Vec<u8>>>,
    tells: Vec<Sent>,
    deactivate: bool,
    timer_ops: Vec<(String, Option<Timer>)>,
    reminder_ops: Vec<(String, Option<Reminder>)>,
    // Committed effects.
    sent: Vec<Sent>,
    timers: BTreeMap<String, Timer>,
    reminders: BTreeMap<String, Reminder>,
    logs: Vec<(i64, String)>,
    deactivated: bool,
    asks: Option<AskFn>,
    fail_state: Option<Error>,
}

fn err(code: &str, msg: &str) -> (u32, Vec<u8>) {
    let mut b = Vec::new();
    envelope::put_error(&mut b, code, msg);
    (STATUS_ERROR, b)
}

fn ok(res: Vec<u8>) -> (u32, Vec<u8>) {
    (STATUS_OK, res)
}

/// Malformed arguments make the real host abort the turn (`bad_reply`);
/// here they are a bug in the SDK, so they panic.
fn host_call(fake: &Rc<RefCell<Fake>>, f: Func, arg: &[u8]) -> (u32, Vec<u8>) {
    match f {
        Func::Tell | Func::Ask => {
            let c = envelope::decode_call(arg).expect("malformed Call envelope");
            if !c.target.contains('/') || c.target.starts_with('/') || c.target.ends_with('/') {
                return err(codes::BAD_REQUEST, "target must be type/id");
            }
            if c.method.is_empty() {
                return err(codes::BAD_REQUEST, "empty method");
            }
            if f == Func::Tell {
                fake.borrow_mut().tells.push(Sent {
                    target: c.target.to_string(),
                    method: c.method.to_string(),
                    payload: c.payload.to_vec(),
                });
                return ok(Vec::new());
            }
            // Release the borrow while the callback runs: it may run another
            // TestActor.
            let cb = fake.borrow_mut().asks.take();
            match cb {
                None => err(codes::UNKNOWN_TYPE, "TestActor: no ask handler (see TestActor::on_ask)"),
                Some(mut cb) => {
                    let r = cb(c.target, c.method, c.payload);
                    fake.borrow_mut().asks = Some(cb);
                    match r {
                        Ok(p) => ok(p),
                        Err(e) => err(if e.code.is_empty() { codes::ERROR } else { &e.code }, &e.message),
                    }
                }
            }
        }
        Func::StateGet | Func::StateSet | Func::StateDelete => {
            let (key, value) = envelope::decode_state_op(arg).expect("malformed StateOp envelope");
            let mut fk = fake.borrow_mut();
            if let Some(e) = &fk.fail_state {
                let e = e.clone();
                return err(&e.code, &e.message);
            }
            if key.len() > 1024 {
                return err(codes::TOO_LARGE, "state key over 1024 bytes");
            }
            match f {
                Func::StateGet => {
                    let v = match fk.writes.get(key) {
                        Some(w) => w.clone(),
                        None => fk.state.get(key).cloned(),
                    };
                    match v {
                        Some(v) => ok(v),
                        None => (STATUS_NOT_FOUND, Vec::new()),
                    }
                }
                Func::StateSet => {
                    fk.writes.insert(key.to_string(), Some(value.unwrap_or(&[]).to_vec()));
                    ok(Vec::new())
                }
                _ => {
                    fk.writes.insert(key.to_string(), None);
                    ok(Vec::new())
                }
            }
        }
        Func::SelfRef => ok(fake.borrow().self_ref.as_bytes().to_vec()),
        Func::Log => {
            let (level, msg) = envelope::decode_log(arg).expect("malformed LogRecord envelope");
            fake.borrow_mut().logs.push((level, msg.to_string()));
            ok(Vec::new())
        }
        Func::Deactivate => {
            fake.borrow_mut().deactivate = true;
            ok(Vec::new())
        }
        Func::TimerSet => {
            let t = envelope::Timer::decode(arg).expect("malformed Timer envelope");
            if let Some(msg) = check_schedule_name(t.name, t.method) {
                return err(codes::BAD_REQUEST, msg);
            }
            if t.due_ms > MAX_DELAY_MS || t.period_ms > MAX_DELAY_MS {
                return err(codes::BAD_REQUEST, "due_ms and period_ms must be at most 10 years");
            }
            let timer = Timer {
                name: t.name.to_string(),
                due_ms: t.due_ms,
                period_ms: t.period_ms,
                method: t.method.to_string(),
                payload: t.payload.to_vec(),
            };
            fake.borrow_mut().timer_ops.push((timer.name.clone(), Some(timer)));
            ok(Vec::new())
        }
        Func::ReminderSet => {
            let m = envelope::Reminder::decode(arg).expect("malformed Reminder envelope");
            if let Some(msg) = check_schedule_name(m.name, m.method) {
                return err(codes::BAD_REQUEST, msg);
            }
            let schedules = [m.in_ms != 0, m.at_unix_ms != 0, m.every_ms != 0, !m.cron.is_empty()];
            if schedules.iter().filter(|s| **s).count() > 1 {
                return err(codes::BAD_REQUEST, "more than one schedule");
            }
            if m.first_ms != 0 && m.every_ms == 0 {
                return err(codes::BAD_REQUEST, "first_ms applies to every_ms only");
            }
            if [m.in_ms, m.every_ms, m.first_ms].iter().any(|v| *v > MAX_DELAY_MS) {
                return err(codes::BAD_REQUEST, "a delay or period is longer than 10 years");
            }
            let missed = match m.missed {
                "" => None,
                s => match Missed::from_name(s) {
                    Some(p) => Some(p),
                    None => return err(codes::BAD_REQUEST, "unknown missed-tick policy"),
                },
            };
            let r = Reminder {
                name: m.name.to_string(),
                schedule: Schedule::from_fields(m.in_ms, m.at_unix_ms, m.every_ms, m.first_ms, m.cron, missed),
                method: m.method.to_string(),
                payload: m.payload.to_vec(),
            };
            fake.borrow_mut().reminder_ops.push((r.name.clone(), Some(r)));
            ok(Vec::new())
        }
        Func::TimerCancel | Func::ReminderCancel => {
            let name = envelope::decode_cancel(arg).expect("malformed Cancel envelope").to_string();
            let mut fk = fake.borrow_mut();
            if f == Func::TimerCancel {
                fk.timer_ops.push((name, None));
            } else {
                fk.reminder_ops.push((name, None));
            }
            ok(Vec::new())
        }
    }
}

/// The host's limit on delays and periods: ten years of 365 days.
const MAX_DELAY_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// What the host says of a timer's or reminder's name and method. Cron
/// expressions are not checked here.
fn check_schedule_name(name: &str, method: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty name")
    } else if name.len() > 256 {
        Some("name longer than 256 bytes")
    } else if method.is_empty() {
        Some("no method to deliver")
    } else {
        None
    }
}

/// An actor under test with its own in-memory host: state, outbox, log.
pub struct TestActor {
    actor: Box<dyn Actor>,
    fake: Rc<RefCell<Fake>>,
    next_id: u64,
}

impl TestActor {
    /// Wraps `actor`, whose own reference is `self_ref` (`type/id`).
    pub fn new(self_ref: &str, actor: impl Actor + 'static) -> TestActor {
        let fake = Fake { self_ref: self_ref.to_string(), ..Fake::default() };
        TestActor { actor: Box::new(actor), fake: Rc::new(RefCell::new(fake)), next_id: 0 }
    }

    /// Sends `method` with `payload` from outside (no sender) and returns the
    /// reply's payload or error.
    pub fn call(&mut self, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        self.turn(KIND_MESSAGE, method, payload, "")
    }

    /// Sends `method` with `payload` as if from the actor `sender`.
    pub fn call_from(&mut self, sender: &str, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        self.turn(KIND_MESSAGE, method, payload, sender)
    }

    /// Runs the activation hook.
    pub fn activate(&mut self) -> Result<(), Error> {
        self.turn(KIND_ACTIVATE, "", &[], "").map(|_| ())
    }

    /// Runs the deactivation hook.
    pub fn deactivate(&mut self) -> Result<(), Error> {
        self.turn(KIND_DEACTIVATE, "", &[], "").map(|_| ())
    }

    /// Sends raw Request bytes and returns the raw Reply bytes.
    pub fn raw(&mut self, request: &[u8]) -> Vec<u8> {
        let fake = self.fake.clone();
        let prev = sys::set_host(Some(Rc::new(move |f, arg: &[u8]| host_call(&fake, f, arg))));
        let mut out = Vec::new();
        dispatch(&mut *self.actor, request, &mut out);
        sys::set_host(prev);
        out
    }

    fn turn(&mut self, kind: u64, method: &str, payload: &[u8], sender: &str) -> Result<Vec<u8>, Error> {
        self.next_id += 1;
        let mut id = String::from("test-");
        crate::error::push_uint(&mut id, self.next_id);
        let req = Request { kind, method, payload, sender, id: &id }.encode();
        let reply = self.raw(&req);
        let res = envelope::decode_reply(&reply).expect("the SDK wrote a malformed Reply");
        let mut fk = self.fake.borrow_mut();
        let writes = std::mem::take(&mut fk.writes);
        let tells = std::mem::take(&mut fk.tells);
        let deactivate = std::mem::replace(&mut fk.deactivate, false);
        let timer_ops = std::mem::take(&mut fk.timer_ops);
        let reminder_ops = std::mem::take(&mut fk.reminder_ops);
        if res.is_ok() {
            for (name, t) in timer_ops {
                match t {
                    Some(t) => fk.timers.insert(name, t),
                    None => fk.timers.remove(&name),
                };
            }
            for (name, r) in reminder_ops {
                match r {
                    Some(r) => fk.reminders.insert(name, r),
                    None => fk.reminders.remove(&name),
                };
            }
            if deactivate {
                fk.timers.clear(); // timers die with the activation
            }
            for (k, v) in writes {
                match v {
                    Some(v) => fk.state.insert(k, v),
                    None => fk.state.remove(&k),
                };
            }
            fk.sent.extend(tells);
            fk.deactivated |= deactivate;
            if let Ok(p) = &res {
                if !p.is_empty() {
                    cbor::well_formed(p).expect("the handler's reply payload is not one CBOR item");
                }
            }
        }
        res
    }

    /// Answers the actor's asks with `f` instead of failing them with
    /// `unknown_type`.
    pub fn on_ask(&mut self, f: impl FnMut(&str, &str, &[u8]) -> Result<Vec<u8>, Error> + 'static) {
        self.fake.borrow_mut().asks = Some(Box::new(f));
    }

    /// Makes every later state call fail with `e` (`None` to stop).
    pub fn fail_state(&mut self, e: Option<Error>) {
        self.fake.borrow_mut().fail_state = e;
    }

    /// The committed value of `key`.
    pub fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.fake.borrow().state.get(key).cloned()
    }

    /// The committed value of `key` as a CBOR integer.
    pub fn state_int(&self, key: &str) -> Option<i64> {
        cbor::decode_int(&self.state(key)?).ok()
    }

    /// Sets committed state, as if an earlier turn had written it.
    pub fn set_state(&mut self, key: &str, value: &[u8]) {
        self.fake.borrow_mut().state.insert(key.to_string(), value.to_vec());
    }

    /// The messages told by committed turns, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.fake.borrow().sent.clone()
    }

    /// Every log record so far (logs are kept even from failed turns).
    pub fn logs(&self) -> Vec<(i64, String)> {
        self.fake.borrow().logs.clone()
    }

    /// The timers committed turns set and did not cancel, by name. (The
    /// fake host never fires them: call their method to simulate a tick.)
    /// A committed deactivation drops them, as the real host does.
    pub fn timers(&self) -> Vec<Timer> {
        self.fake.borrow().timers.values().cloned().collect()
    }

    /// The reminders committed turns set and did not cancel, by name. (The
    /// fake host never fires them.)
    pub fn reminders(&self) -> Vec<Reminder> {
        self.fake.borrow().reminders.values().cloned().collect()
    }

    /// Whether a committed turn asked to be deactivated.
    pub fn deactivated(&self) -> bool {
        self.fake.borrow().deactivated
    }
}
