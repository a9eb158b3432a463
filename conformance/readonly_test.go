package conformance_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
)

// refusedReadOnly are the conformance methods that change something, and
// what the host says each may not do, when they are declared read-only.
var refusedReadOnly = []struct {
	method, what string
	payload      any
}{
	{"set", "write state", M{"key": "k", "value": 1}},
	{"delete", "delete state", M{"key": "k"}},
	{"tell", "tell", M{"to": "hostile/nobody", "method": "echo"}},
	{"ask", "ask", M{"to": "hostile/nobody", "method": "echo"}},
	{"timer", "set a timer", M{"name": "t", "due_ms": 1000, "method": "echo"}},
	{"cancel_timer", "cancel a timer", M{"name": "t"}},
	{"reminder", "set a reminder", M{"name": "r", "in_ms": 1000, "method": "echo"}},
	{"cancel_reminder", "cancel a reminder", M{"name": "r"}},
}

// deployReadOnly deploys each language's conformance actor twice more:
// as conf-<language>-ro, whose get is read-only, and as
// conf-<language>-rox, whose every method that changes something is.
func deployReadOnly(t *testing.T, h *host.Host) {
	var all []string
	for _, r := range refusedReadOnly {
		all = append(all, r.method)
	}
	deployAs(t, h, "-ro", func(tc *host.TypeConfig) { tc.ReadOnly = []string{"get"} })
	deployAs(t, h, "-rox", func(tc *host.TypeConfig) { tc.ReadOnly = all })
}

func init() { scenarios = append(scenarios, readOnlyScenarios...) }

var readOnlyScenarios = []scenario{
	{"readonly_during_ask", func(t *testing.T, e *env) {
		ref := e.typ + "-ro/reader"
		mustAsk(t, e.h, ref, "set", M{"key": "k", "value": "committed"})
		spin := abi.Ref{Type: "hostile", ID: "spin-ro-" + e.lang}
		var wg sync.WaitGroup
		wg.Add(1)
		var slowErr error
		start := time.Now()
		go func() {
			defer wg.Done()
			_, slowErr = ask(t, e.h, ref, "ask", M{"to": spin.String(), "method": "spin", "timeout_ms": 600})
		}()
		require.Eventually(t, func() bool { return slices.Contains(e.h.Activations(), spin) }, eventually, time.Millisecond,
			"the slow ask never reached %s", spin)
		// get is read-only: it answers while the ask waits.
		assert.Equal(t, encode(t, "committed"), getValue(t, e.h, ref, "k"))
		assert.Less(t, time.Since(start), 500*time.Millisecond, "get waited for the turn in its ask")
		wg.Wait()
		requireCode(t, slowErr, abi.CodeTimeout)
		// set is not read-only: it ran after the ask, as a turn.
		mustAsk(t, e.h, ref, "set", M{"key": "k", "value": "later"})
		assert.Equal(t, encode(t, "later"), getValue(t, e.h, ref, "k"))
	}},

	{"readonly_refusals", func(t *testing.T, e *env) {
		ref := e.typ + "-rox/refuses"
		for _, c := range refusedReadOnly {
			_, err := ask(t, e.h, ref, c.method, c.payload)
			e := requireCode(t, err, abi.CodeBadRequest)
			assert.Equal(t, ref+"."+c.method+" is read-only and may not "+c.what, e.Message)
		}
		// Methods that change nothing still run, and nothing was kept.
		requireEmpty(t, e.h, ref, "get", M{"key": "k"})
		got, err := ask(t, e.h, ref, "echo", nested)
		require.NoError(t, err)
		assert.Equal(t, nested, got)
	}},
}
