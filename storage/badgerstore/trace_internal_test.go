package badgerstore

import (
	"bytes"
	"testing"
	"time"
)

const testTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// Records written before trace contexts were kept (format 1) still read,
// and a record without a trace is still written in format 1, byte for byte
// as before, so that tracing off changes nothing on disk.
func TestMessageFormats(t *testing.T) {
	// format 1: target "t/1", sender "", method "m", key "k", payload 00 01
	v1 := []byte{1, 3, 't', '/', '1', 0, 1, 'm', 1, 'k', 0, 1}
	m, err := decodeMessage("id", v1)
	if err != nil || m.Target != "t/1" || m.Sender != "" || m.Method != "m" || m.Key != "k" || m.Trace != "" || !bytes.Equal(m.Payload, []byte{0, 1}) {
		t.Fatalf("format 1 decoded as %+v, %v", m, err)
	}
	if enc := encodeMessage(m); !bytes.Equal(enc, v1) {
		t.Fatalf("untraced message encoded as %x, want format 1 %x", enc, v1)
	}
	m.Trace = testTrace
	enc := encodeMessage(m)
	want := append([]byte{2, 3, 't', '/', '1', 0, 1, 'm', 1, 'k', byte(len(testTrace))}, testTrace...)
	want = append(want, 0, 1)
	if !bytes.Equal(enc, want) {
		t.Fatalf("traced message encoded as %x, want %x", enc, want)
	}
	got, err := decodeMessage("id", enc)
	if err != nil || got.Trace != testTrace || !bytes.Equal(got.Payload, []byte{0, 1}) || got.Key != "k" {
		t.Fatalf("format 2 decoded as %+v, %v", got, err)
	}
	for i := range enc[:len(enc)-2] { // cut inside a field
		if _, err := decodeMessage("id", enc[:i]); err == nil {
			t.Errorf("decodeMessage(%x): got no error", enc[:i])
		}
	}
	if _, err := decodeMessage("id", append([]byte{3}, enc[1:]...)); err == nil {
		t.Error("format 3: got no error")
	}
}

func TestReminderFormats(t *testing.T) {
	due := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	key := dueKey(encodeDue(due), "r/1", "a")
	// format 1: method "m", missed "skip", schedule 05, payload 07
	v1 := []byte{1, 1, 'm', 4, 's', 'k', 'i', 'p', 1, 5, 7}
	r, err := decodeReminder(key, v1)
	if err != nil || r.Actor != "r/1" || r.Name != "a" || r.Method != "m" || r.Missed != "skip" ||
		!bytes.Equal(r.Schedule, []byte{5}) || !bytes.Equal(r.Payload, []byte{7}) || r.Trace != "" || !r.Due.Equal(due) {
		t.Fatalf("format 1 decoded as %+v, %v", r, err)
	}
	if enc := encodeReminder(r); !bytes.Equal(enc, v1) {
		t.Fatalf("untraced reminder encoded as %x, want format 1 %x", enc, v1)
	}
	r.Trace = testTrace
	enc := encodeReminder(r)
	if enc[0] != 2 {
		t.Fatalf("traced reminder in format %d", enc[0])
	}
	got, err := decodeReminder(key, enc)
	if err != nil || got.Trace != testTrace || got.Method != "m" || !bytes.Equal(got.Payload, []byte{7}) || !bytes.Equal(got.Schedule, []byte{5}) {
		t.Fatalf("format 2 decoded as %+v, %v", got, err)
	}
	for i := range enc[:len(enc)-1] {
		if _, err := decodeReminder(key, enc[:i]); err == nil {
			t.Errorf("decodeReminder(%x): got no error", enc[:i])
		}
	}
}
