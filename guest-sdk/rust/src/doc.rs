//! JSON-shaped payloads: read fields of a CBOR map by text key ([`Doc`]),
//! build maps and arrays with text keys ([`MapBuilder`], [`ArrayBuilder`]).
//!
//! The HTTP gateway turns a JSON body such as `{"n": 7}` into a CBOR map with
//! text keys and turns the reply back into JSON, so most handlers read a
//! `Doc` and answer with a `MapBuilder`. Nothing here uses reflection; text
//! and byte results borrow from the payload.
//!
//! ```
//! use wactor::{Doc, MapBuilder};
//!
//! let payload = MapBuilder::new().text("name", "Ada").int("age", 36).build();
//! let doc = Doc::parse(&payload).unwrap();
//! assert_eq!(doc.text("name"), Some("Ada"));
//! assert_eq!(doc.int("age"), Some(36));
//! assert_eq!(doc.int("name"), None); // wrong type
//! assert_eq!(doc.int("missing"), None);
//! ```

use crate::cbor::{self, CborError, Kind, Reader};
use crate::error::{codes, Error};

/// One encoded CBOR item, read lazily. Accessors return `None` when the item
/// has another type (or is malformed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
}

impl<'a> Value<'a> {
    /// Wraps the encoding of one CBOR item (a state value, say). It is not
    /// checked here; the accessors check.
    pub fn new(cbor: &'a [u8]) -> Value<'a> {
        Value { raw: cbor }
    }

    /// The item's encoding.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn kind(&self) -> Kind {
        Reader::new(self.raw).kind()
    }

    /// Whether the item is `null` (JSON null) or `undefined`.
    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    /// An integer that fits an `i64`, or a float with an integral value in
    /// range (JSON `7.0`).
    pub fn as_int(&self) -> Option<i64> {
        let mut r = Reader::new(self.raw);
        let v = match r.kind() {
            Kind::Uint | Kind::NegInt => r.read_int().ok()?,
            Kind::Float => {
                let f = r.read_float().ok()?;
                // -2^63 <= f < 2^63, integral (NaN fails every comparison).
                if !(f >= -9223372036854775808.0 && f < 9223372036854775808.0) || f.trunc() != f {
                    return None;
                }
                f as i64
            }
            _ => return None,
        };
        if r.is_empty() {
            Some(v)
        } else {
            None
        }
    }

    /// A float or an integer, as an `f64`.
    pub fn as_float(&self) -> Option<f64> {
        let mut r = Reader::new(self.raw);
        let f = r.read_float().ok()?;
        if r.is_empty() {
            Some(f)
        } else {
            None
        }
    }

    /// A text string.
    pub fn as_text(&self) -> Option<&'a str> {
        let mut r = Reader::new(self.raw);
        let s = r.read_text().ok()?;
        if r.is_empty() {
            Some(s)
        } else {
            None
        }
    }

    /// A byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        let mut r = Reader::new(self.raw);
        let b = r.read_bytes().ok()?;
        if r.is_empty() {
            Some(b)
        } else {
            None
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        let mut r = Reader::new(self.raw);
        let b = r.read_bool().ok()?;
        if r.is_empty() {
            Some(b)
        } else {
            None
        }
    }

    /// A well-formed map with text keys.
    pub fn as_map(&self) -> Option<Doc<'a>> {
        Doc::parse_map(self.raw).ok()
    }

    /// The items of a well-formed array.
    pub fn as_array(&self) -> Option<Vec<Value<'a>>> {
        let mut r = Reader::new(self.raw);
        let n = r.read_array().ok()?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(Value::new(r.read_raw().ok()?));
        }
        if r.is_empty() {
            Some(items)
        } else {
            None
        }
    }
}

/// A decoded CBOR map with text keys: a JSON object. Values are read lazily;
/// lookups are linear, which is fastest for the few keys a message has. If a
/// key repeats, the first one wins.
#[derive(Clone, Debug, Default)]
pub struct Doc<'a> {
    fields: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Doc<'a> {
    /// Decodes `payload` as a map with text keys, checking that it is
    /// well-formed CBOR throughout. An empty payload is an empty `Doc`, so a
    /// method called without a body reads as `{}`. The error is a
    /// `bad_request`, ready to return from a handler with `?`.
    pub fn parse(payload: &'a [u8]) -> Result<Doc<'a>, Error> {
        if payload.is_empty() {
            return Ok(Doc::default());
        }
        Doc::parse_map(payload).map_err(|e| {
            let mut m = String::from("payload is not a CBOR map with text keys: ");
            m.push_str(e.what);
            m.push_str(" at byte ");
            crate::error::push_uint(&mut m, e.offset as u64);
            Error::new(codes::BAD_REQUEST, m)
        })
    }

    fn parse_map(p: &'a [u8]) -> Result<Doc<'a>, CborError> {
        let mut r = Reader::new(p);
        let n = r.read_map()?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.read_text()?;
            let v = r.read_raw()?;
            fields.push((k, Value::new(v)));
        }
        r.finish()?;
        Ok(Doc { fields })
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The fields in their order in the payload.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + '_ {
        self.fields.iter().copied()
    }

    /// See [`Value::as_int`].
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)?.as_int()
    }

    pub fn float(&self, key: &str) -> Option<f64> {
        self.get(key)?.as_float()
    }

    pub fn text(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_text()
    }

    pub fn bytes(&self, key: &str) -> Option<&'a [u8]> {
        self.get(key)?.as_bytes()
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key)?.as_bool()
    }

    pub fn map(&self, key: &str) -> Option<Doc<'a>> {
        self.get(key)?.as_map()
    }

    pub fn array(&self, key: &str) -> Option<Vec<Value<'a>>> {
        self.get(key)?.as_array()
    }
}

/// Items written after a 9-byte gap that the container's head goes into.
#[derive(Clone, Debug)]
struct Items {
    buf: Vec<u8>,
    n: usize,
}

const HEAD_ROOM: usize = 9;

impl Items {
    fn new() -> Items {
        let mut buf = Vec::with_capacity(64);
        buf.resize(HEAD_ROOM, 0);
        Items { buf, n: 0 }
    }

    fn finish(mut self, major: u8) -> Vec<u8> {
        let (head, len) = cbor::head_bytes(major, self.n as u64);
        let start = HEAD_ROOM - len;
        self.buf[start..HEAD_ROOM].copy_from_slice(&head[HEAD_ROOM - len..]);
        self.buf.drain(..start);
        self.buf
    }
}

/// Builds a CBOR map with text keys, in the order the fields are added: a
/// JSON object. Methods chain; [`build`](MapBuilder::build) returns the
/// encoding.
///
/// ```
/// use wactor::MapBuilder;
/// let b = MapBuilder::new().int("n", 1).build();
/// assert_eq!(b, [0xa1, 0x61, b'n', 0x01]);
/// ```
#[derive(Clone, Debug)]
pub struct MapBuilder {
    items: Items,
}

impl Default for MapBuilder {
    fn default() -> Self {
        MapBuilder::new()
    }
}

impl MapBuilder {
    pub fn new() -> MapBuilder {
        MapBuilder { items: Items::new() }
    }

    fn key(mut self, k: &str) -> Self {
        self.items.n += 1;
        cbor::put_text(&mut self.items.buf, k);
        self
    }

    pub fn int(self, key: &str, v: i64) -> Self {
        let mut m = self.key(key);
        cbor::put_int(&mut m.items.buf, v);
        m
    }

    pub fn uint(self, key: &str, v: u64) -> Self {
        let mut m = self.key(key);
        cbor::put_head(&mut m.items.buf, 0, v);
        m
    }

    /// A double-precision float.
    pub fn float(self, key: &str, v: f64) -> Self {
        let mut m = self.key(key);
        cbor::put_float(&mut m.items.buf, v);
        m
    }

    pub fn text(self, key: &str, v: &str) -> Self {
        let mut m = self.key(key);
        cbor::put_text(&mut m.items.buf, v);
        m
    }

    /// A byte string (JSON has none: the gateway shows it as base64).
    pub fn bytes(self, key: &str, v: &[u8]) -> Self {
        let mut m = self.key(key);
        cbor::put_bytes(&mut m.items.buf, v);
        m
    }

    pub fn bool(self, key: &str, v: bool) -> Self {
        let mut m = self.key(key);
        m.items.buf.push(if v { 0xf5 } else { 0xf4 });
        m
    }

    pub fn null(self, key: &str) -> Self {
        let mut m = self.key(key);
        m.items.buf.push(0xf6);
        m
    }

    /// A nested map.
    pub fn map(self, key: &str, v: MapBuilder) -> Self {
        self.raw(key, &v.build())
    }

    /// A nested array.
    pub fn array(self, key: &str, v: ArrayBuilder) -> Self {
        self.raw(key, &v.build())
    }

    /// A value that already is the CBOR of exactly one item.
    pub fn raw(self, key: &str, cbor: &[u8]) -> Self {
        let mut m = self.key(key);
        m.items.buf.extend_from_slice(cbor);
        m
    }

    /// The number of fields so far.
    pub fn len(&self) -> usize {
        self.items.n
    }

    pub fn is_empty(&self) -> bool {
        self.items.n == 0
    }

    /// The map's encoding.
    pub fn build(self) -> Vec<u8> {
        self.items.finish(cbor::MAJOR_MAP_HEAD)
    }
}

impl From<MapBuilder> for Vec<u8> {
    fn from(m: MapBuilder) -> Vec<u8> {
        m.build()
    }
}

/// Builds a CBOR array: a JSON array. Methods chain.
#[derive(Clone, Debug)]
pub struct ArrayBuilder {
    items: Items,
}

impl Default for ArrayBuilder {
    fn default() -> Self {
        ArrayBuilder::new()
    }
}

impl ArrayBuilder {
    pub fn new() -> ArrayBuilder {
        ArrayBuilder { items: Items::new() }
    }

    fn item(mut self) -> Self {
        self.items.n += 1;
        self
    }

    pub fn int(self, v: i64) -> Self {
        let mut a = self.item();
        cbor::put_int(&mut a.items.buf, v);
        a
    }

    pub fn uint(self, v: u64) -> Self {
        let mut a = self.item();
        cbor::put_head(&mut a.items.buf, 0, v);
        a
    }

    pub fn float(self, v: f64) -> Self {
        let mut a = self.item();
        cbor::put_float(&mut a.items.buf, v);
        a
    }

    pub fn text(self, v: &str) -> Self {
        let mut a = self.item();
        cbor::put_text(&mut a.items.buf, v);
        a
    }

    pub fn bytes(self, v: &[u8]) -> Self {
        let mut a = self.item();
        cbor::put_bytes(&mut a.items.buf, v);
        a
    }

    pub fn bool(self, v: bool) -> Self {
        let mut a = self.item();
        a.items.buf.push(if v { 0xf5 } else { 0xf4 });
        a
    }

    pub fn null(self) -> Self {
        let mut a = self.item();
        a.items.buf.push(0xf6);
        a
    }

    pub fn map(self, v: MapBuilder) -> Self {
        self.raw(&v.build())
    }

    pub fn array(self, v: ArrayBuilder) -> Self {
        self.raw(&v.build())
    }

    /// An item that already is CBOR.
    pub fn raw(self, cbor: &[u8]) -> Self {
        let mut a = self.item();
        a.items.buf.extend_from_slice(cbor);
        a
    }

    pub fn len(&self) -> usize {
        self.items.n
    }

    pub fn is_empty(&self) -> bool {
        self.items.n == 0
    }

    pub fn build(self) -> Vec<u8> {
        self.items.finish(cbor::MAJOR_ARRAY_HEAD)
    }
}

impl From<ArrayBuilder> for Vec<u8> {
    fn from(a: ArrayBuilder) -> Vec<u8> {
        a.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_read() {
        let inner = MapBuilder::new().bool("ok", true);
        let arr = ArrayBuilder::new().int(1).text("two").null();
        let p = MapBuilder::new()
            .int("n", -5)
            .uint("u", 300)
            .float("f", 2.5)
            .text("s", "hé")
            .bytes("b", &[9, 8])
            .bool("t", false)
            .null("z")
            .map("m", inner)
            .array("a", arr)
            .raw("r", &[0x18, 0x2a])
            .build();
        cbor::well_formed(&p).unwrap();
        let d = Doc::parse(&p).unwrap();
        assert_eq!(d.len(), 10);
        assert_eq!(d.int("n"), Some(-5));
        assert_eq!(d.int("u"), Some(300));
        assert_eq!(d.float("f"), Some(2.5));
        assert_eq!(d.float("n"), Some(-5.0));
        assert_eq!(d.int("f"), None); // 2.5 is not integral
        assert_eq!(d.text("s"), Some("hé"));
        assert_eq!(d.bytes("b"), Some(&[9u8, 8][..]));
        assert_eq!(d.bool("t"), Some(false));
        assert!(d.get("z").unwrap().is_null());
        assert_eq!(d.map("m").unwrap().bool("ok"), Some(true));
        let a = d.array("a").unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].as_int(), Some(1));
        assert_eq!(a[1].as_text(), Some("two"));
        assert!(a[2].is_null());
        assert_eq!(d.int("r"), Some(42));
        assert_eq!(d.text("n"), None);
        assert_eq!(d.int("nope"), None);
        let keys: Vec<&str> = d.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["n", "u", "f", "s", "b", "t", "z", "m", "a", "r"]);
    }

    #[test]
    fn integral_floats_read_as_int() {
        let p = MapBuilder::new().float("n", 7.0).float("big", 1e19).float("nan", f64::NAN).build();
        let d = Doc::parse(&p).unwrap();
        assert_eq!(d.int("n"), Some(7));
        assert_eq!(d.int("big"), None);
        assert_eq!(d.int("nan"), None);
    }

    #[test]
    fn empty_payload_is_empty_doc() {
        let d = Doc::parse(&[]).unwrap();
        assert!(d.is_empty());
        assert_eq!(MapBuilder::new().build(), [0xa0]);
        assert_eq!(ArrayBuilder::new().build(), [0x80]);
    }

    #[test]
    fn big_map_head() {
        let mut m = MapBuilder::new();
        for i in 0..300 {
            let mut k = String::from("k");
            crate::error::push_uint(&mut k, i);
            m = m.int(&k, i as i64);
        }
        let p = m.build();
        assert_eq!(&p[..3], &[0xb9, 0x01, 0x2c]);
        let d = Doc::parse(&p).unwrap();
        assert_eq!(d.int("k299"), Some(299));
    }

    #[test]
    fn first_duplicate_wins() {
        let p = MapBuilder::new().int("a", 1).int("a", 2).build();
        assert_eq!(Doc::parse(&p).unwrap().int("a"), Some(1));
    }

    #[test]
    fn bad_payloads() {
        for p in [&[0x01][..], &[0xa1, 0x01, 0x01], &[0xa1, 0x61, b'n'], &[0xa0, 0x00], &[0xbf, 0xff]] {
            let e = Doc::parse(p).unwrap_err();
            assert_eq!(e.code, "bad_request", "{:?}", p);
        }
    }
}
