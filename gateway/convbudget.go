package gateway

import "sync"

// slowConversions bounds the reply bytes that cborToJSON's general path
// converts at once, across every request. That path decodes a reply into
// Go values before it writes JSON, and a reply of many small items takes
// up to about ninety times its size that way (a 1 MiB reply of empty maps
// and one float: 87 MiB); without a bound, concurrent requests multiply
// that. Two megabytes: two of the largest replies by default, about what
// two cores convert at once; most replies take the quick path, which
// needs no such values and no share.
var slowConversions = newByteBudget(2 << 20)

// byteBudget hands out shares of a number of bytes; a share larger than
// the whole budget takes all of it.
type byteBudget struct {
	mu    sync.Mutex
	freed sync.Cond
	size  int
	free  int
}

func newByteBudget(size int) *byteBudget {
	b := &byteBudget{size: size, free: size}
	b.freed.L = &b.mu
	return b
}

// acquire waits until n bytes of the budget (all of it, when n is
// larger) are free, takes them, and returns what it took, for release.
func (b *byteBudget) acquire(n int) int {
	n = min(n, b.size)
	b.mu.Lock()
	for b.free < n {
		b.freed.Wait()
	}
	b.free -= n
	b.mu.Unlock()
	return n
}

// release gives back n bytes that acquire took.
func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
	b.freed.Broadcast()
}
