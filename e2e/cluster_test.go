package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/internal/nodeproc"
	"github.com/wactor/wactor/internal/testwasm"
)

// clusterView is the answer of GET /v1/cluster.
type clusterView struct {
	Clustered bool   `json:"clustered"`
	Name      string `json:"name"`
	Node      string `json:"node"`
	Members   []struct {
		Node     string `json:"node"`
		State    string `json:"state"`
		HTTPAddr string `json:"http_addr"`
		Self     bool   `json:"self"`
	} `json:"members"`
}

// cluster returns s's GET /v1/cluster.
func (s *server) cluster() clusterView {
	s.t.Helper()
	resp, err := http.Get(s.url + "/v1/cluster")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v clusterView
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
		s.t.Fatalf("GET /v1/cluster: %s %s", resp.Status, body)
	}
	return v
}

// active lists the members v shows active.
func (v clusterView) active() []string {
	var out []string
	for _, m := range v.Members {
		if m.State == "active" {
			out = append(out, m.Node)
		}
	}
	return out
}

// freeAddrs returns n addresses of 127.0.0.1 that were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	out, err := nodeproc.FreeAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClusterOfThree starts three wactor processes from one manifest, as
// docs/cluster.md does, each embedding a NATS server routed to the other
// two, and checks that each lists all three as active, that a call through
// any of them works, and that a node stopped with SIGTERM leaves every
// member list at once.
func TestClusterOfThree(t *testing.T) {
	started := time.Now()
	nodes := startThree(t, 2*time.Second)
	all := []string{"n1", "n2", "n3"}
	for i, s := range nodes {
		waitUntil(t, 30*time.Second, fmt.Sprintf("n%d listing n1, n2 and n3 active", i+1), func() bool {
			v := s.cluster()
			return v.Clustered && v.Name == "e2e" && v.Node == fmt.Sprintf("n%d", i+1) && slices.Equal(all, v.active())
		})
	}
	t.Logf("3 wactor processes ready and all listed active %s after the start", time.Since(started).Round(time.Millisecond))
	for _, m := range nodes[0].cluster().Members {
		if want := nodes[slices.Index(all, m.Node)].addr; m.HTTPAddr != want {
			t.Errorf("member %s lists HTTP address %s, want %s", m.Node, m.HTTPAddr, want)
		}
	}
	for _, s := range nodes {
		s.ask("/v1/actors/counter/"+s.addr+"/add", `{"n":2}`, `{"n":2}`)
	}
	// One activation of an actor in the whole cluster: n1 holds the
	// lease of its actor, and n2 sends the call there.
	nodes[1].ask("/v1/actors/counter/"+nodes[0].addr+"/add", `{"n":1}`, `{"n":3}`)

	// Calls through all three gateways see one counter: one sequence,
	// whichever node serves it.
	for i := range 30 {
		nodes[i%3].ask("/v1/actors/counter/sequence/add", `{"n":1}`, fmt.Sprintf(`{"n":%d}`, i+1))
	}
	// Tells through all three gateways are each applied once.
	for i := range 30 {
		if status, body := nodes[i%3].post("/v1/actors/counter/told/add", `{"n":1}`, "Prefer", "respond-async"); status != http.StatusAccepted {
			t.Fatalf("tell through %s: %d %s; want 202", nodes[i%3].addr, status, body)
		}
	}
	waitUntil(t, 20*time.Second, "the 30 tells applied", func() bool {
		status, body := nodes[0].post("/v1/actors/counter/told/get", `{}`)
		return status == http.StatusOK && jsonEqual(body, `{"n":30}`)
	})
	time.Sleep(3 * time.Second) // a sweep, after which nothing was applied twice
	nodes[2].ask("/v1/actors/counter/told/get", `{}`, `{"n":30}`)
	code, out, errOut := wactor(t, "cluster", "status", "--addr", nodes[1].url)
	if code != 0 || !strings.Contains(out, "cluster e2e, 3 members, as node n2 sees it") || !strings.Contains(out, "n2 *") {
		t.Errorf("wactor cluster status: exit %d\n%s%s", code, out, errOut)
	}

	// A graceful leave shows at once.
	nodes[2].stop(syscall.SIGTERM)
	for _, s := range nodes[:2] {
		waitUntil(t, 5*time.Second, "n3 leaving the member list", func() bool {
			return slices.Equal([]string{"n1", "n2"}, s.cluster().active()) && len(s.cluster().Members) == 2
		})
	}
	// n3 released its actors as it left, and their state is in the
	// cluster's store: n1 serves n3's actor where n3 left it.
	nodes[0].ask("/v1/actors/counter/"+nodes[2].addr+"/add", `{"n":3}`, `{"n":5}`)
}

// startThree starts three wactor processes n1, n2 and n3 of one
// manifest with a counter type, each embedding a NATS server routed to
// the other two, and waits until they are ready.
func startThree(t *testing.T, leaseTTL time.Duration) []*server {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "counter.wasm"), testwasm.Go(t, "counter"))
	addrs := freeAddrs(t, 6) // one call: no route port is also a client port
	routes, clients := addrs[:3], addrs[3:]
	yaml := "version: 1\n" + nodeproc.ClusterSection("e2e", leaseTTL, routes) + "actors:\n  - type: counter\n    module: counter.wasm\n"
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(yaml))

	// All three at once: JetStream needs a majority of them up.
	var nodes []*server
	for i := range 3 {
		n := nodeproc.Node{Name: fmt.Sprintf("n%d", i+1), HTTP: "127.0.0.1:0", Client: clients[i], Route: routes[i]}
		nodes = append(nodes, launch(t, a, nil, append(n.Flags(), "--data-dir", filepath.Join(dir, n.Name))...))
	}
	deadline := time.After(startTimeout)
	for _, s := range nodes {
		s.waitReady(deadline)
	}
	return nodes
}

// TestClusterPausedOwnerIsFenced pauses (SIGSTOP) the node that holds an
// actor for longer than lease_ttl: another node takes the actor over
// with the state the first committed; once resumed, the first node
// commits nothing more for it (its calls fail with 503, its activation
// dropped), and no update is lost or doubled.
//
// The takeover is bounded (docs/cluster.md, "Failure model"): within
// lease_ttl + 1 s, also when the paused node's NATS server led the
// actors' stream, the member list or JetStream's meta group: the node
// sets its server's Raft clock so that those elect a new leader within
// the lease (cluster's raftTimingFor).
func TestClusterPausedOwnerIsFenced(t *testing.T) {
	c := startLifecycle(t, time.Second, "")
	nodes := c.nodes
	actorsLeader, membersLeader := streamLeader(t, c.nats[1], actorsStream), streamLeader(t, c.nats[1], membersStream)
	t.Logf("before SIGSTOP: %s leads the actors' stream, %s the member list, %s JetStream's meta group",
		actorsLeader, membersLeader, metaLeader(nodes[1].log()))
	const limit = takeoverBound
	n1, n2 := nodes[0], nodes[1]
	// An actor n1 is the preferred owner of, so that n1 serves it.
	id := 0
	for cluster.Rendezvous(fmt.Sprintf("counter/paused%d", id), []string{"n1", "n2", "n3"}) != "n1" {
		id++
	}
	actor := fmt.Sprintf("/v1/actors/counter/paused%d/", id)
	n1.ask(actor+"add", `{"n":1}`, `{"n":1}`)

	if err := n1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n1.cmd.Process.Signal(syscall.SIGCONT) }) // before it is stopped
	stopped := time.Now()
	time.Sleep(50 * time.Millisecond) // n1 has stopped: nothing below is served by it
	// 503 while n1's lease lives; 503 or 504 while JetStream elects new
	// leaders for what n1's server led. Reads only, so that no answer is
	// unsure.
	var status int
	var body string
	waitUntil(t, limit, "n2 taking the actor over from the paused n1", func() bool {
		last := body
		status, body = n2.post(actor+"get", `{}`)
		if body != last {
			t.Logf("n2, %s after SIGSTOP: %d %s", time.Since(stopped).Round(time.Millisecond), status, body)
		}
		if status != http.StatusOK && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			t.Fatalf("n2 while n1 is paused: %d %s; want 200, 503 or 504", status, body)
		}
		return status == http.StatusOK
	})
	took := time.Since(stopped)
	t.Logf("n2 served the paused n1's actor %s after SIGSTOP (lease_ttl 1s, bound %s)", took.Round(time.Millisecond), limit)
	if took > limit {
		t.Fatalf("n2 served the paused n1's actor %s after SIGSTOP: over the bound of %s", took.Round(time.Millisecond), limit)
	}
	if !jsonEqual(body, `{"n":1}`) {
		t.Fatalf("n2's first answer: %s; want n1's state, {\"n\":1}", body)
	}
	// Keyed, as a client retrying safely would: routing may still send it
	// to the silent n1, and then sends it again when n1 drops behind.
	if status, body := n2.post(actor+"add", `{"n":1}`, "Idempotency-Key", "after-the-pause"); status != http.StatusOK || !jsonEqual(body, `{"n":2}`) {
		t.Fatalf("n2 adding after the takeover: %d %s; want 200 {\"n\":2}", status, body)
	}

	if err := n1.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// n1 still has the activation: its next turn finds its lease taken
	// and drops it, and n1 sends the call to n2, which owns the actor.
	// Reads only, so that no answer is unsure: n2's state, never n1's.
	waitUntil(t, 30*time.Second, "the resumed n1 reaching the actor n2 owns", func() bool {
		status, body = n1.post(actor+"get", `{}`)
		if status == http.StatusOK && !jsonEqual(body, `{"n":2}`) {
			t.Fatalf("resumed n1 calling the actor n2 took over: %s; want n2's state, {\"n\":2}", body)
		}
		if status != http.StatusOK && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			t.Fatalf("resumed n1 calling the actor n2 took over: %d %s; want 200 (or 503, 504 while it reconnects)", status, body)
		}
		return status == http.StatusOK
	})
	n1.ask(actor+"add", `{"n":1}`, `{"n":3}`) // nothing of n1's was applied, and n1 reaches n2's activation
	n2.ask(actor+"add", `{"n":1}`, `{"n":4}`)
}

// TestNotACluster: a node without a cluster section says so.
func TestNotACluster(t *testing.T) {
	s := start(t, newApp(t))
	if v := s.cluster(); v.Clustered || len(v.Members) != 0 {
		t.Errorf("GET /v1/cluster on a single node: %+v", v)
	}
	code, out, _ := wactor(t, "cluster", "status", "--addr", s.url)
	if code != 0 || !strings.Contains(out, "not a cluster") {
		t.Errorf("wactor cluster status: exit %d: %s", code, out)
	}
}

// waitUntil polls cond every 50ms until it holds, or fails after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
