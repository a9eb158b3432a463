//! Typed requests, replies and state: the [`Encode`] and [`Decode`] traits,
//! the [`record!`](crate::record) macro that implements both for a struct
//! (a CBOR map with text keys, a JSON object through the HTTP gateway),
//! typed state cells ([`State`]) and typed references to other actors
//! ([`Ref`]). No derive is needed (nor available offline): the macro is a
//! declarative one.
//!
//! ```
//! use wactor::{record, Context, Error, Handlers, State};
//!
//! record! {
//!     /// add's request: {"n": 5}.
//!     pub struct Add { pub n: i64 }
//! }
//! record! {
//!     pub struct Total { pub n: i64 }
//! }
//!
//! static TOTAL: State<i64> = State::new("n");
//!
//! fn add(ctx: &mut Context, req: Add) -> Result<Total, Error> {
//!     let n = TOTAL.update(ctx, |n| Ok(n + req.n))?;
//!     Ok(Total { n })
//! }
//!
//! let mut t = wactor::testing::TestActor::new("counter/a", Handlers::new().typed("add", add));
//! let out: Total = t.call_typed("add", &Add { n: 5 }).unwrap();
//! assert_eq!(out.n, 5);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use crate::cbor::{CborError, Kind, Reader, Writer};
use crate::context::Context;
use crate::error::{codes, push_uint, Error};

/// A value that writes itself as one CBOR item.
pub trait Encode {
    /// Appends the value's CBOR to w.
    fn encode(&self, w: &mut Writer);

    /// Whether a record leaves the field out (`None` does).
    fn is_absent(&self) -> bool {
        false
    }

    /// The value's CBOR as a payload.
    fn to_cbor(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A value that reads itself from one CBOR item. Errors are `bad_request`
/// and name the field (`field "lines.n": expected an integer, found text`).
pub trait Decode: Sized {
    /// Reads one item from r.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error>;

    /// The value of a record's field that is absent: an error, except for
    /// `Option` (`None`) and `()`.
    fn missing(field: &str) -> Result<Self, Error> {
        Err(Error::bad_request(cat(&["field \"", field, "\" is missing"])))
    }

    /// Decodes a whole payload: exactly one item; an empty payload is `{}`.
    fn from_cbor(p: &[u8]) -> Result<Self, Error> {
        let p: &[u8] = if p.is_empty() { &[0xa0] } else { p };
        let mut r = Reader::new(p);
        let v = Self::decode(&mut r)?;
        r.finish().map_err(cbor)?;
        Ok(v)
    }
}

/// What a decoder found instead of what it wanted.
pub fn wrong(r: &Reader<'_>, want: &str) -> Error {
    let found = match r.kind() {
        Kind::Invalid => "nothing, or malformed CBOR",
        Kind::Uint | Kind::NegInt => "an integer",
        Kind::Bytes => "a byte string",
        Kind::Text => "text",
        Kind::Array => "an array",
        Kind::Map => "a map",
        Kind::Tag => "a tag",
        Kind::Bool => "a bool",
        Kind::Null => "null",
        Kind::Float => "a float",
    };
    Error::bad_request(cat(&["expected ", want, ", found ", found]))
}

/// Prefixes a decode error with the field it happened in.
pub fn in_field(mut e: Error, field: &str) -> Error {
    if let Some(rest) = e.message.strip_prefix("field \"") {
        e.message = cat(&["field \"", field, ".", rest]);
    } else {
        e.message = cat(&["field \"", field, "\": ", &e.message]);
    }
    e
}

fn cbor(e: CborError) -> Error {
    let mut m = cat(&[e.what, " at byte "]);
    push_uint(&mut m, e.offset as u64);
    Error::bad_request(m)
}

/// Joins parts. (The SDK builds its messages without core::fmt, which
/// would add tens of kilobytes to every module.)
fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

fn push_int(s: &mut String, v: i64) {
    if v < 0 {
        s.push('-');
    }
    push_uint(s, v.unsigned_abs());
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.int(*self as i64);
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                let v = match r.kind() {
                    Kind::Uint | Kind::NegInt => r.read_int().map_err(cbor)?,
                    Kind::Float => {
                        // JSON numbers may arrive as floats: 7.0 is 7.
                        let f = r.read_float().map_err(cbor)?;
                        if f.fract() != 0.0 || f < i64::MIN as f64 || f >= i64::MAX as f64 {
                            return Err(Error::bad_request("expected an integer, found a number with a fraction or out of range"));
                        }
                        f as i64
                    }
                    _ => return Err(wrong(r, "an integer")),
                };
                <$t>::try_from(v).map_err(|_| {
                    let mut m = String::new();
                    push_int(&mut m, v);
                    m.push_str(concat!(" is out of range for ", stringify!($t)));
                    Error::bad_request(m)
                })
            }
        }
    )*};
}

int_codec!(i64, i32, i16, i8, u32, u16, u8, usize);

impl Encode for u64 {
    fn encode(&self, w: &mut Writer) {
        w.uint(*self);
    }
}

impl Decode for u64 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        match r.kind() {
            Kind::Uint => r.read_uint().map_err(cbor),
            Kind::NegInt => Err(Error::bad_request("expected an unsigned integer, found a negative one")),
            Kind::Float => i64::decode(r).and_then(|v| u64::try_from(v).map_err(|_| Error::bad_request("expected an unsigned integer"))),
            _ => Err(wrong(r, "an unsigned integer")),
        }
    }
}

impl Encode for f64 {
    fn encode(&self, w: &mut Writer) {
        w.float(*self);
    }
}

impl Decode for f64 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        match r.kind() {
            Kind::Float => r.read_float().map_err(cbor),
            Kind::Uint | Kind::NegInt => Ok(r.read_int().map_err(cbor)? as f64),
            _ => Err(wrong(r, "a number")),
        }
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut Writer) {
        w.bool(*self);
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() != Kind::Bool {
            return Err(wrong(r, "a bool"));
        }
        r.read_bool().map_err(cbor)
    }
}

impl Encode for String {
    fn encode(&self, w: &mut Writer) {
        w.text(self);
    }
}

impl Encode for str {
    fn encode(&self, w: &mut Writer) {
        w.text(self);
    }
}

impl Decode for String {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() != Kind::Text {
            return Err(wrong(r, "text"));
        }
        Ok(r.read_text().map_err(cbor)?.to_string())
    }
}

/// A byte string (`Vec<u8>` is an array of integers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Encode for Bytes {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.0);
    }
}

impl Decode for Bytes {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() != Kind::Bytes {
            return Err(wrong(r, "a byte string"));
        }
        Ok(Bytes(r.read_bytes().map_err(cbor)?.to_vec()))
    }
}

/// No payload: encodes as nothing (a reply without a payload), decodes
/// from anything.
impl Encode for () {
    fn encode(&self, _w: &mut Writer) {}

    fn is_absent(&self) -> bool {
        true
    }
}

impl Decode for () {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.skip().map_err(cbor)
    }

    fn missing(_field: &str) -> Result<Self, Error> {
        Ok(())
    }

    fn from_cbor(_p: &[u8]) -> Result<Self, Error> {
        Ok(())
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Some(v) => v.encode(w),
            None => {
                w.null();
            }
        }
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() == Kind::Null {
            r.read_null().map_err(cbor)?;
            return Ok(None);
        }
        T::decode(r).map(Some)
    }

    fn missing(_field: &str) -> Result<Self, Error> {
        Ok(None)
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        w.array(self.len());
        for v in self {
            v.encode(w);
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() != Kind::Array {
            return Err(wrong(r, "an array"));
        }
        let n = r.read_array().map_err(cbor)?;
        let mut out = Vec::with_capacity(n.min(r.remaining()));
        for i in 0..n {
            out.push(T::decode(r).map_err(|e| {
                let mut at = String::new();
                push_uint(&mut at, i as u64);
                in_field(e, &at)
            })?);
        }
        Ok(out)
    }
}

impl<T: Encode> Encode for BTreeMap<String, T> {
    fn encode(&self, w: &mut Writer) {
        w.map(self.len());
        for (k, v) in self {
            w.text(k);
            v.encode(w);
        }
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.kind() != Kind::Map {
            return Err(wrong(r, "a map"));
        }
        let n = r.read_map().map_err(cbor)?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let k = String::decode(r)?;
            let v = T::decode(r).map_err(|e| in_field(e, &k))?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

/// Defines a struct that is a CBOR map with text keys (its field names):
/// [`Encode`] leaves out `None` fields, [`Decode`] skips unknown keys,
/// takes a missing `Option` field as `None` and refuses any other missing
/// field. Fields may be any [`Encode`] + [`Decode`] type, other records
/// included.
///
/// ```
/// wactor::record! {
///     #[derive(Debug, PartialEq)]
///     pub struct Line { pub item: String, pub qty: u32, pub note: Option<String> }
/// }
/// use wactor::{Decode, Encode};
/// let l = Line { item: "tea".into(), qty: 2, note: None };
/// assert_eq!(Line::from_cbor(&l.to_cbor()).unwrap(), l);
/// ```
#[macro_export]
macro_rules! record {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty),*
        }

        impl $crate::Encode for $name {
            fn encode(&self, w: &mut $crate::cbor::Writer) {
                let n = 0 $(+ if $crate::Encode::is_absent(&self.$field) { 0 } else { 1 })*;
                w.map(n);
                $(
                    if !$crate::Encode::is_absent(&self.$field) {
                        w.text(stringify!($field));
                        $crate::Encode::encode(&self.$field, w);
                    }
                )*
            }
        }

        impl $crate::Decode for $name {
            fn decode(r: &mut $crate::cbor::Reader<'_>) -> ::core::result::Result<Self, $crate::Error> {
                $(let mut $field: ::core::option::Option<$ty> = ::core::option::Option::None;)*
                if r.kind() != $crate::cbor::Kind::Map {
                    return ::core::result::Result::Err($crate::typed::wrong(r, "a map"));
                }
                let pairs = r.read_map().map_err(|e| $crate::Error::bad_request(e.what))?;
                for _ in 0..pairs {
                    let key = <::std::string::String as $crate::Decode>::decode(r)?;
                    match key.as_str() {
                        $(stringify!($field) => {
                            $field = ::core::option::Option::Some(
                                <$ty as $crate::Decode>::decode(r).map_err(|e| $crate::typed::in_field(e, stringify!($field)))?,
                            );
                        })*
                        _ => r.skip().map_err(|e| $crate::Error::bad_request(e.what))?,
                    }
                }
                ::core::result::Result::Ok($name {
                    $($field: match $field {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => <$ty as $crate::Decode>::missing(stringify!($field))?,
                    },)*
                })
            }
        }
    };
}

/// A typed state cell: the value of type T stored under one key.
///
/// ```
/// # use wactor::State;
/// static TOTAL: State<i64> = State::new("n");
/// ```
pub struct State<T> {
    key: &'static str,
    _t: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> State<T> {
    /// The cell under key.
    pub const fn new(key: &'static str) -> State<T> {
        State { key, _t: PhantomData }
    }

    /// The state key.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The value, this turn's write included, or None when there is none.
    /// A stored value that does not decode as a T is an error, never
    /// silently a default.
    pub fn get(&self, ctx: &mut Context<'_>) -> Result<Option<T>, Error> {
        match ctx.get(self.key)? {
            None => Ok(None),
            Some(v) => T::from_cbor(&v).map(Some).map_err(|e| Error::new(codes::BAD_STATE, cat(&["state ", self.key, " does not decode: ", &e.message]))),
        }
    }

    /// Stores v when the turn commits.
    pub fn set(&self, ctx: &mut Context<'_>, v: &T) -> Result<(), Error> {
        ctx.set(self.key, &v.to_cbor())
    }

    /// Deletes the value when the turn commits.
    pub fn delete(&self, ctx: &mut Context<'_>) -> Result<(), Error> {
        ctx.delete(self.key)
    }
}

impl<T: Encode + Decode + Default> State<T> {
    /// The value, or T's default when there is none.
    pub fn get_or_default(&self, ctx: &mut Context<'_>) -> Result<T, Error> {
        Ok(self.get(ctx)?.unwrap_or_default())
    }

    /// Reads the value (T's default when there is none), stores f's result
    /// and returns it.
    pub fn update(&self, ctx: &mut Context<'_>, f: impl FnOnce(T) -> Result<T, Error>) -> Result<T, Error> {
        let v = f(self.get_or_default(ctx)?)?;
        self.set(ctx, &v)?;
        Ok(v)
    }
}

/// A reference to an actor: its type and id. As a payload or field it is
/// the text "type/id".
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref {
    pub type_name: String,
    pub id: String,
}

impl Ref {
    /// The actor type_name/id.
    pub fn new(type_name: impl Into<String>, id: impl Into<String>) -> Ref {
        Ref { type_name: type_name.into(), id: id.into() }
    }

    /// "type/id".
    pub fn text(&self) -> String {
        cat(&[&self.type_name, "/", &self.id])
    }

    /// Parses "type/id" (split at the first '/'; both parts non-empty).
    pub fn parse(s: &str) -> Result<Ref, Error> {
        match s.split_once('/') {
            Some((t, id)) if !t.is_empty() && !id.is_empty() => Ok(Ref::new(t, id)),
            _ => Err(Error::bad_request(cat(&["actor ref \"", s, "\" is not of the form type/id"]))),
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Encode for Ref {
    fn encode(&self, w: &mut Writer) {
        w.text(&self.text());
    }
}

impl Decode for Ref {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ref::parse(&String::decode(r)?)
    }
}

impl<'a> Context<'a> {
    /// This actor's own reference.
    pub fn me(&mut self) -> Result<Ref, Error> {
        Ref::parse(&self.self_ref()?)
    }

    /// Tells `to` method with req, sent when the turn commits.
    pub fn tell_to<Req: Encode + ?Sized>(&mut self, to: &Ref, method: &str, req: &Req) -> Result<(), Error> {
        self.tell(&to.text(), method, &req.to_cbor())
    }

    /// Asks `to` method with req (the host's default timeout) and decodes
    /// the reply; a reply that does not decode is `bad_reply`.
    pub fn ask_to<Resp: Decode, Req: Encode + ?Sized>(&mut self, to: &Ref, method: &str, req: &Req) -> Result<Resp, Error> {
        let out = self.ask(&to.text(), method, &req.to_cbor(), 0)?;
        Resp::from_cbor(&out).map_err(|e| Error::new(codes::BAD_REPLY, cat(&["the reply of ", &to.text(), ".", method, " does not decode: ", &e.message])))
    }
}
