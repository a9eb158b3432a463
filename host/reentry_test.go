package host_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// reHost deploys the C conformance actor as the reentrant type "re" and
// as the plain type "plain", the C reentrant example as "rex" (reentrant)
// and the Go hostile actor, with dispatch d.
func reHost(t *testing.T, d scheduler.Dispatch) (*host.Host, storage.Store) {
	t.Helper()
	conf := testwasm.C(t, "conformance")
	store := memstore.New()
	h := newHostConfig(t, host.Config{Store: store, Dispatch: d},
		host.TypeConfig{Name: "re", Module: conf, Reentrant: true, AskTimeout: 10 * time.Second},
		host.TypeConfig{Name: "plain", Module: conf, AskTimeout: 10 * time.Second},
		host.TypeConfig{Name: "rex", Module: testwasm.C(t, "reentrant"), Reentrant: true, AskTimeout: 10 * time.Second, TurnTimeout: 500 * time.Millisecond},
		host.TypeConfig{Name: "hostile", Module: testwasm.Go(t, "hostile"), TurnTimeout: 2 * time.Second},
	)
	return h, store
}

var reDispatches = map[string]scheduler.Dispatch{"goroutines": scheduler.Goroutines, "deterministic": {Deterministic: true}}

func reAsk(t *testing.T, h *host.Host, to, method string, payload any) ([]byte, error) {
	t.Helper()
	ref, err := abi.ParseRef(to)
	require.NoError(t, err)
	body, err := cbor.Marshal(payload)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.Ask(ctx, ref, method, body)
}

// committed is the state the store holds for actor.
func committed(t *testing.T, store storage.Store, actor string) map[string][]byte {
	t.Helper()
	snap, err := store.Load(context.Background(), actor)
	require.NoError(t, err)
	return snap.State
}

func requireCode(t *testing.T, err error, code string) *abi.Error {
	t.Helper()
	var e *abi.Error
	require.ErrorAs(t, err, &e, "want an error with code %s", code)
	require.Equal(t, code, e.Code, "the error: %v", err)
	return e
}

// backTo is the payload of an ask to via, which asks to's method back.
func backTo(via, to, method string, payload any) M {
	return M{"to": via, "method": "ask", "payload": M{"to": to, "method": method, "payload": payload}}
}

func TestReentrantNestedCallsJoinTheTurn(t *testing.T) {
	for name, d := range reDispatches {
		t.Run(name, func(t *testing.T) {
			h, store := reHost(t, d)

			// A nested get sees the waiting turn's buffered write.
			p := backTo("plain/b", "re/read", "get", M{"key": "k"})
			p["key"], p["value"] = "k", 1
			got, err := reAsk(t, h, "re/read", "set_then_ask", p)
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{"reply": M{"reply": M{"value": 1}}}), got)

			// A nested write commits with the turn.
			p = backTo("plain/b", "re/write", "set", M{"key": "nested", "value": 2})
			p["key"], p["value"] = "outer", 1
			_, err = reAsk(t, h, "re/write", "set_then_ask", p)
			require.NoError(t, err)
			assert.Equal(t, map[string][]byte{"outer": cborOf(t, 1), "nested": cborOf(t, 2)}, committed(t, store, "re/write"))
			got, err = reAsk(t, h, "re/write", "get", M{"key": "nested"})
			require.NoError(t, err, "the instance serves the next turn")
			assert.Equal(t, cborOf(t, M{"value": 2}), got)

			// The outer turn's failure rolls back its own write and the nested one.
			p = backTo("plain/b", "re/undo", "set", M{"key": "nested", "value": 2})
			p["key"], p["value"], p["fail"] = "outer", 1, "changed_my_mind"
			_, err = reAsk(t, h, "re/undo", "set_then_ask", p)
			requireCode(t, err, "changed_my_mind")
			assert.Empty(t, committed(t, store, "re/undo"))
			got, err = reAsk(t, h, "re/undo", "get", M{"key": "nested"})
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{}), got, "the rolled-back nested write is not in the activation's state either")

			// An ask to itself nests.
			got, err = reAsk(t, h, "re/self", "set_then_ask", M{"key": "k", "value": 3, "to": "re/self", "method": "get", "payload": M{"key": "k"}})
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{"reply": M{"value": 3}}), got)

			// A plain actor in the same cycle still gets deadlock, at once.
			start := time.Now()
			p = backTo("re/c", "plain/a", "get", M{"key": "k"})
			p["key"], p["value"] = "k", 1
			_, err = reAsk(t, h, "plain/a", "set_then_ask", p)
			e := requireCode(t, err, abi.CodeDeadlock)
			assert.Contains(t, e.Message, "ask cycle")
			assert.Less(t, time.Since(start), 5*time.Second)

			// Nesting is bounded.
			deep := func(n int) M {
				p := M{"key": "k"}
				method := "get"
				for range n {
					p = M{"to": "re/deep", "method": method, "payload": p}
					method = "ask"
				}
				return p
			}
			_, err = reAsk(t, h, "re/deep", "ask", deep(abi.MaxNesting))
			require.NoError(t, err, "nesting %d deep", abi.MaxNesting)
			_, err = reAsk(t, h, "re/deep", "ask", deep(abi.MaxNesting+1))
			e = requireCode(t, err, abi.CodeDeadlock)
			assert.Contains(t, e.Message, "over the limit of 16")
		})
	}
}

// An ask that is not on the waiting turn's call chain (a client's) waits
// for the turn: it never sees the turn's buffered write.
func TestReentrantOffChainAskWaits(t *testing.T) {
	h, _ := reHost(t, scheduler.Goroutines)
	type outcome struct{ err error }
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		_, err := reAsk(t, h, "re/w", "set_then_ask", M{"key": "k", "value": 1, "to": "hostile/spin-re", "method": "spin", "timeout_ms": 300})
		done <- outcome{err}
	}()
	spin := abi.Ref{Type: "hostile", ID: "spin-re"}
	require.Eventually(t, func() bool { return slices.Contains(h.Activations(), spin) }, 10*time.Second, time.Millisecond)
	got, err := reAsk(t, h, "re/w", "get", M{"key": "k"})
	took := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, cborOf(t, M{}), got, "the get ran after the failed turn, not nested in it")
	requireCode(t, (<-done).err, abi.CodeTimeout)
	assert.GreaterOrEqual(t, took, 300*time.Millisecond, "the get did not wait for the turn's ask to time out")
}

func TestReentrantDeployRefusals(t *testing.T) {
	ctx := context.Background()
	h := memHost(t)
	err := h.Deploy(ctx, host.TypeConfig{Name: "g", Module: testwasm.Go(t, "conformance"), Reentrant: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "built by the standard Go toolchain, whose runtime does not promise to take a second call into an instance while the first waits in a host call")
	err = h.Deploy(ctx, host.TypeConfig{Name: "h", Module: testwasm.C(t, "hostile"), Reentrant: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it exports no wactor_reentrant () -> i32 returning 1")
	err = h.Deploy(ctx, host.TypeConfig{Name: "w", Module: testwasm.C(t, "conformance"), Reentrant: true, StatelessWorker: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host: type w: reentrant: call_chain and stateless_worker do not go together")
	// The same modules deploy without the option.
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "g", Module: testwasm.Go(t, "conformance")}))
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "c", Module: testwasm.C(t, "conformance"), Reentrant: true}))
}

// A nested call that answers with an error drops only its own effects:
// the turn it nests in goes on and commits its own.
func TestReentrantNestedErrorIsASavepoint(t *testing.T) {
	for name, d := range reDispatches {
		t.Run(name, func(t *testing.T) {
			h, store := reHost(t, d)
			p := backTo("plain/b", "rex/a", "set_then_fail", M{"key": "nested", "value": 2})
			p["key"], p["value"] = "outer", 1
			got, err := reAsk(t, h, "rex/a", "try_ask", p)
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{"error": "refused"}), got)
			assert.Equal(t, map[string][]byte{"outer": cborOf(t, 1)}, committed(t, store, "rex/a"))

			// A nested tell joins the turn: it leaves when the turn commits.
			p = backTo("plain/b", "rex/a", "tell", M{"to": "rex/told", "method": "set", "payload": M{"key": "by", "value": "nested"}})
			p["key"], p["value"] = "outer", 2
			got, err = reAsk(t, h, "rex/a", "try_ask", p)
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{"reply": M{"reply": M{}}}), got)
			require.Eventually(t, func() bool {
				h.RunUntilIdle()
				return string(committed(t, store, "rex/told")["by"]) == string(cborOf(t, "nested"))
			}, 10*time.Second, 5*time.Millisecond, "the nested call's tell never arrived")
		})
	}
}

// A nested call that traps, or runs past its execution limit, breaks the
// instance: its asker gets the error, the turn it nests in fails when its
// ask returns, nothing of the turn commits, and the next message gets a
// new instance.
func TestReentrantNestedTrapBreaksInstance(t *testing.T) {
	for name, d := range reDispatches {
		t.Run(name, func(t *testing.T) {
			h, store := reHost(t, d)
			for _, c := range []struct{ method, code, says string }{
				{"trap", abi.CodeTrapped, "rex/t.trap trapped in wactor_handle"},
				{"spin", abi.CodeTurnTimeout, "rex/t.spin ran past its execution limit of 500ms"},
			} {
				p := backTo("plain/b", "rex/t", c.method, M{})
				p["key"], p["value"] = "outer", 1
				start := time.Now()
				_, err := reAsk(t, h, "rex/t", "try_ask", p)
				e := requireCode(t, err, c.code)
				assert.Contains(t, e.Message, "rex/t.try_ask: a nested call broke the instance: ")
				assert.Contains(t, e.Message, c.says)
				assert.Less(t, time.Since(start), 5*time.Second)
				assert.Empty(t, committed(t, store, "rex/t"))
				got, err := reAsk(t, h, "rex/t", "get", M{"key": "outer"})
				require.NoError(t, err, "a new instance serves the next message")
				assert.Equal(t, cborOf(t, M{}), got)
			}
		})
	}
}
