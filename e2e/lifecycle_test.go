package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/internal/nodeproc"
	"github.com/wactor/wactor/internal/testwasm"
)

// lifecycleCluster is three wactor processes of one manifest, with the
// NATS client address the test reads JetStream's state through.
type lifecycleCluster struct {
	nodes []*server
	names []string
	nats  []string // a NATS client URL to read JetStream through, per node (all the same with nats_url)
	dir   string   // the manifest's folder, with counter.wasm
}

// startLifecycle starts three nodes n1..n3 of a manifest with the type
// counter, and each of types (a Go test module of that name), with the
// given lease_ttl: each embedding a NATS server routed to the other two
// (natsURL ""), or all connected to natsURL.
func startLifecycle(t *testing.T, leaseTTL time.Duration, natsURL string, types ...string) *lifecycleCluster {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "counter.wasm"), testwasm.Go(t, "counter"))
	for _, typ := range types {
		write(t, filepath.Join(dir, typ+".wasm"), testwasm.Go(t, typ))
	}
	var yaml strings.Builder
	// One call, so that no route port is also a client port: freeAddrs
	// frees its ports as it returns.
	addrs := freeAddrs(t, 6)
	routes, clients := addrs[:3], addrs[3:]
	if natsURL != "" {
		fmt.Fprintf(&yaml, "version: 1\ncluster:\n  name: e2e\n  lease_ttl: %s\n  nats_url: %s\n", leaseTTL, natsURL)
	} else {
		yaml.WriteString("version: 1\n" + nodeproc.ClusterSection("e2e", leaseTTL, routes))
	}
	yaml.WriteString("actors:\n  - type: counter\n    module: counter.wasm\n")
	for _, typ := range types {
		fmt.Fprintf(&yaml, "  - type: %s\n    module: %s.wasm\n", typ, typ)
	}
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(yaml.String()))
	c := &lifecycleCluster{dir: dir}
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		args := []string{"--http-addr", "127.0.0.1:0", "--node", name, "--data-dir", filepath.Join(dir, name)}
		url := natsURL
		if natsURL == "" {
			args = append(nodeproc.Node{Name: name, HTTP: "127.0.0.1:0", Client: clients[i], Route: routes[i]}.Flags(),
				"--data-dir", filepath.Join(dir, name))
			url = "nats://" + clients[i]
		}
		c.nodes = append(c.nodes, launch(t, a, nil, args...))
		c.names = append(c.names, name)
		c.nats = append(c.nats, url)
	}
	deadline := time.After(startTimeout)
	for _, s := range c.nodes {
		s.waitReady(deadline)
	}
	return c
}

// streamLeader returns the server that leads the actors' stream, as the
// NATS server at url sees it ("" when it has none or is unclustered).
func streamLeader(t *testing.T, url, stream string) string {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		t.Logf("connecting to %s: %v", url, err)
		return ""
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Logf("stream info through %s: %v", url, err)
		return ""
	}
	info := s.CachedInfo()
	if info.Cluster == nil {
		return ""
	}
	return info.Cluster.Leader
}

// metaLeader names the node whose NATS server led JetStream's meta group
// (which assigns streams and consumers: the member list's polls create
// consumers) when log, a node's log, was read; "" if it does not say.
// The embedded server logs each new meta leader.
func metaLeader(log string) string {
	const marker = "new metadata leader: "
	i := strings.LastIndex(log, marker)
	if i < 0 {
		return ""
	}
	name, _, _ := strings.Cut(log[i+len(marker):], "/")
	return name
}

// startNATS starts a NATS server with JetStream in the test process, on
// a free port of 127.0.0.1: an existing NATS system, as nats_url names.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, MaxPayload: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats-server did not start in 20 s")
	}
	return s.ClientURL()
}

// takeover stops the node that holds an actor (kill -9, or SIGSTOP while
// it is measured) and returns how long until another node served the
// actor with the state the first committed. Before that, every answer
// is 503 or 504; the actor is read only, so that no answer is unsure.
func (c *lifecycleCluster) takeover(t *testing.T, owner, via int, actor string, sig syscall.Signal, limit time.Duration) time.Duration {
	t.Helper()
	o, v := c.nodes[owner], c.nodes[via]
	o.ask(actor+"add", `{"n":1}`, `{"n":1}`)
	if ref := strings.TrimPrefix(strings.Trim(actor, "/"), "v1/actors/"); !slices.Contains(activeOn(t, o.url), ref) {
		t.Fatalf("%s does not hold %s after serving a call to it: the takeover would measure nothing", c.names[owner], ref)
	}
	if err := o.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() { _ = o.cmd.Process.Signal(syscall.SIGCONT) })
		// The clock starts once the process is stopped: a call sent
		// before may still be answered by the owner.
		waitUntil(t, 5*time.Second, c.names[owner]+" stopped", func() bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.cmd.Process.Pid))
			i := bytes.LastIndexByte(b, ')')
			return err != nil || i > 0 && i+2 < len(b) && b[i+2] == 'T'
		})
	}
	stopped := time.Now()
	var status int
	var body string
	waitUntil(t, limit, fmt.Sprintf("%s serving the actor of %s after %v", c.names[via], c.names[owner], sig), func() bool {
		last := body
		status, body = v.post(actor+"get", `{}`)
		if body != last {
			t.Logf("%s, %s after %v: %d %s", c.names[via], time.Since(stopped).Round(time.Millisecond), sig, status, body)
		}
		if status != http.StatusOK && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			t.Fatalf("%s while %s is stopped: %d %s; want 200, 503 or 504", c.names[via], c.names[owner], status, body)
		}
		return status == http.StatusOK
	})
	took := time.Since(stopped)
	if took > limit {
		t.Fatalf("%s served the actor of %s %s after %v: over the bound of %s", c.names[via], c.names[owner], took.Round(time.Millisecond), sig, limit)
	}
	if !jsonEqual(body, `{"n":1}`) {
		t.Fatalf("%s's first answer: %s; want the state %s committed, {\"n\":1}", c.names[via], body, c.names[owner])
	}
	return took
}

// The streams of the e2e cluster: the actors', and the member list's (a
// JetStream key-value bucket).
const (
	actorsStream  = "WACTOR_e2e"
	membersStream = "KV_wactor_e2e_members"
)

// takeoverBound bounds a takeover, lease_ttl 1s: lease_ttl + 1 s, plus
// 1 s for a machine shared with other tests (each takeover is logged, to
// compare with docs/cluster.md). It holds also when the lost node's NATS
// server led the actors' stream: the nodes set their servers' Raft clock
// so that a follower campaigns within the lease (cluster's
// raftTimingFor).
const takeoverBound = 3 * time.Second

// takeoverLease is the lease_ttl of TestLifecycleTakeover: 1s, or
// WACTOR_TAKEOVER_LEASE (a duration) to measure another.
func takeoverLease(t *testing.T) time.Duration {
	v := os.Getenv("WACTOR_TAKEOVER_LEASE")
	if v == "" {
		return time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		t.Fatalf("WACTOR_TAKEOVER_LEASE=%q: want a duration of 1s or more", v)
	}
	return d
}

// TestLifecycleTakeover measures how long after an owner dies (kill -9)
// or is paused (SIGSTOP) another node serves its actor, with lease_ttl
// 1s (or WACTOR_TAKEOVER_LEASE), and holds it to lease_ttl + 1 s (docs/cluster.md, "Failure
// model"): with nats_url (an external NATS: no JetStream server dies with
// the node); with embedded servers when the lost node's server led the
// actors' stream (the worst case, made here), and when it led the member
// list's stream and not the actors' (list-leader). The embedded cases
// start three processes each and run with WACTOR_CLUSTERTEST=full (make
// clustertest); TestClusterPausedOwnerIsFenced covers a paused embedded
// owner in make test.
func TestLifecycleTakeover(t *testing.T) {
	for _, tc := range []struct {
		name     string
		embedded bool
		sig      syscall.Signal
		// list: the owner's server leads the member list's stream and
		// not the actors' (else it leads the actors').
		list bool
	}{
		{"nats_url/kill", false, syscall.SIGKILL, false},
		{"nats_url/stop", false, syscall.SIGSTOP, false},
		{"embedded/kill", true, syscall.SIGKILL, false},
		{"embedded/stop", true, syscall.SIGSTOP, false},
		{"embedded/kill/list-leader", true, syscall.SIGKILL, true},
		{"embedded/stop/list-leader", true, syscall.SIGSTOP, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.embedded && os.Getenv("WACTOR_CLUSTERTEST") != "full" {
				t.Skip("the embedded cases run with WACTOR_CLUSTERTEST=full (make clustertest)")
			}
			lease := takeoverLease(t)
			// lease_ttl + 1 s, plus 1 s for a loaded machine.
			url, limit := "", lease+2*time.Second
			if !tc.embedded {
				url = startNATS(t)
			}
			c := startLifecycle(t, lease, url)
			owner := 0
			if tc.list {
				// The owner's server leads the member list; the actors'
				// stream is moved to another server if it led that too.
				leader := streamLeader(t, c.nats[0], membersStream)
				owner = slices.Index(c.names, leader)
				if owner < 0 {
					t.Fatalf("the member list's leader %q is none of %v", leader, c.names)
				}
				if streamLeader(t, c.nats[0], actorsStream) == leader {
					moveLeader(t, c.nats[0], actorsStream, c.names[(owner+2)%3])
				}
				t.Logf("the actors' stream is led by %q, the member list by %q; the owner is %s",
					streamLeader(t, c.nats[0], actorsStream), leader, c.names[owner])
			} else if tc.embedded {
				// The worst case: the owner's server leads the stream.
				leader := streamLeader(t, c.nats[0], actorsStream)
				if owner = slices.Index(c.names, leader); owner < 0 {
					t.Fatalf("the actors' stream's leader %q is none of %v", leader, c.names)
				}
				t.Logf("the actors' stream is led by %q, the member list by %q; the owner is %s", leader,
					streamLeader(t, c.nats[0], membersStream), c.names[owner])
			}
			via := (owner + 1) % 3
			// An actor placement puts on the owner: a call through any
			// gateway is served there.
			id := 0
			for cluster.Rendezvous(fmt.Sprintf("counter/taken%d", id), c.names) != c.names[owner] {
				id++
			}
			took := c.takeover(t, owner, via, fmt.Sprintf("/v1/actors/counter/taken%d/", id), tc.sig, limit)
			t.Logf("takeover, %s, lease_ttl %s: %s (bound %s)", tc.name, lease, took.Round(time.Millisecond), limit)
		})
	}
}

// TestLifecycleDeployConverges: a reload (SIGHUP) on one node deploys a
// new module there and publishes it; the other nodes deploy it too, and
// GET /v1/types shows the same module hash on every node. The actor's
// state carries over, on whichever node serves it.
func TestLifecycleDeployConverges(t *testing.T) {
	c := startLifecycle(t, 2*time.Second, startNATS(t))
	old := c.nodes[0].moduleSHA("counter")
	for _, s := range c.nodes[1:] {
		if got := s.moduleSHA("counter"); got != old {
			t.Fatalf("before the deploy, %s runs %s and n1 %s", s.url, got, old)
		}
	}
	const actor = "/v1/actors/counter/deployed/"
	c.nodes[1].ask(actor+"add", `{"n":4}`, `{"n":4}`)

	// The same counter, built from C: another module, the same methods.
	wasm := testwasm.C(t, "counter")
	sum := sha256.Sum256(wasm)
	want := hex.EncodeToString(sum[:])
	write(t, filepath.Join(c.dir, "counter.wasm"), wasm)
	c.nodes[0].hup("reload: the cluster deploys the module")
	deployed := time.Now()
	for i, s := range c.nodes {
		waitUntil(t, time.Minute, fmt.Sprintf("%s running the module deployed on n1", c.names[i]), func() bool {
			return s.moduleSHA("counter") == want
		})
	}
	t.Logf("every node runs the new module %s after the SIGHUP of n1", time.Since(deployed).Round(time.Millisecond))
	c.nodes[1].ask(actor+"add", `{"n":1}`, `{"n":5}`)
}

// TestLifecycleRemindersAfterKill: reminders set through a node that is
// then killed (kill -9) before they are due fire once each, on the nodes
// that now own their actors.
func TestLifecycleRemindersAfterKill(t *testing.T) {
	c := startLifecycle(t, time.Second, startNATS(t), "alarm")
	const actors = 4
	for i := range actors {
		c.nodes[0].ask(fmt.Sprintf("/v1/actors/alarm/%d/set", i), `{"in_ms":2500}`, `{"fired":0}`)
	}
	c.nodes[0].kill()
	for i := range actors {
		path := fmt.Sprintf("/v1/actors/alarm/%d/get", i)
		fired := func() (int, bool) {
			for _, s := range c.nodes[1:] {
				status, body := s.post(path, "")
				switch {
				case status == http.StatusOK && jsonEqual(body, `{"fired":1}`):
					return 1, true
				case status == http.StatusOK && !jsonEqual(body, `{"fired":0}`):
					t.Fatalf("%s through %s: %s; want fired 0 or 1", path, s.url, body)
				}
			}
			return 0, false
		}
		waitUntil(t, 30*time.Second, fmt.Sprintf("alarm/%d ringing once after its setter was killed", i), func() bool {
			_, ok := fired()
			return ok
		})
	}
	time.Sleep(time.Second) // what could fire twice has had the time to
	for i := range actors {
		// Both live nodes reach the actor's one activation (one of them
		// routes the call to the other): each must see it fired once.
		for _, s := range c.nodes[1:] {
			status, body := s.post(fmt.Sprintf("/v1/actors/alarm/%d/get", i), "")
			if status != http.StatusOK || !jsonEqual(body, `{"fired":1}`) {
				t.Errorf("alarm/%d through %s: %d %s; want fired once", i, s.url, status, body)
			}
		}
	}
}

// activeOn lists the actors the node at url holds (GET /v1/actors), as
// "type/id".
func activeOn(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url + "/v1/actors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Activations []struct{ Type, ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s/v1/actors: %v", url, err)
	}
	out := make([]string, len(v.Activations))
	for i, a := range v.Activations {
		out[i] = a.Type + "/" + a.ID
	}
	return out
}

// moveLeader makes the server named to lead stream (a leader step-down
// with to preferred, through the NATS server at url), and waits until it
// does.
func moveLeader(t *testing.T, url, stream, to string) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitUntil(t, 30*time.Second, fmt.Sprintf("%s leading %s", to, stream), func() bool {
		if streamLeader(t, url, stream) == to {
			return true
		}
		_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, []byte(`{"placement":{"preferred":"`+to+`"}}`), 2*time.Second)
		time.Sleep(500 * time.Millisecond)
		return streamLeader(t, url, stream) == to
	})
}
