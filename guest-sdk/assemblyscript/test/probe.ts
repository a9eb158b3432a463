// probe is the SDK's test actor: one method per feature, driven by
// test/sdk.test.mjs against a mock host that checks every envelope against
// docs/ABI.md byte for byte.
import {
  CborReader,
  CborWriter,
  Code,
  Context,
  Doc,
  Kind,
  Level,
  MapBuilder,
  ArrayBuilder,
  Missed,
  Result,
  Schedule,
  encodeInt,
  handle,
  Fields,
  Record,
  State,
  request,
  nowMs,
  onActivate,
  onDeactivate,
  Lifecycle,
  METHOD_DEACTIVATED,
} from "@wactor/sdk";
export * from "@wactor/sdk/exports";

// Globals live across turns of one instance.
let turns: i64 = 0;

onActivate((ctx: Context): void => {
  ctx.setInt("activations", ctx.getInt("activations") + 1);
});

onDeactivate((ctx: Context): void => {
  ctx.info("deactivating");
});

// echo: the payload back, unchanged.
handle("echo", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return payload.slice();
});

// nothing: success without a payload.
handle("nothing", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return null;
});

// info: what the Context knows about the message.
handle("info", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  turns++;
  return new MapBuilder()
    .text("self", ctx.self())
    .text("self2", ctx.self()) // cached: one host call
    .text("sender", ctx.sender())
    .text("id", ctx.messageId())
    .text("method", ctx.method())
    .int("turns", turns)
    .encode();
});

// vectors: the host calls of docs/ABI.md's worked examples, in order.
handle("vectors", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const seven = new Uint8Array(1);
  seven[0] = 0x07;
  const r = ctx.ask("account/bob", "credit", seven, 2000);
  const hi = new CborWriter().text("hi").toBytes();
  ctx.tell("audit/log", "record", hi);
  ctx.set("balance", encodeInt(150));
  ctx.get("balance");
  ctx.delete("balance");
  ctx.log(Level.Warn, "low balance");
  return r.ok ? r.payload : ctx.failWith(r);
});

// schedvectors: the timer and reminder calls of docs/ABI.md 5.7-5.9, in order.
handle("schedvectors", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const results = [
    ctx.setTimer("tick", 1000, 1000, "tick"),
    ctx.setReminder("alarm", Schedule.in(1500), "ring"),
    ctx.setReminder("daily", Schedule.cron("0 9 * * *").onMissed(Missed.SKIP), "report"),
    ctx.cancelTimer("tick"),
    ctx.cancelReminder("tick"),
  ];
  for (let i = 0; i < results.length; i++) {
    if (!results[i].ok) return ctx.failWith(results[i]);
  }
  return null;
});

// schedules: every other shape of the Timer and Reminder envelopes.
handle("schedules", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const seven = encodeInt(7);
  ctx.setTimer("once", 0, 0, "m", seven);
  ctx.setTimer("big", 5000000000, 0, "m", new Uint8Array(0));
  ctx.setReminder("at", Schedule.atUnixMs(4102444800000), "m");
  ctx.setReminder("at0", Schedule.atUnixMs(0), "m");
  ctx.setReminder("grid", Schedule.every(3600000, 1800000).onMissed(Missed.CATCH_UP), "m", seven);
  ctx.setReminder("hourly", Schedule.every(3600000), "m");
  ctx.setReminder("now", Schedule.asap(), "m");
  return null;
});

// schedrefused: {"case"} -> the Result of one refused call, as {"code", "message"}.
handle("schedrefused", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  const c = d.text("case");
  let r = new Result(new Uint8Array(0), "no_such_case");
  if (c == "timer") r = ctx.setTimer("", 10, 0, "m");
  else if (c == "cancel") r = ctx.cancelReminder("");
  else if (c == "every0") r = ctx.setReminder("r", Schedule.every(0), "m");
  else if (c == "cron") r = ctx.setReminder("r", Schedule.cron(""), "m");
  else if (c == "badcron") r = ctx.setReminder("r", Schedule.cron("nope"), "m");
  return new MapBuilder().bool("ok", r.ok).text("code", r.code).text("message", r.message).encode();
});

// insufficient: an application error after a state write (not committed).
handle("insufficient", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  ctx.setInt("balance", 1);
  ctx.tell("audit/log", "record", null);
  return ctx.fail("insufficient_funds", "balance is 5");
});

// failcode: fails with an empty code ("error") and no message.
handle("failcode", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return ctx.fail("");
});

// ask: {"target", "method"} -> the callee's answer, or its error passed on.
handle("ask", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  const r = ctx.ask(d.text("target"), d.text("method"), d.bytes("payload"), <u32>d.int("timeout"));
  if (!r.ok) return ctx.failWith(r);
  return r.payload;
});

// nest: {"n", "pad"} asks itself nest {"n": n-1, "pad": a longer pad}
// while n > 0; the mock host runs that ask nested in this turn, as the
// host does for a reentrant type. It answers {"n", "id", "sender",
// "inner"?}, or fails with "clobbered" if the nested calls changed its
// request, its Context or an object only its own frame refers to.
handle("nest", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const before = payload.slice();
  const id = ctx.messageId();
  const sender = ctx.sender();
  const method = ctx.method();
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  const n = d.int("n");
  const pad = d.bytes("pad");
  // Referenced from this frame alone: a collection during the nested call
  // would free it, and the allocations below would be handed its memory.
  const mine = new Uint8Array(4096);
  mine.fill(<u8>(0x40 + n));
  const out = new MapBuilder().int("n", n).text("id", id).text("sender", sender);
  if (n > 0) {
    const more = new Uint8Array(pad.length * 2 + 100);
    more.fill(<u8>n);
    const r = ctx.ask(ctx.self(), "nest", new MapBuilder().int("n", n - 1).bytes("pad", more).encode());
    if (!r.ok) return ctx.failWith(r);
    out.raw("inner", r.payload);
    for (let i = 0; i < 64; i++) new Uint8Array(4096).fill(0xee);
  } else {
    // The innermost call grows the memory (garbage of 2 MiB), which makes
    // the SDK collect after a turn: not while turns wait below this one.
    for (let i = 0; i < 512; i++) new Uint8Array(4096).fill(0xdd);
  }
  ctx.setInt("depth" + n.toString(), n);
  for (let i = 0; i < mine.length; i++) {
    if (mine[i] != <u8>(0x40 + n)) return ctx.fail("clobbered", "an object on the waiting turn's stack was reused");
  }
  if (payload.length != before.length || memory.compare(payload.dataStart, before.dataStart, before.length) != 0) {
    return ctx.fail("clobbered", "the waiting turn's payload changed");
  }
  if (ctx.messageId() != id || ctx.sender() != sender || ctx.method() != method) {
    return ctx.fail("clobbered", "the waiting turn's Context changed");
  }
  return out.encode();
});

// forward: {"target", "method"} forwards, twice when "twice" is set; the
// second's refusal fails the turn.
handle("forward", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  let r = ctx.forward(d.text("target"), d.text("method"), new CborWriter().text("hi").toBytes());
  if (r.ok && d.get("twice").exists) r = ctx.forward(d.text("target"), d.text("method"));
  if (!r.ok) return ctx.failWith(r);
  return new MapBuilder().encode();
});

// tell: {"target", "method"} -> {} or the host's refusal as {"code", "message"}.
handle("tell", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  const r = ctx.tell(d.text("target"), d.text("method"));
  return new MapBuilder().bool("ok", r.ok).text("code", r.code).text("message", r.message).encode();
});

// state: a tour of get/set/delete and getInt.
handle("state", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const missing = ctx.get("missing");
  ctx.set("empty", new Uint8Array(0));
  const empty = ctx.get("empty");
  ctx.set("text", new CborWriter().text("v").toBytes());
  const bad = ctx.getInt("missing", 42);
  return new MapBuilder()
    .bool("missingIsNull", missing == null)
    .bool("emptyIsEmpty", empty != null && empty.length == 0)
    .int("defaultInt", bad)
    .bool("failed", ctx.failed)
    .encode();
});

// badstate: getInt of a text value fails the turn with bad_state.
handle("badstate", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  ctx.set("text", new CborWriter().text("v").toBytes());
  ctx.getInt("text");
  return new MapBuilder().bool("failed", ctx.failed).encode();
});

// setbig: a state write the host refuses fails the turn, whatever the handler answers.
handle("setbig", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  ctx.set("big", new Uint8Array(100));
  ctx.fail("other", "a later fail does not replace the refusal");
  return new MapBuilder().bool("stateFailed", ctx.stateFailed).encode();
});

// throw: an AssemblyScript throw traps after logging.
handle("throw", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  throw new Error("boom ünïcödé");
});

// oob: an index out of range traps.
handle("oob", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const a = new Array<i32>(1);
  return encodeInt(a[payload.length + 5]);
});

// misc: Math.random (seeded from WASI), nowMs, trace, deactivate.
handle("misc", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  trace("tracing", 2, 1.5, 2.5);
  const r = Math.random();
  ctx.deactivate();
  return new MapBuilder().float("random", r).int("now", nowMs()).encode();
});

// big: {"n"} -> a byte string of n bytes, each i & 255.
handle("big", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a map");
  const n = <i32>d.int("n");
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = <u8>i;
  return new CborWriter().bytes(b).toBytes();
});

// size: the length of the payload, for big inputs.
handle("size", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return encodeInt(payload.length);
});

// norm: reads any one CBOR item with CborReader and writes it again with
// CborWriter (shortest heads, floats as doubles); bad_request if malformed.
handle("norm", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const r = new CborReader(payload);
  const w = new CborWriter();
  copyItem(r, w, 0);
  if (!r.ok || !r.done) return ctx.fail(Code.BAD_REQUEST, "malformed at byte " + r.offset.toString());
  return w.toBytes();
});

function copyItem(r: CborReader, w: CborWriter, depth: i32): void {
  if (depth > 64) {
    r.skip();
    w.nil();
    return;
  }
  switch (r.peek()) {
    case Kind.Uint: w.uint(r.readUint()); break;
    case Kind.NegInt: {
      // Below i64 range the reader fails; keep it simple.
      w.int(r.readInt());
      break;
    }
    case Kind.Bytes: w.bytes(r.readBytes()); break;
    case Kind.Text: w.text(r.readText()); break;
    case Kind.Array: {
      const n = r.readArray();
      w.array(n);
      for (let i = 0; i < n && r.ok; i++) copyItem(r, w, depth + 1);
      break;
    }
    case Kind.Map: {
      const n = r.readMap();
      w.map(n);
      for (let i = 0; i < n * 2 && r.ok; i++) copyItem(r, w, depth + 1);
      break;
    }
    case Kind.Tag: {
      w.tag(r.readTag());
      copyItem(r, w, depth + 1);
      break;
    }
    case Kind.Bool: w.bool(r.readBool()); break;
    case Kind.Null: {
      r.readNull();
      w.nil();
      break;
    }
    case Kind.Float: w.float(r.readFloat()); break;
    default: r.skip(); w.nil(); // Kind.Simple, or Kind.Invalid (skip fails)
  }
}

// doc: reads a JSON-shaped map and reports what the accessors see.
handle("doc", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const d = Doc.parse(payload);
  if (d == null) return ctx.fail(Code.BAD_REQUEST, "not a text-keyed map");
  const keys = new ArrayBuilder();
  for (let i = 0; i < d.length; i++) keys.text(d.keyAt(i));
  const nested = d.map("m");
  const list = d.array("l");
  return new MapBuilder()
    .array("keys", keys)
    .bool("iIsInt", d.get("i").isInt())
    .int("i", d.int("i", -1))
    .float("f", d.float("f", -1))
    .text("t", d.text("t", "def"))
    .bool("b", d.bool("b"))
    .bytes("y", d.bytes("y"))
    .bool("nIsNull", d.get("n").isNull())
    .bool("hasMissing", d.has("missing"))
    .int("m.x", nested != null ? nested.int("x") : -1)
    .int("l.len", list != null ? list.length : -1)
    .int("l.1", list != null ? list.at(1).int(-1) : -1)
    .map("echo", new MapBuilder().nil("null").uint("u", 18446744073709551615))
    .encode();
});

// ---- typed records and state --------------------------------------------------

class Owner extends Record {
  name: string = "";
  read(f: Fields): void { this.name = f.text("name"); }
  write(m: MapBuilder): void { m.text("name", this.name); }
}

class Tally extends Record {
  count: i64 = 0;
  label: string = "";
  owner: Owner | null = null;
  read(f: Fields): void {
    this.count = f.optInt("count", 0);
    this.label = f.text("label");
    this.owner = f.record<Owner>("owner", false);
  }
  write(m: MapBuilder): void {
    m.int("count", this.count).text("label", this.label);
    const o = this.owner;
    if (o != null) m.map("owner", new MapBuilder().text("name", o.name));
  }
}

const tally = new State<Tally>("tally");

// tally {"label", "count"?, "owner"?: {"name"}} adds count to the stored
// tally, takes the label and owner, and answers the stored record.
handle("tally", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const req = request<Tally>(ctx, payload);
  if (req == null) return null;
  const t = tally.get(ctx);
  if (ctx.failed) return null;
  t.count += req.count;
  t.label = req.label;
  t.owner = req.owner;
  tally.set(ctx, t);
  return t.encode();
});

// watchvectors: watch and unwatch (docs/ABI.md, watch and unwatch), then
// the refusal of a watch of the actor itself, as {"code", "message"}.
handle("watchvectors", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const w = ctx.watch("room/a");
  if (!w.ok) return ctx.failWith(w);
  const u = ctx.unwatch("room/b");
  if (!u.ok) return ctx.failWith(u);
  const r = ctx.watch("probe/p1");
  return new MapBuilder().text("code", r.code).text("message", r.message).encode();
});

// topicvectors: publish, subscribe and unsubscribe (docs/ABI.md 5.11, 5.12).
handle("topicvectors", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const results = [ctx.publish("rooms.1", encodeInt(7)), ctx.subscribe("rooms.1", "heard"), ctx.unsubscribe("rooms.1")];
  for (let i = 0; i < results.length; i++) {
    if (!results[i].ok) return ctx.failWith(results[i]);
  }
  const r = ctx.publish("not a topic");
  return new MapBuilder().text("code", r.code).encode();
});

// A lifecycle message: answers {"ref", "reason"} as Lifecycle.parse read them.
handle(METHOD_DEACTIVATED, (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const l = Lifecycle.parse(payload);
  if (l == null) return ctx.fail(Code.BAD_REQUEST, "not a lifecycle message");
  return new MapBuilder().text("ref", l!.ref).text("reason", l!.reason).encode();
});
