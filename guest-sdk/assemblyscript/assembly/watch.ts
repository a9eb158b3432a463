// Lifecycle messages: what a watcher (Context.watch) is told when an actor
// it watches deactivates.

import { Doc } from "./doc";

/** The method of a lifecycle message; names starting with "wactor:" are the host's own. */
export const METHOD_DEACTIVATED = "wactor:deactivated";

/** Why an actor deactivated, as a lifecycle message says. */
export const REASON_IDLE = "idle";
export const REASON_REQUESTED = "requested";
export const REASON_EVICTED = "evicted";
export const REASON_SHUTDOWN = "shutdown";
export const REASON_FAILED = "failed";
export const REASON_REDEPLOYED = "redeployed";
export const REASON_LOST = "lost";

/** The payload of a lifecycle message: {"ref": "type/id", "reason": text}. */
export class Lifecycle {
  constructor(
    /** The actor that deactivated, "type/id". */
    public ref: string,
    /** Why: one of the REASON_ constants. */
    public reason: string,
  ) {}

  /** Reads a lifecycle message's payload; null when it is not one. */
  static parse(payload: Uint8Array): Lifecycle | null {
    const doc = Doc.parse(payload);
    if (doc == null) return null;
    const d = doc!;
    if (!d.get("ref").isText() || !d.get("reason").isText()) return null;
    return new Lifecycle(d.text("ref"), d.text("reason"));
  }
}
