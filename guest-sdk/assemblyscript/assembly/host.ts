// The host's imports (module "wactor", docs/ABI.md section 4). Internal to
// the SDK. Each method of Context calls its import directly, so a module
// imports only the host functions it uses.

// @ts-ignore: decorator
@external("wactor", "tell")
export declare function wactor_tell(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "ask")
export declare function wactor_ask(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "state_get")
export declare function wactor_state_get(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "state_set")
export declare function wactor_state_set(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "state_delete")
export declare function wactor_state_delete(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "self")
export declare function wactor_self(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "log")
export declare function wactor_log(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "deactivate")
export declare function wactor_deactivate(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "timer_set")
export declare function wactor_timer_set(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "timer_cancel")
export declare function wactor_timer_cancel(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "reminder_set")
export declare function wactor_reminder_set(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "reminder_cancel")
export declare function wactor_reminder_cancel(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "watch")
export declare function wactor_watch(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "unwatch")
export declare function wactor_unwatch(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "publish")
export declare function wactor_publish(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "subscribe")
export declare function wactor_subscribe(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "unsubscribe")
export declare function wactor_unsubscribe(ptr: usize, len: usize): i64;
@external("wactor", "forward")
export declare function wactor_forward(ptr: usize, len: usize): i64;
// @ts-ignore: decorator
@external("wactor", "result")
export declare function wactor_result(ptr: usize, len: usize): i32;

/** Statuses of a host call (docs/ABI.md 4.1). */
export const enum Status {
  OK = 0,
  NotFound = 1,
  Error = 2,
}

/** Fetches the pending result of the last host call into a new array. */
export function fetchResult(n: i32): Uint8Array {
  const out = new Uint8Array(n);
  if (n > 0) {
    const got = wactor_result(out.dataStart, <usize>n);
    if (got != n) return out.subarray(0, max(got, 0));
  }
  return out;
}

