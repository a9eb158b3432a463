package scheduler

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// liveWorld counts the activations that exist (activated and not yet
// deactivated) and remembers the most there ever were.
type liveWorld struct {
	world
	live, peak atomic.Int64
	order      sync.Mutex
	evicted    []string // ids in the order they were deactivated
}

func (l *liveWorld) Activate(ctx context.Context, ref abi.Ref) (Actor, error) {
	n := l.live.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	a, err := l.world.Activate(ctx, ref)
	return &liveActor{Actor: a, l: l, ref: ref}, err
}

type liveActor struct {
	Actor
	l   *liveWorld
	ref abi.Ref
}

func (a *liveActor) Deactivate(ctx context.Context) {
	a.l.order.Lock()
	a.l.evicted = append(a.l.evicted, a.ref.ID)
	a.l.order.Unlock()
	a.l.live.Add(-1)
	a.Actor.Deactivate(ctx)
}

func newLiveWorld(t *testing.T, max int, d Dispatch, do behaviour) *liveWorld {
	t.Helper()
	l := &liveWorld{}
	l.do = do
	l.s = New(Config{Activator: l, SweepInterval: -1, MaxActivations: max, Dispatch: d})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, l.s.Close(ctx))
	})
	return l
}

// Touching 100,000 distinct actors one after another keeps at most the cap
// alive: in the table, and as instances.
func TestMaxActivationsBoundsLiveActivations(t *testing.T) {
	const max = 100
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			n := n
			if name == "pool" {
				n /= 5 // the same path; a smaller run keeps the suite quick
			}
			l := newLiveWorld(t, max, d, echo)
			ctx := context.Background()
			for i := 0; i < n; i++ {
				if _, err := l.s.Ask(ctx, &Message{Target: ref(strconv.Itoa(i)), Method: "m"}); err != nil {
					t.Fatalf("ask %d: %v", i, err)
				}
				if i%1000 == 0 {
					require.LessOrEqual(t, len(l.s.Activations()), max)
				}
			}
			assert.LessOrEqual(t, len(l.s.Activations()), max)
			assert.LessOrEqual(t, l.peak.Load(), int64(max), "more instances than the cap were alive at once")
			assert.EqualValues(t, n, l.activations.Load())
			require.Eventually(t, func() bool { return l.deactivated.Load() == int64(n-max) }, 10*time.Second, time.Millisecond)
			l.s.mu.Lock()
			assert.Empty(t, l.s.retiring, "deactivated activations are forgotten")
			l.s.mu.Unlock()
		})
	}
}

// The least recently used idle activation goes first.
func TestEvictionOrder(t *testing.T) {
	l := newLiveWorld(t, 3, Goroutines, echo)
	for _, id := range []string{"a", "b", "c", "a", "d", "b", "e"} {
		_, err := ask(t, l.s, ref(id), "")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return l.deactivated.Load() == 3 }, 5*time.Second, time.Millisecond)
	l.order.Lock()
	defer l.order.Unlock()
	// a b c | a is used again | d evicts b | b evicts c | e evicts a.
	assert.Equal(t, []string{"b", "c", "a"}, l.evicted)
}

// An activation running a turn, or with messages waiting, is never
// evicted; while every activation is busy a new one is refused with
// unavailable at once, and gets in once one is idle again.
func TestEvictionSparesBusyActivations(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	l := newLiveWorld(t, 3, Goroutines, func(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "block" {
			entered.Done()
			<-release
		}
		return nil, nil
	})
	ctx := context.Background()
	block := func(ids ...string) {
		entered.Add(len(ids))
		for _, id := range ids {
			require.NoError(t, l.s.Tell(ctx, &Message{Target: ref(id), Method: "block"}))
			require.NoError(t, l.s.Tell(ctx, &Message{Target: ref(id), Method: "queued"}))
		}
		entered.Wait()
	}
	block("busy1", "busy2")
	for _, id := range []string{"x", "y", "z"} {
		_, err := l.s.Ask(ctx, &Message{Target: ref(id), Method: "m"})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(l.s.Activations()), 3)
	}
	// x and y were the idle ones when room was needed.
	require.Eventually(t, func() bool { return l.deactivated.Load() == 2 }, 5*time.Second, time.Millisecond)
	assert.ElementsMatch(t, []abi.Ref{ref("busy1"), ref("busy2"), ref("z")}, l.s.Activations())
	l.order.Lock()
	assert.Equal(t, []string{"x", "y"}, l.evicted)
	l.order.Unlock()

	_, err := l.s.Ask(ctx, &Message{Target: ref("z"), Method: "m"}) // z stays idle, so it is evicted for busy3
	require.NoError(t, err)
	block("busy3")
	require.Eventually(t, func() bool { return l.deactivated.Load() == 3 }, 5*time.Second, time.Millisecond)

	// With every activation busy, a new one is refused rather than queued
	// or let over the cap, by Ask and Tell alike.
	askCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = l.s.Ask(askCtx, &Message{Target: ref("late"), Method: "m"})
	require.ErrorIs(t, err, abi.ErrUnavailable)
	assert.NoError(t, askCtx.Err(), "refused at once, not after waiting")
	assert.Contains(t, err.Error(), "the 3 live activations allowed are all busy")
	require.ErrorIs(t, l.s.Tell(ctx, &Message{Target: ref("late"), Method: "m"}), abi.ErrUnavailable)
	assert.Len(t, l.s.Activations(), 3)
	assert.EqualValues(t, 3, l.live.Load())
	assert.EqualValues(t, 3, l.deactivated.Load(), "no busy activation was evicted")

	// Once they are idle, the newcomer gets in.
	close(release)
	l.s.RunUntilIdle()
	_, err = l.s.Ask(ctx, &Message{Target: ref("late"), Method: "m"})
	require.NoError(t, err)
	assert.Len(t, l.s.Activations(), 3)
	assert.LessOrEqual(t, l.peak.Load(), int64(3))
}
