// counter keeps a running total.
//
//   add {"n": 5} -> {"n": total}
//   get          -> {"n": total}
//
// The total is stored under the state key "n" as a CBOR integer. A missing
// or non-integer "n" is answered with the application error bad_request.
import { Code, Context, Doc, MapBuilder, handle } from "@wactor/sdk";
export * from "@wactor/sdk/exports";

function reply(total: i64): Uint8Array {
  return new MapBuilder().int("n", total).encode();
}

handle("add", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return ctx.fail(Code.BAD_REQUEST, "add needs a map, as in {\"n\": 5}");
  const n = doc.get("n");
  if (!n.isInt()) return ctx.fail(Code.BAD_REQUEST, "add needs an integer \"n\", as in {\"n\": 5}");
  const add = n.int();
  const total = ctx.getInt("n");
  if ((add > 0 && total > i64.MAX_VALUE - add) || (add < 0 && total < i64.MIN_VALUE - add)) {
    return ctx.fail(Code.BAD_REQUEST, "the total would overflow");
  }
  ctx.setInt("n", total + add); // committed only if the turn succeeds
  return reply(total + add);
});

handle("get", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  return reply(ctx.getInt("n"));
});
