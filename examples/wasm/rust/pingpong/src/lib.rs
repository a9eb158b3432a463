//! pingpong: an actor that plays ping-pong with a peer of its type.
//!
//! ```text
//! ping {"peer": "pingpong-rust/b", "count": 3} -> {"pongs": 3}
//! pong                                         -> {"pong": true}
//! ```
//!
//! ping asks the peer's pong method count times, one ask after the other,
//! and adds the pongs it got to the total kept under the state key "pongs".
//! A failed ask (timeout, deadlock, ...) fails the ping with the host's
//! error; pinging itself is a deadlock, since its own turn is still running.
//!
//! This one implements the `Actor` trait instead of using a handler table.

use wactor::{Actor, Context, Doc, Error, MapBuilder};

/// Bounds one ping so that a single turn stays short.
const MAX_COUNT: i64 = 1000;

#[derive(Default)]
pub struct PingPong;

impl Actor for PingPong {
    fn handle(&mut self, ctx: &mut Context, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        match method {
            "ping" => ping(ctx, payload),
            "pong" => Ok(MapBuilder::new().bool("pong", true).build()),
            _ => Err(Error::unknown_method(method)),
        }
    }
}

wactor::actor!(PingPong);

fn ping(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let doc = Doc::parse(payload)?;
    let peer = doc.text("peer").filter(|p| !p.is_empty()).ok_or_else(|| {
        Error::bad_request(r#"ping needs a text "peer", as in {"peer": "pingpong-rust/b", "count": 3}"#)
    })?;
    let count = doc
        .int("count")
        .filter(|c| (0..=MAX_COUNT).contains(c))
        .ok_or_else(|| Error::bad_request(r#"ping needs an integer "count" from 0 to 1000"#))?;
    for _ in 0..count {
        ctx.ask(peer, "pong", &[], 0)?; // the peer's error becomes ours
    }
    let total = ctx.get_int("pongs")?.unwrap_or(0) + count;
    ctx.set_int("pongs", total)?;
    Ok(MapBuilder::new().int("pongs", count).build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wactor::testing::TestActor;

    fn ping_msg(peer: &str, count: i64) -> Vec<u8> {
        MapBuilder::new().text("peer", peer).int("count", count).build()
    }

    #[test]
    fn plays() {
        let b = Rc::new(RefCell::new(TestActor::new("pingpong-rust/b", PingPong)));
        let mut a = TestActor::new("pingpong-rust/a", PingPong);
        let asked = Rc::new(RefCell::new(0));
        let (b2, asked2) = (b.clone(), asked.clone());
        a.on_ask(move |target, method, payload| {
            assert_eq!(target, "pingpong-rust/b");
            *asked2.borrow_mut() += 1;
            b2.borrow_mut().call(method, payload)
        });
        let out = a.call("ping", &ping_msg("pingpong-rust/b", 3)).unwrap();
        assert_eq!(Doc::parse(&out).unwrap().int("pongs"), Some(3));
        assert_eq!(*asked.borrow(), 3);
        a.call("ping", &ping_msg("pingpong-rust/b", 2)).unwrap();
        assert_eq!(a.state_int("pongs"), Some(5));
        let out = b.borrow_mut().call("pong", &[]).unwrap();
        assert_eq!(Doc::parse(&out).unwrap().bool("pong"), Some(true));
    }

    #[test]
    fn errors() {
        let mut a = TestActor::new("pingpong-rust/a", PingPong);
        a.on_ask(|_, _, _| Err(Error::new("deadlock", "pingpong-rust/a is waiting on itself")));
        assert_eq!(a.call("ping", &ping_msg("pingpong-rust/a", 1)).unwrap_err().code, "deadlock");
        assert_eq!(a.state("pongs"), None);
        assert_eq!(a.call("ping", &ping_msg("x/y", 1001)).unwrap_err().code, "bad_request");
        assert_eq!(a.call("ping", &ping_msg("", 1)).unwrap_err().code, "bad_request");
        assert_eq!(a.call("pang", &[]).unwrap_err().code, "unknown_method");
        // count 0 asks nothing.
        assert!(a.call("ping", &ping_msg("x/y", 0)).is_ok());
    }
}
