package scheduler

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Dispatch chooses how activations with work get CPU time.
type Dispatch struct {
	// Workers, when positive, runs activations on a pool of that many
	// goroutines fed by a run queue. A worker whose turn blocks (an ask, a
	// storage commit, an activation) is replaced for as long as it is
	// blocked, so blocking never starves the queue and commits of many
	// turns can share one write. Zero gives each activation that has work
	// a goroutine of its own, for as long as it has work; a goroutine
	// freed that way waits, up to a bound, to serve the next one. With
	// zero, too, an ask from outside any turn to an idle activation runs
	// that one turn on the asker's goroutine (see TypeOptions.TurnLimit);
	// a pool does not, since its size bounds the goroutines running
	// turns.
	Workers int
	// Deterministic, instead, runs turns only on the goroutine that drives
	// the scheduler (RunUntilIdle, Ask, CollectIdle, Close), one batch at a
	// time from a FIFO run queue, and starts no goroutine: with a
	// ManualClock the same calls always give the same turns in the same
	// order. An ask runs its target's turns nested, on the asker's stack.
	// The sweeper is off; call CollectIdle.
	Deterministic bool
}

// Goroutines is the Dispatch with a goroutine per active mailbox.
var Goroutines = Dispatch{}

// dispatcher runs activations that have work.
type dispatcher interface {
	dispatch(a *activation)
	// runNext hands a, which has just got work, to the goroutine running
	// from's turn, to run once from's batch is over, and reports whether
	// it took it; from is in Receive on that goroutine. See
	// Scheduler.Tell.
	runNext(a, from *activation) bool
	// yieldNext dispatches as usual the activation a runNext handed to
	// the goroutine running a, if any: a is about to start something
	// that may take long (another turn, its deactivation), and the one
	// handed over must not wait for it.
	yieldNext(a *activation)
	// block and unblock bracket a call in which the running turn waits.
	block()
	unblock()
	// stop lets idle workers exit once Close has drained the activations.
	stop()
}

func (d Dispatch) start(s *Scheduler) dispatcher {
	if d.Deterministic {
		return &inline{}
	}
	if d.Workers <= 0 {
		return &goroutines{s: s}
	}
	p := &pool{s: s, size: d.Workers}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// goroutines gives every activation with work a goroutine of its own;
// blocking needs no help because every activation has one. A goroutine
// whose activation ran dry parks, and the next activation to get work
// takes it over instead of a new one: a new goroutine's stack must grow to
// what a turn needs (a call into a guest goes deep), and paying that for
// nearly every message, as a ring of tells does, cost a tenth of a
// message's time. At most maxParked wait; the others exit.
//
// A tell sent from a turn to an idle activation is not handed to another
// goroutine (runNext): the goroutine that ran the turn runs the
// receiver next, once the sender's batch is over, as Go's own scheduler
// runs a goroutine a channel send made ready. A chain of tells, a token
// passed round a ring, then costs no wake-up of another thread per hop.
// The sender gives the receiver up to a goroutine of its own (yieldNext)
// before anything that may take long: its next turn, its deactivation.
type goroutines struct {
	s *Scheduler

	mu      sync.Mutex
	parked  []chan *activation // most recently parked last
	stopped bool
}

// worker is one goroutine of the goroutines dispatcher.
type worker struct {
	next chan *activation // where it waits, parked
	// after is the activation to run once the current one's batch is
	// over (runNext); nil if none.
	after atomic.Pointer[activation]
}

// maxParked bounds the goroutines kept waiting for an activation to run.
// A burst of tells to many actors (a fan-out to a thousand) makes as many
// activations busy at once; with room for only 64, most of their
// goroutines exited after each round and the next round grew new stacks
// again (copystack 14% of the fan-out's processor time, against 3%). A
// parked goroutine holds its stack, a few KiB to some tens, which the
// garbage collector shrinks while it waits.
const maxParked = 1024

func (g *goroutines) dispatch(a *activation) {
	g.mu.Lock()
	if n := len(g.parked); n > 0 {
		next := g.parked[n-1]
		g.parked[n-1] = nil
		g.parked = g.parked[:n-1]
		g.mu.Unlock()
		next <- a // buffered: never blocks
		return
	}
	g.mu.Unlock()
	g.s.goFunc(func() { g.work(a) })
}

func (g *goroutines) runNext(a, from *activation) bool {
	w := from.worker.Load()
	return w != nil && w.after.CompareAndSwap(nil, a)
}

func (g *goroutines) yieldNext(a *activation) {
	if w := a.worker.Load(); w != nil {
		if next := w.after.Swap(nil); next != nil {
			g.dispatch(next)
		}
	}
}

// work runs a, then each activation handed to it with runNext or while
// parked, until there is no room to park or the scheduler stops.
func (g *goroutines) work(a *activation) {
	w := &worker{next: make(chan *activation, 1)}
	for a != nil {
		a.worker.Store(w)
		a.run()
		// Another worker may run a already, once it went idle and got
		// work: leave its mark alone.
		a.worker.CompareAndSwap(w, nil)
		if next := w.after.Swap(nil); next != nil {
			a = next
			continue
		}
		g.mu.Lock()
		if g.stopped || len(g.parked) >= maxParked {
			g.mu.Unlock()
			return
		}
		g.parked = append(g.parked, w.next)
		g.mu.Unlock()
		a = <-w.next // nil: stop
	}
}

func (*goroutines) block()   {}
func (*goroutines) unblock() {}

// stop lets the parked goroutines exit; Close calls it once no activation
// is busy, and any later dispatch starts a goroutine that exits after.
func (g *goroutines) stop() {
	g.mu.Lock()
	g.stopped = true
	parked := g.parked
	g.parked = nil
	g.mu.Unlock()
	for _, next := range parked {
		next <- nil
	}
}

// pool keeps up to size workers running activations from a FIFO run queue.
// The queue is unbounded because a worker pushes back an activation with
// more work and must never block doing so; it holds each activation at most
// once, so it is bounded by the number of activations.
type pool struct {
	s    *Scheduler
	size int

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*activation
	workers int // alive
	blocked int // alive but waiting in a blocking call
	idle    int // alive and waiting for work
	stopped bool
}

func (p *pool) dispatch(a *activation) {
	p.mu.Lock()
	p.queue = append(p.queue, a)
	p.wake()
	p.mu.Unlock()
}

// wake finds a worker for queued work: an idle one, or a new one while
// fewer than size are running. Called with p.mu held.
func (p *pool) wake() {
	switch {
	case len(p.queue) == 0:
	case p.idle > 0:
		p.cond.Signal()
	case p.workers-p.blocked < p.size:
		p.workers++
		p.s.goFunc(p.work)
	}
}

func (*pool) runNext(_, _ *activation) bool { return false }
func (*pool) yieldNext(*activation)         {}

func (p *pool) block() {
	p.mu.Lock()
	p.blocked++
	p.wake()
	p.mu.Unlock()
}

func (p *pool) unblock() {
	p.mu.Lock()
	p.blocked--
	p.mu.Unlock()
}

func (p *pool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *pool) work() {
	p.mu.Lock()
	for {
		for len(p.queue) == 0 {
			// Workers that replaced blocked ones leave once the others
			// are back, so that at most size keep running.
			if p.stopped || p.workers-p.blocked > p.size {
				p.workers--
				p.mu.Unlock()
				return
			}
			p.idle++
			p.cond.Wait()
			p.idle--
		}
		a := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		a.run()
		p.mu.Lock()
	}
}

// inline holds activations with work in a FIFO run queue until the
// goroutine driving the scheduler runs them. The queue, like the pool's,
// holds each activation at most once.
type inline struct {
	mu    sync.Mutex // timers of a real clock queue ticks from their own goroutines
	queue []*activation
}

func (d *inline) dispatch(a *activation) {
	d.mu.Lock()
	d.queue = append(d.queue, a)
	d.mu.Unlock()
}

func (*inline) runNext(_, _ *activation) bool { return false }
func (*inline) yieldNext(*activation)         {}

// Turns wait in place: whoever waits for a reply runs the turns that give
// it (see Scheduler.Ask).
func (*inline) block()   {}
func (*inline) unblock() {}
func (*inline) stop()    {}

// runOne runs one batch of target, when it is queued, or of the first
// queued activation when target is nil. It reports whether one was queued
// and how many turns it ran.
func (d *inline) runOne(target *activation) (turns int, ok bool) {
	d.mu.Lock()
	i := 0
	if target != nil {
		i = slices.Index(d.queue, target)
	}
	if i < 0 || len(d.queue) == 0 {
		d.mu.Unlock()
		return 0, false
	}
	a := d.queue[i]
	d.queue = slices.Delete(d.queue, i, i+1)
	d.mu.Unlock()
	return a.run(), true
}
