package host

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 20, "short"},
		{strings.Repeat("a", 20), 20, strings.Repeat("a", 20)},
		{strings.Repeat("a", 30), 20, strings.Repeat("a", 11) + "… (cut)"},
		{strings.Repeat("é", 15), 20, strings.Repeat("é", 5) + "… (cut)"},        // 11 bytes: the 6th é is split
		{"aaaaaaaaaa€€€€", 20, "aaaaaaaaaa… (cut)"},                              // 11 bytes: a € split after 1 byte
		{strings.Repeat("\xff", 30), 20, strings.Repeat("\xff", 10) + "… (cut)"}, // bytes that are no text lose one
	} {
		got := truncate(tt.in, tt.n)
		if got != tt.want || len(got) > tt.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q: not valid UTF-8", tt.in, tt.n, got)
		}
	}
}

func TestIsMessageID(t *testing.T) {
	var g idGen
	for range 3 {
		if id := g.next(); !isMessageID(id) {
			t.Errorf("isMessageID(%q) = false for an id idGen made", id)
		}
	}
	for _, good := range []string{
		"0000018f2c3a9e10",                          // made before ids had a random part
		"0000018f2c3a9e10a1b2c3d4e5f60718",          // timestamp and random part
		"0000018f2c3a9e10a1b2c3d4e5f60718.00000001", // a continuation
		"0000018f2c3a9e10.0000002a",                 // a continuation of an old id
	} {
		if !isMessageID(good) {
			t.Errorf("isMessageID(%q) = false", good)
		}
	}
	for _, bad := range []string{"", "0000018f2c3a9e1", "0000018f2c3a9e100", "0000018F2C3A9E10", "0000018f2c3a9e1g", "zzzzzzzzzzzzzzzz",
		"0000018f2c3a9e10a1b2c3d4e5f6071", "0000018f2c3a9e10a1b2c3d4e5f607189", "0000018f2c3a9e10.00000000", "0000018f2c3a9e10.0000000g",
		"0000018f2c3a9e10.0000001", ".00000001", "0000018f2c3a9e10a1b2c3d4e5f60718.00000001.00000001"} {
		if isMessageID(bad) {
			t.Errorf("isMessageID(%q) = true", bad)
		}
	}
}

// TestIDsUniqueAcrossGenerators makes ids on two generators (two nodes of
// a cluster) whose clocks read the same nanosecond: no id may be made
// twice, and each generator's ids still sort in the order made.
func TestIDsUniqueAcrossGenerators(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return at }
	a, b := &idGen{now: clock}, &idGen{now: clock}
	seen := make(map[string]bool)
	for _, g := range []*idGen{a, b} {
		prev := ""
		for range 100 {
			id := g.next()
			if seen[id] {
				t.Fatalf("id %s made twice", id)
			}
			seen[id] = true
			if id <= prev {
				t.Fatalf("id %s made after %s sorts before it", id, prev)
			}
			prev = id
			if got, ok := sentAt(id); !ok || got.Sub(at) < 0 || got.Sub(at) > time.Microsecond {
				t.Fatalf("sentAt(%s) = %v, %v; want about %v", id, got, ok, at)
			}
		}
	}
	// An id made before the random part (16 hex digits) sorts by its time
	// among the new ones.
	old := hex16(uint64(at.UnixNano()) - 1)
	if id := a.next(); old >= id {
		t.Fatalf("old id %s sorts after %s", old, id)
	}
	if got, ok := sentAt(old); !ok || !got.Equal(at.Add(-1)) {
		t.Fatalf("sentAt(%s) = %v, %v", old, got, ok)
	}
}

func TestContinuationID(t *testing.T) {
	var g idGen
	base := g.next()
	id := continuationID(base, 3)
	if got, page, ok := splitContinuation(id); !ok || got != base || page != 3 {
		t.Fatalf("splitContinuation(%q) = %q, %d, %v", id, got, page, ok)
	}
	if next := g.next(); !(base < id && id < next) {
		t.Fatalf("continuation %s does not sort between %s and %s", id, base, next)
	}
}
