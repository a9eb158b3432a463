//! greeter: a stateless actor that says hello.
//!
//! ```text
//! hello {"name": "Ada"} -> {"greeting": "Hello, Ada!"}
//! ```

use wactor::{Context, Doc, Error, MapBuilder};

fn hello(_ctx: &mut Context, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let name = Doc::parse(payload)?
        .text("name")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::bad_request(r#"hello needs a text "name", as in {"name": "Ada"}"#))?;
    // String building rather than format!: it keeps the formatting
    // machinery out of the module.
    let mut greeting = String::with_capacity(name.len() + 8);
    greeting.push_str("Hello, ");
    greeting.push_str(name);
    greeting.push('!');
    Ok(MapBuilder::new().text("greeting", &greeting).build())
}

wactor::actor! {
    "hello" => hello,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wactor::testing::TestActor;
    use wactor::Handlers;

    #[test]
    fn says_hello() {
        let mut t = TestActor::new("greeter-rust/x", Handlers::new().method("hello", hello));
        let out = t.call("hello", &MapBuilder::new().text("name", "Ada").build()).unwrap();
        assert_eq!(Doc::parse(&out).unwrap().text("greeting"), Some("Hello, Ada!"));
        for p in [vec![], MapBuilder::new().text("name", "").build(), MapBuilder::new().int("name", 1).build()] {
            assert_eq!(t.call("hello", &p).unwrap_err().code, "bad_request");
        }
    }
}
