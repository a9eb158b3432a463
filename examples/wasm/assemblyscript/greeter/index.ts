// greeter is a stateless actor that says hello.
//
//   hello {"name": "Ada"} -> {"greeting": "Hello, Ada!"}
import { Code, Context, Doc, MapBuilder, handle } from "@wactor/sdk";
export * from "@wactor/sdk/exports";

handle("hello", (ctx: Context, payload: Uint8Array): Uint8Array | null => {
  const doc = Doc.parse(payload);
  if (doc == null) return ctx.fail(Code.BAD_REQUEST, "hello needs a map, as in {\"name\": \"Ada\"}");
  const name = doc.get("name");
  if (!name.isText() || name.text().length == 0) {
    return ctx.fail(Code.BAD_REQUEST, "hello needs a text \"name\", as in {\"name\": \"Ada\"}");
  }
  return new MapBuilder().text("greeting", "Hello, " + name.text() + "!").encode();
});
