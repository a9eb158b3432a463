package host_test

import (
	"context"
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

// pausableStore is a memstore shared by several hosts whose lease
// renewals can be made to go nowhere while seeming to succeed: what a node
// sees when it is paused between its last check of its lease and its
// commit, so that only the fence can stop the commit.
type pausableStore struct {
	*memstore.Store
	paused atomic.Bool
	// slow makes every commit take a millisecond, so that the host hands
	// its batches to the pipeline's flusher.
	slow bool
}

func (s *pausableStore) Commit(ctx context.Context, b *storage.Batch) error {
	if s.slow {
		time.Sleep(time.Millisecond)
	}
	return s.Store.Commit(ctx, b)
}

func (s *pausableStore) Renew(ctx context.Context, ls []storage.Lease, ttl time.Duration) ([]storage.Lease, []error) {
	if s.paused.Load() {
		return ls, make([]error, len(ls))
	}
	return s.Store.Renew(ctx, ls, ttl)
}

// expire pauses the renewals and waits until actor's lease expired.
func (s *pausableStore) expire(t *testing.T, actor string) {
	s.paused.Store(true)
	require.Eventually(t, func() bool {
		_, held, err := s.Holder(context.Background(), actor)
		return err == nil && !held
	}, 10*time.Second, 10*time.Millisecond, "the lease of %s expires unrenewed", actor)
}

// nodeHost is a host named node on a store it shares with other hosts.
func nodeHost(t *testing.T, st storage.Store, node string, ttl, idle time.Duration) *host.Host {
	return newHostConfig(t, host.Config{Store: st, Node: node, LeaseTTL: ttl, SweepInterval: 10 * time.Millisecond},
		host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter"), IdleTimeout: idle})
}

func requireUnavailable(t *testing.T, err error, contains string) {
	t.Helper()
	var e *abi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, abi.CodeUnavailable, e.Code)
	assert.Contains(t, e.Message, contains)
}

// TestOwnershipOneActivationAcrossHosts: an actor active on one host is
// refused by another host of the same store, and served there, with the
// state the first left, once the first deactivates it.
func TestOwnershipOneActivationAcrossHosts(t *testing.T) {
	st := memstore.New()
	a := nodeHost(t, st, "a", time.Second, 300*time.Millisecond)
	b := nodeHost(t, st, "b", time.Second, time.Hour)

	assert.EqualValues(t, M{"n": uint64(5)}, mustCall(t, a, "counter/x", "add", M{"n": 5}))
	_, err := call(t, b, "counter/x", "add", M{"n": 1})
	requireUnavailable(t, err, "owned by node a")
	assert.Empty(t, b.Activations(), "no activation on the refused host")

	// a deactivates x when idle, and releases its lease at once.
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond)
	_, held, err := st.Holder(context.Background(), "counter/x")
	require.NoError(t, err)
	assert.False(t, held, "the lease is released on deactivation")
	assert.EqualValues(t, M{"n": uint64(6)}, mustCall(t, b, "counter/x", "add", M{"n": 1}))
	l, held, err := st.Holder(context.Background(), "counter/x")
	require.NoError(t, err)
	require.True(t, held)
	assert.Equal(t, "b", l.Owner)

	// b's lease outlives its TTL while x is active: it is renewed.
	time.Sleep(1500 * time.Millisecond)
	_, err = call(t, a, "counter/x", "add", M{"n": 1})
	requireUnavailable(t, err, "owned by node b")
	assert.EqualValues(t, M{"n": uint64(7)}, mustCall(t, b, "counter/x", "add", M{"n": 1}))
}

// pausedTTL is the lease TTL of the host whose renewals are paused.
const pausedTTL = 200 * time.Millisecond

// takenOver returns hosts a and b on a store whose renewals are paused
// (a's and b's), after b took counter/x over from a: a added 5 and still
// holds the activation, its lease expired, and b added 10.
func takenOver(t *testing.T, slow bool) (*pausableStore, *host.Host, *host.Host) {
	st := &pausableStore{Store: memstore.New(), slow: slow}
	a := nodeHost(t, st, "a", pausedTTL, time.Hour)
	b := nodeHost(t, st, "b", 5*time.Second, time.Hour) // outlives the pause of renewals
	assert.EqualValues(t, M{"n": uint64(5)}, mustCall(t, a, "counter/x", "add", M{"n": 5}))
	st.expire(t, "counter/x")
	assert.EqualValues(t, M{"n": uint64(15)}, mustCall(t, b, "counter/x", "add", M{"n": 10}))
	return st, a, b
}

// TestOwnershipFencesLostLease: host a's activation keeps running while
// its lease expires unrenewed (a paused node) and host b takes the actor
// over; a's next commit is refused by the fence, applies nothing, and a
// drops the activation; a's next message is refused, b owning the actor.
func TestOwnershipFencesLostLease(t *testing.T) {
	st, a, b := takenOver(t, false)
	// Renewals stay paused, so that a still believes it holds x and only
	// the fence can stop its commit.
	before, err := st.Load(context.Background(), "counter/x")
	require.NoError(t, err)

	_, err = call(t, a, "counter/x", "add", M{"n": 100})
	requireUnavailable(t, err, "ownership lost")
	st.paused.Store(false) // b renews again
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond,
		"a drops the fenced activation")
	after, err := st.Load(context.Background(), "counter/x")
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing of a's fenced turn applied")

	_, err = call(t, a, "counter/x", "add", M{"n": 1})
	requireUnavailable(t, err, "owned by node b")
	assert.EqualValues(t, M{"n": uint64(16)}, mustCall(t, b, "counter/x", "add", M{"n": 1}))
}

// TestOwnershipRenewalFenced: a renewal that finds the lease taken over
// drops the activation at its next turn, before the turn runs.
func TestOwnershipRenewalFenced(t *testing.T) {
	st, a, b := takenOver(t, false)
	st.paused.Store(false)
	time.Sleep(2 * pausedTTL) // a's renewals run again, and are refused

	_, err := call(t, a, "counter/x", "add", M{"n": 100})
	requireUnavailable(t, err, "lost the ownership")
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, M{"n": uint64(16)}, mustCall(t, b, "counter/x", "add", M{"n": 1}))
}

// TestOwnershipNeedsLeases: a node name with a store that cannot share
// actors is refused.
func TestOwnershipNeedsLeases(t *testing.T) {
	_, err := host.New(context.Background(), host.Config{Store: noLeases{memstore.New()}, Node: "a"})
	require.ErrorContains(t, err, "no leases")
}

// noLeases hides memstore's Leases.
type noLeases struct{ storage.Store }

// TestOwnershipFenceWithoutWrites: the fence refuses a lost holder's
// commit even when the new holder wrote nothing (so that no version
// check could): here another owner merely claimed the expired lease.
func TestOwnershipFenceWithoutWrites(t *testing.T) {
	st := &pausableStore{Store: memstore.New()}
	a := nodeHost(t, st, "a", pausedTTL, time.Hour)
	mustCall(t, a, "counter/x", "add", M{"n": 5})
	st.paused.Store(true)
	ctx := context.Background()
	require.Eventually(t, func() bool {
		_, err := st.Claim(ctx, "counter/x", "c", time.Minute)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "c claims the expired lease")
	before, err := st.Load(ctx, "counter/x")
	require.NoError(t, err)

	_, err = call(t, a, "counter/x", "add", M{"n": 1})
	requireUnavailable(t, err, "ownership lost")
	after, err := st.Load(ctx, "counter/x")
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond,
		"a drops the fenced activation")
	_, err = call(t, a, "counter/x", "add", M{"n": 1})
	requireUnavailable(t, err, "owned by node c")
}

// TestOwnershipFencesPipeline: with slow commits a's turns hand their
// batches to the pipeline's flusher; once the lease is lost the flusher's
// commit is fenced, every turn fails with unavailable, none of their
// writes is applied, and a drops the activation.
func TestOwnershipFencesPipeline(t *testing.T) {
	st, a, b := takenOver(t, true)
	before, err := st.Load(context.Background(), "counter/x")
	require.NoError(t, err)
	const calls = 16
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := a.Ask(context.Background(), abi.Ref{Type: "counter", ID: "x"}, "add", cborOf(t, M{"n": 1}))
			errs <- err
		}()
	}
	for range calls {
		select {
		case err := <-errs:
			var e *abi.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, abi.CodeUnavailable, e.Code, e.Message)
		case <-time.After(30 * time.Second):
			t.Fatal("an ask on the fenced host did not return")
		}
	}
	after, err := st.Load(context.Background(), "counter/x")
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond,
		"a drops the fenced activation")
	st.paused.Store(false)
	assert.EqualValues(t, M{"n": uint64(16)}, mustCall(t, b, "counter/x", "add", M{"n": 1}))
}
