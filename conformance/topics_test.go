package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func init() {
	scenarios = append(scenarios, scenario{"topics", testTopics})
}

func testTopics(t *testing.T, e *env) {
	sub := e.ref("sub")
	pub := e.peer + "/pub-for-" + e.lang
	topic := "conf." + e.lang + ".news"
	requireEmpty(t, e.h, sub, "subscribe", M{"topic": topic, "method": "set"})

	// A publication from an actor of another language reaches the
	// subscriber's method, byte for byte.
	requireEmpty(t, e.h, pub, "publish", M{"topic": topic, "payload": M{"key": "news", "value": cbor.RawMessage(nested)}})
	waitValue(t, e.h, sub, "news", nested)

	// One publisher's messages arrive in the order it published them.
	for i := range 20 {
		requireEmpty(t, e.h, pub, "publish", M{"topic": topic, "payload": M{"key": "seq", "value": i}})
	}
	waitValue(t, e.h, sub, "seq", encode(t, 19))

	// From outside.
	require.NoError(t, e.h.Publish(context.Background(), topic, encode(t, M{"key": "outside", "value": "yes"})))
	waitValue(t, e.h, sub, "outside", encode(t, "yes"))

	// After unsubscribe nothing more arrives.
	requireEmpty(t, e.h, sub, "unsubscribe", M{"topic": topic})
	requireEmpty(t, e.h, sub, "unsubscribe", M{"topic": topic})
	requireEmpty(t, e.h, pub, "publish", M{"topic": topic, "payload": M{"key": "late", "value": 1}})
	requireEmpty(t, e.h, pub, "publish", M{"topic": "conf." + e.lang + ".other", "payload": M{"key": "late", "value": 1}})
	time.Sleep(200 * time.Millisecond)
	requireEmpty(t, e.h, sub, "get", M{"key": "late"})

	// The host's refusals reach the actor.
	_, err := ask(t, e.h, pub, "publish", M{"topic": "not a topic"})
	requireCode(t, err, abi.CodeBadRequest)
	_, err = ask(t, e.h, sub, "subscribe", M{"topic": "rooms.*", "method": "set"})
	requireCode(t, err, abi.CodeBadRequest)
	_, err = ask(t, e.h, sub, "subscribe", M{"topic": topic, "method": abi.MethodDeactivated})
	requireCode(t, err, abi.CodeBadRequest)
}
