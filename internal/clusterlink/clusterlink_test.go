package clusterlink_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/clusterlink"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/natsstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"))
}

// testTTL is the lease TTL of the test clusters.
const testTTL = cluster.MinLeaseTTL

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// node is one member of a test cluster: its cluster node, store and host.
type node struct {
	name  string
	n     *cluster.Node
	store *natsstore.Store
	h     *host.Host
}

// freeAddrs returns n addresses on 127.0.0.1 that were free a moment ago.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		out = append(out, ln.Addr().String())
		defer ln.Close()
	}
	return out
}

// startCluster starts three nodes on 127.0.0.1, each with a host serving
// types on the shared JetStream store and linked to the others, and waits
// until every node sees the three active. They are closed when t ends.
func startCluster(t testing.TB, types ...host.TypeConfig) []*node {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var nodes []*node
	for try := 1; ; try++ {
		var err error
		if nodes, err = startNodes(ctx, t, log); err == nil {
			break
		}
		// The ports were free when freeAddrs picked them, but another
		// process (a parallel test, or an outgoing connection's ephemeral
		// port) may take one before its server listens: pick again.
		if !strings.Contains(err.Error(), "address already in use") || try == 3 {
			t.Fatal(err)
		}
		t.Logf("starting the cluster again on other ports: %v", err)
	}
	t.Cleanup(func() {
		// Every host first, while JetStream has its majority to release
		// their leases; then the stores and the nodes.
		var wg sync.WaitGroup
		for _, nd := range nodes {
			wg.Go(func() { nd.closeHost(t) })
		}
		wg.Wait()
		for _, nd := range nodes {
			nd.close(t)
		}
	})
	for _, nd := range nodes {
		cfg := natsstore.DefaultConfig(nd.n.Conn())
		cfg.Stream, cfg.Replicas = "LINK", nd.n.Replicas()
		require.Eventually(t, func() bool {
			attempt, stop := context.WithTimeout(ctx, 3*time.Second)
			defer stop()
			st, err := natsstore.Open(attempt, cfg)
			if err != nil {
				t.Logf("opening the store on %s: %v", nd.name, err)
				return false
			}
			nd.store = st
			return true
		}, time.Minute, 250*time.Millisecond)
		h, err := host.New(ctx, host.Config{Store: nd.store, CacheDir: testwasm.CacheDir(t), Logger: log.With("node", nd.name),
			Node: nd.name, LeaseTTL: testTTL, Remote: clusterlink.New(nd.n), SweepInterval: 50 * time.Millisecond})
		require.NoError(t, err)
		nd.h = h
		for _, tc := range types {
			require.NoError(t, h.Deploy(ctx, tc))
		}
		require.NoError(t, h.Start(ctx))
		require.NoError(t, nd.n.Join(ctx, "127.0.0.1:0", func() int { return len(h.Activations()) }))
		require.NoError(t, clusterlink.Serve(nd.n, h))
	}
	for _, nd := range nodes {
		require.NoError(t, nd.n.SetState(ctx, cluster.StateActive))
	}
	for _, nd := range nodes {
		require.Eventually(t, func() bool {
			active := 0
			for _, m := range nd.n.Members() {
				if m.State == cluster.StateActive {
					active++
				}
			}
			return active == 3
		}, 10*time.Second, 20*time.Millisecond, "%s sees three active members", nd.name)
	}
	return nodes
}

// startNodes starts the cluster nodes of startCluster on free ports; when
// one fails, the others stop waiting for it and all are closed.
func startNodes(ctx context.Context, t testing.TB, log *slog.Logger) ([]*node, error) {
	addrs := freeAddrs(t, 3)
	var routes []string
	for _, a := range addrs {
		routes = append(routes, "nats-route://"+a)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodes := make([]*node, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		nodes[i] = &node{name: fmt.Sprintf("n%d", i+1)}
		wg.Go(func() {
			nodes[i].n, errs[i] = cluster.Start(ctx, cluster.Config{Name: "link", Node: nodes[i].name, LeaseTTL: testTTL,
				DataDir: t.TempDir(), ClusterAddr: addrs[i], Routes: routes, Logger: log.With("node", nodes[i].name)})
			if errs[i] != nil {
				cancel() // the others wait for a majority that will not come
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, nd := range nodes {
			nd.close(t)
		}
		return nil, err
	}
	return nodes, nil
}

// closeHost closes the node's host.
func (nd *node) closeHost(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if nd.h != nil {
		assert.NoError(t, nd.h.Close(ctx))
		nd.h = nil
	}
}

// close closes the node's host, store and cluster node.
func (nd *node) close(t testing.TB) {
	nd.closeHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if nd.store != nil {
		assert.NoError(t, nd.store.Close())
		nd.store = nil
	}
	if nd.n != nil {
		assert.NoError(t, nd.n.Close(ctx))
		nd.n = nil
	}
}

// ownedBy returns a ref of type typ, prefix + a number, that placement
// gives to node want.
func ownedBy(t testing.TB, nodes []*node, typ, prefix, want string) abi.Ref {
	t.Helper()
	for i := range 1000 {
		ref := abi.Ref{Type: typ, ID: fmt.Sprintf("%s%d", prefix, i)}
		if owner, _ := nodes[0].n.Placement().Owner(ref); owner == want {
			return ref
		}
	}
	t.Fatalf("no %s/%s* placed on %s", typ, prefix, want)
	return abi.Ref{}
}

func cborOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	require.NoError(t, err)
	return b
}

type M = map[string]any

// ask asks ref through h and decodes the reply.
func ask(ctx context.Context, t testing.TB, h *host.Host, ref abi.Ref, method string, payload any) (M, error) {
	t.Helper()
	var body []byte
	if payload != nil {
		body = cborOf(t, payload)
	}
	reply, err := h.Ask(ctx, ref, method, body)
	if err != nil {
		return nil, err
	}
	out := M{}
	require.NoError(t, cbor.Unmarshal(reply, &out))
	return out, nil
}

// count asks the counter ref for its n through h ("get", which changes
// nothing), again while the answer is a timeout or unavailable: on a
// loaded machine the three nodes' JetStream can stall for seconds (every
// commit and heartbeat timing out), and a get that met the stall says
// nothing of the count. Any other error, or none within 30 s, fails t.
func count(ctx context.Context, t testing.TB, h *host.Host, ref abi.Ref) any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := ask(ctx, t, h, ref, "get", nil)
		if err == nil {
			return got["n"]
		}
		if !errors.Is(err, abi.ErrTimeout) && !errors.Is(err, abi.ErrUnavailable) || time.Now().After(deadline) {
			require.NoError(t, err, "reading %s", ref)
		}
		t.Logf("reading %s again: %v", ref, err)
		time.Sleep(100 * time.Millisecond)
	}
}

func hasActivation(h *host.Host, ref abi.Ref) bool {
	for _, r := range h.Activations() {
		if r == ref {
			return true
		}
	}
	return false
}

func TestRouting(t *testing.T) {
	counter := host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}
	hostile := host.TypeConfig{Name: "hostile", Module: testwasm.Go(t, "hostile")}
	nodes := startCluster(t, counter, hostile)
	ctx := context.Background()

	t.Run("ask through any node reaches the owner", func(t *testing.T) {
		ref := ownedBy(t, nodes, "counter", "c", "n2")
		for i := range 9 {
			through := nodes[i%3]
			got, err := ask(ctx, t, through.h, ref, "add", M{"n": 1})
			require.NoError(t, err, "through %s", through.name)
			assert.EqualValues(t, i+1, got["n"], "through %s", through.name)
		}
		assert.True(t, hasActivation(nodes[1].h, ref), "the owner holds the activation")
		assert.False(t, hasActivation(nodes[0].h, ref), "no activation on a node that forwarded")
		assert.False(t, hasActivation(nodes[2].h, ref), "no activation on a node that forwarded")
	})

	t.Run("actor to actor across nodes", func(t *testing.T) {
		asker := ownedBy(t, nodes, "hostile", "a", "n1")
		target := ownedBy(t, nodes, "counter", "t", "n3")
		for i := range 3 {
			got, err := ask(ctx, t, nodes[1].h, asker, "ask", M{"to": target.String(), "method": "add", "payload": M{"n": 2}})
			require.NoError(t, err)
			assert.EqualValues(t, 2*(i+1), got["n"])
		}
		assert.True(t, hasActivation(nodes[2].h, target))
		assert.False(t, hasActivation(nodes[0].h, target))
	})

	t.Run("a cycle across nodes fails with deadlock", func(t *testing.T) {
		a := ownedBy(t, nodes, "hostile", "x", "n1")
		b := ownedBy(t, nodes, "hostile", "y", "n2")
		start := time.Now()
		_, err := ask(ctx, t, nodes[2].h, a, "ask", M{"to": b.String(), "method": "ask",
			"payload": M{"to": a.String(), "method": "read", "payload": M{"key": "k"}}})
		require.ErrorIs(t, err, abi.ErrDeadlock)
		assert.Contains(t, err.Error(), a.String()+" -> "+b.String()+" -> "+a.String())
		assert.Less(t, time.Since(start), 3*time.Second, "a cycle fails at once, not by timeout")
	})

	t.Run("tells through any node are applied once", func(t *testing.T) {
		ref := ownedBy(t, nodes, "counter", "tell", "n3")
		const each = 20
		var wg sync.WaitGroup
		for _, nd := range nodes {
			wg.Go(func() {
				for range each {
					assert.NoError(t, nd.h.Tell(ctx, ref, "add", cborOf(t, M{"n": 1})))
				}
			})
		}
		wg.Wait()
		total := func() any {
			got, err := ask(ctx, t, nodes[0].h, ref, "get", nil)
			if err != nil {
				return err
			}
			return got["n"]
		}
		require.Eventually(t, func() bool { return total() == uint64(3*each) }, 20*time.Second, 20*time.Millisecond)
		// Two sweeps later nothing was applied twice, and the outbox
		// holds none of these messages.
		time.Sleep(3 * testTTL)
		assert.EqualValues(t, 3*each, count(ctx, t, nodes[0].h, ref))
		out, err := nodes[0].store.Outbox(ctx)
		require.NoError(t, err)
		for _, m := range out {
			assert.NotEqual(t, ref.String(), m.Target, "a message left in the outbox")
		}
	})

	t.Run("a message left in the outbox is swept once", func(t *testing.T) {
		// What a node that died between its commit and the delivery
		// leaves behind: entries in the outbox that no node delivers. The
		// node that serves the target delivers them in a sweep, once,
		// however many nodes sweep.
		ref := ownedBy(t, nodes, "counter", "swept", "n1")
		old := time.Now().Add(-time.Minute).UnixNano()
		var msgs []storage.Message
		for i := range 5 {
			msgs = append(msgs, storage.Message{ID: fmt.Sprintf("%016x", old+int64(i)), Target: ref.String(), Method: "add",
				Payload: cborOf(t, M{"n": 10})})
		}
		require.NoError(t, nodes[1].store.Commit(ctx, &storage.Batch{Send: msgs}))
		require.Eventually(t, func() bool {
			got, err := ask(ctx, t, nodes[2].h, ref, "get", nil)
			return err == nil && got["n"] == uint64(50)
		}, 10*time.Second, 20*time.Millisecond)
		time.Sleep(3 * testTTL)
		assert.EqualValues(t, 50, count(ctx, t, nodes[2].h, ref), "each message applied once")
	})

	t.Run("a duplicate delivery is refused by the store", func(t *testing.T) {
		// The same message handed to the owner twice (a retry, or a sweep
		// racing its sender): the second turn's commit is refused and
		// rolled back.
		ref := ownedBy(t, nodes, "counter", "dup", "n2")
		m := storage.Message{ID: fmt.Sprintf("%016x", time.Now().UnixNano()), Target: ref.String(), Method: "add", Payload: cborOf(t, M{"n": 7})}
		require.NoError(t, nodes[0].store.Commit(ctx, &storage.Batch{Send: []storage.Message{m}}))
		for range 3 {
			refused, err := nodes[1].h.ServeDelivery(ctx, []storage.Message{m})
			require.NoError(t, err)
			assert.Empty(t, refused)
		}
		// Applied first, then consumed (the outbox is read from any
		// replica, which may not have the entry yet: its absence alone
		// does not say it was consumed).
		require.Eventually(t, func() bool {
			got, err := ask(ctx, t, nodes[0].h, ref, "get", nil)
			return err == nil && got["n"] == uint64(7)
		}, 10*time.Second, 20*time.Millisecond)
		require.Eventually(t, func() bool {
			out, err := nodes[0].store.Outbox(ctx)
			if err != nil {
				return false
			}
			for _, o := range out {
				if o.ID == m.ID {
					return false
				}
			}
			return true
		}, 10*time.Second, 20*time.Millisecond)
		time.Sleep(3 * testTTL)
		assert.EqualValues(t, 7, count(ctx, t, nodes[0].h, ref), "applied once")
		refused, err := nodes[0].h.ServeDelivery(ctx, []storage.Message{m})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{ref.String(): "n2"}, refused, "a node that does not serve the target refuses it")
	})

	t.Run("an ask waits for a lease held by a stopped node", func(t *testing.T) {
		// The lease is held by a node that stopped without releasing it:
		// the ask is tried again until the lease expires and the preferred
		// owner claims it, within the caller's deadline.
		ref := ownedBy(t, nodes, "counter", "held", "n2")
		const hold = 1500 * time.Millisecond
		// The lease expires hold after the claim began (Lease.Expires),
		// which under load can be well before Claim returns.
		lease, err := nodes[0].store.Claim(ctx, ref.String(), "stopped", hold)
		require.NoError(t, err)
		claimed := time.Now()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err = ask(short, t, nodes[0].h, ref, "add", M{"n": 1})
		cancel()
		require.ErrorIs(t, err, abi.ErrTimeout, "the caller's deadline passes first")
		assert.Contains(t, err.Error(), ref.String())
		assert.GreaterOrEqual(t, time.Since(claimed), 250*time.Millisecond, "not failed early")

		long, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		got, err := ask(long, t, nodes[2].h, ref, "add", M{"n": 1})
		require.NoError(t, err)
		assert.EqualValues(t, 1, got["n"])
		assert.False(t, time.Now().Before(lease.Expires), "served before the lease expired at %s", lease.Expires)
		assert.True(t, hasActivation(nodes[1].h, ref))
	})

	t.Run("a tell waits for a lease held by a stopped node", func(t *testing.T) {
		ref := ownedBy(t, nodes, "counter", "heldtell", "n3")
		_, err := nodes[0].store.Claim(ctx, ref.String(), "stopped", time.Second)
		require.NoError(t, err)
		for _, nd := range nodes {
			require.NoError(t, nd.h.Tell(ctx, ref, "add", cborOf(t, M{"n": 1})))
		}
		require.Eventually(t, func() bool {
			got, err := ask(ctx, t, nodes[0].h, ref, "get", nil)
			return err == nil && got["n"] == uint64(3)
		}, 15*time.Second, 20*time.Millisecond)
		time.Sleep(3 * testTTL)
		assert.EqualValues(t, 3, count(ctx, t, nodes[0].h, ref))
	})

	t.Run("bad asks from other nodes", func(t *testing.T) {
		ref := ownedBy(t, nodes, "counter", "bad", "n1")
		_, err := nodes[0].h.ServeAsk(ctx, &host.RemoteAsk{Target: ref, Method: "add", Chain: []string{ref.String()}})
		assert.ErrorIs(t, err, abi.ErrDeadlock)
		_, err = nodes[0].h.ServeAsk(ctx, &host.RemoteAsk{Target: abi.Ref{Type: "nope", ID: "1"}, Method: "add"})
		assert.ErrorIs(t, err, abi.ErrUnknownType)
		_, err = nodes[0].h.ServeAsk(ctx, &host.RemoteAsk{Target: ref, Method: "add", Sender: "not a ref"})
		assert.ErrorIs(t, err, abi.ErrBadRequest)
		// At the last hop a node that does not serve the target says who
		// does rather than sending it on.
		other := ownedBy(t, nodes, "counter", "bad", "n3")
		_, err = nodes[0].h.ServeAsk(ctx, &host.RemoteAsk{Target: other, Method: "get", Hops: host.MaxHops})
		var ns *host.NotServedError
		require.ErrorAs(t, err, &ns)
		assert.Equal(t, "n3", ns.Owner)
		assert.True(t, strings.Contains(ns.Error(), "n3"))
	})
}

// TestFollowersSeeEveryNode: a client following a topic on one node sees
// the publications that any node fans out, each once (the fanning node's
// own followers are not sent its relay again).
func TestFollowersSeeEveryNode(t *testing.T) {
	nodes := startCluster(t)
	ctx := context.Background()
	fls := make([]*host.Follower, len(nodes))
	for i, nd := range nodes {
		fl, err := nd.h.Follow("news")
		require.NoError(t, err)
		t.Cleanup(fl.Stop)
		fls[i] = fl
	}
	// next returns the next event of fl, or false after wait.
	next := func(fl *host.Follower, wait time.Duration) (host.Event, bool) {
		select {
		case ev, ok := <-fl.Events:
			return ev, ok
		case <-time.After(wait):
			return host.Event{}, false
		}
	}
	// Interest in the topic crosses the routes between the servers a
	// moment after a node follows it: publish until every follower saw
	// one, then drain what came.
	for i := 0; ; i++ {
		require.Less(t, i, 300, "every follower sees a publication of n1 within 30 s")
		require.NoError(t, nodes[0].h.Publish(ctx, "news", cborOf(t, M{"warm": i})))
		seen := 0
		for _, fl := range fls {
			if _, ok := next(fl, 100*time.Millisecond); ok {
				seen++
			}
		}
		if seen == len(fls) {
			break
		}
	}
	for _, fl := range fls {
		for {
			if _, ok := next(fl, 300*time.Millisecond); !ok {
				break
			}
		}
	}
	// A publication through each node reaches the followers on all three, once.
	for from, nd := range nodes {
		payload := cborOf(t, M{"from": from})
		require.NoError(t, nd.h.Publish(ctx, "news", payload))
		for i, fl := range fls {
			ev, ok := next(fl, 10*time.Second)
			require.True(t, ok, "the follower on %s sees the publication through %s", nodes[i].name, nd.name)
			assert.Equal(t, payload, ev.Payload)
			assert.Equal(t, "news", ev.Topic)
			assert.NotEmpty(t, ev.ID)
		}
		for i, fl := range fls {
			ev, ok := next(fl, 200*time.Millisecond)
			assert.False(t, ok, "the follower on %s sees one copy, not %+v", nodes[i].name, ev)
		}
	}
}
