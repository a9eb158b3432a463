package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/nodeproc"
)

// clusterFull reports whether the long cluster tests run at full size
// (make clustertest sets WACTOR_CLUSTERTEST=full).
func clusterFull() bool { return os.Getenv("WACTOR_CLUSTERTEST") == "full" }

// onlyFull skips t unless the cluster tests run at full size.
func onlyFull(t *testing.T) {
	t.Helper()
	if !clusterFull() {
		t.Skip("runs with WACTOR_CLUSTERTEST=full (make clustertest)")
	}
}

// testCluster is a cluster of real "wactor run" processes on 127.0.0.1,
// started from one manifest. Each node keeps its ports (HTTP, NATS client
// and route) and its data folder across restarts, so a restarted node is
// the same member with the same JetStream files, as after a machine's
// reboot, and clients keep their addresses.
type testCluster struct {
	t     *testing.T
	a     *app
	ttl   time.Duration
	nodes []*clusterNode
}

// clusterNode is one member: its fixed addresses and its current process.
type clusterNode struct {
	name                      string
	route, client, http, data string
	manifest                  string

	mu  sync.Mutex
	srv *server     // the current process, nil before the first start
	up  atomic.Bool // the process runs and is not paused
}

// clusterOpts sizes a test cluster.
type clusterOpts struct {
	leaseTTL time.Duration
	// actors is the manifest's actors section (its lines after "actors:").
	actors string
	// files are written next to the manifest (the modules).
	files map[string][]byte
	// nodes is how many start now; spare more are given addresses (and
	// a manifest listing every route) for join to start later.
	nodes, spare int
}

// newTestCluster writes the manifest and starts o.nodes nodes together
// (JetStream answers once a majority of them is up), waiting until each
// is ready and lists all of them active.
func newTestCluster(t *testing.T, o clusterOpts) *testCluster {
	t.Helper()
	dir := t.TempDir()
	for name, b := range o.files {
		write(t, filepath.Join(dir, name), b)
	}
	total := o.nodes + o.spare
	addrs := freeAddrs(t, 3*total) // one call: every port distinct
	routes, clients, https := addrs[:total], addrs[total:2*total], addrs[2*total:]
	manifest := func(n int) string {
		return "version: 1\n" + nodeproc.ClusterSection("e2e", o.leaseTTL, routes[:n]) + "actors:\n" + o.actors
	}
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(manifest(o.nodes)))
	c := &testCluster{t: t, a: a, ttl: o.leaseTTL}
	for i := range total {
		n := &clusterNode{name: "n" + strconv.Itoa(i+1), route: routes[i], client: clients[i], http: https[i],
			data: filepath.Join(dir, "n"+strconv.Itoa(i+1)), manifest: a.manifest}
		if i >= o.nodes {
			// A joining node lists every route, its own included, as
			// docs/cluster.md says to; the others learn of it from NATS.
			n.manifest = filepath.Join(dir, "wactor-"+n.name+".yaml")
			write(t, n.manifest, []byte(manifest(i+1)))
		}
		c.nodes = append(c.nodes, n)
	}
	c.warmCache(o.actors)
	for _, n := range c.nodes[:o.nodes] {
		c.launch(n)
	}
	deadline := time.After(startTimeout)
	for _, n := range c.nodes[:o.nodes] {
		c.ready(n, deadline)
	}
	c.waitMembers(o.nodes, 30*time.Second)
	return c
}

// cache is the compile cache the nodes share.
func (c *testCluster) cache() string { return filepath.Join(c.a.dir, "cache") }

// warmCache compiles the modules of actors into the shared compile cache
// with one node alone (no cluster), so that the nodes start from it
// instead of each compiling the same modules at once on a loaded
// machine.
func (c *testCluster) warmCache(actors string) {
	c.t.Helper()
	a := &app{dir: c.a.dir, manifest: filepath.Join(c.a.dir, "warm.yaml"), data: filepath.Join(c.a.dir, "warm")}
	write(c.t, a.manifest, []byte("version: 1\nstorage:\n  kind: badger\nactors:\n"+actors))
	s := launch(c.t, a, nil, "--http-addr", "127.0.0.1:0", "--cache-dir", c.cache(), "--log-level", "info")
	s.waitReady(time.After(startTimeout))
	s.stop(syscall.SIGTERM)
}

// launch starts n's process without waiting for it.
func (c *testCluster) launch(n *clusterNode) {
	c.t.Helper()
	flags := nodeproc.Node{Name: n.name, HTTP: n.http, Client: n.client, Route: n.route}.Flags()
	s := launch(c.t, &app{dir: c.a.dir, manifest: n.manifest, data: n.data}, nil, append(flags, "--log-level", "info", "--cache-dir", c.cache())...)
	n.mu.Lock()
	n.srv = s
	n.mu.Unlock()
}

// ready waits for n's process to be ready, and marks it up.
func (c *testCluster) ready(n *clusterNode, deadline <-chan time.Time) {
	c.t.Helper()
	n.mu.Lock()
	s := n.srv
	n.mu.Unlock()
	s.waitReady(deadline)
	n.up.Store(true)
}

// node returns the node named name.
func (c *testCluster) node(name string) *clusterNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	c.t.Fatalf("no node %s", name)
	return nil
}

// server returns n's current process.
func (n *clusterNode) server() *server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// url is n's gateway.
func (n *clusterNode) url() string { return "http://" + n.http }

// isUp reports whether n's process runs and is not paused.
func (n *clusterNode) isUp() bool { return n.up.Load() }

func (n *clusterNode) setUp(up bool) { n.up.Store(up) }

// kill sends n SIGKILL and waits until the process is gone.
func (c *testCluster) kill(n *clusterNode) {
	c.t.Helper()
	n.setUp(false)
	n.server().kill()
}

// restart starts n again on its ports and data folder and waits until it
// is ready.
func (c *testCluster) restart(n *clusterNode) {
	c.t.Helper()
	c.launch(n)
	c.ready(n, time.After(startTimeout))
}

// join starts the spare node n and waits until it is ready.
func (c *testCluster) join(n *clusterNode) { c.restart(n) }

// pause sends n SIGSTOP; resume sends SIGCONT. A cleanup resumes a
// node the test left paused, so that it can be killed and waited for.
func (c *testCluster) pause(n *clusterNode) {
	c.t.Helper()
	p := n.server().cmd.Process
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		c.t.Fatal(err)
	}
	n.setUp(false)
	c.t.Cleanup(func() { _ = p.Signal(syscall.SIGCONT) })
}

func (c *testCluster) resume(n *clusterNode) {
	c.t.Helper()
	if err := n.server().cmd.Process.Signal(syscall.SIGCONT); err != nil {
		c.t.Fatal(err)
	}
	n.setUp(true)
}

// anyUp reports whether a node runs and is not paused.
func (c *testCluster) anyUp() bool {
	for _, n := range c.nodes {
		if n.isUp() {
			return true
		}
	}
	return false
}

// waitMembers waits until every node that is up lists want members, all
// active.
func (c *testCluster) waitMembers(want int, limit time.Duration) {
	c.t.Helper()
	for _, n := range c.nodes {
		if !n.isUp() {
			continue
		}
		s := n.server()
		waitUntil(c.t, limit, fmt.Sprintf("%s listing %d members active", n.name, want), func() bool {
			v := s.cluster()
			return len(v.Members) == want && len(v.active()) == want
		})
	}
}

// activations returns how many activations each member holds, as node n
// sees the member list.
func (c *testCluster) activations(n *clusterNode) map[string]int {
	c.t.Helper()
	resp, err := http.Get(n.url() + "/v1/cluster")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Members []struct {
			Node        string
			Activations int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		c.t.Fatalf("GET /v1/cluster on %s: %v", n.name, err)
	}
	out := map[string]int{}
	for _, m := range v.Members {
		out[m.Node] = m.Activations
	}
	return out
}

// metric sums the samples of the Prometheus metric name on n's /metrics
// whose labels include every one of labels (as `key="value"`).
func (n *clusterNode) metric(name string, labels ...string) (float64, error) {
	resp, err := http.Get(n.url() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if i := strings.LastIndexByte(line, ' '); match && i > 0 {
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				return 0, fmt.Errorf("metric line %q: %v", line, err)
			}
			sum += v
		}
	}
	return sum, nil
}

// clusterClient calls the cluster's actors as a client behind a load
// balancer would: it sends each call to one gateway, and when that one
// cannot answer definitely (it is down, or answers 503, 504 or 429) it
// tries the next, with backoff, with the same Idempotency-Key, until it
// gets a definite answer or the deadline passes.
type clusterClient struct {
	c        *testCluster
	http     *http.Client
	deadline time.Time
	closed   atomic.Bool // set when the test ends: post gives up

	mu   sync.Mutex
	seen map[string]time.Time // each kind of failure seen, first time
}

// saw notes a failure: its kind is the status and the error code or the
// Go error, without actor names.
func (cc *clusterClient) saw(kind string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.seen == nil {
		cc.seen = map[string]time.Time{}
	}
	if _, ok := cc.seen[kind]; !ok && len(cc.seen) < 32 {
		cc.seen[kind] = time.Now()
	}
}

// failures lists the kinds of failure seen, each with when it was first
// seen relative to since.
func (cc *clusterClient) failures(since time.Time) string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []string
	for k, at := range cc.seen {
		out = append(out, fmt.Sprintf("%s (first at %+.1fs)", k, at.Sub(since).Seconds()))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// client returns a clusterClient that gives up at deadline, or when the
// test ends (so that no client outlives the processes it calls).
func (c *testCluster) client(deadline time.Time) *clusterClient {
	cc := &clusterClient{c: c, http: &http.Client{Timeout: callTimeout}, deadline: deadline}
	c.t.Cleanup(func() { cc.closed.Store(true) })
	return cc
}

// errNoAnswer: no gateway answered definitely before the deadline.
var errNoAnswer = errors.New("no definite answer before the deadline")

// post sends body to path, first through gateway first (an index into
// the cluster's nodes), and returns the first definite answer. tries
// lists the attempts that got no definite answer, each as "node: what".
// Nodes the test has killed or paused are skipped while another one is
// up.
func (cc *clusterClient) post(first int, path, body, key string) (status int, reply string, failed []string, err error) {
	backoff := 5 * time.Millisecond
	var last string
	for i := first; ; i++ {
		n := cc.c.nodes[i%len(cc.c.nodes)]
		if n.server() == nil || !n.isUp() && cc.c.anyUp() {
			// A spare not yet started, or a node the test killed or
			// paused: a load balancer's health check would skip it.
			// When every node is down, post waits on the next one.
			continue
		}
		status, reply, err := cc.once(n, path, body, key)
		if err == nil && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout &&
			status != http.StatusTooManyRequests {
			return status, reply, failed, nil
		}
		if err != nil {
			last = err.Error()
			kind := "connection error"
			if strings.Contains(last, "Timeout") || strings.Contains(last, "deadline") {
				kind = "client timeout"
			}
			cc.saw(kind)
			failed = append(failed, n.name+": "+last)
		} else {
			last = fmt.Sprintf("%s: %d %s", n.name, status, reply)
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal([]byte(reply), &e)
			msg := e.Error.Message
			if i := strings.Index(msg, " is owned by node"); i >= 0 {
				msg = "owned by another node"
			} else if len(msg) > 60 {
				msg = msg[:60]
			}
			cc.saw(fmt.Sprintf("%d %s: %s", status, e.Error.Code, msg))
			failed = append(failed, last)
		}
		if time.Now().After(cc.deadline) || cc.closed.Load() {
			return 0, "", failed, fmt.Errorf("POST %s: %w (%d tries; last: %s)", path, errNoAnswer, len(failed), last)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// once sends one request to n's gateway.
func (cc *clusterClient) once(n *clusterNode, path, body, key string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, n.url()+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := cc.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

// counterLoad is clients adding 1 to counters counter/0..counters-1
// through some gateways, each add sent once, never retried: every
// request must succeed.
type counterLoad struct {
	c       *testCluster
	started time.Time
	acked   []atomic.Int64 // the adds acknowledged with 200, by counter
	failed  atomic.Int64
	calls   atomic.Int64
	worst   atomic.Int64 // the longest call, in nanoseconds
	stopped atomic.Bool
	wg      sync.WaitGroup
}

// load starts clients that add to counters, the i-th add through
// gateways[(i+i/counters)%len(gateways)] (each counter through each
// gateway in turn), until stop (at most a million adds each). Failed
// requests are reported (the first ten) and counted. A cleanup stops
// the clients before the processes are killed.
func (c *testCluster) load(counters, clients int, gateways []*clusterNode) *counterLoad {
	l := &counterLoad{c: c, started: time.Now(), acked: make([]atomic.Int64, counters)}
	cc := c.client(time.Now().Add(2 * time.Minute))
	c.t.Cleanup(func() { l.stop(); cc.closed.Store(true) })
	for k := range clients {
		l.wg.Go(func() {
			for i := k; i < 1_000_000 && !l.stopped.Load(); i += clients {
				id := i % counters
				n := gateways[(i+i/counters)%len(gateways)]
				start := time.Now()
				status, reply, err := cc.once(n, "/v1/actors/counter/"+strconv.Itoa(id)+"/add", `{"n":1}`, "")
				l.calls.Add(1)
				for took := int64(time.Since(start)); ; {
					if w := l.worst.Load(); took <= w || l.worst.CompareAndSwap(w, took) {
						break
					}
				}
				if err != nil || status != http.StatusOK {
					if l.stopped.Load() && err != nil {
						return // the test ended and killed the nodes
					}
					if l.failed.Add(1) <= 10 {
						c.t.Errorf("add to counter/%d through %s at %+.2fs: %d %s %v", id, n.name,
							time.Since(l.started).Seconds(), status, reply, err)
					}
					continue
				}
				l.acked[id].Add(1)
			}
		})
	}
	return l
}

// stop stops the clients and waits for them.
func (l *counterLoad) stop() {
	l.stopped.Store(true)
	l.wg.Wait()
}

// check reads every counter through the gateways that are up and fails
// the test unless each holds exactly the adds acknowledged.
func (l *counterLoad) check() {
	t := l.c.t
	t.Helper()
	cc := l.c.client(time.Now().Add(time.Minute))
	for id := range l.acked {
		status, reply, _, err := cc.post(id, "/v1/actors/counter/"+strconv.Itoa(id)+"/get", `{}`, "")
		var r struct{ N int64 }
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
			t.Fatalf("get counter/%d: %d %s %v", id, status, reply, err)
		}
		if r.N != l.acked[id].Load() {
			t.Errorf("counter/%d is %d after %d acknowledged adds of 1", id, r.N, l.acked[id].Load())
		}
	}
}
