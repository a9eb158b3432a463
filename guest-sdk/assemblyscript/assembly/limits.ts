// The host's limits on what a guest may ask of it, the same numbers the
// host and the native test kits apply. Generated from package abi's limits by internal/abicheck (go test ./internal/abicheck -update); do not edit.

/** Largest message, reply, state value or timer and reminder payload, unless the manifest sets max_message. */
export const DEFAULT_MAX_MESSAGE: i32 = 1048576;

/** How much larger than the message limit one host call's argument may be. */
export const ARG_OVERHEAD: i32 = 4096;

/** Bytes of a state key. */
export const MAX_KEY_LEN: i32 = 1024;

/** Bytes of a method name. */
export const MAX_METHOD_LEN: i32 = 256;

/** Bytes of a log message; longer ones are cut. */
export const MAX_LOG_LEN: i32 = 4096;

/** Tells one turn may send. */
export const MAX_SENDS_PER_TURN: i32 = 10000;

/** Times one turn may forward the ask it handles. */
export const MAX_FORWARDS_PER_TURN: i32 = 1;

/** Bytes of a timer's or reminder's name. */
export const MAX_SCHEDULE_NAME: i32 = 256;

/** Timers one activation may have set at once. */
export const MAX_TIMERS: i32 = 1000;

/** Timer sets and cancels one turn may buffer. */
export const MAX_TIMER_OPS: i32 = 2000;

/** Reminders (distinct names) one turn may set or cancel. */
export const MAX_REMINDER_OPS: i32 = 1000;

/** Bytes of a cron expression. */
export const MAX_CRON_LEN: i32 = 256;

/** Longest delay or period of a timer or reminder: 10 years. */
export const MAX_DELAY_MS: u64 = 315360000000;

/** Latest at_unix_ms of a reminder: 9999-12-31T23:59:59.999Z. */
export const MAX_AT_UNIX_MS: u64 = 253402300799999;

/** Bytes of an actor type's name. */
export const MAX_TYPE_LEN: i32 = 64;

/** Bytes of an actor id. */
export const MAX_ID_LEN: i32 = 256;

/** Actors one actor may watch at once. */
export const MAX_WATCHES: i32 = 100;

/** Actors that may watch one actor at once. */
export const MAX_WATCHERS: i32 = 1000;

/** Bytes of a topic's name. */
export const MAX_TOPIC_LEN: i32 = 256;

/** Topics one actor may subscribe to. */
export const MAX_SUBSCRIPTIONS: i32 = 100;

/** Turns that may run nested in one activation's waiting turns at once (reentrant types). */
export const MAX_NESTING: i32 = 16;
