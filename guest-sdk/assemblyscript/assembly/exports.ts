// The module's exports, docs/ABI.md section 1. AssemblyScript exports only
// what the entry file exports, so an actor's entry file re-exports these:
//
//   export * from "@wactor/sdk/exports";

import { abiVersion, alloc, handleRequest, hasActivateHook, reentrant } from "./dispatch";

/** Returns 1, the ABI version this SDK speaks. */
export function wactor_abi_version(): i32 {
  return abiVersion();
}

/**
 * Returns 1: a request may arrive nested in a turn that waits in ask, for
 * a type declared `reentrant: call_chain` (docs/ABI.md; README.md,
 * "Reentrancy").
 */
export function wactor_reentrant(): i32 {
  return reentrant();
}

/** Returns 0 when the actor has no activate hook: the host may then skip its turn. */
export function wactor_activate_hook(): i32 {
  return hasActivateHook();
}

/** Returns a buffer of at least len bytes for the host's next request. */
export function wactor_alloc(len: i32): usize {
  return alloc(len);
}

/** Handles the request at [ptr, ptr+len) and returns (reply_ptr << 32) | reply_len. */
export function wactor_handle(ptr: usize, len: i32): i64 {
  return handleRequest(ptr, len);
}
