package host

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// Bounds of an activation's pipeline: the turns merged into the group that
// waits behind the commit in flight, and what they hold (their messages,
// batches and replies, roughly). A turn that would pass either waits for the commit in
// flight to end. The byte bound keeps a merged batch well within what one
// store write takes (badger: about 2.4 MiB); a single turn larger than it
// is committed alone, as without pipelining.
const (
	maxPipelineTurns = 128
	maxPipelineBytes = 1 << 20
)

// slowCommit is how long a commit must take for a turn with nothing in
// flight and nothing queued behind it to hand its batch to the flusher
// rather than commit it itself: the hand-off costs a few goroutine
// switches, which pay only when the commit waits for a disk.
const slowCommit = 100 * time.Microsecond

// pipeline lets an activation run its next turns while the commits of the
// previous ones are in flight (see RATIONALE.md, "Host"). A turn that
// succeeded applies its writes to the activation's state at once, so the
// next turn sees them, and joins the pending group; a flusher goroutine
// commits the groups one after the other, each as one merged batch, and
// only once a group is durable releases its turns' replies, tells, timers
// and reminders. When a group fails, every turn in it and every pending
// turn after it fails too, and the activation reloads its state before
// its next turn.
type pipeline struct {
	mu   sync.Mutex
	cond sync.Cond // broadcast when the flusher takes the pending group or stops; its L is &mu
	// version is the actor's version once every batch handed to the
	// store has applied: what the next batch expects.
	version   uint64
	pending   *group // waiting behind the commit in flight; nil if none
	flushing  bool   // a flusher commits a group
	broken    error  // a commit failed; set until the activation reloads
	keys      map[string]int
	timerSets int  // timers set by turns in the pipeline, not yet set
	slow      bool // the last commit took slowCommit or longer
}

// group is the turns of one merged batch.
type group struct {
	batch   storage.Batch
	entries []*entry
	cost    int64
}

// entry is a turn in the pipeline: what it does once its batch is durable.
type entry struct {
	ctx        context.Context // the scheduler's, of the turn
	m          *scheduler.Message
	label      string
	reply      []byte
	timers     []timerOp
	deactivate bool
	key        string     // of its idempotency record, or ""
	sets       int        // timers it sets
	watch      turnWatch  // its timing, reported when its answer was deferred
	span       trace.Span // the turn's, ended here when its answer is deferred; nil when not traced

	// Set under pipeline.mu when the entry is finished.
	finished bool
	err      error
	answer   func([]byte, error) // the deferred answer, when Receive returned first
	// done is closed once the entry is finished; made only when a turn
	// waits for it (doneOf), which most turns with messages queued
	// behind them never do.
	done chan struct{}
}

// doneOf returns a channel closed once e is finished, or nil when it is
// finished already.
func (p *pipeline) doneOf(e *entry) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.finished {
		return nil
	}
	if e.done == nil {
		e.done = make(chan struct{})
	}
	return e.done
}

func (p *pipeline) init(version uint64) {
	p.version = version
	p.cond.L = &p.mu
}

// idle reports whether nothing is in the pipeline and no commit failed.
func (p *pipeline) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.flushing && p.broken == nil
}

// committed notes how long a commit took.
func (p *pipeline) committed(took time.Duration) {
	p.mu.Lock()
	p.slow = took >= slowCommit
	p.mu.Unlock()
}

// handOff reports whether a turn should hand its batch to the flusher
// rather than commit it itself: there is a commit in flight, or it is
// worth the hand-off.
func (p *pipeline) handOff() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushing || p.broken != nil || p.slow
}

// holds reports whether a turn in the pipeline records key.
func (p *pipeline) holds(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[key] > 0
}

// pendingTimerSets counts the timers that turns in the pipeline set.
func (p *pipeline) pendingTimerSets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timerSets
}

// settle waits until every turn in the pipeline is durable and released,
// or failed, and returns the error of the commit that failed, if one did
// since the activation last reloaded.
func (a *activation) settle(ctx context.Context) error {
	p := &a.p
	p.mu.Lock()
	if p.flushing {
		p.mu.Unlock()
		resume := a.h.sched.Blocking(ctx)
		p.mu.Lock()
		for p.flushing {
			p.cond.Wait()
		}
		resume()
	}
	err := p.broken
	p.mu.Unlock()
	return err
}

// resync makes the activation whole again after a commit of its pipeline
// failed: the instance, whose memory reflects turns that did not commit,
// is dropped, and the state is loaded again from the store.
func (a *activation) resync(ctx context.Context) error {
	a.p.mu.Lock()
	broken := a.p.broken != nil
	a.p.mu.Unlock()
	if !broken {
		return nil
	}
	_ = a.settle(ctx) // the flusher is failing the turns after the failed one
	a.discard(ctx)
	snap, err := a.h.store.Load(ctx, a.ref.String())
	if err != nil {
		return abi.NewError(abi.CodeUnavailable, "reloading the state of "+a.ref.String()+" after a failed commit: "+err.Error())
	}
	if snap.State == nil {
		snap.State = make(map[string][]byte)
	}
	a.state = snap.State
	a.p.mu.Lock()
	a.p.version, a.p.broken = snap.Version, nil
	a.p.mu.Unlock()
	return nil
}

// enqueue adds a turn that succeeded, with its batch, to the pending group,
// first waiting for room, and starts a flusher if none runs. It fails when
// a commit failed: the turn ran on state that is not durable.
func (a *activation) enqueue(e *entry, b *storage.Batch) error {
	p := &a.p
	cost := turnCost(b, e.reply) + int64(len(e.m.Payload))
	p.mu.Lock()
	defer p.mu.Unlock()
	full := func() bool {
		g := p.pending
		return g != nil && (len(g.entries) >= maxPipelineTurns || g.cost+cost > maxPipelineBytes)
	}
	if p.broken == nil && full() {
		p.mu.Unlock()
		resume := a.h.sched.Blocking(e.ctx)
		p.mu.Lock()
		for p.broken == nil && full() {
			p.cond.Wait()
		}
		resume()
	}
	if p.broken != nil {
		return p.broken
	}
	if p.pending == nil {
		// b's Puts, Consumed and Send may be the turn's, which the next
		// turn reuses (spareTurn); a group merged into copies them, as
		// Merge does.
		p.pending = &group{batch: *b}
		p.pending.batch.Puts = maps.Clone(b.Puts)
		p.pending.batch.Consumed = slices.Clone(b.Consumed)
		p.pending.batch.Send = slices.Clone(b.Send)
	} else {
		p.pending.batch.Merge(b)
	}
	g := p.pending
	g.entries = append(g.entries, e)
	g.cost += cost
	if e.key != "" {
		if p.keys == nil {
			p.keys = make(map[string]int)
		}
		p.keys[e.key]++
	}
	p.timerSets += e.sets
	if !p.flushing {
		p.flushing = true
		a.h.wg.Add(1)
		go a.flush(e.ctx)
	}
	return nil
}

// flush commits the pending groups one after the other until none is
// left, or one fails.
func (a *activation) flush(ctx context.Context) {
	defer a.h.wg.Done()
	p := &a.p
	for {
		p.mu.Lock()
		g := p.pending
		p.pending = nil
		if g == nil {
			p.flushing = false
			p.cond.Broadcast()
			p.mu.Unlock()
			return
		}
		g.batch.Version = p.version
		p.cond.Broadcast() // room for the next group
		p.mu.Unlock()

		var err error
		if !g.batch.Empty() {
			start := time.Now()
			err = a.h.store.Commit(ctx, &g.batch)
			took := time.Since(start)
			p.committed(took)
			a.h.committed(len(g.entries), took, err)
		}
		if err != nil {
			a.failGroups(g, err)
			return
		}
		if g.batch.ChangesState() {
			p.mu.Lock()
			p.version++
			p.mu.Unlock()
		}
		for _, e := range g.entries {
			a.effects(e.ctx, e.timers, e.deactivate)
		}
		a.h.rem.committed(g.batch.Reminders, g.batch.Actor, g.batch.CancelReminders)
		a.h.sent(a.ref.Type, KindTell, len(g.batch.Send))
		a.h.deliver(g.batch.Send)
		for _, e := range g.entries {
			a.finish(e, nil)
		}
	}
}

// failGroups fails the turns of g, whose commit failed with err, and
// those pending behind it, which saw g's writes; the activation reloads
// before its next turn.
func (a *activation) failGroups(g *group, err error) {
	p := &a.p
	var broken error = abi.NewError(abi.CodeUnavailable, "an earlier turn of "+a.ref.String()+" failed to commit: "+err.Error())
	failed := func(e *entry) error {
		return refused(abi.NewError(abi.CodeUnavailable, "committing the turn of "+a.ref.String()+"."+e.label+": "+err.Error()), err)
	}
	var ce *storage.ConsumedError
	if errors.As(err, &ce) {
		// A message delivered twice was merged with these turns: nothing
		// of them was applied, and each but the duplicate may go again
		// (an ask's caller tries again, a tell is delivered again).
		broken = notServedError("", "an earlier turn of "+a.ref.String()+" was merged with a message delivered twice; try again")
		failed = func(e *entry) error {
			if slices.Contains(ce.IDs, e.m.ID) {
				return refused(abi.NewError(abi.CodeUnavailable, "committing the turn of "+a.ref.String()+"."+e.label+": "+err.Error()), err)
			}
			return notServedError("", "the turn of "+a.ref.String()+"."+e.label+" was merged with a message delivered twice; try again")
		}
	}
	if a.lease != nil && a.h.own.fenced(a.lease, err) {
		// The next turn drops the activation; nothing of these turns was
		// applied, and another node serves the actor now.
		broken = notServedError("", "an earlier turn of "+a.ref.String()+" failed to commit: "+err.Error())
		failed = func(e *entry) error {
			return notServedError("", "committing the turn of "+a.ref.String()+"."+e.label+": "+err.Error())
		}
	}
	p.mu.Lock()
	p.broken = broken
	after := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, e := range g.entries {
		a.finish(e, failed(e))
	}
	if after != nil {
		for _, e := range after.entries {
			a.finish(e, broken)
		}
	}
	p.mu.Lock()
	p.flushing = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// finish gives a turn in the pipeline its outcome: its answer, when its
// Receive has returned, or the outcome its Receive waits for. A tell whose
// turn failed is still in the outbox and is tried again.
func (a *activation) finish(e *entry, err error) {
	p := &a.p
	p.mu.Lock()
	e.finished, e.err = true, err
	answer, done := e.answer, e.done
	if e.key != "" {
		if p.keys[e.key]--; p.keys[e.key] <= 0 {
			delete(p.keys, e.key)
		}
	}
	p.timerSets -= e.sets
	p.mu.Unlock()
	if done != nil {
		close(done)
	}
	if answer == nil {
		return
	}
	a.turnDone(&e.watch, err)
	if e.span != nil {
		endSpan(e.span, err)
	}
	if err != nil {
		answer(nil, a.uncommitted(e.m, err))
	} else {
		answer(e.reply, nil)
	}
}

// answerLater hands the answer of e's message to the flusher, unless e is
// finished already; it reports whether it did.
func (p *pipeline) answerLater(e *entry) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.finished {
		return false
	}
	e.answer = e.m.Defer()
	return true
}

// turnCost is about what a turn in the pipeline holds: its batch, its
// reply, and some overhead for each entry.
func turnCost(b *storage.Batch, reply []byte) int64 {
	const entry = 64
	n := entry + len(reply)
	for k, v := range b.Puts {
		n += entry + len(k) + len(v)
	}
	for _, k := range b.Deletes {
		n += entry + len(k)
	}
	for _, m := range b.Send {
		n += entry + len(m.ID) + len(m.Target) + len(m.Sender) + len(m.Method) + len(m.Key) + len(m.Payload)
	}
	for _, r := range b.Records {
		n += entry + len(r.Key) + len(r.Reply)
	}
	for _, r := range b.Reminders {
		n += 4*entry + len(r.Actor) + len(r.Name) + len(r.Method) + len(r.Payload) + len(r.Schedule) + len(r.Missed)
	}
	for _, id := range b.Consumed {
		n += entry + len(id)
	}
	for _, name := range b.CancelReminders {
		n += 2*entry + len(name)
	}
	return int64(n)
}
