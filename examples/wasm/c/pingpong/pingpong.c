/*
 * pingpong: one actor type that plays both sides.
 *
 *   ping {"peer": "pingpong-c/<id>", "count": k}
 *        asks the peer's method pong k times, then -> {"pongs": k}
 *   pong {} -> {}
 *
 * A failed ask (timeout, deadlock, ...) fails the ping with the host's code.
 */
#include "wactor.h"

static int ping(const wactor_msg *msg, wactor_buf *reply)
{
	const char *peer;
	size_t peer_len;
	int64_t count;
	if (wactor_map_text(msg->payload, msg->payload_len, "peer", &peer, &peer_len) != WACTOR_OK ||
	    peer_len == 0)
		return wactor_fail("bad_request", "ping wants {\"peer\": \"type/id\", \"count\": integer}");
	if (wactor_map_int(msg->payload, msg->payload_len, "count", &count) != WACTOR_OK ||
	    count < 0)
		return wactor_fail("bad_request", "count must be an integer >= 0");

	/* The peer's text points into the payload and is not NUL-terminated. */
	wactor_buf target = WACTOR_BUF_INIT;
	wactor_buf_append(&target, peer, peer_len);
	const char *to = wactor_buf_cstr(&target);

	static const unsigned char empty_map[] = {0xa0}; /* {} */
	int st = WACTOR_OK;
	int64_t pongs = 0;
	for (; pongs < count; pongs++) {
		st = wactor_ask(to, "pong", empty_map, sizeof empty_map, 0, NULL);
		if (st != WACTOR_OK)
			break;
	}
	wactor_buf_free(&target);
	if (st != WACTOR_OK)
		return WACTOR_ERR; /* the pending error is the host's */

	wactor_cbor_map(reply, 1);
	wactor_cbor_text(reply, "pongs");
	wactor_cbor_int(reply, pongs);
	return WACTOR_OK;
}

static int pong(const wactor_msg *msg, wactor_buf *reply)
{
	(void)msg;
	wactor_cbor_map(reply, 0);
	return WACTOR_OK;
}

WACTOR_INIT
{
	wactor_handle_method("ping", ping);
	wactor_handle_method("pong", pong);
}
