package conformance_test

import (
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func init() { scenarios = append(scenarios, forwardScenarios...) }

var forwardScenarios = []scenario{
	{"forward_chain", func(t *testing.T, e *env) {
		// conf-L forwards to its peer, which forwards back to conf-L's
		// echo: the last actor's reply answers the asker, byte for byte.
		got, err := ask(t, e.h, e.ref("fwd-first"), "forward", M{
			"to": e.peer + "/fwd-by-" + e.lang, "method": "forward",
			"payload": M{"to": e.ref("fwd-last"), "method": "echo", "payload": cbor.RawMessage(nested)},
		})
		require.NoError(t, err)
		assert.Equal(t, nested, got, "the chain's last reply answers the asker")

		// The actor forwarded to sees the forwarder as the sender.
		reply := mustAsk(t, e.h, e.ref("fwd-who"), "forward", M{"to": e.peer + "/who-fwd-" + e.lang, "method": "whoami"})
		assert.Equal(t, e.ref("fwd-who"), text(t, reply, "sender"))
		assert.Equal(t, e.peer+"/who-fwd-"+e.lang, text(t, reply, "self"))
	}},

	{"forward_errors", func(t *testing.T, e *env) {
		// The error of the actor forwarded to answers the asker.
		_, err := ask(t, e.h, e.ref("fwd-fail"), "forward", M{"to": e.peer + "/fwd-fail-" + e.lang, "method": "fail",
			"payload": M{"code": "insufficient_funds", "message": "forwarded by " + e.typ}})
		requireError(t, err, "insufficient_funds", "forwarded by "+e.typ)
		_, err = ask(t, e.h, e.ref("fwd-bad"), "forward", M{"to": "no-such-type/x", "method": "echo"})
		requireCode(t, err, abi.CodeUnknownType)

		// A forward back to the actor that waits for the reply closes a
		// cycle: the asker gets deadlock.
		asker := e.ref("fwd-asker")
		_, err = ask(t, e.h, asker, "ask", M{"to": e.ref("fwd-middle"), "method": "forward",
			"payload": M{"to": asker, "method": "echo"}})
		requireCode(t, err, abi.CodeDeadlock)

		// The asker's deadline holds across the forward.
		start := time.Now()
		_, err = ask(t, e.h, e.ref("fwd-waiter"), "ask", M{"to": e.ref("fwd-slow"), "method": "forward", "timeout_ms": 300,
			"payload": M{"to": "hostile/spin-fwd-" + e.lang, "method": "spin"}})
		requireCode(t, err, abi.CodeTimeout)
		assert.Less(t, time.Since(start), hostileTurnTimeout, "the asker waited past its own deadline")
		// Both actors still answer.
		_, err = ask(t, e.h, e.ref("fwd-slow"), "echo", M{})
		require.NoError(t, err)
	}},
}
