package natsstore

import (
	"math"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
)

// TestCodecRoundTrip encodes values at the edges and reads them back.
func TestCodecRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 63, -64, math.MaxInt64, math.MinInt64} {
		d := &dec{b: enc(nil).int(n)}
		if got := d.int(); got != n || d.done("int") != nil {
			t.Errorf("int %d read back as %d (%v)", n, got, d.err)
		}
	}
	r := storage.Reminder{Actor: "a/\\x00", Name: "", Payload: []byte{}, Due: time.Date(1960, 1, 1, 0, 0, 0, 7, time.UTC), Trace: "t"}
	got, err := decodeReminder(encodeReminder(r))
	if err != nil || got.Actor != r.Actor || !got.Due.Equal(r.Due) || got.Trace != "t" {
		t.Errorf("reminder read back as %+v, %v", got, err)
	}
	if _, err := decodeReminder(encodeReminder(r)[:5]); err == nil {
		t.Error("a cut reminder decoded")
	}
	for _, s := range []string{"", "a/b", "\\x00\\xff", "ünï.*>"} {
		if back, err := untoken(token(s)); err != nil || back != s {
			t.Errorf("token %q read back as %q, %v", s, back, err)
		}
	}
}

// FuzzDecode feeds the decoders bytes that JetStream may hand back: they
// fail with an error, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(encodeReminder(storage.Reminder{Actor: "a", Name: "n"}))
	f.Add(encodeDeadLetter(storage.DeadLetter{Message: storage.Message{ID: "m"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeReminder(b)
		_, _ = decodeMessage(b)
		_, _ = decodeDeadLetter(b)
		_, _ = decodeStats(b)
		_, _ = decodeRecord(b)
		_, _ = decodeLease(b)
	})
}
