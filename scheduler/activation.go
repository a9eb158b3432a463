package scheduler

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/wactor/wactor/abi"
)

// activation is one live actor: its mailbox and, once activated, its Actor.
type activation struct {
	s   *Scheduler
	ref abi.Ref
	// key is a's entry in the scheduler's table: ref, or for an instance
	// of a stateless worker, ref with its slot (workerKey).
	key  abi.Ref
	slot int // a stateless worker's slot; -1 otherwise
	opts TypeOptions
	prev chan struct{} // the previous activation of ref, still deactivating; may be nil
	// evicted are the done channels of the activations evicted to make
	// room for this one: it activates only once they have deactivated, so
	// that the cap bounds the live instances too.
	evicted []chan struct{}
	// done is closed when this activation has deactivated. It is made
	// when the activation retires (retireLocked), before anything can
	// wait for it: most activations of a storm never retire.
	done chan struct{}

	actor Actor // set by the goroutine running a; read only by it
	// ctx identifies a's turns (turnFrom), made once with a: it points
	// to turnCtx.
	ctx     context.Context
	turnCtx activationCtx
	// worker is the goroutine of the goroutines dispatcher running a,
	// while it runs it; receiving is set while it is in a.actor.Receive.
	// See runNext.
	worker    atomic.Pointer[worker]
	receiving atomic.Bool
	// told is the activation a's turns last told (Tell), found again
	// without the table's lock and map when they tell it again, as a
	// ring's node always does; weak, so that it keeps no retired
	// activation alive. Only the goroutine running a's turn uses it.
	// weakSelf is a's own weak pointer, made once: weak.Make for every
	// tell to another target than the last would cost more than the
	// table.
	told, weakSelf weak.Pointer[activation]
	// mem is the memory a holds, counted in s.mem: its type's reservation,
	// then what its actor reports. Written by the goroutine running a, or
	// under s.mu once a has retired; read with a.mu held or by that
	// goroutine.
	mem int64

	mu         sync.Mutex
	queue      []*Message
	qbuf       []*Message // the mailbox's first backing array, reused once it empties
	running    bool       // scheduled or running a batch
	retired    bool       // removed from the table; accepts nothing
	deactivate bool       // the actor asked to go once idle
	// deactivateReason is why Deactivate asked it to go; "": the actor
	// asked (ReasonRequested).
	deactivateReason string
	reason           string // why it retired: a Reason constant, set when it does
	lastActive       time.Time
	timers           map[string]*timerEntry // by name
	wake             chan struct{}          // closed by the next enqueue; see AwaitQueued
	roWake           chan struct{}          // signalled by enqueue while a turn waits in an ask; see waitReadOnly

	// cur is the message of the innermost turn running on a (nil between
	// turns); only the goroutine running a uses it. See reentry.go.
	cur *Message
	// Reentrancy (TypeOptions.Reentrant; see reentry.go), under mu:
	// waitingOn is the message of the turn that waits in an ask and may
	// be re-entered, with the ctx it asks with; nil while no turn waits,
	// or a nested turn runs in it. pending is the nested ask handed to
	// it and not yet run; nestWake says there is one. suspended lists
	// the waiting turns that nested turns run in, innermost last.
	waitingOn *Message
	waitCtx   context.Context
	pending   *Message
	nestWake  chan struct{}
	suspended []suspension

	// Links of the scheduler's list of idle activations, guarded by
	// s.lruMu.
	lruPrev, lruNext *activation
	inLRU            bool
}

// enqueue adds m to the mailbox. It returns false when a has retired.
func (a *activation) enqueue(m *Message) (bool, error) {
	from := m.from
	m.from = nil
	a.mu.Lock()
	if a.retired {
		a.mu.Unlock()
		return false, nil
	}
	if len(a.queue) >= a.opts.Mailbox {
		a.mu.Unlock()
		return true, abi.NewError(abi.CodeMailboxFull, "mailbox of "+a.ref.String()+" is full")
	}
	own := m.own
	m.own = false
	a.queue = append(a.queue, m)
	if a.wake != nil {
		close(a.wake)
		a.wake = nil
	}
	if a.roWake != nil {
		select {
		case a.roWake <- struct{}{}:
		default: // already signalled
		}
	}
	start := !a.running
	if start {
		a.s.lruRemove(a)
	}
	a.running = true
	a.mu.Unlock()
	if start {
		a.s.addBusy(1)
		if own && a.opts.TurnLimit > 0 && m.canWait+askerSlack >= a.opts.TurnLimit {
			m.own = true // the asker runs a (runAsk)
			return true, nil
		}
		if from == nil || from == a || !a.s.dispatcher.runNext(a, from) {
			a.s.dispatcher.dispatch(a)
		}
	}
	return true, nil
}

// next pops the next message, or marks a idle and returns nil.
func (a *activation) next() *Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) == 0 {
		a.idleLocked()
		return nil
	}
	m := a.queue[0]
	a.queue[0] = nil
	a.queue = a.queue[1:]
	if len(a.queue) == 0 {
		// Back to the small array the activation was made with: a
		// mailbox that empties after each message allocates nothing,
		// and a large one a burst grew goes. Its slots may still hold
		// the messages copied out when the burst outgrew it.
		clear(a.qbuf[:cap(a.qbuf)])
		a.queue = a.qbuf[:0]
	}
	return m
}

// idleLocked marks a, whose mailbox is empty, idle; with a.mu held.
func (a *activation) idleLocked() {
	a.running = false
	now := a.s.cfg.Now()
	if now.Before(a.lastActive) {
		// The clock stepped back (a Config.Now without a monotonic
		// reading): a's due time moved earlier, which the sweeper's
		// bound does not expect of a turn (see sweepBy).
		a.s.sweepBy(now.Add(a.opts.IdleTimeout))
	}
	a.lastActive = now
	if !a.retired {
		a.s.lruPush(a)
	}
	a.s.addBusy(-1)
}

// idleIfEmpty marks a idle when its mailbox is empty, and reports
// whether it did.
func (a *activation) idleIfEmpty() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) > 0 {
		return false
	}
	a.idleLocked()
	return true
}

// sweepAt returns when a sweep retires a, if it is idle then: its idle
// timeout after it was last active, or the zero time once it asked to
// go; and whether it is idle now, with nothing queued. A turn only puts
// that time off, unless the clock stepped back (idleLocked).
func (a *activation) sweepAt() (at time.Time, idle bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.deactivate {
		at = a.lastActive.Add(a.opts.IdleTimeout)
	}
	return at, !a.retired && !a.running && len(a.queue) == 0
}

// failQueued answers every queued message with err.
func (a *activation) failQueued(err error) {
	a.mu.Lock()
	queued := a.queue
	a.queue = nil
	a.mu.Unlock()
	for _, m := range queued {
		m.answer(nil, err)
	}
}

func (m *Message) answer(payload []byte, err error) {
	if m.reply != nil {
		m.reply <- result{payload: payload, err: err}
	}
	if m.Done != nil {
		m.Done(payload, err)
	}
}

// run processes up to one batch of messages, then gives up its slot. It
// returns how many turns it ran.
func (a *activation) run() (turns int) { return a.runBatch(a.s.cfg.Batch, false) }

// runAsk runs, on the goroutine of the ask from outside that found a idle
// and was left to run it (see TypeOptions.TurnLimit), a's activation if a
// is new, then one turn: that ask's. Messages queued meanwhile go to the
// dispatcher, as after a batch, so the asker runs nothing else; with none
// a goes idle here.
//
// A panic in the turn ends the process, as it does on the dispatcher's
// goroutines: it is raised again on a goroutine of its own, so that the
// asker's callers (an HTTP server recovers its handlers' panics) cannot
// catch it and go on with a stuck in its turn.
func (a *activation) runAsk() {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			go func() {
				panic(fmt.Sprintf("%v\n\nin a turn of %s run on its asker's goroutine:\n%s", r, a.ref, stack))
			}()
			select {} // the process ends
		}
	}()
	// No worker runs a now: the goroutine that ran a last may still
	// have it marked, and must not be handed what a's turn tells
	// (runNext) once it no longer looks.
	a.worker.Store(nil)
	a.runBatch(1, true)
}

// runBatch is run with a batch of up to batch turns. With handBack, a
// goes idle after its batch when its mailbox is empty, and only
// otherwise queues again.
func (a *activation) runBatch(batch int, handBack bool) (turns int) {
	s := a.s
	if a.actor == nil {
		if s.closed.Load() {
			a.abandon(errClosed) // no point activating only to deactivate
			return 0
		}
		if !a.activate() {
			return 0
		}
	}
	ctx := a.ctx
	// The last turn's message is answered only once a has taken its next
	// message or gone idle: a caller that has its reply and sends to a new
	// actor then finds a evictable, rather than busy and in the way.
	var last *Message
	var reply []byte
	var replyErr error
	for i := 0; ; i++ {
		if s.closed.Load() {
			a.failQueued(errClosed)
		}
		var m *Message
		if i < batch {
			m = a.next()
		} else if !handBack || !a.idleIfEmpty() {
			break
		}
		if last != nil {
			last.answer(reply, replyErr)
			last = nil
		}
		if m == nil {
			a.afterIdle()
			return turns
		}
		if m.timer != nil && !a.timerLive(m.timer) {
			continue // cancelled or replaced after this tick was queued
		}
		if turns > 0 {
			s.dispatcher.yieldNext(a) // what a's last turn told may not wait for this one
		}
		turns++
		a.cur = m
		a.receiving.Store(true)
		reply, replyErr = a.actor.Receive(ctx, m)
		a.receiving.Store(false)
		a.cur = nil
		a.noteMemory()
		if m.timer != nil {
			a.afterTick(m.timer)
		}
		if !m.deferred {
			last = m
		}
	}
	if last != nil {
		last.answer(reply, replyErr)
	}
	s.dispatcher.dispatch(a) // more to do: queue again behind the others
	return turns
}

// activate creates the Actor, first waiting for a previous activation of the
// same ref to finish deactivating. On failure every queued message gets the
// error and the activation retires, so the next message tries afresh.
func (a *activation) activate() bool {
	// Waiting for predecessors, loading state and building an instance may
	// all take a while: let a worker pool run others meanwhile.
	a.s.dispatcher.block()
	if a.prev != nil {
		<-a.prev
	}
	for _, done := range a.evicted {
		<-done
	}
	a.evicted = nil
	actor, err := a.s.cfg.Activator.Activate(a.ctx, a.ref)
	a.s.dispatcher.unblock()
	if err == nil {
		a.actor = actor
		a.noteMemory()
		return true
	}
	var transient interface{ Transient() bool }
	if errors.As(err, &transient) && transient.Transient() {
		// Expected now and then (the actor is served elsewhere for a
		// moment); whoever sent the message tries again.
		a.s.cfg.Logger.Debug("activation failed", "actor", a.ref.String(), "err", err)
	} else {
		a.s.cfg.Logger.Warn("activation failed", "actor", a.ref.String(), "err", err)
	}
	a.abandon(err)
	return false
}

// abandon retires a, which never activated, answering its queued messages
// with err, so that the next message tries afresh.
func (a *activation) abandon(err error) {
	a.s.mu.Lock()
	a.mu.Lock()
	a.retired = true
	a.stopTimers()
	queued := a.queue
	a.queue, a.running = nil, false
	a.s.removeLocked(a)
	a.mu.Unlock()
	a.s.mu.Unlock()
	a.s.mem.Add(-a.mem) // its reservation
	a.s.addBusy(-1)
	for _, m := range queued {
		m.answer(nil, err)
	}
	// Nothing waits for a: only what retireLocked retires has a done
	// channel.
}

// noteMemory counts what a's actor reports holding, if it reports it.
// Called by the goroutine running a.
func (a *activation) noteMemory() {
	r, ok := a.actor.(MemoryReporter)
	if !ok {
		return
	}
	if n := r.MemoryInUse(); n != a.mem {
		a.s.mem.Add(n - a.mem)
		a.mem = n
	}
}

// afterIdle retires a when its mailbox ran dry and it asked to go or the
// scheduler is closing, and otherwise evicts idle activations if turns
// grew the memory of activations past the budget.
func (a *activation) afterIdle() {
	a.mu.Lock()
	want := a.deactivate
	a.mu.Unlock()
	if want || a.s.closed.Load() || (a.s.cfg.MemoryBudget > 0 && a.s.mem.Load() > a.s.cfg.MemoryBudget) {
		a.s.dispatcher.yieldNext(a) // a deactivation hook may take long
	}
	if want || a.s.closed.Load() {
		reason := ReasonShutdown
		if want {
			reason = ReasonRequested
		}
		if a.s.retire(a, true, time.Time{}, reason) {
			a.s.finish(a)
		}
		return
	}
	if b := a.s.cfg.MemoryBudget; b > 0 && a.s.mem.Load() > b {
		a.s.evictOver()
	}
}
