package scheduler

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is where the scheduler and the host get the time and set alarms:
// for timers, reminders and idle collection. RealClock is the system
// clock; a ManualClock lets tests and actor authors move time by hand.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine (RealClock) or in the caller
	// of ManualClock.Advance once d has passed, unless the returned alarm is
	// stopped first.
	AfterFunc(d time.Duration, f func()) Alarm
}

// Alarm is a pending call set with Clock.AfterFunc.
type Alarm interface {
	// Stop cancels the call and reports whether it did so; false means
	// the call has already run, is running, or was stopped before.
	Stop() bool
}

// RealClock is the system clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Alarm { return time.AfterFunc(d, f) }

// ManualClock is a Clock that stands still until Advance or Set moves it.
// Alarms whose time has come run in the goroutine that moved the clock,
// in the order of their times (alarms set for the same time run in the
// order they were set), each seeing Now at its own time. It is safe for
// concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	alarms  alarmHeap
	seq     uint64
	changed chan struct{} // closed and replaced when alarms are added
	moving  sync.Mutex    // serializes Advance and Set
}

// NewManualClock returns a ManualClock that reads start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc sets an alarm that calls f when the clock has moved by d.
// With d <= 0 it runs at the next Advance or Set, even Advance(0).
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Alarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	a := &manualAlarm{c: c, at: c.now.Add(d), seq: c.seq, f: f, index: -1}
	heap.Push(&c.alarms, a)
	close(c.changed)
	c.changed = make(chan struct{})
	return a
}

// Advance moves the clock forward by d, running every alarm that comes due
// on the way, including alarms those alarms set.
func (c *ManualClock) Advance(d time.Duration) {
	c.Set(c.Now().Add(d))
}

// Set moves the clock to t (which must not be before Now) like Advance.
func (c *ManualClock) Set(t time.Time) {
	c.moving.Lock()
	defer c.moving.Unlock()
	for {
		c.mu.Lock()
		if len(c.alarms) == 0 || c.alarms[0].at.After(t) {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		a := heap.Pop(&c.alarms).(*manualAlarm)
		if a.at.After(c.now) {
			c.now = a.at
		}
		c.mu.Unlock()
		a.f()
	}
}

// Alarms returns how many alarms are set and have not run.
func (c *ManualClock) Alarms() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.alarms)
}

// WaitAlarms waits until at least n alarms are set, or until timeout has
// passed on the system clock, and reports whether there are n. Tests use
// it to wait for work that sets an alarm asynchronously (the next tick of
// a periodic timer, say) before they Advance.
func (c *ManualClock) WaitAlarms(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, changed := len(c.alarms) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		case <-time.After(10 * time.Millisecond): // alarms may also be stopped and set again
		}
	}
}

// NextAlarm returns the time of the earliest alarm, and false if there is
// none.
func (c *ManualClock) NextAlarm() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.alarms) == 0 {
		return time.Time{}, false
	}
	return c.alarms[0].at, true
}

type manualAlarm struct {
	c     *ManualClock
	at    time.Time
	seq   uint64
	f     func()
	index int // in the heap; -1 once popped or stopped
}

func (a *manualAlarm) Stop() bool {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.index < 0 {
		return false
	}
	heap.Remove(&a.c.alarms, a.index)
	return true
}

// alarmHeap orders alarms by time, then by the order they were set.
type alarmHeap []*manualAlarm

func (h alarmHeap) Len() int { return len(h) }
func (h alarmHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h alarmHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *alarmHeap) Push(x any) {
	a := x.(*manualAlarm)
	a.index = len(*h)
	*h = append(*h, a)
}
func (h *alarmHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	a.index = -1
	*h = old[:len(old)-1]
	return a
}
