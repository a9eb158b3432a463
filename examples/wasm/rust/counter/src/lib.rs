//! counter: an actor that keeps a running total.
//!
//! ```text
//! add {"n": 5}  -> {"n": total}
//! get           -> {"n": total}
//! ```
//!
//! The total is stored under the state key "n" as a CBOR integer. A request
//! without an integer "n" is answered with bad_request before add runs.

use wactor::{record, Context, Error, Handlers, State};

record! {
    /// add's request and both methods' reply: {"n": 5}.
    pub struct Total { pub n: i64 }
}

static TOTAL: State<i64> = State::new("n");

/// The actor: its methods by name.
pub fn actor() -> Handlers {
    Handlers::new().typed("add", add).typed("get", get)
}

wactor::actor!(actor());

fn add(ctx: &mut Context, req: Total) -> Result<Total, Error> {
    let n = TOTAL.update(ctx, |n| n.checked_add(req.n).ok_or_else(|| Error::bad_request("the total would overflow")))?;
    Ok(Total { n })
}

fn get(ctx: &mut Context, _: ()) -> Result<Total, Error> {
    Ok(Total { n: TOTAL.get_or_default(ctx)? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wactor::MapBuilder;
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
