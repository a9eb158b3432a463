package host

import (
	"strings"
	"testing"
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
	for _, bad := range []string{"", "0000018f2c3a9e1", "0000018f2c3a9e100", "0000018F2C3A9E10", "0000018f2c3a9e1g", "zzzzzzzzzzzzzzzz"} {
		if isMessageID(bad) {
			t.Errorf("isMessageID(%q) = true", bad)
		}
	}
}
