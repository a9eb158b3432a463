package host

import (
	"strconv"
	"sync"
	"time"
)

// idGen makes message ids that are unique in this process and sort in the
// order they were made, also across restarts as long as the wall clock does
// not go back: 16 hex digits of a nanosecond timestamp that is bumped when
// two ids would share one.
type idGen struct {
	mu   sync.Mutex
	last uint64
}

func (g *idGen) next() string {
	now := uint64(time.Now().UnixNano())
	g.mu.Lock()
	if now <= g.last {
		now = g.last + 1
	}
	g.last = now
	g.mu.Unlock()
	const zeros = "0000000000000000"
	s := strconv.FormatUint(now, 16)
	return zeros[len(s):] + s
}

// isMessageID reports whether s has the form of the ids idGen makes.
func isMessageID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
