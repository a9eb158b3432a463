package conformance_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
)

// statelessMax is the max_local of the stateless worker types.
const statelessMax = 4

// deployStateless deploys each language's conformance actor a second
// time, as the stateless worker type conf-<language>-sw.
func deployStateless(t *testing.T, h *host.Host) {
	deployAs(t, h, "-sw", func(tc *host.TypeConfig) { tc.StatelessWorker = statelessMax })
}

// deployAs deploys each language's conformance actor again, as the type
// conf-<language><suffix>, configured by set.
func deployAs(t *testing.T, h *host.Host, suffix string, set func(*host.TypeConfig)) {
	for _, l := range languages {
		tc := host.TypeConfig{
			Name:       "conf-" + l.name + suffix,
			Module:     l.module(t),
			Source:     "conformance-" + l.name + ".wasm",
			MaxMessage: maxMessage,
		}
		set(&tc)
		require.NoError(t, h.Deploy(context.Background(), tc), "deploying the %s conformance actor as %s", l.name, tc.Name)
	}
}

func init() { scenarios = append(scenarios, statelessScenarios...) }

var statelessScenarios = []scenario{
	{"stateless_refuses_state", func(t *testing.T, e *env) {
		sw := e.typ + "-sw"
		ref := sw + "/refuses"
		for _, c := range []struct {
			method, what string
			payload      any
		}{
			{"set", "write state", M{"key": "k", "value": 1}},
			{"delete", "delete state", M{"key": "k"}},
			{"reminder", "set a reminder", M{"name": "r", "in_ms": 1000, "method": "echo"}},
			{"cancel_reminder", "cancel a reminder", M{"name": "r"}},
		} {
			_, err := ask(t, e.h, ref, c.method, c.payload)
			e := requireCode(t, err, abi.CodeBadRequest)
			assert.Equal(t, ref+"."+c.method+" may not "+c.what+": type "+sw+" is a stateless worker, which keeps no state", e.Message)
		}
		// It reads no state, and its instance is sound after a refusal.
		requireEmpty(t, e.h, ref, "get", M{"key": "k"})
		got, err := ask(t, e.h, ref, "echo", nested)
		require.NoError(t, err)
		assert.Equal(t, nested, got)
	}},

	{"stateless_concurrent", func(t *testing.T, e *env) {
		ref := e.typ + "-sw/busy"
		r, err := abi.ParseRef(ref)
		require.NoError(t, err)
		// The first instance waits in an ask that times out after 600 ms.
		var wg sync.WaitGroup
		wg.Add(1)
		var slowErr error
		start := time.Now()
		go func() {
			defer wg.Done()
			_, slowErr = ask(t, e.h, ref, "ask", M{"to": "hostile/spin-sw-" + e.lang, "method": "spin", "timeout_ms": 600})
		}()
		// Meanwhile the same actor answers at once, from another instance.
		require.Eventually(t, func() bool { return instances(e.h, r) >= 1 }, eventually, time.Millisecond)
		got, err := ask(t, e.h, ref, "echo", nested)
		require.NoError(t, err)
		assert.Equal(t, nested, got)
		assert.Less(t, time.Since(start), 500*time.Millisecond, "the echo waited for the busy instance")
		assert.Equal(t, 2, instances(e.h, r), "two instances of %s", ref)
		wg.Wait()
		requireCode(t, slowErr, abi.CodeTimeout)
	}},

	{"stateless_tells", func(t *testing.T, e *env) {
		// What a stateless worker's turn sends commits as any turn's does.
		target := e.peer + "/told-by-sw-" + e.lang
		requireEmpty(t, e.h, e.typ+"-sw/teller", "tell", M{
			"to": target, "method": "set", "payload": M{"key": "from", "value": "sw " + e.lang},
		})
		waitValue(t, e.h, target, "from", encode(t, "sw "+e.lang))
	}},
}

// instances counts the live activations of ref.
func instances(h *host.Host, ref abi.Ref) int {
	n := 0
	for _, r := range h.Activations() {
		if r == ref {
			n++
		}
	}
	return n
}
