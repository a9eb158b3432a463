package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/natsstore"
)

// lifecycleNode is one node of an in-process cluster: its membership and
// placement, its JetStream store and its host, wired as run wires them.
type lifecycleNode struct {
	name string
	node *cluster.Node
	st   *natsstore.Store
	h    *host.Host
	once sync.Once // of leave
}

// startLifecycleNode starts node name of cluster "life" on the NATS at
// url, with a counter type, active once started.
func startLifecycleNode(t *testing.T, url, name string) *lifecycleNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := cluster.Start(ctx, cluster.Config{Name: "life", Node: name, LeaseTTL: 2 * time.Second, NATSURL: url, Logger: log})
	require.NoError(t, err)
	cfg := natsstore.DefaultConfig(n.Conn())
	cfg.Stream = clusterStreamName("life")
	st, err := natsstore.Open(ctx, cfg)
	require.NoError(t, err)
	h, err := host.New(ctx, host.Config{Store: st, Node: name, LeaseTTL: 2 * time.Second, Placement: n.Placement(),
		Logger: log, CacheDir: testwasm.CacheDir(t), SweepInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}))
	require.NoError(t, h.Start(ctx))
	require.NoError(t, n.Join(ctx, "127.0.0.1:1", func() int { return len(h.Activations()) }))
	require.NoError(t, n.SetState(ctx, cluster.StateActive))
	ln := &lifecycleNode{name: name, node: n, st: st, h: h}
	t.Cleanup(func() { ln.leave(t) })
	return ln
}

// leave stops the node as run does on SIGTERM: leaving, hand over, close.
// The second call does nothing.
func (ln *lifecycleNode) leave(t *testing.T) {
	ln.once.Do(func() { ln.leaveOnce(t) })
}

func (ln *lifecycleNode) leaveOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assert.NoError(t, ln.node.SetState(ctx, cluster.StateLeaving))
	assert.NoError(t, ln.h.HandOver(ctx))
	assert.NoError(t, ln.h.Close(ctx))
	assert.NoError(t, ln.st.Close())
	assert.NoError(t, ln.node.Close(ctx))
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestLifecycleJoinAndLeave runs nodes of one cluster in process, on one
// NATS server (nats_url), and moves ownership: a node that joins takes
// over at turn boundaries the actors it now prefers; a node that leaves
// hands its actors over. A client keeps adding to every actor through
// the node each prefers, retrying an unavailable call (an actor moving)
// with its idempotency key; at the end each counter holds exactly the
// calls acknowledged.
func TestLifecycleJoinAndLeave(t *testing.T) {
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true, MaxPayload: 8 << 20})
	require.NoError(t, err)
	srv.Start()
	// Registered first, so it runs last: after the nodes have left.
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	require.True(t, srv.ReadyForConnections(20*time.Second))
	url := srv.ClientURL()

	var mu sync.Mutex
	nodes := map[string]*lifecycleNode{}
	for _, name := range []string{"n1", "n2"} {
		nodes[name] = startLifecycleNode(t, url, name)
	}
	const actors = 8
	refs := make([]abi.Ref, actors)
	for i := range refs {
		refs[i] = abi.Ref{Type: "counter", ID: fmt.Sprint(i)}
	}
	// where returns the node that prefers ref, as n1 sees the members.
	where := func(ref abi.Ref) *lifecycleNode {
		mu.Lock()
		defer mu.Unlock()
		for _, ln := range nodes {
			if owner, self := ln.node.Placement().Owner(ref); self || owner != "" && nodes[owner] != nil {
				return nodes[owner]
			}
		}
		return nil
	}
	acked := make([]atomic.Int64, actors)
	stop := make(chan struct{})
	errs := make(chan error, actors)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				for attempt := 0; attempt < 2000; attempt++ {
					ln := where(ref)
					if ln == nil {
						err = errors.New("no node prefers " + ref.String())
					} else {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						_, err = ln.h.Ask(ctx, ref, "add", []byte{0xa1, 0x61, 'n', 0x01}, host.IdempotencyKey(fmt.Sprint("k", k)))
						cancel()
					}
					if err == nil || !errors.Is(err, abi.ErrUnavailable) && err.Error() != "no node prefers "+ref.String() {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				if err != nil {
					errs <- fmt.Errorf("%s call k%d: %w", ref, k, err)
					return
				}
				acked[i].Add(1)
				time.Sleep(5 * time.Millisecond) // a steady load, not a flood
			}
		})
	}
	progress := func() {
		var before int64
		for i := range acked {
			before += acked[i].Load()
		}
		require.Eventually(t, func() bool {
			var now int64
			for i := range acked {
				now += acked[i].Load()
			}
			return now >= before+3*actors
		}, 30*time.Second, 5*time.Millisecond, "the client makes progress")
	}
	holders := func(ln *lifecycleNode) map[string]bool {
		out := map[string]bool{}
		for _, r := range ln.h.Activations() {
			out[r.ID] = true
		}
		return out
	}
	progress()

	// n3 joins: the actors it now prefers leave n1 and n2.
	n3 := startLifecycleNode(t, url, "n3")
	mu.Lock()
	nodes["n3"] = n3
	mu.Unlock()
	// Once n1 sees n3 active, n3 is preferred for some of the actors.
	require.Eventually(t, func() bool {
		for _, ref := range refs {
			if owner, _ := nodes["n1"].node.Placement().Owner(ref); owner == "n3" {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "n3 is preferred for some of the actors")
	require.Eventually(t, func() bool {
		for _, ref := range refs {
			for _, name := range []string{"n1", "n2"} {
				if owner, _ := nodes[name].node.Placement().Owner(ref); owner == "n3" && holders(nodes[name])[ref.ID] {
					return false
				}
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond, "n1 and n2 hand over what n3 now prefers")
	progress()
	require.Eventually(t, func() bool { return len(holders(n3)) > 0 }, 30*time.Second, 10*time.Millisecond, "n3 serves actors")

	// n1 leaves: its actors go to n2 and n3.
	mu.Lock()
	n1 := nodes["n1"]
	delete(nodes, "n1")
	mu.Unlock()
	n1.leave(t)
	progress()

	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, ref := range refs {
		ln := where(ref)
		require.NotNil(t, ln)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var reply []byte
		for attempt := 0; attempt < 1000; attempt++ {
			if reply, err = ln.h.Ask(ctx, ref, "get", nil); !errors.Is(err, abi.ErrUnavailable) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		require.NoError(t, err)
		assert.Equal(t, cborCount(acked[i].Load()), reply, "%s holds every acknowledged add, once", ref)
	}
}

// cborCount is the counter's reply {"n": n} in CBOR.
func cborCount(n int64) []byte {
	b := []byte{0xa1, 0x61, 'n'}
	switch {
	case n < 24:
		return append(b, byte(n))
	case n < 256:
		return append(b, 0x18, byte(n))
	case n < 65536:
		return append(b, 0x19, byte(n>>8), byte(n))
	}
	return append(b, 0x1a, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
