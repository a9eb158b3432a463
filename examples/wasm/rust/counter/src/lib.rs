//! counter: an actor that keeps a running total.
//!
//! ```text
//! add {"n": 5}  -> {"n": total}
//! get           -> {"n": total}
//! ```
//!
//! The total is stored under the state key "n" as a CBOR integer. A missing
//! or non-integer "n" is an application error with code bad_request.

use wactor::{Context, Doc, Error, Handlers, MapBuilder};

/// The actor: its methods by name.
pub fn actor() -> Handlers {
    Handlers::new().method("add", add).method("get", get)
}

wactor::actor!(actor());

fn add(ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let n = Doc::parse(payload)?
        .int("n")
        .ok_or_else(|| Error::bad_request(r#"add needs an integer "n", as in {"n": 5}"#))?;
    let total = load(ctx)?
        .checked_add(n)
        .ok_or_else(|| Error::bad_request("the total would overflow"))?;
    ctx.set_int("n", total)?;
    Ok(reply(total))
}

fn get(ctx: &mut Context, _payload: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(reply(load(ctx)?))
}

/// The stored total, 0 if there is none yet.
fn load(ctx: &mut Context) -> Result<i64, Error> {
    Ok(ctx.get_int("n")?.unwrap_or(0))
}

fn reply(total: i64) -> Vec<u8> {
    MapBuilder::new().int("n", total).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wactor::testing::TestActor;

    fn n(v: i64) -> Vec<u8> {
        MapBuilder::new().int("n", v).build()
    }

    #[test]
    fn adds_and_gets() {
        let mut t = TestActor::new("counter-rust/a", actor());
        assert_eq!(t.call("get", &[]).unwrap(), n(0));
        assert_eq!(t.call("add", &n(5)).unwrap(), n(5));
        assert_eq!(t.call("add", &n(9)).unwrap(), n(14));
        assert_eq!(t.call("get", &[]).unwrap(), n(14));
        assert_eq!(t.state_int("n"), Some(14));
    }

    #[test]
    fn bad_requests() {
        let mut t = TestActor::new("counter-rust/a", actor());
        for p in [
            vec![],
            MapBuilder::new().text("n", "five").build(),
            MapBuilder::new().float("n", 1.5).build(),
            vec![0xff],
        ] {
            assert_eq!(t.call("add", &p).unwrap_err().code, "bad_request", "{:?}", p);
        }
        t.set_state("n", &wactor::cbor::encode_int(i64::MAX));
        assert_eq!(t.call("add", &n(1)).unwrap_err().code, "bad_request");
        assert_eq!(t.state_int("n"), Some(i64::MAX));
        assert_eq!(t.call("sub", &n(1)).unwrap_err().code, "unknown_method");
    }
}
