// A small CBOR (RFC 8949) writer and reader, without reflection, for the
// subset docs/ABI.md section 6 describes: definite lengths only, shortest
// heads when writing, any head width when reading.

/** The kind of the next CBOR item (CborReader.peek). */
export enum Kind {
  /** End of input or a malformed head. */
  Invalid = 0,
  Uint,
  NegInt,
  Bytes,
  Text,
  Array,
  Map,
  Tag,
  Bool,
  /** null or undefined. */
  Null,
  /** A half, single or double float. */
  Float,
  /** Another simple value (well-formed but meaningless here). */
  Simple,
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/**
 * Appends CBOR items to a growable buffer, always in their shortest form.
 * Containers are definite-length: write the head with the number of items
 * (of pairs, for a map), then the items. Every method returns the writer,
 * so calls chain:
 *
 *   const w = new CborWriter();
 *   w.map(1).text("n").int(5);
 *   const bytes = w.finish();
 */
export class CborWriter {
  private buf: ArrayBuffer;
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new ArrayBuffer(max(capacity, 16));
  }

  /** Bytes written so far. */
  get length(): i32 {
    return this.len;
  }

  /** Forgets what was written, keeping the memory. */
  reset(): CborWriter {
    this.len = 0;
    return this;
  }

  /** Makes room for n more bytes and returns where they go. */
  private reserve(n: i32): usize {
    const need = this.len + n;
    if (need < this.len) unreachable(); // overflow
    const cap = this.buf.byteLength;
    if (need > cap) {
      let ncap = cap << 1;
      if (ncap < need) ncap = need;
      const nbuf = new ArrayBuffer(ncap);
      memory.copy(changetype<usize>(nbuf), changetype<usize>(this.buf), <usize>this.len);
      this.buf = nbuf;
    }
    const at = changetype<usize>(this.buf) + <usize>this.len;
    this.len = need;
    return at;
  }

  /** Writes a head: major type (0-7) and argument, shortest form. */
  private head(major: u32, v: u64): void {
    const n = headSize(v);
    const p = this.reserve(n);
    putHead(p, major, v);
  }

  /** An unsigned integer. */
  uint(v: u64): CborWriter {
    this.head(0, v);
    return this;
  }

  /** A signed integer (major type 0 or 1). */
  int(v: i64): CborWriter {
    if (v >= 0) this.head(0, <u64>v);
    else this.head(1, <u64>(~v)); // -1 - v
    return this;
  }

  /** A byte string. */
  bytes(b: Uint8Array): CborWriter {
    const n = b.length;
    this.head(2, <u64>n);
    memory.copy(this.reserve(n), b.dataStart, <usize>n);
    return this;
  }

  /**
   * The head of a byte string of n bytes. Write exactly n bytes next (with
   * raw, or as CBOR items that take n bytes), e.g. to embed an item as a
   * byte string without building it separately.
   */
  bytesHead(n: i32): CborWriter {
    this.head(2, <u64>n);
    return this;
  }

  /** A text string, encoded as UTF-8 (lone surrogates become U+FFFD). */
  text(s: string): CborWriter {
    const n = String.UTF8.byteLength(s);
    this.head(3, <u64>n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.reserve(n), false, String.UTF8.ErrorMode.REPLACE);
    return this;
  }

  /** A text string whose UTF-8 bytes are given. */
  textBytes(b: Uint8Array): CborWriter {
    const n = b.length;
    this.head(3, <u64>n);
    memory.copy(this.reserve(n), b.dataStart, <usize>n);
    return this;
  }

  /** The head of an array of n items; write the items next. */
  array(n: i32): CborWriter {
    this.head(4, <u64>n);
    return this;
  }

  /** The head of a map of n pairs; write key, value, key, value... next. */
  map(n: i32): CborWriter {
    this.head(5, <u64>n);
    return this;
  }

  /** A tag; write the tagged item next. */
  tag(t: u64): CborWriter {
    this.head(6, t);
    return this;
  }

  /** true or false. */
  bool(v: bool): CborWriter {
    store<u8>(this.reserve(1), v ? 0xf5 : 0xf4);
    return this;
  }

  /** null. */
  nil(): CborWriter {
    store<u8>(this.reserve(1), 0xf6);
    return this;
  }

  /** A float, always as an 8-byte double. */
  float(v: f64): CborWriter {
    const p = this.reserve(9);
    store<u8>(p, 0xfb);
    store<u64>(p + 1, bswap<u64>(reinterpret<u64>(v)));
    return this;
  }

  /** Bytes that already are CBOR (one or more whole items). */
  raw(b: Uint8Array): CborWriter {
    const n = b.length;
    memory.copy(this.reserve(n), b.dataStart, <usize>n);
    return this;
  }

  /**
   * The bytes written so far, as a view of the writer's buffer (no copy).
   * Writing to the writer afterwards may change or detach it; see toBytes.
   */
  finish(): Uint8Array {
    return Uint8Array.wrap(this.buf, 0, this.len);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, changetype<usize>(this.buf), <usize>this.len);
    return out;
  }

  /** A view of the bytes from offset start on (no copy); see finish. */
  finishFrom(start: i32): Uint8Array {
    if (start < 0 || start > this.len) unreachable();
    return Uint8Array.wrap(this.buf, start, this.len - start);
  }

  /** Where the bytes written so far start in memory (for the SDK). */
  get dataStart(): usize {
    return changetype<usize>(this.buf);
  }
}

/** The number of bytes of a head with argument v. */
export function headSize(v: u64): i32 {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffff) return 5;
  return 9;
}

/** The number of bytes of the encoding of the integer v. */
export function intSize(v: i64): i32 {
  return headSize(v >= 0 ? <u64>v : <u64>(~v));
}

/** Writes the head (major, v) at p, shortest form; returns its size. */
export function putHead(p: usize, major: u32, v: u64): i32 {
  const m = <u8>(major << 5);
  if (v < 24) {
    store<u8>(p, m | <u8>v);
    return 1;
  }
  if (v <= 0xff) {
    store<u8>(p, m | 24);
    store<u8>(p, <u8>v, 1);
    return 2;
  }
  if (v <= 0xffff) {
    store<u8>(p, m | 25);
    store<u16>(p + 1, bswap<u16>(<u16>v));
    return 3;
  }
  if (v <= 0xffffffff) {
    store<u8>(p, m | 26);
    store<u32>(p + 1, bswap<u32>(<u32>v));
    return 5;
  }
  store<u8>(p, m | 27);
  store<u64>(p + 1, bswap<u64>(v));
  return 9;
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

/**
 * Reads CBOR items one at a time from a byte array. It never reads past
 * the array, accepts any head width, and rejects indefinite lengths,
 * reserved heads and counts larger than the bytes that remain.
 *
 * Errors are sticky: a read of the wrong kind, or of a malformed item,
 * returns a zero value, leaves the reader where it was and sets `failed`;
 * every later read then fails too. Check `ok` once after a sequence of
 * reads, or `peek()` before a read whose kind varies.
 *
 * Bytes and views it returns alias the input.
 */
export class CborReader {
  private data: Uint8Array;
  private pos: i32;
  private end: i32;
  /** True once a read failed. */
  failed: bool = false;

  // The head at pos, as parsed by head().
  private hMajor: u32 = 0;
  private hInfo: u32 = 0;
  private hArg: u64 = 0;
  private hLen: i32 = 0;

  constructor(data: Uint8Array) {
    this.data = data;
    this.pos = 0;
    this.end = data.length;
  }

  /** Starts reading data afresh, so that one reader can serve many inputs. */
  reset(data: Uint8Array): CborReader {
    return this.resetRange(data, 0, data.length);
  }

  /**
   * Starts reading data[start:end] afresh; offsets (offset, skipText) stay
   * relative to data.
   */
  resetRange(data: Uint8Array, start: i32, end: i32): CborReader {
    if (start < 0 || end > data.length || start > end) unreachable();
    this.data = data;
    this.pos = start;
    this.end = end;
    this.failed = false;
    return this;
  }

  /** No read has failed. */
  get ok(): bool {
    return !this.failed;
  }

  /** Bytes consumed so far. */
  get offset(): i32 {
    return this.pos;
  }

  /** Bytes not yet consumed. */
  get remaining(): i32 {
    return this.end - this.pos;
  }

  /** The input's length, or the end of the range given to resetRange. */
  get limit(): i32 {
    return this.end;
  }

  /** True when every byte has been consumed. */
  get done(): bool {
    return this.pos == this.end;
  }

  // @ts-ignore: decorator
  @inline private byteAt(i: i32): u32 {
    return <u32>load<u8>(this.data.dataStart + <usize>i);
  }

  /** Parses the head at `at` into hMajor..hLen; false if malformed. */
  private head(at: i32): bool {
    if (at >= this.end) return false;
    const b = this.byteAt(at);
    const major = b >> 5;
    const info = b & 31;
    const p = this.data.dataStart + <usize>at;
    const room = this.end - at;
    let arg: u64;
    let n: i32;
    if (info < 24) {
      arg = <u64>info;
      n = 1;
    } else if (info == 24) {
      if (room < 2) return false;
      arg = <u64>load<u8>(p, 1);
      n = 2;
      if (major == 7 && arg < 32) return false; // two-byte simple values below 32
    } else if (info == 25) {
      if (room < 3) return false;
      arg = <u64>bswap<u16>(load<u16>(p, 1));
      n = 3;
    } else if (info == 26) {
      if (room < 5) return false;
      arg = <u64>bswap<u32>(load<u32>(p, 1));
      n = 5;
    } else if (info == 27) {
      if (room < 9) return false;
      arg = bswap<u64>(load<u64>(p, 1));
      n = 9;
    } else {
      return false; // 28-30 reserved, 31 indefinite length
    }
    this.hMajor = major;
    this.hInfo = info;
    this.hArg = arg;
    this.hLen = n;
    return true;
  }

  /** The kind of the next item, without consuming it. */
  peek(): Kind {
    if (!this.head(this.pos)) return Kind.Invalid;
    switch (this.hMajor) {
      case 0: return Kind.Uint;
      case 1: return Kind.NegInt;
      case 2: return Kind.Bytes;
      case 3: return Kind.Text;
      case 4: return Kind.Array;
      case 5: return Kind.Map;
      case 6: return Kind.Tag;
      default: {
        const info = this.hInfo;
        if (info == 20 || info == 21) return Kind.Bool;
        if (info == 22 || info == 23) return Kind.Null;
        if (info >= 25) return Kind.Float;
        return Kind.Simple;
      }
    }
  }

  /** Parses the next head and checks its major type; sets failed if not. */
  private expect(major: u32): bool {
    if (this.failed || !this.head(this.pos) || this.hMajor != major) {
      this.failed = true;
      return false;
    }
    return true;
  }

  private fail(): void {
    this.failed = true;
  }

  /** An unsigned integer. */
  readUint(): u64 {
    if (!this.expect(0)) return 0;
    this.pos += this.hLen;
    return this.hArg;
  }

  /** An integer (unsigned or negative) that fits in an i64. */
  readInt(): i64 {
    if (this.failed || !this.head(this.pos) || this.hMajor > 1 || this.hArg > <u64>i64.MAX_VALUE) {
      this.fail();
      return 0;
    }
    this.pos += this.hLen;
    return this.hMajor == 0 ? <i64>this.hArg : -1 - <i64>this.hArg;
  }

  /** Checks a string's length and returns its first byte's offset, or -1. */
  private str(major: u32): i32 {
    if (!this.expect(major)) return -1;
    const start = this.pos + this.hLen;
    if (this.hArg > <u64>(this.end - start)) {
      this.fail();
      return -1;
    }
    this.pos = start + <i32>this.hArg;
    return start;
  }

  /** A byte string, as a view of the input. */
  readBytes(): Uint8Array {
    const start = this.str(2);
    if (start < 0) return new Uint8Array(0);
    return this.data.subarray(start, this.pos);
  }

  /** A text string, decoded from UTF-8. */
  readText(): string {
    const start = this.str(3);
    if (start < 0) return "";
    return String.UTF8.decodeUnsafe(this.data.dataStart + <usize>start, <usize>(this.pos - start));
  }

  /** A text string's UTF-8 bytes, as a view of the input. */
  readTextBytes(): Uint8Array {
    const start = this.str(3);
    if (start < 0) return new Uint8Array(0);
    return this.data.subarray(start, this.pos);
  }

  /**
   * Consumes a text string without allocating and returns the offset of
   * its first byte in the input; it ends at `offset`. -1 on failure.
   */
  skipText(): i32 {
    return this.str(3);
  }

  /** Like skipText, for a byte string. */
  skipBytes(): i32 {
    return this.str(2);
  }

  /** An array head: the number of items that follow. */
  readArray(): i32 {
    if (!this.expect(4)) return 0;
    const left = <u64>(this.end - this.pos - this.hLen);
    if (this.hArg > left) { // every item takes at least one byte
      this.fail();
      return 0;
    }
    this.pos += this.hLen;
    return <i32>this.hArg;
  }

  /** A map head: the number of key/value pairs that follow. */
  readMap(): i32 {
    if (!this.expect(5)) return 0;
    const left = <u64>(this.end - this.pos - this.hLen);
    if (this.hArg > left / 2) { // every pair takes at least two bytes
      this.fail();
      return 0;
    }
    this.pos += this.hLen;
    return <i32>this.hArg;
  }

  /** A tag number; the tagged item follows. */
  readTag(): u64 {
    if (!this.expect(6)) return 0;
    this.pos += this.hLen;
    return this.hArg;
  }

  /** true or false. */
  readBool(): bool {
    if (!this.expect(7) || (this.hInfo != 20 && this.hInfo != 21)) {
      this.fail();
      return false;
    }
    this.pos += 1;
    return this.hInfo == 21;
  }

  /** null or undefined. */
  readNull(): void {
    if (!this.expect(7) || (this.hInfo != 22 && this.hInfo != 23)) {
      this.fail();
      return;
    }
    this.pos += 1;
  }

  /** A half, single or double float, or an integer, as an f64. */
  readFloat(): f64 {
    if (this.failed || !this.head(this.pos)) {
      this.fail();
      return 0;
    }
    const major = this.hMajor;
    const arg = this.hArg;
    let v: f64;
    if (major == 0) {
      v = <f64>arg;
    } else if (major == 1) {
      v = -1.0 - <f64>arg;
    } else if (major == 7 && this.hInfo == 25) {
      v = halfToF64(<u32>arg);
    } else if (major == 7 && this.hInfo == 26) {
      v = <f64>reinterpret<f32>(<u32>arg);
    } else if (major == 7 && this.hInfo == 27) {
      v = reinterpret<f64>(arg);
    } else {
      this.fail();
      return 0;
    }
    this.pos += this.hLen;
    return v;
  }

  /**
   * Consumes the next item with everything nested in it. Iterative, so
   * deep nesting cannot overflow the stack.
   */
  skip(): void {
    if (this.failed) return;
    let at = this.pos;
    let pending: u64 = 1;
    while (pending > 0) {
      if (!this.head(at)) {
        this.fail();
        return;
      }
      pending--;
      at += this.hLen;
      const left = <u64>(this.end - at);
      switch (this.hMajor) {
        case 2:
        case 3: {
          if (this.hArg > left) {
            this.fail();
            return;
          }
          at += <i32>this.hArg;
          break;
        }
        case 4: {
          if (this.hArg > left) {
            this.fail();
            return;
          }
          pending += this.hArg;
          break;
        }
        case 5: {
          if (this.hArg > left / 2) {
            this.fail();
            return;
          }
          pending += this.hArg * 2;
          break;
        }
        case 6: {
          pending += 1;
          break;
        }
        default: break; // integers, simple values and floats: the head is all
      }
      if (pending > <u64>(this.end - at)) { // more items than bytes left
        this.fail();
        return;
      }
    }
    this.pos = at;
  }

  /** Consumes the next item and returns its encoding, as a view. */
  readRaw(): Uint8Array {
    const start = this.pos;
    this.skip();
    if (this.failed) return new Uint8Array(0);
    return this.data.subarray(start, this.pos);
  }

  /** True if data holds exactly one well-formed item. */
  static valid(data: Uint8Array): bool {
    const r = new CborReader(data);
    r.skip();
    return r.ok && r.done;
  }
}

/** Converts an IEEE 754 half-precision float to an f64. */
function halfToF64(h: u32): f64 {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp == 0) {
    const v = <f64>mant * 5.9604644775390625e-8; // mant * 2^-24, exact
    return sign ? -v : v;
  }
  if (exp == 31) {
    return <f64>reinterpret<f32>(sign | 0x7f800000 | (mant << 13));
  }
  return <f64>reinterpret<f32>(sign | ((exp + 112) << 23) | (mant << 13));
}
