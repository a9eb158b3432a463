//! A small, reflection-free CBOR (RFC 8949) writer and reader.
//!
//! It covers the subset of docs/ABI.md section 6: definite lengths only,
//! shortest heads when writing, any head width when reading. The reader never
//! reads past its input, never recurses (so deeply nested input cannot
//! exhaust the stack), and checks every length against the bytes that
//! remain before anything is allocated.
//!
//! ```
//! use wactor::cbor::{Reader, Writer};
//!
//! let mut w = Writer::new();
//! w.map(1).text("n").int(-7);
//! let bytes = w.into_bytes();
//! assert_eq!(bytes, [0xa1, 0x61, b'n', 0x26]);
//!
//! let mut r = Reader::new(&bytes);
//! assert_eq!(r.read_map().unwrap(), 1);
//! assert_eq!(r.read_text().unwrap(), "n");
//! assert_eq!(r.read_int().unwrap(), -7);
//! assert!(r.is_empty());
//! ```

use core::fmt;

const MAJOR_UINT: u8 = 0;
const MAJOR_NEGINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;

/// The kind of the next CBOR item, as [`Reader::kind`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// End of input or a malformed head.
    Invalid,
    Uint,
    NegInt,
    Bytes,
    Text,
    Array,
    Map,
    Tag,
    Bool,
    /// `null` or `undefined`.
    Null,
    /// A half, single or double precision float.
    Float,
}

/// Malformed CBOR, or an item of another kind than the one asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CborError {
    /// The offset of the offending item in the input.
    pub offset: usize,
    /// What was wrong, in a few words.
    pub what: &'static str,
}

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cbor: {} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for CborError {}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/// Appends CBOR items to a growable buffer, each in its shortest form.
/// Containers are definite-length: write the head with the number of items
/// (pairs, for a map), then the items. Methods chain.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer { buf: Vec::new() }
    }

    /// A writer that appends to `buf`.
    pub fn from_vec(buf: Vec<u8>) -> Writer {
        Writer { buf }
    }

    pub fn with_capacity(n: usize) -> Writer {
        Writer { buf: Vec::with_capacity(n) }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Empties the writer, keeping its memory.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn uint(&mut self, v: u64) -> &mut Self {
        put_head(&mut self.buf, MAJOR_UINT, v);
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        put_int(&mut self.buf, v);
        self
    }

    pub fn bytes(&mut self, p: &[u8]) -> &mut Self {
        put_bytes(&mut self.buf, p);
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        put_text(&mut self.buf, s);
        self
    }

    /// The head of an array of `n` items; write the items next.
    pub fn array(&mut self, n: usize) -> &mut Self {
        put_head(&mut self.buf, MAJOR_ARRAY, n as u64);
        self
    }

    /// The head of a map of `pairs` key/value pairs; write them next.
    pub fn map(&mut self, pairs: usize) -> &mut Self {
        put_head(&mut self.buf, MAJOR_MAP, pairs as u64);
        self
    }

    /// The head of a tag; write its one item next.
    pub fn tag(&mut self, tag: u64) -> &mut Self {
        put_head(&mut self.buf, MAJOR_TAG, tag);
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.buf.push(if v { 0xf5 } else { 0xf4 });
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.buf.push(0xf6);
        self
    }

    /// A double-precision float (always 9 bytes).
    pub fn float(&mut self, v: f64) -> &mut Self {
        put_float(&mut self.buf, v);
        self
    }

    /// Bytes that already are CBOR (one or more whole items), copied as is.
    pub fn raw(&mut self, cbor: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(cbor);
        self
    }
}

/// Appends an item head with the shortest encoding of `v`.
pub(crate) fn put_head(b: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    if v < 24 {
        b.push(m | v as u8);
    } else if v <= 0xff {
        b.extend_from_slice(&[m | 24, v as u8]);
    } else if v <= 0xffff {
        b.push(m | 25);
        b.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= 0xffff_ffff {
        b.push(m | 26);
        b.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        b.push(m | 27);
        b.extend_from_slice(&v.to_be_bytes());
    }
}

/// The head of `v` in its shortest form, right-aligned in a 9-byte array;
/// returns the array and the head's length.
pub(crate) fn head_bytes(major: u8, v: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    out[1..].copy_from_slice(&v.to_be_bytes());
    let n = if v < 24 {
        out[8] = major << 5 | v as u8;
        1
    } else if v <= 0xff {
        out[7] = major << 5 | 24;
        2
    } else if v <= 0xffff {
        out[6] = major << 5 | 25;
        3
    } else if v <= 0xffff_ffff {
        out[4] = major << 5 | 26;
        5
    } else {
        out[0] = major << 5 | 27;
        9
    };
    (out, n)
}

pub(crate) fn put_int(b: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        put_head(b, MAJOR_UINT, v as u64);
    } else {
        // -1 - v, computed without overflow: !v == -1 - v in two's complement.
        put_head(b, MAJOR_NEGINT, !v as u64);
    }
}

pub(crate) fn put_bytes(b: &mut Vec<u8>, p: &[u8]) {
    put_head(b, MAJOR_BYTES, p.len() as u64);
    b.extend_from_slice(p);
}

pub(crate) fn put_text(b: &mut Vec<u8>, s: &str) {
    put_head(b, MAJOR_TEXT, s.len() as u64);
    b.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_float(b: &mut Vec<u8>, v: f64) {
    b.push(0xfb);
    b.extend_from_slice(&v.to_bits().to_be_bytes());
}

pub(crate) const MAJOR_MAP_HEAD: u8 = MAJOR_MAP;
pub(crate) const MAJOR_ARRAY_HEAD: u8 = MAJOR_ARRAY;

/// The CBOR encoding of one integer: what [`Context::set_int`] stores.
///
/// [`Context::set_int`]: crate::Context::set_int
pub fn encode_int(v: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(9);
    put_int(&mut b, v);
    b
}

/// The CBOR encoding of one text string.
pub fn encode_text(s: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(s.len() + 9);
    put_text(&mut b, s);
    b
}

/// Decodes `p` as exactly one CBOR integer (as [`encode_int`] writes it).
pub fn decode_int(p: &[u8]) -> Result<i64, CborError> {
    let mut r = Reader::new(p);
    let v = r.read_int()?;
    r.finish()?;
    Ok(v)
}

/// Checks that `p` holds exactly one well-formed item.
pub fn well_formed(p: &[u8]) -> Result<(), CborError> {
    let mut r = Reader::new(p);
    r.skip()?;
    r.finish()
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

/// Reads CBOR items one at a time from a byte slice. Byte and text strings it
/// returns borrow from the input. A read that fails leaves the reader where
/// it was.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

struct Head {
    major: u8,
    info: u8,
    arg: u64,
    size: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The offset of the next item.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// An error unless the whole input has been read.
    pub fn finish(&self) -> Result<(), CborError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.fail("trailing bytes after the item"))
        }
    }

    fn fail(&self, what: &'static str) -> CborError {
        CborError { offset: self.pos, what }
    }

    fn head(&self) -> Result<Head, CborError> {
        let rest = &self.data[self.pos..];
        let ib = match rest.first() {
            Some(b) => *b,
            None => return Err(self.fail("unexpected end of input")),
        };
        let (major, info) = (ib >> 5, ib & 0x1f);
        let width = match info {
            0..=23 => return Ok(Head { major, info, arg: info as u64, size: 1 }),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err(self.fail("indefinite-length items are not supported")),
            _ => return Err(self.fail("reserved additional information")),
        };
        if rest.len() < 1 + width {
            return Err(self.fail("truncated item head"));
        }
        let mut arg = 0u64;
        for b in &rest[1..1 + width] {
            arg = arg << 8 | *b as u64;
        }
        Ok(Head { major, info, arg, size: 1 + width })
    }

    /// The kind of the next item, without consuming it.
    pub fn kind(&self) -> Kind {
        let h = match self.head() {
            Ok(h) => h,
            Err(_) => return Kind::Invalid,
        };
        match h.major {
            MAJOR_UINT => Kind::Uint,
            MAJOR_NEGINT => Kind::NegInt,
            MAJOR_BYTES => Kind::Bytes,
            MAJOR_TEXT => Kind::Text,
            MAJOR_ARRAY => Kind::Array,
            MAJOR_MAP => Kind::Map,
            MAJOR_TAG => Kind::Tag,
            _ => match h.info {
                20 | 21 => Kind::Bool,
                22 | 23 => Kind::Null,
                25 | 26 | 27 => Kind::Float,
                _ => Kind::Invalid,
            },
        }
    }

    fn expect(&mut self, major: u8, what: &'static str) -> Result<u64, CborError> {
        let h = self.head()?;
        if h.major != major {
            return Err(self.fail(what));
        }
        self.pos += h.size;
        Ok(h.arg)
    }

    /// An unsigned integer (major type 0).
    pub fn read_uint(&mut self) -> Result<u64, CborError> {
        self.expect(MAJOR_UINT, "expected an unsigned integer")
    }

    /// An unsigned or negative integer that fits an `i64`.
    pub fn read_int(&mut self) -> Result<i64, CborError> {
        let h = self.head()?;
        let v = match h.major {
            MAJOR_UINT if h.arg <= i64::MAX as u64 => h.arg as i64,
            MAJOR_NEGINT if h.arg <= i64::MAX as u64 => !(h.arg as i64),
            MAJOR_UINT | MAJOR_NEGINT => return Err(self.fail("integer out of the 64-bit signed range")),
            _ => return Err(self.fail("expected an integer")),
        };
        self.pos += h.size;
        Ok(v)
    }

    fn read_string(&mut self, major: u8, what: &'static str) -> Result<&'a [u8], CborError> {
        let h = self.head()?;
        if h.major != major {
            return Err(self.fail(what));
        }
        let avail = (self.remaining() - h.size) as u64;
        if h.arg > avail {
            return Err(self.fail("string longer than the input"));
        }
        let start = self.pos + h.size;
        let end = start + h.arg as usize;
        self.pos = end;
        Ok(&self.data[start..end])
    }

    /// A byte string (major type 2), borrowed from the input.
    pub fn read_bytes(&mut self) -> Result<&'a [u8], CborError> {
        self.read_string(MAJOR_BYTES, "expected a byte string")
    }

    /// A text string (major type 3) that is valid UTF-8, borrowed from the
    /// input.
    pub fn read_text(&mut self) -> Result<&'a str, CborError> {
        let save = self.pos;
        let p = self.read_string(MAJOR_TEXT, "expected a text string")?;
        match core::str::from_utf8(p) {
            Ok(s) => Ok(s),
            Err(_) => {
                self.pos = save;
                Err(self.fail("text string is not valid UTF-8"))
            }
        }
    }

    /// The head of an array: the number of items that follow.
    pub fn read_array(&mut self) -> Result<usize, CborError> {
        let h = self.head()?;
        if h.major != MAJOR_ARRAY {
            return Err(self.fail("expected an array"));
        }
        if h.arg > (self.remaining() - h.size) as u64 {
            return Err(self.fail("array longer than the input"));
        }
        self.pos += h.size;
        Ok(h.arg as usize)
    }

    /// The head of a map: the number of key/value pairs that follow.
    pub fn read_map(&mut self) -> Result<usize, CborError> {
        let h = self.head()?;
        if h.major != MAJOR_MAP {
            return Err(self.fail("expected a map"));
        }
        if h.arg > ((self.remaining() - h.size) / 2) as u64 {
            return Err(self.fail("map longer than the input"));
        }
        self.pos += h.size;
        Ok(h.arg as usize)
    }

    /// The head of a tag: its number; the tagged item follows.
    pub fn read_tag(&mut self) -> Result<u64, CborError> {
        self.expect(MAJOR_TAG, "expected a tag")
    }

    pub fn read_bool(&mut self) -> Result<bool, CborError> {
        match self.data.get(self.pos) {
            Some(0xf4) => {
                self.pos += 1;
                Ok(false)
            }
            Some(0xf5) => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.fail("expected a bool")),
        }
    }

    /// `null` or `undefined`.
    pub fn read_null(&mut self) -> Result<(), CborError> {
        match self.data.get(self.pos) {
            Some(0xf6) | Some(0xf7) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.fail("expected null")),
        }
    }

    /// A number as an `f64`: a half, single or double precision float, or an
    /// integer.
    pub fn read_float(&mut self) -> Result<f64, CborError> {
        let h = self.head()?;
        let v = match (h.major, h.info) {
            (MAJOR_UINT, _) => h.arg as f64,
            (MAJOR_NEGINT, _) => -1.0 - h.arg as f64,
            (MAJOR_SIMPLE, 25) => half_to_f64(h.arg as u16),
            (MAJOR_SIMPLE, 26) => f32::from_bits(h.arg as u32) as f64,
            (MAJOR_SIMPLE, 27) => f64::from_bits(h.arg),
            _ => return Err(self.fail("expected a number")),
        };
        self.pos += h.size;
        Ok(v)
    }

    /// Consumes the next item with everything nested in it.
    pub fn skip(&mut self) -> Result<(), CborError> {
        let save = self.pos;
        let r = self.skip_inner();
        if r.is_err() {
            self.pos = save;
        }
        r
    }

    fn skip_inner(&mut self) -> Result<(), CborError> {
        let mut pending: u64 = 1;
        while pending > 0 {
            pending -= 1;
            let h = self.head()?;
            let after = (self.remaining() - h.size) as u64;
            match h.major {
                MAJOR_BYTES | MAJOR_TEXT => {
                    if h.arg > after {
                        return Err(self.fail("string longer than the input"));
                    }
                    self.pos += h.size + h.arg as usize;
                    continue;
                }
                MAJOR_ARRAY => {
                    if h.arg > after {
                        return Err(self.fail("array longer than the input"));
                    }
                    pending += h.arg;
                }
                MAJOR_MAP => {
                    if h.arg > after / 2 {
                        return Err(self.fail("map longer than the input"));
                    }
                    pending += 2 * h.arg;
                }
                MAJOR_TAG => pending += 1,
                MAJOR_SIMPLE => {
                    if h.info == 24 && h.arg < 32 {
                        return Err(self.fail("invalid simple value"));
                    }
                }
                _ => {}
            }
            self.pos += h.size;
            if pending > self.remaining() as u64 {
                return Err(self.fail("container longer than the input"));
            }
        }
        Ok(())
    }

    /// Consumes the next item and returns its encoding, borrowed from the
    /// input.
    pub fn read_raw(&mut self) -> Result<&'a [u8], CborError> {
        let start = self.pos;
        self.skip()?;
        Ok(&self.data[start..self.pos])
    }
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * pow2(-24),
        31 => {
            if frac == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => sign * (frac + 1024.0) * pow2(exp - 25),
    }
}

/// 2^e for the small exponents of half floats, exactly.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn shortest_heads() {
        let cases: &[(u64, &str)] = &[
            (0, "00"),
            (23, "17"),
            (24, "1818"),
            (255, "18ff"),
            (256, "190100"),
            (65535, "19ffff"),
            (65536, "1a00010000"),
            (0xffff_ffff, "1affffffff"),
            (1 << 32, "1b0000000100000000"),
            (u64::MAX, "1bffffffffffffffff"),
        ];
        for (v, want) in cases {
            let mut w = Writer::new();
            w.uint(*v);
            assert_eq!(w.as_bytes(), &hex(want)[..], "uint {}", v);
            let mut r = Reader::new(w.as_bytes());
            assert_eq!(r.read_uint().unwrap(), *v);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn ints() {
        let cases: &[(i64, &str)] = &[
            (0, "00"),
            (-1, "20"),
            (-24, "37"),
            (-25, "3818"),
            (-100, "3863"),
            (-256, "38ff"),
            (-257, "390100"),
            (150, "1896"),
            (i64::MAX, "1b7fffffffffffffff"),
            (i64::MIN, "3b7fffffffffffffff"),
        ];
        for (v, want) in cases {
            assert_eq!(encode_int(*v), hex(want), "int {}", v);
            assert_eq!(decode_int(&hex(want)).unwrap(), *v);
        }
        // Out of the i64 range.
        assert!(decode_int(&hex("1b8000000000000000")).is_err());
        assert!(decode_int(&hex("3b8000000000000000")).is_err());
        // Trailing bytes.
        assert!(decode_int(&hex("0101")).is_err());
    }

    #[test]
    fn any_head_width() {
        for enc in ["05", "1805", "190005", "1a00000005", "1b0000000000000005"] {
            let b = hex(enc);
            let mut r = Reader::new(&b);
            assert_eq!(r.read_uint().unwrap(), 5, "{}", enc);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn strings() {
        let mut w = Writer::new();
        w.text("hi").bytes(&[1, 2, 3]).text(&"x".repeat(24));
        let b = w.into_bytes();
        assert_eq!(&b[..3], &[0x62, b'h', b'i']);
        assert_eq!(&b[3..7], &[0x43, 1, 2, 3]);
        assert_eq!(&b[7..9], &[0x78, 0x18]);
        let mut r = Reader::new(&b);
        assert_eq!(r.read_text().unwrap(), "hi");
        assert_eq!(r.read_bytes().unwrap(), &[1, 2, 3]);
        assert_eq!(r.read_text().unwrap().len(), 24);
        assert!(r.is_empty());
    }

    #[test]
    fn wrong_kind_leaves_reader_alone() {
        let b = hex("6268690102");
        let mut r = Reader::new(&b);
        assert!(r.read_uint().is_err());
        assert!(r.read_bytes().is_err());
        assert!(r.read_map().is_err());
        assert_eq!(r.offset(), 0);
        assert_eq!(r.read_text().unwrap(), "hi");
    }

    #[test]
    fn invalid_utf8() {
        let b = hex("62ff00");
        let mut r = Reader::new(&b);
        assert!(r.read_text().is_err());
        assert_eq!(r.offset(), 0);
        // It is still a well-formed item.
        assert!(well_formed(&b).is_ok());
    }

    #[test]
    fn floats_and_simple() {
        let mut w = Writer::new();
        w.float(1.5).bool(true).bool(false).null();
        let b = w.into_bytes();
        assert_eq!(&b[..9], &hex("fb3ff8000000000000")[..]);
        let mut r = Reader::new(&b);
        assert_eq!(r.kind(), Kind::Float);
        assert_eq!(r.read_float().unwrap(), 1.5);
        assert_eq!(r.kind(), Kind::Bool);
        assert!(r.read_bool().unwrap());
        assert!(!r.read_bool().unwrap());
        assert_eq!(r.kind(), Kind::Null);
        r.read_null().unwrap();
        assert!(r.is_empty());

        // Half and single precision.
        let cases: &[(&str, f64)] = &[
            ("f93c00", 1.0),
            ("f93e00", 1.5),
            ("f9c400", -4.0),
            ("f97bff", 65504.0),
            ("f90001", 5.960464477539063e-8),
            ("f90400", 0.00006103515625),
            ("f97c00", f64::INFINITY),
            ("fa47c35000", 100000.0),
            ("fa3fc00000", 1.5),
            ("0a", 10.0),
            ("29", -10.0),
        ];
        for (enc, want) in cases {
            let b = hex(enc);
            assert_eq!(Reader::new(&b).read_float().unwrap(), *want, "{}", enc);
        }
        let nan = hex("f97e00");
        assert!(Reader::new(&nan).read_float().unwrap().is_nan());
    }

    #[test]
    fn skip_nested() {
        // {"a": [1, {"b": h'01'}, tag 1 (2)], 3: 1.5f16, "c": null}
        let b = hex("a3 6161 8301a1616241 01c102 03 f93e00 6163 f6");
        let mut r = Reader::new(&b);
        r.skip().unwrap();
        assert!(r.is_empty());
        let mut r = Reader::new(&b);
        assert_eq!(r.read_raw().unwrap(), &b[..]);
        assert!(well_formed(&b).is_ok());
    }

    #[test]
    fn malformed() {
        let bad = [
            "",                   // nothing
            "5f",                 // indefinite byte string
            "7f",                 // indefinite text
            "9f",                 // indefinite array
            "bf",                 // indefinite map
            "ff",                 // break
            "1c",                 // reserved info 28
            "fc",                 // reserved simple
            "f800",               // two-byte simple value below 32
            "18",                 // truncated head
            "1900",               // truncated head
            "43 0102",            // string longer than the input
            "82 01",              // array longer than the input
            "a1 01",              // map longer than the input
            "9b ffffffffffffffff", // huge count
            "bb 7fffffffffffffff", // huge map
            "c1",                 // tag without item
            "0101",               // trailing bytes
            "81 9f",              // indefinite inside
        ];
        for enc in bad {
            let b = hex(enc);
            assert!(well_formed(&b).is_err(), "{:?} should be malformed", enc);
        }
        // A failed skip leaves the reader where it was.
        let b = hex("82 01");
        let mut r = Reader::new(&b);
        assert!(r.skip().is_err());
        assert_eq!(r.offset(), 0);
        // Counts are checked against the input before anyone allocates.
        let b = hex("9b ffffffffffffffff");
        assert!(Reader::new(&b).read_array().is_err());
        let b = hex("bb 0000000000000001 01");
        assert!(Reader::new(&b).read_map().is_err());
        // f8 20 (simple 32) is fine.
        assert!(well_formed(&hex("f820")).is_ok());
    }

    #[test]
    fn kinds() {
        let cases: &[(&str, Kind)] = &[
            ("00", Kind::Uint),
            ("20", Kind::NegInt),
            ("40", Kind::Bytes),
            ("60", Kind::Text),
            ("80", Kind::Array),
            ("a0", Kind::Map),
            ("c000", Kind::Tag),
            ("f4", Kind::Bool),
            ("f6", Kind::Null),
            ("f7", Kind::Null),
            ("fb0000000000000000", Kind::Float),
            ("", Kind::Invalid),
            ("ff", Kind::Invalid),
            ("e0", Kind::Invalid),
        ];
        for (enc, k) in cases {
            assert_eq!(Reader::new(&hex(enc)).kind(), *k, "{}", enc);
        }
    }
}
