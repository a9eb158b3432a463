/*
 * wactor.h - C guest SDK for the wactor virtual-actor runtime, ABI version 1.
 *
 * Compile wactor.c together with your actor (not as a static library: the
 * exports wactor_abi_version, wactor_alloc and wactor_handle live in it):
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
 *         -I guest-sdk/c -o counter.wasm counter.c guest-sdk/c/wactor.c
 *
 * An actor registers one handler per method, usually from a constructor
 * (which the reactor's _initialize runs):
 *
 *   static int add(const wactor_msg *msg, wactor_buf *reply) { ... }
 *   WACTOR_INIT { wactor_handle_method("add", add); }
 *
 * A handler reads msg->payload (opaque CBOR; JSON-shaped when it came through
 * the HTTP gateway), writes its answer as CBOR into reply and returns
 * WACTOR_OK, or returns wactor_fail("code", "message") for an application
 * error. A state call the host refuses fails the whole turn (see
 * wactor_turn_failed). Everything runs on one thread; nothing is thread-safe.
 *
 * Conventions: functions that talk to the host return WACTOR_OK,
 * WACTOR_NOT_FOUND (state only) or WACTOR_ERR; on WACTOR_ERR the host's error
 * code and message are the pending error (wactor_error_code()), so a handler
 * can pass a failure on with `return WACTOR_ERR;`.
 */
#ifndef WACTOR_H
#define WACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wactor_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this SDK implements (what wactor_abi_version returns). */
#define WACTOR_ABI_VERSION 1

/* Results of SDK and host calls. WACTOR_OK and WACTOR_NOT_FOUND match the
 * ABI's statuses 0 and 1; WACTOR_ERR stands for any failure. */
enum {
	WACTOR_OK = 0,
	WACTOR_NOT_FOUND = 1,
	WACTOR_ERR = 2
};

/* Log levels for wactor_log. */
enum {
	WACTOR_LOG_DEBUG = 0,
	WACTOR_LOG_INFO = 1,
	WACTOR_LOG_WARN = 2,
	WACTOR_LOG_ERROR = 3
};

/* Request kinds (wactor_msg.kind). */
enum {
	WACTOR_KIND_MESSAGE = 0,
	WACTOR_KIND_ACTIVATE = 1,
	WACTOR_KIND_DEACTIVATE = 2
};

/* ------------------------------------------------------------------------
 * Byte buffers
 *
 * A wactor_buf is either growable (zero-initialised with WACTOR_BUF_INIT,
 * heap-backed, freed with wactor_buf_free; running out of memory traps the
 * guest, which the host reports as a broken turn) or fixed (over memory the
 * caller provides, wactor_buf_init_fixed; a write that does not fit is
 * dropped and sets the sticky overflow flag, see wactor_buf_ok).
 * ------------------------------------------------------------------------ */
typedef struct wactor_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool fixed;
	bool overflow;
} wactor_buf;

#define WACTOR_BUF_INIT {0}

void wactor_buf_init_fixed(wactor_buf *b, void *mem, size_t cap);
/* Empties b (keeping its memory) and clears its overflow flag. */
void wactor_buf_reset(wactor_buf *b);
/* Frees a growable buffer's memory and empties it; a no-op on fixed ones. */
void wactor_buf_free(wactor_buf *b);
/* False if a write to a fixed buffer did not fit. */
bool wactor_buf_ok(const wactor_buf *b);
void wactor_buf_append(wactor_buf *b, const void *p, size_t n);
void wactor_buf_append_str(wactor_buf *b, const char *s);
/* Appends v in decimal (for building log and error messages without printf). */
void wactor_buf_append_int(wactor_buf *b, int64_t v);
/* Writes a NUL after the contents (not counted in len) and returns them as a
 * C string; NULL if a fixed buffer has no room for it. */
const char *wactor_buf_cstr(wactor_buf *b);

/* ------------------------------------------------------------------------
 * CBOR writer: appends one item (or one container head) to b, in the
 * shortest form. Containers are definite-length: write the head with the
 * number of items (pairs for a map), then the items.
 * ------------------------------------------------------------------------ */
void wactor_cbor_uint(wactor_buf *b, uint64_t v);
void wactor_cbor_int(wactor_buf *b, int64_t v);
void wactor_cbor_bytes(wactor_buf *b, const void *p, size_t n);
void wactor_cbor_text(wactor_buf *b, const char *s); /* NUL-terminated, UTF-8 */
void wactor_cbor_textn(wactor_buf *b, const char *s, size_t n);
void wactor_cbor_array(wactor_buf *b, size_t n);
void wactor_cbor_map(wactor_buf *b, size_t pairs);
void wactor_cbor_bool(wactor_buf *b, bool v);
void wactor_cbor_null(wactor_buf *b);
void wactor_cbor_double(wactor_buf *b, double v); /* always 8-byte float */
/* Appends n bytes that already are CBOR (one or more whole items). */
void wactor_cbor_raw(wactor_buf *b, const void *p, size_t n);

/* ------------------------------------------------------------------------
 * CBOR reader: reads items one at a time from a byte range. It never reads
 * past the range, rejects indefinite lengths and reserved heads, accepts any
 * head width. Every read returns false and leaves the reader where it was
 * when the next item is not of the asked kind or is malformed. Strings it
 * returns point into the input (text is not NUL-terminated).
 * ------------------------------------------------------------------------ */
typedef struct wactor_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
} wactor_reader;

typedef enum wactor_cbor_kind {
	WACTOR_CBOR_INVALID = 0, /* end of input or a malformed head */
	WACTOR_CBOR_UINT,
	WACTOR_CBOR_NEGINT,
	WACTOR_CBOR_BYTES,
	WACTOR_CBOR_TEXT,
	WACTOR_CBOR_ARRAY,
	WACTOR_CBOR_MAP,
	WACTOR_CBOR_TAG,
	WACTOR_CBOR_BOOL,
	WACTOR_CBOR_NULL, /* null or undefined */
	WACTOR_CBOR_FLOAT
} wactor_cbor_kind;

void wactor_reader_init(wactor_reader *r, const void *p, size_t n);
size_t wactor_reader_remaining(const wactor_reader *r);
wactor_cbor_kind wactor_read_kind(const wactor_reader *r);
bool wactor_read_uint(wactor_reader *r, uint64_t *v);
bool wactor_read_int(wactor_reader *r, int64_t *v); /* must fit int64 */
bool wactor_read_bytes(wactor_reader *r, const uint8_t **p, size_t *n);
bool wactor_read_text(wactor_reader *r, const char **s, size_t *n);
bool wactor_read_array(wactor_reader *r, size_t *n); /* item count */
bool wactor_read_map(wactor_reader *r, size_t *pairs);
bool wactor_read_tag(wactor_reader *r, uint64_t *tag);
bool wactor_read_bool(wactor_reader *r, bool *v);
bool wactor_read_null(wactor_reader *r);
/* A half, single or double float, or an integer, as a double. */
bool wactor_read_double(wactor_reader *r, double *v);
/* Consumes the next item with everything nested in it (no recursion). */
bool wactor_skip(wactor_reader *r);
/* Consumes the next item and returns its encoding. */
bool wactor_read_raw(wactor_reader *r, const uint8_t **p, size_t *n);
/* True if p holds exactly one well-formed item. */
bool wactor_cbor_valid(const void *p, size_t n);

/* ------------------------------------------------------------------------
 * JSON-shaped payloads: look up a text key in a CBOR map such as the one the
 * gateway makes of {"n": 7}. Each returns WACTOR_OK, WACTOR_NOT_FOUND (no
 * such key; an empty payload counts as an empty map) or WACTOR_ERR (not a
 * map, malformed, or the value has another type). The first of duplicate
 * keys wins.
 * ------------------------------------------------------------------------ */
/* Positions *value at the key's value. */
int wactor_map_find(const void *map, size_t n, const char *key, wactor_reader *value);
/* An integer; a float with an integral value in range is accepted too. */
int wactor_map_int(const void *map, size_t n, const char *key, int64_t *v);
int wactor_map_double(const void *map, size_t n, const char *key, double *v);
int wactor_map_bool(const void *map, size_t n, const char *key, bool *v);
/* Text pointing into the map, not NUL-terminated. */
int wactor_map_text(const void *map, size_t n, const char *key, const char **s, size_t *len);

/* ------------------------------------------------------------------------
 * Records: a C struct as a CBOR map with text keys (a JSON object through
 * the HTTP gateway), described once by a table of its fields, then decoded
 * from a request or encoded into a reply in one call, so that a handler
 * stays a few lines:
 *
 *   typedef struct { int64_t n; } total;
 *   static const wactor_field total_fields[] = {
 *       WACTOR_FIELD(total, n, WACTOR_INT, WACTOR_REQUIRED),
 *   };
 *
 *   static int add(const wactor_msg *msg, wactor_buf *reply)
 *   {
 *       total req;
 *       WACTOR_TRY(WACTOR_DECODE(msg, total_fields, &req));
 *       ...
 *       return WACTOR_ENCODE(reply, total_fields, &req);
 *   }
 *
 * A request that does not decode fails with bad_request, naming the method
 * and the field ("add: field \"n\": expected an integer"). Decoding skips
 * unknown keys and zeroes an optional field that is absent.
 * ------------------------------------------------------------------------ */
typedef enum wactor_field_type {
	WACTOR_INT = 1, /* int64_t; an integral float (7.0) decodes too */
	WACTOR_DOUBLE,  /* double; any number decodes */
	WACTOR_BOOL,    /* bool */
	WACTOR_TEXT     /* a char array, NUL-terminated; longer text is refused */
} wactor_field_type;

enum { WACTOR_OPTIONAL = 0, WACTOR_REQUIRED = 1 };

typedef struct wactor_field {
	const char *key;
	wactor_field_type type;
	size_t offset; /* of the member in the struct */
	size_t size;   /* of the member */
	int required;
} wactor_field;

/* A field whose key is the member's name, or another key. */
#define WACTOR_FIELD(type, member, kind, required) \
	WACTOR_FIELD_KEY(type, member, #member, kind, required)
#define WACTOR_FIELD_KEY(type, member, key, kind, required) \
	{(key), (kind), offsetof(type, member), sizeof(((type *)0)->member), (required)}

/* Decodes p (n bytes; empty is {}) into the struct at out; where names the
 * value in errors (a method, a state key). */
int wactor_decode(const void *p, size_t n, const char *where, const wactor_field *fields, size_t count, void *out);
/* Appends the struct at in as a map of every field. */
int wactor_encode(wactor_buf *b, const wactor_field *fields, size_t count, const void *in);
/* The same for a message's payload and a state value (a missing value
 * decodes as {}: WACTOR_NOT_FOUND, with optional fields zeroed). */
int wactor_state_get_record(const char *key, const wactor_field *fields, size_t count, void *out);
int wactor_state_set_record(const char *key, const wactor_field *fields, size_t count, const void *in);

#define WACTOR_FIELDS(fields) (fields), (sizeof(fields) / sizeof((fields)[0]))
#define WACTOR_DECODE(msg, fields, out) \
	wactor_decode((msg)->payload, (msg)->payload_len, (msg)->method, WACTOR_FIELDS(fields), (out))
#define WACTOR_ENCODE(reply, fields, in) wactor_encode((reply), WACTOR_FIELDS(fields), (in))
/* Returns WACTOR_ERR from the handler when call fails (WACTOR_NOT_FOUND is
 * not a failure). */
#define WACTOR_TRY(call)                          \
	do {                                      \
		if ((call) == WACTOR_ERR)         \
			return WACTOR_ERR;        \
	} while (0)

/* ------------------------------------------------------------------------
 * Handlers
 * ------------------------------------------------------------------------ */
typedef struct wactor_msg {
	int kind;                 /* WACTOR_KIND_* */
	const char *method;       /* NUL-terminated; "" for activate/deactivate */
	size_t method_len;
	const uint8_t *payload;   /* the user's CBOR; NULL when absent */
	size_t payload_len;
	const char *sender;       /* "type/id" of the sending actor; "" from outside */
	size_t sender_len;
	const char *id;           /* the message id; "" when absent */
	size_t id_len;
} wactor_msg;

/* A handler writes its reply payload (CBOR) into reply and returns WACTOR_OK,
 * or returns an error (see wactor_fail). A successful reply with nothing
 * written carries no payload. msg and everything it points to are valid only
 * during the call. */
typedef int (*wactor_handler)(const wactor_msg *msg, wactor_buf *reply);

typedef struct wactor_method {
	const char *name;
	wactor_handler fn;
} wactor_method;

/* Registers fn for method name (which must stay valid: a string literal).
 * Registering a name again replaces its handler; fn NULL removes it. */
void wactor_handle_method(const char *name, wactor_handler fn);
/* Registers every entry of a table; stops early at an entry whose name is
 * NULL, so a table may end with {0}. */
void wactor_handle_methods(const wactor_method *table, size_t n);
/* Optional hooks for activation (state loaded) and deactivation. Without a
 * hook the SDK answers with an empty success reply. */
void wactor_on_activate(wactor_handler fn);
void wactor_on_deactivate(wactor_handler fn);

/* Defines a constructor, run by _initialize before the first message:
 *   WACTOR_INIT { wactor_handle_method("add", add); } */
#define WACTOR_INIT                                                        \
	static void wactor_user_init_(void) __attribute__((constructor));  \
	static void wactor_user_init_(void)

/* ------------------------------------------------------------------------
 * Errors. One pending error (code and message) per guest: wactor_fail sets
 * it, a failing host call sets it to the host's error, and when a handler
 * returns anything but WACTOR_OK the reply carries it. It is cleared before
 * each message.
 * ------------------------------------------------------------------------ */
/* Sets the pending error and returns WACTOR_ERR, so a handler can write
 * `return wactor_fail("insufficient_funds", "balance is 3");`. The strings are
 * copied. An empty or NULL code becomes "error" (as does a handler that
 * fails with no pending error). */
int wactor_fail(const char *code, const char *message);
/* The pending error's code and message; "" when there is none. */
const char *wactor_error_code(void);
const char *wactor_error_message(void);
void wactor_clear_error(void);
/* True once the host refused a state call (get, set or delete) in the
 * current turn. Such a turn fails with that first error whatever the handler
 * returns, so no partial state is ever committed. */
bool wactor_turn_failed(void);

/* ------------------------------------------------------------------------
 * Host calls. Strings are NUL-terminated UTF-8; targets are "type/id".
 * ------------------------------------------------------------------------ */
/* Sends a one-way message, delivered after this turn commits. payload may be
 * NULL (no payload). */
int wactor_tell(const char *target, const char *method, const void *payload, size_t n);
/* Forwards the ask this turn handles to target: target's reply to method
 * with payload answers the original asker, and this handler's own reply is
 * dropped. It leaves when the turn commits, like a tell; the asker's
 * deadline still holds. WACTOR_ERR when the message is not an ask, the turn
 * already forwarded, or the target is malformed or of an unknown type. */
int wactor_forward(const char *target, const char *method, const void *payload, size_t n);
/* Sends a message and waits for the answer, whose payload replaces the
 * contents of reply (which may be NULL to drop it). timeout_ms 0 means the
 * host's default. */
int wactor_ask(const char *target, const char *method, const void *payload, size_t n,
               uint32_t timeout_ms, wactor_buf *reply);

/* State: values are bytes (CBOR by convention); writes are buffered by the
 * host and committed with the turn. wactor_state_get replaces the contents of
 * value and returns WACTOR_NOT_FOUND when the key has no value. */
int wactor_state_get(const char *key, wactor_buf *value);
int wactor_state_set(const char *key, const void *value, size_t n);
int wactor_state_delete(const char *key);
/* A state value holding one CBOR integer. wactor_state_get_int leaves *v
 * alone on WACTOR_NOT_FOUND and fails with code "bad_state" when the value is
 * not a single integer. */
int wactor_state_get_int(const char *key, int64_t *v);
int wactor_state_set_int(const char *key, int64_t v);

/* This actor's own "type/id" (asked once, then cached); NULL on failure. */
const char *wactor_self(void);
int wactor_log(int level, const char *message);
/* Asks the host to deactivate this actor once the current turn ends. */
int wactor_deactivate(void);

/* ------------------------------------------------------------------------
 * Timers and reminders. Like state writes they take effect only when the
 * turn commits; a failed turn sets and cancels nothing. A tick or firing is
 * a message without a sender (msg->sender is ""), handled as a turn of its
 * own. Setting a name that is set replaces it; cancelling a name that is
 * not set is not an error. Names are 1 to 256 bytes of UTF-8; the host
 * refuses bad arguments with bad_request (see docs/ABI.md 4.8 and 4.9).
 * ------------------------------------------------------------------------ */
/* A volatile timer: delivers method with payload (NULL: none) to this
 * activation due_ms after the commit (0: at once), then every period_ms
 * (0: once). Timers die with the activation; use a reminder for anything
 * that must survive. */
int wactor_timer_set(const char *name, uint64_t due_ms, uint64_t period_ms, const char *method,
                     const void *payload, size_t n);
int wactor_timer_cancel(const char *name);

/* Missed-tick policies (wactor_reminder.missed). */
#define WACTOR_MISSED_CATCH_UP "catch_up" /* fire once when the host is back (default) */
#define WACTOR_MISSED_SKIP "skip"         /* drop ticks that came due while no host ran */

/* A durable reminder. Give at most one schedule: in_ms, at_unix_ms,
 * every_ms (with first_ms, the delay to its first tick, default every_ms)
 * or cron (UTC, as in crontab(5), or @daily and the like); with none it
 * fires once, as soon as possible. Zero numbers and NULL or empty strings
 * count as absent. Build one with a designated initializer:
 *
 *   wactor_reminder r = {.name = "daily", .cron = "0 9 * * *",
 *                        .method = "report", .missed = WACTOR_MISSED_SKIP};
 *   if (wactor_reminder_set(&r) != WACTOR_OK) return WACTOR_ERR;
 */
typedef struct wactor_reminder {
	const char *name;
	uint64_t in_ms;      /* once, this long after the turn */
	uint64_t at_unix_ms; /* once, at this Unix time in milliseconds */
	uint64_t every_ms;   /* periodically */
	uint64_t first_ms;   /* with every_ms only */
	const char *cron;    /* a cron expression */
	const char *method;
	const void *payload; /* CBOR; NULL: none */
	size_t payload_len;
	const char *missed; /* WACTOR_MISSED_*; NULL: the host's default, catch_up */
} wactor_reminder;

/* Stores the reminder with the turn's commit; it survives restarts and
 * activates the actor when it fires. */
int wactor_reminder_set(const wactor_reminder *r);
int wactor_reminder_cancel(const char *name);

/* ------------------------------------------------------------------------
 * Watches (docs/ABI.md, "watch and unwatch"). wactor_watch makes this actor
 * a watcher of target ("type/id") when the turn commits: each time target
 * deactivates, for any reason, the host tells this actor with one message
 * to the method WACTOR_METHOD_DEACTIVATED, sent by target, whose payload is
 * {"ref": "type/id", "reason": text} (one of the WACTOR_REASON_*). Register
 * a handler for it with wactor_handle. A watch lasts until wactor_unwatch,
 * across restarts; watching an actor that is not active tells nothing until
 * it next deactivates. An actor may watch at most WACTOR_MAX_WATCHES actors
 * and be watched by at most WACTOR_MAX_WATCHERS; it cannot watch itself.
 * Unwatching an actor not watched is not an error.
 * ------------------------------------------------------------------------ */
#define WACTOR_METHOD_DEACTIVATED "wactor:deactivated"
#define WACTOR_REASON_IDLE "idle"
#define WACTOR_REASON_REQUESTED "requested"
#define WACTOR_REASON_EVICTED "evicted"
#define WACTOR_REASON_SHUTDOWN "shutdown"
#define WACTOR_REASON_FAILED "failed"
#define WACTOR_REASON_REDEPLOYED "redeployed"
#define WACTOR_REASON_LOST "lost"
int wactor_watch(const char *target);
int wactor_unwatch(const char *target);

/* ------------------------------------------------------------------------
 * Topics (docs/ABI.md, "publish, subscribe, unsubscribe"). wactor_publish
 * publishes payload (CBOR; NULL: none) to topic when the turn commits;
 * every subscriber then gets it once, as a tell to the method it
 * subscribed with, sent by this actor. wactor_subscribe subscribes this
 * actor to topic (durable, until wactor_unsubscribe); at most
 * WACTOR_MAX_SUBSCRIPTIONS topics. A topic is 1 to WACTOR_MAX_TOPIC_LEN
 * bytes, segments separated by dots, without spaces, '*' or '>'.
 * ------------------------------------------------------------------------ */
int wactor_publish(const char *topic, const void *payload, size_t n);
int wactor_subscribe(const char *topic, const char *method);
int wactor_unsubscribe(const char *topic);

#ifdef __cplusplus
}
#endif

#endif /* WACTOR_H */
