package host_test

import (
	"context"
	"fmt"
	"sync/atomic"
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

// readCounter is a memstore that counts the outbox entries it returns.
type readCounter struct {
	*memstore.Store
	read atomic.Int64
}

func (s *readCounter) Outbox(ctx context.Context) ([]storage.Message, error) {
	msgs, err := s.Store.Outbox(ctx)
	s.read.Add(int64(len(msgs)))
	return msgs, err
}

func (s *readCounter) OutboxPage(ctx context.Context, cursor string, limit int) ([]storage.Message, string, error) {
	msgs, next, err := s.Store.OutboxPage(ctx, cursor, limit)
	s.read.Add(int64(len(msgs)))
	return msgs, next, err
}

// TestSweepReadsBoundedPages: the outbox sweep reads a bounded number of
// entries each time, and the sweeps after it read on from there, so that
// an entry behind a long outbox is still delivered. Here 25,000 entries
// for actors of a node that is gone come before one for an actor of this
// node.
func TestSweepReadsBoundedPages(t *testing.T) {
	ctx := context.Background()
	st := &readCounter{Store: memstore.New()}
	n := &fakeNet{hosts: map[string]*host.Host{}, asks: map[string]int{}, owner: func(ref abi.Ref) string {
		if ref.ID == "mine" {
			return "a"
		}
		return "gone"
	}}
	// A lease TTL of an hour: the sweep runs only when the test says.
	a := newHostConfig(t, host.Config{Store: st, Node: "a", LeaseTTL: time.Hour, Remote: fakeRemote{net: n, self: "a"}},
		host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")})
	n.hosts["a"] = a
	const others = 25_000
	for start := 0; start < others; start += 1000 {
		b := &storage.Batch{}
		for i := start; i < start+1000; i++ {
			b.Send = append(b.Send, storage.Message{ID: fmt.Sprintf("%016x", i+1), Target: fmt.Sprint("counter/", i), Method: "add", Payload: cborOf(t, M{"n": 1})})
		}
		require.NoError(t, st.Commit(ctx, b))
	}
	require.NoError(t, st.Commit(ctx, &storage.Batch{Send: []storage.Message{
		{ID: fmt.Sprintf("%016x", others+1), Target: "counter/mine", Method: "add", Payload: cborOf(t, M{"n": 7})}}}))

	var delivered, sweeps int
	for delivered == 0 {
		st.read.Store(0)
		got, err := host.Sweep(ctx, a, time.Now())
		require.NoError(t, err)
		assert.LessOrEqual(t, st.read.Load(), int64(10*storage.MaxOutboxPage), "entries one sweep read")
		delivered += got
		sweeps++
		require.Less(t, sweeps, 10, "sweeps before the last entry was delivered")
	}
	assert.Equal(t, 1, delivered)
	assert.Equal(t, 3, sweeps, "two sweeps of 10,000 entries, then the rest")
	require.Eventually(t, func() bool {
		snap, err := a.State(ctx, abi.Ref{Type: "counter", ID: "mine"})
		return err == nil && len(snap.State) > 0
	}, 10*time.Second, 10*time.Millisecond, "counter/mine got its message")
}
