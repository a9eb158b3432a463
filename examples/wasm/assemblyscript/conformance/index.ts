// conformance is the AssemblyScript SDK's ABI conformance actor. It
// implements the contract of docs/conformance.md, as the conformance actor
// of every other SDK does, and the Go test package conformance/ checks them
// all with the same scenarios.
//
//   echo                                            -> the payload, unchanged
//   fail {"code", "message"}                        -> that application error
//   set {"key", "value"}                            -> {}  stores value's CBOR
//   get {"key"}                                     -> {"value": v} or {}
//   delete {"key"}                                  -> {}
//   set_then_fail {"key", "value"}                  -> sets, then fails "refused"
//   tell {"to", "method", "payload"?}               -> {}
//   forward {"to", "method", "payload"?}            -> the reply of "to" to the forwarded ask
//   ask {"to", "method", "payload"?, "timeout_ms"?} -> {"reply": r}, or the callee's error
//   set_then_ask {"key", "value", "to", "method", "payload"?, "timeout_ms"?, "fail"?}
//                                                   -> sets, then as ask; fails with code "fail" if given
//   whoami                                          -> {"self", "sender", "id"}
//   log {"level", "message"}                        -> {}
//   deactivate                                      -> {}  and asks to be deactivated
//   sized {"size": n}                               -> {"data": n bytes, byte i being i mod 256}
//   timer {"name", "due_ms"?, "period_ms"?, "method", "payload"?}  -> {}
//   cancel_timer {"name"}                                          -> {}
//   reminder {"name", "in_ms"? | "at_unix_ms"? | "every_ms"? ["first_ms"?] | "cron"?,
//             "method", "payload"?, "missed"?}                     -> {}
//   cancel_reminder {"name"}                                       -> {}
//   watch {"to"}                                                   -> {}
//   unwatch {"to"}                                                 -> {}
//   wactor:deactivated (a lifecycle message)  stores its payload under "lifecycle/" + the message id
//
// Any other method is answered by the SDK with unknown_method.
import { Code, Context, Doc, Level, MapBuilder, METHOD_DEACTIVATED, Schedule, Value, handle } from "@wactor/sdk";
export * from "@wactor/sdk/exports";

// MAX_SIZED bounds sized's answer, so that a careless caller gets
// bad_request rather than a guest out of memory.
const MAX_SIZED: i64 = 16 << 20;

function empty(): Uint8Array {
  return new MapBuilder().encode();
}

function need(ctx: Context, method: string, what: string): Uint8Array | null {
  return ctx.fail(Code.BAD_REQUEST, method + " needs " + what);
}

// The payload back, byte for byte (a copy: the payload is a view of the
// input, valid only while the handler runs).
handle("echo", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return payload.length == 0 ? null : payload.slice();
});

handle("fail", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "fail", "a map");
  const code = doc.get("code");
  if (!code.isText() || code.text().length == 0) return need(ctx, "fail", "a non-empty text \"code\"");
  return ctx.fail(code.text(), doc.text("message"));
});

// store does set's work for set, set_then_fail and set_then_ask; false when it failed
// the turn.
function store(ctx: Context, method: string, payload: Uint8Array): bool {
  const doc = Doc.parse(payload);
  if (doc == null) {
    need(ctx, method, "a map");
    return false;
  }
  const key = doc.get("key");
  if (!key.isText()) {
    need(ctx, method, "a text \"key\"");
    return false;
  }
  const value = doc.get("value");
  if (!value.exists) {
    need(ctx, method, "a \"value\"");
    return false;
  }
  ctx.set(key.text(), value.raw);
  return !ctx.failed;
}

handle("set", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return store(ctx, "set", payload) ? empty() : null;
});

handle("set_then_fail", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  if (!store(ctx, "set_then_fail", payload)) return null;
  return ctx.fail("refused", "set_then_fail wrote " + Doc.parse(payload)!.text("key") + " and refused");
});

// keyOf reads {"key": text}; null (the turn failed) when there is none.
function keyOf(ctx: Context, method: string, payload: Uint8Array): string | null {
  const doc = Doc.parse(payload);
  if (doc != null) {
    const key = doc.get("key");
    if (key.isText()) return key.text();
  }
  need(ctx, method, "a text \"key\"");
  return null;
}

handle("get", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const key = keyOf(ctx, "get", payload);
  if (key == null) return null;
  const v = ctx.get(key);
  if (ctx.failed) return null;
  return v == null ? empty() : new MapBuilder().raw("value", v).encode();
});

handle("delete", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const key = keyOf(ctx, "delete", payload);
  if (key == null) return null;
  ctx.delete(key);
  return ctx.failed ? null : empty();
});

// {key: text, "method": text, "payload"?: item}: the target of tell and ask
// (key "to"), the name of timer and reminder (key "name").
class Addressed {
  // target is the actor to call, or the timer's or reminder's name.
  constructor(public target: string, public method: string, public payload: Uint8Array | null) {}
}

function addressedOf(ctx: Context, method: string, key: string, doc: Doc): Addressed | null {
  const to = doc.get(key);
  if (!to.isText()) {
    need(ctx, method, "a text \"" + key + "\"");
    return null;
  }
  const m = doc.get("method");
  if (!m.isText()) {
    need(ctx, method, "a text \"method\"");
    return null;
  }
  const p = doc.get("payload");
  return new Addressed(to.text(), m.text(), p.exists ? p.raw : null);
}

handle("tell", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "tell", "a map");
  const c = addressedOf(ctx, "tell", "to", doc);
  if (c == null) return null;
  const r = ctx.tell(c.target, c.method, c.payload);
  return r.ok ? empty() : ctx.failWith(r);
});

// forward: the reply of "to" answers the asker; this one's is dropped.
handle("forward", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "forward", "a map");
  const c = addressedOf(ctx, "forward", "to", doc);
  if (c == null) return null;
  const r = ctx.forward(c.target, c.method, c.payload);
  return r.ok ? empty() : ctx.failWith(r);
});

handle("ask", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "ask", "a map");
  return askWith(ctx, "ask", doc);
});

// askWith makes the ask doc describes and answers as ask answers.
function askWith(ctx: Context, method: string, doc: Doc): Uint8Array | null {
  const c = addressedOf(ctx, method, "to", doc);
  if (c == null) return null;
  let timeoutMs: u32 = 0;
  const t = doc.get("timeout_ms");
  if (t.exists) {
    if (!t.isInt() || t.int() < 0 || t.int() > <i64>u32.MAX_VALUE) {
      return need(ctx, method, "an integer \"timeout_ms\" >= 0, if any");
    }
    timeoutMs = <u32>t.int();
  }
  const r = ctx.ask(c.target, c.method, c.payload, timeoutMs);
  // An error is the callee's or the host's, and passes on unchanged.
  if (!r.ok) return ctx.failWith(r);
  if (r.payload.length == 0) return new MapBuilder().nil("reply").encode();
  return new MapBuilder().raw("reply", r.payload).encode();
}

// set_then_ask: a write the ask's call chain may read back (a reentrant
// type runs a call that comes back to it nested in this turn), then an
// optional failure that rolls the write back with the turn.
handle("set_then_ask", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "set_then_ask", "a map");
  const fail = doc.get("fail");
  if (fail.exists && (!fail.isText() || fail.text().length == 0)) {
    return need(ctx, "set_then_ask", "a non-empty text \"fail\", if any");
  }
  if (!store(ctx, "set_then_ask", payload)) return null;
  const out = askWith(ctx, "set_then_ask", doc);
  if (ctx.failed || !fail.exists) return out;
  return ctx.fail(fail.text(), "set_then_ask wrote " + doc.text("key") + " and fails as asked");
});

handle("whoami", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return new MapBuilder()
    .text("self", ctx.self())
    .text("sender", ctx.sender())
    .text("id", ctx.messageId())
    .encode();
});

handle("log", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "log", "a map");
  const level = doc.get("level");
  if (!level.isInt()) return need(ctx, "log", "an integer \"level\"");
  const message = doc.get("message");
  if (!message.isText()) return need(ctx, "log", "a text \"message\"");
  const n = level.int();
  ctx.log(n <= 0 ? Level.Debug : n == 1 ? Level.Info : n == 2 ? Level.Warn : Level.Error, message.text());
  return empty();
});

handle("deactivate", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  ctx.deactivate();
  return empty();
});

handle("sized", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  const size: Value = doc == null ? Value.of(new Uint8Array(0)) : doc.get("size");
  if (!size.isInt() || size.int() < 0 || size.int() > MAX_SIZED) {
    return need(ctx, "sized", "an integer \"size\" from 0 to 16777216");
  }
  const n = <i32>size.int();
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) unchecked(data[i] = <u8>i);
  return new MapBuilder().bytes("data", data).encode();
});

// ---- timers and reminders ---------------------------------------------------


// millisOk: key, if present, is an integer >= 0 (millis then reads it; absent is 0).
function millisOk(doc: Doc, key: string): bool {
  const v = doc.get(key);
  return !v.exists || (v.isInt() && v.int() >= 0);
}

function millis(doc: Doc, key: string): u64 {
  return <u64>doc.get(key).int();
}

handle("timer", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "timer", "a map");
  const s = addressedOf(ctx, "timer", "name", doc);
  if (s == null) return null;
  if (!millisOk(doc, "due_ms") || !millisOk(doc, "period_ms")) {
    return need(ctx, "timer", "integers \"due_ms\" and \"period_ms\" >= 0, if any");
  }
  const r = ctx.setTimer(s.target, millis(doc, "due_ms"), millis(doc, "period_ms"), s.method, s.payload);
  return r.ok ? empty() : ctx.failWith(r);
});

// nameOf reads {"name": text} for the cancels; null (the turn failed) when
// there is none.
function nameOf(ctx: Context, method: string, payload: Uint8Array): string | null {
  const doc = Doc.parse(payload);
  if (doc != null) {
    const name = doc.get("name");
    if (name.isText()) return name.text();
  }
  need(ctx, method, "a text \"name\"");
  return null;
}

handle("cancel_timer", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const name = nameOf(ctx, "cancel_timer", payload);
  if (name == null) return null;
  const r = ctx.cancelTimer(name);
  return r.ok ? empty() : ctx.failWith(r);
});

// scheduleOf builds the reminder's Schedule from its one schedule key. A
// Schedule holds one schedule, so two keys (or first_ms without every_ms)
// are refused here, as docs/conformance.md allows.
function scheduleOf(ctx: Context, doc: Doc): Schedule | null {
  const keys = ["in_ms", "at_unix_ms", "every_ms", "first_ms"];
  for (let i = 0; i < keys.length; i++) {
    if (!millisOk(doc, keys[i])) {
      need(ctx, "reminder", "an integer \"" + keys[i] + "\" >= 0, if any");
      return null;
    }
  }
  const cron = doc.get("cron");
  if (cron.exists && !cron.isText()) {
    need(ctx, "reminder", "a text \"cron\", if any");
    return null;
  }
  const missed = doc.get("missed");
  if (missed.exists && !missed.isText()) {
    need(ctx, "reminder", "a text \"missed\", if any");
    return null;
  }
  let n = 0;
  if (doc.has("in_ms")) n++;
  if (doc.has("at_unix_ms")) n++;
  if (doc.has("every_ms")) n++;
  if (cron.exists) n++;
  if (n > 1) {
    need(ctx, "reminder", "at most one of \"in_ms\", \"at_unix_ms\", \"every_ms\" and \"cron\"");
    return null;
  }
  if (doc.has("first_ms") && !doc.has("every_ms")) {
    need(ctx, "reminder", "\"every_ms\" with \"first_ms\"");
    return null;
  }
  let s: Schedule;
  if (doc.has("in_ms")) s = Schedule.in(millis(doc, "in_ms"));
  else if (doc.has("at_unix_ms")) s = Schedule.atUnixMs(millis(doc, "at_unix_ms"));
  else if (doc.has("every_ms")) s = Schedule.every(millis(doc, "every_ms"), millis(doc, "first_ms"));
  else if (cron.exists) s = Schedule.cron(cron.text());
  else s = Schedule.asap();
  if (missed.exists) s.onMissed(missed.text());
  return s;
}

handle("reminder", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return need(ctx, "reminder", "a map");
  const s = addressedOf(ctx, "reminder", "name", doc);
  if (s == null) return null;
  const schedule = scheduleOf(ctx, doc);
  if (schedule == null) return null;
  const r = ctx.setReminder(s.target, schedule, s.method, s.payload);
  return r.ok ? empty() : ctx.failWith(r);
});

handle("cancel_reminder", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const name = nameOf(ctx, "cancel_reminder", payload);
  if (name == null) return null;
  const r = ctx.cancelReminder(name);
  return r.ok ? empty() : ctx.failWith(r);
});

// toOf reads {"to": text}; null (the turn failed) when there is none.
function toOf(ctx: Context, method: string, payload: Uint8Array): string | null {
  const doc = Doc.parse(payload);
  if (doc != null) {
    const to = doc.get("to");
    if (to.isText()) return to.text();
  }
  need(ctx, method, "a text \"to\"");
  return null;
}

handle("watch", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const to = toOf(ctx, "watch", payload);
  if (to == null) return null;
  const r = ctx.watch(to);
  return r.ok ? empty() : ctx.failWith(r);
});

handle("unwatch", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const to = toOf(ctx, "unwatch", payload);
  if (to == null) return null;
  const r = ctx.unwatch(to);
  return r.ok ? empty() : ctx.failWith(r);
});

// A lifecycle message: its payload, byte for byte, under "lifecycle/" + the message id.
handle(METHOD_DEACTIVATED, (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  ctx.set("lifecycle/" + ctx.messageId(), payload);
  return null;
});

// publish {"topic", "payload"?}, subscribe {"topic", "method"},
// unsubscribe {"topic"}: the host's refusal fails the turn with it.
handle("publish", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null || !doc!.get("topic").isText()) return need(ctx, "publish", "a text \"topic\"");
  const body = doc!.get("payload");
  const r = ctx.publish(doc!.text("topic"), body.exists ? body.raw : null);
  return r.ok ? empty() : ctx.failWith(r);
});

handle("subscribe", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null || !doc!.get("topic").isText() || !doc!.get("method").isText()) {
    return need(ctx, "subscribe", "a text \"topic\" and \"method\"");
  }
  const r = ctx.subscribe(doc!.text("topic"), doc!.text("method"));
  return r.ok ? empty() : ctx.failWith(r);
});

handle("unsubscribe", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null || !doc!.get("topic").isText()) return need(ctx, "unsubscribe", "a text \"topic\"");
  const r = ctx.unsubscribe(doc!.text("topic"));
  return r.ok ? empty() : ctx.failWith(r);
});
