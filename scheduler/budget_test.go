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

// memWorld's actors hold memory as a plain number: each starts with its
// type's reservation (TypeOptions.Memory) and a "hold" message sets what
// it holds to its payload. The world adds up what live actors hold, from
// activation to deactivation, as a host adds up guest memory.
type memWorld struct {
	liveWorld
	held, peak atomic.Int64
}

func (w *memWorld) Activate(ctx context.Context, ref abi.Ref) (Actor, error) {
	a, err := w.liveWorld.Activate(ctx, ref)
	if err != nil {
		return nil, err
	}
	m := &memActor{liveActor: a.(*liveActor), w: w}
	m.hold(w.opts.Memory)
	return m, nil
}

// add counts n more bytes held and remembers the most ever held.
func (w *memWorld) add(n int64) {
	now := w.held.Add(n)
	for {
		p := w.peak.Load()
		if now <= p || w.peak.CompareAndSwap(p, now) {
			return
		}
	}
}

type memActor struct {
	*liveActor
	w    *memWorld
	held int64
}

func (a *memActor) hold(n int64) {
	a.w.add(n - a.held)
	a.held = n
}

func (a *memActor) Receive(ctx context.Context, m *Message) ([]byte, error) {
	if m.Method == "hold" {
		n, err := strconv.ParseInt(string(m.Payload), 10, 64)
		if err != nil {
			return nil, err
		}
		a.hold(n)
	}
	return a.liveActor.Receive(ctx, m)
}

func (a *memActor) MemoryInUse() int64 { return a.held }

func (a *memActor) Deactivate(ctx context.Context) {
	a.liveActor.Deactivate(ctx)
	a.hold(0)
}

// newMemWorld starts a scheduler with no cap on the number of
// activations, a memory budget and the reservation per activation.
func newMemWorld(t *testing.T, budget, reserve int64, d Dispatch, do behaviour) *memWorld {
	t.Helper()
	w := &memWorld{}
	w.do = do
	w.opts.Memory = reserve
	w.s = New(Config{Activator: w, SweepInterval: -1, MaxActivations: -1, MemoryBudget: budget, Dispatch: d})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, w.s.Close(ctx))
		assert.Zero(t, w.s.MemoryInUse(), "every activation's memory was released")
	})
	return w
}

func tellHold(t *testing.T, s *Scheduler, id string, n int64) {
	t.Helper()
	_, err := ask(t, s, ref(id), "")
	require.NoError(t, err)
	_, err = s.Ask(context.Background(), &Message{Target: ref(id), Method: "hold", Payload: []byte(strconv.FormatInt(n, 10))})
	require.NoError(t, err)
}

// Touching many actors one after another keeps what live actors hold
// within the budget, counted from before they are activated until they
// have deactivated; with no cap on their number, the budget alone bounds
// them.
func TestMemoryBudgetBoundsLiveMemory(t *testing.T) {
	const budget, reserve, n = 10_000, 1_000, 2_000
	all := map[string]Dispatch{"deterministic": {Deterministic: true}}
	for name, d := range dispatches {
		all[name] = d
	}
	for name, d := range all {
		t.Run(name, func(t *testing.T) {
			w := newMemWorld(t, budget, reserve, d, echo)
			for i := 0; i < n; i++ {
				_, err := ask(t, w.s, ref(strconv.Itoa(i)), "")
				require.NoError(t, err, "ask %d", i)
				require.LessOrEqual(t, w.s.MemoryInUse(), int64(budget))
			}
			assert.LessOrEqual(t, w.peak.Load(), int64(budget), "live actors held more than the budget at once")
			assert.LessOrEqual(t, w.liveWorld.peak.Load(), int64(budget/reserve))
			assert.Len(t, w.s.Activations(), budget/reserve)
			require.Eventually(t, func() bool { return w.deactivated.Load() == n-budget/reserve }, 10*time.Second, time.Millisecond)
			assert.Equal(t, w.held.Load(), w.s.MemoryInUse(), "the scheduler counts what the actors hold")
		})
	}
}

// Idle activations go least recently used first, as many as a newcomer
// needs; an activation that grew past the budget in a turn (memory the
// scheduler learns of only afterwards) makes idle ones go once it is idle.
func TestMemoryBudgetEvictionOrder(t *testing.T) {
	w := newMemWorld(t, 300, 100, Goroutines, echo)
	for _, id := range []string{"a", "b", "c", "a", "d"} { // d evicts b
		_, err := ask(t, w.s, ref(id), "")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return w.deactivated.Load() == 1 }, 5*time.Second, time.Millisecond)
	tellHold(t, w.s, "a", 250) // c, then d: a used last
	require.Eventually(t, func() bool { return w.deactivated.Load() == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []abi.Ref{ref("a")}, w.s.Activations())
	assert.EqualValues(t, 250, w.s.MemoryInUse())
	tellHold(t, w.s, "a", 50)
	for _, id := range []string{"e", "f"} {
		_, err := ask(t, w.s, ref(id), "")
		require.NoError(t, err)
	}
	_, err := ask(t, w.s, ref("g"), "") // needs 100 more: a, the oldest, goes
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.deactivated.Load() == 4 }, 5*time.Second, time.Millisecond)
	w.order.Lock()
	defer w.order.Unlock()
	// c and d went together, so in either order.
	assert.Equal(t, "b", w.evicted[0])
	assert.ElementsMatch(t, []string{"c", "d"}, w.evicted[1:3])
	assert.Equal(t, "a", w.evicted[3])
}

// When busy activations hold the budget, a newcomer is refused with
// unavailable at once: not queued, and without evicting the idle ones
// that would not make room enough anyway.
func TestMemoryBudgetRefusesWhenBusy(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	w := newMemWorld(t, 300, 100, Goroutines, func(_ context.Context, _ *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "block" {
			entered.Done()
			<-release
		}
		return nil, nil
	})
	ctx := context.Background()
	tellHold(t, w.s, "idle", 50)
	tellHold(t, w.s, "busy1", 150)
	tellHold(t, w.s, "busy2", 100)
	entered.Add(2)
	for _, id := range []string{"busy1", "busy2"} {
		require.NoError(t, w.s.Tell(ctx, &Message{Target: ref(id), Method: "block"}))
	}
	entered.Wait()
	require.EqualValues(t, 300, w.s.MemoryInUse())

	askCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := w.s.Ask(askCtx, &Message{Target: ref("new"), Method: "m"})
	require.ErrorIs(t, err, abi.ErrUnavailable)
	assert.NoError(t, askCtx.Err(), "refused at once, not after waiting")
	assert.Contains(t, err.Error(), "busy activations hold 300 of the memory budget of 300 bytes")
	require.ErrorIs(t, w.s.Tell(ctx, &Message{Target: ref("new"), Method: "m"}), abi.ErrUnavailable)
	assert.Zero(t, w.deactivated.Load(), "evicting idle's 50 bytes would not make room for 100: it stays")
	assert.ElementsMatch(t, []abi.Ref{ref("idle"), ref("busy1"), ref("busy2")}, w.s.Activations())
	assert.EqualValues(t, 300, w.s.MemoryInUse(), "a refused newcomer reserves nothing")

	close(release)
	w.s.RunUntilIdle()
	_, err = ask(t, w.s, ref("new"), "") // idle, then the busy one that finished first, make room
	require.NoError(t, err)
	assert.LessOrEqual(t, w.peak.Load(), int64(300))
	require.Eventually(t, func() bool { return w.deactivated.Load() == 2 }, 5*time.Second, time.Millisecond)
	w.order.Lock()
	assert.Contains(t, w.evicted, "idle")
	w.order.Unlock()
}

// A newcomer whose reservation exceeds the whole budget is refused with a
// message that says so, even with nothing else live.
func TestMemoryBudgetRefusesTooLarge(t *testing.T) {
	w := newMemWorld(t, 300, 301, Goroutines, echo)
	_, err := ask(t, w.s, ref("big"), "")
	require.ErrorIs(t, err, abi.ErrUnavailable)
	assert.Contains(t, err.Error(), "it needs 301 bytes, more than the whole memory budget of 300 bytes")
	assert.Zero(t, w.activations.Load())
}

// A caller that has its reply finds the activation that answered idle,
// and so evictable: one client calling one new actor after another under
// the tightest bounds is never refused.
func TestRepliedActivationIsEvictable(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			w := newMemWorld(t, 100, 100, d, echo)
			for i := 0; i < 2_000; i++ {
				_, err := ask(t, w.s, ref(strconv.Itoa(i)), "")
				require.NoError(t, err, "ask %d", i)
			}
			l := newLiveWorld(t, 1, d, echo)
			for i := 0; i < 2_000; i++ {
				_, err := ask(t, l.s, ref(strconv.Itoa(i)), "")
				require.NoError(t, err, "ask %d", i)
			}
		})
	}
}

// With no cap given, the scheduler caps activations at
// DefaultMaxActivations.
func TestDefaultMaxActivations(t *testing.T) {
	s := New(Config{Activator: &world{}, SweepInterval: -1})
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	assert.Equal(t, DefaultMaxActivations, s.cfg.MaxActivations)
}
