package host

import (
	"strings"
	"testing"
	"time"
)

// TestIDsAreTimestampThenUnique checks the layout of an id (16 hex digits
// of the timestamp, zero-padded, then the generator's 16), which next
// writes digit by digit: ids made in one nanosecond are bumped, and sort
// in the order they were made.
func TestIDsAreTimestampThenUnique(t *testing.T) {
	for _, ns := range []int64{5, 0x0123456789abcdef, 0x7fffffffffffffff} {
		g := &idGen{now: func() time.Time { return time.Unix(0, ns) }}
		first, second := g.next(), g.next()
		if want := hex16(uint64(ns)) + g.unique; first != want {
			t.Fatalf("id at %d ns is %q, want %q", ns, first, want)
		}
		if want := hex16(uint64(ns)+1) + g.unique; second != want {
			t.Fatalf("second id at %d ns is %q, want %q", ns, second, want)
		}
		if !isMessageID(first) || !isMessageID(second) || strings.Compare(first, second) >= 0 {
			t.Fatalf("ids %q and %q are not message ids in order", first, second)
		}
	}
}
