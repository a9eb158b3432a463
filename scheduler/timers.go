package scheduler

import (
	"context"
	"errors"
	"time"
)

// TimerSpec describes a volatile timer of one activation: Method with
// Payload is delivered to the activation itself Due from now, then every
// Period (0: once).
type TimerSpec struct {
	Name    string
	Due     time.Duration
	Period  time.Duration
	Method  string
	Payload []byte
	// Trace is the trace context the timer's ticks carry
	// (Message.Trace); the scheduler does not look at it.
	Trace string
}

// timerEntry is a timer that is set. Its fields are guarded by the
// activation's mu.
type timerEntry struct {
	a     *activation
	spec  TimerSpec
	due   time.Time // of the next tick
	alarm Alarm     // nil while a tick is queued or running
}

var errNoTurn = errors.New("scheduler: timers can only be set from inside a turn")

// SetTimer sets a timer of the activation running the turn of ctx,
// replacing a timer of the same name. A tick is a message like any other:
// it waits in the mailbox behind those before it and runs as a turn. The
// next tick of a periodic timer is set when the previous tick's turn has
// ended, so ticks never pile up behind a slow turn. Timers are volatile:
// they die with the activation (idle collection, eviction, deactivation,
// shutdown). A tick that finds the mailbox full is dropped and logged.
// Setting a timer on an activation that is retiring (from its
// deactivation hook, say) does nothing.
func (s *Scheduler) SetTimer(ctx context.Context, spec TimerSpec) error {
	a := turnFrom(ctx)
	if a == nil {
		return errNoTurn
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.retired {
		return nil
	}
	if old := a.timers[spec.Name]; old != nil && old.alarm != nil {
		old.alarm.Stop()
	}
	if a.timers == nil {
		a.timers = make(map[string]*timerEntry)
	}
	e := &timerEntry{a: a, spec: spec}
	a.timers[spec.Name] = e
	e.arm(spec.Due)
	return nil
}

// CancelTimer cancels the timer name of the activation running the turn
// of ctx and reports whether there was one. A tick already queued is
// dropped.
func (s *Scheduler) CancelTimer(ctx context.Context, name string) bool {
	a := turnFrom(ctx)
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.timers[name]
	if e == nil {
		return false
	}
	if e.alarm != nil {
		e.alarm.Stop()
	}
	delete(a.timers, name)
	return true
}

// TimerCount returns how many timers the activation running the turn of
// ctx has set.
func (s *Scheduler) TimerCount(ctx context.Context) int {
	a := turnFrom(ctx)
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.timers)
}

// arm sets e's alarm d from now. Called with a.mu held.
func (e *timerEntry) arm(d time.Duration) {
	clock := e.a.s.cfg.Clock
	e.due = clock.Now().Add(d)
	e.alarm = clock.AfterFunc(d, e.fire)
}

// fire queues a tick, unless the timer was cancelled or replaced or the
// activation retired meanwhile.
func (e *timerEntry) fire() {
	a := e.a
	s := a.s
	a.mu.Lock()
	if a.timers[e.spec.Name] != e || a.retired || s.closed.Load() {
		a.mu.Unlock()
		return // a closing scheduler takes no new work, ticks included
	}
	e.alarm = nil
	m := &Message{ID: s.cfg.NewID(), Target: a.ref, Method: e.spec.Method, Payload: e.spec.Payload,
		Timer: e.spec.Name, Due: e.due, Attempt: 1, Trace: e.spec.Trace, timer: e}
	a.mu.Unlock()
	ok, err := a.enqueue(m)
	if !ok {
		return // retired meanwhile: the timer died with it
	}
	if err != nil {
		s.cfg.Logger.Warn("timer tick dropped", "actor", a.ref.String(), "timer", e.spec.Name, "err", err)
		a.afterTick(e)
	}
}

// timerLive reports whether e is still the timer of its name.
func (a *activation) timerLive(e *timerEntry) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.timers[e.spec.Name] == e
}

// afterTick sets the next tick of a periodic timer, or forgets a timer
// that has fired once.
func (a *activation) afterTick(e *timerEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.timers[e.spec.Name] != e || a.retired {
		return // cancelled, replaced or retired during the tick
	}
	if e.spec.Period <= 0 {
		delete(a.timers, e.spec.Name)
		return
	}
	e.arm(e.spec.Period)
}

// stopTimers stops every timer of a; called with a.mu held when a retires.
func (a *activation) stopTimers() {
	for _, e := range a.timers {
		if e.alarm != nil {
			e.alarm.Stop()
		}
	}
	a.timers = nil
}

// lruPush puts a at the front of the idle list. Called with a.mu held.
func (s *Scheduler) lruPush(a *activation) {
	if !s.limited() {
		return
	}
	s.lruMu.Lock()
	defer s.lruMu.Unlock()
	if a.inLRU {
		s.lruUnlink(a)
	}
	a.inLRU = true
	s.idle++
	s.idleMem += a.mem
	a.lruPrev, a.lruNext = nil, s.lruHead
	if s.lruHead != nil {
		s.lruHead.lruPrev = a
	}
	s.lruHead = a
	if s.lruTail == nil {
		s.lruTail = a
	}
}

// lruRemove takes a off the idle list if it is there. Called with a.mu
// held.
func (s *Scheduler) lruRemove(a *activation) {
	if !s.limited() {
		return
	}
	s.lruMu.Lock()
	defer s.lruMu.Unlock()
	if a.inLRU {
		s.lruUnlink(a)
	}
}

// lruOldest takes the least recently used idle activation off the list,
// or returns nil. Called with s.mu held and no a.mu: the caller checks,
// under a.mu, that the activation is still idle.
func (s *Scheduler) lruOldest() *activation {
	s.lruMu.Lock()
	defer s.lruMu.Unlock()
	a := s.lruTail
	if a != nil {
		s.lruUnlink(a)
	}
	return a
}

// lruUnlink removes a from the list; called with lruMu held.
func (s *Scheduler) lruUnlink(a *activation) {
	if a.lruPrev != nil {
		a.lruPrev.lruNext = a.lruNext
	} else {
		s.lruHead = a.lruNext
	}
	if a.lruNext != nil {
		a.lruNext.lruPrev = a.lruPrev
	} else {
		s.lruTail = a.lruPrev
	}
	a.lruPrev, a.lruNext, a.inLRU = nil, nil, false
	s.idle--
	s.idleMem -= a.mem
}
