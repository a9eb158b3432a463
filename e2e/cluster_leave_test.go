package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// TestClusterLeaveUnderLoad stops one of three nodes with SIGTERM while
// clients add to 60 counters through the two other gateways, never
// retrying: every request must succeed. The leaving node hands its
// activations over at turn boundaries (it is out of every placement once
// it marks itself leaving; an ask whose turn has not started is answered
// "not served" and tried again by the sending node, and one still in its
// hands when it leaves drained is sent again once its answer cannot be
// on its way), and the writes that its NATS server's leaving catches in
// flight (its stream leaderships move) are sent again with their message
// ids, so no request fails, and each counter holds exactly the adds
// acknowledged: none lost, none applied twice. The actors the node held
// are served by the other two afterwards.
func TestClusterLeaveUnderLoad(t *testing.T) {
	started := time.Now()
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3, actors: counterActors,
		files: map[string][]byte{"counter.wasm": testwasm.C(t, "counter")}})
	const counters, clients = 60, 6
	leaving := c.nodes[2]
	l := c.load(counters, clients, c.nodes[:2]) // n1's and n2's gateways
	// Every counter gets active on the node placement prefers, a third
	// of them on n3.
	waitUntil(t, 30*time.Second, "n3 holding activations", func() bool {
		return len(c.listActivations(leaving)) > 0 && l.calls.Load() >= 2*counters
	})
	time.Sleep(time.Second)
	held := c.listActivations(leaving)
	before := l.calls.Load()
	leaving.setUp(false)
	sigterm := time.Now()
	leaving.server().stop(syscall.SIGTERM) // waits for the exit, code 0
	handover := time.Since(sigterm)
	during := l.calls.Load() - before
	time.Sleep(2 * time.Second) // the load goes on with two nodes
	l.stop()
	l.check()
	// What n3 held is served by n1 or n2 now.
	now := append(c.listActivations(c.nodes[0]), c.listActivations(c.nodes[1])...)
	for _, a := range held {
		if !slices.Contains(now, a) {
			t.Errorf("%s, held by n3 before its SIGTERM, is active on neither n1 nor n2 after it", a)
		}
	}
	t.Logf("leave under load: n3 held %d of %d counters and exited %s after SIGTERM (its activations handed over, "+
		"its NATS server stopped); %d requests while it left, %d in all, %d failed, the slowest %s; took %s", len(held), counters,
		handover.Round(time.Millisecond), during, l.calls.Load(), l.failed.Load(), time.Duration(l.worst.Load()).Round(time.Millisecond),
		time.Since(started).Round(time.Second))
	if f := l.failed.Load(); f != 0 {
		t.Errorf("%d requests failed while n3 left; want none", f)
	}
}

// listActivations returns the actors n holds, as "type/id".
func (c *testCluster) listActivations(n *clusterNode) []string { return activeOn(c.t, n.url()) }
