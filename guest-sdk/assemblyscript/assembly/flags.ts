// Two flags in static memory: how many wactor_handle calls are in progress
// and whether wactor_alloc runs. They are not globals with initializers
// because the abort handler reads them, and it may be compiled before the
// files that would initialize such globals (the compiler refuses a global
// used before its declaration). This file imports nothing.

const FLAGS: usize = memory.data(8);

/** wactor_handle calls in progress. */
export function getDepth(): i32 {
  return load<i32>(FLAGS);
}

export function setDepth(d: i32): void {
  store<i32>(FLAGS, d);
}

export function setInAlloc(v: bool): void {
  store<i32>(FLAGS, v ? 1 : 0, 4);
}

/** True while a turn runs (and not inside wactor_alloc): host calls are allowed. */
export function inTurn(): bool {
  return load<i32>(FLAGS) > 0 && load<i32>(FLAGS, 4) == 0;
}
