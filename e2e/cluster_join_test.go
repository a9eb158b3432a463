package e2e

import (
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// joinMoveLimit bounds the wait, after a fourth node is ready, for it
// to hold activations: it takes over the actors it now prefers at their
// next turn boundary, which under load comes at once; the member list
// shows its count with its next heartbeat (a third of lease_ttl).
const joinMoveLimit = 30 * time.Second

// TestClusterJoinUnderLoad starts a fourth node while clients add to 60
// counters through the three gateways, never retrying: every request
// must succeed. Some counters move to the new node (it shows
// activations), no request fails, and each counter holds exactly the
// adds acknowledged.
func TestClusterJoinUnderLoad(t *testing.T) {
	started := time.Now()
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3, spare: 1, actors: counterActors,
		files: map[string][]byte{"counter.wasm": testwasm.C(t, "counter")}})
	const counters, clients = 60, 6
	l := c.load(counters, clients, c.nodes[:3]) // the three first nodes' gateways
	time.Sleep(2 * time.Second)                 // every counter is active on one of the three
	before := l.calls.Load()
	n4 := c.nodes[3]
	joinStart := time.Now()
	c.join(n4)
	ready := time.Since(joinStart)
	var moved int
	waitUntil(t, joinMoveLimit, "n4 holding activations", func() bool {
		moved = c.activations(c.nodes[0])["n4"]
		return moved > 0 || l.stopped.Load()
	})
	movedAfter := time.Since(joinStart)
	time.Sleep(2 * time.Second) // the load goes on with four nodes
	l.stop()
	during := l.calls.Load() - before
	l.check()
	t.Logf("join under load: n4 ready %s after its start, holding %d activations %s after it; %d requests during the join, "+
		"%d failed; activations now %v; took %s", ready.Round(time.Millisecond), moved, movedAfter.Round(time.Millisecond),
		during, l.failed.Load(), c.activations(c.nodes[0]), time.Since(started).Round(time.Second))
	if f := l.failed.Load(); f != 0 {
		t.Errorf("%d requests failed while n4 joined; want none", f)
	}
}
