/*
 * wactor.c - C guest SDK for the wactor virtual-actor runtime, ABI version 1.
 * See wactor.h for the API and docs/ABI.md for the wire contract.
 */
#include "wactor.h"

#include <stdlib.h>
#include <string.h>

#ifdef __wasm__
#define WACTOR_EXPORT(name) __attribute__((export_name(name)))
#define WACTOR_IMPORT(name) __attribute__((import_module("wactor"), import_name(name)))
#else
/* A native build, for unit tests: the host functions are ordinary ones,
 * defined by the in-memory host of wactortest.c. */
#define WACTOR_EXPORT(name)
#define WACTOR_IMPORT(name)
#endif

/* Host functions: (ptr, len) -> status<<32 | result_len. */
WACTOR_IMPORT("tell") uint64_t wactor_host_tell_(const void *p, size_t n);
WACTOR_IMPORT("ask") uint64_t wactor_host_ask_(const void *p, size_t n);
WACTOR_IMPORT("state_get") uint64_t wactor_host_state_get_(const void *p, size_t n);
WACTOR_IMPORT("state_set") uint64_t wactor_host_state_set_(const void *p, size_t n);
WACTOR_IMPORT("state_delete") uint64_t wactor_host_state_delete_(const void *p, size_t n);
WACTOR_IMPORT("self") uint64_t wactor_host_self_(const void *p, size_t n);
WACTOR_IMPORT("log") uint64_t wactor_host_log_(const void *p, size_t n);
WACTOR_IMPORT("deactivate") uint64_t wactor_host_deactivate_(const void *p, size_t n);
WACTOR_IMPORT("timer_set") uint64_t wactor_host_timer_set_(const void *p, size_t n);
WACTOR_IMPORT("timer_cancel") uint64_t wactor_host_timer_cancel_(const void *p, size_t n);
WACTOR_IMPORT("reminder_set") uint64_t wactor_host_reminder_set_(const void *p, size_t n);
WACTOR_IMPORT("reminder_cancel") uint64_t wactor_host_reminder_cancel_(const void *p, size_t n);
WACTOR_IMPORT("watch") uint64_t wactor_host_watch_(const void *p, size_t n);
WACTOR_IMPORT("unwatch") uint64_t wactor_host_unwatch_(const void *p, size_t n);
WACTOR_IMPORT("publish") uint64_t wactor_host_publish_(const void *p, size_t n);
WACTOR_IMPORT("subscribe") uint64_t wactor_host_subscribe_(const void *p, size_t n);
WACTOR_IMPORT("unsubscribe") uint64_t wactor_host_unsubscribe_(const void *p, size_t n);
WACTOR_IMPORT("forward") uint64_t wactor_host_forward_(const void *p, size_t n);
/* Copies the pending result of the last host call; returns bytes copied. */
WACTOR_IMPORT("result") uint32_t wactor_host_result_(void *p, size_t n);

typedef uint64_t (*host_fn)(const void *, size_t);

/* Statuses in the high half of a host call's result. */
enum { STATUS_OK = 0, STATUS_NOT_FOUND = 1, STATUS_ERROR = 2 };

/* ======================================================================
 * Buffers
 * ====================================================================== */

void wactor_buf_init_fixed(wactor_buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->len = 0;
	b->cap = mem ? cap : 0;
	b->fixed = true;
	b->overflow = false;
}

void wactor_buf_reset(wactor_buf *b)
{
	b->len = 0;
	b->overflow = false;
}

void wactor_buf_free(wactor_buf *b)
{
	if (!b->fixed) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
	b->len = 0;
	b->overflow = false;
}

bool wactor_buf_ok(const wactor_buf *b) { return !b->overflow; }

/* Makes room for n more bytes and returns where they go, or NULL if a fixed
 * buffer is full (then it marks the overflow). A growable buffer that cannot
 * grow traps: the host then discards this instance. */
static uint8_t *reserve(wactor_buf *b, size_t n)
{
	if (b->overflow)
		return NULL;
	if (n <= b->cap - b->len)
		return b->data + b->len;
	if (b->fixed) {
		b->overflow = true;
		return NULL;
	}
	if (n > SIZE_MAX / 2 - b->len)
		__builtin_trap();
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		__builtin_trap();
	b->data = p;
	b->cap = cap;
	return p + b->len;
}

void wactor_buf_append(wactor_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	/* p may point into b itself, which reserve may move */
	const uint8_t *src = p;
	bool inside = b->data && src >= b->data && src < b->data + b->cap;
	size_t at = inside ? (size_t)(src - b->data) : 0;
	uint8_t *d = reserve(b, n);
	if (d) {
		memmove(d, inside ? b->data + at : src, n);
		b->len += n;
	}
}

void wactor_buf_append_str(wactor_buf *b, const char *s)
{
	if (s)
		wactor_buf_append(b, s, strlen(s));
}

void wactor_buf_append_int(wactor_buf *b, int64_t v)
{
	char tmp[21];
	size_t i = sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	wactor_buf_append(b, tmp + i, sizeof tmp - i);
}

const char *wactor_buf_cstr(wactor_buf *b)
{
	uint8_t *d = reserve(b, 1);
	if (!d)
		return NULL;
	*d = 0;
	return (const char *)b->data;
}

/* ======================================================================
 * CBOR writer
 * ====================================================================== */

enum {
	MAJOR_UINT = 0,
	MAJOR_NEGINT = 1,
	MAJOR_BYTES = 2,
	MAJOR_TEXT = 3,
	MAJOR_ARRAY = 4,
	MAJOR_MAP = 5,
	MAJOR_TAG = 6,
	MAJOR_SIMPLE = 7
};

static void put_head(wactor_buf *b, unsigned major, uint64_t v)
{
	uint8_t h[9];
	size_t n;
	uint8_t m = (uint8_t)(major << 5);
	if (v < 24) {
		h[0] = m | (uint8_t)v;
		n = 1;
	} else if (v <= 0xff) {
		h[0] = m | 24;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = m | 25;
		n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] = m | 26;
		n = 5;
	} else {
		h[0] = m | 27;
		n = 9;
	}
	for (size_t i = n - 1; i >= 1; i--) {
		h[i] = (uint8_t)v;
		v >>= 8;
	}
	wactor_buf_append(b, h, n);
}

void wactor_cbor_uint(wactor_buf *b, uint64_t v) { put_head(b, MAJOR_UINT, v); }

void wactor_cbor_int(wactor_buf *b, int64_t v)
{
	if (v >= 0)
		put_head(b, MAJOR_UINT, (uint64_t)v);
	else
		put_head(b, MAJOR_NEGINT, (uint64_t)(-1 - v));
}

void wactor_cbor_bytes(wactor_buf *b, const void *p, size_t n)
{
	put_head(b, MAJOR_BYTES, n);
	wactor_buf_append(b, p, n);
}

void wactor_cbor_textn(wactor_buf *b, const char *s, size_t n)
{
	put_head(b, MAJOR_TEXT, n);
	wactor_buf_append(b, s, n);
}

void wactor_cbor_text(wactor_buf *b, const char *s) { wactor_cbor_textn(b, s, s ? strlen(s) : 0); }

void wactor_cbor_array(wactor_buf *b, size_t n) { put_head(b, MAJOR_ARRAY, n); }

void wactor_cbor_map(wactor_buf *b, size_t pairs) { put_head(b, MAJOR_MAP, pairs); }

void wactor_cbor_bool(wactor_buf *b, bool v)
{
	uint8_t c = v ? 0xf5 : 0xf4;
	wactor_buf_append(b, &c, 1);
}

void wactor_cbor_null(wactor_buf *b)
{
	uint8_t c = 0xf6;
	wactor_buf_append(b, &c, 1);
}

void wactor_cbor_double(wactor_buf *b, double v)
{
	uint64_t u;
	uint8_t h[9];
	memcpy(&u, &v, sizeof u);
	h[0] = 0xfb;
	for (int i = 8; i >= 1; i--) {
		h[i] = (uint8_t)u;
		u >>= 8;
	}
	wactor_buf_append(b, h, sizeof h);
}

void wactor_cbor_raw(wactor_buf *b, const void *p, size_t n) { wactor_buf_append(b, p, n); }

/* ======================================================================
 * CBOR reader
 * ====================================================================== */

struct head {
	unsigned major;
	unsigned info;
	uint64_t arg;
	size_t size; /* bytes of the head itself */
};

/* Decodes the head of the next item without consuming it. */
static bool peek_head(const wactor_reader *r, struct head *h)
{
	if (r->off >= r->len)
		return false;
	const uint8_t *p = r->data + r->off;
	size_t rest = r->len - r->off - 1;
	h->major = p[0] >> 5;
	h->info = p[0] & 0x1f;
	if (h->info < 24) {
		h->arg = h->info;
		h->size = 1;
		return true;
	}
	size_t n;
	switch (h->info) {
	case 24: n = 1; break;
	case 25: n = 2; break;
	case 26: n = 4; break;
	case 27: n = 8; break;
	default: return false; /* 28..30 reserved, 31 indefinite length */
	}
	if (rest < n)
		return false;
	uint64_t v = 0;
	for (size_t i = 1; i <= n; i++)
		v = v << 8 | p[i];
	h->arg = v;
	h->size = 1 + n;
	return true;
}

void wactor_reader_init(wactor_reader *r, const void *p, size_t n)
{
	r->data = p;
	r->len = p ? n : 0;
	r->off = 0;
}

size_t wactor_reader_remaining(const wactor_reader *r) { return r->len - r->off; }

wactor_cbor_kind wactor_read_kind(const wactor_reader *r)
{
	struct head h;
	if (!peek_head(r, &h))
		return WACTOR_CBOR_INVALID;
	switch (h.major) {
	case MAJOR_UINT: return WACTOR_CBOR_UINT;
	case MAJOR_NEGINT: return WACTOR_CBOR_NEGINT;
	case MAJOR_BYTES: return WACTOR_CBOR_BYTES;
	case MAJOR_TEXT: return WACTOR_CBOR_TEXT;
	case MAJOR_ARRAY: return WACTOR_CBOR_ARRAY;
	case MAJOR_MAP: return WACTOR_CBOR_MAP;
	case MAJOR_TAG: return WACTOR_CBOR_TAG;
	}
	switch (h.info) {
	case 20: case 21: return WACTOR_CBOR_BOOL;
	case 22: case 23: return WACTOR_CBOR_NULL;
	case 25: case 26: case 27: return WACTOR_CBOR_FLOAT;
	}
	return WACTOR_CBOR_INVALID;
}

/* Consumes a head of the given major type and returns its argument. */
static bool expect(wactor_reader *r, unsigned major, uint64_t *arg)
{
	struct head h;
	if (!peek_head(r, &h) || h.major != major)
		return false;
	r->off += h.size;
	*arg = h.arg;
	return true;
}

bool wactor_read_uint(wactor_reader *r, uint64_t *v)
{
	uint64_t a;
	if (!expect(r, MAJOR_UINT, &a))
		return false;
	*v = a;
	return true;
}

bool wactor_read_int(wactor_reader *r, int64_t *v)
{
	struct head h;
	if (!peek_head(r, &h) || (h.major != MAJOR_UINT && h.major != MAJOR_NEGINT) ||
	    h.arg > (uint64_t)INT64_MAX)
		return false;
	r->off += h.size;
	*v = h.major == MAJOR_UINT ? (int64_t)h.arg : -1 - (int64_t)h.arg;
	return true;
}

static bool read_string(wactor_reader *r, unsigned major, const uint8_t **p, size_t *n)
{
	struct head h;
	if (!peek_head(r, &h) || h.major != major || h.arg > r->len - r->off - h.size)
		return false;
	*p = r->data + r->off + h.size;
	*n = (size_t)h.arg;
	r->off += h.size + (size_t)h.arg;
	return true;
}

bool wactor_read_bytes(wactor_reader *r, const uint8_t **p, size_t *n)
{
	return read_string(r, MAJOR_BYTES, p, n);
}

bool wactor_read_text(wactor_reader *r, const char **s, size_t *n)
{
	const uint8_t *p;
	if (!read_string(r, MAJOR_TEXT, &p, n))
		return false;
	*s = (const char *)p;
	return true;
}

bool wactor_read_array(wactor_reader *r, size_t *n)
{
	struct head h;
	/* every item takes at least one byte */
	if (!peek_head(r, &h) || h.major != MAJOR_ARRAY || h.arg > r->len - r->off - h.size)
		return false;
	r->off += h.size;
	*n = (size_t)h.arg;
	return true;
}

bool wactor_read_map(wactor_reader *r, size_t *pairs)
{
	struct head h;
	/* every pair takes at least two bytes */
	if (!peek_head(r, &h) || h.major != MAJOR_MAP || h.arg > (r->len - r->off - h.size) / 2)
		return false;
	r->off += h.size;
	*pairs = (size_t)h.arg;
	return true;
}

bool wactor_read_tag(wactor_reader *r, uint64_t *tag)
{
	uint64_t a;
	if (!expect(r, MAJOR_TAG, &a))
		return false;
	*tag = a;
	return true;
}

bool wactor_read_bool(wactor_reader *r, bool *v)
{
	if (r->off >= r->len)
		return false;
	uint8_t c = r->data[r->off];
	if (c != 0xf4 && c != 0xf5)
		return false;
	*v = c == 0xf5;
	r->off++;
	return true;
}

bool wactor_read_null(wactor_reader *r)
{
	if (r->off >= r->len || (r->data[r->off] != 0xf6 && r->data[r->off] != 0xf7))
		return false;
	r->off++;
	return true;
}

static double half_to_double(uint16_t h)
{
	double sign = (h & 0x8000) ? -1.0 : 1.0;
	int exp = (h >> 10) & 0x1f;
	double frac = (double)(h & 0x3ff);
	if (exp == 0)
		return sign * frac / 16777216.0; /* frac * 2^-24 */
	if (exp == 31)
		return frac == 0 ? sign * __builtin_inf() : __builtin_nan("");
	double v = frac + 1024.0; /* (frac + 1024) * 2^(exp-25) */
	int e = exp - 25;
	while (e > 0) {
		v *= 2.0;
		e--;
	}
	while (e < 0) {
		v /= 2.0;
		e++;
	}
	return sign * v;
}

bool wactor_read_double(wactor_reader *r, double *v)
{
	struct head h;
	if (!peek_head(r, &h))
		return false;
	if (h.major == MAJOR_UINT) {
		*v = (double)h.arg;
	} else if (h.major == MAJOR_NEGINT) {
		*v = -1.0 - (double)h.arg;
	} else if (h.major == MAJOR_SIMPLE && h.info == 25) {
		*v = half_to_double((uint16_t)h.arg);
	} else if (h.major == MAJOR_SIMPLE && h.info == 26) {
		uint32_t u = (uint32_t)h.arg;
		float f;
		memcpy(&f, &u, sizeof f);
		*v = f;
	} else if (h.major == MAJOR_SIMPLE && h.info == 27) {
		memcpy(v, &h.arg, sizeof *v);
	} else {
		return false;
	}
	r->off += h.size;
	return true;
}

bool wactor_skip(wactor_reader *r)
{
	size_t off = r->off;
	uint64_t pending = 1;
	while (pending > 0) {
		pending--;
		wactor_reader at = {r->data, r->len, off};
		struct head h;
		if (!peek_head(&at, &h))
			return false;
		size_t left = r->len - off - h.size;
		switch (h.major) {
		case MAJOR_BYTES:
		case MAJOR_TEXT:
			if (h.arg > left)
				return false;
			off += h.size + (size_t)h.arg;
			continue;
		case MAJOR_ARRAY:
			if (h.arg > left)
				return false;
			pending += h.arg;
			break;
		case MAJOR_MAP:
			if (h.arg > left / 2)
				return false;
			pending += 2 * h.arg;
			break;
		case MAJOR_TAG:
			pending++;
			break;
		case MAJOR_SIMPLE:
			if (h.info == 24 && h.arg < 32)
				return false; /* invalid two-byte simple value */
			break;
		}
		off += h.size;
		if (pending > r->len - off) /* every pending item needs a byte */
			return false;
	}
	r->off = off;
	return true;
}

bool wactor_read_raw(wactor_reader *r, const uint8_t **p, size_t *n)
{
	size_t start = r->off;
	if (!wactor_skip(r))
		return false;
	*p = r->data + start;
	*n = r->off - start;
	return true;
}

bool wactor_cbor_valid(const void *p, size_t n)
{
	wactor_reader r;
	wactor_reader_init(&r, p, n);
	return wactor_skip(&r) && r.off == r.len;
}

/* ======================================================================
 * JSON-shaped payload maps
 * ====================================================================== */

int wactor_map_find(const void *map, size_t n, const char *key, wactor_reader *value)
{
	wactor_reader r;
	size_t pairs, klen = strlen(key);
	if (n == 0)
		return WACTOR_NOT_FOUND;
	wactor_reader_init(&r, map, n);
	if (!wactor_read_map(&r, &pairs))
		return WACTOR_ERR;
	for (size_t i = 0; i < pairs; i++) {
		const char *k;
		size_t kn;
		if (wactor_read_kind(&r) == WACTOR_CBOR_TEXT) {
			if (!wactor_read_text(&r, &k, &kn))
				return WACTOR_ERR;
			if (kn == klen && memcmp(k, key, kn) == 0) {
				if (wactor_read_kind(&r) == WACTOR_CBOR_INVALID)
					return WACTOR_ERR;
				*value = r;
				return WACTOR_OK;
			}
		} else if (!wactor_skip(&r)) {
			return WACTOR_ERR;
		}
		if (!wactor_skip(&r))
			return WACTOR_ERR;
	}
	return WACTOR_NOT_FOUND;
}

int wactor_map_int(const void *map, size_t n, const char *key, int64_t *v)
{
	wactor_reader r;
	int st = wactor_map_find(map, n, key, &r);
	if (st != WACTOR_OK)
		return st;
	if (wactor_read_int(&r, v))
		return WACTOR_OK;
	double d;
	if (wactor_read_kind(&r) == WACTOR_CBOR_FLOAT && wactor_read_double(&r, &d) &&
	    d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d) {
		*v = (int64_t)d;
		return WACTOR_OK;
	}
	return WACTOR_ERR;
}

int wactor_map_double(const void *map, size_t n, const char *key, double *v)
{
	wactor_reader r;
	int st = wactor_map_find(map, n, key, &r);
	if (st != WACTOR_OK)
		return st;
	return wactor_read_double(&r, v) ? WACTOR_OK : WACTOR_ERR;
}

int wactor_map_bool(const void *map, size_t n, const char *key, bool *v)
{
	wactor_reader r;
	int st = wactor_map_find(map, n, key, &r);
	if (st != WACTOR_OK)
		return st;
	return wactor_read_bool(&r, v) ? WACTOR_OK : WACTOR_ERR;
}

int wactor_map_text(const void *map, size_t n, const char *key, const char **s, size_t *len)
{
	wactor_reader r;
	int st = wactor_map_find(map, n, key, &r);
	if (st != WACTOR_OK)
		return st;
	return wactor_read_text(&r, s, len) ? WACTOR_OK : WACTOR_ERR;
}

/* ======================================================================
 * Errors
 * ====================================================================== */

static wactor_buf err_code = WACTOR_BUF_INIT;
static wactor_buf err_msg = WACTOR_BUF_INIT;

static void set_error_n(const char *code, size_t code_len, const char *msg, size_t msg_len)
{
	wactor_buf_reset(&err_code);
	wactor_buf_reset(&err_msg);
	if (!code || code_len == 0) {
		code = "error";
		code_len = 5;
	}
	wactor_buf_append(&err_code, code, code_len);
	if (msg)
		wactor_buf_append(&err_msg, msg, msg_len);
}

int wactor_fail(const char *code, const char *message)
{
	set_error_n(code, code ? strlen(code) : 0, message, message ? strlen(message) : 0);
	return WACTOR_ERR;
}

const char *wactor_error_code(void)
{
	const char *s = wactor_buf_cstr(&err_code);
	return s ? s : "";
}

const char *wactor_error_message(void)
{
	const char *s = wactor_buf_cstr(&err_msg);
	return s ? s : "";
}

void wactor_clear_error(void)
{
	wactor_buf_reset(&err_code);
	wactor_buf_reset(&err_msg);
}

/* The first state call the host refused in the current turn. Such a turn
 * fails whatever its handler answers, so that no partial state commits. */
struct turn_error {
	bool failed;
	wactor_buf code, msg;
};
static struct turn_error turn;

bool wactor_turn_failed(void) { return turn.failed; }

/* Records the pending error as the turn's failure (first one wins) and
 * returns WACTOR_ERR. */
static int fail_turn(void)
{
	if (!turn.failed) {
		turn.failed = true;
		wactor_buf_reset(&turn.code);
		wactor_buf_reset(&turn.msg);
		wactor_buf_append(&turn.code, err_code.data, err_code.len);
		wactor_buf_append(&turn.msg, err_msg.data, err_msg.len);
	}
	return WACTOR_ERR;
}

/* ======================================================================
 * Host calls
 * ====================================================================== */

static wactor_buf call_args = WACTOR_BUF_INIT; /* the CBOR argument of a host call */
static wactor_buf call_err = WACTOR_BUF_INIT;  /* an error envelope being decoded */

/* Copies the pending result of n bytes into out (replacing its contents);
 * false if out is a fixed buffer too small for it. */
static bool fetch_result(uint32_t n, wactor_buf *out)
{
	wactor_buf_reset(out);
	if (n == 0)
		return true;
	uint8_t *d = reserve(out, n);
	if (!d)
		return false;
	uint32_t got = wactor_host_result_(d, n);
	out->len = got < n ? got : n;
	return true;
}

/* Decodes the error envelope {1: code, 2: message} into the pending error. */
static void take_host_error(uint32_t n)
{
	fetch_result(n, &call_err);
	wactor_reader r;
	size_t pairs;
	const char *code = NULL, *msg = NULL;
	size_t code_len = 0, msg_len = 0;
	wactor_reader_init(&r, call_err.data, call_err.len);
	bool ok = wactor_read_map(&r, &pairs);
	for (size_t i = 0; ok && i < pairs; i++) {
		uint64_t key;
		if (!wactor_read_uint(&r, &key)) {
			ok = false;
		} else if (key == 1) {
			ok = wactor_read_text(&r, &code, &code_len);
		} else if (key == 2) {
			ok = wactor_read_text(&r, &msg, &msg_len);
		} else {
			ok = wactor_skip(&r);
		}
	}
	if (!ok || code_len == 0)
		set_error_n("host_error", 10, "the host returned a malformed error envelope", 44);
	else
		set_error_n(code, code_len, msg, msg_len);
}

/* Calls a host function with call_args; on success copies its result into
 * out (if not NULL). Returns WACTOR_OK, WACTOR_NOT_FOUND or WACTOR_ERR. */
static int host_call(host_fn fn, const wactor_buf *args, wactor_buf *out)
{
	uint64_t r = args ? fn(args->data, args->len) : fn(NULL, 0);
	uint32_t status = (uint32_t)(r >> 32), n = (uint32_t)r;
	switch (status) {
	case STATUS_OK:
		if (out && !fetch_result(n, out))
			return wactor_fail("too_large", "the host's result does not fit the buffer");
		return WACTOR_OK;
	case STATUS_NOT_FOUND:
		if (out)
			wactor_buf_reset(out);
		return WACTOR_NOT_FOUND;
	case STATUS_ERROR:
		take_host_error(n);
		return WACTOR_ERR;
	default:
		return wactor_fail("host_error", "the host returned an unknown status");
	}
}

static int missing_arg(const char *what)
{
	wactor_fail("bad_request", what);
	wactor_buf_append_str(&err_msg, " is NULL");
	return WACTOR_ERR;
}

static int send_call(host_fn fn, const char *target, const char *method, const void *payload, size_t n,
                uint32_t timeout_ms, wactor_buf *reply)
{
	if (!target)
		return missing_arg("target");
	if (!method)
		return missing_arg("method");
	wactor_buf *a = &call_args;
	wactor_buf_reset(a);
	wactor_cbor_map(a, 2 + (payload != NULL) + (timeout_ms != 0));
	wactor_cbor_uint(a, 1);
	wactor_cbor_text(a, target);
	wactor_cbor_uint(a, 2);
	wactor_cbor_text(a, method);
	if (payload) {
		wactor_cbor_uint(a, 3);
		wactor_cbor_bytes(a, payload, n);
	}
	if (timeout_ms) {
		wactor_cbor_uint(a, 4);
		wactor_cbor_uint(a, timeout_ms);
	}
	return host_call(fn, a, reply);
}

int wactor_tell(const char *target, const char *method, const void *payload, size_t n)
{
	return send_call(wactor_host_tell_, target, method, payload, n, 0, NULL);
}

int wactor_ask(const char *target, const char *method, const void *payload, size_t n,
               uint32_t timeout_ms, wactor_buf *reply)
{
	return send_call(wactor_host_ask_, target, method, payload, n, timeout_ms, reply);
}

int wactor_forward(const char *target, const char *method, const void *payload, size_t n)
{
	return send_call(wactor_host_forward_, target, method, payload, n, 0, NULL);
}

/* Encodes {1: key} or {1: key, 2: value}. */
static const wactor_buf *state_args(const char *key, const void *value, size_t n, bool with_value)
{
	wactor_buf *a = &call_args;
	wactor_buf_reset(a);
	wactor_cbor_map(a, with_value ? 2 : 1);
	wactor_cbor_uint(a, 1);
	wactor_cbor_text(a, key);
	if (with_value) {
		wactor_cbor_uint(a, 2);
		wactor_cbor_bytes(a, value, n);
	}
	return a;
}

int wactor_state_get(const char *key, wactor_buf *value)
{
	if (!key)
		return missing_arg("key");
	int st = host_call(wactor_host_state_get_, state_args(key, NULL, 0, false), value);
	return st == WACTOR_ERR ? fail_turn() : st;
}

int wactor_state_set(const char *key, const void *value, size_t n)
{
	if (!key)
		return missing_arg("key");
	if (!value && n)
		return missing_arg("value");
	int st = host_call(wactor_host_state_set_, state_args(key, value, n, true), NULL);
	return st == WACTOR_ERR ? fail_turn() : st;
}

int wactor_state_delete(const char *key)
{
	if (!key)
		return missing_arg("key");
	int st = host_call(wactor_host_state_delete_, state_args(key, NULL, 0, false), NULL);
	return st == WACTOR_ERR ? fail_turn() : st;
}

static wactor_buf state_val = WACTOR_BUF_INIT;

int wactor_state_get_int(const char *key, int64_t *v)
{
	int st = wactor_state_get(key, &state_val);
	if (st != WACTOR_OK)
		return st;
	wactor_reader r;
	int64_t x;
	wactor_reader_init(&r, state_val.data, state_val.len);
	if (!wactor_read_int(&r, &x) || wactor_reader_remaining(&r) != 0) {
		wactor_fail("bad_state", "state key \"");
		wactor_buf_append_str(&err_msg, key);
		wactor_buf_append_str(&err_msg, "\" does not hold a CBOR integer");
		return WACTOR_ERR;
	}
	*v = x;
	return WACTOR_OK;
}

int wactor_state_set_int(const char *key, int64_t v)
{
	uint8_t mem[9];
	wactor_buf b;
	wactor_buf_init_fixed(&b, mem, sizeof mem);
	wactor_cbor_int(&b, v);
	return wactor_state_set(key, b.data, b.len);
}

/* ======================================================================
 * Records
 * ====================================================================== */

/* Fails with bad_request: "WHERE: field "KEY"WHAT". */
static int field_error(const char *where, const char *key, const char *what)
{
	wactor_fail("bad_request", where);
	wactor_buf_append_str(&err_msg, *where ? ": field \"" : "field \"");
	wactor_buf_append_str(&err_msg, key);
	wactor_buf_append_str(&err_msg, "\"");
	wactor_buf_append_str(&err_msg, what);
	return WACTOR_ERR;
}

int wactor_decode(const void *p, size_t n, const char *where, const wactor_field *fields, size_t count, void *out)
{
	wactor_reader r;
	size_t pairs;
	wactor_reader_init(&r, p, n);
	if (n > 0 && (!wactor_read_map(&r, &pairs) || !wactor_cbor_valid(p, n))) {
		wactor_fail("bad_request", where);
		wactor_buf_append_str(&err_msg, ": the payload is not a map, as in {\"key\": value}");
		return WACTOR_ERR;
	}
	for (size_t i = 0; i < count; i++) {
		const wactor_field *f = &fields[i];
		uint8_t *m = (uint8_t *)out + f->offset;
		int st;
		const char *s;
		size_t len;
		memset(m, 0, f->size);
		switch (f->type) {
		case WACTOR_INT:
			st = f->size == sizeof(int64_t) ? wactor_map_int(p, n, f->key, (int64_t *)(void *)m) : WACTOR_ERR;
			s = ": expected an integer";
			break;
		case WACTOR_DOUBLE:
			st = f->size == sizeof(double) ? wactor_map_double(p, n, f->key, (double *)(void *)m) : WACTOR_ERR;
			s = ": expected a number";
			break;
		case WACTOR_BOOL:
			st = f->size == sizeof(bool) ? wactor_map_bool(p, n, f->key, (bool *)(void *)m) : WACTOR_ERR;
			s = ": expected a bool";
			break;
		case WACTOR_TEXT:
			st = wactor_map_text(p, n, f->key, &s, &len);
			if (st == WACTOR_OK) {
				if (len >= f->size || memchr(s, 0, len))
					return field_error(where, f->key, " is too long, or holds a NUL");
				memcpy(m, s, len);
			}
			s = ": expected text";
			break;
		default:
			return wactor_fail("bad_request", "wactor_decode: a field of unknown type");
		}
		if (st == WACTOR_NOT_FOUND && f->required)
			return field_error(where, f->key, " is missing");
		if (st == WACTOR_ERR)
			return field_error(where, f->key, s);
	}
	return WACTOR_OK;
}

int wactor_encode(wactor_buf *b, const wactor_field *fields, size_t count, const void *in)
{
	wactor_cbor_map(b, count);
	for (size_t i = 0; i < count; i++) {
		const wactor_field *f = &fields[i];
		const uint8_t *m = (const uint8_t *)in + f->offset;
		wactor_cbor_text(b, f->key);
		switch (f->type) {
		case WACTOR_INT:
			wactor_cbor_int(b, *(const int64_t *)(const void *)m);
			break;
		case WACTOR_DOUBLE:
			wactor_cbor_double(b, *(const double *)(const void *)m);
			break;
		case WACTOR_BOOL:
			wactor_cbor_bool(b, *(const bool *)(const void *)m);
			break;
		case WACTOR_TEXT:
			wactor_cbor_textn(b, (const char *)m, strnlen((const char *)m, f->size));
			break;
		default:
			return wactor_fail("bad_reply", "wactor_encode: a field of unknown type");
		}
	}
	return b->overflow ? wactor_fail("too_large", "the record did not fit its buffer") : WACTOR_OK;
}

static wactor_buf record_buf = WACTOR_BUF_INIT;

int wactor_state_get_record(const char *key, const wactor_field *fields, size_t count, void *out)
{
	int st = wactor_state_get(key, &record_buf);
	if (st == WACTOR_ERR)
		return st;
	if (wactor_decode(record_buf.data, record_buf.len, key, fields, count, out) != WACTOR_OK) {
		/* A stored value that does not decode is the state's fault, not
		 * the request's. */
		wactor_buf_reset(&err_code);
		wactor_buf_append(&err_code, "bad_state", 9);
		return WACTOR_ERR;
	}
	return st;
}

int wactor_state_set_record(const char *key, const wactor_field *fields, size_t count, const void *in)
{
	wactor_buf_reset(&record_buf);
	if (wactor_encode(&record_buf, fields, count, in) != WACTOR_OK)
		return WACTOR_ERR;
	return wactor_state_set(key, record_buf.data, record_buf.len);
}

static wactor_buf self_ref = WACTOR_BUF_INIT;

const char *wactor_self(void)
{
	if (self_ref.len == 0) {
		if (host_call(wactor_host_self_, NULL, &self_ref) != WACTOR_OK || self_ref.len == 0) {
			wactor_buf_reset(&self_ref);
			return NULL;
		}
	}
	return wactor_buf_cstr(&self_ref);
}

int wactor_log(int level, const char *message)
{
	wactor_buf *a = &call_args;
	if (level < WACTOR_LOG_DEBUG)
		level = WACTOR_LOG_DEBUG;
	if (level > WACTOR_LOG_ERROR)
		level = WACTOR_LOG_ERROR;
	wactor_buf_reset(a);
	wactor_cbor_map(a, 2);
	wactor_cbor_uint(a, 1);
	wactor_cbor_uint(a, (uint64_t)level);
	wactor_cbor_uint(a, 2);
	wactor_cbor_text(a, message ? message : "");
	return host_call(wactor_host_log_, a, NULL);
}

int wactor_deactivate(void) { return host_call(wactor_host_deactivate_, NULL, NULL); }

/* Optional envelope fields: a zero number or a NULL or empty text is left
 * out, which the host reads the same as absent. */
static bool has_text(const char *s) { return s && *s; }

/* Appends key: v, or nothing when v is 0. */
static void opt_uint(wactor_buf *a, uint64_t key, uint64_t v)
{
	if (v) {
		wactor_cbor_uint(a, key);
		wactor_cbor_uint(a, v);
	}
}

static void opt_text(wactor_buf *a, uint64_t key, const char *s)
{
	if (has_text(s)) {
		wactor_cbor_uint(a, key);
		wactor_cbor_text(a, s);
	}
}

int wactor_timer_set(const char *name, uint64_t due_ms, uint64_t period_ms, const char *method,
                     const void *payload, size_t n)
{
	if (!name)
		return missing_arg("name");
	if (!method)
		return missing_arg("method");
	if (!payload && n)
		return missing_arg("payload");
	/* Timer (ABI 5.7): {1: name, 2: due_ms?, 3: period_ms?, 4: method, 5: payload?} */
	wactor_buf *a = &call_args;
	wactor_buf_reset(a);
	wactor_cbor_map(a, 2 + (due_ms != 0) + (period_ms != 0) + (payload != NULL));
	wactor_cbor_uint(a, 1);
	wactor_cbor_text(a, name);
	opt_uint(a, 2, due_ms);
	opt_uint(a, 3, period_ms);
	wactor_cbor_uint(a, 4);
	wactor_cbor_text(a, method);
	if (payload) {
		wactor_cbor_uint(a, 5);
		wactor_cbor_bytes(a, payload, n);
	}
	return host_call(wactor_host_timer_set_, a, NULL);
}

int wactor_reminder_set(const wactor_reminder *r)
{
	if (!r)
		return missing_arg("reminder");
	if (!r->name)
		return missing_arg("name");
	if (!r->method)
		return missing_arg("method");
	if (!r->payload && r->payload_len)
		return missing_arg("payload");
	/* Reminder (ABI 5.8), keys 1 to 9 in order. Schedules are passed as
	 * given: the host refuses more than one, or first_ms without every_ms. */
	wactor_buf *a = &call_args;
	wactor_buf_reset(a);
	wactor_cbor_map(a, 2 + (r->in_ms != 0) + (r->at_unix_ms != 0) + (r->every_ms != 0) +
	                       (r->first_ms != 0) + has_text(r->cron) + (r->payload != NULL) +
	                       has_text(r->missed));
	wactor_cbor_uint(a, 1);
	wactor_cbor_text(a, r->name);
	opt_uint(a, 2, r->in_ms);
	opt_uint(a, 3, r->at_unix_ms);
	opt_uint(a, 4, r->every_ms);
	opt_uint(a, 5, r->first_ms);
	opt_text(a, 6, r->cron);
	wactor_cbor_uint(a, 7);
	wactor_cbor_text(a, r->method);
	if (r->payload) {
		wactor_cbor_uint(a, 8);
		wactor_cbor_bytes(a, r->payload, r->payload_len);
	}
	opt_text(a, 9, r->missed);
	return host_call(wactor_host_reminder_set_, a, NULL);
}

/* The Cancel envelope (ABI 5.9) is {1: name}, the shape of a StateOp
 * without a value. */
static int cancel(host_fn fn, const char *name)
{
	if (!name)
		return missing_arg("name");
	return host_call(fn, state_args(name, NULL, 0, false), NULL);
}

int wactor_timer_cancel(const char *name) { return cancel(wactor_host_timer_cancel_, name); }

int wactor_reminder_cancel(const char *name) { return cancel(wactor_host_reminder_cancel_, name); }

/* The Watch envelope (ABI 5.10) is {1: target}, the same shape. */
int wactor_watch(const char *target)
{
	if (!target)
		return missing_arg("target");
	return host_call(wactor_host_watch_, state_args(target, NULL, 0, false), NULL);
}

int wactor_unwatch(const char *target)
{
	if (!target)
		return missing_arg("target");
	return host_call(wactor_host_unwatch_, state_args(target, NULL, 0, false), NULL);
}

/* Publish (ABI 5.11) is {1: topic, 2: payload?}, the shape of a StateOp. */
int wactor_publish(const char *topic, const void *payload, size_t n)
{
	if (!topic)
		return missing_arg("topic");
	return host_call(wactor_host_publish_, state_args(topic, payload, n, payload != NULL), NULL);
}

/* Subscription (ABI 5.12) is {1: topic, 2: method?}. */
int wactor_subscribe(const char *topic, const char *method)
{
	if (!topic)
		return missing_arg("topic");
	if (!method)
		return missing_arg("method");
	wactor_buf *a = &call_args;
	wactor_buf_reset(a);
	wactor_cbor_map(a, 2);
	wactor_cbor_uint(a, 1);
	wactor_cbor_text(a, topic);
	wactor_cbor_uint(a, 2);
	wactor_cbor_text(a, method);
	return host_call(wactor_host_subscribe_, a, NULL);
}

int wactor_unsubscribe(const char *topic)
{
	if (!topic)
		return missing_arg("topic");
	return host_call(wactor_host_unsubscribe_, state_args(topic, NULL, 0, false), NULL);
}

/* ======================================================================
 * Handler registry
 * ====================================================================== */

struct entry {
	const char *name;
	size_t len;
	wactor_handler fn;
};

/* Registered methods, sorted by name (bytewise, shorter first on a tie). */
static struct entry *methods;
static size_t n_methods, cap_methods;
static wactor_handler on_activate, on_deactivate;

static int compare_name(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Returns the index of name, or where it would go with *found false. */
static size_t find_method(const char *name, size_t len, bool *found)
{
	size_t lo = 0, hi = n_methods;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_name(methods[mid].name, methods[mid].len, name, len);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void wactor_handle_method(const char *name, wactor_handler fn)
{
	if (!name)
		return;
	size_t len = strlen(name);
	bool found;
	size_t i = find_method(name, len, &found);
	if (found) {
		if (fn) {
			methods[i].fn = fn;
		} else {
			memmove(methods + i, methods + i + 1, (n_methods - i - 1) * sizeof *methods);
			n_methods--;
		}
		return;
	}
	if (!fn)
		return;
	if (n_methods == cap_methods) {
		size_t cap = cap_methods ? cap_methods * 2 : 8;
		struct entry *m = realloc(methods, cap * sizeof *m);
		if (!m)
			__builtin_trap();
		methods = m;
		cap_methods = cap;
	}
	memmove(methods + i + 1, methods + i, (n_methods - i) * sizeof *methods);
	methods[i] = (struct entry){name, len, fn};
	n_methods++;
}

void wactor_handle_methods(const wactor_method *table, size_t n)
{
	for (size_t i = 0; i < n && table[i].name; i++)
		wactor_handle_method(table[i].name, table[i].fn);
}

void wactor_on_activate(wactor_handler fn) { on_activate = fn; }
void wactor_on_deactivate(wactor_handler fn) { on_deactivate = fn; }

static wactor_handler lookup(const char *name, size_t len)
{
	bool found;
	size_t i = find_method(name, len, &found);
	return found ? methods[i].fn : NULL;
}

/* Sets the pending error for a message to a method nobody handles. */
static void fail_unknown_method(const char *name, size_t len)
{
	wactor_fail("unknown_method", "wactor: no handler for method \"");
	wactor_buf_append(&err_msg, name, len);
	if (n_methods == 0) {
		wactor_buf_append_str(&err_msg, "\"; the actor registers none "
		                                "(call wactor_handle_method from a WACTOR_INIT function)");
		return;
	}
	wactor_buf_append_str(&err_msg, "\"; the actor handles ");
	for (size_t i = 0; i < n_methods; i++) {
		if (i > 0)
			wactor_buf_append_str(&err_msg, ", ");
		wactor_buf_append(&err_msg, methods[i].name, methods[i].len);
	}
}

/* ======================================================================
 * Exports
 * ====================================================================== */

/* The input buffer wactor_alloc hands out. wactor_handle takes it over for
 * the duration of a message, so that a nested call into the guest (a host
 * that re-enters during an ask) gets a buffer of its own. */
static uint8_t *in_buf;
static size_t in_cap;
static wactor_buf spare_out = WACTOR_BUF_INIT; /* reused reply payload buffer */
static wactor_buf reply_env = WACTOR_BUF_INIT; /* the encoded Reply envelope */
static int depth;                              /* wactor_handle calls running */

/* Re-entry (docs/ABI.md, "Reentrancy"): a reentrant type's host may call
 * wactor_handle again while a handler waits in wactor_ask. Every piece of
 * state that lives across that host call is per call or saved around the
 * nested one: the input buffer (taken over above; wactor_alloc hands the
 * nested call a new one), the reply payload buffer (taken from spare_out),
 * the turn's failure (turn) and the pending error (err_code, err_msg), both
 * saved and restored by a nested wactor_handle. The rest is used only
 * between host calls that cannot re-enter (call_args, call_err, state_val,
 * record_buf: their contents are consumed before the next ask), is the
 * nested call's to write before the host copies it out (reply_env), or
 * never changes (self_ref, the method table). A handler's own static
 * buffers are its author's to keep per call. */
int32_t wactor_export_reentrant_(void);
WACTOR_EXPORT("wactor_reentrant") int32_t wactor_export_reentrant_(void) { return 1; }

/* The host asks once, when it takes the module's snapshot (after
 * _initialize, where WACTOR_INIT functions register the handlers), whether
 * an activate request would do anything: without an activate handler
 * wactor_handle answers it with an empty success, so instances started
 * from the snapshot need not be asked it (docs/ABI.md, "Exports"). A
 * handler registered later, in a turn, is of that instance only, which
 * has been activated already. */
int32_t wactor_export_activate_hook_(void);
WACTOR_EXPORT("wactor_activate_hook") int32_t wactor_export_activate_hook_(void) { return on_activate != NULL; }

int32_t wactor_export_abi_version_(void);
uint8_t *wactor_export_alloc_(uint32_t len);
uint64_t wactor_export_handle_(uint8_t *ptr, uint32_t len);

WACTOR_EXPORT("wactor_abi_version") int32_t wactor_export_abi_version_(void)
{
	return WACTOR_ABI_VERSION;
}

WACTOR_EXPORT("wactor_alloc") uint8_t *wactor_export_alloc_(uint32_t len)
{
	if (len >= UINT32_MAX - 1)
		__builtin_trap();
	size_t need = (size_t)len + 1; /* +1: room for a NUL after a final text */
	if (in_buf && in_cap >= need)
		return in_buf;
	free(in_buf);
	size_t cap = need < 256 ? 256 : need;
	in_buf = malloc(cap);
	if (!in_buf)
		__builtin_trap();
	in_cap = cap;
	return in_buf;
}

/* Decodes a Request envelope into m; returns NULL or what is wrong. */
static const char *decode_request(uint8_t *p, size_t n, wactor_msg *m, uint8_t **ends, size_t *n_ends)
{
	wactor_reader r;
	size_t pairs;
	bool have_kind = false;
	memset(m, 0, sizeof *m);
	*n_ends = 0;
	wactor_reader_init(&r, p, n);
	if (!wactor_read_map(&r, &pairs))
		return "request envelope is not a CBOR map";
	for (size_t i = 0; i < pairs; i++) {
		uint64_t key, kind = 0;
		bool ok;
		if (!wactor_read_uint(&r, &key))
			return "request envelope has a key that is not an unsigned integer";
		switch (key) {
		case 1:
			ok = wactor_read_uint(&r, &kind) && kind <= WACTOR_KIND_DEACTIVATE;
			m->kind = (int)kind;
			have_kind = true;
			break;
		case 2:
			ok = wactor_read_text(&r, &m->method, &m->method_len);
			if (ok)
				ends[0] = (uint8_t *)m->method + m->method_len;
			break;
		case 3:
			ok = wactor_read_bytes(&r, &m->payload, &m->payload_len);
			break;
		case 4:
			ok = wactor_read_text(&r, &m->sender, &m->sender_len);
			if (ok)
				ends[1] = (uint8_t *)m->sender + m->sender_len;
			break;
		case 5:
			ok = wactor_read_text(&r, &m->id, &m->id_len);
			if (ok)
				ends[2] = (uint8_t *)m->id + m->id_len;
			break;
		default:
			ok = wactor_skip(&r);
		}
		if (!ok)
			return "request envelope has a malformed field";
	}
	if (wactor_reader_remaining(&r) != 0)
		return "request envelope has trailing bytes";
	if (!have_kind)
		return "request envelope has no kind";
	*n_ends = 3;
	return NULL;
}

/* Encodes the Reply envelope for a handler's outcome into reply_env. */
static void encode_reply(int status, const wactor_buf *out)
{
	wactor_buf *e = &reply_env;
	wactor_buf_reset(e);
	if (status == WACTOR_OK) {
		if (out->len == 0) {
			wactor_cbor_map(e, 0);
		} else {
			wactor_cbor_map(e, 1);
			wactor_cbor_uint(e, 1);
			wactor_cbor_bytes(e, out->data, out->len);
		}
		return;
	}
	if (err_code.len == 0)
		set_error_n("error", 5, "the handler failed without setting an error", 43);
	wactor_cbor_map(e, err_msg.len ? 2 : 1);
	wactor_cbor_uint(e, 2);
	wactor_cbor_textn(e, (const char *)err_code.data, err_code.len);
	if (err_msg.len) {
		wactor_cbor_uint(e, 3);
		wactor_cbor_textn(e, (const char *)err_msg.data, err_msg.len);
	}
}

static uint64_t packed_reply(void)
{
	return (uint64_t)(uintptr_t)reply_env.data << 32 | (uint64_t)reply_env.len;
}

#ifndef __wasm__
/* The last Reply envelope; native pointers do not fit wactor_handle's
 * packed result, so wactortest.c reads it here. */
const uint8_t *wactor_native_reply_(size_t *n);
const uint8_t *wactor_native_reply_(size_t *n)
{
	*n = reply_env.len;
	return reply_env.data;
}
#endif

WACTOR_EXPORT("wactor_handle") uint64_t wactor_export_handle_(uint8_t *ptr, uint32_t len)
{
	/* Take over the input: in place when it is the wactor_alloc buffer with
	 * a spare byte after it, else as a copy. */
	uint8_t *own;
	size_t own_cap;
	if (in_buf && ptr >= in_buf && (size_t)(ptr - in_buf) < in_cap &&
	    (size_t)len < in_cap - (size_t)(ptr - in_buf)) {
		own = in_buf;
		own_cap = in_cap;
		in_buf = NULL;
		in_cap = 0;
	} else {
		if (len == UINT32_MAX)
			__builtin_trap();
		own_cap = (size_t)len + 1;
		own = malloc(own_cap);
		if (!own)
			__builtin_trap();
		if (len)
			memcpy(own, ptr, len);
		ptr = own;
	}

	wactor_buf out = spare_out;
	spare_out = (wactor_buf)WACTOR_BUF_INIT;
	wactor_buf_reset(&out);
	/* A nested call keeps the pending error of the handler it re-enters. */
	wactor_buf outer_code = WACTOR_BUF_INIT, outer_msg = WACTOR_BUF_INIT;
	if (depth > 0) {
		outer_code = err_code;
		outer_msg = err_msg;
		err_code = (wactor_buf)WACTOR_BUF_INIT;
		err_msg = (wactor_buf)WACTOR_BUF_INIT;
	}
	depth++;
	wactor_clear_error();
	struct turn_error outer = turn; /* non-empty only when re-entered */
	turn = (struct turn_error){0};

	wactor_msg m;
	uint8_t *ends[3] = {NULL, NULL, NULL};
	size_t n_ends;
	int status;
	const char *bad = decode_request(ptr, len, &m, ends, &n_ends);
	if (bad) {
		wactor_fail("bad_request", "wactor: malformed request: ");
		wactor_buf_append_str(&err_msg, bad);
		status = WACTOR_ERR;
	} else {
		/* Every text field is followed by the head of another item or
		 * by the spare byte: now that all is decoded, NUL-terminate them
		 * in place. */
		for (size_t i = 0; i < n_ends; i++)
			if (ends[i])
				*ends[i] = 0;
		if (!m.method)
			m.method = "";
		if (!m.sender)
			m.sender = "";
		if (!m.id)
			m.id = "";
		wactor_handler fn = NULL;
		if (m.kind == WACTOR_KIND_MESSAGE) {
			fn = lookup(m.method, m.method_len);
			if (!fn)
				fail_unknown_method(m.method, m.method_len);
		} else {
			fn = m.kind == WACTOR_KIND_ACTIVATE ? on_activate : on_deactivate;
		}
		if (fn)
			status = fn(&m, &out) == WACTOR_OK ? WACTOR_OK : WACTOR_ERR;
		else
			status = m.kind == WACTOR_KIND_MESSAGE ? WACTOR_ERR : WACTOR_OK;
		if (status == WACTOR_OK && out.overflow)
			status = wactor_fail("too_large", "the reply did not fit its buffer");
		if (turn.failed) {
			set_error_n((const char *)turn.code.data, turn.code.len,
			            (const char *)turn.msg.data, turn.msg.len);
			status = WACTOR_ERR;
		}
	}
	encode_reply(status, &out);
	wactor_buf_free(&turn.code);
	wactor_buf_free(&turn.msg);
	turn = outer;
	if (--depth > 0) {
		wactor_buf_free(&err_code);
		wactor_buf_free(&err_msg);
		err_code = outer_code;
		err_msg = outer_msg;
	}

	/* Give the buffers back for the next message, unless a nested call
	 * already made new ones. */
	if (!in_buf) {
		in_buf = own;
		in_cap = own_cap;
	} else {
		free(own);
	}
	if (!out.fixed && spare_out.data == NULL)
		spare_out = out;
	else
		wactor_buf_free(&out);
	return packed_reply();
}
