/*
 * counter: the C twin of the Go counter example.
 *
 *   add {"n": int} -> {"n": total}   adds n to the total
 *   get            -> {"n": total}
 *
 * The total lives in state key "n" as a CBOR integer (absent means 0). A
 * missing or non-integer n is an application error with code bad_request.
 */
#include "wactor.h"

/* {"n": 5}: add's request and both methods' reply. */
typedef struct { int64_t n; } total;
static const wactor_field total_fields[] = {WACTOR_FIELD(total, n, WACTOR_INT, WACTOR_REQUIRED)};

static int add(const wactor_msg *msg, wactor_buf *reply)
{
	total req, t = {0};
	WACTOR_TRY(WACTOR_DECODE(msg, total_fields, &req));
	WACTOR_TRY(wactor_state_get_int("n", &t.n));
	if (__builtin_add_overflow(t.n, req.n, &t.n))
		return wactor_fail("bad_request", "the total would overflow");
	WACTOR_TRY(wactor_state_set_int("n", t.n));
	return WACTOR_ENCODE(reply, total_fields, &t);
}

static int get(const wactor_msg *msg, wactor_buf *reply)
{
	total t = {0};
	(void)msg;
	WACTOR_TRY(wactor_state_get_int("n", &t.n));
	return WACTOR_ENCODE(reply, total_fields, &t);
}

WACTOR_INIT
{
	wactor_handle_method("add", add);
	wactor_handle_method("get", get);
}
