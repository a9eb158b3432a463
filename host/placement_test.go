package host_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// placements is the placement of a test's cluster: which node each actor
// prefers, changed by the test; each host sees it through a view.
type placements struct {
	mu      sync.Mutex
	prefer  func(ref abi.Ref) string
	changed chan struct{}
}

func newPlacements(prefer func(abi.Ref) string) *placements {
	return &placements{prefer: prefer, changed: make(chan struct{})}
}

// set changes the placement and signals the change.
func (p *placements) set(prefer func(abi.Ref) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prefer = prefer
	close(p.changed)
	p.changed = make(chan struct{})
}

// view is the placement as node self sees it.
type view struct {
	p    *placements
	self string
}

func (v view) Owner(ref abi.Ref) (string, bool) {
	v.p.mu.Lock()
	defer v.p.mu.Unlock()
	n := v.p.prefer(ref)
	return n, n != "" && n == v.self
}

func (v view) Changed() <-chan struct{} {
	v.p.mu.Lock()
	defer v.p.mu.Unlock()
	return v.p.changed
}

func everyone(node string) func(abi.Ref) string { return func(abi.Ref) string { return node } }

// placedHost is a host named node with placement p on st.
func placedHost(t *testing.T, st storage.Store, node string, p *placements, ttl time.Duration, types ...host.TypeConfig) *host.Host {
	return newHostConfig(t, host.Config{Store: st, Node: node, LeaseTTL: ttl, SweepInterval: 10 * time.Millisecond,
		Placement: view{p, node}}, types...)
}

func activeIDs(h *host.Host) map[string]bool {
	out := map[string]bool{}
	for _, r := range h.Activations() {
		out[r.ID] = true
	}
	return out
}

// TestLifecycleHandoverOnJoinAndLeave: when another node comes to prefer
// some of a node's actors (a join), the node deactivates them at a turn
// boundary and releases their leases, and the new node serves them with
// their state; when the node leaves, HandOver moves the rest. A client
// that keeps calling one actor throughout, retrying an unavailable call
// with its idempotency key on the node then preferred, sees every call
// applied once.
func TestLifecycleHandoverOnJoinAndLeave(t *testing.T) {
	st := memstore.New()
	p := newPlacements(everyone("a"))
	counter := host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}
	hosts := map[string]*host.Host{
		"a": placedHost(t, st, "a", p, time.Second, counter),
		"b": placedHost(t, st, "b", p, time.Second, counter),
	}
	const actors = 10
	for i := range actors {
		mustCall(t, hosts["a"], fmt.Sprintf("counter/%d", i), "add", M{"n": 1})
	}
	require.Len(t, hosts["a"].Activations(), actors)

	// The client: adds 1 to counter/busy, calls numbered by key.
	var sent atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ref := abi.Ref{Type: "counter", ID: "busy"}
		for k := 0; ; k++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			key := fmt.Sprintf("k%d", k)
			var err error
			for attempt := 0; attempt < 500; attempt++ {
				owner, _ := view{p, ""}.Owner(ref)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err = hosts[owner].Ask(ctx, ref, "add", cborOf(t, M{"n": 1}), host.IdempotencyKey(key))
				cancel()
				if !errors.Is(err, abi.ErrUnavailable) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err != nil {
				done <- fmt.Errorf("call %s: %w", key, err)
				return
			}
			sent.Add(1)
		}
	}()
	waitSent := func(n int64) {
		require.Eventually(t, func() bool { return sent.Load() >= n }, 20*time.Second, time.Millisecond)
	}
	waitSent(20)

	// b joins: it prefers the even-numbered actors, and busy.
	p.set(func(ref abi.Ref) string {
		var i int
		if _, err := fmt.Sscan(ref.ID, &i); err != nil || i%2 == 0 {
			return "b" // busy, and the even-numbered
		}
		return "a"
	})
	require.Eventually(t, func() bool {
		ids := activeIDs(hosts["a"])
		for i := 0; i < actors; i += 2 {
			if ids[fmt.Sprint(i)] {
				return false
			}
		}
		return !ids["busy"]
	}, 10*time.Second, 5*time.Millisecond, "a hands the actors b now prefers over")
	for i := 1; i < actors; i += 2 {
		assert.True(t, activeIDs(hosts["a"])[fmt.Sprint(i)], "a keeps the actors it still prefers")
	}
	for i := 0; i < actors; i += 2 {
		_, held, err := st.Holder(context.Background(), fmt.Sprintf("counter/%d", i))
		require.NoError(t, err)
		assert.False(t, held, "the lease of a handed-over actor is released")
		assert.EqualValues(t, M{"n": uint64(2)}, mustCall(t, hosts["b"], fmt.Sprintf("counter/%d", i), "add", M{"n": 1}))
	}
	waitSent(sent.Load() + 20)

	// a leaves: b prefers everything, and a hands the rest over.
	p.set(everyone("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, hosts["a"].HandOver(ctx))
	assert.Empty(t, hosts["a"].Activations())
	for i := 1; i < actors; i += 2 {
		assert.EqualValues(t, M{"n": uint64(2)}, mustCall(t, hosts["b"], fmt.Sprintf("counter/%d", i), "add", M{"n": 1}))
	}
	waitSent(sent.Load() + 20)
	close(stop)
	require.NoError(t, <-done)
	assert.EqualValues(t, M{"n": uint64(sent.Load())}, mustCall(t, hosts["b"], "counter/busy", "get", M{}),
		"every acknowledged call applied once")
}

// deadStore is a store shared with other hosts that can be made to fail
// every call, as a node that was killed: it neither commits nor renews
// nor releases anything more.
type deadStore struct {
	*memstore.Store
	dead atomic.Bool
}

var errDead = errors.New("test: this node is dead")

func (s *deadStore) Commit(ctx context.Context, b *storage.Batch) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.Commit(ctx, b)
}

func (s *deadStore) Renew(ctx context.Context, ls []storage.Lease, ttl time.Duration) ([]storage.Lease, []error) {
	if s.dead.Load() {
		errs := make([]error, len(ls))
		for i := range errs {
			errs[i] = errDead
		}
		return nil, errs
	}
	return s.Store.Renew(ctx, ls, ttl)
}

func (s *deadStore) Release(ctx context.Context, l storage.Lease) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.Release(ctx, l)
}

// TestLifecycleRemindersFireOnceAcrossNodes: two nodes load every
// reminder due, but only the owner of its actor fires it; once the owner
// is killed and the other node prefers the actor, that one fires the
// reminders set before the kill, once each.
func TestLifecycleRemindersFireOnceAcrossNodes(t *testing.T) {
	shared := memstore.New()
	aStore := &deadStore{Store: shared}
	p := newPlacements(everyone("a"))
	clock := host.TypeConfig{Name: "clock", Module: testwasm.Go(t, "clockwork"), Source: "clockwork.wasm"}
	const ttl = 300 * time.Millisecond
	a := placedHost(t, aStore, "a", p, ttl, clock)
	b := placedHost(t, shared, "b", p, ttl, clock)
	const ref = "clock/r"

	mustCall(t, a, ref, "reminder", M{"name": "early", "in_ms": 200})
	mustCall(t, a, ref, "reminder", M{"name": "late", "in_ms": 1500})
	require.Eventually(t, func() bool { return storedState(t, shared, ref, "hits/early") == 1 }, 10*time.Second, 5*time.Millisecond)
	assert.Empty(t, b.Activations(), "b fires nothing of the actor a owns")

	// a dies before late is due; b comes to prefer everything.
	aStore.dead.Store(true)
	p.set(everyone("b"))
	require.Eventually(t, func() bool { return storedState(t, shared, ref, "hits/late") == 1 }, 20*time.Second, 5*time.Millisecond,
		"b fires the reminder of the dead a's actor")
	assert.True(t, isActive(b, ref), "b activated the actor to fire it")
	time.Sleep(time.Second) // what could fire twice has had the time to
	assert.EqualValues(t, 1, storedState(t, shared, ref, "hits/early"))
	assert.EqualValues(t, 1, storedState(t, shared, ref, "hits/late"))
	list, err := b.Reminders(context.Background(), abi.Ref{Type: "clock", ID: "r"})
	require.NoError(t, err)
	assert.Empty(t, list, "both one-shot reminders fired and are gone")
}

// silentRemote is a Remote for placement tests whose member "ghost" has
// stopped heartbeating, or not (live): it serves nothing, so that a test
// sees only what the host does with the placement it is given.
type silentRemote struct {
	view
	live bool
}

func (r silentRemote) Ask(context.Context, string, *host.RemoteAsk) ([]byte, error) {
	return nil, abi.NewError(abi.CodeUnavailable, "silentRemote serves no ask")
}

func (r silentRemote) Deliver(context.Context, string, []storage.Message) (map[string]string, error) {
	return nil, abi.NewError(abi.CodeUnavailable, "silentRemote delivers nothing")
}

func (r silentRemote) Live(node string) bool { return node != "ghost" || r.live }

func (r silentRemote) LiveContext(node string) context.Context {
	if r.Live(node) {
		return context.Background()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestHandoverSkipsSilentMembers: an actor whose preferred node no longer
// heartbeats (the member list still names it: a paused node, or one whose
// list is being re-elected) stays where it is served and keeps answering,
// lease TTL after lease TTL, with no gap; had that node been live, the actor would have
// been handed to it.
func TestHandoverSkipsSilentMembers(t *testing.T) {
	const ttl = 100 * time.Millisecond
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) {
			p := newPlacements(everyone("a"))
			counter := host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}
			h := newHostConfig(t, host.Config{Store: memstore.New(), Node: "a", LeaseTTL: ttl, SweepInterval: 10 * time.Millisecond,
				Placement: view{p, "a"}, Remote: silentRemote{view{p, "a"}, live}}, counter)
			mustCall(t, h, "counter/x", "add", M{"n": 1})
			p.set(everyone("ghost"))
			if live {
				require.Eventually(t, func() bool { return len(h.Activations()) == 0 }, 5*time.Second, 10*time.Millisecond,
					"handed over to the live member placement prefers")
				return
			}
			for end := time.Now().Add(5 * ttl); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
				require.True(t, activeIDs(h)["x"], "counter/x deactivated for a silent member")
			}
			assert.EqualValues(t, M{"n": uint64(2)}, mustCall(t, h, "counter/x", "add", M{"n": 1}))
		})
	}
}
