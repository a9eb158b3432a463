// Handler registration and the module's exports (docs/ABI.md sections 1-3).

import { CborReader, CborWriter } from "./cbor";
import { Code, Context } from "./context";
import { getDepth, setDepth, setInAlloc } from "./flags";

/**
 * Handles one message. payload is the message's CBOR (empty when the
 * sender sent none) and is a view of the SDK's input buffer, valid only
 * until the handler returns: copy it (payload.slice()) to keep it.
 *
 * Return the reply's CBOR payload (null for none), or fail the turn with
 * `return ctx.fail(code, message)`.
 */
export type Handler = (ctx: Context, payload: Uint8Array) => Uint8Array | null;

/**
 * An activation or deactivation hook. It runs as a turn, like a message:
 * its state writes and tells commit only if it does not call ctx.fail.
 */
export type Hook = (ctx: Context) => void;

class Entry {
  constructor(public name: string, public utf8: Uint8Array, public fn: Handler) {}
}

const handlers = new Array<Entry>();
let activateHook: Hook | null = null;
let deactivateHook: Hook | null = null;

/**
 * Registers fn as the handler of method. Call it from top-level code: the
 * module's `_initialize` runs it before the first message. Registering a
 * method again replaces its handler.
 */
export function handle(method: string, fn: Handler): void {
  for (let i = 0; i < handlers.length; i++) {
    if (handlers[i].name == method) {
      handlers[i].fn = fn;
      return;
    }
  }
  handlers.push(new Entry(method, Uint8Array.wrap(String.UTF8.encode(method)), fn));
}

/**
 * Registers fn to run when an activation starts (its state is loaded)
 * before its first message. null removes the hook.
 */
export function onActivate(fn: Hook | null): void {
  activateHook = fn;
}

/**
 * Registers fn to run when the activation is about to end (idle, memory
 * pressure, shutdown or ctx.deactivate()). null removes the hook.
 */
export function onDeactivate(fn: Hook | null): void {
  deactivateHook = fn;
}

// ---------------------------------------------------------------------------
// Buffers that cross the ABI. They are globals, so the garbage collector
// always sees them as live. The host writes a request into the input buffer
// and reads the reply from the reply writer's buffer, which stays untouched
// until the next call into the guest.
//
// Reentrancy: a type declared `reentrant: call_chain` may get a request
// nested in a turn that waits in ask (the host calls wactor_alloc and
// wactor_handle from inside the ask import). Such a request gets a buffer
// of its own depth, so the waiting turn's request (its payload view, its
// Context's spans) stays intact; the reply is written into replyW only
// after a handler has returned, and the host copies it out before it
// returns into the waiting turn; and the collector runs only when no turn
// is on the stack (see maybeCollect).
// ---------------------------------------------------------------------------

let inBuf = new ArrayBuffer(1024);
let inView = Uint8Array.wrap(inBuf); // all of inBuf; requests are read from [0, len)
// nestedBufs[d-1]: the request asked for while d handlers run. A level is
// reused by the next request of that depth (its handler has returned),
// unless it is over NESTED_KEEP bytes: then it is let go when its handler
// returns, for the collector to take back after the turn.
const nestedBufs = new Array<ArrayBuffer>();
const NESTED_KEEP = 64 << 10;
const replyW = new CborWriter(256);

/** wactor_abi_version: the ABI version this SDK speaks. */
export function abiVersion(): i32 {
  return 1;
}

/**
 * wactor_reentrant: 1, the SDK can take a request nested in a waiting
 * turn (see above), with any of AssemblyScript's runtimes: the minimal one
 * (the SDK's asconfig.json) is collected only when no turn is on the
 * stack; the incremental one may collect at any allocation, and sees the
 * references on the stack in its shadow stack; the stub one never frees.
 */
export function reentrant(): i32 {
  return 1;
}

/**
 * wactor_activate_hook: 0 while no activate hook is registered. The host
 * asks once per module version, after `_initialize` has run the top-level
 * code, and instances started from that state skip the hook's turn
 * (docs/ABI.md, section 2, step 4). A hook registered later, in a turn, is
 * of an instance already activated.
 */
export function hasActivateHook(): i32 {
  return activateHook != null ? 1 : 0;
}

/** wactor_alloc: a buffer of at least n bytes for the next request. */
export function alloc(n: i32): usize {
  if (n < 0) unreachable();
  setInAlloc(true);
  let p: usize;
  const depth = getDepth();
  if (depth > 0) {
    // A nested call while a turn waits in ask: leave the waiting turns'
    // requests alone.
    while (nestedBufs.length < depth) nestedBufs.push(new ArrayBuffer(0));
    let b = unchecked(nestedBufs[depth - 1]);
    if (b.byteLength < n) {
      b = new ArrayBuffer(n);
      nestedBufs[depth - 1] = b;
    }
    p = changetype<usize>(b);
  } else {
    if (inBuf.byteLength < n) {
      inBuf = new ArrayBuffer(max(n, inBuf.byteLength << 1));
      inView = Uint8Array.wrap(inBuf);
    }
    p = changetype<usize>(inBuf);
  }
  setInAlloc(false);
  return p;
}

/** A copy of [ptr, ptr+len), for a request outside the buffers we handed out. */
function copyIn(ptr: usize, len: i32): Uint8Array {
  const out = new Uint8Array(len);
  memory.copy(out.dataStart, ptr, <usize>len);
  return out;
}

/** wactor_handle: handles the request at [ptr, ptr+len), returns the reply. */
export function handleRequest(ptr: usize, len: i32): i64 {
  if (len < 0) unreachable();
  const depth = getDepth();
  setDepth(depth + 1);
  if (depth == 0 && ptr == changetype<usize>(inBuf) && len <= inBuf.byteLength) dispatch(inView, len);
  else if (depth > 0 && depth <= nestedBufs.length && ptr == changetype<usize>(unchecked(nestedBufs[depth - 1])) &&
    len <= unchecked(nestedBufs[depth - 1]).byteLength) {
    dispatch(Uint8Array.wrap(unchecked(nestedBufs[depth - 1])), len);
  } else dispatch(copyIn(ptr, len), len);
  setDepth(depth);
  if (depth > 0 && depth <= nestedBufs.length && unchecked(nestedBufs[depth - 1]).byteLength > NESTED_KEEP) {
    nestedBufs[depth - 1] = new ArrayBuffer(0);
  }
  // Only between turns: a nested call returns into a turn whose objects
  // may be referenced from the stack alone, which the minimal runtime's
  // collector does not see.
  if (ASC_RUNTIME == 1 /* Runtime.Minimal */ && depth == 0) maybeCollect();
  return (<i64>replyW.dataStart << 32) | <i64>replyW.length;
}

// With the minimal runtime nothing is collected unless __collect is called,
// and it may only be called when no reference to the heap is on the stack:
// between turns. Each call marks everything reachable from the globals,
// so it is not done after every turn but after COLLECT_EVERY turns, or
// sooner when the memory grew (a big message, or garbage that outgrew the
// free space), which keeps the memory of a long-lived instance bounded.
const COLLECT_EVERY = 32;
let turnsSinceCollect = 0;
let pagesAtCollect: i32 = 0;

function maybeCollect(): void {
  const pages = memory.size();
  if (++turnsSinceCollect >= COLLECT_EVERY || pages > pagesAtCollect) {
    // The turn's garbage is unreachable now: everything that lives on (the
    // handlers, the buffers, the reply) hangs off globals.
    __collect();
    turnsSinceCollect = 0;
    pagesAtCollect = pages;
  }
}

// Request fields (docs/ABI.md 5.1).
const KIND_MESSAGE: u64 = 0;
const KIND_ACTIVATE: u64 = 1;
const KIND_DEACTIVATE: u64 = 2;

const reqReader = new CborReader(new Uint8Array(0));
const NO_BYTES = new Uint8Array(0);

/** Handles the request input[0:len] and leaves the Reply in replyW. */
function dispatch(input: Uint8Array, len: i32): void {
  // Decode the Request envelope. Text fields are kept as spans of the
  // input, so a turn allocates little: the SDK's per-turn garbage is the
  // input view, the Context and the payload view.
  const r = reqReader.resetRange(input, 0, len);
  let kind: u64 = 0;
  let mStart = 0, mEnd = 0, sStart = 0, sEnd = 0, iStart = 0, iEnd = 0, pStart = -1, pEnd = 0;
  const n = r.readMap();
  for (let i = 0; i < n && r.ok; i++) {
    const key = r.readUint();
    if (!r.ok) break;
    if (key == 1) {
      kind = r.readUint();
      if (r.ok && kind > KIND_DEACTIVATE) {
        replyError(Code.BAD_REQUEST, "wactor: malformed request: unknown request kind " + kind.toString());
        return;
      }
    } else if (key == 2) {
      mStart = r.skipText();
      mEnd = r.offset;
    } else if (key == 3) {
      pStart = r.skipBytes();
      pEnd = r.offset;
    } else if (key == 4) {
      sStart = r.skipText();
      sEnd = r.offset;
    } else if (key == 5) {
      iStart = r.skipText();
      iEnd = r.offset;
    } else r.skip();
  }
  if (!r.ok) {
    replyError(Code.BAD_REQUEST, "wactor: malformed request: bad CBOR at byte " + r.offset.toString());
    return;
  }
  if (!r.done) {
    replyError(Code.BAD_REQUEST, "wactor: malformed request: trailing bytes after the request");
    return;
  }

  const ctx = new Context(input, mStart, mEnd, sStart, sEnd, iStart, iEnd);
  let out: Uint8Array | null = null;
  if (kind == KIND_MESSAGE) {
    const mLen = mEnd - mStart;
    const mPtr = input.dataStart + <usize>mStart;
    let fn: Handler | null = null;
    for (let i = 0, k = handlers.length; i < k; i++) {
      const e = unchecked(handlers[i]);
      if (e.utf8.length == mLen && memory.compare(e.utf8.dataStart, mPtr, <usize>mLen) == 0) {
        fn = e.fn;
        break;
      }
    }
    if (fn == null) {
      const name = String.UTF8.decodeUnsafe(mPtr, <usize>mLen);
      ctx.end();
      replyError(Code.UNKNOWN_METHOD, unknownMethod(name));
      return;
    }
    const payload = pStart > 0 && pEnd > pStart ? input.subarray(pStart, pEnd) : NO_BYTES;
    out = fn(ctx, payload);
  } else if (kind == KIND_ACTIVATE) {
    const hook = activateHook;
    if (hook != null) hook(ctx);
  } else {
    const hook = deactivateHook;
    if (hook != null) hook(ctx);
  }
  ctx.end();

  if (ctx.failed) {
    replyError(ctx.errorCode, ctx.errorMessage);
    return;
  }
  // The Reply envelope (docs/ABI.md 5.2): {1: payload} or {}.
  replyW.reset();
  if (out != null) replyW.map(1).uint(1).bytes(out);
  else replyW.map(0);
}

function replyError(code: string, message: string): void {
  replyW.reset();
  if (message.length > 0) replyW.map(2).uint(2).text(code).uint(3).text(message);
  else replyW.map(1).uint(2).text(code);
}

/** The message for a method without a handler, naming those that exist. */
function unknownMethod(name: string): string {
  let msg = "wactor: no handler for method \"" + name + "\"";
  if (handlers.length == 0) {
    return msg + "; the actor registers none (call handle() from top-level code)";
  }
  const names = new Array<string>(handlers.length);
  for (let i = 0; i < handlers.length; i++) names[i] = handlers[i].name;
  names.sort();
  return msg + "; the actor handles " + names.join(", ");
}
