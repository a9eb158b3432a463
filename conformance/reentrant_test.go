package conformance_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
)

// reentrantDeploys are the outcomes of deploying each language's
// conformance actor as conf-<language>-re, with reentrant: call_chain.
var reentrantDeploys = map[string]error{}

// goRefusal is what deploying a standard-Go module as a reentrant type
// says.
const goRefusal = "built by the standard Go toolchain, whose runtime does not promise to take a second call into an instance while the first waits in a host call"

// deployReentrant deploys each language's conformance actor as
// conf-<language>-re, reentrant; the outcome is each language's
// scenario's to judge (Go's must be refused).
func deployReentrant(t *testing.T, h *host.Host) {
	for _, l := range languages {
		reentrantDeploys[l.name] = h.Deploy(context.Background(), host.TypeConfig{
			Name:       "conf-" + l.name + "-re",
			Module:     l.module(t),
			Source:     "conformance-" + l.name + ".wasm",
			MaxMessage: maxMessage,
			Reentrant:  true,
		})
	}
}

// reentrant returns the reentrant type of the language under test, once
// it has checked its deploy: Go's must have been refused, saying why
// (then there is nothing more to run, and it returns ""); the others'
// must have succeeded.
func reentrant(t *testing.T, e *env) string {
	t.Helper()
	err := reentrantDeploys[e.lang]
	if e.lang == "go" {
		require.Error(t, err, "a standard-Go module must not deploy as a reentrant type")
		assert.Contains(t, err.Error(), goRefusal)
		return ""
	}
	require.NoError(t, err, "deploying the %s conformance actor as reentrant: does its SDK export wactor_reentrant?", e.lang)
	return e.typ + "-re"
}

// comesBack is the payload of a set_then_ask that stores value under key,
// then asks the peer's ask method to ask method of back (the asker, so
// far) with payload.
func comesBack(e *env, back, method string, payload any, key string, value any) M {
	return M{"key": key, "value": value, "to": e.peer + "/b-" + e.lang, "method": "ask",
		"payload": M{"to": back, "method": method, "payload": payload}}
}

func init() { scenarios = append(scenarios, reentrantScenarios...) }

var reentrantScenarios = []scenario{
	{"reentrant_nested_read", func(t *testing.T, e *env) {
		re := reentrant(t, e)
		if re == "" {
			return // Go: the refusal is the scenario
		}
		a := re + "/read"
		p := comesBack(e, a, "get", M{"key": "k"}, "k", 1)
		got, err := ask(t, e.h, a, "set_then_ask", p)
		require.NoError(t, err)
		assert.Equal(t, encode(t, M{"reply": M{"reply": M{"value": 1}}}), got, "the nested get sees the waiting turn's write")
	}},

	{"reentrant_nested_write_commits", func(t *testing.T, e *env) {
		re := reentrant(t, e)
		if re == "" {
			return
		}
		a := re + "/write"
		p := comesBack(e, a, "set", M{"key": "nested", "value": 2}, "outer", 1)
		got, err := ask(t, e.h, a, "set_then_ask", p)
		require.NoError(t, err)
		assert.Equal(t, encode(t, M{"reply": M{"reply": M{}}}), got)
		assert.Equal(t, encode(t, 1), getValue(t, e.h, a, "outer"))
		assert.Equal(t, encode(t, 2), getValue(t, e.h, a, "nested"), "the nested write committed with the turn")
	}},

	{"reentrant_outer_failure_rolls_back", func(t *testing.T, e *env) {
		re := reentrant(t, e)
		if re == "" {
			return
		}
		a := re + "/undo"
		p := comesBack(e, a, "set", M{"key": "nested", "value": 2}, "outer", 1)
		p["fail"] = "changed_my_mind"
		_, err := ask(t, e.h, a, "set_then_ask", p)
		requireCode(t, err, "changed_my_mind")
		requireEmpty(t, e.h, a, "get", M{"key": "outer"})
		requireEmpty(t, e.h, a, "get", M{"key": "nested"}) // rolled back with the turn it joined
	}},

	{"reentrant_self_ask", func(t *testing.T, e *env) {
		re := reentrant(t, e)
		if re == "" {
			return
		}
		a := re + "/self"
		got, err := ask(t, e.h, a, "set_then_ask", M{"key": "k", "value": 3, "to": a, "method": "get", "payload": M{"key": "k"}})
		require.NoError(t, err)
		assert.Equal(t, encode(t, M{"reply": M{"value": 3}}), got)
	}},

	{"reentrant_plain_still_deadlocks", func(t *testing.T, e *env) {
		if reentrant(t, e) == "" {
			return
		}
		a := e.ref("plain-cycle")
		p := comesBack(e, a, "get", M{"key": "k"}, "k", 1)
		start := time.Now()
		_, err := ask(t, e.h, a, "set_then_ask", p)
		requireCode(t, err, abi.CodeDeadlock)
		assert.Less(t, time.Since(start), 4*time.Second, "the cycle fails at once, not at the ask timeout")
		requireEmpty(t, e.h, a, "get", M{"key": "k"})
	}},

	{"reentrant_off_chain_waits", func(t *testing.T, e *env) {
		re := reentrant(t, e)
		if re == "" {
			return
		}
		a := re + "/waits"
		spin := abi.Ref{Type: "hostile", ID: "spin-re-" + e.lang}
		var wg sync.WaitGroup
		var slowErr error
		start := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, slowErr = ask(t, e.h, a, "set_then_ask", M{"key": "k", "value": 1, "to": spin.String(), "method": "spin", "timeout_ms": 300})
		}()
		require.Eventually(t, func() bool { return slices.Contains(e.h.Activations(), spin) }, eventually, time.Millisecond,
			"the slow ask never reached %s", spin)
		// An ask from outside is not on the turn's chain: it waits for the
		// turn, which fails, and never sees its write.
		requireEmpty(t, e.h, a, "get", M{"key": "k"})
		assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "the get did not wait for the turn")
		wg.Wait()
		requireCode(t, slowErr, abi.CodeTimeout)
	}},
}
