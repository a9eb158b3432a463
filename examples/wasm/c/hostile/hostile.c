/*
 * hostile: the C twin of examples/wasm/hostile, for the attacks a guest SDK
 * would never let through. It speaks the ABI by hand, without the C SDK (it
 * does not include wactor.h, so the build leaves guest-sdk/c/wactor.c out):
 * it declares the wactor imports itself and calls them with out-of-range
 * pointers and malformed CBOR, and returns broken reply envelopes.
 *
 *   ok                      -> {}         a well-behaved turn
 *   unreachable             -> trapped    (the unreachable instruction)
 *   bad_pointer "import"    -> bad_reply  (calls the import with a pointer
 *                                          outside memory; "result" gets an
 *                                          out-of-range buffer)
 *   bad_cbor "import"       -> bad_reply  (calls the import with malformed CBOR)
 *   fill_forever            -> turn_timeout (memory.fill over 256 KiB in an
 *                                          endless loop: few instructions, much
 *                                          work each, which fuel must count)
 *   bad_reply_pointer       -> bad_reply  (the reply envelope is outside memory)
 *   bad_reply_cbor          -> bad_reply  (the reply envelope is malformed CBOR)
 *   burn n                  -> {}         n rounds of xorshift: bounded work
 *                                          for the host's benchmarks
 *   grow                    -> {}         memory.grow by one page; checks that
 *                                          the new page is zero and that every
 *                                          page grown before kept its mark;
 *                                          traps (memory_exhausted near the
 *                                          limit) when the grow fails, and
 *                                          answers "corrupt" if a check fails
 *   echo_reply h'..'        -> whatever the bytes say: returns the payload,
 *                              a CBOR byte string, as its reply envelope
 *                              (the host's fuzz test feeds it random bytes)
 *
 * The import names are passed as the payload, a CBOR text string. Every
 * attack first writes state key "dirty" and tells itself "ok", which a
 * failed turn must drop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wactor"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("tell") uint64_t h_tell(uint32_t p, uint32_t n);
IMPORT("ask") uint64_t h_ask(uint32_t p, uint32_t n);
IMPORT("state_get") uint64_t h_state_get(uint32_t p, uint32_t n);
IMPORT("state_set") uint64_t h_state_set(uint32_t p, uint32_t n);
IMPORT("state_delete") uint64_t h_state_delete(uint32_t p, uint32_t n);
IMPORT("self") uint64_t h_self(uint32_t p, uint32_t n);
IMPORT("log") uint64_t h_log(uint32_t p, uint32_t n);
IMPORT("deactivate") uint64_t h_deactivate(uint32_t p, uint32_t n);
IMPORT("timer_set") uint64_t h_timer_set(uint32_t p, uint32_t n);
IMPORT("timer_cancel") uint64_t h_timer_cancel(uint32_t p, uint32_t n);
IMPORT("reminder_set") uint64_t h_reminder_set(uint32_t p, uint32_t n);
IMPORT("reminder_cancel") uint64_t h_reminder_cancel(uint32_t p, uint32_t n);
IMPORT("result") uint32_t h_result(uint32_t p, uint32_t n);

typedef uint64_t (*host_fn)(uint32_t, uint32_t);

static const struct {
	const char *name;
	host_fn fn;
} imports[] = {
	{"tell", h_tell},
	{"ask", h_ask},
	{"state_get", h_state_get},
	{"state_set", h_state_set},
	{"state_delete", h_state_delete},
	{"self", h_self},
	{"log", h_log},
	{"deactivate", h_deactivate},
	{"timer_set", h_timer_set},
	{"timer_cancel", h_timer_cancel},
	{"reminder_set", h_reminder_set},
	{"reminder_cancel", h_reminder_cancel},
};

/* What fill_forever fills, again and again, with the bulk memory
 * instruction memory.fill. */
static uint8_t fill_buf[256 << 10];
static volatile uint8_t fill_sink;

__attribute__((target("bulk-memory"))) static void fill_forever(void)
{
	for (uint32_t i = 0;; i++) {
		__builtin_memset(fill_buf, (int)i, sizeof fill_buf);
		fill_sink = fill_buf[i % sizeof fill_buf];
	}
}

/* Where burn leaves its result, so that the loop is not optimised away. */
static volatile uint64_t burned;

/* A pointer far outside any memory this guest has. */
#define FAR 0xfffffff0u

static uint32_t addr(const void *p) { return (uint32_t)(uintptr_t)p; }
static uint64_t pack(const void *p, uint32_t n) { return (uint64_t)addr(p) << 32 | n; }

/* ---- a minimal CBOR reader: heads, text, bytes ---- */

typedef struct {
	const uint8_t *p;
	size_t n, off;
} reader;

/* Reads a head: major type and argument; 0 on malformed input. */
static int head(reader *r, int *major, uint64_t *arg)
{
	if (r->off >= r->n)
		return 0;
	uint8_t b = r->p[r->off++];
	int info = b & 0x1f, extra;
	*major = b >> 5;
	if (info < 24) {
		*arg = (uint64_t)info;
		return 1;
	}
	if (info > 27)
		return 0;
	extra = 1 << (info - 24);
	if (r->n - r->off < (size_t)extra)
		return 0;
	*arg = 0;
	for (int i = 0; i < extra; i++)
		*arg = *arg << 8 | r->p[r->off++];
	return 1;
}

/* Reads a text or byte string of the given major type. */
static int string(reader *r, int want, const uint8_t **s, size_t *len)
{
	int major;
	uint64_t n;
	if (!head(r, &major, &n) || major != want || n > r->n - r->off)
		return 0;
	*s = r->p + r->off;
	*len = (size_t)n;
	r->off += (size_t)n;
	return 1;
}

/* ---- exports ---- */

static uint8_t *in_buf;
static size_t in_cap;

EXPORT("wactor_abi_version") int32_t abi_version(void) { return 1; }

EXPORT("wactor_alloc") uint8_t *alloc(uint32_t len)
{
	if (in_cap < len || !in_buf) {
		free(in_buf);
		in_cap = len < 256 ? 256 : len;
		in_buf = malloc(in_cap);
		if (!in_buf)
			__builtin_trap();
	}
	return in_buf;
}

static uint8_t reply_buf[256];

/* A reply with an application error code. */
static uint64_t fail(const char *code)
{
	size_t n = strlen(code);
	reply_buf[0] = 0xa1; /* {2: code} */
	reply_buf[1] = 0x02;
	reply_buf[2] = (uint8_t)(0x60 + n); /* codes here are < 24 bytes */
	memcpy(reply_buf + 3, code, n);
	return pack(reply_buf, (uint32_t)(3 + n));
}

static uint64_t ok(void)
{
	reply_buf[0] = 0xa1; /* {1: h'a0'}: the payload {} */
	reply_buf[1] = 0x01;
	reply_buf[2] = 0x41;
	reply_buf[3] = 0xa0;
	return pack(reply_buf, 4);
}

/* Writes state and tells itself, all of which a failed turn must drop. */
static void dirty(void)
{
	static const uint8_t set[] = {0xa2, 0x01, 0x65, 'd', 'i', 'r', 't', 'y', 0x02, 0x41, 0xf5};
	static uint8_t self[128], call[160];
	h_state_set(addr(set), sizeof set);
	uint32_t n = (uint32_t)h_self(0, 0);
	if (n == 0 || n > 100)
		__builtin_trap();
	h_result(addr(self), n);
	/* {1: self, 2: "ok"} */
	size_t i = 0;
	call[i++] = 0xa2;
	call[i++] = 0x01;
	if (n < 24) {
		call[i++] = (uint8_t)(0x60 + n);
	} else {
		call[i++] = 0x78;
		call[i++] = (uint8_t)n;
	}
	memcpy(call + i, self, n);
	i += n;
	call[i++] = 0x02;
	call[i++] = 0x62;
	call[i++] = 'o';
	call[i++] = 'k';
	h_tell(addr(call), (uint32_t)i);
}

static host_fn find_import(const uint8_t *name, size_t n)
{
	for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++)
		if (strlen(imports[i].name) == n && memcmp(imports[i].name, name, n) == 0)
			return imports[i].fn;
	return NULL;
}

static int is(const uint8_t *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* The pages before the first grow; grow marks the last byte of each page
 * it adds with the page's number. */
static size_t first_grown;

static uint64_t grow(void)
{
	size_t pages = __builtin_wasm_memory_size(0);
	if (!first_grown)
		first_grown = pages;
	for (size_t p = first_grown; p < pages; p++)
		if (*(volatile uint8_t *)(uintptr_t)(p * 65536 + 65535) != (uint8_t)p)
			return fail("corrupt");
	size_t old = __builtin_wasm_memory_grow(0, 1);
	if (old == (size_t)-1)
		__builtin_trap();
	volatile uint8_t *page = (volatile uint8_t *)(uintptr_t)(old * 65536);
	for (size_t i = 0; i < 65536; i++)
		if (page[i])
			return fail("corrupt");
	page[65535] = (uint8_t)old;
	return ok();
}

EXPORT("wactor_handle") uint64_t handle(uint8_t *ptr, uint32_t len)
{
	reader r = {ptr, len, 0};
	int major;
	uint64_t pairs, key, kind = 0;
	const uint8_t *method = (const uint8_t *)"", *payload = NULL, *s;
	size_t method_len = 0, payload_len = 0, n;
	if (!head(&r, &major, &pairs) || major != 5)
		return fail("bad_request");
	for (uint64_t i = 0; i < pairs; i++) {
		if (!head(&r, &major, &key) || major != 0)
			return fail("bad_request");
		switch (key) {
		case 1:
			if (!head(&r, &major, &kind) || major != 0)
				return fail("bad_request");
			break;
		case 2:
			if (!string(&r, 3, &method, &method_len))
				return fail("bad_request");
			break;
		case 3:
			if (!string(&r, 2, &payload, &payload_len))
				return fail("bad_request");
			break;
		default: /* sender, id: text */
			if (!string(&r, 3, &s, &n))
				return fail("bad_request");
		}
	}
	if (kind != 0)
		return ok(); /* activate and deactivate hooks */

	/* The import an attack targets: the payload, a CBOR text string. */
	const uint8_t *target = NULL;
	size_t target_len = 0;
	if (payload) {
		reader pr = {payload, payload_len, 0};
		if (!string(&pr, 3, &target, &target_len))
			target = NULL;
	}

	if (is(method, method_len, "ok"))
		return ok();
	if (is(method, method_len, "unreachable")) {
		dirty();
		__builtin_trap();
	}
	if (is(method, method_len, "bad_pointer")) {
		if (!target)
			return fail("bad_request");
		dirty();
		if (is(target, target_len, "result")) {
			h_self(0, 0); /* something pending */
			h_result(FAR, 64);
			return ok();
		}
		host_fn fn = find_import(target, target_len);
		if (!fn)
			return fail("bad_request");
		fn(FAR, 64);
		return ok(); /* not reached: the host aborts the call */
	}
	if (is(method, method_len, "bad_cbor")) {
		/* A map that promises two pairs and ends after one key. */
		static const uint8_t junk[] = {0xa2, 0x01};
		host_fn fn = target ? find_import(target, target_len) : NULL;
		if (!fn)
			return fail("bad_request");
		dirty();
		fn(addr(junk), sizeof junk);
		return ok();
	}
	if (is(method, method_len, "fill_forever")) {
		dirty();
		fill_forever();
	}
	if (is(method, method_len, "burn")) {
		reader pr = {payload, payload_len, 0};
		uint64_t rounds, x = 88172645463325252ull;
		if (!payload || !head(&pr, &major, &rounds) || major != 0)
			return fail("bad_request");
		for (uint64_t i = 0; i < rounds; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		burned = x;
		return ok();
	}
	if (is(method, method_len, "grow"))
		return grow();
	if (is(method, method_len, "echo_reply")) {
		reader pr = {payload, payload_len, 0};
		const uint8_t *env;
		size_t env_len;
		if (!payload || !string(&pr, 2, &env, &env_len))
			return fail("bad_request");
		return pack(env, (uint32_t)env_len);
	}
	if (is(method, method_len, "bad_reply_pointer")) {
		dirty();
		return (uint64_t)FAR << 32 | 64;
	}
	if (is(method, method_len, "bad_reply_cbor")) {
		dirty();
		reply_buf[0] = 0xa1; /* {1: <a byte string of 64 bytes, cut after 2>} */
		reply_buf[1] = 0x01;
		reply_buf[2] = 0x58;
		reply_buf[3] = 64;
		reply_buf[4] = 0;
		reply_buf[5] = 0;
		return pack(reply_buf, 6);
	}
	return fail("unknown_method");
}
