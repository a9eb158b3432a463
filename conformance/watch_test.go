package conformance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func init() {
	scenarios = append(scenarios, scenario{"watch", testWatch})
}

// lifecycles returns the payloads of the lifecycle messages ref stored
// (state keys "lifecycle/<message id>"), decoded.
func lifecycles(t *testing.T, e *env, ref string) []map[string]string {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	snap, err := e.h.State(context.Background(), r)
	require.NoError(t, err)
	var got []map[string]string
	for k, v := range snap.State {
		if strings.HasPrefix(k, "lifecycle/") {
			m := map[string]string{}
			require.NoError(t, cbor.Unmarshal(v, &m), "the lifecycle message %x under %q is not a map of texts", v, k)
			got = append(got, m)
		}
	}
	return got
}

// deactivated asks ref to deactivate and waits until it has.
func deactivated(t *testing.T, e *env, ref string) {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	requireEmpty(t, e.h, ref, "deactivate", nil)
	require.Eventually(t, func() bool { return !slices.Contains(e.h.Activations(), r) },
		eventually, tick, "%s asked to be deactivated but is still active", ref)
}

// waitLifecycles waits until watcher has stored n lifecycle messages, all
// saying that watched deactivated on request, and requires no more.
func waitLifecycles(t *testing.T, e *env, watcher, watched string, n int) {
	t.Helper()
	want := map[string]string{"ref": watched, "reason": abi.ReasonRequested}
	var got []map[string]string
	require.Eventually(t, func() bool {
		got = lifecycles(t, e, watcher)
		return len(got) >= n
	}, eventually, tick, "%s: waiting for %d lifecycle messages of %s; got %v", watcher, n, watched, got)
	time.Sleep(100 * time.Millisecond) // time for one too many to arrive
	got = lifecycles(t, e, watcher)
	require.Len(t, got, n, "%s must get exactly one lifecycle message per deactivation of %s: %v", watcher, watched, got)
	for _, m := range got {
		assert.Equal(t, want, m)
	}
}

func testWatch(t *testing.T, e *env) {
	watcher := e.ref("watcher")
	watched := e.peer + "/watched-by-" + e.lang

	// Watching an actor that is not active tells nothing until it next
	// deactivates.
	requireEmpty(t, e.h, watcher, "watch", M{"to": watched})
	time.Sleep(100 * time.Millisecond)
	require.Empty(t, lifecycles(t, e, watcher))

	mustAsk(t, e.h, watched, "whoami", nil)
	deactivated(t, e, watched)
	waitLifecycles(t, e, watcher, watched, 1)

	// The watch lasts: the next deactivation is told too, once.
	requireEmpty(t, e.h, watcher, "watch", M{"to": watched}) // watching again changes nothing
	mustAsk(t, e.h, watched, "whoami", nil)
	deactivated(t, e, watched)
	waitLifecycles(t, e, watcher, watched, 2)

	// After unwatch nothing more comes.
	requireEmpty(t, e.h, watcher, "unwatch", M{"to": watched})
	requireEmpty(t, e.h, watcher, "unwatch", M{"to": watched}) // unwatching again is fine
	mustAsk(t, e.h, watched, "whoami", nil)
	deactivated(t, e, watched)
	waitLifecycles(t, e, watcher, watched, 2)

	// The host's refusals reach the actor, which fails with them.
	_, err := ask(t, e.h, watcher, "watch", M{"to": watcher})
	requireCode(t, err, abi.CodeBadRequest)
	_, err = ask(t, e.h, watcher, "watch", M{"to": "no-such-type/x"})
	requireCode(t, err, abi.CodeUnknownType)
	_, err = ask(t, e.h, watcher, "watch", M{"to": "not a ref"})
	requireCode(t, err, abi.CodeBadRequest)
	// Nobody else may send a lifecycle message.
	_, err = ask(t, e.h, watcher, "tell", M{"to": e.peer + "/x", "method": abi.MethodDeactivated})
	requireCode(t, err, abi.CodeBadRequest)
	_, err = ask(t, e.h, watcher, abi.MethodDeactivated, M{"ref": watched, "reason": "forged"})
	requireCode(t, err, abi.CodeBadRequest)
}
