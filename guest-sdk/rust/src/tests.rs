//! Dispatch and Context, driven natively through the fake host.

use std::time::Duration;

use crate::testing::{Reminder, Sent, TestActor, Timer};
use crate::{cbor, codes, Actor, Context, Doc, Error, Handlers, Level, MapBuilder, Missed, Schedule};

fn add(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let n = Doc::parse(payload)?.int("n").ok_or_else(|| Error::bad_request("add needs n"))?;
    let total = ctx.get_int("n")?.unwrap_or(0) + n;
    ctx.set_int("n", total)?;
    Ok(MapBuilder::new().int("n", total).build())
}

fn withdraw(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let n = Doc::parse(payload)?.int("n").unwrap_or(0);
    let total = ctx.get_int("n")?.unwrap_or(0) - n;
    ctx.set_int("n", total)?; // buffered, then dropped by the error below
    ctx.tell("audit/log", "record", &cbor::encode_int(n))?;
    if total < 0 {
        return Err(Error::new("insufficient_funds", "balance would go negative"));
    }
    Ok(Vec::new())
}

fn who(ctx: &mut Context, _: &[u8]) -> Result<Vec<u8>, Error> {
    let me = ctx.self_ref()?;
    Ok(MapBuilder::new()
        .text("self", &me)
        .text("sender", ctx.sender().unwrap_or("-"))
        .text("id", ctx.message_id())
        .text("method", ctx.method())
        .build())
}

fn effects(ctx: &mut Context, _: &[u8]) -> Result<Vec<u8>, Error> {
    ctx.log(Level::Warn, "careful");
    ctx.info("fine");
    ctx.tell("other/x", "poke", &[])?;
    ctx.set("k", b"\x01")?;
    ctx.delete("gone")?;
    assert_eq!(ctx.get("gone")?, None); // reads see the turn's own writes
    assert_eq!(ctx.get("k")?, Some(vec![1]));
    ctx.deactivate();
    Ok(Vec::new())
}

fn ignores_state_errors(ctx: &mut Context, _: &[u8]) -> Result<Vec<u8>, Error> {
    let r = ctx.set("k", b"\x02");
    assert_eq!(r.is_err(), ctx.turn_error().is_some());
    Ok(MapBuilder::new().bool("ok", true).build())
}

fn asker(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let peer = doc.text("peer").unwrap_or("");
    let answer = ctx.ask(peer, "pong", &[], 250)?;
    Ok(answer)
}

fn bad_tell(ctx: &mut Context, _: &[u8]) -> Result<Vec<u8>, Error> {
    ctx.tell("no-slash", "m", &[])?;
    Ok(Vec::new())
}

fn actor() -> Handlers {
    Handlers::new()
        .method("add", add)
        .method("withdraw", withdraw)
        .method("who", who)
        .method("effects", effects)
        .method("ignores", ignores_state_errors)
        .method("ask", asker)
        .method("bad_tell", bad_tell)
}

fn n(v: i64) -> Vec<u8> {
    MapBuilder::new().int("n", v).build()
}

#[test]
fn counter_semantics() {
    let mut t = TestActor::new("counter/a", actor());
    assert_eq!(t.call("add", &n(5)).unwrap(), n(5));
    assert_eq!(t.call("add", &n(9)).unwrap(), n(14));
    assert_eq!(t.state("n"), Some(vec![14]));
    let e = t.call("add", &MapBuilder::new().text("n", "x").build()).unwrap_err();
    assert_eq!(e.code, codes::BAD_REQUEST);
    let e = t.call("add", &[0xff]).unwrap_err();
    assert_eq!(e.code, codes::BAD_REQUEST);
    assert!(e.message.contains("payload is not a CBOR map"), "{}", e.message);
    assert_eq!(t.state_int("n"), Some(14));
}

#[test]
fn unknown_method_lists_methods() {
    let mut t = TestActor::new("counter/a", actor());
    let e = t.call("nope", &[]).unwrap_err();
    assert_eq!(e.code, codes::UNKNOWN_METHOD);
    assert_eq!(
        e.message,
        "wactor: no handler for method \"nope\"; the actor handles add, ask, bad_tell, effects, ignores, who, withdraw"
    );
    let mut empty = TestActor::new("x/y", Handlers::new());
    assert!(empty.call("a", &[]).unwrap_err().message.ends_with("registers none"));
}

#[test]
fn application_error_drops_the_turn() {
    let mut t = TestActor::new("bank/a", actor());
    t.call("add", &n(3)).unwrap();
    let e = t.call("withdraw", &n(5)).unwrap_err();
    assert_eq!(e, Error::new("insufficient_funds", "balance would go negative"));
    assert_eq!(t.state_int("n"), Some(3));
    assert!(t.sent().is_empty());
    t.call("withdraw", &n(2)).unwrap();
    assert_eq!(t.state_int("n"), Some(1));
    assert_eq!(
        t.sent(),
        vec![Sent { target: "audit/log".into(), method: "record".into(), payload: vec![2] }]
    );
}

#[test]
fn context_accessors() {
    let mut t = TestActor::new("who/me", actor());
    let out = t.call_from("caller/c", "who", &[]).unwrap();
    let d = Doc::parse(&out).unwrap();
    assert_eq!(d.text("self"), Some("who/me"));
    assert_eq!(d.text("sender"), Some("caller/c"));
    assert_eq!(d.text("id"), Some("test-1"));
    assert_eq!(d.text("method"), Some("who"));
    let out = t.call("who", &[]).unwrap();
    assert_eq!(Doc::parse(&out).unwrap().text("sender"), Some("-"));
}

#[test]
fn effects_commit() {
    let mut t = TestActor::new("e/1", actor());
    t.set_state("gone", b"\x00");
    t.call("effects", &[]).unwrap();
    assert_eq!(t.state("k"), Some(vec![1]));
    assert_eq!(t.state("gone"), None);
    assert_eq!(t.logs(), vec![(2, "careful".to_string()), (1, "fine".to_string())]);
    assert_eq!(t.sent().len(), 1);
    assert!(t.deactivated());
}

#[test]
fn refused_state_call_fails_the_turn() {
    let mut t = TestActor::new("e/1", actor());
    t.fail_state(Some(Error::new(codes::TOO_LARGE, "value over 1 MiB")));
    let e = t.call("ignores", &[]).unwrap_err();
    assert_eq!(e, Error::new(codes::TOO_LARGE, "value over 1 MiB"));
    t.fail_state(None);
    assert!(t.call("ignores", &[]).is_ok());
    assert_eq!(t.state("k"), Some(vec![2]));
}

#[test]
fn ask_and_host_errors() {
    let mut t = TestActor::new("p/a", actor());
    let e = t.call("ask", &MapBuilder::new().text("peer", "p/b").build()).unwrap_err();
    assert_eq!(e.code, codes::UNKNOWN_TYPE);
    t.on_ask(|target, method, payload| {
        assert_eq!((target, method, payload), ("p/b", "pong", &[][..]));
        Ok(MapBuilder::new().bool("pong", true).build())
    });
    let out = t.call("ask", &MapBuilder::new().text("peer", "p/b").build()).unwrap();
    assert_eq!(Doc::parse(&out).unwrap().bool("pong"), Some(true));
    t.on_ask(|_, _, _| Err(Error::new(codes::DEADLOCK, "a asks b asks a")));
    let e = t.call("ask", &MapBuilder::new().text("peer", "p/b").build()).unwrap_err();
    assert_eq!(e, Error::new(codes::DEADLOCK, "a asks b asks a"));
    let e = t.call("bad_tell", &[]).unwrap_err();
    assert_eq!(e.code, codes::BAD_REQUEST);
}

#[test]
fn ask_another_test_actor() {
    // A TestActor's ask handler may run another TestActor.
    let mut b = TestActor::new("p/b", Handlers::new().method("pong", |ctx, _| {
        let me = ctx.self_ref()?;
        ctx.set_int("pongs", 1)?;
        Ok(cbor::encode_text(&me))
    }));
    let mut a = TestActor::new("p/a", actor());
    let bb = std::rc::Rc::new(std::cell::RefCell::new(b));
    let bb2 = bb.clone();
    a.on_ask(move |_, m, p| bb2.borrow_mut().call(m, p));
    let out = a.call("ask", &MapBuilder::new().text("peer", "p/b").build()).unwrap();
    assert_eq!(out, cbor::encode_text("p/b"));
    drop(a);
    b = std::rc::Rc::try_unwrap(bb).ok().unwrap().into_inner();
    assert_eq!(b.state_int("pongs"), Some(1));
}

struct Hooked {
    activations: i64,
}

impl Actor for Hooked {
    fn handle(&mut self, ctx: &mut Context, method: &str, _payload: &[u8]) -> Result<Vec<u8>, Error> {
        match method {
            "count" => Ok(cbor::encode_int(self.activations)),
            "fail" => {
                ctx.set_int("x", 1)?;
                Err(Error::new("", "no code"))
            }
            _ => Err(Error::unknown_method(method)),
        }
    }

    fn activate(&mut self, ctx: &mut Context) -> Result<(), Error> {
        self.activations += 1;
        assert_eq!(ctx.method(), "");
        ctx.set_int("activated", self.activations)
    }

    fn deactivate(&mut self, _ctx: &mut Context) -> Result<(), Error> {
        Err(Error::new("busy", "not now"))
    }
}

#[test]
fn actor_trait_and_hooks() {
    let mut t = TestActor::new("h/1", Hooked { activations: 0 });
    t.activate().unwrap();
    assert_eq!(t.state_int("activated"), Some(1));
    assert_eq!(t.call("count", &[]).unwrap(), vec![1]);
    assert_eq!(t.deactivate().unwrap_err().code, "busy");
    let e = t.call("fail", &[]).unwrap_err();
    assert_eq!(e, Error::new("error", "no code")); // an empty code becomes "error"
    assert_eq!(t.state("x"), None);
    assert_eq!(t.call("zzz", &[]).unwrap_err().code, codes::UNKNOWN_METHOD);
    // Handlers without hooks answer activate/deactivate with success.
    let mut h = TestActor::new("h/2", actor());
    h.activate().unwrap();
    h.deactivate().unwrap();
}

#[test]
fn raw_envelopes() {
    let mut t = TestActor::new("counter/a", actor());
    // Malformed request envelopes answer bad_request and keep the instance.
    for req in [&[][..], &[0xff], &[0xa1, 0x01, 0x03], &[0xa0, 0x00], &[0xa1, 0x02, 0x41, 0x61]] {
        let reply = t.raw(req);
        let e = crate::envelope::decode_reply(&reply).unwrap().unwrap_err();
        assert_eq!(e.code, codes::BAD_REQUEST, "{:?}", req);
        assert!(e.message.starts_with("wactor: malformed request: "));
    }
    // An activate request with no handler: the empty reply a0.
    assert_eq!(t.raw(&[0xa3, 0x01, 0x01, 0x02, 0x60, 0x05, 0x63, b'a', b'-', b'7']), vec![0xa0]);
    // add {"n": 150} via a hand-written envelope: {1: 0, 2: "add", 3: h'a1616e1896'}.
    let req = [0xa3, 0x01, 0x00, 0x02, 0x63, b'a', b'd', b'd', 0x03, 0x45, 0xa1, 0x61, b'n', 0x18, 0x96];
    assert_eq!(t.raw(&req), vec![0xa1, 0x01, 0x45, 0xa1, 0x61, b'n', 0x18, 0x96]);
}

#[test]
fn no_host_outside_tests() {
    let mut ctx = Context::new("m", "", "");
    let e = ctx.get("k").unwrap_err();
    assert_eq!(e.code, codes::UNAVAILABLE);
    assert!(ctx.turn_error().is_some());
}

fn schedules(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let ms = Duration::from_millis;
    ctx.set_timer("tick", ms(1000), ms(1000), "tick", &[])?;
    ctx.set_timer("once", Duration::from_micros(1500), Duration::ZERO, "ring", &[0x07])?;
    ctx.set_timer("gone", ms(5), Duration::ZERO, "x", &[])?;
    ctx.cancel_timer("gone")?;
    ctx.cancel_timer("never-set")?;
    ctx.set_reminder("alarm", Schedule::after(ms(1500)), "ring", &[])?;
    ctx.set_reminder("daily", Schedule::cron("0 9 * * *").missed(Missed::Skip), "report", &[])?;
    ctx.set_reminder("grid", Schedule::every(ms(3_600_000)).first_after(ms(1_800_000)), "m", &[0xa0])?;
    ctx.set_reminder("old", Schedule::at_unix_ms(0), "m", &[])?;
    ctx.cancel_reminder("old")?;
    if Doc::parse(payload)?.bool("fail") == Some(true) {
        return Err(Error::new("refused", "drop it all"));
    }
    Ok(Vec::new())
}

fn bad_schedules(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let which = Doc::parse(payload)?.int("which").unwrap_or(0);
    let r = match which {
        0 => ctx.set_timer("", Duration::ZERO, Duration::ZERO, "m", &[]),
        1 => ctx.set_timer("t", Duration::ZERO, Duration::ZERO, "", &[]),
        2 => ctx.set_timer("t", Duration::from_secs(11 * 365 * 86400), Duration::ZERO, "m", &[]),
        3 => ctx.set_reminder("r", Schedule::after(Duration::from_secs(1)).first_after(Duration::from_secs(1)), "m", &[]),
        4 => ctx.set_reminder("r", Schedule::cron(""), "m", &[]),
        _ => ctx.set_reminder(&"n".repeat(257), Schedule::asap(), "m", &[]),
    };
    // A refusal does not fail the turn by itself: the handler decides.
    assert!(ctx.turn_error().is_none());
    r.map(|_| Vec::new())
}

#[test]
fn timers_and_reminders() {
    let h = Handlers::new().method("s", schedules).method("bad", bad_schedules);
    let mut t = TestActor::new("sched/a", h);
    let e = t.call("s", &MapBuilder::new().bool("fail", true).build()).unwrap_err();
    assert_eq!(e.code, "refused");
    assert!(t.timers().is_empty() && t.reminders().is_empty(), "a failed turn sets nothing");
    t.call("s", &[]).unwrap();
    let timer = |name: &str, due_ms, period_ms, method: &str, payload: &[u8]| Timer {
        name: name.into(),
        due_ms,
        period_ms,
        method: method.into(),
        payload: payload.to_vec(),
    };
    assert_eq!(t.timers(), vec![timer("once", 2, 0, "ring", &[7]), timer("tick", 1000, 1000, "tick", &[])]);
    let rs = t.reminders();
    assert_eq!(rs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["alarm", "daily", "grid"]);
    assert_eq!(
        rs[2],
        Reminder {
            name: "grid".into(),
            schedule: Schedule::every(Duration::from_secs(3600)).first_after(Duration::from_secs(1800)),
            method: "m".into(),
            payload: vec![0xa0],
        }
    );
    assert_eq!(rs[0].schedule.in_ms(), 1500);
    assert_eq!(rs[1].schedule.cron_expr(), Some("0 9 * * *"));
    assert_eq!(rs[1].schedule.missed_policy(), Some(Missed::Skip));
    assert_eq!(rs[1].schedule, Schedule::cron("0 9 * * *").missed(Missed::Skip));
    for which in 0..6 {
        let e = t.call("bad", &MapBuilder::new().int("which", which).build()).unwrap_err();
        assert_eq!(e.code, codes::BAD_REQUEST, "case {}: {}", which, e);
    }
}

#[test]
fn schedule_values() {
    assert_eq!(Schedule::asap(), Schedule::after(Duration::ZERO));
    assert_eq!(Schedule::after(Duration::from_nanos(1)).in_ms(), 1); // rounded up
    assert_eq!(Schedule::after(Duration::from_millis(20)).in_ms(), 20);
    assert_eq!(Schedule::after(Duration::MAX).in_ms(), u64::MAX);
    assert_eq!(Schedule::at_unix_ms(0).at_ms(), 1);
    assert_eq!(Schedule::at_unix_ms(4_102_444_800_000).at_ms(), 4_102_444_800_000);
    let s = Schedule::every(Duration::from_secs(60)).first_after(Duration::ZERO);
    assert_eq!((s.every_ms(), s.first_ms(), s.missed_policy()), (60_000, 1, None));
    assert_eq!(Missed::from_name("catch_up"), Some(Missed::CatchUp));
    assert_eq!(Missed::Skip.as_str(), "skip");
    assert_eq!(Missed::from_name("later"), None);
}

// The macro expands natively (the exports only exist on wasm32).
mod macro_forms {
    use super::*;
    crate::actor! {
        "add" => add,
        "get" => add,
    }
    mod by_expr {
        crate::actor!(super::actor());
    }
    mod by_struct {
        crate::actor!(super::Hooked { activations: 0 });
    }
}

/// The native kit applies the host's limits (crate::limits, generated from
/// the Go host's abi package), with the host's codes.
#[test]
fn host_limits_apply_natively() {
    use crate::limits::*;
    fn limits(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let doc = Doc::parse(payload)?;
        let n = doc.int("n").unwrap_or(0) as usize;
        match doc.text("what").unwrap_or("") {
            "key" => ctx.set(&"k".repeat(n), b"v")?,
            "value" => ctx.set("v", &vec![0; n])?,
            "tells" => {
                for _ in 0..n {
                    ctx.tell("sink/a", "noop", &[])?;
                }
            }
            "method" => ctx.tell("sink/a", &"m".repeat(n), &[])?,
            "timers" => {
                for i in 0..n {
                    ctx.set_timer(&format!("t{}", i), Duration::from_secs(3600), Duration::ZERO, "noop", &[])?;
                }
            }
            "reminders" => {
                for i in 0..n {
                    ctx.set_reminder(&format!("r{}", i), Schedule::after(Duration::from_secs(3600)), "noop", &[])?;
                }
            }
            _ => return Err(Error::bad_request("what?")),
        }
        Ok(Vec::new())
    }
    let mut t = TestActor::new("limits/a", Handlers::new().method("run", limits));
    let mut run = |what: &str, n: usize| t.call("run", &MapBuilder::new().text("what", what).int("n", n as i64).build()).err().map(|e| e.code);
    let too_large = Some(codes::TOO_LARGE.to_string());
    let bad = Some(codes::BAD_REQUEST.to_string());
    assert_eq!(run("key", MAX_KEY_LEN), None);
    assert_eq!(run("key", MAX_KEY_LEN + 1), too_large);
    assert_eq!(run("value", DEFAULT_MAX_MESSAGE), None);
    assert_eq!(run("value", DEFAULT_MAX_MESSAGE + 1), too_large);
    assert_eq!(run("method", MAX_METHOD_LEN), None);
    assert_eq!(run("method", MAX_METHOD_LEN + 1), bad);
    assert_eq!(run("tells", MAX_SENDS_PER_TURN), None);
    assert_eq!(run("tells", MAX_SENDS_PER_TURN + 1), too_large);
    assert_eq!(run("reminders", MAX_REMINDER_OPS), None);
    assert_eq!(run("reminders", MAX_REMINDER_OPS + 1), too_large);
    assert_eq!(run("timers", MAX_TIMERS), None);
    assert_eq!(run("timers", 1), too_large); // t0 again: counted as the host counts
}

crate::record! {
    #[derive(Debug, PartialEq)]
    struct Line { item: String, qty: u32, note: Option<String> }
}
crate::record! {
    #[derive(Debug, PartialEq)]
    struct Order { to: crate::Ref, lines: Vec<Line>, paid: bool }
}

/// Records round-trip, name the field a decode error is in, skip unknown
/// keys, take missing options as None and refuse other missing fields.
#[test]
fn records() {
    use crate::{Decode, Encode, Ref};
    let o = Order {
        to: Ref::new("shop", "s1"),
        lines: vec![Line { item: "tea".into(), qty: 2, note: None }, Line { item: "cake".into(), qty: 1, note: Some("big".into()) }],
        paid: false,
    };
    assert_eq!(Order::from_cbor(&o.to_cbor()).unwrap(), o);
    let bad = MapBuilder::new()
        .text("to", "shop/s1")
        .bool("paid", true)
        .array("lines", crate::ArrayBuilder::new().map(MapBuilder::new().text("item", "tea").text("qty", "two")))
        .build();
    let e = Order::from_cbor(&bad).unwrap_err();
    assert_eq!(e.code, codes::BAD_REQUEST);
    assert_eq!(e.message, "field \"lines.0.qty\": expected an integer, found text");
    let missing = MapBuilder::new().text("to", "shop/s1").text("extra", "ignored").build();
    assert_eq!(Order::from_cbor(&missing).unwrap_err().message, "field \"lines\" is missing");
    let line = MapBuilder::new().text("item", "tea").float("qty", 3.0).build();
    assert_eq!(Line::from_cbor(&line).unwrap(), Line { item: "tea".into(), qty: 3, note: None });
    let neg = MapBuilder::new().text("item", "tea").int("qty", -1).build();
    assert_eq!(Line::from_cbor(&neg).unwrap_err().message, "field \"qty\": -1 is out of range for u32");
}

crate::record! {
    struct Add { n: i64 }
}
crate::record! {
    #[derive(Debug, PartialEq)]
    struct Total { n: i64 }
}

static TOTAL: crate::State<i64> = crate::State::new("n");

fn typed_add(ctx: &mut Context, req: Add) -> Result<Total, Error> {
    Ok(Total { n: TOTAL.update(ctx, |n| n.checked_add(req.n).ok_or_else(|| Error::bad_request("overflow")))? })
}

fn typed_get(ctx: &mut Context, _: ()) -> Result<Total, Error> {
    Ok(Total { n: TOTAL.get_or_default(ctx)? })
}

/// Typed handlers decode requests (an empty payload is {}), encode
/// replies, and refuse what does not decode without running; a state
/// value that does not decode is bad_state.
#[test]
fn typed_handlers_and_state() {
    let mut t = TestActor::new("c/a", Handlers::new().typed("add", typed_add).typed("get", typed_get));
    assert_eq!(t.call_typed::<Total, _>("add", &Add { n: 5 }).unwrap(), Total { n: 5 });
    assert_eq!(t.call_typed::<Total, _>("get", &()).unwrap(), Total { n: 5 });
    let e = t.call("add", &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.message.as_str()), ("bad_request", "add: field \"n\" is missing"));
    assert_eq!(t.state_int("n"), Some(5));
    t.set_state("n", &crate::cbor::encode_text("five"));
    assert_eq!(t.call("get", &[]).unwrap_err().code, codes::BAD_STATE);
}

/// The module's exports (`rt`) re-entered as the host re-enters a
/// reentrant type: an ask from a turn comes back to the same instance and
/// runs nested, inside the `ask` import, with the waiting turn on the stack.
mod reentry {
    use std::cell::Cell;
    use std::rc::Rc;

    use crate::envelope::{self, Request, KIND_MESSAGE};
    use crate::sys::{self, Func, STATUS_ERROR, STATUS_OK};
    use crate::{rt, Actor, Context, Doc, Error, Handlers, MapBuilder};

    /// nest {"n", "pad"}: asks "me/1" nest {"n": n-1, "pad": more bytes}
    /// while n > 0, then checks that its own request is intact, and answers
    /// {"n", "id", "sender", "inner"?}.
    fn nest(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let before = payload.to_vec();
        let (id, sender, method) = (ctx.message_id().to_string(), ctx.sender().map(str::to_string), ctx.method().to_string());
        let doc = Doc::parse(payload)?;
        let n = doc.int("n").ok_or_else(|| Error::bad_request("nest needs n"))?;
        let pad = doc.bytes("pad").unwrap_or(&[]);
        let mut out = MapBuilder::new().int("n", n).text("id", &id).text("sender", sender.as_deref().unwrap_or(""));
        if n > 0 {
            // A longer pad than ours, so the nested request needs more room
            // than any buffer handed out so far.
            let more = vec![n as u8; pad.len() * 2 + 100];
            let inner = ctx.ask("me/1", "nest", &MapBuilder::new().int("n", n - 1).bytes("pad", &more).build(), 0)?;
            out = out.raw("inner", &inner);
        }
        if payload != &before[..] {
            return Err(Error::new("clobbered", "the waiting turn's payload changed under it"));
        }
        if ctx.message_id() != id || ctx.sender().map(str::to_string) != sender || ctx.method() != method {
            return Err(Error::new("clobbered", "the waiting turn's context changed under it"));
        }
        Ok(out.build())
    }

    fn table() -> Box<dyn Actor> {
        Box::new(Handlers::new().method("nest", nest))
    }

    fn noop(_: &mut Context<'_>) -> Result<(), Error> {
        Ok(())
    }

    fn hooked() -> Box<dyn Actor> {
        Box::new(Handlers::new().method("nest", nest).on_activate(noop))
    }

    /// An actor that is not a Handlers table.
    struct Own;

    impl Actor for Own {
        fn handle(&mut self, ctx: &mut Context<'_>, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
            nest(ctx, payload).map_err(|mut e| {
                e.message.push_str(" in ");
                e.message.push_str(method);
                e
            })
        }
    }

    fn own() -> Box<dyn Actor> {
        Box::new(Own)
    }

    /// One request through the exports, as the host sends it: alloc, copy
    /// in, handle, copy the reply out.
    fn call(make: fn() -> Box<dyn Actor>, sender: &str, id: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let req = Request { kind: KIND_MESSAGE, method: "nest", payload, sender, id }.encode();
        let p = rt::alloc_buf(req.len());
        // SAFETY: alloc_buf returned room for req.len() bytes.
        let reply = unsafe {
            core::ptr::copy_nonoverlapping(req.as_ptr(), p, req.len());
            let (rp, rn) = rt::handle_at(p, req.len(), make);
            core::slice::from_raw_parts(rp, rn).to_vec()
        };
        envelope::decode_reply(&reply).expect("malformed reply")
    }

    /// Installs a host whose ask calls back into the module's exports,
    /// counting the nested calls.
    fn install(make: fn() -> Box<dyn Actor>, nested: Rc<Cell<u32>>) {
        sys::set_host(Some(Rc::new(move |f: Func, arg: &[u8]| {
            assert_eq!(f, Func::Ask, "the test actor only asks");
            let c = envelope::decode_call(arg).expect("malformed Call");
            assert_eq!((c.target, c.method), ("me/1", "nest"));
            nested.set(nested.get() + 1);
            let id = format!("nested-{}", nested.get());
            match call(make, "me/1", &id, c.payload) {
                Ok(p) => (STATUS_OK, p),
                Err(e) => {
                    let mut b = Vec::new();
                    envelope::put_error(&mut b, &e.code, &e.message);
                    (STATUS_ERROR, b)
                }
            }
        })));
    }

    #[test]
    fn nested_calls_leave_the_waiting_turn_intact() {
        // rt's statics are the process's: this is the only test using them.
        let nested = Rc::new(Cell::new(0));
        rt::reset();
        install(table, nested.clone());
        assert_eq!(rt::reentrant(table), 1, "a Handlers table can be re-entered");

        let out = call(table, "", "outer", &MapBuilder::new().int("n", 3).bytes("pad", b"abc").build()).unwrap();
        assert_eq!(nested.get(), 3);
        let mut d = Doc::parse(&out).unwrap();
        for (n, id, sender) in [(3, "outer", ""), (2, "nested-1", "me/1"), (1, "nested-2", "me/1"), (0, "nested-3", "me/1")] {
            assert_eq!((d.int("n"), d.text("id"), d.text("sender")), (Some(n), Some(id), Some(sender)));
            if n > 0 {
                d = d.get("inner").and_then(|v| v.as_map()).expect("an inner reply");
            }
        }
        // Turns after the nesting still work, and reuse the outer buffer.
        let again = call(table, "x/y", "later", &MapBuilder::new().int("n", 0).build()).unwrap();
        assert_eq!(Doc::parse(&again).unwrap().text("sender"), Some("x/y"));

        // Any other actor cannot be re-entered: it says so, and a nested
        // request that arrives anyway is refused, not run.
        rt::reset();
        nested.set(0);
        install(own, nested.clone());
        assert_eq!(rt::reentrant(own), 0, "an Actor with &mut self cannot be re-entered");
        let e = call(own, "", "outer", &MapBuilder::new().int("n", 1).build()).unwrap_err();
        assert_eq!(e.code, "unavailable", "{:?}", e);
        assert!(e.message.contains("wactor_reentrant answers 0"), "{}", e.message);
        assert_eq!(nested.get(), 1);
        let plain = call(own, "", "outer2", &MapBuilder::new().int("n", 0).build()).unwrap();
        assert_eq!(Doc::parse(&plain).unwrap().int("n"), Some(0));
        sys::set_host(None);

        // wactor_activate_hook: 0 only for a table without an activate
        // hook; any other actor's activate may do something.
        for (make, want, what) in [
            (table as fn() -> Box<dyn Actor>, 0, "a table without on_activate"),
            (hooked, 1, "a table with on_activate"),
            (own, 1, "an Actor of its own"),
        ] {
            rt::reset();
            assert_eq!(rt::activate_hook(make), want, "{}", what);
        }
        rt::reset();
    }
}
