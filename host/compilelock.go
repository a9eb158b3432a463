package host

import "sync"

// compileLocks makes the compiles of one module's bytes take turns, while
// those of different modules run at once. The runtimes of a host share
// one wazero engine through the compilation cache, and wazero v1.12's
// engine lists a module it read from the cache's folder as compiled
// before that module can be called (its entry preambles are made after):
// a second compile of the same bytes at that moment took the unready
// module, and the first exported function it looked up panicked (index
// out of range in wazevo's NewFunction). Two types of one module,
// deployed at once on a restart, met it (TestCrashWatchersExactlyOnce).
type compileLocks struct {
	mu    sync.Mutex
	locks map[[32]byte]*compileLock
}

type compileLock struct {
	sync.Mutex
	users int // compiles holding or waiting for it
}

// lock waits until no other compile of the module whose SHA-256 is sum
// runs, and returns the function that lets the next one run.
func (c *compileLocks) lock(sum [32]byte) (unlock func()) {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = make(map[[32]byte]*compileLock)
	}
	l := c.locks[sum]
	if l == nil {
		l = &compileLock{}
		c.locks[sum] = l
	}
	l.users++
	c.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.locks, sum)
		}
		c.mu.Unlock()
	}
}
