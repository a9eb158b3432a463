package host_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// raceStore holds the first two commits that send copies to subscribers
// until both have arrived (or 10 s passed), so that two fan-outs of one
// publication commit their first pages at once, and counts the copies
// committed to each subscriber.
type raceStore struct {
	storage.Store
	arrived sync.WaitGroup
	mu      sync.Mutex
	held    int
	copies  map[string]int
	// failRest fails the next commit of a page after the first once.
	failRest bool
}

func (s *raceStore) Commit(ctx context.Context, b *storage.Batch) error {
	fanout := slices.ContainsFunc(b.Send, func(m storage.Message) bool { return strings.HasPrefix(m.Target, "conf/") })
	s.mu.Lock()
	hold := fanout && s.held < 2
	if hold {
		s.held++
	}
	fail := fanout && s.failRest && len(b.Consumed) == 1 && strings.Contains(b.Consumed[0], ".")
	if fail {
		s.failRest = false
	}
	s.mu.Unlock()
	if fail {
		return errors.New("a commit the test fails")
	}
	if hold {
		s.arrived.Done()
		waited := make(chan struct{})
		go func() { s.arrived.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
		}
	}
	if err := s.Store.Commit(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range b.Send {
		if strings.HasPrefix(m.Target, "conf/") {
			s.copies[m.Target]++
		}
	}
	return nil
}

// TestFanoutRaceDeliversOnce runs two fan-outs of one publication to more
// subscribers than a page holds at once, as two nodes do when both take
// up a publication whose node died in the middle of its fan-out: their
// first pages commit at the same moment, and still each subscriber gets
// one copy committed, and its turn.
func TestFanoutRaceDeliversOnce(t *testing.T) {
	ctx := context.Background()
	store := &raceStore{Store: memstore.New(), copies: make(map[string]int)}
	store.arrived.Add(2)
	h := newHostConfig(t, host.Config{Store: store}, host.TypeConfig{Name: "conf", Module: testwasm.Go(t, "conformance")})
	const subs = 300 // two pages
	links := make([]storage.Link, subs)
	for i := range links {
		links[i] = storage.Link{Set: host.SubscribersSet("news"), Member: fmt.Sprint("conf/s", i), Value: []byte("set")}
	}
	require.NoError(t, store.Store.Commit(ctx, &storage.Batch{Links: links}))
	m := host.Publication(h, "news", cborOf(t, map[string]any{"key": "n", "value": 7}))
	require.NoError(t, store.Store.Commit(ctx, &storage.Batch{Send: []storage.Message{m}}))
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- host.FanOut(ctx, h, m) }()
	}
	var consumed int
	for range 2 {
		if err := <-errs; err != nil {
			require.ErrorIs(t, err, storage.ErrConsumed)
			consumed++
		}
	}
	assert.Equal(t, 1, consumed, "one of the two fan-outs lost the race")
	drained(t, store)
	check := func(want, value int) {
		t.Helper()
		store.mu.Lock()
		defer store.mu.Unlock()
		require.Len(t, store.copies, subs)
		for target, n := range store.copies {
			require.Equal(t, want, n, "copies committed to %s", target)
		}
		for i := range subs {
			snap, err := h.State(ctx, abi.Ref{Type: "conf", ID: fmt.Sprint("s", i)})
			require.NoError(t, err)
			require.Equal(t, cborOf(t, value), snap.State["n"], "subscriber %d got the message", i)
		}
	}
	check(1, 7)
	// A page that fails to commit is tried again by the host's fan-out
	// from where the last commit left it (its continuation).
	store.mu.Lock()
	store.failRest = true
	store.mu.Unlock()
	require.NoError(t, h.Publish(ctx, "news", cborOf(t, map[string]any{"key": "n", "value": 8})))
	drained(t, store)
	check(2, 8)
	store.mu.Lock()
	assert.False(t, store.failRest, "the second page failed once")
	store.mu.Unlock()
}
