package host_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
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

// gatedStore holds the commits of actors whose id starts with "busy" until
// open is closed, so that their turns stay busy without burning CPU.
type gatedStore struct {
	storage.Store
	open    chan struct{}
	waiting atomic.Int64
}

func (s *gatedStore) Commit(ctx context.Context, b *storage.Batch) error {
	if ref, err := abi.ParseRef(b.Actor); err == nil && len(ref.ID) >= 4 && ref.ID[:4] == "busy" {
		s.waiting.Add(1)
		select {
		case <-s.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.Commit(ctx, b)
}

// limitedHost starts a host with the C counter as type "counter" and the
// given limits.
func limitedHost(t *testing.T, store storage.Store, maxActivations int, maxGuestMemory int64) *host.Host {
	t.Helper()
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{
		Store:          store,
		CacheDir:       testwasm.CacheDir(t),
		Logger:         slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		MaxActivations: maxActivations,
		MaxGuestMemory: maxGuestMemory,
	})
	require.NoError(t, err)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter"), Source: "counter-c.wasm"}))
	require.NoError(t, h.Start(ctx))
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { closeHost(t, h) }) })
	return h
}

// The attack of a client that touches many actor ids: without a bound,
// each id keeps an instance alive (200 standard-Go guests took 900 MiB).
// With a cap on activations, or a guest memory budget, the live
// activations and the guest memory they hold stay within the bound while
// 300 ids are touched; the older idle ones are evicted with their state
// kept; and when busy activations fill the bound, a new activation is
// refused with unavailable at once rather than queued.
func TestManyIDsStayWithinBounds(t *testing.T) {
	const ids, slots = 300, 6
	probe := limitedHost(t, memstore.New(), 0, 0)
	mustCall(t, probe, "counter/probe", "get", M{})
	size, _ := probe.GuestMemory()
	require.Positive(t, size)
	t.Logf("a C counter activation holds %d bytes of guest memory", size)

	for _, c := range []struct {
		name           string
		maxActivations int
		maxGuestMemory int64
	}{
		{"cap", slots, -1},
		{"budget", -1, slots * size},
		{"both", slots + 2, slots * size},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := &gatedStore{Store: memstore.New(), open: make(chan struct{})}
			var opened sync.Once
			openGate := func() { opened.Do(func() { close(store.open) }) }
			h := limitedHost(t, store, c.maxActivations, c.maxGuestMemory)
			t.Cleanup(openGate) // runs first: a failed test does not leave turns waiting
			_, budget := h.GuestMemory()
			if c.maxGuestMemory < 0 {
				assert.Zero(t, budget)
			} else {
				assert.Equal(t, c.maxGuestMemory, budget)
			}

			// Watch the bounds while the ids are touched, four clients
			// at a time.
			var maxLive, maxMem atomic.Int64
			stop := make(chan struct{})
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for {
					mem, _ := h.GuestMemory()
					maxMem.Store(max(maxMem.Load(), mem))
					maxLive.Store(max(maxLive.Load(), int64(len(h.Activations()))))
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Microsecond):
					}
				}
			}()
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < ids; i += 4 {
						_, err := call(t, h, "counter/id-"+strconv.Itoa(i), "add", M{"n": i + 1})
						assert.NoError(t, err, "id %d", i)
					}
				}()
			}
			wg.Wait()
			close(stop)
			<-watched
			assert.LessOrEqual(t, maxLive.Load(), int64(slots), "live activations over the bound")
			assert.LessOrEqual(t, maxMem.Load(), slots*size, "guest memory over the bound")
			assert.LessOrEqual(t, len(h.Activations()), slots)

			// The first ids were evicted long ago; their state was kept.
			for i := 0; i < 20; i++ {
				out := mustCall(t, h, "counter/id-"+strconv.Itoa(i), "get", M{})
				assert.EqualValues(t, i+1, out["n"], "id %d", i)
			}

			// Fill the bound with activations whose turns wait in their
			// commit: busy ones, which are never evicted.
			busy := make(chan error, slots)
			for i := 0; i < slots; i++ {
				go func() {
					_, err := call(t, h, "counter/busy-"+strconv.Itoa(i), "add", M{"n": 1})
					busy <- err
				}()
			}
			require.Eventually(t, func() bool { return store.waiting.Load() == slots }, 10*time.Second, time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "late"}, "get", nil)
			require.ErrorIs(t, err, abi.ErrUnavailable)
			assert.NoError(t, ctx.Err(), "refused at once, not after waiting")
			t.Log(err)
			mem, _ := h.GuestMemory()
			assert.LessOrEqual(t, mem, slots*size)
			assert.Len(t, h.Activations(), slots)

			// Once they commit, the newcomer gets in.
			openGate()
			for i := 0; i < slots; i++ {
				require.NoError(t, <-busy)
			}
			out := mustCall(t, h, "counter/late", "get", M{})
			assert.EqualValues(t, 0, out["n"])
			assert.LessOrEqual(t, len(h.Activations()), slots)
		})
	}
}

// A tell retried after its turn failed, that finds every activation busy,
// waits for room and is retried again, until it runs out of attempts and
// becomes a dead letter, instead of being left in the outbox until the
// next start.
func TestRetriedTellWaitsForRoom(t *testing.T) {
	store := &gatedStore{Store: memstore.New(), open: make(chan struct{})}
	var opened sync.Once
	openGate := func() { opened.Do(func() { close(store.open) }) }
	h := limitedHost(t, store, 1, -1)
	t.Cleanup(openGate)
	ctx := context.Background()
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "hostile-c", Module: testwasm.C(t, "hostile"), Source: "hostile-c.wasm"}))

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile-c", ID: "x"}, "unreachable", nil))
	// counter/busy takes the only slot as soon as hostile-c/x is idle
	// after its first attempt, and holds it in its commit.
	busy := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			_, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "busy"}, "add", cborOf(t, M{"n": 1}))
			if !errors.Is(err, abi.ErrUnavailable) || i == 10_000 {
				busy <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	require.Eventually(t, func() bool { return store.waiting.Load() == 1 }, 10*time.Second, time.Millisecond)
	page, err := h.DeadLetters(ctx, "", host.MaxDeadLetterPage)
	list := page.Letters
	require.NoError(t, err)
	require.Empty(t, list, "hostile-c/x has attempts left, which find no room")
	time.Sleep(300 * time.Millisecond) // the retry, due after 100ms, finds no room
	openGate()
	require.NoError(t, <-busy)

	require.Eventually(t, func() bool {
		page, err := h.DeadLetters(ctx, "", host.MaxDeadLetterPage)
		list := page.Letters
		require.NoError(t, err)
		return len(list) == 1
	}, 20*time.Second, 10*time.Millisecond)
	page, err = h.DeadLetters(ctx, "", host.MaxDeadLetterPage)
	require.NoError(t, err)
	list = page.Letters
	assert.Equal(t, 3, list[0].Attempts)
	assert.Contains(t, list[0].Error, "trapped")
}
