package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// TestClusterLeaveUnderLoad stops one of three nodes with SIGTERM while
// clients add to 60 counters through the two other gateways, never
// retrying: every request must succeed. The leaving node hands its
// activations over at turn boundaries (it is out of every placement once
// it marks itself leaving; asks whose turn has not started are answered
// "not served" and tried again by the sending node), so no request fails,
// and each counter holds exactly the adds acknowledged: none lost, none
// applied twice. The actors the node held are served by the other two
// afterwards.
func TestClusterLeaveUnderLoad(t *testing.T) {
	started := time.Now()
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3, actors: counterActors,
		files: map[string][]byte{"counter.wasm": testwasm.C(t, "counter")}})
	const counters, clients = 60, 6
	cc := c.client(time.Now().Add(2 * time.Minute))
	var (
		acked  [counters]atomic.Int64
		failed atomic.Int64
		stop   atomic.Bool
		calls  atomic.Int64
		wg     sync.WaitGroup
	)
	t.Cleanup(func() { stop.Store(true); cc.closed.Store(true); wg.Wait() }) // before the processes are killed
	leaving := c.nodes[2]
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < 1_000_000 && !stop.Load(); i += clients {
				id := i % counters
				n := c.nodes[(i+i/counters)%2] // n1's and n2's gateways, in turn for each counter
				status, reply, err := cc.once(n, "/v1/actors/counter/"+strconv.Itoa(id)+"/add", `{"n":1}`, "")
				calls.Add(1)
				if err != nil || status != http.StatusOK {
					if stop.Load() && err != nil {
						return // the test ended and killed the nodes
					}
					if failed.Add(1) <= 10 {
						t.Errorf("add to counter/%d through %s at %+.2fs: %d %s %v", id, n.name,
							time.Since(started).Seconds(), status, reply, err)
					}
					continue
				}
				acked[id].Add(1)
			}
		}()
	}
	// Every counter gets active on the node placement prefers, a third
	// of them on n3.
	waitUntil(t, 30*time.Second, "n3 holding activations", func() bool {
		return len(c.listActivations(leaving)) > 0 && calls.Load() >= 2*counters
	})
	time.Sleep(time.Second)
	held := c.listActivations(leaving)
	before := calls.Load()
	leaving.setUp(false)
	sigterm := time.Now()
	leaving.server().stop(syscall.SIGTERM) // waits for the exit, code 0
	handover := time.Since(sigterm)
	callsDuring := calls.Load() - before
	time.Sleep(2 * time.Second) // the load goes on with two nodes
	stop.Store(true)
	wg.Wait()
	total := calls.Load()

	cc2 := c.client(time.Now().Add(time.Minute))
	for id := range counters {
		status, reply, _, err := cc2.post(id%2, "/v1/actors/counter/"+strconv.Itoa(id)+"/get", `{}`, "")
		var r struct{ N int64 }
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
			t.Fatalf("get counter/%d: %d %s %v", id, status, reply, err)
		}
		if r.N != acked[id].Load() {
			t.Errorf("counter/%d is %d after %d acknowledged adds of 1", id, r.N, acked[id].Load())
		}
	}
	// What n3 held is served by n1 or n2 now.
	now := append(c.listActivations(c.nodes[0]), c.listActivations(c.nodes[1])...)
	for _, a := range held {
		if !slices.Contains(now, a) {
			t.Errorf("%s, held by n3 before its SIGTERM, is active on neither n1 nor n2 after it", a)
		}
	}
	t.Logf("leave under load: n3 held %d of %d counters and exited %s after SIGTERM (its activations handed over, "+
		"its NATS server stopped); %d requests while it left, %d in all, %d failed; took %s", len(held), counters,
		handover.Round(time.Millisecond), callsDuring, total, failed.Load(), time.Since(started).Round(time.Second))
	if f := failed.Load(); f != 0 {
		t.Errorf("%d requests failed while n3 left; want none", f)
	}
}

// listActivations returns the actors n holds, as "type/id".
func (c *testCluster) listActivations(n *clusterNode) []string { return activeOn(c.t, n.url()) }
