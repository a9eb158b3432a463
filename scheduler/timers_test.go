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

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newClockWorld is newWorld with a manual clock.
func newClockWorld(t *testing.T, clock *ManualClock, do behaviour) *world {
	t.Helper()
	w := &world{do: do}
	w.s = New(Config{Activator: w, SweepInterval: -1, Clock: clock})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, w.s.Close(ctx))
	})
	return w
}

// tickLog records the timer ticks actors receive.
type tickLog struct {
	mu    sync.Mutex
	ticks []*Message
}

func (l *tickLog) add(m *Message) {
	l.mu.Lock()
	l.ticks = append(l.ticks, m)
	l.mu.Unlock()
}

func (l *tickLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ticks)
}

func (l *tickLog) last() *Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ticks[len(l.ticks)-1]
}

// timerActor handles "set <due> <period>", "cancel", "count" and ticks
// (method "tick"), for timer "t".
func timerActor(log *tickLog) behaviour {
	return func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		switch m.Method {
		case "tick":
			log.add(m)
		case "set":
			var due, period time.Duration
			fields := splitSpace(string(m.Payload))
			due, _ = time.ParseDuration(fields[0])
			if len(fields) > 1 {
				period, _ = time.ParseDuration(fields[1])
			}
			return nil, s.SetTimer(ctx, TimerSpec{Name: "t", Due: due, Period: period, Method: "tick", Payload: []byte("p")})
		case "cancel":
			return []byte(strconv.FormatBool(s.CancelTimer(ctx, "t"))), nil
		case "count":
			return []byte(strconv.Itoa(s.TimerCount(ctx))), nil
		}
		return nil, nil
	}
}

func splitSpace(s string) []string {
	var out []string
	for s != "" {
		f, rest, _ := cut(s, " ")
		out = append(out, f)
		s = rest
	}
	return out
}

func send(t *testing.T, s *Scheduler, to abi.Ref, method, payload string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := s.Ask(ctx, &Message{Target: to, Method: method, Payload: []byte(payload)})
	require.NoError(t, err)
	return string(out)
}

func TestTimerFiresOnce(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	w := newClockWorld(t, clock, timerActor(&log))
	send(t, w.s, ref("a"), "set", "1s")
	assert.Equal(t, "1", send(t, w.s, ref("a"), "count", ""))
	clock.Advance(999 * time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	assert.Zero(t, log.len(), "not due yet")
	clock.Advance(time.Millisecond)
	require.Eventually(t, func() bool { return log.len() == 1 }, 5*time.Second, time.Millisecond)
	m := log.last()
	assert.Equal(t, "t", m.Timer)
	assert.Equal(t, "tick", m.Method)
	assert.Equal(t, "p", string(m.Payload))
	assert.Equal(t, epoch.Add(time.Second), m.Due)
	assert.False(t, m.IsAsk())
	assert.False(t, m.IsTell(), "a tick is not a tell")
	assert.NotEmpty(t, m.ID)
	assert.Equal(t, "0", send(t, w.s, ref("a"), "count", ""), "a once timer is gone after its tick")
	clock.Advance(time.Hour)
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, 1, log.len())
}

func TestTimerPeriodic(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	w := newClockWorld(t, clock, timerActor(&log))
	send(t, w.s, ref("a"), "set", "500ms 1s")
	clock.Advance(500 * time.Millisecond)
	require.Eventually(t, func() bool { return log.len() == 1 }, 5*time.Second, time.Millisecond)
	for i := 2; i <= 5; i++ {
		// The next tick is set when the previous tick's turn has ended.
		require.True(t, clock.WaitAlarms(1, 5*time.Second))
		clock.Advance(time.Second)
		require.Eventually(t, func() bool { return log.len() == i }, 5*time.Second, time.Millisecond)
		assert.Equal(t, epoch.Add(500*time.Millisecond+time.Duration(i-1)*time.Second), log.last().Due)
	}
	assert.Equal(t, "true", send(t, w.s, ref("a"), "cancel", ""))
	assert.Zero(t, clock.Alarms())
	clock.Advance(time.Hour)
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, 5, log.len())
	assert.Equal(t, "false", send(t, w.s, ref("a"), "cancel", ""))
}

func TestTimerReplacedAndCancelled(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	w := newClockWorld(t, clock, timerActor(&log))
	send(t, w.s, ref("a"), "set", "1s")
	send(t, w.s, ref("a"), "set", "3s") // same name: replaces
	assert.Equal(t, 1, clock.Alarms())
	clock.Advance(2 * time.Second)
	time.Sleep(10 * time.Millisecond)
	assert.Zero(t, log.len())
	clock.Advance(time.Second)
	require.Eventually(t, func() bool { return log.len() == 1 }, 5*time.Second, time.Millisecond)

	send(t, w.s, ref("b"), "set", "1s")
	assert.Equal(t, "true", send(t, w.s, ref("b"), "cancel", ""))
	clock.Advance(time.Hour)
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, 1, log.len())
}

// A tick queued behind a turn that cancels the timer is dropped.
func TestTimerQueuedTickDroppedAfterCancel(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	entered, release := make(chan struct{}), make(chan struct{})
	tick := timerActor(&log)
	w := newClockWorld(t, clock, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "slow-cancel" {
			close(entered)
			<-release
			s.CancelTimer(ctx, "t")
			return nil, nil
		}
		return tick(ctx, s, self, m)
	})
	send(t, w.s, ref("a"), "set", "1s 1s")
	done := make(chan struct{})
	go func() { send(t, w.s, ref("a"), "slow-cancel", ""); close(done) }()
	<-entered
	clock.Advance(time.Second) // the tick is queued behind slow-cancel
	require.Eventually(t, func() bool {
		a := w.s.acts[ref("a")]
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.queue) == 1
	}, 5*time.Second, time.Millisecond)
	close(release)
	<-done
	assert.Equal(t, "0", send(t, w.s, ref("a"), "count", ""))
	assert.Zero(t, log.len(), "the queued tick of the cancelled timer ran")
	assert.Zero(t, clock.Alarms())
}

// Timers die with their activation: no tick re-activates the actor.
func TestTimersDieWithActivation(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	w := &world{do: timerActor(&log), opts: TypeOptions{IdleTimeout: time.Minute}}
	w.s = New(Config{Activator: w, SweepInterval: -1, Clock: clock})
	defer w.s.Close(context.Background())

	send(t, w.s, ref("a"), "set", "2m 2m")
	send(t, w.s, ref("b"), "set", "2m")
	assert.Equal(t, 2, clock.Alarms())
	clock.Advance(61 * time.Second)
	assert.Equal(t, 2, w.s.CollectIdle())
	assert.Zero(t, clock.Alarms(), "deactivation stops the timers")
	clock.Advance(time.Hour)
	time.Sleep(10 * time.Millisecond)
	assert.Zero(t, log.len())
	assert.Empty(t, w.s.Activations())
	assert.EqualValues(t, 2, w.activations.Load())

	// After reactivation the actor starts without timers.
	assert.Equal(t, "0", send(t, w.s, ref("a"), "count", ""))
}

// A tick that finds the mailbox full is dropped; the timer goes on.
func TestTimerTickDroppedWhenMailboxFull(t *testing.T) {
	clock := NewManualClock(epoch)
	var log tickLog
	entered, release := make(chan struct{}, 1), make(chan struct{})
	tick := timerActor(&log)
	w := &world{opts: TypeOptions{Mailbox: 1}}
	w.do = func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "slow" {
			entered <- struct{}{}
			<-release
			return nil, nil
		}
		return tick(ctx, s, self, m)
	}
	w.s = New(Config{Activator: w, SweepInterval: -1, Clock: clock})
	defer w.s.Close(context.Background())
	send(t, w.s, ref("a"), "set", "1s 1s")
	require.NoError(t, w.s.Tell(context.Background(), &Message{Target: ref("a"), Method: "slow"}))
	<-entered
	require.NoError(t, w.s.Tell(context.Background(), &Message{Target: ref("a"), Method: "other"})) // fills the mailbox
	clock.Advance(time.Second)                                                                      // the tick is dropped
	assert.Equal(t, 1, clock.Alarms(), "the next tick is set")
	close(release)
	require.Eventually(t, func() bool { // the backlog has drained
		_, err := w.s.Ask(context.Background(), &Message{Target: ref("a"), Method: "count"})
		return err == nil
	}, 5*time.Second, time.Millisecond)
	clock.Advance(time.Second)
	require.Eventually(t, func() bool { return log.len() == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, epoch.Add(2*time.Second), log.last().Due)
}

func TestSetTimerOutsideTurn(t *testing.T) {
	w := newWorld(t, Goroutines, echo)
	assert.Error(t, w.s.SetTimer(context.Background(), TimerSpec{Name: "t", Method: "m"}))
	assert.False(t, w.s.CancelTimer(context.Background(), "t"))
	assert.Zero(t, w.s.TimerCount(context.Background()))
}

// hookWorld sets a timer from Activate, which runs with the activation's
// context.
type hookWorld struct {
	world
	ticks atomic.Int32
}

func (h *hookWorld) Activate(ctx context.Context, ref abi.Ref) (Actor, error) {
	if err := h.s.SetTimer(ctx, TimerSpec{Name: "boot", Due: time.Second, Method: "boot"}); err != nil {
		return nil, err
	}
	return h.world.Activate(ctx, ref)
}

func TestTimerSetWhileActivating(t *testing.T) {
	clock := NewManualClock(epoch)
	h := &hookWorld{}
	h.do = func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "boot" {
			h.ticks.Add(1)
		}
		return nil, nil
	}
	h.s = New(Config{Activator: h, SweepInterval: -1, Clock: clock})
	defer h.s.Close(context.Background())
	send(t, h.s, ref("a"), "hello", "")
	clock.Advance(time.Second)
	require.Eventually(t, func() bool { return h.ticks.Load() == 1 }, 5*time.Second, time.Millisecond)
}

func TestManualClock(t *testing.T) {
	c := NewManualClock(epoch)
	assert.Equal(t, epoch, c.Now())
	var order []string
	var seen []time.Time
	add := func(name string, d time.Duration) Alarm {
		return c.AfterFunc(d, func() {
			order = append(order, name)
			seen = append(seen, c.Now())
		})
	}
	add("b", 2*time.Second)
	add("a", time.Second)
	add("a2", time.Second) // same time: in the order set
	stopped := add("x", 1500*time.Millisecond)
	c.AfterFunc(3*time.Second, func() {
		order = append(order, "c")
		add("d", 0)              // runs in the same Advance
		add("e", 10*time.Second) // does not
	})
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())
	assert.Equal(t, 4, c.Alarms())
	next, ok := c.NextAlarm()
	assert.True(t, ok)
	assert.Equal(t, epoch.Add(time.Second), next)

	c.Advance(5 * time.Second)
	assert.Equal(t, []string{"a", "a2", "b", "c", "d"}, order)
	assert.Equal(t, []time.Time{epoch.Add(time.Second), epoch.Add(time.Second), epoch.Add(2 * time.Second), epoch.Add(3 * time.Second)}, seen)
	assert.Equal(t, epoch.Add(5*time.Second), c.Now())
	assert.Equal(t, 1, c.Alarms())
	assert.True(t, c.WaitAlarms(1, time.Second))
	assert.False(t, c.WaitAlarms(2, 20*time.Millisecond))

	c.Set(epoch.Add(time.Minute))
	assert.Equal(t, []string{"a", "a2", "b", "c", "d", "e"}, order)
	assert.Equal(t, epoch.Add(time.Minute), c.Now())
	_, ok = c.NextAlarm()
	assert.False(t, ok)
}

func TestRealClock(t *testing.T) {
	fired := make(chan struct{})
	RealClock.AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("RealClock.AfterFunc did not fire")
	}
	assert.False(t, RealClock.AfterFunc(time.Hour, func() {}).Stop() == false)
	assert.WithinDuration(t, time.Now(), RealClock.Now(), time.Second)
}
