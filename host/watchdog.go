package host

import (
	"sync"
	"time"
)

// watchdog enforces per-turn execution limits. A turn registers its
// deadline here and one goroutine marks the turns that overran; the guest
// then stops at its next refuel (host/meter.go), within about a million
// instructions. Marking the turn, rather than closing the module from this
// goroutine, leaves the instance to the goroutine that runs it, and costs a
// turn no context of its own. Keeping deadlines here rather than in the
// context lets a turn stop its clock while it waits for an ask.
type watchdog struct {
	mu      sync.Mutex
	running map[*turn]time.Time // turn -> deadline
	stop    chan struct{}
	done    chan struct{}
}

func newWatchdog(tick time.Duration) *watchdog {
	w := &watchdog{running: make(map[*turn]time.Time), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(tick)
	return w
}

func (w *watchdog) start(t *turn, deadline time.Time) {
	w.mu.Lock()
	w.running[t] = deadline
	w.mu.Unlock()
}

func (w *watchdog) end(t *turn) {
	w.mu.Lock()
	delete(w.running, t)
	w.mu.Unlock()
}

func (w *watchdog) loop(tick time.Duration) {
	defer close(w.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.mu.Lock()
			for t, deadline := range w.running {
				if now.After(deadline) {
					t.timedOut.Store(true)
					delete(w.running, t)
				}
			}
			w.mu.Unlock()
		}
	}
}

func (w *watchdog) close() {
	close(w.stop)
	<-w.done
}
