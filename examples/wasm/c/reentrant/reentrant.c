/*
 * reentrant: a C actor for a type with reentrant: call_chain (see
 * docs/manifest.md, "Call-chain reentrancy"). The host's tests use it to
 * show what a nested call may do; it also shows the one thing a reentrant
 * handler must mind: that what it keeps across an ask is its own.
 *
 *   get {"key"}                       -> {"value": v} or {}
 *   set {"key", "value"}              -> {}   stores value's CBOR
 *   set_then_fail {"key", "value"}    -> stores, then fails with "refused"
 *   tell {"to", "method", "payload"?} -> {}   sends a tell with the turn
 *   try_ask {"key", "value", "to", "method", "payload"?}
 *       -> stores, asks, and answers {"reply": r}, or {"error": code} when
 *          the ask failed: unlike ask in the conformance actor, the turn
 *          goes on after a failed ask (and commits its write)
 *   trap                              -> traps: the instance is broken
 *   spin                              -> loops until the host stops it (its
 *                                        turn's execution limit)
 *
 * Nested in a waiting try_ask (its callee asks this actor back), get sees
 * try_ask's write, set and tell join its turn, set_then_fail's write is
 * dropped while try_ask goes on, and trap and spin break the instance, so
 * that try_ask fails too.
 */
#include <stdlib.h>

#include "wactor.h"

/* A text field as a C string, in dst (the caller frees it). */
static int text(const wactor_msg *msg, const char *name, wactor_buf *dst, const char **out)
{
	const char *s;
	size_t n;
	int st = wactor_map_text(msg->payload, msg->payload_len, name, &s, &n);
	if (st != WACTOR_OK)
		return st;
	wactor_buf_reset(dst);
	wactor_buf_append(dst, s, n);
	*out = wactor_buf_cstr(dst);
	return *out ? WACTOR_OK : WACTOR_ERR;
}

static int bad(const char *what) { return wactor_fail("bad_request", what); }

/* Stores "value" under "key". */
static int store(const wactor_msg *msg)
{
	wactor_buf key = WACTOR_BUF_INIT;
	const char *k;
	wactor_reader value;
	int st = text(msg, "key", &key, &k);
	if (st == WACTOR_OK && wactor_map_find(msg->payload, msg->payload_len, "value", &value) == WACTOR_OK) {
		const uint8_t *p;
		size_t n;
		st = wactor_read_raw(&value, &p, &n) ? wactor_state_set(k, p, n) : bad("a well-formed \"value\"");
	} else if (st == WACTOR_OK) {
		st = bad("a \"value\"");
	} else {
		st = bad("a text \"key\"");
	}
	wactor_buf_free(&key);
	return st;
}

static int get(const wactor_msg *msg, wactor_buf *reply)
{
	wactor_buf key = WACTOR_BUF_INIT, value = WACTOR_BUF_INIT;
	const char *k;
	if (text(msg, "key", &key, &k) != WACTOR_OK)
		return bad("a text \"key\"");
	int st = wactor_state_get(k, &value);
	if (st == WACTOR_OK) {
		wactor_cbor_map(reply, 1);
		wactor_cbor_text(reply, "value");
		wactor_cbor_raw(reply, value.data, value.len);
	} else if (st == WACTOR_NOT_FOUND) {
		wactor_cbor_map(reply, 0);
		st = WACTOR_OK;
	}
	wactor_buf_free(&key);
	wactor_buf_free(&value);
	return st;
}

static int set(const wactor_msg *msg, wactor_buf *reply)
{
	WACTOR_TRY(store(msg));
	wactor_cbor_map(reply, 0);
	return WACTOR_OK;
}

static int set_then_fail(const wactor_msg *msg, wactor_buf *reply)
{
	(void)reply;
	WACTOR_TRY(store(msg));
	return wactor_fail("refused", "set_then_fail stored its value and refused");
}

/* The target, method and optional payload of tell and try_ask. */
static int address(const wactor_msg *msg, wactor_buf *to, wactor_buf *method, const char **t, const char **m,
                   const uint8_t **p, size_t *n)
{
	if (text(msg, "to", to, t) != WACTOR_OK || text(msg, "method", method, m) != WACTOR_OK)
		return bad("a text \"to\" and \"method\"");
	wactor_reader r;
	*p = NULL;
	*n = 0;
	if (wactor_map_find(msg->payload, msg->payload_len, "payload", &r) == WACTOR_OK && !wactor_read_raw(&r, p, n))
		return bad("a well-formed \"payload\"");
	return WACTOR_OK;
}

static int tell(const wactor_msg *msg, wactor_buf *reply)
{
	wactor_buf to = WACTOR_BUF_INIT, method = WACTOR_BUF_INIT;
	const char *t, *m;
	const uint8_t *p;
	size_t n;
	int st = address(msg, &to, &method, &t, &m, &p, &n);
	if (st == WACTOR_OK)
		st = wactor_tell(t, m, p, n);
	wactor_buf_free(&to);
	wactor_buf_free(&method);
	if (st == WACTOR_OK)
		wactor_cbor_map(reply, 0);
	return st;
}

static int try_ask(const wactor_msg *msg, wactor_buf *reply)
{
	WACTOR_TRY(store(msg));
	wactor_buf to = WACTOR_BUF_INIT, method = WACTOR_BUF_INIT, answer = WACTOR_BUF_INIT;
	const char *t, *m;
	const uint8_t *p;
	size_t n;
	int st = address(msg, &to, &method, &t, &m, &p, &n);
	if (st == WACTOR_OK) {
		/* answer is this call's own buffer: a nested call, running while
		 * the ask waits, cannot touch it. */
		wactor_cbor_map(reply, 1);
		if (wactor_ask(t, m, p, n, 0, &answer) == WACTOR_OK) {
			wactor_cbor_text(reply, "reply");
			if (answer.len)
				wactor_cbor_raw(reply, answer.data, answer.len);
			else
				wactor_cbor_null(reply);
		} else {
			wactor_cbor_text(reply, "error");
			wactor_cbor_text(reply, wactor_error_code());
			wactor_clear_error();
		}
	}
	wactor_buf_free(&to);
	wactor_buf_free(&method);
	wactor_buf_free(&answer);
	return st;
}

static int trap(const wactor_msg *msg, wactor_buf *reply)
{
	(void)msg;
	(void)reply;
	__builtin_trap();
}

static int spin(const wactor_msg *msg, wactor_buf *reply)
{
	(void)msg;
	(void)reply;
	for (volatile unsigned long i = 0;; i++)
		;
}

WACTOR_INIT
{
	wactor_handle_method("get", get);
	wactor_handle_method("set", set);
	wactor_handle_method("set_then_fail", set_then_fail);
	wactor_handle_method("tell", tell);
	wactor_handle_method("try_ask", try_ask);
	wactor_handle_method("trap", trap);
	wactor_handle_method("spin", spin);
}
