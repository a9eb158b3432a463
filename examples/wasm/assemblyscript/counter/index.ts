// counter keeps a running total.
//
//   add {"n": 5} -> {"n": total}
//   get          -> {"n": total}
//
// The total is stored under the state key "n" as a CBOR integer. A request
// without an integer "n" is answered with bad_request before add runs.
import { Code, Context, Fields, MapBuilder, Record, handle, request } from "@wactor/sdk";
export * from "@wactor/sdk/exports";

/** {"n": 5}: add's request and both methods' reply. */
class Total extends Record {
  constructor(public n: i64 = 0) { super(); }
  read(f: Fields): void { this.n = f.int("n"); }
  write(m: MapBuilder): void { m.int("n", this.n); }
}

handle("add", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const req = request<Total>(ctx, payload);
  if (req == null) return null; // bad_request, naming the field
  const total = ctx.getInt("n");
  if ((req.n > 0 && total > i64.MAX_VALUE - req.n) || (req.n < 0 && total < i64.MIN_VALUE - req.n)) {
    return ctx.fail(Code.BAD_REQUEST, "the total would overflow");
  }
  ctx.setInt("n", total + req.n); // committed only if the turn succeeds
  return new Total(total + req.n).encode();
});

handle("get", (ctx: Context, payload: Uint8Array): Uint8Array | null => new Total(ctx.getInt("n")).encode());
