package host_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// told returns the reasons of the lifecycle messages the conformance
// actor watcher stored (under "lifecycle/<message id>"), sorted, each
// checked to name the watched actor.
func told(t *testing.T, h *host.Host, watcher abi.Ref, watched string) []string {
	t.Helper()
	snap, err := h.State(context.Background(), watcher)
	require.NoError(t, err)
	var reasons []string
	for k, v := range snap.State {
		if !strings.HasPrefix(k, "lifecycle/") {
			continue
		}
		var l map[string]string
		require.NoError(t, cbor.Unmarshal(v, &l))
		require.Equal(t, watched, l["ref"], "the lifecycle message names the watched actor")
		reasons = append(reasons, l["reason"])
	}
	slices.Sort(reasons)
	return reasons
}

// waitTold waits until watcher holds exactly the lifecycle reasons want.
func waitTold(t *testing.T, h *host.Host, watcher abi.Ref, watched string, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	require.Eventually(t, func() bool {
		got = told(t, h, watcher, watched)
		return slices.Equal(got, want)
	}, 10*time.Second, 10*time.Millisecond, "lifecycle messages of %s to %s: %v, want %v", watched, watcher, got, want)
}

// TestWatchReasons checks that a watcher is told, once each, that the
// actor it watches broke, was redeployed, went idle and was shut down;
// and that the watch, and a lifecycle message committed at shutdown,
// survive a restart.
func TestWatchReasons(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hostile := testwasm.Go(t, "hostile")
	types := []host.TypeConfig{
		{Name: "conf", Module: testwasm.Go(t, "conformance")},
		{Name: "hostile", Module: hostile},
		{Name: "idler", Module: hostile, IdleTimeout: 200 * time.Millisecond},
	}
	store, err := badgerstore.Open(dir, badgerstore.DefaultOptions())
	require.NoError(t, err)
	h := newHostConfig(t, host.Config{Store: store, SweepInterval: 20 * time.Millisecond}, types...)
	watcher := abi.Ref{Type: "conf", ID: "w"}
	watch := func(target string) {
		t.Helper()
		_, err := h.Ask(ctx, watcher, "watch", cborOf(t, map[string]string{"to": target}))
		require.NoError(t, err)
	}
	a, idler := abi.Ref{Type: "hostile", ID: "a"}, abi.Ref{Type: "idler", ID: "i"}
	watch(a.String())

	// A trap discards the instance: failed.
	_, err = h.Ask(ctx, a, "bump", nil)
	require.NoError(t, err)
	_, err = h.Ask(ctx, a, "panic", nil)
	require.Error(t, err)
	waitTold(t, h, watcher, a.String(), abi.ReasonFailed)

	// The next message builds an instance; a deploy replaces it: redeployed.
	_, err = h.Ask(ctx, a, "bump", nil)
	require.NoError(t, err)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "hostile", Module: hostile}))
	_, err = h.Ask(ctx, a, "bump", nil)
	require.NoError(t, err)
	waitTold(t, h, watcher, a.String(), abi.ReasonFailed, abi.ReasonRedeployed)

	// An idle timeout: idle, once.
	watcherOfIdler := abi.Ref{Type: "conf", ID: "w2"}
	_, err = h.Ask(ctx, watcherOfIdler, "watch", cborOf(t, map[string]string{"to": idler.String()}))
	require.NoError(t, err)
	_, err = h.Ask(ctx, idler, "bump", nil)
	require.NoError(t, err)
	waitTold(t, h, watcherOfIdler, idler.String(), abi.ReasonIdle)
	time.Sleep(300 * time.Millisecond)
	waitTold(t, h, watcherOfIdler, idler.String(), abi.ReasonIdle)

	// Shutdown: the lifecycle message is committed, and delivered by the
	// next run.
	closeHost(t, h)
	require.NoError(t, store.Close())
	store, err = badgerstore.Open(dir, badgerstore.DefaultOptions())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	h = newHostConfig(t, host.Config{Store: store, SweepInterval: 20 * time.Millisecond}, types...)
	waitTold(t, h, watcher, a.String(), abi.ReasonFailed, abi.ReasonRedeployed, abi.ReasonShutdown)

	// The watch survived the restart.
	_, err = h.Ask(ctx, a, "bump", nil)
	require.NoError(t, err)
	_, err = h.Ask(ctx, a, "panic", nil)
	require.Error(t, err)
	waitTold(t, h, watcher, a.String(), abi.ReasonFailed, abi.ReasonFailed, abi.ReasonRedeployed, abi.ReasonShutdown)
}

// TestWatchLimits checks the bound on the actors one actor watches.
func TestWatchLimits(t *testing.T) {
	ctx := context.Background()
	h := newHostConfig(t, host.Config{Store: memstore.New()}, host.TypeConfig{Name: "conf", Module: testwasm.Go(t, "conformance")})
	w := abi.Ref{Type: "conf", ID: "w"}
	for i := range abi.MaxWatches {
		_, err := h.Ask(ctx, w, "watch", cborOf(t, map[string]string{"to": "conf/t" + strconv.Itoa(i)}))
		require.NoError(t, err, "watch %d", i)
	}
	_, err := h.Ask(ctx, w, "watch", cborOf(t, map[string]string{"to": "conf/over"}))
	var e *abi.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, abi.CodeTooLarge, e.Code, "%v", err)
	// Watching one watched already is no new watch; after an unwatch
	// there is room again.
	_, err = h.Ask(ctx, w, "watch", cborOf(t, map[string]string{"to": "conf/t0"}))
	require.NoError(t, err)
	_, err = h.Ask(ctx, w, "unwatch", cborOf(t, map[string]string{"to": "conf/t0"}))
	require.NoError(t, err)
	_, err = h.Ask(ctx, w, "watch", cborOf(t, map[string]string{"to": "conf/over"}))
	require.NoError(t, err)
}

// TestWatchEviction checks that an actor evicted to make room for another
// tells its watchers so.
func TestWatchEviction(t *testing.T) {
	ctx := context.Background()
	h := newHostConfig(t, host.Config{Store: memstore.New(), MaxActivations: 2},
		host.TypeConfig{Name: "conf", Module: testwasm.Go(t, "conformance")},
		host.TypeConfig{Name: "hostile", Module: testwasm.Go(t, "hostile")})
	a, b := abi.Ref{Type: "hostile", ID: "a"}, abi.Ref{Type: "hostile", ID: "b"}
	watcher := abi.Ref{Type: "conf", ID: "w"}
	_, err := h.Ask(ctx, a, "bump", nil)
	require.NoError(t, err)
	_, err = h.Ask(ctx, watcher, "watch", cborOf(t, map[string]string{"to": a.String()}))
	require.NoError(t, err)
	_, err = h.Ask(ctx, b, "bump", nil) // a is the least recently used: evicted
	require.NoError(t, err)
	waitTold(t, h, watcher, a.String(), abi.ReasonEvicted)
}

// noticeStore records the actors of the batches that send lifecycle
// messages: only what it needs, as a store keeps nothing of a batch once
// its Commit returns (the host reuses a turn's map of writes).
type noticeStore struct {
	*memstore.Store
	mu      sync.Mutex
	notices []string
}

func (s *noticeStore) Commit(ctx context.Context, b *storage.Batch) error {
	err := s.Store.Commit(ctx, b)
	if err == nil && slices.ContainsFunc(b.Send, func(m storage.Message) bool { return m.Method == abi.MethodDeactivated }) {
		s.mu.Lock()
		s.notices = append(s.notices, b.Actor)
		s.mu.Unlock()
	}
	return err
}

// TestWatchNoticeCommitsWithHook checks that the lifecycle message of an
// idle deactivation commits in the deactivate hook's own batch, so that
// no crash can fall between the hook and the telling, and that it is
// committed once.
func TestWatchNoticeCommitsWithHook(t *testing.T) {
	ctx := context.Background()
	store := &noticeStore{Store: memstore.New()}
	conformance := testwasm.Go(t, "conformance")
	h := newHostConfig(t, host.Config{Store: store, SweepInterval: 20 * time.Millisecond},
		host.TypeConfig{Name: "conf", Module: conformance},
		host.TypeConfig{Name: "idler", Module: conformance, IdleTimeout: 100 * time.Millisecond})
	watcher, idler := abi.Ref{Type: "conf", ID: "w"}, abi.Ref{Type: "idler", ID: "i"}
	_, err := h.Ask(ctx, watcher, "watch", cborOf(t, map[string]string{"to": idler.String()}))
	require.NoError(t, err)
	_, err = h.Ask(ctx, idler, "echo", nil)
	require.NoError(t, err)
	waitTold(t, h, watcher, idler.String(), abi.ReasonIdle)

	store.mu.Lock()
	defer store.mu.Unlock()
	require.Len(t, store.notices, 1, "lifecycle messages committed once")
	require.Equal(t, idler.String(), store.notices[0], "the notice commits in the idler's hook turn, not in a batch of its own")
}

// unreleasingStore is a pausableStore whose releases can be made to do
// nothing: a node that dies between ending an activation and releasing
// its lease.
type unreleasingStore struct {
	*pausableStore
	skipRelease atomic.Bool
}

func (s *unreleasingStore) Release(ctx context.Context, l storage.Lease) error {
	if s.skipRelease.Load() {
		return nil
	}
	return s.pausableStore.Release(ctx, l)
}

// TestWatchToldWhenLeaseLost: an activation whose node stops renewing its
// lease (a paused node) and whose actor another node takes over ends
// without its node telling anyone (its commits are fenced); the node that
// took it over tells the watchers "lost", once. An end its own node told,
// followed by a lease that lapsed instead of being released, is not told
// again by the next owner.
func TestWatchToldWhenLeaseLost(t *testing.T) {
	ctx := context.Background()
	st := &unreleasingStore{pausableStore: &pausableStore{Store: memstore.New()}}
	conf := testwasm.Go(t, "conformance")
	node := func(name string, ttl time.Duration) *host.Host {
		return newHostConfig(t, host.Config{Store: st, Node: name, LeaseTTL: ttl, SweepInterval: 10 * time.Millisecond},
			host.TypeConfig{Name: "conf", Module: conf, IdleTimeout: time.Hour})
	}
	a := node("a", pausedTTL)
	b := node("b", 2*time.Second) // outlives the pause of renewals
	w, x := abi.Ref{Type: "conf", ID: "w"}, abi.Ref{Type: "conf", ID: "x"}
	set := func(h *host.Host, v int) error {
		_, err := h.Ask(ctx, x, "set", cborOf(t, map[string]any{"key": "k", "value": v}))
		return err
	}
	_, err := b.Ask(ctx, w, "watch", cborOf(t, map[string]string{"to": x.String()}))
	require.NoError(t, err)
	require.NoError(t, set(a, 1))

	st.expire(t, x.String()) // a is paused past its lease of x
	require.NoError(t, set(b, 2), "b takes x over")
	waitTold(t, b, w, x.String(), abi.ReasonLost)
	st.paused.Store(false)
	requireUnavailable(t, set(a, 3), "ownership") // fenced, or found lost by a renewal
	require.Eventually(t, func() bool { return len(a.Activations()) == 0 }, 10*time.Second, 10*time.Millisecond,
		"a drops the activation it lost")

	// b ends x itself, telling w, and dies before it releases the lease.
	st.skipRelease.Store(true)
	_, err = b.Ask(ctx, x, "deactivate", nil)
	require.NoError(t, err)
	waitTold(t, b, w, x.String(), abi.ReasonLost, abi.ReasonRequested)
	require.Eventually(t, func() bool {
		_, held, err := st.Holder(ctx, x.String())
		return err == nil && !held && !slices.Contains(b.Activations(), x)
	}, 10*time.Second, 10*time.Millisecond, "b's lease of x lapses")
	st.skipRelease.Store(false)
	require.NoError(t, set(a, 4), "a takes x over from b's lapsed lease")
	assert.Never(t, func() bool { return len(told(t, b, w, x.String())) != 2 }, 500*time.Millisecond, 20*time.Millisecond,
		"b's end, which b told, is not told again")
	assert.Equal(t, []string{abi.ReasonLost, abi.ReasonRequested}, told(t, b, w, x.String()))
}
