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

// In a cluster, a call chain that comes back to a reentrant actor without
// leaving its node nests, as on one node; one that went through another
// node fails with deadlock, at once.
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

	t.Run("a chain through another node is a deadlock", func(t *testing.T) {
		c := ownedBy(t, nodes, "plain", "c", "n2")
		start := time.Now()
		_, err := ask(ctx, t, nodes[0].h, a, "set_then_ask", back(c))
		require.ErrorIs(t, err, abi.ErrDeadlock)
		assert.Contains(t, err.Error(), a.String()+" -> "+c.String()+" -> "+a.String())
		assert.Less(t, time.Since(start), 3*time.Second, "a cycle fails at once, not by timeout")
	})
}
