// pingpong plays ping-pong with a peer of its type.
//
//   ping {"peer": "pingpong-as/b", "count": 3} -> {"pongs": 3}
//   pong                                       -> {"pong": true}
//
// ping asks the peer's pong method count times, one ask after the other,
// and adds the pongs it got to the total kept under the state key "pongs".
// Pinging itself fails with a deadlock error: its own turn is still running.
import { Code, Context, Doc, MapBuilder, handle } from "@wactor/sdk";
export * from "@wactor/sdk/exports";

// MAX_COUNT bounds one ping so that a single turn stays short.
const MAX_COUNT: i64 = 1000;

handle("ping", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return ctx.fail(Code.BAD_REQUEST, "ping needs a map, as in {\"peer\": \"pingpong/b\", \"count\": 3}");
  const peer = doc.text("peer");
  if (peer.length == 0) {
    return ctx.fail(Code.BAD_REQUEST, "ping needs a text \"peer\", as in {\"peer\": \"pingpong/b\", \"count\": 3}");
  }
  const c = doc.get("count");
  if (!c.isInt() || c.int() < 0 || c.int() > MAX_COUNT) {
    return ctx.fail(Code.BAD_REQUEST, "ping needs an integer \"count\" from 0 to " + MAX_COUNT.toString());
  }
  const count = c.int();
  for (let i: i64 = 0; i < count; i++) {
    const r = ctx.ask(peer, "pong");
    if (!r.ok) return ctx.failWith(r); // the peer's error (deadlock, timeout, ...) becomes ours
  }
  ctx.setInt("pongs", ctx.getInt("pongs") + count);
  return new MapBuilder().int("pongs", count).encode();
});

handle("pong", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return new MapBuilder().bool("pong", true).encode();
});
