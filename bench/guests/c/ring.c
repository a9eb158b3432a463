/*
 * ring: one node of the benchmark ring, and its sink (C twin of
 * bench/guests/ring).
 *
 *   pass {"n": N, "h": hops}  node ring/<i>: with hops left, tells
 *                             ring/<(i+1) mod N> pass {"n": N, "h": hops-1};
 *                             with none left, tells ring/sink done {}
 *   done                      sink: counts finished tokens (state "done")
 *   get  -> {"done": count}   sink: the count, for the benchmark to poll
 */
#include <stdlib.h>
#include <string.h>

#include "wactor.h"

static long my_index = -1; /* this node's i, parsed once from wactor_self() */

static int node_index(long *i)
{
	if (my_index < 0) {
		const char *self = wactor_self();
		const char *slash = self ? strchr(self, '/') : NULL;
		if (!slash)
			return wactor_fail("bad_request", "ring: cannot read my own id");
		my_index = strtol(slash + 1, NULL, 10);
	}
	*i = my_index;
	return WACTOR_OK;
}

static int pass(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t n, hops;
	long i;
	(void)reply;
	if (wactor_map_int(msg->payload, msg->payload_len, "n", &n) != WACTOR_OK || n <= 0 ||
	    wactor_map_int(msg->payload, msg->payload_len, "h", &hops) != WACTOR_OK)
		return wactor_fail("bad_request", "pass wants {\"n\": ring size, \"h\": hops left}");
	if (hops <= 0) {
		static const unsigned char empty_map[] = {0xa0};
		return wactor_tell("ring/sink", "done", empty_map, sizeof empty_map);
	}
	if (node_index(&i) != WACTOR_OK)
		return WACTOR_ERR;

	unsigned char mem[64], to[32];
	wactor_buf next, target;
	wactor_buf_init_fixed(&next, mem, sizeof mem);
	wactor_cbor_map(&next, 2);
	wactor_cbor_text(&next, "n");
	wactor_cbor_int(&next, n);
	wactor_cbor_text(&next, "h");
	wactor_cbor_int(&next, hops - 1);
	wactor_buf_init_fixed(&target, to, sizeof to);
	wactor_buf_append_str(&target, "ring/");
	wactor_buf_append_int(&target, (i + 1) % n);
	return wactor_tell(wactor_buf_cstr(&target), "pass", next.data, next.len);
}

static int done(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t count = 0;
	(void)msg;
	(void)reply;
	if (wactor_state_get_int("done", &count) == WACTOR_ERR)
		return WACTOR_ERR;
	return wactor_state_set_int("done", count + 1);
}

static int get(const wactor_msg *msg, wactor_buf *reply)
{
	int64_t count = 0;
	(void)msg;
	if (wactor_state_get_int("done", &count) == WACTOR_ERR)
		return WACTOR_ERR;
	wactor_cbor_map(reply, 1);
	wactor_cbor_text(reply, "done");
	wactor_cbor_int(reply, count);
	return WACTOR_OK;
}

static const wactor_method methods[] = {
	{"pass", pass},
	{"done", done},
	{"get", get},
};

WACTOR_INIT
{
	wactor_handle_methods(methods, sizeof methods / sizeof methods[0]);
}
