package scheduler

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// goroutineID reads the current goroutine's id from its stack header;
// tests use it to show that every turn runs on the driving goroutine.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	return string(buf[:bytes.IndexByte(buf, ' ')])
}

// newDeterministic is a world whose scheduler runs only when driven.
func newDeterministic(t *testing.T, batch int, clock Clock, do behaviour) *world {
	t.Helper()
	w := &world{do: do}
	w.s = New(Config{Activator: w, Dispatch: Dispatch{Deterministic: true}, Batch: batch, Clock: clock})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, w.s.Close(ctx))
	})
	return w
}

// recorder is a behaviour that notes each turn as "id:payload" and checks
// that it runs on the goroutine that drives the scheduler.
type recorder struct {
	t     *testing.T
	g     string // the driving goroutine
	trace []string
	then  behaviour // what the turn does after being noted; may be nil
}

func (r *recorder) do(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
	if g := goroutineID(); g != r.g {
		r.t.Errorf("turn of %s ran on goroutine %s, not the driving goroutine %s", self, g, r.g)
	}
	r.trace = append(r.trace, self.ID+":"+string(m.Payload))
	if r.then != nil {
		return r.then(ctx, s, self, m)
	}
	return nil, nil
}

func tell(t *testing.T, s *Scheduler, to abi.Ref, payload string) {
	t.Helper()
	require.NoError(t, s.Tell(context.Background(), &Message{Target: to, Method: "m", Payload: []byte(payload)}))
}

func TestDeterministicRunsBatchesInTurnOnlyWhenDriven(t *testing.T) {
	r := &recorder{t: t, g: goroutineID()}
	w := newDeterministic(t, 2, nil, r.do)
	for i := 1; i <= 4; i++ {
		tell(t, w.s, ref("a"), "a"+strconv.Itoa(i))
	}
	for i := 1; i <= 4; i++ {
		tell(t, w.s, ref("b"), "b"+strconv.Itoa(i))
	}
	assert.Empty(t, r.trace, "nothing runs before the scheduler is driven")
	assert.Equal(t, 8, w.s.RunUntilIdle(), "turns")
	assert.Equal(t, []string{"a:a1", "a:a2", "b:b1", "b:b2", "a:a3", "a:a4", "b:b3", "b:b4"}, r.trace)
	assert.Equal(t, 0, w.s.RunUntilIdle())
}

func TestDeterministicAsksRunNested(t *testing.T) {
	r := &recorder{t: t, g: goroutineID(), then: asker}
	w := newDeterministic(t, 0, nil, r.do)
	got, err := ask(t, w.s, ref("a"), "t/b,t/c")
	require.NoError(t, err)
	assert.Equal(t, "leaf c", string(got))
	assert.Equal(t, []string{"a:t/b,t/c", "b:t/c", "c:"}, r.trace)

	// A cycle is refused at once, as with the other dispatches; nothing
	// hangs on a single goroutine.
	_, err = ask(t, w.s, ref("x"), "t/y,t/x")
	require.ErrorIs(t, err, abi.ErrDeadlock)
	assert.Contains(t, err.Error(), "ask cycle: t/y -> t/x -> t/y")
}

// TestDeterministicAskAfterQueuedWork shows an ask waiting its turn: the
// target first processes what was queued before it, in order.
func TestDeterministicAskAfterQueuedWork(t *testing.T) {
	r := &recorder{t: t, g: goroutineID(), then: echo}
	w := newDeterministic(t, 1, nil, r.do)
	tell(t, w.s, ref("a"), "1")
	tell(t, w.s, ref("b"), "x")
	tell(t, w.s, ref("a"), "2")
	got, err := ask(t, w.s, ref("a"), "3")
	require.NoError(t, err)
	assert.Equal(t, "t/a:3", string(got))
	assert.Equal(t, []string{"a:1", "a:2", "a:3"}, r.trace, "only a runs for the ask; b waits for RunUntilIdle")
	w.s.RunUntilIdle()
	assert.Equal(t, []string{"a:1", "a:2", "a:3", "b:x"}, r.trace)
}

// TestDeterministicReplays runs the same scenario, a gossip of tells and
// nested asks over 20 actors with timers on a manual clock, twice: the
// turns come in the same order both times.
func TestDeterministicReplays(t *testing.T) {
	run := func() []string {
		clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		r := &recorder{t: t, g: goroutineID()}
		r.then = func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
			n, _ := strconv.Atoi(string(m.Payload))
			id, _ := strconv.Atoi(self.ID)
			if n <= 0 || m.Timer != "" {
				return nil, nil
			}
			for _, peer := range []int{(id*7 + n) % 20, (id*3 + 1) % 20} {
				if err := s.Tell(ctx, &Message{Target: ref(strconv.Itoa(peer)), Sender: self, Method: "m", Payload: []byte(strconv.Itoa(n - 1))}); err != nil {
					return nil, err
				}
			}
			if n%3 == 0 {
				if _, err := s.Ask(ctx, &Message{Target: ref(strconv.Itoa((id + 5) % 20)), Sender: self, Method: "m", Payload: []byte("0")}); err != nil {
					return nil, err
				}
			}
			if n%4 == 0 {
				return nil, s.SetTimer(ctx, TimerSpec{Name: "t", Due: time.Duration(id) * time.Millisecond, Method: "tick"})
			}
			return nil, nil
		}
		w := newDeterministic(t, 3, clock, r.do)
		tell(t, w.s, ref("0"), "6")
		tell(t, w.s, ref("1"), "5")
		w.s.RunUntilIdle()
		for range 5 {
			clock.Advance(5 * time.Millisecond)
			w.s.RunUntilIdle()
		}
		return r.trace
	}
	first := run()
	require.Greater(t, len(first), 100, "the scenario is not trivial")
	require.True(t, slices.ContainsFunc(first, func(s string) bool { return strings.HasSuffix(s, ":") }),
		"timers ticked") // ticks have no payload
	assert.Equal(t, first, run())
}

// TestDeterministicCollectAndClose: idle collection and Close run on the
// calling goroutine; Close fails what was queued without activating for it.
func TestDeterministicCollectAndClose(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := &recorder{t: t, g: goroutineID()}
	w := newDeterministic(t, 0, clock, r.do)
	for _, id := range []string{"c", "a", "b"} {
		tell(t, w.s, ref(id), "x")
	}
	w.s.RunUntilIdle()
	clock.Advance(DefaultIdleTimeout + time.Second)
	assert.Equal(t, 3, w.s.CollectIdle())
	assert.EqualValues(t, 3, w.deactivated.Load())

	tell(t, w.s, ref("q"), "queued") // never driven: Close runs it, failing nothing it accepted
	require.NoError(t, w.s.Close(context.Background()))
	assert.Equal(t, []string{"c:x", "a:x", "b:x"}, r.trace, "the queued message is failed, not run")
	assert.EqualValues(t, 3, w.activations.Load(), "q never activated")
	assert.EqualValues(t, 3, w.deactivated.Load())
}

// Close ends even while real-clock timers keep ticking: ticks that come
// after Close began are dropped, and Close drives the queue until nothing
// is busy.
func TestDeterministicCloseWithTickingTimers(t *testing.T) {
	for range 20 {
		w := &world{do: func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
			if m.Timer != "" {
				return nil, nil
			}
			return nil, s.SetTimer(ctx, TimerSpec{Name: "t", Due: 50 * time.Microsecond, Period: 50 * time.Microsecond, Method: "tick"})
		}}
		w.s = New(Config{Activator: w, Dispatch: Dispatch{Deterministic: true}})
		for i := range 20 {
			tell(t, w.s, ref(strconv.Itoa(i)), "start")
		}
		for range 3 {
			w.s.RunUntilIdle()
			time.Sleep(200 * time.Microsecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, w.s.Close(ctx))
		cancel()
	}
}

// An evicted activation whose deactivation asks the actor that evicted it:
// it finishes before that actor exists, so the ask creates it afresh
// instead of waiting for an activation that waits for the hook.
func TestDeterministicEvictionHookAsksTheNewcomer(t *testing.T) {
	w := &world{do: echo}
	w.onDeactivate = func(ctx context.Context, s *Scheduler, self abi.Ref) {
		if self.ID == "agg" {
			return
		}
		_, err := s.Ask(ctx, &Message{Target: ref("agg"), Sender: self, Method: "m", Payload: []byte("bye " + self.ID)})
		if !errors.Is(err, abi.ErrUnavailable) { // what Close's deactivations get
			assert.NoError(t, err)
		}
	}
	w.s = New(Config{Activator: w, Dispatch: Dispatch{Deterministic: true}, MaxActivations: 2})
	t.Cleanup(func() { require.NoError(t, w.s.Close(context.Background())) })
	tell(t, w.s, ref("w1"), "x")
	tell(t, w.s, ref("w2"), "x")
	w.s.RunUntilIdle()
	got, err := ask(t, w.s, ref("agg"), "hello")
	require.NoError(t, err)
	assert.Equal(t, "t/agg:hello", string(got))
}

// Two goroutines driving one deterministic scheduler: an ask whose target
// the other goroutine is running waits for its reply instead of failing.
func TestDeterministicAskWhileAnotherGoroutineRunsTheTarget(t *testing.T) {
	started := make(chan struct{})
	w := newDeterministic(t, 0, nil, func(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if string(m.Payload) == "slow" {
			close(started)
			time.Sleep(50 * time.Millisecond)
		}
		return []byte(self.ID + ":" + string(m.Payload)), nil
	})
	tell(t, w.s, ref("acct"), "slow")
	done := make(chan int)
	go func() { done <- w.s.RunUntilIdle() }()
	<-started
	got, err := ask(t, w.s, ref("acct"), "debit")
	require.NoError(t, err)
	assert.Equal(t, "acct:debit", string(got))
	<-done
}
