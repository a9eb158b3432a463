package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
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
	cc := c.client(time.Now().Add(time.Minute))
	var (
		acked  [counters]atomic.Int64
		failed atomic.Int64
		stop   atomic.Bool
		calls  atomic.Int64
		wg     sync.WaitGroup
	)
	t.Cleanup(func() { stop.Store(true); cc.closed.Store(true); wg.Wait() }) // before the processes are killed
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < 1_000_000 && !stop.Load(); i += clients {
				id := i % counters
				n := c.nodes[(i+i/counters)%3] // the three first nodes' gateways, in turn for each counter
				status, reply, err := cc.once(n, "/v1/actors/counter/"+strconv.Itoa(id)+"/add", `{"n":1}`, "")
				calls.Add(1)
				if err != nil || status != http.StatusOK {
					if stop.Load() && err != nil {
						return // the test ended and killed the nodes
					}
					if failed.Add(1) <= 10 {
						t.Errorf("add to counter/%d through %s: %d %s %v", id, n.name, status, reply, err)
					}
					continue
				}
				acked[id].Add(1)
			}
		}()
	}
	time.Sleep(2 * time.Second) // every counter is active on one of the three
	before := calls.Load()
	n4 := c.nodes[3]
	joinStart := time.Now()
	c.join(n4)
	ready := time.Since(joinStart)
	var moved int
	waitUntil(t, joinMoveLimit, "n4 holding activations", func() bool {
		moved = c.activations(c.nodes[0])["n4"]
		return moved > 0 || stop.Load()
	})
	movedAfter := time.Since(joinStart)
	time.Sleep(2 * time.Second) // the load goes on with four nodes
	stop.Store(true)
	wg.Wait()
	during := calls.Load() - before

	cc4 := c.client(time.Now().Add(time.Minute))
	for id := range counters {
		status, reply, _, err := cc4.post(id, "/v1/actors/counter/"+strconv.Itoa(id)+"/get", `{}`, "")
		var r struct{ N int64 }
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
			t.Fatalf("get counter/%d: %d %s %v", id, status, reply, err)
		}
		if r.N != acked[id].Load() {
			t.Errorf("counter/%d is %d after %d acknowledged adds of 1", id, r.N, acked[id].Load())
		}
	}
	t.Logf("join under load: n4 ready %s after its start, holding %d activations %s after it; %d requests during the join, "+
		"%d failed; activations now %v; took %s", ready.Round(time.Millisecond), moved, movedAfter.Round(time.Millisecond),
		during, failed.Load(), c.activations(c.nodes[0]), time.Since(started).Round(time.Second))
	if f := failed.Load(); f != 0 {
		t.Errorf("%d requests failed while n4 joined; want none", f)
	}
}
