// Context: a handler's view of its turn, and the host calls it can make.

import { CborReader, CborWriter, Kind, intSize } from "./cbor";
import {
  Status,
  fetchResult,
  wactor_ask,
  wactor_result,
  wactor_deactivate,
  wactor_forward,
  wactor_log,
  wactor_reminder_cancel,
  wactor_reminder_set,
  wactor_self,
  wactor_state_delete,
  wactor_state_get,
  wactor_state_set,
  wactor_tell,
  wactor_timer_cancel,
  wactor_timer_set,
  wactor_unwatch,
  wactor_watch,
  wactor_publish,
  wactor_subscribe,
  wactor_unsubscribe,
} from "./host";
import { Schedule } from "./schedule";

/** Severity of a log record (docs/ABI.md 5.5). */
export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/**
 * Error codes of the runtime's vocabulary (docs/ABI.md section 8). Any
 * other code a handler fails with (insufficient_funds, say) is an
 * application error of the actor's own: HTTP 422.
 */
export namespace Code {
  /** Malformed payload: a handler's answer to input it cannot use. */
  export const BAD_REQUEST = "bad_request";
  export const UNKNOWN_TYPE = "unknown_type";
  /** No handler for the method; the SDK answers with it. */
  export const UNKNOWN_METHOD = "unknown_method";
  export const TOO_LARGE = "too_large";
  export const MAILBOX_FULL = "mailbox_full";
  export const TIMEOUT = "timeout";
  export const TURN_TIMEOUT = "turn_timeout";
  export const MEMORY_EXHAUSTED = "memory_exhausted";
  export const TRAPPED = "trapped";
  export const BAD_REPLY = "bad_reply";
  export const DEADLOCK = "deadlock";
  export const UNAVAILABLE = "unavailable";
  /** The code used when a handler fails with an empty code. */
  export const ERROR = "error";
  /** A state value that is not what getInt expects. */
  export const BAD_STATE = "bad_state";
}

/**
 * The outcome of a host call (tell, ask): success with a payload, or an
 * error code and message. Errors are the host's (timeout, deadlock,
 * unknown_type, ...) or, for ask, whatever the callee answered with,
 * including its own application codes.
 */
export class Result {
  constructor(
    /** The answer's CBOR payload (ask); empty on error or when there is none. */
    public payload: Uint8Array,
    /** The error code; "" on success. */
    public code: string = "",
    /** The error message; "" on success. */
    public message: string = "",
  ) {}

  /** True on success. */
  get ok(): bool {
    return this.code.length == 0;
  }

  toString(): string {
    return this.ok ? "ok" : this.code + ": " + this.message;
  }
}

// Buffers shared by all host calls: the host copies the argument during
// the call, so one writer serves every call.
const argW = new CborWriter(256);
const EMPTY = new Uint8Array(0);
// getInt reads the value into a scratch buffer instead of a new array.
const INT_SCRATCH = 16;
const intScratch = new Uint8Array(INT_SCRATCH);
const intReader = new CborReader(EMPTY);

// @ts-ignore: decorator
@inline function statusOf(r: i64): i32 {
  return <i32>(<u64>r >> 32);
}

// @ts-ignore: decorator
@inline function lengthOf(r: i64): i32 {
  return <i32>(<u64>r & 0xffffffff);
}

/**
 * A handler's view of its turn: who the actor is, who sent the message,
 * and the host calls the turn may make. Valid only until the handler
 * returns; calls after that fail with code "unavailable".
 *
 * State writes and tells are buffered by the host and committed together,
 * atomically, only if the turn succeeds; reads see the turn's own writes.
 */
export class Context {
  // The request's text fields, as spans of the input buffer, decoded lazily.
  private input: Uint8Array;
  private mStart: i32;
  private mEnd: i32;
  private sStart: i32;
  private sEnd: i32;
  private iStart: i32;
  private iEnd: i32;
  private selfRef: string = "";
  private done: bool = false;

  // The turn's error: set by fail(), or by a refused state call.
  private errCode: string = "";
  private errMessage: string = "";
  private stateRefused: bool = false;

  /** @internal Created by the SDK for each message. */
  constructor(input: Uint8Array, mStart: i32, mEnd: i32, sStart: i32, sEnd: i32, iStart: i32, iEnd: i32) {
    this.input = input;
    this.mStart = mStart;
    this.mEnd = mEnd;
    this.sStart = sStart;
    this.sEnd = sEnd;
    this.iStart = iStart;
    this.iEnd = iEnd;
  }

  /** @internal Called by the SDK when the handler has returned. */
  end(): void {
    this.done = true;
    this.input = EMPTY; // the input buffer is reused
    this.mEnd = this.mStart = 0;
    this.sEnd = this.sStart = 0;
    this.iEnd = this.iStart = 0;
  }

  private span(start: i32, end: i32): string {
    if (end <= start) return "";
    return String.UTF8.decodeUnsafe(this.input.dataStart + <usize>start, <usize>(end - start));
  }

  // ---- the message --------------------------------------------------------

  /** The method the message was sent to ("" for activate and deactivate). */
  method(): string {
    return this.span(this.mStart, this.mEnd);
  }

  /**
   * The "type/id" of the actor that sent the message, or "" if it came
   * from outside (HTTP, the CLI, a program embedding the host).
   */
  sender(): string {
    return this.span(this.sStart, this.sEnd);
  }

  /** The message's unique id; a message redelivered after a crash keeps it. */
  messageId(): string {
    return this.span(this.iStart, this.iEnd);
  }

  /** This actor's own "type/id" (asked once, then cached); "" on failure. */
  self(): string {
    if (this.selfRef.length == 0 && !this.done) {
      const r = wactor_self(0, 0);
      if (statusOf(r) == Status.OK) {
        const b = fetchResult(lengthOf(r));
        this.selfRef = utf8(b);
      }
    }
    return this.selfRef;
  }

  // ---- errors -------------------------------------------------------------

  /**
   * Fails the turn with an error: the caller gets code and message, and
   * nothing of the turn (state writes, tells) is committed. Returns null so
   * that a handler can write
   *
   *   return ctx.fail("insufficient_funds", "balance is 3");
   *
   * An empty code becomes "error". A later fail replaces an earlier one,
   * except that a state call the host refused always wins.
   */
  fail(code: string, message: string = ""): Uint8Array | null {
    if (this.stateRefused) return null;
    this.errCode = code.length > 0 ? code : Code.ERROR;
    this.errMessage = message;
    return null;
  }

  /** Fails the turn with a failed Result's code and message (passes it on). */
  failWith(r: Result): Uint8Array | null {
    return this.fail(r.code, r.message);
  }

  /** True once fail() was called or the host refused a state call. */
  get failed(): bool {
    return this.errCode.length > 0;
  }

  /** The turn's error code; "" while it has none. */
  get errorCode(): string {
    return this.errCode;
  }

  /** The turn's error message. */
  get errorMessage(): string {
    return this.errMessage;
  }

  /**
   * True once the host refused a get, set or delete in this turn (a value
   * over the size limit, say). Such a turn fails with that first error
   * whatever the handler returns, so no partial state is ever committed.
   */
  get stateFailed(): bool {
    return this.stateRefused;
  }

  private refuse(r: Result): void {
    if (this.stateRefused) return;
    this.errCode = r.code;
    this.errMessage = r.message;
    this.stateRefused = true;
  }

  private static turnOver(): Result {
    return new Result(EMPTY, Code.UNAVAILABLE,
      "wactor: Context used after its handler returned; host calls are only possible during a turn");
  }

  /** Interprets a host call's packed status and length. */
  private static outcome(fn: string, r: i64): Result {
    const st = statusOf(r);
    const n = lengthOf(r);
    if (st == Status.OK || st == Status.NotFound) {
      return new Result(n > 0 ? fetchResult(n) : EMPTY);
    }
    if (st == Status.Error) {
      return decodeError(fn, fetchResult(n));
    }
    return new Result(EMPTY, Code.BAD_REPLY, "wactor: the host answered " + fn + " with an unknown status");
  }

  // ---- messages -----------------------------------------------------------

  /**
   * Sends a one-way message to target ("type/id"). The host delivers it
   * only after this turn commits; if the turn fails it is never sent. A
   * failed Result means the host refused it (a malformed target, an
   * unknown type).
   */
  tell(target: string, method: string, payload: Uint8Array | null = null): Result {
    if (this.done) return Context.turnOver();
    encodeCall(target, method, payload, 0);
    return Context.outcome("tell", wactor_tell(argW.dataStart, argW.length));
  }

  /**
   * Forwards the ask this turn handles to target ("type/id"): its reply to
   * method with payload answers the original asker, and this handler's own
   * reply is dropped. Like a tell, the forward leaves when the turn
   * commits (a failed turn forwards nothing); the asker's deadline still
   * holds, and a forward to an actor that waits on the asker fails it with
   * deadlock. A failed Result means the host refused: the message is not
   * an ask, the turn already forwarded, or the target is malformed or of
   * an unknown type.
   */
  forward(target: string, method: string, payload: Uint8Array | null = null): Result {
    if (this.done) return Context.turnOver();
    encodeCall(target, method, payload, 0);
    return Context.outcome("forward", wactor_forward(argW.dataStart, argW.length));
  }

  /**
   * Sends a message to target ("type/id") now and waits for its answer.
   * timeoutMs 0 means the host's default (5 s). On failure the Result
   * carries the host's error (timeout, deadlock, unknown_type, ...) or the
   * callee's (its own application code, unknown_method, trapped, ...).
   * Asking is not part of this turn's transaction: the callee's turn
   * commits on its own.
   */
  ask(target: string, method: string, payload: Uint8Array | null = null, timeoutMs: u32 = 0): Result {
    if (this.done) return Context.turnOver();
    encodeCall(target, method, payload, timeoutMs);
    return Context.outcome("ask", wactor_ask(argW.dataStart, argW.length));
  }

  // ---- state --------------------------------------------------------------

  /**
   * The value stored under key, including one this turn wrote; null if
   * there is none. If the host refuses the read, get returns null and the
   * turn fails with the host's error (see stateFailed).
   */
  get(key: string): Uint8Array | null {
    if (this.done) return null;
    argW.reset().map(1).uint(1).text(key);
    const r = wactor_state_get(argW.dataStart, argW.length);
    const st = statusOf(r);
    if (st == Status.NotFound) return null;
    if (st != Status.OK) {
      this.refuse(Context.outcome("state_get", r));
      return null;
    }
    const n = lengthOf(r);
    return n > 0 ? fetchResult(n) : new Uint8Array(0);
  }

  /**
   * Stores value under key when the turn commits. If the host refuses (a
   * value over the size limit, say) the turn fails with that error.
   */
  set(key: string, value: Uint8Array): void {
    if (this.done) return;
    argW.reset().map(2).uint(1).text(key).uint(2).bytes(value);
    this.stateCall("state_set", wactor_state_set(argW.dataStart, argW.length));
  }

  /** Removes key when the turn commits; deleting a missing key is fine. */
  delete(key: string): void {
    if (this.done) return;
    argW.reset().map(1).uint(1).text(key);
    this.stateCall("state_delete", wactor_state_delete(argW.dataStart, argW.length));
  }

  /** Refuses the turn unless the state call succeeded. */
  private stateCall(fn: string, r: i64): void {
    if (statusOf(r) != Status.OK) this.refuse(Context.outcome(fn, r));
  }

  /**
   * The integer stored under key (one CBOR integer), or def if there is
   * none. A value of another shape fails the turn with code "bad_state".
   */
  getInt(key: string, def: i64 = 0): i64 {
    if (this.done) return def;
    argW.reset().map(1).uint(1).text(key);
    const r = wactor_state_get(argW.dataStart, argW.length);
    const st = statusOf(r);
    if (st == Status.NotFound) return def;
    if (st != Status.OK) {
      this.refuse(Context.outcome("state_get", r));
      return def;
    }
    // An integer takes at most 9 bytes: fetch it into the scratch buffer.
    const n = lengthOf(r);
    let v: i64 = 0;
    let ok = false;
    if (n <= INT_SCRATCH) {
      const got = wactor_result(intScratch.dataStart, <usize>n);
      const rd = intReader.resetRange(intScratch, 0, got);
      const k = rd.peek();
      if (k == Kind.Uint || k == Kind.NegInt) {
        v = rd.readInt();
        ok = rd.ok && rd.done;
      }
    }
    if (!ok) {
      this.refuse(new Result(EMPTY, Code.BAD_STATE, "wactor: the state value \"" + key + "\" is not one CBOR integer"));
      return def;
    }
    return v;
  }

  /** Stores v under key as one CBOR integer. */
  setInt(key: string, v: i64): void {
    if (this.done) return;
    argW.reset().map(2).uint(1).text(key).uint(2).bytesHead(intSize(v)).int(v);
    this.stateCall("state_set", wactor_state_set(argW.dataStart, argW.length));
  }

  // ---- the rest -----------------------------------------------------------

  /** Writes msg to the host's log, tagged with the actor and the method. */
  log(level: Level, msg: string): void {
    if (this.done) return;
    argW.reset().map(2).uint(1).int(<i64>level).uint(2).text(msg);
    wactor_log(argW.dataStart, argW.length);
  }

  debug(msg: string): void {
    this.log(Level.Debug, msg);
  }

  info(msg: string): void {
    this.log(Level.Info, msg);
  }

  warn(msg: string): void {
    this.log(Level.Warn, msg);
  }

  /** Logs at Level.Error. It does not fail the turn: use fail() for that. */
  error(msg: string): void {
    this.log(Level.Error, msg);
  }

  /**
   * Asks the host to deactivate this actor once the turn has committed:
   * the instance is dropped and the next message activates it afresh from
   * its committed state.
   */
  deactivate(): void {
    if (this.done) return;
    wactor_deactivate(0, 0);
  }

  // ---- timers and reminders -----------------------------------------------

  /**
   * Sets a volatile timer: dueMs after the turn commits, method is
   * delivered with payload to this activation, then every periodMs (0:
   * once). A tick is a message without a sender, a turn of its own.
   * Setting a name that is set replaces that timer. Timers are buffered
   * with the turn (a failed turn sets nothing) and die with the
   * activation: use a reminder for anything that must survive. A failed
   * Result is the host's refusal (an empty name, say: bad_request).
   */
  setTimer(name: string, dueMs: u64, periodMs: u64, method: string, payload: Uint8Array | null = null): Result {
    if (this.done) return Context.turnOver();
    encodeTimer(argW, name, dueMs, periodMs, method, payload);
    return Context.outcome("timer_set", wactor_timer_set(argW.dataStart, argW.length));
  }

  /**
   * Cancels the timer name when the turn commits; a tick already waiting
   * is dropped. Cancelling a timer that is not set is fine.
   */
  cancelTimer(name: string): Result {
    if (this.done) return Context.turnOver();
    encodeCancel(argW, name);
    return Context.outcome("timer_cancel", wactor_timer_cancel(argW.dataStart, argW.length));
  }

  /**
   * Sets a durable reminder: method is delivered with payload to this
   * actor when schedule says, activating it if needed. It is stored with
   * the turn's commit (a failed turn sets nothing) and survives restarts.
   * Setting a name that is set replaces that reminder. A failed Result is
   * the host's refusal (a malformed cron, say: bad_request), or the SDK's
   * own bad_request for a schedule it cannot send (see Schedule.error).
   */
  setReminder(name: string, schedule: Schedule, method: string, payload: Uint8Array | null = null): Result {
    if (this.done) return Context.turnOver();
    if (schedule.error.length > 0) {
      return new Result(EMPTY, Code.BAD_REQUEST, "wactor: reminder " + name + ": " + schedule.error);
    }
    encodeReminder(argW, name, schedule, method, payload);
    return Context.outcome("reminder_set", wactor_reminder_set(argW.dataStart, argW.length));
  }

  /**
   * Deletes the reminder name when the turn commits. Cancelling a
   * reminder that is not set is fine.
   */
  cancelReminder(name: string): Result {
    if (this.done) return Context.turnOver();
    encodeCancel(argW, name);
    return Context.outcome("reminder_cancel", wactor_reminder_cancel(argW.dataStart, argW.length));
  }

  /**
   * Makes this actor a watcher of target ("type/id") when the turn
   * commits: each time target deactivates, for any reason, this actor gets
   * one lifecycle message, the method METHOD_DEACTIVATED sent by target
   * (read it with Lifecycle.parse). A watch lasts until unwatch, across
   * restarts; watching an actor that is not active tells nothing until it
   * next deactivates. A failed Result is the host's refusal: the actor
   * itself or a malformed ref (bad_request), an unknown type
   * (unknown_type), past MAX_WATCHES or MAX_WATCHERS (too_large).
   */
  watch(target: string): Result {
    if (this.done) return Context.turnOver();
    encodeCancel(argW, target); // the Watch envelope has the same shape: {1: target}
    return Context.outcome("watch", wactor_watch(argW.dataStart, argW.length));
  }

  /**
   * Publishes payload (CBOR; null for none) to topic when the turn
   * commits: every subscriber then gets it once, as a tell to the method
   * it subscribed with, sent by this actor. A topic is 1 to MAX_TOPIC_LEN
   * bytes, segments separated by dots, without spaces, '*' or '>'.
   */
  publish(topic: string, payload: Uint8Array | null = null): Result {
    if (this.done) return Context.turnOver();
    argW.reset().map(payload != null ? 2 : 1).uint(1).text(topic);
    if (payload != null) argW.uint(2).bytes(payload);
    return Context.outcome("publish", wactor_publish(argW.dataStart, argW.length));
  }

  /**
   * Subscribes this actor to topic when the turn commits: each message
   * published to it is then delivered to method, once. Durable until
   * unsubscribe; at most MAX_SUBSCRIPTIONS topics.
   */
  subscribe(topic: string, method: string): Result {
    if (this.done) return Context.turnOver();
    argW.reset().map(2).uint(1).text(topic).uint(2).text(method);
    return Context.outcome("subscribe", wactor_subscribe(argW.dataStart, argW.length));
  }

  /** Ends this actor's subscription to topic when the turn commits. */
  unsubscribe(topic: string): Result {
    if (this.done) return Context.turnOver();
    encodeCancel(argW, topic); // the Subscription envelope without a method: {1: topic}
    return Context.outcome("unsubscribe", wactor_unsubscribe(argW.dataStart, argW.length));
  }

  /** Ends this actor's watch of target when the turn commits; unwatching an actor not watched is fine. */
  unwatch(target: string): Result {
    if (this.done) return Context.turnOver();
    encodeCancel(argW, target);
    return Context.outcome("unwatch", wactor_unwatch(argW.dataStart, argW.length));
  }
}

/**
 * Encodes a Timer envelope (docs/ABI.md 5.7) into w; zero numbers and a
 * null payload are left out.
 */
function encodeTimer(
  w: CborWriter, name: string, dueMs: u64, periodMs: u64, method: string, payload: Uint8Array | null,
): CborWriter {
  let n = 2;
  if (dueMs != 0) n++;
  if (periodMs != 0) n++;
  if (payload != null) n++;
  w.reset().map(n).uint(1).text(name);
  if (dueMs != 0) w.uint(2).uint(dueMs);
  if (periodMs != 0) w.uint(3).uint(periodMs);
  w.uint(4).text(method);
  if (payload != null) w.uint(5).bytes(payload);
  return w;
}

/**
 * Encodes a Reminder envelope (docs/ABI.md 5.8) into w; zero numbers,
 * empty texts and a null payload are left out.
 */
function encodeReminder(
  w: CborWriter, name: string, s: Schedule, method: string, payload: Uint8Array | null,
): CborWriter {
  let n = 2;
  if (s.inMs != 0) n++;
  if (s.atUnixMs != 0) n++;
  if (s.everyMs != 0) n++;
  if (s.firstMs != 0) n++;
  if (s.cronExpr.length > 0) n++;
  if (payload != null) n++;
  if (s.missed.length > 0) n++;
  w.reset().map(n).uint(1).text(name);
  if (s.inMs != 0) w.uint(2).uint(s.inMs);
  if (s.atUnixMs != 0) w.uint(3).uint(s.atUnixMs);
  if (s.everyMs != 0) w.uint(4).uint(s.everyMs);
  if (s.firstMs != 0) w.uint(5).uint(s.firstMs);
  if (s.cronExpr.length > 0) w.uint(6).text(s.cronExpr);
  w.uint(7).text(method);
  if (payload != null) w.uint(8).bytes(payload);
  if (s.missed.length > 0) w.uint(9).text(s.missed);
  return w;
}

/** Encodes a Cancel envelope {1: name} (docs/ABI.md 5.9) into w. */
function encodeCancel(w: CborWriter, name: string): CborWriter {
  return w.reset().map(1).uint(1).text(name);
}

/** Encodes a Call envelope (docs/ABI.md 5.3) into argW. */
function encodeCall(target: string, method: string, payload: Uint8Array | null, timeoutMs: u32): void {
  const hasPayload = payload != null;
  let n = 2;
  if (hasPayload) n++;
  if (timeoutMs > 0) n++;
  argW.reset().map(n).uint(1).text(target).uint(2).text(method);
  if (payload != null) argW.uint(3).bytes(payload);
  if (timeoutMs > 0) argW.uint(4).uint(<u64>timeoutMs);
}

/** Decodes an error envelope {1: code, 2: message} (docs/ABI.md 5.6). */
function decodeError(fn: string, b: Uint8Array): Result {
  const r = new CborReader(b);
  const n = r.readMap();
  let code = "";
  let message = "";
  for (let i = 0; i < n && r.ok; i++) {
    const key = r.readUint();
    if (!r.ok) break;
    if (key == 1) code = r.readText();
    else if (key == 2) message = r.readText();
    else r.skip();
  }
  if (!r.ok || !r.done || code.length == 0) {
    return new Result(EMPTY, Code.BAD_REPLY, "wactor: the host answered " + fn + " with a malformed error");
  }
  return new Result(EMPTY, code, message);
}

function utf8(b: Uint8Array): string {
  return String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
}
