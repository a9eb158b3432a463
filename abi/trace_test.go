package abi

import (
	"strings"
	"testing"
)

// sampleTrace is the traceparent of the W3C recommendation's example.
const sampleTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestValidTraceparent(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{sampleTrace, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true}, // not sampled
		{"", false},
		{sampleTrace + "-", false},
		{sampleTrace[:54], false},
		{"01" + sampleTrace[2:], false},       // a version this reader does not know
		{strings.ToUpper(sampleTrace), false}, // upper-case hex
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false}, // zero trace id
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false}, // zero span id
		{"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", false}, // not hex
		{"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false}, // separator
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", false},
	}
	for _, tt := range tests {
		if got := ValidTraceparent(tt.in); got != tt.want {
			t.Errorf("ValidTraceparent(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// An envelope written before the trace key existed decodes with no trace,
// and a reader that does not know the key (the rule for unknown keys)
// decodes a traced envelope as the same message.
func TestRequestTraceOptional(t *testing.T) {
	old := unhex(t, "a3 0100 02616d 056178") // method "m", id "x", no key 6
	var q Request
	if err := q.Decode(old); err != nil {
		t.Fatal(err)
	}
	if q.Trace != "" || q.Method != "m" || q.ID != "x" {
		t.Fatalf("decoded %+v", q)
	}
	traced := (&Request{Method: "m", ID: "x", Trace: sampleTrace}).AppendTo(nil)
	r := NewReader(traced)
	n, err := r.ReadMapHeader()
	if err != nil || n != 4 {
		t.Fatalf("map header %d, %v", n, err)
	}
	seen := 0
	for i := 0; i < n; i++ {
		key, err := r.ReadUint()
		if err != nil {
			t.Fatal(err)
		}
		if key == 6 {
			seen++
		}
		if err := r.Skip(); err != nil { // what a reader of the older table does
			t.Fatalf("skipping key %d: %v", key, err)
		}
	}
	if seen != 1 || r.Len() != 0 {
		t.Fatalf("key 6 seen %d times, %d bytes left", seen, r.Len())
	}
	// A malformed trace is text all the same: the envelope decodes, and the
	// reader leaves the value to ValidTraceparent.
	bad := (&Request{Method: "m", Trace: "not a trace"}).AppendTo(nil)
	if err := q.Decode(bad); err != nil || ValidTraceparent(q.Trace) {
		t.Fatalf("Decode = %v, trace %q", err, q.Trace)
	}
	// A trace that is not text is malformed, as for any known key.
	wantCBORError(t, q.Decode(unhex(t, "a3 0100 02616d 0601")), "request key 6")
}
