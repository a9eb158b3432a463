/*
 * greeter: hello {"name": text} -> {"greeting": "Hello, <name>!"}
 */
#include "wactor.h"

static int hello(const wactor_msg *msg, wactor_buf *reply)
{
	const char *name;
	size_t len;
	if (wactor_map_text(msg->payload, msg->payload_len, "name", &name, &len) != WACTOR_OK)
		return wactor_fail("bad_request", "hello wants {\"name\": text}");

	wactor_buf greeting = WACTOR_BUF_INIT;
	wactor_buf_append_str(&greeting, "Hello, ");
	wactor_buf_append(&greeting, name, len);
	wactor_buf_append_str(&greeting, "!");

	wactor_cbor_map(reply, 1);
	wactor_cbor_text(reply, "greeting");
	wactor_cbor_textn(reply, (const char *)greeting.data, greeting.len);
	wactor_buf_free(&greeting);
	return WACTOR_OK;
}

WACTOR_INIT
{
	wactor_handle_method("hello", hello);
}
