//! conformance: the Rust SDK's ABI conformance actor. It implements the
//! contract of docs/conformance.md, as the conformance actor of every other
//! SDK does, and the Go test package conformance/ checks them all with the
//! same scenarios.
//!
//! ```text
//! echo                                            -> the payload, unchanged
//! fail {"code", "message"}                        -> that application error
//! set {"key", "value"}                            -> {}  stores value's CBOR
//! get {"key"}                                     -> {"value": v} or {}
//! delete {"key"}                                  -> {}
//! set_then_fail {"key", "value"}                  -> sets, then fails "refused"
//! tell {"to", "method", "payload"?}               -> {}
//! forward {"to", "method", "payload"?}            -> the reply of "to" to the forwarded ask
//! ask {"to", "method", "payload"?, "timeout_ms"?} -> {"reply": r}, or the callee's error
//! set_then_ask {"key", "value", "to", "method", "payload"?, "timeout_ms"?, "fail"?}
//!                                                 -> sets, then as ask; fails with code "fail" if given
//! whoami                                          -> {"self", "sender", "id"}
//! log {"level", "message"}                        -> {}
//! deactivate                                      -> {}  and asks to be deactivated
//! sized {"size": n}                               -> {"data": n bytes, byte i being i mod 256}
//! timer {"name", "due_ms"?, "period_ms"?, "method", "payload"?}  -> {}
//! cancel_timer {"name"}                           -> {}
//! reminder {"name", one of "in_ms" | "at_unix_ms" | "every_ms" (+ "first_ms") | "cron",
//!           "method", "payload"?, "missed"?}     -> {}
//! cancel_reminder {"name"}                        -> {}
//! ```
//!
//! Any other method is answered by the SDK with unknown_method.

use std::time::Duration;

use wactor::{Context, Doc, Error, Handlers, Level, MapBuilder, Missed, Schedule};

/// sized's bound, so that a careless caller gets bad_request rather than a
/// guest out of memory.
const MAX_SIZED: i64 = 16 << 20;

/// The actor: its methods by name.
pub fn actor() -> Handlers {
    Handlers::new()
        .method("echo", echo)
        .method("fail", fail)
        .method("set", set)
        .method("get", get)
        .method("delete", delete)
        .method("set_then_fail", set_then_fail)
        .method("tell", tell)
        .method("forward", forward)
        .method("ask", ask)
        .method("set_then_ask", set_then_ask)
        .method("whoami", whoami)
        .method("log", log)
        .method("deactivate", deactivate)
        .method("sized", sized)
        .method("timer", timer)
        .method("cancel_timer", cancel_timer)
        .method("reminder", reminder)
        .method("cancel_reminder", cancel_reminder)
        .method("watch", watch)
        .method("unwatch", unwatch)
        .method(wactor::METHOD_DEACTIVATED, deactivated)
        .method("publish", publish)
        .method("subscribe", subscribe)
        .method("unsubscribe", unsubscribe)
}

wactor::actor!(actor());

fn empty() -> Vec<u8> {
    MapBuilder::new().build()
}

fn need(method: &str, what: &str) -> Error {
    Error::bad_request(format!("{} needs {}", method, what))
}

fn text<'a>(doc: &Doc<'a>, method: &str, key: &str) -> Result<&'a str, Error> {
    doc.text(key).ok_or_else(|| need(method, &format!("a text \"{}\"", key)))
}

/// The encoding of the item under `value`.
fn value<'a>(doc: &Doc<'a>, method: &str) -> Result<&'a [u8], Error> {
    doc.get("value").map(|v| v.raw()).ok_or_else(|| need(method, "a \"value\""))
}

/// The payload back, byte for byte.
fn echo(_ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(payload.to_vec())
}

fn fail(_ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let code = text(&doc, "fail", "code")?;
    if code.is_empty() {
        return Err(need("fail", "a non-empty \"code\""));
    }
    Err(Error::new(code, doc.text("message").unwrap_or("")))
}

fn set(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.set(text(&doc, "set", "key")?, value(&doc, "set")?)?;
    Ok(empty())
}

fn get(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    Ok(match ctx.get(text(&doc, "get", "key")?)? {
        Some(v) => MapBuilder::new().raw("value", &v).build(),
        None => empty(),
    })
}

fn delete(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.delete(text(&doc, "delete", "key")?)?;
    Ok(empty())
}

fn set_then_fail(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let key = text(&doc, "set_then_fail", "key")?;
    ctx.set(key, value(&doc, "set_then_fail")?)?;
    Err(Error::new("refused", format!("set_then_fail wrote {} and refused", key)))
}

/// The target, method and payload of a tell or an ask.
fn call<'a>(doc: &Doc<'a>, method: &str) -> Result<(&'a str, &'a str, &'a [u8]), Error> {
    let to = text(doc, method, "to")?;
    let m = text(doc, method, "method")?;
    let body = doc.get("payload").map(|v| v.raw()).unwrap_or(&[]);
    Ok((to, m, body))
}

fn tell(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let (to, method, body) = call(&doc, "tell")?;
    ctx.tell(to, method, body)?;
    Ok(empty())
}

// forward: the reply of "to" answers the asker; this one's is dropped.
fn forward(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let (to, method, body) = call(&doc, "forward")?;
    ctx.forward(to, method, body)?;
    Ok(empty())
}

fn ask(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ask_with(ctx, &doc, "ask")
}

/// The ask `doc` describes, answered as ask answers.
fn ask_with(ctx: &mut Context, doc: &Doc, name: &str) -> Result<Vec<u8>, Error> {
    let (to, method, body) = call(doc, name)?;
    let timeout_ms = match doc.get("timeout_ms") {
        None => 0,
        Some(v) => match v.as_int() {
            Some(ms) if (0..=u32::MAX as i64).contains(&ms) => ms as u32,
            _ => return Err(need(name, "an integer \"timeout_ms\" >= 0, if any")),
        },
    };
    // An error is the callee's or the host's, and passes on unchanged.
    let reply = ctx.ask(to, method, body, timeout_ms)?;
    Ok(if reply.is_empty() {
        MapBuilder::new().null("reply").build()
    } else {
        MapBuilder::new().raw("reply", &reply).build()
    })
}

// set_then_ask: a write the ask's call chain may read back (a reentrant
// type runs a call that comes back to it nested in this turn), then an
// optional failure that rolls the write back with the turn.
fn set_then_ask(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let key = text(&doc, "set_then_ask", "key")?;
    let fail = match doc.get("fail") {
        None => None,
        Some(v) => Some(v.as_text().filter(|c| !c.is_empty()).ok_or_else(|| need("set_then_ask", "a non-empty text \"fail\", if any"))?),
    };
    ctx.set(key, value(&doc, "set_then_ask")?)?;
    let reply = ask_with(ctx, &doc, "set_then_ask")?;
    match fail {
        Some(code) => Err(Error::new(code, format!("set_then_ask wrote {} and fails as asked", key))),
        None => Ok(reply),
    }
}

fn whoami(ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    let me = ctx.self_ref()?;
    Ok(MapBuilder::new()
        .text("self", &me)
        .text("sender", ctx.sender().unwrap_or(""))
        .text("id", ctx.message_id())
        .build())
}

fn log(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let level = doc.int("level").ok_or_else(|| need("log", "an integer \"level\""))?;
    let message = text(&doc, "log", "message")?;
    let level = match level {
        i64::MIN..=0 => Level::Debug,
        1 => Level::Info,
        2 => Level::Warn,
        _ => Level::Error,
    };
    ctx.log(level, message);
    Ok(empty())
}

fn deactivate(ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    ctx.deactivate();
    Ok(empty())
}

fn sized(_ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let size = Doc::parse(payload)?
        .int("size")
        .filter(|n| (0..=MAX_SIZED).contains(n))
        .ok_or_else(|| need("sized", "an integer \"size\" from 0 to 16777216"))?;
    let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
    Ok(MapBuilder::new().bytes("data", &data).build())
}

/// An optional count of milliseconds: 0 when absent; a negative or
/// non-integer value is a bad request.
fn millis(doc: &Doc<'_>, method: &str, key: &str) -> Result<u64, Error> {
    match doc.get(key) {
        None => Ok(0),
        Some(v) => match v.as_int() {
            Some(ms) if ms >= 0 => Ok(ms as u64),
            _ => Err(need(method, &format!("an integer \"{}\" >= 0, if any", key))),
        },
    }
}

/// The "name", "method" and "payload" (its encoding, or none) of a timer
/// or reminder.
fn scheduled<'a>(doc: &Doc<'a>, method: &str) -> Result<(&'a str, &'a str, &'a [u8]), Error> {
    let name = text(doc, method, "name")?;
    let m = text(doc, method, "method")?;
    let body = doc.get("payload").map(|v| v.raw()).unwrap_or(&[]);
    Ok((name, m, body))
}

fn timer(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let (name, method, body) = scheduled(&doc, "timer")?;
    let due = Duration::from_millis(millis(&doc, "timer", "due_ms")?);
    let period = Duration::from_millis(millis(&doc, "timer", "period_ms")?);
    // The host's refusal passes on unchanged.
    ctx.set_timer(name, due, period, method, body)?;
    Ok(empty())
}

fn cancel_timer(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.cancel_timer(text(&doc, "cancel_timer", "name")?)?;
    Ok(empty())
}

/// The reminder's schedule from its fields. A zero number or an empty cron
/// counts as absent, as on the wire. Schedule holds one schedule, so two
/// are refused here; first_ms without every_ms is left to the host.
fn schedule(doc: &Doc<'_>) -> Result<Schedule, Error> {
    let ms = |key| millis(doc, "reminder", key);
    let (in_ms, at, every, first) = (ms("in_ms")?, ms("at_unix_ms")?, ms("every_ms")?, ms("first_ms")?);
    let cron = match doc.get("cron") {
        None => "",
        Some(v) => v.as_text().ok_or_else(|| need("reminder", "a text \"cron\", if any"))?,
    };
    let set = [in_ms != 0, at != 0, every != 0, !cron.is_empty()];
    if set.iter().filter(|s| **s).count() > 1 {
        return Err(need("reminder", "at most one of in_ms, at_unix_ms, every_ms and cron"));
    }
    let mut s = if in_ms != 0 {
        Schedule::after(Duration::from_millis(in_ms))
    } else if at != 0 {
        Schedule::at_unix_ms(at)
    } else if every != 0 {
        Schedule::every(Duration::from_millis(every))
    } else if !cron.is_empty() {
        Schedule::cron(cron)
    } else {
        Schedule::asap()
    };
    if first != 0 {
        s = s.first_after(Duration::from_millis(first));
    }
    if let Some(v) = doc.get("missed") {
        let policy = v.as_text().and_then(Missed::from_name);
        s = s.missed(policy.ok_or_else(|| need("reminder", "a \"missed\" of catch_up or skip, if any"))?);
    }
    Ok(s)
}

fn reminder(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let (name, method, body) = scheduled(&doc, "reminder")?;
    let s = schedule(&doc)?;
    ctx.set_reminder(name, s, method, body)?;
    Ok(empty())
}

fn cancel_reminder(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.cancel_reminder(text(&doc, "cancel_reminder", "name")?)?;
    Ok(empty())
}

fn watch(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.watch(text(&doc, "watch", "to")?)?;
    Ok(empty())
}

fn unwatch(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.unwatch(text(&doc, "unwatch", "to")?)?;
    Ok(empty())
}

/// A lifecycle message: its payload, byte for byte, under the state key
/// "lifecycle/" + the message id.
fn deactivated(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let key = format!("lifecycle/{}", ctx.message_id());
    ctx.set(&key, payload)?;
    Ok(Vec::new())
}

fn publish(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let topic = text(&doc, "publish", "topic")?;
    let body = doc.get("payload").map(|v| v.raw()).unwrap_or(&[]);
    ctx.publish(topic, body)?;
    Ok(empty())
}

fn subscribe(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.subscribe(text(&doc, "subscribe", "topic")?, text(&doc, "subscribe", "method")?)?;
    Ok(empty())
}

fn unsubscribe(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    ctx.unsubscribe(text(&doc, "unsubscribe", "topic")?)?;
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wactor::testing::TestActor;

    #[test]
    fn topics() {
        let mut t = TestActor::new("conf-rust/s", actor());
        t.call("subscribe", &MapBuilder::new().text("topic", "a.b").text("method", "set").build()).unwrap();
        t.call("publish", &MapBuilder::new().text("topic", "a.b").int("payload", 7).build()).unwrap();
        assert_eq!(t.subscriptions().get("a.b").map(|s| s.as_str()), Some("set"));
        assert_eq!(t.published(), vec![("a.b".to_string(), vec![0x07])]);
        t.call("unsubscribe", &MapBuilder::new().text("topic", "a.b").build()).unwrap();
        assert!(t.subscriptions().is_empty());
        assert_eq!(t.call("publish", &MapBuilder::new().text("topic", "a b").build()).unwrap_err().code, "bad_request");
        assert_eq!(t.call("subscribe", &MapBuilder::new().text("topic", "a.*").text("method", "m").build()).unwrap_err().code, "bad_request");
    }

    #[test]
    fn watches() {
        let mut t = TestActor::new("conf-rust/w", actor());
        let to = |r: &str| MapBuilder::new().text("to", r).build();
        t.call("watch", &to("conf-c/a")).unwrap();
        t.call("watch", &to("conf-c/b")).unwrap();
        t.call("unwatch", &to("conf-c/a")).unwrap();
        assert_eq!(t.watching(), vec!["conf-c/b".to_string()]);
        assert_eq!(t.call("watch", &to("conf-rust/w")).unwrap_err().code, "bad_request");
        assert_eq!(t.call("watch", &to("no-slash")).unwrap_err().code, "bad_request");
        t.tell_deactivated("conf-c/b", wactor::reasons::IDLE).unwrap();
        let stored = t.state("lifecycle/test-6").expect("the lifecycle message is stored under its id");
        let l = wactor::Lifecycle::parse(&stored).unwrap();
        assert_eq!((l.actor.as_str(), l.reason.as_str()), ("conf-c/b", "idle"));
        for i in 1..wactor::limits::MAX_WATCHES {
            t.call("watch", &to(&format!("conf-c/n{}", i))).unwrap();
        }
        assert_eq!(t.call("watch", &to("conf-c/over")).unwrap_err().code, "too_large");
        assert_eq!(t.call("tell", &MapBuilder::new().text("to", "conf-c/x").text("method", wactor::METHOD_DEACTIVATED).build()).unwrap_err().code, "bad_request");
    }

    fn kv(key: &str, v: i64) -> Vec<u8> {
        MapBuilder::new().text("key", key).int("value", v).build()
    }

    #[test]
    fn state_and_failures() {
        let mut t = TestActor::new("conf-rust/a", actor());
        let got = t.call("get", &MapBuilder::new().text("key", "k").build()).unwrap();
        assert_eq!(got, empty());
        t.call("set", &kv("k", 7)).unwrap();
        let err = t.call("set_then_fail", &kv("k", 8)).unwrap_err();
        assert_eq!(err.code, "refused");
        assert_eq!(t.state_int("k"), Some(7));
        let err = t
            .call("fail", &MapBuilder::new().text("code", "insufficient_funds").text("message", "balance is 5").build())
            .unwrap_err();
        assert_eq!(err, Error::new("insufficient_funds", "balance is 5"));
        assert_eq!(t.call("nope", &[]).unwrap_err().code, "unknown_method");
    }

    #[test]
    fn set_then_ask_commits_or_fails_with_its_ask() {
        let mut t = TestActor::new("conf-rust/a", actor());
        t.on_ask(|target, _method, payload| match target {
            "conf-c/down" => Err(Error::new("timeout", "no answer")),
            _ => Ok(payload.to_vec()),
        });
        let req = |to: &str, fail: Option<&str>| {
            let b = MapBuilder::new().text("key", "k").int("value", 1).text("to", to).text("method", "echo").int("payload", 5);
            match fail {
                Some(c) => b.text("fail", c).build(),
                None => b.build(),
            }
        };
        let out = t.call("set_then_ask", &req("conf-c/b", None)).unwrap();
        assert_eq!(Doc::parse(&out).unwrap().int("reply"), Some(5));
        assert_eq!(t.state_int("k"), Some(1));
        t.set_state("k", &wactor::cbor::encode_int(0));
        assert_eq!(t.call("set_then_ask", &req("conf-c/b", Some("nope"))).unwrap_err().code, "nope");
        assert_eq!(t.call("set_then_ask", &req("conf-c/down", None)).unwrap_err(), Error::new("timeout", "no answer"));
        assert_eq!(t.state_int("k"), Some(0), "a failed set_then_ask commits nothing");
        assert_eq!(t.call("set_then_ask", &req("conf-c/b", Some(""))).unwrap_err().code, "bad_request");
    }

    #[test]
    fn forward_answers_with_the_forwarded_reply() {
        let mut t = TestActor::new("conf-rust/a", actor());
        t.on_ask(|target, method, payload| {
            let mut out = format!("{} {} ", target, method).into_bytes();
            out.extend_from_slice(payload);
            Ok(out)
        });
        let body = MapBuilder::new().text("to", "conf-go/b").text("method", "echo").int("payload", 7).build();
        let got = t.call("forward", &body).unwrap();
        assert_eq!(got, b"conf-go/b echo \x07".to_vec());
        let f = t.forwarded();
        assert_eq!((f.len(), f[0].target.as_str(), f[0].method.as_str()), (1, "conf-go/b", "echo"));
        let bad = MapBuilder::new().text("to", "not a ref").text("method", "echo").build();
        assert_eq!(t.call("forward", &bad).unwrap_err().code, "bad_request");
    }

    #[test]
    fn echo_and_sized() {
        let mut t = TestActor::new("conf-rust/a", actor());
        let body = MapBuilder::new().int("n", -3).null("z").build();
        assert_eq!(t.call("echo", &body).unwrap(), body);
        let out = t.call("sized", &MapBuilder::new().int("size", 300).build()).unwrap();
        let data = Doc::parse(&out).unwrap().bytes("data").unwrap().to_vec();
        assert_eq!(data.len(), 300);
        assert_eq!(data[257], 1);
    }

    #[test]
    fn timers() {
        let mut t = TestActor::new("conf-rust/a", actor());
        let body = MapBuilder::new().text("key", "k").bytes("value", &[1, 2]).build();
        let once = MapBuilder::new().text("name", "once").int("due_ms", 20).text("method", "set").raw("payload", &body);
        assert_eq!(t.call("timer", &once.build()).unwrap(), empty());
        let every = MapBuilder::new().text("name", "every").int("period_ms", 10).text("method", "tick");
        t.call("timer", &every.build()).unwrap();
        let timers = t.timers();
        assert_eq!(timers.len(), 2);
        assert_eq!((timers[0].name.as_str(), timers[0].due_ms, timers[0].period_ms), ("every", 0, 10));
        assert!(timers[0].payload.is_empty());
        assert_eq!((timers[1].name.as_str(), timers[1].due_ms, timers[1].method.as_str()), ("once", 20, "set"));
        assert_eq!(timers[1].payload, body, "the payload byte for byte");
        t.call("cancel_timer", &MapBuilder::new().text("name", "every").build()).unwrap();
        assert_eq!(t.timers().len(), 1);

        let bad = |t: &mut TestActor, m: &str, p: MapBuilder| t.call(m, &p.build()).unwrap_err().code;
        assert_eq!(bad(&mut t, "timer", MapBuilder::new().text("name", "").text("method", "set")), "bad_request");
        assert_eq!(bad(&mut t, "timer", MapBuilder::new().text("name", "x")), "bad_request");
        assert_eq!(bad(&mut t, "timer", MapBuilder::new().text("name", "x").text("method", "m").int("due_ms", -1)), "bad_request");
        assert_eq!(bad(&mut t, "cancel_timer", MapBuilder::new().int("name", 1)), "bad_request");
    }

    #[test]
    fn reminders() {
        let mut t = TestActor::new("conf-rust/a", actor());
        let r = |name: &str| MapBuilder::new().text("name", name).text("method", "set");
        t.call("reminder", &r("grid").int("every_ms", 3_600_000).int("first_ms", 1_800_000).raw("payload", &[0xa0]).build())
            .unwrap();
        t.call("reminder", &r("at").int("at_unix_ms", 4_102_444_800_000).build()).unwrap();
        t.call("reminder", &r("daily").text("cron", "0 9 * * *").text("missed", "skip").build()).unwrap();
        t.call("reminder", &r("soon").int("in_ms", 20).text("missed", "catch_up").build()).unwrap();
        let list = t.reminders();
        let names: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["at", "daily", "grid", "soon"]);
        assert_eq!(list[0].schedule.at_ms(), 4_102_444_800_000);
        assert_eq!(list[1].schedule, Schedule::cron("0 9 * * *").missed(Missed::Skip));
        assert_eq!((list[2].schedule.every_ms(), list[2].schedule.first_ms()), (3_600_000, 1_800_000));
        assert_eq!(list[2].payload, vec![0xa0]);
        assert_eq!(list[3].schedule.missed_policy(), Some(Missed::CatchUp));
        t.call("cancel_reminder", &MapBuilder::new().text("name", "grid").build()).unwrap();
        assert_eq!(t.reminders().len(), 3);

        for p in [
            r("two").int("in_ms", 1).int("every_ms", 1),
            r("first").int("first_ms", 5),
            r("missed").text("missed", "later"),
            r("cron").int("cron", 5),
            MapBuilder::new().text("name", "no-method"),
        ] {
            assert_eq!(t.call("reminder", &p.build()).unwrap_err().code, "bad_request");
        }
    }
}
