package host_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// drained waits until store's outbox is empty: every publication fanned
// out and every copy processed.
func drained(t testing.TB, store storage.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs, err := store.Outbox(context.Background())
		require.NoError(t, err)
		if len(msgs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still in the outbox, the first to %s", len(msgs), msgs[0].Target)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestImplicitSubscriptions checks that a type's implicit subscriptions
// deliver to the actor the topic or the message names, and refuse a bad
// pattern at deploy.
func TestImplicitSubscriptions(t *testing.T) {
	ctx := context.Background()
	conf := testwasm.Go(t, "conformance")
	store := memstore.New()
	h := newHostConfig(t, host.Config{Store: store},
		host.TypeConfig{Name: "room", Module: conf, Subscriptions: []host.ImplicitSubscription{{Topic: "rooms.*.said", Method: "set"}}},
		host.TypeConfig{Name: "user", Module: conf, Subscriptions: []host.ImplicitSubscription{{Topic: "rooms.>", Method: "set", ID: "payload.user"}}})
	payload := cborOf(t, map[string]any{"key": "last", "value": "hi", "user": "ada"})
	require.NoError(t, h.Publish(ctx, "rooms.42.said", payload))
	drained(t, store)
	for _, ref := range []abi.Ref{{Type: "room", ID: "42"}, {Type: "user", ID: "ada"}} {
		snap, err := h.State(ctx, ref)
		require.NoError(t, err)
		require.Equal(t, cborOf(t, "hi"), snap.State["last"], "%s got the message", ref)
	}
	err := h.Deploy(ctx, host.TypeConfig{Name: "bad", Module: conf, Subscriptions: []host.ImplicitSubscription{{Topic: "rooms.x", Method: "set"}}})
	require.ErrorContains(t, err, "no wildcard")
	err = h.Deploy(ctx, host.TypeConfig{Name: "bad", Module: conf, Subscriptions: []host.ImplicitSubscription{{Topic: "a.>.b", Method: "set"}}})
	require.Error(t, err)
}

// TestFanoutPages publishes to more subscribers than one page holds and
// checks each got each message once, in publish order.
func TestFanoutPages(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h := newHostConfig(t, host.Config{Store: store}, host.TypeConfig{Name: "conf", Module: testwasm.Go(t, "conformance")})
	const subs = 600 // more than two pages
	for i := range subs {
		_, err := h.Ask(ctx, abi.Ref{Type: "conf", ID: fmt.Sprint("s", i)}, "subscribe", cborOf(t, map[string]string{"topic": "news", "method": "set"}))
		require.NoError(t, err)
	}
	for n := range 3 {
		require.NoError(t, h.Publish(ctx, "news", cborOf(t, map[string]any{"key": "n", "value": n})))
	}
	drained(t, store)
	for i := range subs {
		snap, err := h.State(ctx, abi.Ref{Type: "conf", ID: fmt.Sprint("s", i)})
		require.NoError(t, err)
		require.Equal(t, cborOf(t, 2), snap.State["n"], "subscriber %d saw the last message last", i)
	}
}

// BenchmarkFanout1000 measures one publish to 1,000 subscribers: from
// Publish until every subscriber's turn (a state write) has committed.
//
//	go test -run '^$' -bench BenchmarkFanout1000 -benchtime 20x ./host/
func BenchmarkFanout1000(b *testing.B) {
	ctx := context.Background()
	store := memstore.New()
	h := newHostConfig(b, host.Config{Store: store}, host.TypeConfig{Name: "conf", Module: testwasm.Go(b, "conformance")})
	const subs = 1000
	for i := range subs {
		_, err := h.Ask(ctx, abi.Ref{Type: "conf", ID: fmt.Sprint("s", i)}, "subscribe", cborOf(b, map[string]string{"topic": "news", "method": "set"}))
		require.NoError(b, err)
	}
	b.ResetTimer()
	for n := range b.N {
		require.NoError(b, h.Publish(ctx, "news", cborOf(b, map[string]any{"key": "n", "value": n})))
		drained(b, store)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/subs, "µs/delivery")
}
