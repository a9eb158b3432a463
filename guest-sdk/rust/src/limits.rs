//! The host's limits on what a guest may ask of it, the same numbers the
//! host and the native test kits apply. Generated from package abi's limits by internal/abicheck (go test ./internal/abicheck -update); do not edit.

/// Largest message, reply, state value or timer and reminder payload, unless the manifest sets max_message.
pub const DEFAULT_MAX_MESSAGE: usize = 1048576;

/// How much larger than the message limit one host call's argument may be.
pub const ARG_OVERHEAD: usize = 4096;

/// Bytes of a state key.
pub const MAX_KEY_LEN: usize = 1024;

/// Bytes of a method name.
pub const MAX_METHOD_LEN: usize = 256;

/// Bytes of a log message; longer ones are cut.
pub const MAX_LOG_LEN: usize = 4096;

/// Tells one turn may send.
pub const MAX_SENDS_PER_TURN: usize = 10000;

/// Times one turn may forward the ask it handles.
pub const MAX_FORWARDS_PER_TURN: usize = 1;

/// Bytes of a timer's or reminder's name.
pub const MAX_SCHEDULE_NAME: usize = 256;

/// Timers one activation may have set at once.
pub const MAX_TIMERS: usize = 1000;

/// Timer sets and cancels one turn may buffer.
pub const MAX_TIMER_OPS: usize = 2000;

/// Reminders (distinct names) one turn may set or cancel.
pub const MAX_REMINDER_OPS: usize = 1000;

/// Bytes of a cron expression.
pub const MAX_CRON_LEN: usize = 256;

/// Longest delay or period of a timer or reminder: 10 years.
pub const MAX_DELAY_MS: u64 = 315360000000;

/// Latest at_unix_ms of a reminder: 9999-12-31T23:59:59.999Z.
pub const MAX_AT_UNIX_MS: u64 = 253402300799999;

/// Bytes of an actor type's name.
pub const MAX_TYPE_LEN: usize = 64;

/// Bytes of an actor id.
pub const MAX_ID_LEN: usize = 256;

/// Actors one actor may watch at once.
pub const MAX_WATCHES: usize = 100;

/// Actors that may watch one actor at once.
pub const MAX_WATCHERS: usize = 1000;

/// Bytes of a topic's name.
pub const MAX_TOPIC_LEN: usize = 256;

/// Topics one actor may subscribe to.
pub const MAX_SUBSCRIPTIONS: usize = 100;

/// Turns that may run nested in one activation's waiting turns at once (reentrant types).
pub const MAX_NESTING: usize = 16;
