package scheduler

import "sync"

// Dispatch chooses how activations with work get CPU time.
type Dispatch struct {
	// Workers, when positive, runs activations on a fixed pool of that many
	// goroutines fed by a run queue. Zero starts one goroutine per activation
	// that has work, for as long as it has work (the default).
	Workers int
}

// Goroutines is the default Dispatch: a goroutine per active mailbox.
var Goroutines = Dispatch{}

func (d Dispatch) start(s *Scheduler) func(*activation) {
	if d.Workers <= 0 {
		return func(a *activation) { s.goFunc(a.run) }
	}
	q := &runQueue{}
	q.cond = sync.NewCond(&q.mu)
	for i := 0; i < d.Workers; i++ {
		s.goFunc(func() {
			for a := q.pop(); a != nil; a = q.pop() {
				a.run()
			}
		})
	}
	s.goFunc(func() {
		<-s.stopping
		q.close()
	})
	return q.push
}

// runQueue is an unbounded FIFO of activations with work; unbounded because
// a worker pushes back an activation it could not finish, and must never
// block doing so.
type runQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*activation
	closed bool
}

func (q *runQueue) push(a *activation) {
	q.mu.Lock()
	q.items = append(q.items, a)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *runQueue) pop() *activation {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil
	}
	a := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return a
}

func (q *runQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
