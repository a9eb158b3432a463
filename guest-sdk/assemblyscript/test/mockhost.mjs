// A mock wactor host in JavaScript for the SDK's tests: it implements the
// "wactor" imports of docs/ABI.md (with the turn's state buffered and
// committed on success), records every import argument's bytes, and drives
// a module through wactor_alloc / wactor_handle.

import { readFileSync } from "node:fs";

// ---- a small CBOR codec for the tests ---------------------------------------

/** A float that must be encoded as a double even when integral. */
export class F64 {
  constructor(v) { this.v = v; }
}

export function encode(v) {
  const out = [];
  const head = (major, n) => {
    n = BigInt(n);
    const m = major << 5;
    if (n < 24n) out.push(m | Number(n));
    else if (n < 0x100n) out.push(m | 24, Number(n));
    else if (n < 0x10000n) out.push(m | 25, Number(n >> 8n), Number(n & 0xffn));
    else if (n < 0x100000000n) out.push(m | 26, ...[24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 0xffn)));
    else out.push(m | 27, ...[56n, 48n, 40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 0xffn)));
  };
  const item = (v) => {
    if (v === null || v === undefined) out.push(0xf6);
    else if (v === true) out.push(0xf5);
    else if (v === false) out.push(0xf4);
    else if (v instanceof F64 || (typeof v === "number" && !Number.isInteger(v))) {
      const b = new DataView(new ArrayBuffer(8));
      b.setFloat64(0, v instanceof F64 ? v.v : v);
      out.push(0xfb, ...new Uint8Array(b.buffer));
    } else if (typeof v === "number" || typeof v === "bigint") {
      const n = BigInt(v);
      if (n >= 0n) head(0, n);
      else head(1, -1n - n);
    } else if (typeof v === "string") {
      const b = new TextEncoder().encode(v);
      head(3, b.length);
      out.push(...b);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      for (const x of v) out.push(x);
    } else if (Array.isArray(v)) {
      head(4, v.length);
      v.forEach(item);
    } else if (v instanceof Map) {
      head(5, v.size);
      for (const [k, x] of v) { item(k); item(x); }
    } else {
      const e = Object.entries(v);
      head(5, e.length);
      for (const [k, x] of e) { item(k); item(x); }
    }
  };
  item(v);
  return Uint8Array.from(out);
}

/** Decodes one item; maps with integer keys become Maps, others objects. */
export function decode(b) {
  let p = 0;
  const arg = (info) => {
    if (info < 24) return BigInt(info);
    const n = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!n) throw new Error("bad head");
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[p++]);
    return v;
  };
  const num = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const item = () => {
    if (p >= b.length) throw new Error("truncated");
    const ib = b[p++];
    const major = ib >> 5;
    const info = ib & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22 || info === 23) return null;
      const dv = new DataView(b.buffer, b.byteOffset + p);
      if (info === 25) { p += 2; return halfToNumber(dv.getUint16(0)); }
      if (info === 26) { p += 4; return dv.getFloat32(0); }
      if (info === 27) { p += 8; return new F64(dv.getFloat64(0)); }
      throw new Error("unsupported simple value");
    }
    const a = arg(info);
    switch (major) {
      case 0: return num(a);
      case 1: return num(-1n - a);
      case 2: { const s = b.slice(p, p + Number(a)); p += Number(a); return s; }
      case 3: { const s = new TextDecoder().decode(b.slice(p, p + Number(a))); p += Number(a); return s; }
      case 4: { const r = []; for (let i = 0; i < a; i++) r.push(item()); return r; }
      case 5: {
        const entries = [];
        for (let i = 0; i < a; i++) entries.push([item(), item()]);
        if (entries.every(([k]) => typeof k === "string")) return Object.fromEntries(entries);
        return new Map(entries);
      }
      case 6: return { tag: num(a), value: item() };
    }
  };
  const v = item();
  if (p !== b.length) throw new Error("trailing bytes");
  return v;
}

function halfToNumber(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export const hex = (b) => Buffer.from(b).toString("hex");
export const unhex = (s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

// ---- the host ----------------------------------------------------------------

/**
 * The host's limits, read from assembly/limits.ts (generated from the Go
 * host's abi package, which a test of the host compares): the mock host
 * refuses what the host would, with the same codes.
 */
export const LIMITS = Object.fromEntries(
  [...readFileSync(new URL("../assembly/limits.ts", import.meta.url), "utf8")
    .matchAll(/export const ([A-Z_]+): \w+ = (\d+);/g)].map((m) => [m[1], Number(m[2])]),
);
const utf8Len = (s) => new TextEncoder().encode(s ?? "").length;

const OK = 0n;
const NOT_FOUND = 1n;
const ERROR = 2n;

export class MockHost {
  /**
   * @param {string} path the module
   * @param {object} opts self ("type/id"), maxValue (bytes of a state value),
   *   onAsk(call) -> {payload} | {code, message}
   */
  constructor(path, opts = {}) {
    this.module = new WebAssembly.Module(readFileSync(path));
    this.self = opts.self ?? "probe/p1";
    this.maxValue = opts.maxValue ?? LIMITS.DEFAULT_MAX_MESSAGE;
    this.onAsk = opts.onAsk ?? (() => ({ payload: new Uint8Array(0) }));
    this.state = new Map(); // committed
    this.logs = [];
    this.calls = []; // [import name, argument bytes]
    this.instantiate();
  }

  instantiate() {
    const host = this;
    const mem = () => new Uint8Array(this.instance.exports.memory.buffer);
    const arg = (name, ptr, len) => {
      const m = mem();
      if (ptr + len > m.length) throw new Error(`${name}: argument outside memory`);
      const b = m.slice(ptr, ptr + len);
      host.calls.push([name, b]);
      return b;
    };
    const pend = (status, bytes) => {
      host.pending = bytes;
      return (status << 32n) | BigInt(bytes.length);
    };
    const fail = (code, message) => pend(ERROR, encode(new Map([[1, code], [2, message]])));
    const checkTurn = (name) => {
      if (!host.inTurn) throw new Error(`${name} called outside a turn`);
    };
    const call = (name, ptr, len) => {
      checkTurn(name);
      const c = decode(arg(name, ptr, len));
      if (!(c instanceof Map)) throw new Error(`${name}: argument is not an integer-keyed map`);
      return c;
    };
    const wactor = {
      tell(ptr, len) {
        const c = call("tell", ptr, len);
        const target = c.get(1);
        if (!target.includes("/") || !c.get(2)) return fail("bad_request", "bad target or method");
        if (utf8Len(c.get(2)) > LIMITS.MAX_METHOD_LEN) return fail("bad_request", "method is longer than 256 bytes");
        if (target.startsWith("nosuch/")) return fail("unknown_type", `no actor type "nosuch"`);
        if (host.turn.tells.length >= LIMITS.MAX_SENDS_PER_TURN) return fail("too_large", "too many tells in one turn");
        host.turn.tells.push(c);
        return pend(OK, new Uint8Array(0));
      },
      forward(ptr, len) {
        const c = call("forward", ptr, len);
        const target = c.get(1);
        if (!target.includes("/") || !c.get(2)) return fail("bad_request", "bad target or method");
        if (host.turn.forward) {
          return fail("bad_request", `forward: a turn may forward its ask at most ${LIMITS.MAX_FORWARDS_PER_TURN} time`);
        }
        host.turn.forward = c;
        return pend(OK, new Uint8Array(0));
      },
      ask(ptr, len) {
        const c = call("ask", ptr, len);
        const r = host.onAsk(c);
        if (r.code) return fail(r.code, r.message ?? "");
        return pend(OK, r.payload ?? new Uint8Array(0));
      },
      state_get(ptr, len) {
        const c = call("state_get", ptr, len);
        const k = c.get(1);
        if (utf8Len(k) > LIMITS.MAX_KEY_LEN) return fail("too_large", "state key is longer than 1024 bytes");
        const v = host.turn.writes.has(k) ? host.turn.writes.get(k) : host.state.get(k);
        if (v === undefined || v === null) return pend(NOT_FOUND, new Uint8Array(0));
        return pend(OK, v);
      },
      state_set(ptr, len) {
        const c = call("state_set", ptr, len);
        const v = c.get(2) ?? new Uint8Array(0);
        if (utf8Len(c.get(1)) > LIMITS.MAX_KEY_LEN) return fail("too_large", "state key is longer than 1024 bytes");
        if (v.length > host.maxValue) return fail("too_large", `state value of ${v.length} bytes`);
        host.turn.writes.set(c.get(1), v);
        return pend(OK, new Uint8Array(0));
      },
      state_delete(ptr, len) {
        const c = call("state_delete", ptr, len);
        host.turn.writes.set(c.get(1), null);
        return pend(OK, new Uint8Array(0));
      },
      self(ptr, len) {
        checkTurn("self");
        host.calls.push(["self", new Uint8Array(0)]);
        return pend(OK, new TextEncoder().encode(host.self));
      },
      log(ptr, len) {
        const c = call("log", ptr, len);
        host.logs.push({ level: c.get(1), message: c.get(2) });
        return pend(OK, new Uint8Array(0));
      },
      deactivate(ptr, len) {
        checkTurn("deactivate");
        host.calls.push(["deactivate", new Uint8Array(0)]);
        host.turn.deactivate = true;
        return pend(OK, new Uint8Array(0));
      },
      // Timers and reminders are recorded with the turn; the checks are a
      // few of the host's, enough to test that refusals reach the guest.
      timer_set(ptr, len) {
        const t = call("timer_set", ptr, len);
        if (!t.get(1) || !t.get(4)) return fail("bad_request", "timer needs a name and a method");
        if (utf8Len(t.get(1)) > LIMITS.MAX_SCHEDULE_NAME) return fail("bad_request", "timer name is longer than 256 bytes");
        if ((t.get(2) ?? 0) > LIMITS.MAX_DELAY_MS || (t.get(3) ?? 0) > LIMITS.MAX_DELAY_MS) {
          return fail("bad_request", "due_ms and period_ms must be at most 10 years");
        }
        host.turn.timers.push(t);
        return pend(OK, new Uint8Array(0));
      },
      timer_cancel(ptr, len) {
        const c = call("timer_cancel", ptr, len);
        if (!c.get(1)) return fail("bad_request", "cancel needs a name");
        host.turn.timers.push(c);
        return pend(OK, new Uint8Array(0));
      },
      reminder_set(ptr, len) {
        const r = call("reminder_set", ptr, len);
        if (!r.get(1) || !r.get(7)) return fail("bad_request", "reminder needs a name and a method");
        if ([2, 3, 4, 6].filter((k) => r.get(k)).length > 1) return fail("bad_request", "more than one schedule");
        if (utf8Len(r.get(1)) > LIMITS.MAX_SCHEDULE_NAME) return fail("bad_request", "reminder name is longer than 256 bytes");
        if ((r.get(3) ?? 0) > LIMITS.MAX_AT_UNIX_MS) return fail("bad_request", "at_unix_ms is after the year 9999");
        if (utf8Len((r.get(6) ?? "").trim()) > LIMITS.MAX_CRON_LEN) return fail("bad_request", "cron expression is longer than 256 bytes");
        if (r.has(6) && r.get(6).split(" ").length < 5) return fail("bad_request", `malformed cron "${r.get(6)}"`);
        host.turn.reminders.push(r);
        return pend(OK, new Uint8Array(0));
      },
      reminder_cancel(ptr, len) {
        const c = call("reminder_cancel", ptr, len);
        if (!c.get(1)) return fail("bad_request", "cancel needs a name");
        host.turn.reminders.push(c);
        return pend(OK, new Uint8Array(0));
      },
      // Watches are recorded with the turn, with the host's refusal of a
      // watch of the actor itself.
      watch(ptr, len) {
        const w = call("watch", ptr, len);
        if (!w.get(1) || !w.get(1).includes("/")) return fail("bad_request", "watch: the target is not of the form type/id");
        if (w.get(1) === host.self) return fail("bad_request", "watch: an actor cannot watch itself");
        host.turn.watches.push(w);
        return pend(OK, new Uint8Array(0));
      },
      unwatch(ptr, len) {
        const w = call("unwatch", ptr, len);
        host.turn.watches.push(w);
        return pend(OK, new Uint8Array(0));
      },
      publish(ptr, len) {
        const p = call("publish", ptr, len);
        if (!p.get(1) || /[\s*>]/.test(p.get(1))) return fail("bad_request", "publish: not a topic");
        host.turn.published.push(p);
        return pend(OK, new Uint8Array(0));
      },
      subscribe(ptr, len) {
        const s = call("subscribe", ptr, len);
        if (!s.get(1) || /[\s*>]/.test(s.get(1))) return fail("bad_request", "subscribe: not a topic");
        host.turn.subs.push(s);
        return pend(OK, new Uint8Array(0));
      },
      unsubscribe(ptr, len) {
        host.turn.subs.push(call("unsubscribe", ptr, len));
        return pend(OK, new Uint8Array(0));
      },
      result(ptr, len) {
        const p = host.pending ?? new Uint8Array(0);
        const n = Math.min(len, p.length);
        const m = mem();
        if (ptr + len > m.length) throw new Error("result: buffer outside memory");
        m.set(p.subarray(0, n), ptr);
        host.pending = null;
        return n;
      },
    };
    const wasi = {
      random_get(ptr, len) {
        const m = mem();
        for (let i = 0; i < len; i++) m[ptr + i] = (Math.random() * 256) | 0;
        return 0;
      },
      clock_time_get(id, precision, out) {
        new DataView(this_memory().buffer).setBigUint64(out, BigInt(Date.now()) * 1000000n, true);
        return 0;
      },
    };
    const this_memory = () => this.instance.exports.memory;
    this.instance = new WebAssembly.Instance(this.module, { wactor, wasi_snapshot_preview1: wasi });
    if (this.instance.exports._initialize) this.instance.exports._initialize();
  }

  /** The current size of the guest's memory, in 64 KiB pages. */
  get pages() {
    return this.instance.exports.memory.buffer.byteLength / 65536;
  }

  /** Sends raw request bytes; returns the raw reply bytes. */
  raw(req) {
    this.turn = { writes: new Map(), tells: [], timers: [], reminders: [], watches: [], published: [], subs: [], deactivate: false, forward: null };
    this.calls = [];
    this.allocs = [];
    return this.send(req);
  }

  /** Passes req to wactor_alloc and wactor_handle; returns the reply's bytes. */
  send(req) {
    const ex = this.instance.exports;
    const wasInTurn = this.inTurn;
    this.inTurn = false;
    try {
      const ptr = ex.wactor_alloc(req.length) >>> 0;
      this.allocs.push([ptr, req.length]);
      new Uint8Array(ex.memory.buffer).set(req, ptr);
      this.inTurn = true;
      const packed = BigInt.asUintN(64, ex.wactor_handle(ptr, req.length));
      const rp = Number(packed >> 32n);
      const rl = Number(packed & 0xffffffffn);
      return new Uint8Array(ex.memory.buffer).slice(rp, rp + rl);
    } finally {
      this.inTurn = wasInTurn;
    }
  }

  /**
   * From inside onAsk: runs method with payload nested in the waiting
   * turn, as the host does when an ask on a reentrant type's call chain
   * comes back to it. Its writes join the waiting turn, or are dropped if
   * it fails. Returns what onAsk returns: {payload} or {code, message}.
   */
  nested(method, payload, opts = {}) {
    if (!this.inTurn) throw new Error("nested outside a turn");
    const saved = new Map(this.turn.writes);
    const out = this.parseReply(this.send(this.request(method, payload, opts)));
    if (out.code) this.turn.writes = saved;
    return out;
  }

  request(method, payload, opts) {
    const req = new Map([[1, opts.kind ?? 0], [2, method]]);
    if (payload !== undefined) req.set(3, payload instanceof Uint8Array ? payload : encode(payload));
    if (opts.sender) req.set(4, opts.sender);
    req.set(5, opts.id ?? "m-1");
    return encode(req);
  }

  parseReply(reply) {
    const r = decode(reply);
    if (!(r instanceof Map) && Object.keys(r).length !== 0) throw new Error("reply is not an integer-keyed map");
    const get = (k) => (r instanceof Map ? r.get(k) : undefined);
    return { reply, payload: get(1), code: get(2) ?? "", message: get(3) ?? "" };
  }

  /**
   * Runs one turn: method with payload (bytes or a value to encode).
   * Returns {payload, code, message, reply (raw bytes)}; commits on success.
   */
  call(method, payload, opts = {}) {
    const out = this.parseReply(this.raw(this.request(method, payload, opts)));
    if (!out.code) {
      for (const [k, v] of this.turn.writes) {
        if (v === null) this.state.delete(k);
        else this.state.set(k, v);
      }
    }
    return out;
  }
}
