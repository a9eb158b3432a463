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
//! ask {"to", "method", "payload"?, "timeout_ms"?} -> {"reply": r}, or the callee's error
//! whoami                                          -> {"self", "sender", "id"}
//! log {"level", "message"}                        -> {}
//! deactivate                                      -> {}  and asks to be deactivated
//! sized {"size": n}                               -> {"data": n bytes, byte i being i mod 256}
//! ```
//!
//! Any other method is answered by the SDK with unknown_method.

use wactor::{Context, Doc, Error, Handlers, Level, MapBuilder};

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
        .method("ask", ask)
        .method("whoami", whoami)
        .method("log", log)
        .method("deactivate", deactivate)
        .method("sized", sized)
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

fn ask(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let (to, method, body) = call(&doc, "ask")?;
    let timeout_ms = match doc.get("timeout_ms") {
        None => 0,
        Some(v) => match v.as_int() {
            Some(ms) if (0..=u32::MAX as i64).contains(&ms) => ms as u32,
            _ => return Err(need("ask", "an integer \"timeout_ms\" >= 0, if any")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use wactor::testing::TestActor;

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
    fn echo_and_sized() {
        let mut t = TestActor::new("conf-rust/a", actor());
        let body = MapBuilder::new().int("n", -3).null("z").build();
        assert_eq!(t.call("echo", &body).unwrap(), body);
        let out = t.call("sized", &MapBuilder::new().int("size", 300).build()).unwrap();
        let data = Doc::parse(&out).unwrap().bytes("data").unwrap().to_vec();
        assert_eq!(data.len(), 300);
        assert_eq!(data[257], 1);
    }
}
