// @wactor/sdk: write wactor actors in AssemblyScript.
//
//   import { handle, Context, Doc, MapBuilder, Code } from "@wactor/sdk";
//   export * from "@wactor/sdk/exports";
//
//   handle("add", (ctx: Context, payload: Uint8Array): Uint8Array | null => { ... });
//
// See README.md for the whole API and docs/ABI.md for the wire contract.

export { Handler, Hook, handle, onActivate, onDeactivate } from "./dispatch";
export { Code, Context, Level, Result } from "./context";
export { Missed, Schedule } from "./schedule";
export { CborReader, CborWriter, Kind } from "./cbor";
export { ArrayBuilder, Doc, List, MapBuilder, Value, encodeInt, encodeText } from "./doc";
export { monotonicNs, nowMs } from "./env";
export { Fields, Record, State, decodeRecord, reply, request } from "./typed";
export * from "./limits";
export {
  Lifecycle,
  METHOD_DEACTIVATED,
  REASON_EVICTED,
  REASON_FAILED,
  REASON_IDLE,
  REASON_LOST,
  REASON_REDEPLOYED,
  REASON_REQUESTED,
  REASON_SHUTDOWN,
} from "./watch";
