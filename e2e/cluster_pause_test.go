package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// counterActors is the manifest's actors section of the counter.
const counterActors = "  - type: counter\n    module: counter.wasm\n"

// pausedTakeoverLimit bounds the wait for another node to serve a paused
// owner's actor (docs/cluster.md, "Failure model"): lease_ttl and a
// second once JetStream answers, plus JetStream's own leader election
// when the paused node's server led the actors' stream; the bound is
// generous so that a loaded machine does not fail the test.
const pausedTakeoverLimit = 60 * time.Second

// owner returns the node that holds the only live activation of the
// cluster, as the member list shows it: the same node in two readings a
// heartbeat apart (activations are counted with each heartbeat, every
// third of lease_ttl), so that an actor handed over to its preferred
// owner is found where it stays.
func (c *testCluster) owner(limit time.Duration) *clusterNode {
	c.t.Helper()
	holder := func() string {
		for _, n := range c.nodes {
			if !n.isUp() {
				continue
			}
			for name, k := range c.activations(n) {
				if k == 1 {
					return name
				}
			}
			return ""
		}
		return ""
	}
	var owner string
	waitUntil(c.t, limit, "a member listing the actor's activation, twice", func() bool {
		first := holder()
		time.Sleep(c.ttl/3 + 100*time.Millisecond)
		owner = holder()
		return owner != "" && owner == first
	})
	return c.node(owner)
}

// TestClusterPausedOwnerUnderLoad pauses (SIGSTOP) the node that owns a
// counter for longer than lease_ttl, while clients keep adding to it
// through the other two gateways (each add with its own Idempotency-Key,
// retried on the other gateway until definite) and one request waits in
// the paused owner's socket. Another node serves the counter again (the
// time is logged); once resumed, the old owner applies nothing: the
// request it finds waiting is refused (its lease is gone, the fence
// refuses its renewal or its commit, and it drops the activation), and
// every add acknowledged with 200 is in the counter once: the replies'
// totals are exactly 1..N, none lost, none twice.
func TestClusterPausedOwnerUnderLoad(t *testing.T) {
	started := time.Now()
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3, actors: counterActors,
		files: map[string][]byte{"counter.wasm": testwasm.C(t, "counter")}})
	const actor = "/v1/actors/counter/hot/"
	cc := c.client(time.Now().Add(pausedTakeoverLimit + 2*time.Minute))
	// An add through each gateway: the actor settles on its owner.
	for i := range c.nodes {
		if status, reply, _, err := cc.post(i, actor+"add", `{"n":1}`, "add-first-"+strconv.Itoa(i)); err != nil || status != http.StatusOK || !jsonEqual(reply, fmt.Sprintf(`{"n":%d}`, i+1)) {
			t.Fatalf("add %d: %d %s %v", i+1, status, reply, err)
		}
	}
	owner := c.owner(10 * time.Second)
	var others []int
	for i, n := range c.nodes {
		if n != owner {
			others = append(others, i)
		}
	}
	t.Logf("%s owns counter/hot; the clients call through %s and %s", owner.name, c.nodes[others[0]].name, c.nodes[others[1]].name)

	var (
		mu      sync.Mutex
		totals  = map[string]int{"add-first-0": 1, "add-first-1": 2, "add-first-2": 3} // the n of each add acknowledged with 200, by key
		keys    atomic.Int64
		stop    atomic.Bool
		served  atomic.Int64 // Unix nanoseconds of the first 200 to a request sent after SIGSTOP
		paused  atomic.Int64 // Unix nanoseconds of SIGSTOP
		wg      sync.WaitGroup
		clients = 4
	)
	add := func(first int, key string) {
		sent := time.Now().UnixNano()
		status, reply, _, err := cc.post(first, actor+"add", `{"n":1}`, key)
		if cc.closed.Load() {
			return
		}
		var r struct{ N int }
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
			t.Errorf("add %s: %d %s %v", key, status, reply, err)
			return
		}
		if p := paused.Load(); p != 0 && sent > p {
			served.CompareAndSwap(0, time.Now().UnixNano())
		}
		mu.Lock()
		totals[key] = r.N
		mu.Unlock()
	}
	t.Cleanup(func() { stop.Store(true); cc.closed.Store(true); wg.Wait() }) // before the processes are killed
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000 && !stop.Load() && !t.Failed(); i++ {
				add(others[k%2], "add-"+strconv.FormatInt(keys.Add(1), 10))
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the load runs

	// What the owner refused before the pause: commits, and turns
	// answered unavailable (a lease found lost at a turn boundary).
	refused := func() (commits, turns float64) {
		commits, err1 := owner.metric("wactor_commit_failures_total")
		turns, err2 := owner.metric("wactor_turns_total", `type="counter"`, `outcome="unavailable"`)
		if err1 != nil || err2 != nil {
			t.Fatalf("reading %s's metrics: %v %v", owner.name, err1, err2)
		}
		return commits, turns
	}
	commits0, turns0 := refused()
	c.pause(owner)
	stoppedAt := time.Now()
	paused.Store(stoppedAt.UnixNano())
	// A request sent to the paused owner waits in its socket: the owner
	// finds it when it resumes, after its lease was taken over.
	pending := make(chan string, 1)
	patient := &clusterClient{c: c, http: &http.Client{Timeout: pausedTakeoverLimit + 2*callTimeout}}
	go func() {
		defer close(pending)
		status, reply, err := patient.once(owner, actor+"add", `{"n":1}`, "add-pending")
		pending <- fmt.Sprintf("%d %s %v", status, strings.TrimSpace(reply), err)
	}()
	waitUntil(t, pausedTakeoverLimit, "another node serving counter/hot while its owner is paused", func() bool {
		return served.Load() != 0 || t.Failed()
	})
	takeover := time.Unix(0, served.Load()).Sub(stoppedAt)
	// Keep the owner paused a little longer under load, then resume it.
	time.Sleep(time.Second)
	c.resume(owner)
	resumed := time.Now()
	var pendingAnswer string
	select {
	case pendingAnswer = <-pending:
	case <-time.After(2 * callTimeout):
		t.Fatal("the request waiting in the paused owner's socket got no answer after SIGCONT")
	}
	time.Sleep(time.Second) // the load goes on with the old owner back
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	// The waiting request: its answer is 200 only if some node applied
	// it; then its total is among the others, and the key is retried to
	// learn it either way.
	status, reply, _, err := cc.post(others[0], actor+"add", `{"n":1}`, "add-pending")
	var r struct{ N int }
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
		t.Fatalf("add-pending retried: %d %s %v", status, reply, err)
	}
	if prev, ok := totals["add-pending"]; ok && prev != r.N {
		t.Errorf("add-pending answered %d, then %d when retried: its idempotency record was lost", prev, r.N)
	}
	totals["add-pending"] = r.N

	status, reply, _, err = cc.post(others[1], actor+"get", `{}`, "")
	var final struct{ N int }
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &final) != nil {
		t.Fatalf("get: %d %s %v", status, reply, err)
	}
	// Each key's total is its place in the counter's history: together
	// they are 1..N, each once.
	var ns []int
	for _, n := range totals {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for i, n := range ns {
		if n != i+1 {
			t.Fatalf("the acknowledged adds' totals skip or repeat %d (at %d of %d): an update was lost or applied twice", i+1, i, len(ns))
		}
	}
	if final.N != len(totals) {
		t.Errorf("counter/hot is %d after %d acknowledged adds of 1: want them equal", final.N, len(totals))
	}
	commits1, turns1 := refused()
	fenced := strings.Contains(owner.server().log(), "lost the ownership")
	t.Logf("paused owner: %s; another node served counter/hot %s after SIGSTOP (lease_ttl %s); "+
		"paused %s; the request waiting in its socket answered %q after SIGCONT; its log says it lost the ownership: %v; "+
		"%d adds acknowledged, counter %d; took %s",
		owner.name, takeover.Round(time.Millisecond), c.ttl, resumed.Sub(stoppedAt).Round(time.Millisecond),
		pendingAnswer, fenced, len(totals), final.N, time.Since(started).Round(time.Second))
	t.Logf("what the clients saw (relative to SIGSTOP): %s", cc.failures(stoppedAt))
	t.Logf("%s after SIGCONT: %v commits refused, %v turns answered unavailable", owner.name, commits1-commits0, turns1-turns0)
	// Under this load the owner always has asks queued or in flight when
	// it is stopped; once resumed, it must refuse them (its lease is
	// another node's), not apply them.
	if commits1-commits0+turns1-turns0 < 1 {
		t.Errorf("the resumed owner %s refused no commit and no turn: the asks queued on it at SIGSTOP were not refused by the fence", owner.name)
	}
}
