/*
 * conformance: the C SDK's ABI conformance actor. It implements the contract
 * of docs/conformance.md, as the conformance actor of every other SDK does,
 * and the Go test package conformance/ checks them all with the same
 * scenarios.
 *
 *   echo                                           -> the payload, unchanged
 *   fail {"code", "message"}                       -> that application error
 *   set {"key", "value"}                           -> {}  stores value's CBOR
 *   get {"key"}                                    -> {"value": v} or {}
 *   delete {"key"}                                 -> {}
 *   set_then_fail {"key", "value"}                 -> sets, then fails "refused"
 *   tell {"to", "method", "payload"?}              -> {}
 *   forward {"to", "method", "payload"?}           -> the reply of "to" to the forwarded ask
 *   ask {"to", "method", "payload"?, "timeout_ms"?} -> {"reply": r}, or the callee's error
 *   set_then_ask {"key", "value", "to", "method", "payload"?, "timeout_ms"?, "fail"?}
 *                                                  -> sets, then as ask; fails with code "fail" if given
 *   whoami                                         -> {"self", "sender", "id"}
 *   log {"level", "message"}                       -> {}
 *   deactivate                                     -> {}  and asks to be deactivated
 *   sized {"size": n}                              -> {"data": n bytes, byte i being i mod 256}
 *   timer {"name", "due_ms"?, "period_ms"?, "method", "payload"?} -> {}
 *   cancel_timer {"name"}                          -> {}
 *   reminder {"name", "in_ms"?, "at_unix_ms"?, "every_ms"?, "first_ms"?, "cron"?,
 *             "method", "payload"?, "missed"?}     -> {}
 *   cancel_reminder {"name"}                       -> {}
 *
 * Any other method is answered by the SDK with unknown_method.
 */
#include <stdlib.h>

#include "wactor.h"

/* sized's bound, so that a careless caller gets bad_request rather than a
 * guest out of memory. */
#define MAX_SIZED (16 << 20)

/* Strings for the host calls must be NUL-terminated; a payload's text is
 * not. A handler keeps them in these buffers, freed when it returns. */
typedef struct {
	wactor_buf key, to, method, text, name, cron, missed;
} strings;

static void strings_free(strings *s)
{
	wactor_buf_free(&s->key);
	wactor_buf_free(&s->to);
	wactor_buf_free(&s->method);
	wactor_buf_free(&s->text);
	wactor_buf_free(&s->name);
	wactor_buf_free(&s->cron);
	wactor_buf_free(&s->missed);
}

/* Copies the text under name into dst as a C string; *out points at it. */
static int text_field(const wactor_msg *msg, const char *name, wactor_buf *dst, const char **out)
{
	const char *s;
	size_t n;
	int st = wactor_map_text(msg->payload, msg->payload_len, name, &s, &n);
	if (st != WACTOR_OK)
		return st;
	wactor_buf_reset(dst);
	wactor_buf_append(dst, s, n);
	*out = wactor_buf_cstr(dst);
	return WACTOR_OK;
}

/* The encoding of the item under name. */
static int raw_field(const wactor_msg *msg, const char *name, const uint8_t **p, size_t *n)
{
	wactor_reader v;
	int st = wactor_map_find(msg->payload, msg->payload_len, name, &v);
	if (st != WACTOR_OK)
		return st;
	return wactor_read_raw(&v, p, n) ? WACTOR_OK : WACTOR_ERR;
}

/* An optional unsigned integer under name, 0 when absent. It may need all
 * 64 bits (at_unix_ms), so it is not read as an int64. */
static int uint_field(const wactor_msg *msg, const char *name, uint64_t *v)
{
	wactor_reader r;
	int64_t i;
	*v = 0;
	int st = wactor_map_find(msg->payload, msg->payload_len, name, &r);
	if (st == WACTOR_NOT_FOUND)
		return WACTOR_OK;
	if (st == WACTOR_OK && wactor_read_uint(&r, v))
		return WACTOR_OK;
	/* a float with an integral value, as for the other integers */
	if (wactor_map_int(msg->payload, msg->payload_len, name, &i) == WACTOR_OK && i >= 0) {
		*v = (uint64_t)i;
		return WACTOR_OK;
	}
	return WACTOR_ERR;
}

/* An optional text under name; *out is NULL when absent. */
static int opt_text_field(const wactor_msg *msg, const char *name, wactor_buf *dst, const char **out)
{
	*out = NULL;
	int st = text_field(msg, name, dst, out);
	return st == WACTOR_NOT_FOUND ? WACTOR_OK : st;
}

static int need(const char *method, const char *what)
{
	wactor_buf reason = WACTOR_BUF_INIT;
	wactor_buf_append_str(&reason, method);
	wactor_buf_append_str(&reason, " needs ");
	wactor_buf_append_str(&reason, what);
	int st = wactor_fail("bad_request", wactor_buf_cstr(&reason));
	wactor_buf_free(&reason);
	return st;
}

static int empty(wactor_buf *reply)
{
	wactor_cbor_map(reply, 0);
	return WACTOR_OK;
}

/* echo: the payload back, byte for byte. */
static int echo(const wactor_msg *msg, wactor_buf *reply)
{
	if (msg->payload_len)
		wactor_cbor_raw(reply, msg->payload, msg->payload_len);
	return WACTOR_OK;
}

static int fail(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *code, *message = "";
	(void)reply;
	if (text_field(msg, "code", &s.key, &code) != WACTOR_OK || !*code) {
		strings_free(&s);
		return need("fail", "a non-empty text \"code\"");
	}
	if (text_field(msg, "message", &s.text, &message) == WACTOR_ERR)
		message = "";
	int st = wactor_fail(code, message); /* copies both */
	strings_free(&s);
	return st;
}

/* set and set_then_fail: {"key": text, "value": any item}. */
static int store(const char *method, const wactor_msg *msg)
{
	strings s = {0};
	const char *key;
	const uint8_t *value;
	size_t n;
	if (text_field(msg, "key", &s.key, &key) != WACTOR_OK)
		return need(method, "a text \"key\"");
	if (raw_field(msg, "value", &value, &n) != WACTOR_OK) {
		strings_free(&s);
		return need(method, "a \"value\"");
	}
	int st = wactor_state_set(key, value, n);
	strings_free(&s);
	return st;
}

static int set(const wactor_msg *msg, wactor_buf *reply)
{
	if (store("set", msg) != WACTOR_OK)
		return WACTOR_ERR;
	return empty(reply);
}

static int set_then_fail(const wactor_msg *msg, wactor_buf *reply)
{
	(void)reply;
	if (store("set_then_fail", msg) != WACTOR_OK)
		return WACTOR_ERR;
	return wactor_fail("refused", "set_then_fail wrote its key and refused");
}

static int get(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *key;
	if (text_field(msg, "key", &s.key, &key) != WACTOR_OK)
		return need("get", "a text \"key\"");
	wactor_buf value = WACTOR_BUF_INIT;
	int st = wactor_state_get(key, &value);
	strings_free(&s);
	if (st == WACTOR_OK) {
		wactor_cbor_map(reply, 1);
		wactor_cbor_text(reply, "value");
		wactor_cbor_raw(reply, value.data, value.len);
	} else if (st == WACTOR_NOT_FOUND) {
		st = empty(reply);
	}
	wactor_buf_free(&value);
	return st;
}

static int delete(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *key;
	if (text_field(msg, "key", &s.key, &key) != WACTOR_OK)
		return need("delete", "a text \"key\"");
	int st = wactor_state_delete(key);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

/* tell and ask: {"to": text, "method": text, "payload": any item?}. */
static int call_fields(const char *method, const wactor_msg *msg, strings *s, const char **to,
                       const char **m, const uint8_t **payload, size_t *n)
{
	if (text_field(msg, "to", &s->to, to) != WACTOR_OK)
		return need(method, "a text \"to\"");
	if (text_field(msg, "method", &s->method, m) != WACTOR_OK)
		return need(method, "a text \"method\"");
	*payload = NULL;
	*n = 0;
	if (raw_field(msg, "payload", payload, n) == WACTOR_ERR)
		return need(method, "a well-formed \"payload\"");
	return WACTOR_OK;
}

static int tell(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *to, *method;
	const uint8_t *payload;
	size_t n;
	int st = call_fields("tell", msg, &s, &to, &method, &payload, &n);
	if (st == WACTOR_OK)
		st = wactor_tell(to, method, payload, n);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

/* forward: the reply of "to" answers the asker; this one's is dropped. */
static int forward(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *to, *method;
	const uint8_t *payload;
	size_t n;
	int st = call_fields("forward", msg, &s, &to, &method, &payload, &n);
	if (st == WACTOR_OK)
		st = wactor_forward(to, method, payload, n);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

/* ask: asks like the ask method; set_then_ask first stores its item. */
static int do_ask(const char *name, const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *to, *method;
	const uint8_t *payload;
	size_t n;
	int64_t timeout_ms = 0;
	int st = call_fields(name, msg, &s, &to, &method, &payload, &n);
	if (st != WACTOR_OK) {
		strings_free(&s);
		return WACTOR_ERR;
	}
	st = wactor_map_int(msg->payload, msg->payload_len, "timeout_ms", &timeout_ms);
	if (st == WACTOR_ERR || timeout_ms < 0 || timeout_ms > UINT32_MAX) {
		strings_free(&s);
		return need(name, "an integer \"timeout_ms\" >= 0, if any");
	}
	wactor_buf answer = WACTOR_BUF_INIT;
	st = wactor_ask(to, method, payload, n, (uint32_t)timeout_ms, &answer);
	strings_free(&s);
	if (st == WACTOR_OK) {
		/* The pending error is the callee's or the host's otherwise: it
		 * becomes this turn's answer, code and message unchanged. */
		wactor_cbor_map(reply, 1);
		wactor_cbor_text(reply, "reply");
		if (answer.len)
			wactor_cbor_raw(reply, answer.data, answer.len);
		else
			wactor_cbor_null(reply);
	}
	wactor_buf_free(&answer);
	return st;
}

static int ask(const wactor_msg *msg, wactor_buf *reply) { return do_ask("ask", msg, reply); }

/* set_then_ask: stores "value" under "key" (as set), then asks (as ask);
 * when the ask succeeded and "fail" is present, fails with that code. Its
 * asker re-entering this actor on the call chain sees the stored item. */
static int set_then_ask(const wactor_msg *msg, wactor_buf *reply)
{
	if (store("set_then_ask", msg) != WACTOR_OK)
		return WACTOR_ERR;
	strings s = {0};
	const char *code = NULL;
	int st = opt_text_field(msg, "fail", &s.text, &code);
	if (st == WACTOR_ERR || (code && !*code)) {
		strings_free(&s);
		return need("set_then_ask", "a non-empty text \"fail\", if any");
	}
	if (do_ask("set_then_ask", msg, reply) != WACTOR_OK) {
		strings_free(&s);
		return WACTOR_ERR;
	}
	if (code) {
		wactor_fail(code, "set_then_ask was told to fail after its ask");
		strings_free(&s);
		return WACTOR_ERR;
	}
	strings_free(&s);
	return WACTOR_OK;
}

static int whoami(const wactor_msg *msg, wactor_buf *reply)
{
	const char *self = wactor_self();
	wactor_cbor_map(reply, 3);
	wactor_cbor_text(reply, "self");
	wactor_cbor_text(reply, self ? self : "");
	wactor_cbor_text(reply, "sender");
	wactor_cbor_textn(reply, msg->sender, msg->sender_len);
	wactor_cbor_text(reply, "id");
	wactor_cbor_textn(reply, msg->id, msg->id_len);
	return WACTOR_OK;
}

static int log_message(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	int64_t level;
	const char *text;
	if (wactor_map_int(msg->payload, msg->payload_len, "level", &level) != WACTOR_OK)
		return need("log", "an integer \"level\"");
	if (text_field(msg, "message", &s.text, &text) != WACTOR_OK)
		return need("log", "a text \"message\"");
	wactor_log((int)level, text);
	strings_free(&s);
	return empty(reply);
}

static int deactivate(const wactor_msg *msg, wactor_buf *reply)
{
	(void)msg;
	wactor_deactivate();
	return empty(reply);
}

static int sized(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t size;
	if (wactor_map_int(msg->payload, msg->payload_len, "size", &size) != WACTOR_OK ||
	    size < 0 || size > MAX_SIZED)
		return need("sized", "an integer \"size\" from 0 to 16777216");
	uint8_t *data = malloc(size ? (size_t)size : 1);
	if (!data)
		return wactor_fail("memory_exhausted", "sized could not allocate its answer");
	for (int64_t i = 0; i < size; i++)
		data[i] = (uint8_t)i;
	wactor_cbor_map(reply, 1);
	wactor_cbor_text(reply, "data");
	wactor_cbor_bytes(reply, data, (size_t)size);
	free(data);
	return WACTOR_OK;
}

/* timer and reminder: {"name": text, "method": text, "payload": any item?}. */
static int scheduled_fields(const char *method, const wactor_msg *msg, strings *s, const char **name,
                            const char **m, const uint8_t **payload, size_t *n)
{
	if (text_field(msg, "name", &s->name, name) != WACTOR_OK)
		return need(method, "a text \"name\"");
	if (text_field(msg, "method", &s->method, m) != WACTOR_OK)
		return need(method, "a text \"method\"");
	*payload = NULL;
	*n = 0;
	if (raw_field(msg, "payload", payload, n) == WACTOR_ERR)
		return need(method, "a well-formed \"payload\"");
	return WACTOR_OK;
}

static int timer(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *name, *method;
	const uint8_t *payload;
	size_t n;
	uint64_t due_ms, period_ms;
	int st = scheduled_fields("timer", msg, &s, &name, &method, &payload, &n);
	if (st == WACTOR_OK && (uint_field(msg, "due_ms", &due_ms) != WACTOR_OK ||
	                        uint_field(msg, "period_ms", &period_ms) != WACTOR_OK))
		st = need("timer", "integers \"due_ms\" and \"period_ms\" >= 0, if any");
	/* The host's refusal is the pending error: it becomes the answer. */
	if (st == WACTOR_OK)
		st = wactor_timer_set(name, due_ms, period_ms, method, payload, n);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static int reminder(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	wactor_reminder r = {0};
	const uint8_t *payload;
	int st = scheduled_fields("reminder", msg, &s, &r.name, &r.method, &payload, &r.payload_len);
	r.payload = payload;
	if (st == WACTOR_OK && (uint_field(msg, "in_ms", &r.in_ms) != WACTOR_OK ||
	                        uint_field(msg, "at_unix_ms", &r.at_unix_ms) != WACTOR_OK ||
	                        uint_field(msg, "every_ms", &r.every_ms) != WACTOR_OK ||
	                        uint_field(msg, "first_ms", &r.first_ms) != WACTOR_OK))
		st = need("reminder", "integers >= 0 for \"in_ms\", \"at_unix_ms\", \"every_ms\" "
		                      "and \"first_ms\", if any");
	if (st == WACTOR_OK && (opt_text_field(msg, "cron", &s.cron, &r.cron) != WACTOR_OK ||
	                        opt_text_field(msg, "missed", &s.missed, &r.missed) != WACTOR_OK))
		st = need("reminder", "texts for \"cron\" and \"missed\", if any");
	/* Every field goes to the host as given: it refuses two schedules. */
	if (st == WACTOR_OK)
		st = wactor_reminder_set(&r);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

/* cancel_timer and cancel_reminder: {"name": text}. */
static int cancel(const char *method, int (*fn)(const char *), const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *name;
	if (text_field(msg, "name", &s.name, &name) != WACTOR_OK)
		return need(method, "a text \"name\"");
	int st = fn(name);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static int cancel_timer(const wactor_msg *msg, wactor_buf *reply)
{
	return cancel("cancel_timer", wactor_timer_cancel, msg, reply);
}

static int cancel_reminder(const wactor_msg *msg, wactor_buf *reply)
{
	return cancel("cancel_reminder", wactor_reminder_cancel, msg, reply);
}

/* watch and unwatch {"to"}: the host's refusal fails the turn with it. */
static int watch_call(const char *method, int (*fn)(const char *), const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *to;
	if (text_field(msg, "to", &s.name, &to) != WACTOR_OK)
		return need(method, "a text \"to\"");
	int st = fn(to);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static int watch(const wactor_msg *msg, wactor_buf *reply) { return watch_call("watch", wactor_watch, msg, reply); }

static int unwatch(const wactor_msg *msg, wactor_buf *reply)
{
	return watch_call("unwatch", wactor_unwatch, msg, reply);
}

/* A lifecycle message: its payload, byte for byte, under the state key
 * "lifecycle/" + the message id. */
static int deactivated(const wactor_msg *msg, wactor_buf *reply)
{
	(void)reply;
	wactor_buf key = WACTOR_BUF_INIT;
	wactor_buf_append_str(&key, "lifecycle/");
	wactor_buf_append(&key, msg->id, msg->id_len);
	int st = wactor_state_set(wactor_buf_cstr(&key), msg->payload, msg->payload_len);
	wactor_buf_free(&key);
	return st;
}

/* publish {"topic", "payload"?}, subscribe {"topic", "method"},
 * unsubscribe {"topic"}: the host's refusal fails the turn with it. */
static int publish(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *topic;
	const uint8_t *p = NULL;
	size_t n = 0;
	if (text_field(msg, "topic", &s.name, &topic) != WACTOR_OK)
		return need("publish", "a text \"topic\"");
	if (raw_field(msg, "payload", &p, &n) == WACTOR_ERR) {
		strings_free(&s);
		return need("publish", "a well-formed \"payload\"");
	}
	int st = wactor_publish(topic, p, n);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static int subscribe(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *topic, *method;
	if (text_field(msg, "topic", &s.name, &topic) != WACTOR_OK ||
	    text_field(msg, "method", &s.text, &method) != WACTOR_OK) {
		strings_free(&s);
		return need("subscribe", "a text \"topic\" and \"method\"");
	}
	int st = wactor_subscribe(topic, method);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static int unsubscribe(const wactor_msg *msg, wactor_buf *reply)
{
	strings s = {0};
	const char *topic;
	if (text_field(msg, "topic", &s.name, &topic) != WACTOR_OK)
		return need("unsubscribe", "a text \"topic\"");
	int st = wactor_unsubscribe(topic);
	strings_free(&s);
	return st == WACTOR_OK ? empty(reply) : WACTOR_ERR;
}

static const wactor_method methods[] = {
	{"echo", echo},
	{"fail", fail},
	{"set", set},
	{"get", get},
	{"delete", delete},
	{"set_then_fail", set_then_fail},
	{"tell", tell},
	{"ask", ask},
	{"set_then_ask", set_then_ask},
	{"whoami", whoami},
	{"log", log_message},
	{"deactivate", deactivate},
	{"sized", sized},
	{"timer", timer},
	{"cancel_timer", cancel_timer},
	{"reminder", reminder},
	{"cancel_reminder", cancel_reminder},
	{"watch", watch},
	{"unwatch", unwatch},
	{WACTOR_METHOD_DEACTIVATED, deactivated},
	{"publish", publish},
	{"subscribe", subscribe},
	{"unsubscribe", unsubscribe},
	{"forward", forward},
};

WACTOR_INIT
{
	wactor_handle_methods(methods, sizeof methods / sizeof methods[0]);
}
