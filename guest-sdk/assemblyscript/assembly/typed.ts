// Typed requests, replies and state: a Record is a class that reads its
// fields from a CBOR map and writes them to one (a JSON object through the
// HTTP gateway). AssemblyScript has no reflection and no decorators that
// write code, so a record says its fields once in read and once in write;
// request<T>, State<T> and reply do the rest.
//
//   class Total extends Record {
//     n: i64 = 0;
//     read(f: Fields): void { this.n = f.int("n"); }
//     write(m: MapBuilder): void { m.int("n", this.n); }
//   }
//
//   handle("add", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
//     const req = request<Total>(ctx, payload);
//     if (req == null) return null; // bad_request, naming the field
//     ...
//     return reply(total);
//   });
import { Code, Context } from "./context";
import { Doc, MapBuilder, Value } from "./doc";

const EMPTY_MAP = new Uint8Array(1);
EMPTY_MAP[0] = 0xa0;

/** A typed payload or state value: a CBOR map with text keys. */
export abstract class Record {
  /** Reads the fields; a missing or wrong one is reported through f. */
  abstract read(f: Fields): void;
  /** Writes the fields. */
  abstract write(m: MapBuilder): void;

  /** The record's CBOR. */
  encode(): Uint8Array {
    const m = new MapBuilder();
    this.write(m);
    return m.encode();
  }
}

/**
 * Reads a record's fields from a map and keeps the first problem, as
 * `field "lines.qty": expected an integer`. A required field that is
 * absent is a problem; an opt* field that is absent is its default.
 */
export class Fields {
  /** The first problem, or null. */
  error: string | null = null;

  constructor(public doc: Doc, private prefix: string = "") {}

  private bad(key: string, what: string): void {
    if (this.error == null) this.error = "field \"" + this.prefix + key + "\"" + what;
  }

  private value(key: string, required: bool): Value | null {
    if (!this.doc.has(key)) {
      if (required) this.bad(key, " is missing");
      return null;
    }
    return this.doc.get(key);
  }

  /** A required integer (an integral float such as 7.0 too). */
  int(key: string): i64 {
    return this.optInt(key, 0, true);
  }

  /** An integer, or def when absent. */
  optInt(key: string, def: i64, required: bool = false): i64 {
    const v = this.value(key, required);
    if (v == null) return def;
    if (!v.isInt()) {
      this.bad(key, ": expected an integer");
      return def;
    }
    return v.int();
  }

  /** A required number. */
  float(key: string): f64 {
    return this.optFloat(key, 0, true);
  }

  /** A number, or def when absent. */
  optFloat(key: string, def: f64, required: bool = false): f64 {
    const v = this.value(key, required);
    if (v == null) return def;
    if (!v.isFloat()) {
      this.bad(key, ": expected a number");
      return def;
    }
    return v.float();
  }

  /** Required text. */
  text(key: string): string {
    return this.optText(key, "", true);
  }

  /** Text, or def when absent. */
  optText(key: string, def: string, required: bool = false): string {
    const v = this.value(key, required);
    if (v == null) return def;
    if (!v.isText()) {
      this.bad(key, ": expected text");
      return def;
    }
    return v.text();
  }

  /** A required bool. */
  bool(key: string): bool {
    return this.optBool(key, false, true);
  }

  /** A bool, or def when absent. */
  optBool(key: string, def: bool, required: bool = false): bool {
    const v = this.value(key, required);
    if (v == null) return def;
    if (!v.isBool()) {
      this.bad(key, ": expected a bool");
      return def;
    }
    return v.bool();
  }

  /** A nested record, or null when absent and not required. */
  record<T extends Record>(key: string, required: bool = true): T | null {
    const v = this.value(key, required);
    if (v == null) return null;
    const d = v.map();
    if (d == null) {
      this.bad(key, ": expected a map");
      return null;
    }
    const inner = new Fields(d, this.prefix + key + ".");
    const r = instantiate<T>();
    r.read(inner);
    if (inner.error != null && this.error == null) this.error = inner.error;
    return r;
  }
}

/**
 * Decodes a record from bytes (an empty payload is {}); returns it and
 * null, or null and what is wrong.
 */
export function decodeRecord<T extends Record>(cbor: Uint8Array): T | null {
  lastError = null;
  const d = Doc.parse(cbor.length > 0 ? cbor : EMPTY_MAP);
  if (d == null) {
    lastError = "the payload is not a map, as in {\"key\": value}";
    return null;
  }
  const f = new Fields(d);
  const r = instantiate<T>();
  r.read(f);
  if (f.error != null) {
    lastError = f.error;
    return null;
  }
  return r;
}

/** What the last decodeRecord found wrong. */
export let lastError: string | null = null;

/**
 * Decodes a handler's payload as a T. When it does not decode, the turn
 * fails with bad_request naming the method and the field ("add: field
 * "n" is missing"), and request returns null: return null from the
 * handler then.
 */
export function request<T extends Record>(ctx: Context, payload: Uint8Array): T | null {
  const r = decodeRecord<T>(payload);
  if (r == null) ctx.fail(Code.BAD_REQUEST, ctx.method() + ": " + lastError!);
  return r;
}

/** A record as a handler's reply. */
export function reply<T extends Record>(r: T): Uint8Array {
  return r.encode();
}

/**
 * A typed state cell: the record stored under one key.
 *
 *   const total = new State<Total>("total");
 *   const t = total.get(ctx);    // a new Total when there is none
 *   total.set(ctx, t);
 *
 * A stored value that does not decode fails the turn with bad_state.
 */
export class State<T extends Record> {
  constructor(public key: string) {}

  /** The value, this turn's write included; a new T when there is none. */
  get(ctx: Context): T {
    const v = ctx.get(this.key);
    if (v == null) return instantiate<T>();
    const r = decodeRecord<T>(v);
    if (r == null) {
      ctx.fail(Code.BAD_STATE, "state " + this.key + " does not decode: " + lastError!);
      return instantiate<T>();
    }
    return r;
  }

  /** Whether a value is stored. */
  has(ctx: Context): bool {
    return ctx.get(this.key) != null;
  }

  /** Stores v when the turn commits. */
  set(ctx: Context, v: T): void {
    ctx.set(this.key, v.encode());
  }

  /** Deletes the value when the turn commits. */
  delete(ctx: Context): void {
    ctx.delete(this.key);
  }
}
