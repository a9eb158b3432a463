package host_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// fakeNet links hosts in process as the nodes of a cluster, without
// NATS: placement is what owner says, and asks and deliveries are calls
// of the other host's ServeAsk and ServeDelivery. A node it does not
// know does not serve anything, as a node that stopped.
type fakeNet struct {
	mu    sync.Mutex
	hosts map[string]*host.Host
	owner func(ref abi.Ref) string
	asks  map[string]int // asks each node received
}

type fakeRemote struct {
	net  *fakeNet
	self string
}

func (r fakeRemote) Owner(ref abi.Ref) (string, bool) {
	o := r.net.owner(ref)
	return o, o == r.self
}

func (n *fakeNet) host(node string) *host.Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hosts[node]
}

func (r fakeRemote) Ask(ctx context.Context, node string, req *host.RemoteAsk) ([]byte, error) {
	h := r.net.host(node)
	if h == nil {
		return nil, &host.NotServedError{Err: abi.NewError(abi.CodeUnavailable, "node "+node+" does not serve asks")}
	}
	r.net.mu.Lock()
	r.net.asks[node]++
	r.net.mu.Unlock()
	return h.ServeAsk(ctx, req)
}

func (r fakeRemote) Deliver(ctx context.Context, node string, msgs []storage.Message) (map[string]string, error) {
	h := r.net.host(node)
	if h == nil {
		return nil, &host.NotServedError{Err: abi.NewError(abi.CodeUnavailable, "node "+node+" does not take deliveries")}
	}
	return h.ServeDelivery(ctx, msgs)
}

// linkedHosts returns hosts a and b on one memstore, linked by a fakeNet
// that places every actor on a.
func linkedHosts(t *testing.T, ttl time.Duration, tp ...trace.TracerProvider) (*fakeNet, *memstore.Store, *host.Host, *host.Host) {
	st := memstore.New()
	n := &fakeNet{hosts: map[string]*host.Host{}, owner: func(abi.Ref) string { return "a" }, asks: map[string]int{}}
	counter := host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}
	for _, name := range []string{"a", "b"} {
		cfg := host.Config{Store: st, Node: name, LeaseTTL: ttl, Remote: fakeRemote{net: n, self: name}, SweepInterval: 10 * time.Millisecond}
		if len(tp) > 0 {
			cfg.TracerProvider = tp[0]
		}
		h := newHostConfig(t, cfg, counter)
		n.mu.Lock()
		n.hosts[name] = h
		n.mu.Unlock()
	}
	return n, st, n.host("a"), n.host("b")
}

// TestRemoteAskReachesOwner: an ask through a node that does not serve
// the actor is answered by the one activation on the node that does; an
// ask at the last hop to a node that does not serve the actor is
// answered with who does; a lease held by a node that stopped is waited
// for until the caller's deadline.
func TestRemoteAskReachesOwner(t *testing.T) {
	n, st, a, b := linkedHosts(t, 300*time.Millisecond)
	for i := range 4 {
		assert.EqualValues(t, M{"n": uint64(i + 1)}, mustCall(t, []*host.Host{a, b}[i%2], "counter/x", "add", M{"n": 1}))
	}
	assert.Len(t, a.Activations(), 1)
	assert.Empty(t, b.Activations(), "b forwarded, it did not activate")
	assert.Equal(t, 2, n.asks["a"])

	_, err := b.ServeAsk(context.Background(), &host.RemoteAsk{Target: abi.Ref{Type: "counter", ID: "y"}, Method: "get", Hops: host.MaxHops})
	var ns *host.NotServedError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, "a", ns.Owner)

	// The lease of counter/z is held by node "gone", which serves
	// nothing: a tries again until the lease expires.
	_, err = st.Claim(context.Background(), "counter/z", "gone", 500*time.Millisecond)
	require.NoError(t, err)
	held := time.Now()
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err = b.Ask(short, abi.Ref{Type: "counter", ID: "z"}, "get", nil)
	cancel()
	assert.ErrorIs(t, err, abi.ErrTimeout, "the deadline passes first")
	assert.GreaterOrEqual(t, time.Since(held), 150*time.Millisecond, "not failed early")
	long, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = b.Ask(long, abi.Ref{Type: "counter", ID: "z"}, "add", cborOf(t, M{"n": 5}))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(held), 450*time.Millisecond, "served once the lease expired")
}

// TestRemoteTellsAppliedOnce: tells through either node are delivered to
// the owner and applied once each, also when a delivery is repeated.
func TestRemoteTellsAppliedOnce(t *testing.T) {
	_, st, a, b := linkedHosts(t, 300*time.Millisecond)
	ref := abi.Ref{Type: "counter", ID: "t"}
	for i := range 20 {
		require.NoError(t, []*host.Host{a, b}[i%2].Tell(context.Background(), ref, "add", cborOf(t, M{"n": 1})))
	}
	require.Eventually(t, func() bool { return mustCall(t, b, "counter/t", "get", nil)["n"] == uint64(20) }, 10*time.Second, 10*time.Millisecond)
	assert.Empty(t, b.Activations())

	// One more, committed as a node would and then handed to a three
	// times (a sweep may hand it over too).
	m := storage.Message{ID: fmt.Sprintf("%016x", time.Now().UnixNano()), Target: ref.String(), Method: "add", Payload: cborOf(t, M{"n": 100})}
	require.NoError(t, st.Commit(context.Background(), &storage.Batch{Send: []storage.Message{m}}))
	for range 3 {
		refused, err := a.ServeDelivery(context.Background(), []storage.Message{m})
		require.NoError(t, err)
		assert.Empty(t, refused)
	}
	require.Eventually(t, func() bool { return mustCall(t, b, "counter/t", "get", nil)["n"] == uint64(120) }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	assert.EqualValues(t, M{"n": uint64(120)}, mustCall(t, a, "counter/t", "get", nil), "applied once")
}

// TestRemoteTraceContinues: the trace of a call continues on the node
// that serves its target, for an ask and for a tell.
func TestRemoteTraceContinues(t *testing.T) {
	rec := newRecorder(t)
	_, _, _, b := linkedHosts(t, time.Second, rec.tp)
	ctx, client := rec.tp.Tracer("test").Start(context.Background(), "client")
	_, err := b.Ask(ctx, abi.Ref{Type: "counter", ID: "traced"}, "add", cborOf(t, M{"n": 1}))
	require.NoError(t, err)
	require.NoError(t, b.Tell(ctx, abi.Ref{Type: "counter", ID: "traced"}, "get", nil))
	client.End()
	want := client.SpanContext().TraceID()
	assert.Equal(t, want, rec.span(t, "turn counter.add").SpanContext.TraceID(), "the ask's turn on node a")
	assert.Equal(t, want, rec.span(t, "turn counter.get").SpanContext.TraceID(), "the tell's turn on node a")
}
