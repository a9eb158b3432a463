// Tests of the AssemblyScript SDK against a mock host (test/mockhost.mjs):
// the example actors' contracts and the test actor test/probe.ts, with the
// envelopes checked byte for byte against docs/ABI.md's worked examples.
// Run with `npm test`, which builds the modules first.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { MockHost, F64, LIMITS, encode, decode, hex, unhex } from "./mockhost.mjs";

const build = join(dirname(fileURLToPath(import.meta.url)), "..", "build");
const probe = (opts) => new MockHost(join(build, "probe.wasm"), opts);

test("modules export the ABI and import only from wactor", () => {
  for (const name of ["counter-as", "greeter-as", "pingpong-as", "probe"]) {
    const h = new MockHost(join(build, name + ".wasm"));
    const exports = WebAssembly.Module.exports(h.module).map((e) => `${e.name}:${e.kind}`).sort();
    assert.deepEqual(exports, [
      "_initialize:function",
      "memory:memory",
      "wactor_abi_version:function",
      "wactor_activate_hook:function",
      "wactor_alloc:function",
      "wactor_handle:function",
      "wactor_reentrant:function",
    ], name);
    for (const imp of WebAssembly.Module.imports(h.module)) {
      const allowed = imp.module === "wactor" || (name === "probe" && imp.module === "wasi_snapshot_preview1");
      assert.ok(allowed, `${name} imports ${imp.module}.${imp.name}`);
    }
    assert.equal(h.instance.exports.wactor_abi_version(), 1);
    assert.equal(h.instance.exports.wactor_reentrant(), 1);
    // Only the probe registers an activate hook.
    assert.equal(h.instance.exports.wactor_activate_hook(), name === "probe" ? 1 : 0, name);
    assert.equal(h.pages, 1, `${name} starts with one page`);
  }
});

test("counter", () => {
  const h = new MockHost(join(build, "counter-as.wasm"));
  assert.deepEqual(decode(h.call("add", { n: 5 }).payload), { n: 5 });
  assert.deepEqual(decode(h.call("add", { n: 9 }).payload), { n: 14 });
  assert.deepEqual(decode(h.call("get").payload), { n: 14 });
  assert.equal(hex(h.state.get("n")), "0e"); // a CBOR integer
  assert.deepEqual(decode(h.call("add", { n: new F64(2) }).payload), { n: 16 }, "JSON 2.0");
  for (const bad of [{}, { n: "x" }, { n: 1.5 }, [1], unhex("a161"), unhex("bf616e01ff")]) {
    const r = h.call("add", bad);
    assert.equal(r.code, "bad_request", JSON.stringify(bad));
    assert.ok(r.message.length > 0);
  }
  assert.equal(hex(h.state.get("n")), "10", "failed turns commit nothing");
  // The typed request (a Record) names the method and the field.
  assert.equal(h.call("add", {}).message, 'add: field "n" is missing');
  assert.equal(h.call("add", { n: "x" }).message, 'add: field "n": expected an integer');
  assert.equal(h.call("add", [1]).message, 'add: the payload is not a map, as in {"key": value}');
  const r = h.call("nosuch");
  assert.equal(r.code, "unknown_method");
  assert.equal(r.message, 'wactor: no handler for method "nosuch"; the actor handles add, get');
});

test("greeter", () => {
  const h = new MockHost(join(build, "greeter-as.wasm"));
  assert.deepEqual(decode(h.call("hello", { name: "Ada" }).payload), { greeting: "Hello, Ada!" });
  assert.deepEqual(decode(h.call("hello", { name: "Zoë 🌍" }).payload), { greeting: "Hello, Zoë 🌍!" });
  assert.equal(h.call("hello", { name: "" }).code, "bad_request");
  assert.equal(h.call("hello").code, "bad_request");
});

test("pingpong", () => {
  let asks = 0;
  const h = new MockHost(join(build, "pingpong-as.wasm"), {
    onAsk(c) {
      asks++;
      assert.equal(c.get(1), "pingpong-as/b");
      assert.equal(c.get(2), "pong");
      assert.equal(c.has(3), false, "no payload");
      assert.equal(c.has(4), false, "default timeout");
      return { payload: encode({ pong: true }) };
    },
  });
  assert.deepEqual(decode(h.call("ping", { peer: "pingpong-as/b", count: 3 }).payload), { pongs: 3 });
  assert.equal(asks, 3);
  assert.equal(hex(h.state.get("pongs")), "03");
  assert.deepEqual(decode(h.call("pong").payload), { pong: true });
  assert.equal(h.call("ping", { peer: "pingpong-as/b", count: 1001 }).code, "bad_request");
  h.onAsk = () => ({ code: "deadlock", message: "a asks a" });
  const r = h.call("ping", { peer: "pingpong-as/a", count: 1 });
  assert.equal(r.code, "deadlock");
  assert.equal(r.message, "a asks a");
});

test("envelopes match docs/ABI.md byte for byte", () => {
  const h = probe({
    onAsk: () => ({ payload: unhex("1896") }),
  });
  // Request with the payload 150; reply a101421896.
  const r = h.call("vectors", undefined, { id: "m-1" });
  assert.equal(hex(r.reply), "a101421896");
  const args = Object.fromEntries(h.calls.map(([n, b]) => [n, hex(b)]));
  assert.deepEqual(h.calls.map(([n]) => n), ["ask", "tell", "state_set", "state_get", "state_delete", "log"]);
  assert.equal(args.ask, "a4016b6163636f756e742f626f620266637265646974034107041907d0");
  assert.equal(args.tell, "a3016961756469742f6c6f6702667265636f72640343626869");
  assert.equal(args.state_set, "a2016762616c616e636502421896");
  assert.equal(args.state_get, "a1016762616c616e6365");
  assert.equal(args.state_delete, "a1016762616c616e6365");
  assert.equal(args.log, "a20102026b6c6f772062616c616e6365");

  // An application error: exactly the 35 bytes of section 5.2.
  const e = h.call("insufficient");
  assert.equal(hex(e.reply), "a20272696e73756666696369656e745f66756e6473036c62616c616e63652069732035");
  assert.equal(h.state.has("balance"), false);

  // Success without a payload: a0.
  assert.equal(hex(h.call("nothing").reply), "a0");
  // A handler failing with an empty code answers "error", no message.
  assert.equal(hex(h.call("failcode").reply), "a1026565" + "72726f72");
});

test("timer and reminder envelopes match docs/ABI.md 5.7-5.9", () => {
  const h = probe();
  const r = h.call("schedvectors");
  assert.equal(r.code, "");
  assert.deepEqual(h.calls.map(([n]) => n), ["timer_set", "reminder_set", "reminder_set", "timer_cancel", "reminder_cancel"]);
  const args = h.calls.map(([, b]) => hex(b));
  assert.equal(args[0], "a401647469636b021903e8031903e804647469636b", "5.7 tick");
  assert.equal(args[1], "a30165616c61726d021905dc076472696e67", "5.8 alarm");
  assert.equal(args[2], "a401656461696c790669302039202a202a202a07667265706f72740964736b6970", "5.8 daily");
  assert.equal(args[3], "a101647469636b", "5.9 cancel tick");
  assert.equal(args[4], "a101647469636b", "5.9 cancel tick");
  assert.equal(h.turn.timers.length, 2);
  assert.equal(h.turn.reminders.length, 3);
});

test("timer and reminder envelopes: optional keys, 64-bit numbers", () => {
  const h = probe();
  assert.equal(h.call("schedules").code, "");
  const env = (...pairs) => hex(encode(new Map(pairs)));
  const seven = unhex("07");
  const m = [
    ["timer_set", env([1, "once"], [4, "m"], [5, seven])],
    ["timer_set", env([1, "big"], [2, 5000000000], [4, "m"], [5, new Uint8Array(0)])],
    ["reminder_set", env([1, "at"], [3, 4102444800000], [7, "m"])],
    ["reminder_set", env([1, "at0"], [3, 1], [7, "m"])],
    ["reminder_set", env([1, "grid"], [4, 3600000], [5, 1800000], [7, "m"], [8, seven], [9, "catch_up"])],
    ["reminder_set", env([1, "hourly"], [4, 3600000], [7, "m"])],
    ["reminder_set", env([1, "now"], [7, "m"])],
  ];
  assert.deepEqual(h.calls.map(([n, b]) => [n, hex(b)]), m);
  // 5e9 needs the 8-byte head.
  assert.match(hex(h.calls[1][1]), /021b000000012a05f200/);
});

test("timer and reminder refusals come back as Results", () => {
  const h = probe();
  const refused = (c) => decode(h.call("schedrefused", { case: c }).payload);
  assert.deepEqual(refused("timer"), { ok: false, code: "bad_request", message: "timer needs a name and a method" });
  assert.deepEqual(refused("cancel"), { ok: false, code: "bad_request", message: "cancel needs a name" });
  assert.deepEqual(refused("badcron"), { ok: false, code: "bad_request", message: 'malformed cron "nope"' });
  // Schedules the SDK cannot send are refused without calling the host.
  let r = refused("every0");
  assert.equal(r.code, "bad_request");
  assert.match(r.message, /^wactor: reminder r: every needs a period/);
  assert.deepEqual(h.calls, []);
  r = refused("cron");
  assert.equal(r.code, "bad_request");
  assert.match(r.message, /cron needs an expression/);
});

test("requests: metadata, unknown keys, wide heads, malformed input", () => {
  const h = probe();
  const info = decode(h.call("info", undefined, { sender: "bank/alice", id: "msg-7" }).payload);
  assert.deepEqual(info, { self: "probe/p1", self2: "probe/p1", sender: "bank/alice", id: "msg-7", method: "info", turns: 1 });
  assert.equal(h.calls.filter(([n]) => n === "self").length, 1, "self is cached for the turn");
  assert.equal(decode(h.call("info").payload).sender, "", "no sender from outside");

  // Unknown keys (with nested values) are skipped; any head width is accepted.
  const req = unhex("a5" + "1801 00" + "1a00000002 6465 63686f" + "03 43 626869" + "18 63 a1 01 82 01 02" + "05 62 6964");
  assert.equal(hex(h.raw(req)), "a101" + "43626869");

  const bad = (reqHex) => decode(h.raw(unhex(reqHex)));
  let r = bad("a2010302646563686f"); // kind 3
  assert.equal(r.get(2), "bad_request");
  assert.match(r.get(3), /unknown request kind 3/);
  assert.equal(bad("a2010002646563686fff").get(2), "bad_request"); // trailing byte
  assert.equal(bad("bf010002646563686fff").get(2), "bad_request"); // indefinite map
  assert.equal(bad("a101").get(2), "bad_request"); // truncated
  assert.equal(bad("a10140").get(2), "bad_request"); // kind as bytes
  assert.equal(bad("").get(2), "bad_request");
  assert.equal(bad("a2016100").get(2), "bad_request");
  // The instance still works.
  assert.equal(hex(h.call("echo", unhex("07")).payload), "07");
});

test("activation hooks run as turns", () => {
  const h = probe();
  let r = h.call("", undefined, { kind: 1 });
  assert.equal(hex(r.reply), "a0");
  assert.equal(hex(h.state.get("activations")), "01");
  r = h.call("", undefined, { kind: 2 });
  assert.equal(hex(r.reply), "a0");
  assert.deepEqual(h.logs.at(-1), { level: 1, message: "deactivating" });
});

test("forward", () => {
  const h = probe();
  let r = h.call("forward", { target: "world/b", method: "greet" });
  assert.equal(r.code, "");
  assert.equal(h.turn.forward.get(1), "world/b");
  assert.equal(h.turn.forward.get(2), "greet");
  assert.equal(hex(h.turn.forward.get(3)), hex(encode("hi")), "the payload byte for byte");
  r = h.call("forward", { target: "world/b", method: "greet", twice: true });
  assert.equal(r.code, "bad_request", "a turn forwards once");
  r = h.call("forward", { target: "nope", method: "greet" });
  assert.equal(r.code, "bad_request");
});

test("ask and tell errors", () => {
  const h = probe({ onAsk: (c) => ({ code: "insufficient_funds", message: "balance is " + c.get(2) }) });
  let r = h.call("ask", { target: "bank/bob", method: "withdraw", timeout: 70000 });
  assert.equal(r.code, "insufficient_funds");
  assert.equal(r.message, "balance is withdraw");
  assert.equal(hex(h.calls[0][1]), hex(encode(new Map([[1, "bank/bob"], [2, "withdraw"], [3, new Uint8Array(0)], [4, 70000]]))));

  h.onAsk = () => ({ payload: encode({ x: 1 }) });
  r = h.call("ask", { target: "bank/bob", method: "get" });
  assert.deepEqual(decode(r.payload), { x: 1 });

  r = h.call("tell", { target: "nosuch/x", method: "m" });
  assert.deepEqual(decode(r.payload), { ok: false, code: "unknown_type", message: 'no actor type "nosuch"' });
  r = h.call("tell", { target: "a/b", method: "m" });
  assert.deepEqual(decode(r.payload), { ok: true, code: "", message: "" });
  assert.equal(hex(h.calls[0][1]), hex(encode(new Map([[1, "a/b"], [2, "m"]]))), "tell without payload");
});

test("state", () => {
  const h = probe({ maxValue: 64 });
  let r = h.call("state");
  assert.deepEqual(decode(r.payload), { missingIsNull: true, emptyIsEmpty: true, defaultInt: 42, failed: false });
  assert.equal(hex(h.state.get("empty")), "");

  r = h.call("badstate");
  assert.equal(r.code, "bad_state");
  assert.equal(h.state.has("text"), true, "committed by the earlier turn");

  r = h.call("setbig");
  assert.equal(r.code, "too_large", "a refused write wins over the handler's answer and later fails");
  assert.equal(r.message, "state value of 100 bytes");
});

test("traps log the abort message first", () => {
  const h = probe();
  assert.throws(() => h.call("throw"), WebAssembly.RuntimeError);
  const last = h.logs.at(-1);
  assert.equal(last.level, 3);
  assert.match(last.message, /^abort: boom ünïcödé at test\/probe\.ts:\d+:\d+$/);

  const h2 = probe();
  assert.throws(() => h2.call("oob"), WebAssembly.RuntimeError);
  assert.match(h2.logs.at(-1).message, /^abort: Index out of range at ~lib\/array\.ts/);
});

test("random, clock, trace and deactivate", () => {
  const h = probe();
  const r = decode(h.call("misc").payload);
  assert.ok(r.random.v >= 0 && r.random.v < 1);
  assert.ok(Math.abs(r.now - Date.now()) < 60000);
  assert.deepEqual(h.logs[0], { level: 0, message: "tracing 1.5, 2.5" });
  assert.equal(h.turn.deactivate, true);
});

test("big messages and long-lived instances keep memory bounded", () => {
  const h = probe();
  const big = new Uint8Array(3 << 20).fill(7);
  assert.equal(decode(h.call("size", big).payload), big.length);
  const out = decode(h.call("big", { n: 2 << 20 }).payload);
  assert.equal(out.length, 2 << 20);
  assert.equal(out[1000], 1000 & 255);
  const pages = h.pages;
  for (let i = 0; i < 5000; i++) h.call("big", { n: 10000 });
  for (let i = 0; i < 5000; i++) h.call("info", undefined, { id: "x".repeat(i % 300) });
  assert.equal(h.pages, pages, "garbage is collected after each turn");
});

for (const runtime of ["minimal", "incremental"]) {
  test(`reentrancy: nested calls leave the waiting turns intact (${runtime} runtime)`, () => {
    let n = 0;
    const file = runtime === "minimal" ? "probe.wasm" : "probe-incremental.wasm";
    const h = new MockHost(join(build, file), {
      onAsk(c) {
        assert.deepEqual([c.get(1), c.get(2)], ["probe/p1", "nest"]);
        n++;
        return h.nested("nest", c.get(3), { sender: "probe/p1", id: `n-${n}` });
      },
    });
    assert.equal(h.instance.exports.wactor_reentrant(), 1);
    const pages = h.pages;
    for (let run = 0; run < 20; run++) {
      n = 0;
      const r = h.call("nest", { n: 3, pad: Uint8Array.of(1, 2, 3) }, { id: `run-${run}` });
      assert.equal(r.code, "", r.message);
      let d = decode(r.payload);
      for (const [depth, id, sender] of [[3, `run-${run}`, ""], [2, "n-1", "probe/p1"], [1, "n-2", "probe/p1"], [0, "n-3", "probe/p1"]]) {
        assert.deepEqual([d.n, d.id, d.sender], [depth, id, sender]);
        d = d.inner;
      }
      assert.equal(d, undefined);
      assert.equal(new Set(h.allocs.map(([p]) => p)).size, 4, "each depth's request has a buffer of its own");
      for (let i = 0; i <= 3; i++) assert.equal(hex(h.state.get("depth" + i)), hex(encode(i)), "nested writes commit with the turn");
    }
    assert.ok(h.pages > pages, "the innermost call grew the memory");
    // Nested requests over 64 KiB get buffers that are let go afterwards.
    for (let run = 0; run < 5; run++) {
      n = 0;
      const r = h.call("nest", { n: 2, pad: new Uint8Array(100000).fill(run) });
      assert.equal(r.code, "", r.message);
      assert.deepEqual([decode(r.payload).inner.inner.n, decode(r.payload).inner.inner.id], [0, "n-2"]);
    }
    // A nested failure fails only its asker, which passes it on here.
    h.onAsk = () => h.nested("insufficient", undefined);
    const f = h.call("ask", { target: "probe/p1", method: "insufficient" });
    assert.equal(f.code, "insufficient_funds");
    // The garbage of nested calls goes too: the memory stays as it is.
    const grown = h.pages;
    for (let i = 0; i < 50; i++) h.call("big", { n: 10000 });
    assert.equal(h.pages, grown);
  });
}

test("CborReader and CborWriter", () => {
  const h = probe();
  const norm = (inHex) => {
    const r = h.call("norm", unhex(inHex));
    return r.code ? r.code : hex(r.payload);
  };
  // Any head width reads; writing uses the shortest.
  for (const w of ["05", "1805", "190005", "1a00000005", "1b0000000000000005"]) assert.equal(norm(w), "05");
  assert.equal(norm("1817"), "17");
  assert.equal(norm("1818"), "1818");
  assert.equal(norm("19ffff"), "19ffff");
  assert.equal(norm("1a00010000"), "1a00010000");
  assert.equal(norm("1b0000000100000000"), "1b0000000100000000");
  assert.equal(norm("1bffffffffffffffff"), "1bffffffffffffffff");
  assert.equal(norm("3863"), "3863"); // -100
  assert.equal(norm("3b7fffffffffffffff"), "3b7fffffffffffffff"); // i64 min
  assert.equal(norm("3b8000000000000000"), "bad_request"); // below i64
  assert.equal(norm("7818" + "61".repeat(24)), "7818" + "61".repeat(24));
  assert.equal(norm("5803010203"), "43010203");
  assert.equal(norm("a2616101616282f5f6"), "a2616101616282f5f6");
  assert.equal(norm("c11a5f5e1000"), "c11a5f5e1000");
  assert.equal(norm("f7"), "f6"); // undefined reads as null
  assert.equal(norm("f93c00"), "fb3ff0000000000000"); // half 1.0
  assert.equal(norm("f98001"), "fb" + hex(f64be(-(2 ** -24)))); // half subnormal
  assert.equal(norm("f97c00"), "fb7ff0000000000000"); // half infinity
  assert.equal(norm("fa47c35000"), "fb40f86a0000000000"); // single 100000.0
  assert.equal(norm("f0"), "f6"); // an unassigned simple value is well-formed
  // Malformed.
  for (const bad of ["", "1c", "1d", "1e", "1f", "5f4101ff", "7f6161ff", "9f01ff", "bf6161 01ff", "ff", "f800", "f81f",
    "18", "19 01", "62 61", "83 01 02", "a1 01", "9b ffffffffffffffff", "bb 8000000000000000", "01 02"]) {
    assert.equal(norm(bad.replace(/ /g, "")), "bad_request", bad);
  }
  // Deep nesting is skipped without recursion (copyItem stops at depth 64).
  assert.equal(norm("81".repeat(10000) + "01"), "81".repeat(65) + "f6");
});

test("Doc, List, MapBuilder, ArrayBuilder", () => {
  const h = probe();
  const doc = {
    i: new F64(7), f: 2.5, t: "tëxt", b: true, y: unhex("0102"), n: null, m: { x: 9 }, l: [1, -2, 3],
  };
  const r = decode(h.call("doc", doc).payload);
  assert.deepEqual(r, {
    keys: ["i", "f", "t", "b", "y", "n", "m", "l"],
    iIsInt: true, i: 7, f: new F64(2.5), t: "tëxt", b: true, y: unhex("0102"), nIsNull: true, hasMissing: false,
    "m.x": 9, "l.len": 3, "l.1": -2,
    echo: { null: null, u: 18446744073709551615n },
  });
  const d = decode(h.call("doc", {}).payload);
  assert.equal(d.i, -1);
  assert.equal(d.t, "def");
  assert.equal(d["m.x"], -1);
  assert.equal(decode(h.call("doc", undefined).payload).iIsInt, false, "no payload reads as {}");
  assert.equal(h.call("doc", new Map([[1, 2]])).code, "bad_request", "integer keys");
  assert.equal(decode(h.call("doc", { i: new F64(1e300) }).payload).iIsInt, false);
  assert.equal(decode(h.call("doc", { i: -9223372036854775808n }).payload).i, -9223372036854775808n);
});

function f64be(v) {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return new Uint8Array(b.buffer);
}

test("typed records and state", () => {
  const h = probe();
  assert.deepEqual(decode(h.call("tally", { label: "a", count: 2 }).payload), { count: 2, label: "a" });
  assert.deepEqual(decode(h.call("tally", { label: "b", count: 3, owner: { name: "Ada" } }).payload),
    { count: 5, label: "b", owner: { name: "Ada" } });
  assert.deepEqual(decode(h.state.get("tally")), { count: 5, label: "b", owner: { name: "Ada" } });
  let r = h.call("tally", { count: 1 });
  assert.deepEqual([r.code, r.message], ["bad_request", 'tally: field "label" is missing']);
  r = h.call("tally", { label: "c", owner: { name: 7 } });
  assert.deepEqual([r.code, r.message], ["bad_request", 'tally: field "owner.name": expected text']);
  h.state.set("tally", encode("not a map"));
  r = h.call("tally", { label: "d" });
  assert.equal(r.code, "bad_state");
  assert.match(r.message, /^state tally does not decode/);
});

test("watch envelopes match docs/ABI.md, and lifecycle messages parse", () => {
  const h = probe();
  const r = h.call("watchvectors");
  assert.equal(r.code, "");
  assert.deepEqual(h.calls.map(([n]) => n), ["watch", "unwatch", "watch"]);
  assert.equal(hex(h.calls[0][1]), "a10166726f6f6d2f61", "watch room/a");
  assert.equal(hex(h.calls[1][1]), "a10166726f6f6d2f62", "unwatch room/b");
  assert.deepEqual(decode(r.payload), { code: "bad_request", message: "watch: an actor cannot watch itself" });
  const l = h.call("wactor:deactivated", { ref: "room/a", reason: "idle" });
  assert.deepEqual(decode(l.payload), { ref: "room/a", reason: "idle" });
  assert.equal(h.call("wactor:deactivated", { ref: 1 }).code, "bad_request");
});

test("topic envelopes match docs/ABI.md 5.11 and 5.12", () => {
  const h = probe();
  const r = h.call("topicvectors");
  assert.equal(r.code, "");
  assert.deepEqual(h.calls.map(([n]) => n), ["publish", "subscribe", "unsubscribe", "publish"]);
  assert.equal(hex(h.calls[0][1]), "a20167726f6f6d732e31024107", "publish rooms.1 7");
  assert.equal(hex(h.calls[1][1]), "a20167726f6f6d732e3102656865617264", "subscribe rooms.1 heard");
  assert.equal(hex(h.calls[2][1]), "a10167726f6f6d732e31", "unsubscribe rooms.1");
  assert.deepEqual(decode(r.payload), { code: "bad_request" });
});

test("the mock host carries the host's limits", () => {
  // assembly/limits.ts is generated from the Go host's abi package; a test
  // of the host module compares the two.
  assert.equal(LIMITS.MAX_KEY_LEN, 1024);
  assert.equal(LIMITS.DEFAULT_MAX_MESSAGE, 1 << 20);
  assert.equal(LIMITS.MAX_SENDS_PER_TURN, 10000);
  assert.equal(LIMITS.MAX_FORWARDS_PER_TURN, 1);
  assert.equal(LIMITS.MAX_NESTING, 16);
  assert.equal(Object.keys(LIMITS).length, 21);
});
