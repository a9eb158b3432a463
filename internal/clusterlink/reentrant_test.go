package clusterlink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
)

// In a cluster, a call chain that comes back to a reentrant actor nests
// in its waiting turn, whether it stayed on the actor's node or went
// through others; a plain actor's cycle still fails with deadlock, at
// once.
func TestReentrantInCluster(t *testing.T) {
	conf := testwasm.C(t, "conformance")
	nodes := startCluster(t,
		host.TypeConfig{Name: "re", Module: conf, Reentrant: true},
		host.TypeConfig{Name: "plain", Module: conf})
	ctx := context.Background()
	a := ownedBy(t, nodes, "re", "a", "n1")
	back := func(via abi.Ref) M {
		return M{"key": "k", "value": 1, "to": via.String(), "method": "ask",
			"payload": M{"to": a.String(), "method": "get", "payload": M{"key": "k"}}}
	}

	t.Run("a chain on one node nests", func(t *testing.T) {
		got, err := ask(ctx, t, nodes[2].h, a, "set_then_ask", back(ownedBy(t, nodes, "plain", "b", "n1")))
		require.NoError(t, err)
		assert.Equal(t, cborOf(t, M{"reply": M{"reply": M{"value": 1}}}), cborOf(t, got), "the nested get sees the waiting turn's write")
	})

	t.Run("a chain through other nodes nests", func(t *testing.T) {
		c := ownedBy(t, nodes, "plain", "c", "n2")
		got, err := ask(ctx, t, nodes[0].h, a, "set_then_ask", back(c))
		require.NoError(t, err)
		assert.Equal(t, cborOf(t, M{"reply": M{"reply": M{"value": 1}}}), cborOf(t, got))

		// a (n1) -> c (n2) -> d (n3) -> a: the nested write commits with a's turn.
		d := ownedBy(t, nodes, "plain", "d", "n3")
		p := M{"key": "outer", "value": 1, "to": c.String(), "method": "ask", "payload": M{"to": d.String(), "method": "ask",
			"payload": M{"to": a.String(), "method": "set", "payload": M{"key": "nested", "value": 2}}}}
		_, err = ask(ctx, t, nodes[1].h, a, "set_then_ask", p)
		require.NoError(t, err)
		for key, want := range map[string]int{"outer": 1, "nested": 2} {
			got, err := ask(ctx, t, nodes[2].h, a, "get", M{"key": key})
			require.NoError(t, err)
			assert.Equal(t, cborOf(t, M{"value": want}), cborOf(t, got), key)
		}
	})

	t.Run("a plain actor in a cycle through other nodes is a deadlock", func(t *testing.T) {
		x := ownedBy(t, nodes, "plain", "x", "n1")
		c := ownedBy(t, nodes, "plain", "c", "n2")
		start := time.Now()
		_, err := ask(ctx, t, nodes[0].h, x, "set_then_ask", M{"key": "k", "value": 1, "to": c.String(), "method": "ask",
			"payload": M{"to": x.String(), "method": "get", "payload": M{"key": "k"}}})
		require.ErrorIs(t, err, abi.ErrDeadlock)
		assert.Contains(t, err.Error(), "ask cycle: "+x.String()+" -> "+c.String()+" -> "+x.String())
		assert.Less(t, time.Since(start), 3*time.Second, "a cycle fails at once, not by timeout")
	})

	t.Run("a chain whose turn no longer waits is a deadlock", func(t *testing.T) {
		// An ask that names a's turn in its chain, but no turn of a waits:
		// it does not run as a turn of its own either.
		_, err := nodes[0].h.ServeAsk(ctx, &host.RemoteAsk{Target: a, Method: "get", Payload: cborOf(t, M{"key": "k"}),
			Chain: []string{a.String() + "\x00" + "gone", "plain/c0"}})
		require.ErrorIs(t, err, abi.ErrDeadlock)
		assert.Contains(t, err.Error(), "ask cycle: "+a.String()+" -> plain/c0 -> "+a.String())
	})
}
