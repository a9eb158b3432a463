package abi

import (
	"math"
	"testing"
)

// Tests of the timer and reminder envelopes (timer_set, reminder_set,
// timer_cancel and reminder_cancel), with the same checks as the other
// envelopes: exact encodings, round trips, unknown keys, wrong types,
// trailing bytes, truncation and resetting.

func sameTimer(a, b *Timer) bool {
	return a.Name == b.Name && a.DueMS == b.DueMS && a.PeriodMS == b.PeriodMS && a.Method == b.Method &&
		sameBytes(a.Payload, b.Payload)
}

func sameReminder(a, b *Reminder) bool {
	return a.Name == b.Name && a.InMS == b.InMS && a.AtUnixMS == b.AtUnixMS && a.EveryMS == b.EveryMS &&
		a.FirstMS == b.FirstMS && a.Cron == b.Cron && a.Method == b.Method && sameBytes(a.Payload, b.Payload) &&
		a.Missed == b.Missed
}

func sameCancel(a, b *Cancel) bool { return *a == *b }

func TestTimerRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Timer
		want string
	}{
		{"periodic", Timer{Name: "tick", DueMS: 1000, PeriodMS: 1000, Method: "tick"},
			"a4 01 647469636b 02 1903e8 03 1903e8 04 647469636b"},
		{"minimal", Timer{Name: "t", Method: "m"}, "a2 01 6174 04 616d"},
		{"empty payload", Timer{Name: "t", DueMS: 1, PeriodMS: 2, Method: "m", Payload: []byte{}},
			"a5 01 6174 02 01 03 02 04 616d 05 40"},
		{"payload", Timer{Name: "t", Method: "m", Payload: samplePayload},
			"a3 01 6174 04 616d 05 4a a166616d6f756e741864"},
		{"max", Timer{Name: "t", DueMS: math.MaxUint64, PeriodMS: math.MaxUint64, Method: "m"},
			"a4 01 6174 02 1bffffffffffffffff 03 1bffffffffffffffff 04 616d"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got Timer
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameTimer(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestReminderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Reminder
		want string
	}{
		{"in", Reminder{Name: "alarm", InMS: 1500, Method: "ring"},
			"a3 01 65616c61726d 02 1905dc 07 6472696e67"},
		{"at", Reminder{Name: "r", AtUnixMS: 1767225600000, Method: "m"},
			"a3 01 6172 03 1b0000019b76daa800 07 616d"},
		{"every", Reminder{Name: "r", EveryMS: 60000, FirstMS: 5000, Method: "m", Payload: AppendUint(nil, 7)},
			"a5 01 6172 04 19ea60 05 191388 07 616d 08 4107"},
		{"cron", Reminder{Name: "daily", Cron: "0 9 * * *", Method: "report", Missed: MissedSkip},
			"a4 01 656461696c79 06 69302039202a202a202a 07 667265706f7274 09 64736b6970"},
		{"minimal", Reminder{Name: "r", Method: "m"}, "a2 01 6172 07 616d"},
		{"all keys", Reminder{Name: "r", InMS: 1, AtUnixMS: 2, EveryMS: 3, FirstMS: 4, Cron: "c", Method: "m", Payload: []byte{}, Missed: "x"},
			"a9 01 6172 02 01 03 02 04 03 05 04 06 6163 07 616d 08 40 09 6178"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got Reminder
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameReminder(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestCancelRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		in   Cancel
		want string
	}{
		{Cancel{Name: "tick"}, "a1 01 647469636b"},
		{Cancel{}, "a1 01 60"},
	} {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.in.Name, b, tt.want)
		var got Cancel
		if err := got.Decode(b); err != nil || got != tt.in {
			t.Errorf("%q: round trip = %+v, %v", tt.in.Name, got, err)
		}
	}
}

// scheduleDecoders decode the new envelopes by name, as the errors name them.
var scheduleDecoders = map[string]func(p []byte) error{
	"timer":    func(p []byte) error { return new(Timer).Decode(p) },
	"reminder": func(p []byte) error { return new(Reminder).Decode(p) },
	"cancel":   func(p []byte) error { return new(Cancel).Decode(p) },
}

func TestScheduleEnvelopeErrors(t *testing.T) {
	wrongTypes := map[string]map[uint64]string{
		"timer":    {1: "4161", 2: "20", 3: "6161", 4: "01", 5: "6161"},
		"reminder": {1: "01", 2: "20", 3: "6161", 4: "f6", 5: "4161", 6: "01", 7: "4161", 8: "6161", 9: "01"},
		"cancel":   {1: "4161"},
	}
	for name, decode := range scheduleDecoders {
		for key, v := range wrongTypes[name] {
			p := append(AppendUint(AppendMapHeader(nil, 1), key), unhex(t, v)...)
			wantCBORError(t, decode(p), "cbor: "+name+" key ", "expected")
		}
		for _, tc := range []struct{ in, why string }{
			{"", "unexpected end of input"},
			{"80", "expected map, found array"},
			{"a1 6161 00", "expected unsigned integer, found text string"},
			{"a2 01", "map longer than the input"},
			{"a0 00", "trailing bytes after the map"},
			{"a0 ff", "trailing bytes after the map"},
			{"bf ff", "indefinite-length"},
			{"a1 00 9f ff", "indefinite-length"},
		} {
			wantCBORError(t, decode(unhex(t, tc.in)), "cbor: "+name, tc.why)
		}
	}
}

func TestScheduleEnvelopesSkipUnknownKeys(t *testing.T) {
	timer := Timer{Name: "t", DueMS: 5, PeriodMS: 6, Method: "m", Payload: []byte{1}}
	rem := Reminder{Name: "r", EveryMS: 7, FirstMS: 1, Method: "m", Payload: []byte{2}, Missed: MissedSkip}
	for _, v := range unknownValues {
		var gotT Timer
		p := append(timer.AppendTo(nil)[:0:0], 0xa6)
		p = append(p, timer.AppendTo(nil)[1:]...)
		p = append(append(p, AppendUint(nil, 99)...), unhex(t, v)...)
		if err := gotT.Decode(p); err != nil || !sameTimer(&gotT, &timer) {
			t.Errorf("timer with unknown key 99 = %s: %+v, %v", v, gotT, err)
		}
		var gotR Reminder
		enc := rem.AppendTo(nil)
		p = append([]byte{enc[0] + 1}, enc[1:]...)
		p = append(append(p, AppendUint(nil, 10)...), unhex(t, v)...)
		if err := gotR.Decode(p); err != nil || !sameReminder(&gotR, &rem) {
			t.Errorf("reminder with unknown key 10 = %s: %+v, %v", v, gotR, err)
		}
		var gotC Cancel
		p = append(append(unhex(t, "a2 01 6163"), AppendUint(nil, 2)...), unhex(t, v)...)
		if err := gotC.Decode(p); err != nil || gotC.Name != "c" {
			t.Errorf("cancel with unknown key 2 = %s: %+v, %v", v, gotC, err)
		}
	}
}

func TestScheduleEnvelopesTruncated(t *testing.T) {
	for name, b := range map[string][]byte{
		"timer":    (&Timer{Name: "t", DueMS: 300, PeriodMS: 70000, Method: "m", Payload: samplePayload}).AppendTo(nil),
		"reminder": (&Reminder{Name: "r", EveryMS: 300, FirstMS: 5, Cron: "c", Method: "m", Payload: samplePayload, Missed: "skip"}).AppendTo(nil),
		"cancel":   (&Cancel{Name: "name"}).AppendTo(nil),
	} {
		for i := 0; i < len(b); i++ {
			if scheduleDecoders[name](b[:i]) == nil {
				t.Errorf("%s prefix %x decoded", name, b[:i])
			}
		}
	}
}

func TestScheduleDecodeResets(t *testing.T) {
	tm := Timer{Name: "t", DueMS: 1, PeriodMS: 2, Method: "m", Payload: []byte{1}}
	if err := tm.Decode(unhex(t, "a0")); err != nil || !sameTimer(&tm, &Timer{}) {
		t.Errorf("Timer.Decode kept old fields: %+v, %v", tm, err)
	}
	r := Reminder{Name: "r", InMS: 1, AtUnixMS: 2, EveryMS: 3, FirstMS: 4, Cron: "c", Method: "m", Payload: []byte{1}, Missed: "skip"}
	if err := r.Decode(unhex(t, "a0")); err != nil || !sameReminder(&r, &Reminder{}) {
		t.Errorf("Reminder.Decode kept old fields: %+v, %v", r, err)
	}
	c := Cancel{Name: "x"}
	if err := c.Decode(unhex(t, "a0")); err != nil || c != (Cancel{}) {
		t.Errorf("Cancel.Decode kept old fields: %+v, %v", c, err)
	}
}

func FuzzTimerDecode(f *testing.F) {
	addSeeds(f,
		(&Timer{Name: "tick", DueMS: 1000, PeriodMS: 1000, Method: "tick"}).AppendTo(nil),
		(&Timer{Name: "t", Method: "m", Payload: []byte{}}).AppendTo(nil),
		(&Timer{DueMS: math.MaxUint64}).AppendTo(nil),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Timer).Decode, func(v *Timer) []byte { return v.AppendTo(nil) }, sameTimer)
	})
}

func FuzzReminderDecode(f *testing.F) {
	addSeeds(f,
		(&Reminder{Name: "alarm", InMS: 1500, Method: "ring"}).AppendTo(nil),
		(&Reminder{Name: "daily", Cron: "0 9 * * *", Method: "report", Missed: MissedSkip}).AppendTo(nil),
		(&Reminder{Name: "r", EveryMS: 60000, FirstMS: 5000, Method: "m", Payload: []byte{7}}).AppendTo(nil),
		(&Reminder{Name: "r", InMS: 1, AtUnixMS: 2, EveryMS: 3, FirstMS: 4, Cron: "c", Method: "m", Payload: []byte{}, Missed: "x"}).AppendTo(nil),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Reminder).Decode, func(v *Reminder) []byte { return v.AppendTo(nil) }, sameReminder)
	})
}

func FuzzCancelDecode(f *testing.F) {
	addSeeds(f, (&Cancel{Name: "tick"}).AppendTo(nil), (&Cancel{}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Cancel).Decode, func(v *Cancel) []byte { return v.AppendTo(nil) }, sameCancel)
	})
}
