// Replacements for the imports AssemblyScript's standard library would
// otherwise take from module "env", which the wactor host does not provide.
// The SDK's asconfig.json routes them here with
//   --use abort=~lib/@wactor/sdk/assembly/env/wactorAbort  (and trace, seed)
// Each is compiled into a module only if something uses it.

import { wactor_log } from "./host";
import { inTurn } from "./flags";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): u16;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
declare function wasi_clock_time_get(id: u32, precision: u64, out: usize): u16;

// A static buffer for the abort message, so that aborting allocates
// nothing (it may be running because memory ran out).
const ABORT_CAP: usize = 1024;
const abortBuf: usize = memory.data(<i32>ABORT_CAP + 16);
let aborting = false;

/**
 * AssemblyScript's abort (a failed assert, an index out of range, a
 * `throw`): logs the message at error level when a turn is running, then
 * traps. The host discards the instance and the caller gets "trapped".
 */
export function wactorAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (!aborting && inTurn()) {
    aborting = true;
    // LogRecord {1: 3, 2: text} with a fixed two-byte text length head
    // (0x79 hi lo): readers accept any head width.
    const start = abortBuf + 7;
    const end = start + ABORT_CAP;
    let p = putAscii(start, end, "abort: ");
    p = message != null ? putString(p, end, message) : putAscii(p, end, "(no message)");
    if (fileName != null) {
      p = putAscii(p, end, " at ");
      p = putString(p, end, fileName);
      p = putAscii(p, end, ":");
      p = putUint(p, end, line);
      p = putAscii(p, end, ":");
      p = putUint(p, end, column);
    }
    const n = p - start;
    store<u8>(abortBuf, 0xa2);
    store<u8>(abortBuf, 0x01, 1);
    store<u8>(abortBuf, 0x03, 2); // level 3: error
    store<u8>(abortBuf, 0x02, 3);
    store<u8>(abortBuf, 0x79, 4);
    store<u8>(abortBuf, <u8>(n >> 8), 5);
    store<u8>(abortBuf, <u8>n, 6);
    wactor_log(abortBuf, 7 + n);
  }
  unreachable();
}

/** Writes s as UTF-8 at p, as much as fits before end. No allocation. */
function putString(p: usize, end: usize, s: string): usize {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const c2 = <u32>s.charCodeAt(i + 1);
      if (c2 >= 0xdc00 && c2 < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate
    if (c < 0x80) {
      if (p + 1 > end) break;
      store<u8>(p++, <u8>c);
    } else if (c < 0x800) {
      if (p + 2 > end) break;
      store<u8>(p++, <u8>(0xc0 | (c >> 6)));
      store<u8>(p++, <u8>(0x80 | (c & 63)));
    } else if (c < 0x10000) {
      if (p + 3 > end) break;
      store<u8>(p++, <u8>(0xe0 | (c >> 12)));
      store<u8>(p++, <u8>(0x80 | ((c >> 6) & 63)));
      store<u8>(p++, <u8>(0x80 | (c & 63)));
    } else {
      if (p + 4 > end) break;
      store<u8>(p++, <u8>(0xf0 | (c >> 18)));
      store<u8>(p++, <u8>(0x80 | ((c >> 12) & 63)));
      store<u8>(p++, <u8>(0x80 | ((c >> 6) & 63)));
      store<u8>(p++, <u8>(0x80 | (c & 63)));
    }
  }
  return p;
}

function putAscii(p: usize, end: usize, s: string): usize {
  return putString(p, end, s);
}

function putUint(p: usize, end: usize, v: u32): usize {
  const digits = memory.data(16);
  let n: usize = 0;
  do {
    store<u8>(digits + n++, <u8>(48 + v % 10));
    v /= 10;
  } while (v > 0);
  while (n > 0 && p < end) store<u8>(p++, load<u8>(digits + --n));
  return p;
}

/** AssemblyScript's trace: logs at debug level during a turn. */
export function wactorTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  if (!inTurn()) return;
  let s = message;
  if (n > 0) s += " " + a0.toString();
  if (n > 1) s += ", " + a1.toString();
  if (n > 2) s += ", " + a2.toString();
  if (n > 3) s += ", " + a3.toString();
  if (n > 4) s += ", " + a4.toString();
  const w = String.UTF8.encode(s);
  const body = Uint8Array.wrap(w);
  // LogRecord {1: 0, 2: text}
  const rec = new Uint8Array(body.length + 9);
  rec[0] = 0xa2;
  rec[1] = 0x01;
  rec[2] = 0x00;
  rec[3] = 0x02;
  rec[4] = 0x7a; // text, 4-byte length
  store<u32>(rec.dataStart + 5, bswap<u32>(<u32>body.length));
  memory.copy(rec.dataStart + 9, body.dataStart, <usize>body.length);
  wactor_log(rec.dataStart, <usize>rec.length);
}

/** AssemblyScript's seed for Math.random: 8 random bytes from WASI. */
export function wactorSeed(): f64 {
  const p = memory.data(8);
  wasi_random_get(p, 8);
  return reinterpret<f64>(load<u64>(p));
}

/**
 * The wall clock, in milliseconds since the Unix epoch (WASI
 * clock_time_get; the host allows clocks). AssemblyScript's Date.now()
 * needs an import the host does not provide: use this instead.
 */
export function nowMs(): i64 {
  const p = memory.data(8);
  wasi_clock_time_get(0, 1000000, p);
  return <i64>(load<u64>(p) / 1000000);
}

/** A monotonic clock in nanoseconds, for measuring durations. */
export function monotonicNs(): i64 {
  const p = memory.data(8);
  wasi_clock_time_get(1, 1, p);
  return <i64>load<u64>(p);
}
