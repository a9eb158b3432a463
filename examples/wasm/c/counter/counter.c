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

static int reply_total(wactor_buf *reply, int64_t total)
{
	wactor_cbor_map(reply, 1);
	wactor_cbor_text(reply, "n");
	wactor_cbor_int(reply, total);
	return WACTOR_OK;
}

static int add(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t n, total = 0;
	if (wactor_map_int(msg->payload, msg->payload_len, "n", &n) != WACTOR_OK)
		return wactor_fail("bad_request", "add needs an integer \"n\", as in {\"n\": 5}");
	if (wactor_state_get_int("n", &total) == WACTOR_ERR)
		return WACTOR_ERR;
	if ((n > 0 && total > INT64_MAX - n) || (n < 0 && total < INT64_MIN - n))
		return wactor_fail("bad_request", "the total would overflow");
	total += n;
	if (wactor_state_set_int("n", total) != WACTOR_OK)
		return WACTOR_ERR;
	return reply_total(reply, total);
}

static int get(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t total = 0;
	(void)msg;
	if (wactor_state_get_int("n", &total) == WACTOR_ERR)
		return WACTOR_ERR;
	return reply_total(reply, total);
}

static const wactor_method methods[] = {
	{"add", add},
	{"get", get},
};

WACTOR_INIT
{
	wactor_handle_methods(methods, sizeof methods / sizeof methods[0]);
}
