//! Running actors natively, without a host: for unit tests (`cargo test` on
//! the build machine). Only outside wasm32.
//!
//! A [`TestActor`] drives an actor through the same code path as the real
//! host (Request envelope in, Reply envelope out) with an in-memory fake
//! host behind the SDK's imports. Turns are transactions as in the real
//! host: state writes and tells commit only when the handler succeeds.
//! Host calls are checked with the host's own limits ([`crate::limits`],
//! generated from the Go host's abi package) and rules, with its error
//! codes; only cron expressions are not parsed.
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
use crate::limits::*;
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
    forward: Option<Sent>,
    deactivate: bool,
    timer_ops: Vec<(String, Option<Timer>)>,
    reminder_ops: Vec<(String, Option<Reminder>)>,
    watch_ops: BTreeMap<String, bool>, // by target: watch, or unwatch
    publish_ops: Vec<(String, Vec<u8>)>,
    sub_ops: BTreeMap<String, String>, // topic -> method; "": unsubscribe
    published: Vec<(String, Vec<u8>)>,
    subs: BTreeMap<String, String>,
    // Committed effects.
    watching: std::collections::BTreeSet<String>,
    sent: Vec<Sent>,
    forwarded: Vec<Sent>,
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
    if arg.len() > DEFAULT_MAX_MESSAGE + ARG_OVERHEAD {
        return err(codes::TOO_LARGE, &format!("argument of {} bytes is over the limit of {} bytes", arg.len(), DEFAULT_MAX_MESSAGE));
    }
    match f {
        Func::Forward => {
            let c = envelope::decode_call(arg).expect("malformed Call envelope");
            if let Some(msg) = check_target(c.target) {
                return err(codes::BAD_REQUEST, &msg);
            }
            if let Some(msg) = check_method(&format!("forward to {}", c.target), c.method) {
                return err(codes::BAD_REQUEST, &msg);
            }
            if c.payload.len() > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("forward to {} is over the limit of {} bytes", c.target, DEFAULT_MAX_MESSAGE));
            }
            let mut fk = fake.borrow_mut();
            if fk.forward.is_some() {
                return err(codes::BAD_REQUEST, &format!("forward: a turn may forward its ask at most {} time", MAX_FORWARDS_PER_TURN));
            }
            fk.forward = Some(Sent { target: c.target.to_string(), method: c.method.to_string(), payload: c.payload.to_vec() });
            ok(Vec::new())
        }
        Func::Tell | Func::Ask => {
            let c = envelope::decode_call(arg).expect("malformed Call envelope");
            if let Some(msg) = check_target(c.target) {
                return err(codes::BAD_REQUEST, &msg);
            }
            let where_ = format!("message to {}", c.target);
            if let Some(msg) = check_method(&where_, c.method) {
                return err(codes::BAD_REQUEST, &msg);
            }
            if c.payload.len() > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("{} is over the limit of {} bytes", where_, DEFAULT_MAX_MESSAGE));
            }
            if f == Func::Tell {
                if fake.borrow().tells.len() >= MAX_SENDS_PER_TURN {
                    return err(codes::TOO_LARGE, &format!("a turn may send at most {} tells", MAX_SENDS_PER_TURN));
                }
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
            if key.len() > MAX_KEY_LEN {
                return err(codes::TOO_LARGE, &format!("state key is longer than {} bytes", MAX_KEY_LEN));
            }
            if value.map_or(0, |v| v.len()) > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("state value for {} is over the limit of {} bytes", key, DEFAULT_MAX_MESSAGE));
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
            let mut cut = msg.len().min(MAX_LOG_LEN);
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            let msg = if cut < msg.len() { format!("{}…", &msg[..cut]) } else { msg.to_string() };
            fake.borrow_mut().logs.push((level, msg));
            ok(Vec::new())
        }
        Func::Deactivate => {
            fake.borrow_mut().deactivate = true;
            ok(Vec::new())
        }
        Func::TimerSet => {
            let t = envelope::Timer::decode(arg).expect("malformed Timer envelope");
            if let Some(msg) = check_schedule("timer", t.name, t.method) {
                return err(codes::BAD_REQUEST, &msg);
            }
            if t.due_ms > MAX_DELAY_MS || t.period_ms > MAX_DELAY_MS {
                return err(codes::BAD_REQUEST, &format!("timer {:?}: due_ms and period_ms must be at most 10 years", t.name));
            }
            if t.payload.len() > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("timer {:?} payload is over the limit of {} bytes", t.name, DEFAULT_MAX_MESSAGE));
            }
            {
                // As the host counts: the timers set, plus the turn's own
                // sets (the last change of each name), unless this name is
                // one of those.
                let fk = fake.borrow();
                let mut last: BTreeMap<&str, bool> = BTreeMap::new();
                for (name, op) in &fk.timer_ops {
                    last.insert(name.as_str(), op.is_some());
                }
                if last.get(t.name) != Some(&true) {
                    let adding = last.values().filter(|set| **set).count();
                    if fk.timers.len() + adding >= MAX_TIMERS {
                        return err(codes::TOO_LARGE, &format!("an activation may have at most {} timers", MAX_TIMERS));
                    }
                }
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
            if let Some(msg) = check_schedule("reminder", m.name, m.method) {
                return err(codes::BAD_REQUEST, &msg);
            }
            if m.payload.len() > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("reminder {:?} payload is over the limit of {} bytes", m.name, DEFAULT_MAX_MESSAGE));
            }
            if m.at_unix_ms > MAX_AT_UNIX_MS {
                return err(codes::BAD_REQUEST, "at_unix_ms is after the year 9999");
            }
            if m.cron.trim().len() > MAX_CRON_LEN {
                return err(codes::BAD_REQUEST, &format!("cron expression is longer than {} bytes", MAX_CRON_LEN));
            }
            if let Some(e) = reminder_op(&fake.borrow(), m.name) {
                return e;
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
        Func::Watch | Func::Unwatch => {
            let target = envelope::decode_cancel(arg).expect("malformed Watch envelope").to_string();
            let name = if f == Func::Watch { "watch" } else { "unwatch" };
            if let Some(msg) = check_target(&target) {
                return err(codes::BAD_REQUEST, &format!("{}: {}", name, msg));
            }
            let mut fk = fake.borrow_mut();
            if target == fk.self_ref {
                return err(codes::BAD_REQUEST, &format!("{}: an actor cannot watch itself", name));
            }
            let adding = f == Func::Watch && !fk.watching.contains(&target) && fk.watch_ops.get(&target) != Some(&true);
            if adding {
                let kept = fk.watching.iter().filter(|w| fk.watch_ops.get(*w) != Some(&false)).count();
                let added = fk.watch_ops.iter().filter(|(w, on)| **on && !fk.watching.contains(*w)).count();
                if kept + added >= MAX_WATCHES {
                    return err(codes::TOO_LARGE, &format!("an actor may watch at most {} actors", MAX_WATCHES));
                }
            }
            fk.watch_ops.insert(target, f == Func::Watch);
            ok(Vec::new())
        }
        Func::Publish => {
            let (topic, payload) = envelope::decode_state_op(arg).expect("malformed Publish envelope");
            if let Some(msg) = check_topic(topic) {
                return err(codes::BAD_REQUEST, &format!("publish: {}", msg));
            }
            let payload = payload.unwrap_or(&[]);
            if payload.len() > DEFAULT_MAX_MESSAGE {
                return err(codes::TOO_LARGE, &format!("publish: message to {} is over the limit of {} bytes", topic, DEFAULT_MAX_MESSAGE));
            }
            let mut fk = fake.borrow_mut();
            if fk.tells.len() + fk.publish_ops.len() >= MAX_SENDS_PER_TURN {
                return err(codes::TOO_LARGE, &format!("a turn may send at most {} tells", MAX_SENDS_PER_TURN));
            }
            fk.publish_ops.push((topic.to_string(), payload.to_vec()));
            ok(Vec::new())
        }
        Func::Subscribe | Func::Unsubscribe => {
            let (topic, method) = envelope::decode_subscription(arg).expect("malformed Subscription envelope");
            let name = if f == Func::Subscribe { "subscribe" } else { "unsubscribe" };
            if let Some(msg) = check_topic(topic) {
                return err(codes::BAD_REQUEST, &format!("{}: {}", name, msg));
            }
            let mut fk = fake.borrow_mut();
            if f == Func::Unsubscribe {
                fk.sub_ops.insert(topic.to_string(), String::new());
                return ok(Vec::new());
            }
            if let Some(msg) = check_method(&format!("subscribe to {}", topic), method) {
                return err(codes::BAD_REQUEST, &msg);
            }
            let adding = !fk.subs.contains_key(topic) && fk.sub_ops.get(topic).map_or(true, |m| m.is_empty());
            if adding {
                let kept = fk.subs.keys().filter(|t| fk.sub_ops.get(*t).map_or(true, |m| !m.is_empty())).count();
                let added = fk.sub_ops.iter().filter(|(t, m)| !m.is_empty() && !fk.subs.contains_key(*t)).count();
                if kept + added >= MAX_SUBSCRIPTIONS {
                    return err(codes::TOO_LARGE, &format!("an actor may subscribe to at most {} topics", MAX_SUBSCRIPTIONS));
                }
            }
            fk.sub_ops.insert(topic.to_string(), method.to_string());
            ok(Vec::new())
        }
        Func::TimerCancel | Func::ReminderCancel => {
            let name = envelope::decode_cancel(arg).expect("malformed Cancel envelope").to_string();
            let mut fk = fake.borrow_mut();
            if f == Func::TimerCancel {
                if fk.timer_ops.len() >= MAX_TIMER_OPS {
                    return err(codes::TOO_LARGE, &format!("a turn may set and cancel at most {} timers", MAX_TIMER_OPS));
                }
                fk.timer_ops.push((name, None));
            } else {
                if let Some(e) = reminder_op(&fk, &name) {
                    return e;
                }
                fk.reminder_ops.push((name, None));
            }
            ok(Vec::new())
        }
    }
}

/// What the host says of a timer's or reminder's name and method. Cron
/// expressions are not checked here.
fn check_schedule(what: &str, name: &str, method: &str) -> Option<String> {
    if name.is_empty() {
        Some(format!("{} has no name", what))
    } else if name.len() > MAX_SCHEDULE_NAME {
        Some(format!("{} name is longer than {} bytes", what, MAX_SCHEDULE_NAME))
    } else if method.is_empty() {
        Some(format!("{} {:?} has no method to deliver", what, name))
    } else {
        check_method(&format!("{} {:?}", what, name), method)
    }
}

/// What the host says of a topic's name.
fn check_topic(topic: &str) -> Option<String> {
    if topic.is_empty() {
        return Some("no topic".to_string());
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Some(format!("topic is longer than {} bytes", MAX_TOPIC_LEN));
    }
    if topic.split('.').any(|s| s.is_empty()) {
        return Some(format!("topic {:?} has an empty segment", topic));
    }
    if let Some(c) = topic.chars().find(|c| *c <= ' ' || *c == '\u{7f}' || *c == '*' || *c == '>') {
        return Some(format!("topic {:?} holds {:?}", topic, c));
    }
    None
}

/// What the host says of a method name.
fn check_method(where_: &str, method: &str) -> Option<String> {
    if method.is_empty() {
        Some(format!("{} has no method", where_))
    } else if method.len() > MAX_METHOD_LEN {
        Some(format!("{}: method is longer than {} bytes", where_, MAX_METHOD_LEN))
    } else if method.starts_with("wactor:") {
        Some(format!(
            "{}: method {:?} is reserved: names starting with \"wactor:\" are the host's own",
            where_, method
        ))
    } else {
        None
    }
}

/// What the host says of the target of a tell or ask ("type/id").
fn check_target(target: &str) -> Option<String> {
    let (typ, id) = match target.split_once('/') {
        Some(p) => p,
        None => return Some(format!("actor ref {:?} is not of the form type/id", target)),
    };
    let type_ok = !typ.is_empty()
        && typ.len() <= MAX_TYPE_LEN
        && typ.bytes().enumerate().all(|(i, c)| c.is_ascii_alphanumeric() || i > 0 && (c == b'.' || c == b'_' || c == b'-'));
    if !type_ok {
        Some(format!("actor type {:?} must be letters, digits, '.', '_' or '-', starting with a letter or digit, at most {} bytes", typ, MAX_TYPE_LEN))
    } else if id.is_empty() {
        Some(format!("actor ref {:?} has an empty id", target))
    } else if id.len() > MAX_ID_LEN {
        Some(format!("actor id is longer than {} bytes", MAX_ID_LEN))
    } else if id.bytes().any(|c| c < 0x20 || c == 0x7f) {
        Some(format!("actor id {:?} contains a control character", id))
    } else {
        None
    }
}

/// Refuses a reminder change of a new name once the turn has changed
/// MAX_REMINDER_OPS distinct reminders.
fn reminder_op(fk: &Fake, name: &str) -> Option<(u32, Vec<u8>)> {
    let mut names: Vec<&str> = fk.reminder_ops.iter().map(|(n, _)| n.as_str()).collect();
    if names.contains(&name) {
        return None;
    }
    names.sort_unstable();
    names.dedup();
    if names.len() >= MAX_REMINDER_OPS {
        return Some(err(codes::TOO_LARGE, &format!("a turn may set or cancel at most {} reminders", MAX_REMINDER_OPS)));
    }
    None
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
    /// [`TestActor::call`] for typed handlers: sends req's encoding and
    /// decodes the reply as a `Resp`.
    pub fn call_typed<Resp: crate::Decode, Req: crate::Encode + ?Sized>(&mut self, method: &str, req: &Req) -> Result<Resp, Error> {
        let out = self.call(method, &req.to_cbor())?;
        Resp::from_cbor(&out)
    }

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
        let forward = fk.forward.take();
        let deactivate = std::mem::replace(&mut fk.deactivate, false);
        let timer_ops = std::mem::take(&mut fk.timer_ops);
        let reminder_ops = std::mem::take(&mut fk.reminder_ops);
        let watch_ops = std::mem::take(&mut fk.watch_ops);
        let publish_ops = std::mem::take(&mut fk.publish_ops);
        let sub_ops = std::mem::take(&mut fk.sub_ops);
        if res.is_ok() {
            fk.published.extend(publish_ops);
            for (topic, method) in sub_ops {
                if method.is_empty() {
                    fk.subs.remove(&topic);
                } else {
                    fk.subs.insert(topic, method);
                }
            }
            for (target, on) in watch_ops {
                if on {
                    fk.watching.insert(target);
                } else {
                    fk.watching.remove(&target);
                }
            }
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
            if let Some(f) = forward {
                // The runtime answers the asker with the reply of the
                // actor the ask went to: here, the ask handler's.
                fk.forwarded.push(f.clone());
                let cb = fk.asks.take();
                drop(fk);
                return match cb {
                    None => Err(Error::new(codes::UNKNOWN_TYPE, "TestActor: no ask handler to answer the forward (see TestActor::on_ask)")),
                    Some(mut cb) => {
                        let r = cb(&f.target, &f.method, &f.payload);
                        self.fake.borrow_mut().asks = Some(cb);
                        r
                    }
                };
            }
            if let Ok(p) = &res {
                if !p.is_empty() {
                    cbor::well_formed(p).expect("the handler's reply payload is not one CBOR item");
                }
            }
        }
        res
    }

    /// The asks committed turns forwarded ([`crate::Context::forward`]),
    /// oldest first. [`TestActor::call`] answers a forwarded ask with the
    /// ask handler's reply to the forward (see [`TestActor::on_ask`]).
    pub fn forwarded(&self) -> Vec<Sent> {
        self.fake.borrow().forwarded.clone()
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

    /// What committed turns published, `(topic, payload)`, in order.
    pub fn published(&self) -> Vec<(String, Vec<u8>)> {
        self.fake.borrow().published.clone()
    }

    /// The topics the actor is subscribed to, with their methods.
    pub fn subscriptions(&self) -> BTreeMap<String, String> {
        self.fake.borrow().subs.clone()
    }

    /// The actors committed turns watch, sorted.
    pub fn watching(&self) -> Vec<String> {
        self.fake.borrow().watching.iter().cloned().collect()
    }

    /// Delivers a lifecycle message, as the host does to a watcher when the
    /// actor `actor` deactivates for `reason` (one of [`crate::reasons`]):
    /// [`crate::METHOD_DEACTIVATED`], sent by `actor`.
    pub fn tell_deactivated(&mut self, actor: &str, reason: &str) -> Result<Vec<u8>, Error> {
        let payload = crate::MapBuilder::new().text("ref", actor).text("reason", reason).build();
        self.turn(KIND_MESSAGE, crate::METHOD_DEACTIVATED, &payload, actor)
    }

    /// Whether a committed turn asked to be deactivated.
    pub fn deactivated(&self) -> bool {
        self.fake.borrow().deactivated
    }
}
