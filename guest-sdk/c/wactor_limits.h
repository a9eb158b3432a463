/* The host's limits on what a guest may ask of it, the same numbers the
 * host and the native test kits apply. Generated from package abi's limits by internal/abicheck (go test ./internal/abicheck -update); do not edit. */
#ifndef WACTOR_LIMITS_H
#define WACTOR_LIMITS_H

/* Largest message, reply, state value or timer and reminder payload, unless the manifest sets max_message. */
#define WACTOR_DEFAULT_MAX_MESSAGE 1048576u

/* How much larger than the message limit one host call's argument may be. */
#define WACTOR_ARG_OVERHEAD 4096u

/* Bytes of a state key. */
#define WACTOR_MAX_KEY_LEN 1024u

/* Bytes of a method name. */
#define WACTOR_MAX_METHOD_LEN 256u

/* Bytes of a log message; longer ones are cut. */
#define WACTOR_MAX_LOG_LEN 4096u

/* Tells one turn may send. */
#define WACTOR_MAX_SENDS_PER_TURN 10000u

/* Times one turn may forward the ask it handles. */
#define WACTOR_MAX_FORWARDS_PER_TURN 1u

/* Bytes of a timer's or reminder's name. */
#define WACTOR_MAX_SCHEDULE_NAME 256u

/* Timers one activation may have set at once. */
#define WACTOR_MAX_TIMERS 1000u

/* Timer sets and cancels one turn may buffer. */
#define WACTOR_MAX_TIMER_OPS 2000u

/* Reminders (distinct names) one turn may set or cancel. */
#define WACTOR_MAX_REMINDER_OPS 1000u

/* Bytes of a cron expression. */
#define WACTOR_MAX_CRON_LEN 256u

/* Longest delay or period of a timer or reminder: 10 years. */
#define WACTOR_MAX_DELAY_MS 315360000000ull

/* Latest at_unix_ms of a reminder: 9999-12-31T23:59:59.999Z. */
#define WACTOR_MAX_AT_UNIX_MS 253402300799999ull

/* Bytes of an actor type's name. */
#define WACTOR_MAX_TYPE_LEN 64u

/* Bytes of an actor id. */
#define WACTOR_MAX_ID_LEN 256u

/* Actors one actor may watch at once. */
#define WACTOR_MAX_WATCHES 100u

/* Actors that may watch one actor at once. */
#define WACTOR_MAX_WATCHERS 1000u

/* Bytes of a topic's name. */
#define WACTOR_MAX_TOPIC_LEN 256u

/* Topics one actor may subscribe to. */
#define WACTOR_MAX_SUBSCRIPTIONS 100u

/* Turns that may run nested in one activation's waiting turns at once (reentrant types). */
#define WACTOR_MAX_NESTING 16u

#endif
