package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// behaviour is what a test actor does with one message.
type behaviour func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error)

// world is an Activator of plain Go actors for tests.
type world struct {
	s           *Scheduler
	opts        TypeOptions
	do          behaviour
	failNext    atomic.Bool
	activations atomic.Int64
	deactivated atomic.Int64
	inTurn      sync.Map // ref -> *atomic.Int32, turns running now
	// onDeactivate, when set, runs in every activation's Deactivate.
	onDeactivate func(ctx context.Context, s *Scheduler, self abi.Ref)
}

func (w *world) TypeOptions(typ string) (TypeOptions, error) {
	if typ == "nope" {
		return TypeOptions{}, abi.NewError(abi.CodeUnknownType, "no type "+typ)
	}
	return w.opts, nil
}

func (w *world) Activate(ctx context.Context, ref abi.Ref) (Actor, error) {
	if w.failNext.CompareAndSwap(true, false) {
		return nil, errors.New("activation broke")
	}
	w.activations.Add(1)
	return &testActor{w: w, ref: ref}, nil
}

type testActor struct {
	w   *world
	ref abi.Ref
}

func (t *testActor) Receive(ctx context.Context, m *Message) ([]byte, error) {
	c, _ := t.w.inTurn.LoadOrStore(t.ref, new(atomic.Int32))
	if n := c.(*atomic.Int32).Add(1); n != 1 {
		panic(fmt.Sprintf("%d turns at once in %s", n, t.ref))
	}
	defer c.(*atomic.Int32).Add(-1)
	return t.w.do(ctx, t.w.s, t.ref, m)
}

func (t *testActor) Deactivate(ctx context.Context) {
	t.w.deactivated.Add(1)
	if t.w.onDeactivate != nil {
		t.w.onDeactivate(ctx, t.w.s, t.ref)
	}
}

func newWorld(t *testing.T, d Dispatch, do behaviour) *world {
	t.Helper()
	// A turn limit short enough that an ask from outside runs an idle
	// actor's turn on the asker's goroutine whenever it may.
	w := &world{do: do, opts: TypeOptions{TurnLimit: time.Millisecond}}
	w.s = newClosedAtEnd(t, w, d)
	return w
}

// newClosedAtEnd returns a scheduler of act's activations, with dispatch
// d and no idle sweep, that is closed when t ends.
func newClosedAtEnd(t *testing.T, act Activator, d Dispatch) *Scheduler {
	s := New(Config{Activator: act, Dispatch: d, SweepInterval: -1})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Close(ctx))
	})
	return s
}

func echo(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
	return []byte(self.String() + ":" + string(m.Payload)), nil
}

func ref(id string) abi.Ref { return abi.Ref{Type: "t", ID: id} }

func ask(t *testing.T, s *Scheduler, to abi.Ref, payload string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Ask(ctx, &Message{Target: to, Method: "m", Payload: []byte(payload)})
}

var dispatches = map[string]Dispatch{"goroutines": Goroutines, "pool": {Workers: 4}}

func TestAskActivatesOnce(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, d, echo)
			for i := 0; i < 10; i++ {
				got, err := ask(t, w.s, ref("a"), strconv.Itoa(i))
				require.NoError(t, err)
				assert.Equal(t, "t/a:"+strconv.Itoa(i), string(got))
			}
			assert.EqualValues(t, 1, w.activations.Load())
			assert.Equal(t, []abi.Ref{ref("a")}, w.s.Activations())
		})
	}
}

func TestUnknownType(t *testing.T) {
	w := newWorld(t, Goroutines, echo)
	_, err := ask(t, w.s, abi.Ref{Type: "nope", ID: "x"}, "")
	assert.ErrorIs(t, err, abi.ErrUnknownType)
	assert.Empty(t, w.s.Activations())
}

// Messages from each sender arrive in the order sent, and an activation
// never runs two turns at once (testActor panics if it does).
func TestPerSenderOrder(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string][]int{} // receiver/sender -> sequence
			w := newWorld(t, d, func(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				n, _ := strconv.Atoi(string(m.Payload))
				mu.Lock()
				seen[self.ID+"<"+m.Sender.ID] = append(seen[self.ID+"<"+m.Sender.ID], n)
				mu.Unlock()
				return nil, nil
			})
			w.opts.Mailbox = 100000
			const senders, receivers, each = 8, 4, 300
			var wg sync.WaitGroup
			for s := 0; s < senders; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						m := &Message{Target: ref(strconv.Itoa(i % receivers)), Sender: ref("s" + strconv.Itoa(s)), Payload: []byte(strconv.Itoa(i))}
						assert.NoError(t, w.s.Tell(context.Background(), m))
					}
				}()
			}
			wg.Wait()
			// A final ask to each receiver runs after all the tells it got.
			for r := 0; r < receivers; r++ {
				_, err := ask(t, w.s, ref(strconv.Itoa(r)), "-1")
				require.NoError(t, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for key, seq := range seen {
				if key[len(key)-1] == '<' {
					continue // the final asks, sent from outside
				}
				require.Len(t, seq, each/receivers, key)
				for i := 1; i < len(seq); i++ {
					require.Less(t, seq[i-1], seq[i], "out of order at %s: %v", key, seq)
				}
			}
		})
	}
}

func TestMailboxFull(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	w := newWorld(t, Goroutines, func(context.Context, *Scheduler, abi.Ref, *Message) ([]byte, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil, nil
	})
	w.opts.Mailbox = 3
	ctx := context.Background()
	require.NoError(t, w.s.Tell(ctx, &Message{Target: ref("a")}))
	<-entered // the first message is being processed, not queued
	for i := 0; i < 3; i++ {
		require.NoError(t, w.s.Tell(ctx, &Message{Target: ref("a")}))
	}
	for i := 0; i < 100; i++ { // a flood: every extra message is refused, none queued
		err := w.s.Tell(ctx, &Message{Target: ref("a")})
		require.ErrorIs(t, err, abi.ErrMailboxFull)
	}
	close(release)
	// Once the backlog drains the actor accepts messages again.
	require.Eventually(t, func() bool {
		_, err := ask(t, w.s, ref("a"), "")
		return err == nil
	}, 5*time.Second, time.Millisecond)
}

// asker asks the actor named in the payload ("t/b,t/c": ask t/b, passing on
// "t/c"), so tests can build call chains.
func asker(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
	if len(m.Payload) == 0 {
		return []byte("leaf " + self.ID), nil
	}
	first, rest, _ := cut(string(m.Payload), ",")
	target, err := abi.ParseRef(first)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.Ask(ctx, &Message{Target: target, Sender: self, Method: "m", Payload: []byte(rest)})
}

func cut(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

func TestAskCycleFailsFast(t *testing.T) {
	tests := []struct {
		name, start, chain, want string
	}{
		{"self", "a", "t/a", "ask cycle: t/a -> t/a"},
		{"two", "a", "t/b,t/a", "ask cycle: t/b -> t/a -> t/b"},
		{"three", "a", "t/b,t/c,t/a", "ask cycle: t/c -> t/a -> t/b -> t/c"},
		{"no cycle", "a", "t/b,t/c", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Goroutines, asker)
			start := time.Now()
			got, err := ask(t, w.s, ref(tt.start), tt.chain)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "leaf c", string(got))
				return
			}
			require.ErrorIs(t, err, abi.ErrDeadlock)
			assert.Contains(t, err.Error(), tt.want)
			assert.Less(t, time.Since(start), 4*time.Second, "the cycle must fail before the ask timeout")
		})
	}
}

// Two turns that start independently and ask each other: the second ask
// closes the cycle and fails at once; the first then completes.
func TestCrossedAsksDeadlock(t *testing.T) {
	both := make(chan struct{})
	var arrived atomic.Int32
	w := newWorld(t, Goroutines, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if string(m.Payload) == "inner" {
			return []byte("ok"), nil
		}
		if arrived.Add(1) == 2 {
			close(both)
		}
		<-both
		peer := ref("a")
		if self.ID == "a" {
			peer = ref("b")
		}
		if self.ID == "b" {
			time.Sleep(50 * time.Millisecond) // let a's ask register first
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return s.Ask(actx, &Message{Target: peer, Sender: self, Payload: []byte("inner")})
	})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = ask(t, w.s, ref(id), "outer")
		}()
	}
	wg.Wait()
	assert.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], abi.ErrDeadlock)
	assert.Contains(t, errs[1].Error(), "t/b -> t/a -> t/b")
}

func TestIdleCollection(t *testing.T) {
	var now atomic.Int64
	w := &world{do: echo, opts: TypeOptions{IdleTimeout: time.Minute}}
	w.s = New(Config{Activator: w, SweepInterval: -1, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	defer w.s.Close(context.Background())

	_, err := ask(t, w.s, ref("a"), "")
	require.NoError(t, err)
	now.Add(30)
	assert.Zero(t, w.s.CollectIdle(), "not idle long enough")
	now.Add(31)
	assert.Equal(t, 1, w.s.CollectIdle())
	assert.Empty(t, w.s.Activations())
	assert.EqualValues(t, 1, w.deactivated.Load())

	_, err = ask(t, w.s, ref("a"), "")
	require.NoError(t, err)
	assert.EqualValues(t, 2, w.activations.Load(), "a message after collection activates anew")
}

// timeouts is an Activator of echo actors whose type names their idle
// timeout.
type timeouts struct{ world }

func (w *timeouts) TypeOptions(typ string) (TypeOptions, error) {
	d, err := time.ParseDuration(typ)
	return TypeOptions{IdleTimeout: d}, err
}

// sweptByTheClock returns a scheduler of timeouts' actors whose sweeper
// ticks every millisecond and reads the clock now, in seconds.
func sweptByTheClock(t *testing.T) (*Scheduler, *timeouts, *atomic.Int64) {
	now := new(atomic.Int64)
	w := &timeouts{world{do: echo}}
	s := New(Config{Activator: w, SweepInterval: time.Millisecond, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	w.s = s
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, w, now
}

// The sweeper skips its passes until an activation may be due; a newer
// activation of a shorter timeout, and one that was busy during a pass,
// are still collected on time.
func TestSweeperCollectsWhenDue(t *testing.T) {
	s, w, now := sweptByTheClock(t)
	live := func(typ string) bool { return s.Active(abi.Ref{Type: typ, ID: "a"}) }
	settle := func() { time.Sleep(20 * time.Millisecond) } // a few ticks of the sweeper

	_, err := ask(t, s, abi.Ref{Type: "1h0m0s", ID: "a"}, "")
	require.NoError(t, err)
	now.Add(120)
	settle()
	require.True(t, live("1h0m0s"))

	_, err = ask(t, s, abi.Ref{Type: "1m0s", ID: "a"}, "")
	require.NoError(t, err)
	now.Add(30)
	settle()
	require.True(t, live("1m0s"), "not idle long enough")
	now.Add(31)
	require.Eventually(t, func() bool { return !live("1m0s") }, 5*time.Second, time.Millisecond)
	require.True(t, live("1h0m0s"))

	// Asked again just before its timeout, it counts from that turn.
	now.Add(3600 - 181 - 10)
	_, err = ask(t, s, abi.Ref{Type: "1h0m0s", ID: "a"}, "")
	require.NoError(t, err)
	now.Add(20)
	settle()
	require.True(t, live("1h0m0s"), "its last turn was 20 s ago")
	now.Add(3600)
	require.Eventually(t, func() bool { return !live("1h0m0s") }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 2, w.deactivated.Load())
}

// A clock that steps back (a Config.Now without a monotonic reading)
// moves an activation's due time earlier: the sweeper still collects it
// on time by the clock it reads.
func TestSweeperAfterTheClockStepsBack(t *testing.T) {
	s, _, now := sweptByTheClock(t)
	now.Store(10_000)
	r := abi.Ref{Type: "1m0s", ID: "a"}
	_, err := ask(t, s, r, "")
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond) // a few ticks: the bound is 10,060
	now.Store(5_000)
	_, err = ask(t, s, r, "")
	require.NoError(t, err)
	now.Store(5_000 + 61)
	require.Eventually(t, func() bool { return !s.Active(r) }, 5*time.Second, time.Millisecond,
		"idle for 61 s by its clock, with a timeout of 60 s")
}

func TestDeactivateAfterTurn(t *testing.T) {
	w := newWorld(t, Goroutines, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		s.DeactivateAfterTurn(ctx)
		return nil, nil
	})
	_, err := ask(t, w.s, ref("a"), "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.deactivated.Load() == 1 }, 5*time.Second, time.Millisecond)
	assert.Empty(t, w.s.Activations())
}

func TestActivationFailureRetries(t *testing.T) {
	w := newWorld(t, Goroutines, echo)
	w.failNext.Store(true)
	_, err := ask(t, w.s, ref("a"), "")
	require.ErrorContains(t, err, "activation broke")
	got, err := ask(t, w.s, ref("a"), "x")
	require.NoError(t, err)
	assert.Equal(t, "t/a:x", string(got))
}

func TestCloseFinishesTurnsAndFailsQueued(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	w := &world{do: func(_ context.Context, _ *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
		if string(m.Payload) == "slow" {
			close(entered)
			<-release
		}
		return []byte("done"), nil
	}}
	w.s = New(Config{Activator: w})
	slow := make(chan error, 1)
	go func() { _, err := ask(t, w.s, ref("a"), "slow"); slow <- err }()
	<-entered
	queued := make(chan error, 1)
	go func() { _, err := ask(t, w.s, ref("a"), "queued"); queued <- err }()
	require.Eventually(t, func() bool {
		a := w.s.acts[ref("a")]
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.queue) == 1
	}, 5*time.Second, time.Millisecond)

	closed := make(chan error, 1)
	go func() { closed <- w.s.Close(context.Background()) }()
	assert.ErrorIs(t, <-queued, abi.ErrUnavailable)
	close(release)
	assert.NoError(t, <-slow, "the turn in flight finishes")
	require.NoError(t, <-closed)
	assert.EqualValues(t, 1, w.deactivated.Load())
	assert.ErrorIs(t, w.s.Tell(context.Background(), &Message{Target: ref("a")}), abi.ErrUnavailable)
}

// TestDeactivateFromOutside: Deactivate retires an idle activation at
// once, with its reason, and a busy one only after its turn and the
// messages already queued, none of which is lost.
func TestDeactivateFromOutside(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	reasons := make(chan string, 2)
	w := &world{do: func(_ context.Context, _ *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
		if string(m.Payload) == "slow" {
			close(entered)
			<-release
		}
		return m.Payload, nil
	}, onDeactivate: func(ctx context.Context, _ *Scheduler, _ abi.Ref) { reasons <- DeactivationReason(ctx) }}
	w.s = New(Config{Activator: w, SweepInterval: -1})
	defer w.s.Close(context.Background())

	assert.False(t, w.s.Deactivate(ref("none"), ReasonMoved), "no activation to deactivate")
	_, err := ask(t, w.s, ref("idle"), "x")
	require.NoError(t, err)
	require.True(t, w.s.Active(ref("idle")))
	assert.True(t, w.s.Deactivate(ref("idle"), ReasonMoved))
	assert.False(t, w.s.Active(ref("idle")), "an idle activation goes at once")
	assert.Equal(t, ReasonMoved, <-reasons)

	slow := make(chan error, 1)
	go func() { _, err := ask(t, w.s, ref("busy"), "slow"); slow <- err }()
	<-entered
	queued := make(chan []byte, 1)
	go func() { b, _ := ask(t, w.s, ref("busy"), "queued"); queued <- b }()
	require.Eventually(t, func() bool {
		a := w.s.acts[ref("busy")]
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.queue) == 1
	}, 5*time.Second, time.Millisecond)
	assert.True(t, w.s.Deactivate(ref("busy"), ReasonMoved))
	assert.True(t, w.s.Active(ref("busy")), "a busy activation stays until its turn boundary")
	close(release)
	require.NoError(t, <-slow)
	assert.Equal(t, "queued", string(<-queued), "the queued message is processed before it goes")
	assert.Equal(t, ReasonMoved, <-reasons)
	assert.False(t, w.s.Active(ref("busy")))
}
