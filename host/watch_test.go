package host_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
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

// noticeStore records the batches that send lifecycle messages.
type noticeStore struct {
	*memstore.Store
	mu      sync.Mutex
	notices []storage.Batch
}

func (s *noticeStore) Commit(ctx context.Context, b *storage.Batch) error {
	err := s.Store.Commit(ctx, b)
	if err == nil && slices.ContainsFunc(b.Send, func(m storage.Message) bool { return m.Method == abi.MethodDeactivated }) {
		s.mu.Lock()
		s.notices = append(s.notices, *b)
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
	require.Equal(t, idler.String(), store.notices[0].Actor, "the notice commits in the idler's hook turn, not in a batch of its own")
}
