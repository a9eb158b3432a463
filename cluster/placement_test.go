package cluster

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func nodeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("node-%d", i+1)
	}
	return out
}

func placeAll(keys int, nodes []string) map[string]string {
	out := make(map[string]string, keys)
	for i := range keys {
		k := refKey(abi.Ref{Type: "counter", ID: fmt.Sprint(i)})
		out[k] = Rendezvous(k, nodes)
	}
	return out
}

// TestRendezvousSpread: similar names and similar keys spread evenly.
func TestRendezvousSpread(t *testing.T) {
	const keys = 30_000
	for _, n := range []int{2, 3, 5, 8} {
		nodes := nodeNames(n)
		count := map[string]int{}
		for _, owner := range placeAll(keys, nodes) {
			count[owner]++
		}
		require.Len(t, count, n)
		mean := float64(keys) / float64(n)
		for node, c := range count {
			assert.InDelta(t, mean, float64(c), mean*0.08, "%d nodes: %s owns %d keys, mean %.0f", n, node, c, mean)
		}
	}
}

// TestRendezvousMinimalMovement: a joining node takes only keys from the
// others, about its share; a leaving node's keys are the only ones that
// move, spread over the rest.
func TestRendezvousMinimalMovement(t *testing.T) {
	const keys = 30_000
	five := nodeNames(5)
	six := nodeNames(6)
	before := placeAll(keys, five)
	after := placeAll(keys, six)
	moved := 0
	for k, owner := range after {
		if owner != before[k] {
			moved++
			assert.Equal(t, "node-6", owner, "key %s moved between old members", k)
		}
	}
	assert.InDelta(t, float64(keys)/6, float64(moved), float64(keys)/6*0.1, "join moved %d of %d keys", moved, keys)

	// node-2 leaves the six.
	left := []string{"node-1", "node-3", "node-4", "node-5", "node-6"}
	final := placeAll(keys, left)
	got := map[string]int{}
	for k, owner := range final {
		if after[k] != "node-2" {
			assert.Equal(t, after[k], owner, "key %s moved though its owner stayed", k)
			continue
		}
		got[owner]++
	}
	assert.Len(t, got, 5, "node-2's keys went to every other member: %v", got)
}

func TestRendezvousOrderAndEmpty(t *testing.T) {
	assert.Equal(t, "", Rendezvous("counter/a", nil))
	a := Rendezvous("counter/a", []string{"x", "y", "z"})
	assert.Equal(t, a, Rendezvous("counter/a", []string{"z", "x", "y"}), "the order of the members must not matter")
	assert.Equal(t, "x", Rendezvous("counter/a", []string{"x"}))
}
