/*
 * wactortest.c - an in-memory host for running a C actor natively in unit
 * tests. See wactortest.h. It defines the host functions that wactor.c
 * imports in a WebAssembly build.
 */
#ifdef __wasm__
#error "wactortest.c is for native builds (unit tests); build the module without it"
#endif

#include "wactortest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t wactor_host_tell_(const void *p, size_t n);
uint64_t wactor_host_ask_(const void *p, size_t n);
uint64_t wactor_host_state_get_(const void *p, size_t n);
uint64_t wactor_host_state_set_(const void *p, size_t n);
uint64_t wactor_host_state_delete_(const void *p, size_t n);
uint64_t wactor_host_self_(const void *p, size_t n);
uint64_t wactor_host_log_(const void *p, size_t n);
uint64_t wactor_host_deactivate_(const void *p, size_t n);
uint64_t wactor_host_timer_set_(const void *p, size_t n);
uint64_t wactor_host_timer_cancel_(const void *p, size_t n);
uint64_t wactor_host_reminder_set_(const void *p, size_t n);
uint64_t wactor_host_reminder_cancel_(const void *p, size_t n);
uint64_t wactor_host_watch_(const void *p, size_t n);
uint64_t wactor_host_unwatch_(const void *p, size_t n);
uint64_t wactor_host_publish_(const void *p, size_t n);
uint64_t wactor_host_subscribe_(const void *p, size_t n);
uint64_t wactor_host_unsubscribe_(const void *p, size_t n);
uint64_t wactor_host_forward_(const void *p, size_t n);
uint32_t wactor_host_result_(void *p, size_t n);
uint64_t wactor_export_handle_(uint8_t *ptr, uint32_t len);
const uint8_t *wactor_native_reply_(size_t *n);

enum { OK = 0, NOT_FOUND = 1, ERROR = 2 };

/* One key and value; value NULL with deleted set: a buffered delete. */
struct entry {
	char *key;
	uint8_t *value;
	size_t len;
	bool deleted;
	struct entry *next;
};

/* A named thing a turn set (true) or cancelled (false). */
struct name {
	char *name;
	bool set;
	struct name *next;
};

static struct {
	char self[WACTOR_MAX_TYPE_LEN + WACTOR_MAX_ID_LEN + 2];
	struct entry *state, *writes;
	size_t tells, turn_tells;
	size_t forwards, turn_forwards; /* every call is an ask: it may forward */
	struct name *timers, *reminders;           /* committed */
	struct name *turn_timers, *turn_reminders; /* the turn's */
	struct name *watching, *turn_watches;      /* committed, the turn's */
	struct name *subs, *turn_subs;             /* topics subscribed: committed, the turn's */
	size_t published, turn_published;
	size_t turn_timer_ops;
	wactor_buf pending; /* the result of the last host call */
	wactor_buf code, message;
} h;

static void free_entries(struct entry **l)
{
	while (*l) {
		struct entry *e = *l;
		*l = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
}

static void free_names(struct name **l)
{
	while (*l) {
		struct name *e = *l;
		*l = e->next;
		free(e->name);
		free(e);
	}
}

static struct entry *find(struct entry *l, const char *key, size_t n)
{
	for (; l; l = l->next)
		if (strlen(l->key) == n && memcmp(l->key, key, n) == 0)
			return l;
	return NULL;
}

static struct name *find_name(struct name *l, const char *name, size_t n)
{
	for (; l; l = l->next)
		if (strlen(l->name) == n && memcmp(l->name, name, n) == 0)
			return l;
	return NULL;
}

static char *dup_n(const void *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* Puts (or replaces) key in *l. */
static void put(struct entry **l, const char *key, size_t kn, const void *v, size_t n, bool deleted)
{
	struct entry *e = find(*l, key, kn);
	if (!e) {
		e = calloc(1, sizeof *e);
		if (!e)
			abort();
		e->key = dup_n(key, kn);
		e->next = *l;
		*l = e;
	}
	free(e->value);
	e->value = deleted ? NULL : (uint8_t *)dup_n(v, n);
	e->len = deleted ? 0 : n;
	e->deleted = deleted;
}

static void put_name(struct name **l, const char *name, size_t n, bool set)
{
	struct name *e = find_name(*l, name, n);
	if (!e) {
		e = calloc(1, sizeof *e);
		if (!e)
			abort();
		e->name = dup_n(name, n);
		e->next = *l;
		*l = e;
	}
	e->set = set;
}

static size_t count_set(const struct name *l)
{
	size_t n = 0;
	for (; l; l = l->next)
		n += l->set;
	return n;
}

static uint64_t result(uint32_t status, const void *p, size_t n)
{
	wactor_buf_reset(&h.pending);
	if (n)
		wactor_buf_append(&h.pending, p, n);
	return (uint64_t)status << 32 | (uint64_t)n;
}

/* Fails the host call with an error envelope {1: code, 2: message}. */
static uint64_t fail(const char *code, const char *msg)
{
	wactor_buf e = WACTOR_BUF_INIT;
	wactor_cbor_map(&e, 2);
	wactor_cbor_uint(&e, 1);
	wactor_cbor_text(&e, code);
	wactor_cbor_uint(&e, 2);
	wactor_cbor_text(&e, msg);
	uint64_t r = result(ERROR, e.data, e.len);
	wactor_buf_free(&e);
	return r;
}

/* An argument envelope: a map with small unsigned keys. */
struct field {
	bool present;
	const char *text; /* texts and byte strings */
	size_t len;
	uint64_t u;
};
enum { NFIELDS = 10 };

static bool decode(const void *p, size_t n, struct field f[NFIELDS])
{
	wactor_reader r;
	size_t pairs;
	memset(f, 0, NFIELDS * sizeof f[0]);
	wactor_reader_init(&r, p, n);
	if (!wactor_read_map(&r, &pairs))
		return false;
	for (size_t i = 0; i < pairs; i++) {
		uint64_t key;
		if (!wactor_read_uint(&r, &key))
			return false;
		struct field dummy, *d = key < NFIELDS ? &f[key] : &dummy;
		const uint8_t *b;
		bool ok;
		switch (wactor_read_kind(&r)) {
		case WACTOR_CBOR_TEXT:
			ok = wactor_read_text(&r, &d->text, &d->len);
			break;
		case WACTOR_CBOR_BYTES:
			ok = wactor_read_bytes(&r, &b, &d->len);
			d->text = (const char *)b;
			break;
		case WACTOR_CBOR_UINT:
			ok = wactor_read_uint(&r, &d->u);
			break;
		default:
			ok = wactor_skip(&r);
		}
		if (!ok)
			return false;
		d->present = true;
	}
	return wactor_reader_remaining(&r) == 0;
}

#define DECODE(p, n, f)                                                       \
	do {                                                                  \
		if (!decode(p, n, f))                                         \
			return fail("bad_reply", "wactortest: malformed argument"); \
	} while (0)

static bool too_long(const struct field *f, size_t max) { return f->len > max; }

/* The host's rules for a method name; NULL when it is fine. */
static const char *bad_method(const struct field *m)
{
	if (!m->present || m->len == 0)
		return "has no method";
	if (too_long(m, WACTOR_MAX_METHOD_LEN))
		return "method is longer than 256 bytes";
	return NULL;
}

/* The host's rules for a timer's or reminder's name and method. */
static const char *bad_schedule(const struct field *name, const struct field *method)
{
	if (!name->present || name->len == 0)
		return "has no name";
	if (too_long(name, WACTOR_MAX_SCHEDULE_NAME))
		return "name is longer than 256 bytes";
	if (!method->present || method->len == 0)
		return "has no method to deliver";
	return bad_method(method);
}

static bool valid_target(const struct field *t)
{
	const char *slash = t->text ? memchr(t->text, '/', t->len) : NULL;
	if (!slash)
		return false;
	size_t tl = (size_t)(slash - t->text), il = t->len - tl - 1;
	if (tl == 0 || tl > WACTOR_MAX_TYPE_LEN || il == 0 || il > WACTOR_MAX_ID_LEN)
		return false;
	for (size_t i = 0; i < tl; i++) {
		char c = t->text[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	for (size_t i = 0; i < il; i++)
		if ((unsigned char)slash[1 + i] < 0x20 || slash[1 + i] == 0x7f)
			return false;
	return true;
}

static uint64_t send(const void *p, size_t n, bool ask, bool forward)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	if (!valid_target(&f[1]))
		return fail("bad_request", "the target is not a valid type/id");
	const char *bad = bad_method(&f[2]);
	if (bad)
		return fail("bad_request", bad);
	if (f[3].len > WACTOR_DEFAULT_MAX_MESSAGE)
		return fail("too_large", "the message is over the limit of 1048576 bytes");
	if (ask) {
		if (f[1].len == strlen(h.self) && memcmp(f[1].text, h.self, f[1].len) == 0)
			return fail("deadlock", "wactortest: the actor asked itself; its own turn is still running");
		return fail("unknown_type", "wactortest: there is no other actor to ask");
	}
	if (forward) {
		if (h.turn_forwards >= WACTOR_MAX_FORWARDS_PER_TURN)
			return fail("bad_request", "forward: a turn may forward its ask at most 1 time");
		h.turn_forwards++;
		return result(OK, NULL, 0);
	}
	if (h.turn_tells >= WACTOR_MAX_SENDS_PER_TURN)
		return fail("too_large", "a turn may send at most 10000 tells");
	h.turn_tells++;
	return result(OK, NULL, 0);
}

uint64_t wactor_host_tell_(const void *p, size_t n) { return send(p, n, false, false); }

uint64_t wactor_host_ask_(const void *p, size_t n) { return send(p, n, true, false); }

uint64_t wactor_host_forward_(const void *p, size_t n) { return send(p, n, false, true); }

static uint64_t state(const void *p, size_t n, int op)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	if (too_long(&f[1], WACTOR_MAX_KEY_LEN))
		return fail("too_large", "state key is longer than 1024 bytes");
	const char *key = f[1].text ? f[1].text : "";
	if (op == 0) {
		struct entry *e = find(h.writes, key, f[1].len);
		if (!e)
			e = find(h.state, key, f[1].len);
		if (!e || e->deleted)
			return result(NOT_FOUND, NULL, 0);
		return result(OK, e->value, e->len);
	}
	if (op == 1 && f[2].len > WACTOR_DEFAULT_MAX_MESSAGE)
		return fail("too_large", "state value is over the limit of 1048576 bytes");
	put(&h.writes, key, f[1].len, f[2].text, f[2].len, op == 2);
	return result(OK, NULL, 0);
}

uint64_t wactor_host_state_get_(const void *p, size_t n) { return state(p, n, 0); }

uint64_t wactor_host_state_set_(const void *p, size_t n) { return state(p, n, 1); }

uint64_t wactor_host_state_delete_(const void *p, size_t n) { return state(p, n, 2); }

uint64_t wactor_host_self_(const void *p, size_t n)
{
	(void)p, (void)n;
	return result(OK, h.self, strlen(h.self));
}

uint64_t wactor_host_log_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	size_t len = f[2].len < WACTOR_MAX_LOG_LEN ? f[2].len : WACTOR_MAX_LOG_LEN;
	fprintf(stderr, "%s: %.*s\n", h.self, (int)len, f[2].text ? f[2].text : "");
	return result(OK, NULL, 0);
}

uint64_t wactor_host_deactivate_(const void *p, size_t n)
{
	(void)p, (void)n;
	return result(OK, NULL, 0);
}

uint64_t wactor_host_timer_set_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	const char *bad = bad_schedule(&f[1], &f[4]);
	if (bad)
		return fail("bad_request", bad);
	if (f[2].u > WACTOR_MAX_DELAY_MS || f[3].u > WACTOR_MAX_DELAY_MS)
		return fail("bad_request", "due_ms and period_ms must be at most 10 years");
	if (f[5].len > WACTOR_DEFAULT_MAX_MESSAGE)
		return fail("too_large", "the timer's payload is over the limit of 1048576 bytes");
	struct name *mine = find_name(h.turn_timers, f[1].text, f[1].len);
	if ((!mine || !mine->set) && count_set(h.timers) + count_set(h.turn_timers) >= WACTOR_MAX_TIMERS)
		return fail("too_large", "an activation may have at most 1000 timers");
	put_name(&h.turn_timers, f[1].text, f[1].len, true);
	h.turn_timer_ops++;
	return result(OK, NULL, 0);
}

uint64_t wactor_host_timer_cancel_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	if (h.turn_timer_ops >= WACTOR_MAX_TIMER_OPS)
		return fail("too_large", "a turn may set and cancel at most 2000 timers");
	put_name(&h.turn_timers, f[1].text ? f[1].text : "", f[1].len, false);
	h.turn_timer_ops++;
	return result(OK, NULL, 0);
}

static uint64_t reminder_op(const struct field *name, bool set)
{
	const char *s = name->text ? name->text : "";
	size_t ops = 0;
	for (struct name *e = h.turn_reminders; e; e = e->next)
		ops++;
	if (!find_name(h.turn_reminders, s, name->len) && ops >= WACTOR_MAX_REMINDER_OPS)
		return fail("too_large", "a turn may set or cancel at most 1000 reminders");
	put_name(&h.turn_reminders, s, name->len, set);
	return result(OK, NULL, 0);
}

uint64_t wactor_host_reminder_set_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	const char *bad = bad_schedule(&f[1], &f[7]);
	if (bad)
		return fail("bad_request", bad);
	int schedules = (f[2].u != 0) + (f[3].u != 0) + (f[4].u != 0) + (f[6].len != 0);
	if (schedules > 1)
		return fail("bad_request", "more than one schedule; give one of in_ms, at_unix_ms, every_ms and cron");
	if (f[5].u && !f[4].u)
		return fail("bad_request", "first_ms applies to every_ms only");
	if (f[2].u > WACTOR_MAX_DELAY_MS || f[4].u > WACTOR_MAX_DELAY_MS || f[5].u > WACTOR_MAX_DELAY_MS)
		return fail("bad_request", "a delay or period is longer than 10 years");
	if (f[3].u > WACTOR_MAX_AT_UNIX_MS)
		return fail("bad_request", "at_unix_ms is after the year 9999");
	if (f[6].len > WACTOR_MAX_CRON_LEN)
		return fail("bad_request", "cron expression is longer than 256 bytes");
	if (f[9].len && !(f[9].len == 8 && memcmp(f[9].text, "catch_up", 8) == 0) &&
	    !(f[9].len == 4 && memcmp(f[9].text, "skip", 4) == 0))
		return fail("bad_request", "unknown missed-tick policy; use catch_up or skip");
	if (f[8].len > WACTOR_DEFAULT_MAX_MESSAGE)
		return fail("too_large", "the reminder's payload is over the limit of 1048576 bytes");
	return reminder_op(&f[1], true);
}

uint64_t wactor_host_reminder_cancel_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	return reminder_op(&f[1], false);
}

/* watch and unwatch (ABI 5.10): {1: target}, with the host's rules: a
 * type/id that is not the actor itself, at most WACTOR_MAX_WATCHES
 * watched. Whether the type is deployed only the runtime knows. */
static uint64_t watch_op(const void *p, size_t n, bool set)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	const char *t = f[1].text ? f[1].text : "";
	const char *slash = memchr(t, '/', f[1].len);
	if (!slash || slash == t || slash == t + f[1].len - 1)
		return fail("bad_request", set ? "watch: the target is not of the form type/id" : "unwatch: the target is not of the form type/id");
	if (f[1].len == strlen(h.self) && memcmp(t, h.self, f[1].len) == 0)
		return fail("bad_request", set ? "watch: an actor cannot watch itself" : "unwatch: an actor cannot watch itself");
	struct name *mine = find_name(h.turn_watches, t, f[1].len);
	if (set && !(mine && mine->set) && !find_name(h.watching, t, f[1].len)) {
		size_t watching = count_set(h.turn_watches);
		for (struct name *e = h.watching; e; e = e->next) {
			struct name *op = find_name(h.turn_watches, e->name, strlen(e->name));
			if (!op)
				watching++;
		}
		if (watching >= WACTOR_MAX_WATCHES)
			return fail("too_large", "an actor may watch at most 100 actors");
	}
	put_name(&h.turn_watches, t, f[1].len, set);
	return result(OK, NULL, 0);
}

uint64_t wactor_host_watch_(const void *p, size_t n) { return watch_op(p, n, true); }

uint64_t wactor_host_unwatch_(const void *p, size_t n) { return watch_op(p, n, false); }

/* A topic as the host takes it: 1 to WACTOR_MAX_TOPIC_LEN bytes, no
 * control characters, spaces, '*' or '>', no empty segment. */
static bool good_topic(const struct field *f)
{
	if (!f->text || f->len == 0 || f->len > WACTOR_MAX_TOPIC_LEN)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		unsigned char c = (unsigned char)f->text[i];
		if (c <= ' ' || c == 0x7f || c == '*' || c == '>')
			return false;
		if (c == '.' && (i == 0 || i == f->len - 1 || f->text[i - 1] == '.'))
			return false;
	}
	return true;
}

uint64_t wactor_host_publish_(const void *p, size_t n)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	if (!good_topic(&f[1]))
		return fail("bad_request", "publish: not a topic");
	if (f[2].len > WACTOR_DEFAULT_MAX_MESSAGE)
		return fail("too_large", "publish: the message is over the limit of 1048576 bytes");
	if (h.turn_tells + h.turn_published >= WACTOR_MAX_SENDS_PER_TURN)
		return fail("too_large", "a turn may send at most 10000 tells");
	h.turn_published++;
	return result(OK, NULL, 0);
}

static uint64_t sub_op(const void *p, size_t n, bool set)
{
	struct field f[NFIELDS];
	DECODE(p, n, f);
	if (!good_topic(&f[1]))
		return fail("bad_request", set ? "subscribe: not a topic" : "unsubscribe: not a topic");
	if (set && (!f[2].text || f[2].len == 0 || f[2].len > WACTOR_MAX_METHOD_LEN ||
	            (f[2].len >= 7 && memcmp(f[2].text, "wactor:", 7) == 0)))
		return fail("bad_request", "subscribe: the method is empty, too long or reserved");
	struct name *mine = find_name(h.turn_subs, f[1].text, f[1].len);
	if (set && !(mine && mine->set) && !find_name(h.subs, f[1].text, f[1].len)) {
		size_t subs = count_set(h.turn_subs);
		for (struct name *e = h.subs; e; e = e->next)
			if (!find_name(h.turn_subs, e->name, strlen(e->name)))
				subs++;
		if (subs >= WACTOR_MAX_SUBSCRIPTIONS)
			return fail("too_large", "an actor may subscribe to at most 100 topics");
	}
	put_name(&h.turn_subs, f[1].text, f[1].len, set);
	return result(OK, NULL, 0);
}

uint64_t wactor_host_subscribe_(const void *p, size_t n) { return sub_op(p, n, true); }

uint64_t wactor_host_unsubscribe_(const void *p, size_t n) { return sub_op(p, n, false); }

uint32_t wactor_host_result_(void *p, size_t n)
{
	size_t k = n < h.pending.len ? n : h.pending.len;
	if (k)
		memcpy(p, h.pending.data, k);
	wactor_buf_reset(&h.pending);
	return (uint32_t)k;
}

void wactortest_init(const char *self)
{
	free_entries(&h.state);
	free_entries(&h.writes);
	free_names(&h.timers);
	free_names(&h.reminders);
	free_names(&h.turn_timers);
	free_names(&h.turn_reminders);
	free_names(&h.watching);
	free_names(&h.turn_watches);
	free_names(&h.subs);
	free_names(&h.turn_subs);
	h.published = h.turn_published = 0;
	h.tells = h.turn_tells = h.turn_timer_ops = 0;
	h.forwards = h.turn_forwards = 0;
	snprintf(h.self, sizeof h.self, "%s", self);
	wactor_buf_reset(&h.code);
	wactor_buf_reset(&h.message);
}

/* Applies the turn's names to the committed ones. */
static void commit_names(struct name **committed, struct name **turn)
{
	for (struct name *e = *turn; e; e = e->next) {
		if (e->set) {
			put_name(committed, e->name, strlen(e->name), true);
			continue;
		}
		for (struct name **l = committed; *l; l = &(*l)->next) {
			if (strcmp((*l)->name, e->name) == 0) {
				struct name *gone = *l;
				*l = gone->next;
				free(gone->name);
				free(gone);
				break;
			}
		}
	}
	free_names(turn);
}

int wactortest_call(const char *method, const void *payload, size_t n, wactor_buf *reply)
{
	/* Request (ABI 5.1): {1: kind, 2: method, 3: payload?, 5: id} */
	static uint64_t seq;
	char id[32];
	snprintf(id, sizeof id, "msg-%llu", (unsigned long long)++seq);
	wactor_buf req = WACTOR_BUF_INIT;
	wactor_cbor_map(&req, payload ? 4 : 3);
	wactor_cbor_uint(&req, 1);
	wactor_cbor_uint(&req, WACTOR_KIND_MESSAGE);
	wactor_cbor_uint(&req, 2);
	wactor_cbor_text(&req, method);
	if (payload) {
		wactor_cbor_uint(&req, 3);
		wactor_cbor_bytes(&req, payload, n);
	}
	wactor_cbor_uint(&req, 5);
	wactor_cbor_text(&req, id);

	h.turn_tells = h.turn_timer_ops = h.turn_published = h.turn_forwards = 0;
	wactor_export_handle_(req.data, (uint32_t)req.len);
	wactor_buf_free(&req);

	size_t len;
	const uint8_t *env = wactor_native_reply_(&len);
	struct field f[NFIELDS];
	wactor_buf_reset(&h.code);
	wactor_buf_reset(&h.message);
	wactor_buf_reset(reply);
	bool failed = !decode(env, len, f) || f[2].present;
	if (failed) {
		wactor_buf_append(&h.code, f[2].text ? f[2].text : "bad_reply", f[2].text ? f[2].len : 9);
		wactor_buf_append(&h.message, f[3].text ? f[3].text : "", f[3].len);
		free_entries(&h.writes);
		free_names(&h.turn_timers);
		free_names(&h.turn_reminders);
		free_names(&h.turn_watches);
		free_names(&h.turn_subs);
		return WACTOR_ERR;
	}
	for (struct entry *e = h.writes; e; e = e->next)
		put(&h.state, e->key, strlen(e->key), e->value, e->len, e->deleted);
	free_entries(&h.writes);
	h.tells += h.turn_tells;
	h.forwards += h.turn_forwards;
	commit_names(&h.timers, &h.turn_timers);
	commit_names(&h.reminders, &h.turn_reminders);
	commit_names(&h.watching, &h.turn_watches);
	commit_names(&h.subs, &h.turn_subs);
	h.published += h.turn_published;
	if (f[1].present)
		wactor_buf_append(reply, f[1].text, f[1].len);
	return WACTOR_OK;
}

const char *wactortest_code(void) { return wactor_buf_cstr(&h.code); }

const char *wactortest_message(void) { return wactor_buf_cstr(&h.message); }

int wactortest_state(const char *key, const uint8_t **value, size_t *n)
{
	struct entry *e = find(h.state, key, strlen(key));
	if (!e || e->deleted)
		return WACTOR_NOT_FOUND;
	*value = e->value;
	*n = e->len;
	return WACTOR_OK;
}

size_t wactortest_tells(void) { return h.tells; }

size_t wactortest_forwards(void) { return h.forwards; }

size_t wactortest_timers(void) { return count_set(h.timers); }

size_t wactortest_reminders(void) { return count_set(h.reminders); }

size_t wactortest_watching(void) { return count_set(h.watching); }

size_t wactortest_published(void) { return h.published; }

size_t wactortest_subscriptions(void) { return count_set(h.subs); }
