// JSON-shaped payloads. The HTTP gateway turns a JSON body such as {"n": 7}
// into a CBOR map with text keys and turns the reply back into JSON, so most
// actors read a Doc and answer with a MapBuilder. No reflection; views alias
// the payload.

import { CborReader, CborWriter, Kind, headSize, putHead } from "./cbor";

const EMPTY = new Uint8Array(0);
const NO_SPANS = new StaticArray<i32>(0);

// Scratch readers: reads are synchronous and never nest, so two readers
// serve every Value and Doc (one for values, one for parsing).
const vr = new CborReader(EMPTY);
const pr = new CborReader(EMPTY);

/**
 * One encoded CBOR item, read lazily. A Value whose item is missing (a key
 * the Doc does not have) is absent: `exists` is false, every `isX` is false
 * and every accessor returns its default.
 */
export class Value {
  private data: Uint8Array;
  private start: i32;
  private end: i32;

  /** The item data[start:end] (all of data by default). */
  constructor(data: Uint8Array, start: i32 = 0, end: i32 = -1) {
    this.data = data;
    this.start = start;
    this.end = end < 0 ? data.length : end;
  }

  /** Wraps the encoding of one CBOR item (a state value, say). */
  static of(cbor: Uint8Array): Value {
    return new Value(cbor);
  }

  private r(): CborReader {
    return vr.resetRange(this.data, this.start, this.end);
  }

  /** The item's encoding, a view of the payload (empty when absent). */
  get raw(): Uint8Array {
    return this.data.subarray(this.start, this.end);
  }

  /** True unless the Value is absent. */
  get exists(): bool {
    return this.end > this.start;
  }

  /** The item's kind (Kind.Invalid when absent). */
  get kind(): Kind {
    return this.r().peek();
  }

  /** null or undefined (JSON null). */
  isNull(): bool {
    return this.kind == Kind.Null;
  }

  /**
   * An integer that fits in an i64, or a float with an integral value in
   * that range (JSON 7.0).
   */
  isInt(): bool {
    const r = this.r();
    const k = r.peek();
    if (k == Kind.Uint || k == Kind.NegInt) {
      r.readInt();
      return r.ok;
    }
    if (k == Kind.Float) return floatIsInt(r.readFloat());
    return false;
  }

  /** The integer (see isInt), or def. */
  int(def: i64 = 0): i64 {
    const r = this.r();
    const k = r.peek();
    if (k == Kind.Uint || k == Kind.NegInt) {
      const v = r.readInt();
      return r.ok ? v : def;
    }
    if (k == Kind.Float) {
      const f = r.readFloat();
      return floatIsInt(f) ? <i64>f : def;
    }
    return def;
  }

  /** A number: a float or an integer. */
  isFloat(): bool {
    const k = this.kind;
    return k == Kind.Float || k == Kind.Uint || k == Kind.NegInt;
  }

  /** The number (see isFloat), or def. */
  float(def: f64 = 0): f64 {
    const r = this.r();
    const v = r.readFloat();
    return r.ok ? v : def;
  }

  /** A text string. */
  isText(): bool {
    return this.kind == Kind.Text;
  }

  /** The text, or def. */
  text(def: string = ""): string {
    const r = this.r();
    const v = r.readText();
    return r.ok ? v : def;
  }

  /** A byte string. */
  isBytes(): bool {
    return this.kind == Kind.Bytes;
  }

  /** The bytes (a view of the payload), or an empty array. */
  bytes(): Uint8Array {
    const r = this.r();
    const at = r.skipBytes();
    return at < 0 ? EMPTY : this.data.subarray(at, r.offset);
  }

  /** true or false. */
  isBool(): bool {
    return this.kind == Kind.Bool;
  }

  /** The boolean, or def. */
  bool(def: bool = false): bool {
    const r = this.r();
    const v = r.readBool();
    return r.ok ? v : def;
  }

  /** The map with text keys, or null if the item is not one. */
  map(): Doc | null {
    if (this.kind != Kind.Map) return null;
    return Doc.parseRange(this.data, this.start, this.end);
  }

  /** The array, or null if the item is not one. */
  array(): List | null {
    if (this.kind != Kind.Array) return null;
    return List.parseRange(this.data, this.start, this.end);
  }
}

/** True if f has an integral value that fits in an i64. */
function floatIsInt(f: f64): bool {
  // 2^63 is the first float above i64.MAX_VALUE; -2^63 is in range.
  return f == Math.floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0;
}

/** True if the UTF-8 bytes at [p, p+n) spell s. No allocation. */
function utf8Equals(s: string, p: usize, n: i32): bool {
  const len = s.length;
  if (n < len || n > len * 3) return false;
  const end = p + <usize>n;
  for (let i = 0; i < len; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const c2 = <u32>s.charCodeAt(i + 1);
      if (c2 >= 0xdc00 && c2 < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) {
      if (p >= end || <u32>load<u8>(p) != c) return false;
      p += 1;
    } else if (c < 0x800) {
      if (p + 2 > end || <u32>load<u8>(p) != (0xc0 | (c >> 6)) || <u32>load<u8>(p, 1) != (0x80 | (c & 63))) return false;
      p += 2;
    } else if (c < 0x10000) {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate, as the writer encodes it
      if (p + 3 > end || <u32>load<u8>(p) != (0xe0 | (c >> 12)) ||
          <u32>load<u8>(p, 1) != (0x80 | ((c >> 6) & 63)) || <u32>load<u8>(p, 2) != (0x80 | (c & 63))) return false;
      p += 3;
    } else {
      if (p + 4 > end || <u32>load<u8>(p) != (0xf0 | (c >> 18)) || <u32>load<u8>(p, 1) != (0x80 | ((c >> 12) & 63)) ||
          <u32>load<u8>(p, 2) != (0x80 | ((c >> 6) & 63)) || <u32>load<u8>(p, 3) != (0x80 | (c & 63))) return false;
      p += 4;
    }
  }
  return p == end;
}

/**
 * A decoded CBOR map with text keys: a JSON object. Lookups are linear,
 * which is fastest for the few keys a message has. If a key occurs twice
 * the first wins. Keys and values alias the payload, which is only valid
 * while the handler runs.
 */
export class Doc {
  private data: Uint8Array = EMPTY;
  // Per entry: key start, key end (its UTF-8 bytes), value start, value end.
  private spans: StaticArray<i32> = NO_SPANS;

  /**
   * Decodes payload as a map with text keys, checking that it is
   * well-formed CBOR throughout. An empty payload is an empty Doc (a
   * method called without a body reads as {}). Returns null when the
   * payload is not such a map.
   */
  static parse(payload: Uint8Array): Doc | null {
    if (payload.length == 0) return new Doc();
    return Doc.parseRange(payload, 0, payload.length);
  }

  /** Like parse, for the map data[start:end]. */
  static parseRange(data: Uint8Array, start: i32, end: i32): Doc | null {
    const r = pr.resetRange(data, start, end);
    const n = r.readMap();
    if (!r.ok) return null;
    const spans = new StaticArray<i32>(n * 4);
    for (let i = 0; i < n; i++) {
      const k = r.skipText();
      const ke = r.offset;
      r.skip();
      if (!r.ok) return null;
      unchecked(spans[i * 4] = k);
      unchecked(spans[i * 4 + 1] = ke);
      unchecked(spans[i * 4 + 2] = ke);
      unchecked(spans[i * 4 + 3] = r.offset);
    }
    if (!r.done) return null;
    const d = new Doc();
    d.data = data;
    d.spans = spans;
    return d;
  }

  /** The number of keys. */
  get length(): i32 {
    return this.spans.length >> 2;
  }

  /** The i-th key, in encoding order. */
  keyAt(i: i32): string {
    const k = this.spans[i * 4];
    return String.UTF8.decodeUnsafe(this.data.dataStart + <usize>k, <usize>(this.spans[i * 4 + 1] - k));
  }

  /** The i-th value, in encoding order. */
  valueAt(i: i32): Value {
    return new Value(this.data, this.spans[i * 4 + 2], this.spans[i * 4 + 3]);
  }

  private find(key: string): i32 {
    const n = this.spans.length >> 2;
    const base = this.data.dataStart;
    for (let i = 0; i < n; i++) {
      const k = unchecked(this.spans[i * 4]);
      if (utf8Equals(key, base + <usize>k, unchecked(this.spans[i * 4 + 1]) - k)) return i;
    }
    return -1;
  }

  /** The value of key; absent (exists false) if the Doc has no such key. */
  get(key: string): Value {
    const i = this.find(key);
    if (i < 0) return new Value(EMPTY);
    return this.valueAt(i);
  }

  /** True if the Doc has key. */
  has(key: string): bool {
    return this.find(key) >= 0;
  }

  /** The integer under key (see Value.isInt), or def. */
  int(key: string, def: i64 = 0): i64 {
    return this.get(key).int(def);
  }

  /** The number under key, or def. */
  float(key: string, def: f64 = 0): f64 {
    return this.get(key).float(def);
  }

  /** The text under key, or def. */
  text(key: string, def: string = ""): string {
    return this.get(key).text(def);
  }

  /** The boolean under key, or def. */
  bool(key: string, def: bool = false): bool {
    return this.get(key).bool(def);
  }

  /** The byte string under key, or an empty array. */
  bytes(key: string): Uint8Array {
    return this.get(key).bytes();
  }

  /** The map under key, or null. */
  map(key: string): Doc | null {
    return this.get(key).map();
  }

  /** The array under key, or null. */
  array(key: string): List | null {
    return this.get(key).array();
  }
}

/** A decoded CBOR array: a JSON array. */
export class List {
  private data: Uint8Array = EMPTY;
  private spans: StaticArray<i32> = NO_SPANS; // start, end per item

  /** Decodes cbor as one well-formed array; null if it is not one. */
  static parse(cbor: Uint8Array): List | null {
    return List.parseRange(cbor, 0, cbor.length);
  }

  /** Like parse, for the array data[start:end]. */
  static parseRange(data: Uint8Array, start: i32, end: i32): List | null {
    const r = pr.resetRange(data, start, end);
    if (r.peek() != Kind.Array) return null;
    const n = r.readArray();
    if (!r.ok) return null;
    const spans = new StaticArray<i32>(n * 2);
    for (let i = 0; i < n; i++) {
      unchecked(spans[i * 2] = r.offset);
      r.skip();
      if (!r.ok) return null;
      unchecked(spans[i * 2 + 1] = r.offset);
    }
    if (!r.done) return null;
    const l = new List();
    l.data = data;
    l.spans = spans;
    return l;
  }

  /** The number of items. */
  get length(): i32 {
    return this.spans.length >> 1;
  }

  /** Item i; absent if i is out of range. */
  at(i: i32): Value {
    if (i < 0 || i >= this.length) return new Value(EMPTY);
    return new Value(this.data, this.spans[i * 2], this.spans[i * 2 + 1]);
  }
}

/**
 * Builds a CBOR map with text keys (a JSON object), in the order the
 * entries are added:
 *
 *   return new MapBuilder().int("n", total).text("unit", "apples").encode();
 */
export class MapBuilder {
  private w: CborWriter = withHeadroom();
  private n: i32 = 0;

  /** The number of entries so far. */
  get length(): i32 {
    return this.n;
  }

  private key(k: string): CborWriter {
    this.n++;
    return this.w.text(k);
  }

  int(key: string, v: i64): MapBuilder {
    this.key(key).int(v);
    return this;
  }

  uint(key: string, v: u64): MapBuilder {
    this.key(key).uint(v);
    return this;
  }

  float(key: string, v: f64): MapBuilder {
    this.key(key).float(v);
    return this;
  }

  text(key: string, v: string): MapBuilder {
    this.key(key).text(v);
    return this;
  }

  bytes(key: string, v: Uint8Array): MapBuilder {
    this.key(key).bytes(v);
    return this;
  }

  bool(key: string, v: bool): MapBuilder {
    this.key(key).bool(v);
    return this;
  }

  nil(key: string): MapBuilder {
    this.key(key).nil();
    return this;
  }

  /** A nested map. */
  map(key: string, v: MapBuilder): MapBuilder {
    this.key(key).raw(v.encode());
    return this;
  }

  /** A nested array. */
  array(key: string, v: ArrayBuilder): MapBuilder {
    this.key(key).raw(v.encode());
    return this;
  }

  /** A value that already is CBOR (exactly one item). */
  raw(key: string, cbor: Uint8Array): MapBuilder {
    this.key(key).raw(cbor);
    return this;
  }

  /** The map's encoding (a new array). */
  encode(): Uint8Array {
    return wrapItems(5, this.n, this.w);
  }
}

/** Builds a CBOR array (a JSON array). */
export class ArrayBuilder {
  private w: CborWriter = withHeadroom();
  private n: i32 = 0;

  /** The number of items so far. */
  get length(): i32 {
    return this.n;
  }

  private item(): CborWriter {
    this.n++;
    return this.w;
  }

  int(v: i64): ArrayBuilder {
    this.item().int(v);
    return this;
  }

  uint(v: u64): ArrayBuilder {
    this.item().uint(v);
    return this;
  }

  float(v: f64): ArrayBuilder {
    this.item().float(v);
    return this;
  }

  text(v: string): ArrayBuilder {
    this.item().text(v);
    return this;
  }

  bytes(v: Uint8Array): ArrayBuilder {
    this.item().bytes(v);
    return this;
  }

  bool(v: bool): ArrayBuilder {
    this.item().bool(v);
    return this;
  }

  nil(): ArrayBuilder {
    this.item().nil();
    return this;
  }

  map(v: MapBuilder): ArrayBuilder {
    this.item().raw(v.encode());
    return this;
  }

  array(v: ArrayBuilder): ArrayBuilder {
    this.item().raw(v.encode());
    return this;
  }

  raw(cbor: Uint8Array): ArrayBuilder {
    this.item().raw(cbor);
    return this;
  }

  /** The array's encoding (a new array). */
  encode(): Uint8Array {
    return wrapItems(4, this.n, this.w);
  }
}

// Builders write their entries after HEADROOM spare bytes and put the
// container's head just before them once the count is known, so encoding
// copies nothing.
const HEADROOM = 9;
const ZEROS = new Uint8Array(HEADROOM);

function withHeadroom(): CborWriter {
  return new CborWriter(64).raw(ZEROS);
}

/** The head of a container of n items (major 4 or 5), then the items. */
function wrapItems(major: u32, n: i32, w: CborWriter): Uint8Array {
  const at = HEADROOM - headSize(<u64>n);
  putHead(w.dataStart + <usize>at, major, <u64>n);
  return w.finishFrom(at);
}

/** The CBOR encoding of one integer (for state values). */
export function encodeInt(v: i64): Uint8Array {
  return new CborWriter(9).int(v).toBytes();
}

/** The CBOR encoding of one text string. */
export function encodeText(s: string): Uint8Array {
  return new CborWriter(s.length + 9).text(s).toBytes();
}
