package abicheck

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/wactor/wactor/abi"
)

// Mirrors of the abi envelopes for fxamacker, with the same integer keys and
// the same rules for optional keys: byte fields are left out only when nil
// (omitzero), text and number fields when empty or zero (omitempty).

type fxRequest struct {
	Kind    uint64 `cbor:"1,keyasint"`
	Method  string `cbor:"2,keyasint"`
	Payload []byte `cbor:"3,keyasint,omitzero"`
	Sender  string `cbor:"4,keyasint,omitempty"`
	ID      string `cbor:"5,keyasint,omitempty"`
	Trace   string `cbor:"6,keyasint,omitempty"`
}

type fxReply struct {
	Payload []byte `cbor:"1,keyasint,omitzero"`
	Code    string `cbor:"2,keyasint,omitempty"`
	Message string `cbor:"3,keyasint,omitempty"`
}

type fxCall struct {
	Target    string `cbor:"1,keyasint"`
	Method    string `cbor:"2,keyasint"`
	Payload   []byte `cbor:"3,keyasint,omitzero"`
	TimeoutMS uint64 `cbor:"4,keyasint,omitempty"`
}

type fxStateOp struct {
	Key   string `cbor:"1,keyasint"`
	Value []byte `cbor:"2,keyasint,omitzero"`
}

type fxLogRecord struct {
	Level   int64  `cbor:"1,keyasint"`
	Message string `cbor:"2,keyasint"`
}

type fxTimer struct {
	Name     string `cbor:"1,keyasint"`
	DueMS    uint64 `cbor:"2,keyasint,omitempty"`
	PeriodMS uint64 `cbor:"3,keyasint,omitempty"`
	Method   string `cbor:"4,keyasint"`
	Payload  []byte `cbor:"5,keyasint,omitzero"`
}

type fxReminder struct {
	Name     string `cbor:"1,keyasint"`
	InMS     uint64 `cbor:"2,keyasint,omitempty"`
	AtUnixMS uint64 `cbor:"3,keyasint,omitempty"`
	EveryMS  uint64 `cbor:"4,keyasint,omitempty"`
	FirstMS  uint64 `cbor:"5,keyasint,omitempty"`
	Cron     string `cbor:"6,keyasint,omitempty"`
	Method   string `cbor:"7,keyasint"`
	Payload  []byte `cbor:"8,keyasint,omitzero"`
	Missed   string `cbor:"9,keyasint,omitempty"`
}

type fxCancel struct {
	Name string `cbor:"1,keyasint"`
}

type fxError struct {
	Code    string `cbor:"1,keyasint"`
	Message string `cbor:"2,keyasint"`
}

var (
	// encDet is RFC 8949 core deterministic encoding with floats always
	// written as doubles, which is what the abi writers produce.
	// (fxamacker writes infinities as halves unless told not to.)
	encDet = mustEncMode(cbor.EncOptions{Sort: cbor.SortCoreDeterministic, ShortestFloat: cbor.ShortestFloatNone,
		InfConvert: cbor.InfConvertNone})
	// encShort writes floats in the shortest of half, single and double
	// that keeps the value, and keys unsorted, to exercise the abi readers.
	encShort = mustEncMode(cbor.EncOptions{ShortestFloat: cbor.ShortestFloat16})
	// encShortSorted is encShort with sorted keys, for inputs that must not
	// depend on Go's map iteration order.
	encShortSorted = mustEncMode(cbor.EncOptions{ShortestFloat: cbor.ShortestFloat16, Sort: cbor.SortCoreDeterministic})
	// decStd decodes maps into map[any]any and integers into uint64/int64.
	decStd = mustDecMode(cbor.DecOptions{MaxNestedLevels: 1000})
	// decWF checks well-formedness by abi's rules: no indefinite lengths,
	// and no limits on nesting or container sizes beyond the input's length.
	decWF = mustDecMode(cbor.DecOptions{
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  65535,
		MaxArrayElements: 2147483647,
		MaxMapPairs:      2147483647,
	})
)

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

// ---- random values ----

func randText(r *rand.Rand) string {
	alphabet := []string{"a", "b", "z", "/", " ", "0", "\u00fc", "\u20ac", "\u2603", "\U0001F600", "\x00"}
	var sb strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		sb.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	if r.IntN(20) == 0 { // past the one-byte length
		sb.WriteString(strings.Repeat("x", 24+r.IntN(300)))
	}
	return sb.String()
}

// randBytes returns nil (an absent optional field) one time in four.
func randBytes(r *rand.Rand, allowNil bool) []byte {
	if allowNil && r.IntN(4) == 0 {
		return nil
	}
	n := r.IntN(8)
	switch r.IntN(50) { // lengths around each head width
	case 0, 1, 2, 3, 4:
		n = 23 + r.IntN(3)
	case 5, 6, 7:
		n = 250 + r.IntN(10)
	case 8:
		n = 65530 + r.IntN(10)
	}
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// randUint returns numbers near every head-width boundary.
func randUint(r *rand.Rand) uint64 {
	edges := []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64, math.MaxUint64}
	switch r.IntN(3) {
	case 0:
		return edges[r.IntN(len(edges))]
	case 1:
		return edges[r.IntN(len(edges))] - uint64(r.IntN(3)) + 1
	}
	return r.Uint64() >> r.IntN(64)
}

func randInt(r *rand.Rand) int64 {
	v := int64(randUint(r) >> 1)
	if r.IntN(2) == 0 {
		return -1 - v
	}
	return v
}

func randRequest(r *rand.Rand) abi.Request {
	return abi.Request{Kind: abi.RequestKind(r.IntN(3)), Method: randText(r), Payload: randBytes(r, true),
		Sender: randText(r), ID: randText(r), Trace: randText(r)}
}

func randReply(r *rand.Rand) abi.Reply {
	return abi.Reply{Payload: randBytes(r, true), Code: randText(r), Message: randText(r)}
}

func randCall(r *rand.Rand) abi.Call {
	c := abi.Call{Target: randText(r), Method: randText(r), Payload: randBytes(r, true)}
	if r.IntN(2) == 0 {
		c.TimeoutMS = randUint(r)
	}
	return c
}

func randStateOp(r *rand.Rand) abi.StateOp {
	return abi.StateOp{Key: randText(r), Value: randBytes(r, true)}
}

func randLogRecord(r *rand.Rand) abi.LogRecord {
	return abi.LogRecord{Level: randInt(r), Message: randText(r)}
}

func randError(r *rand.Rand) abi.Error {
	return abi.Error{Code: "c" + randText(r), Message: randText(r)}
}

func randTimer(r *rand.Rand) abi.Timer {
	t := abi.Timer{Name: randText(r), Method: randText(r), Payload: randBytes(r, true)}
	if r.IntN(2) == 0 {
		t.DueMS = randUint(r)
	}
	if r.IntN(2) == 0 {
		t.PeriodMS = randUint(r)
	}
	return t
}

func randReminder(r *rand.Rand) abi.Reminder {
	m := abi.Reminder{Name: randText(r), Method: randText(r), Payload: randBytes(r, true)}
	switch r.IntN(5) {
	case 0:
		m.InMS = randUint(r)
	case 1:
		m.AtUnixMS = randUint(r)
	case 2:
		m.EveryMS, m.FirstMS = randUint(r), randUint(r)
	case 3:
		m.Cron = randText(r)
	}
	if r.IntN(2) == 0 {
		m.Missed = randText(r)
	}
	return m
}

func randCancel(r *rand.Rand) abi.Cancel { return abi.Cancel{Name: randText(r)} }

// Conversions between the abi envelopes and their fxamacker mirrors.

func toFxRequest(q abi.Request) fxRequest {
	return fxRequest{uint64(q.Kind), q.Method, q.Payload, q.Sender, q.ID, q.Trace}
}
func toFxReply(y abi.Reply) fxReply { return fxReply(y) }
func toFxCall(c abi.Call) fxCall    { return fxCall(c) }
func toFxStateOp(s abi.StateOp) fxStateOp {
	return fxStateOp(s)
}
func toFxLogRecord(l abi.LogRecord) fxLogRecord { return fxLogRecord(l) }
func toFxError(e abi.Error) fxError             { return fxError(e) }
func toFxTimer(t abi.Timer) fxTimer             { return fxTimer(t) }
func toFxReminder(m abi.Reminder) fxReminder    { return fxReminder(m) }
func toFxCancel(c abi.Cancel) fxCancel          { return fxCancel(c) }

// sameBytes compares content and presence (nil means the key was absent).
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// ---- envelopes, abi -> fxamacker and fxamacker -> abi ----

// envelopeCase ties one envelope type to its mirror for the generic checks.
type envelopeCase[A, F any] struct {
	name     string
	random   func(*rand.Rand) A
	encode   func(*A) []byte
	decode   func(*A, []byte) error
	toFx     func(A) F
	same     func(a, b A) bool
	sameFx   func(a, b F) bool
	examples []A
	maxKey   uint64 // the highest key the envelope has; 0 means 5
}

func (ec envelopeCase[A, F]) run(t *testing.T) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, uint64(len(ec.name))))
	maxKey := ec.maxKey
	if maxKey == 0 {
		maxKey = 5
	}
	values := append([]A(nil), ec.examples...)
	for i := 0; i < 1000; i++ {
		values = append(values, ec.random(r))
	}
	for _, v := range values {
		ours := ec.encode(&v)
		fx := ec.toFx(v)

		// Byte for byte: abi's encoding is fxamacker's deterministic one.
		theirs, err := encDet.Marshal(fx)
		if err != nil {
			t.Fatalf("%s: fxamacker Marshal(%s): %v", ec.name, short(fx), err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("%s %s:\nabi       %s\nfxamacker %s", ec.name, short(v), short(ours), short(theirs))
		}

		// abi -> fxamacker.
		var gotFx F
		if err := decStd.Unmarshal(ours, &gotFx); err != nil {
			t.Fatalf("%s: fxamacker cannot decode abi's %s: %v", ec.name, short(ours), err)
		}
		if !ec.sameFx(gotFx, fx) {
			t.Fatalf("%s: fxamacker decoded abi's %s to %s, want %s", ec.name, short(ours), short(gotFx), short(fx))
		}
		var asMap map[uint64]any
		if err := decStd.Unmarshal(ours, &asMap); err != nil {
			t.Fatalf("%s: fxamacker cannot decode abi's %s into a map: %v", ec.name, short(ours), err)
		}
		for k := range asMap {
			if k < 1 || k > maxKey {
				t.Fatalf("%s: abi wrote unexpected key %d", ec.name, k)
			}
		}

		// fxamacker -> abi, with fxamacker's own choice of key order.
		theirs, err = encShort.Marshal(fx)
		if err != nil {
			t.Fatal(err)
		}
		var got A
		if err := ec.decode(&got, theirs); err != nil {
			t.Fatalf("%s: abi cannot decode fxamacker's %s: %v", ec.name, short(theirs), err)
		}
		if !ec.same(got, v) {
			t.Fatalf("%s: abi decoded fxamacker's %s to %s, want %s", ec.name, short(theirs), short(got), short(v))
		}

		// fxamacker -> abi with unknown keys around the known ones, in
		// random order (Go's map iteration), including nested containers.
		extended := map[uint64]any{}
		if err := decStd.Unmarshal(ours, &extended); err != nil {
			t.Fatal(err)
		}
		for i := r.IntN(4); i > 0; i-- {
			extended[maxKey+1+r.Uint64N(1<<40)] = randValue(r, 3)
		}
		extended[0] = randValue(r, 3)
		theirs, err = encShort.Marshal(extended)
		if err != nil {
			t.Fatal(err)
		}
		if err := ec.decode(&got, theirs); err != nil {
			t.Fatalf("%s: abi cannot decode fxamacker's %s with unknown keys: %v", ec.name, short(theirs), err)
		}
		if !ec.same(got, v) {
			t.Fatalf("%s: abi decoded fxamacker's %s to %s, want %s", ec.name, short(theirs), short(got), short(v))
		}
	}
}

func TestEnvelopesCrossCheck(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		envelopeCase[abi.Request, fxRequest]{
			name: "request", random: randRequest, toFx: toFxRequest, maxKey: 6,
			encode: func(q *abi.Request) []byte { return q.AppendTo(nil) },
			decode: (*abi.Request).Decode,
			same: func(a, b abi.Request) bool {
				return a.Kind == b.Kind && a.Method == b.Method && sameBytes(a.Payload, b.Payload) && a.Sender == b.Sender && a.ID == b.ID && a.Trace == b.Trace
			},
			sameFx: func(a, b fxRequest) bool {
				return a.Kind == b.Kind && a.Method == b.Method && sameBytes(a.Payload, b.Payload) && a.Sender == b.Sender && a.ID == b.ID && a.Trace == b.Trace
			},
			examples: []abi.Request{{}, {Kind: abi.KindActivate}, {Method: "m", Payload: []byte{}},
				{Kind: abi.KindMessage, Method: "deposit", Payload: []byte{0x18, 0x64}, Sender: "bank/alice", ID: "m-1"},
				{Method: "m", ID: "x", Trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		}.run(t)
	})
	t.Run("reply", func(t *testing.T) {
		envelopeCase[abi.Reply, fxReply]{
			name: "reply", random: randReply, toFx: toFxReply,
			encode: func(y *abi.Reply) []byte { return y.AppendTo(nil) },
			decode: (*abi.Reply).Decode,
			same: func(a, b abi.Reply) bool {
				return sameBytes(a.Payload, b.Payload) && a.Code == b.Code && a.Message == b.Message
			},
			sameFx: func(a, b fxReply) bool {
				return sameBytes(a.Payload, b.Payload) && a.Code == b.Code && a.Message == b.Message
			},
			examples: []abi.Reply{{}, {Payload: []byte{}}, {Code: "insufficient_funds", Message: "balance 5"}},
		}.run(t)
	})
	t.Run("call", func(t *testing.T) {
		envelopeCase[abi.Call, fxCall]{
			name: "call", random: randCall, toFx: toFxCall,
			encode: func(c *abi.Call) []byte { return c.AppendTo(nil) },
			decode: (*abi.Call).Decode,
			same: func(a, b abi.Call) bool {
				return a.Target == b.Target && a.Method == b.Method && sameBytes(a.Payload, b.Payload) && a.TimeoutMS == b.TimeoutMS
			},
			sameFx: func(a, b fxCall) bool {
				return a.Target == b.Target && a.Method == b.Method && sameBytes(a.Payload, b.Payload) && a.TimeoutMS == b.TimeoutMS
			},
			examples: []abi.Call{{}, {Target: "a/b", Method: "m", TimeoutMS: math.MaxUint64}},
		}.run(t)
	})
	t.Run("state op", func(t *testing.T) {
		envelopeCase[abi.StateOp, fxStateOp]{
			name: "state op", random: randStateOp, toFx: toFxStateOp,
			encode:   func(s *abi.StateOp) []byte { return s.AppendTo(nil) },
			decode:   (*abi.StateOp).Decode,
			same:     func(a, b abi.StateOp) bool { return a.Key == b.Key && sameBytes(a.Value, b.Value) },
			sameFx:   func(a, b fxStateOp) bool { return a.Key == b.Key && sameBytes(a.Value, b.Value) },
			examples: []abi.StateOp{{}, {Key: "k", Value: []byte{}}},
		}.run(t)
	})
	t.Run("log record", func(t *testing.T) {
		envelopeCase[abi.LogRecord, fxLogRecord]{
			name: "log record", random: randLogRecord, toFx: toFxLogRecord,
			encode:   func(l *abi.LogRecord) []byte { return l.AppendTo(nil) },
			decode:   (*abi.LogRecord).Decode,
			same:     func(a, b abi.LogRecord) bool { return a == b },
			sameFx:   func(a, b fxLogRecord) bool { return a == b },
			examples: []abi.LogRecord{{}, {Level: math.MinInt64}, {Level: math.MaxInt64, Message: "m"}},
		}.run(t)
	})
	t.Run("error", func(t *testing.T) {
		envelopeCase[abi.Error, fxError]{
			name: "error", random: randError, toFx: toFxError,
			encode: func(e *abi.Error) []byte { return abi.AppendError(nil, e) },
			decode: func(e *abi.Error, p []byte) error {
				got, err := abi.DecodeError(p)
				*e = *got
				return err
			},
			same:     func(a, b abi.Error) bool { return a == b },
			sameFx:   func(a, b fxError) bool { return a == b },
			examples: []abi.Error{{Code: abi.CodeTimeout, Message: "no reply"}},
		}.run(t)
	})
	t.Run("timer", func(t *testing.T) {
		envelopeCase[abi.Timer, fxTimer]{
			name: "timer", random: randTimer, toFx: toFxTimer,
			encode: func(v *abi.Timer) []byte { return v.AppendTo(nil) },
			decode: (*abi.Timer).Decode,
			same: func(a, b abi.Timer) bool {
				return a.Name == b.Name && a.DueMS == b.DueMS && a.PeriodMS == b.PeriodMS && a.Method == b.Method && sameBytes(a.Payload, b.Payload)
			},
			sameFx: func(a, b fxTimer) bool {
				return a.Name == b.Name && a.DueMS == b.DueMS && a.PeriodMS == b.PeriodMS && a.Method == b.Method && sameBytes(a.Payload, b.Payload)
			},
			examples: []abi.Timer{{}, {Name: "tick", DueMS: 1000, PeriodMS: 1000, Method: "tick", Payload: []byte{}}},
		}.run(t)
	})
	t.Run("reminder", func(t *testing.T) {
		same := func(a, b abi.Reminder) bool {
			return a.Name == b.Name && a.InMS == b.InMS && a.AtUnixMS == b.AtUnixMS && a.EveryMS == b.EveryMS &&
				a.FirstMS == b.FirstMS && a.Cron == b.Cron && a.Method == b.Method && sameBytes(a.Payload, b.Payload) && a.Missed == b.Missed
		}
		envelopeCase[abi.Reminder, fxReminder]{
			name: "reminder", random: randReminder, toFx: toFxReminder, maxKey: 9,
			encode: func(v *abi.Reminder) []byte { return v.AppendTo(nil) },
			decode: (*abi.Reminder).Decode,
			same:   same,
			sameFx: func(a, b fxReminder) bool { return same(abi.Reminder(a), abi.Reminder(b)) },
			examples: []abi.Reminder{{}, {Name: "daily", Cron: "0 9 * * *", Method: "report", Missed: abi.MissedSkip},
				{Name: "r", InMS: 1, AtUnixMS: 2, EveryMS: 3, FirstMS: 4, Cron: "c", Method: "m", Payload: []byte{}, Missed: "x"}},
		}.run(t)
	})
	t.Run("cancel", func(t *testing.T) {
		envelopeCase[abi.Cancel, fxCancel]{
			name: "cancel", random: randCancel, toFx: toFxCancel, maxKey: 1,
			encode:   func(v *abi.Cancel) []byte { return v.AppendTo(nil) },
			decode:   (*abi.Cancel).Decode,
			same:     func(a, b abi.Cancel) bool { return a == b },
			sameFx:   func(a, b fxCancel) bool { return a == b },
			examples: []abi.Cancel{{}, {Name: "tick"}},
		}.run(t)
	})
}

// TestEnvelopeKeyTypes checks that both codecs reject, or both accept, an
// envelope whose value has the wrong CBOR type for its key.
func TestEnvelopeKeyTypes(t *testing.T) {
	wrong := map[string][]any{
		"text":  {uint64(1), int64(-1), []byte("x"), []any{}, map[any]any{}, true, 1.5},
		"bytes": {uint64(1), "x", []any{"x"}, map[any]any{}, false, 1.5},
		"uint":  {"x", []byte("x"), int64(-1), []any{}, 1.5},
	}
	check := func(name string, key uint64, kind string, decode func([]byte) error, fx any) {
		for _, v := range wrong[kind] {
			p, err := cbor.Marshal(map[uint64]any{key: v})
			if err != nil {
				t.Fatal(err)
			}
			abiErr := decode(p)
			if abiErr == nil || !strings.Contains(abiErr.Error(), name) {
				t.Errorf("%s key %d = %T: abi error %v, want one naming %q", name, key, v, abiErr, name)
			}
			if err := cbor.Unmarshal(p, fx); err == nil {
				t.Errorf("%s key %d = %T: fxamacker accepted it", name, key, v)
			}
		}
	}
	req := func(p []byte) error { return new(abi.Request).Decode(p) }
	check("request", 1, "uint", req, new(fxRequest))
	check("request", 2, "text", req, new(fxRequest))
	check("request", 3, "bytes", req, new(fxRequest))
	call := func(p []byte) error { return new(abi.Call).Decode(p) }
	check("call", 1, "text", call, new(fxCall))
	check("call", 3, "bytes", call, new(fxCall))
	check("call", 4, "uint", call, new(fxCall))
	rep := func(p []byte) error { return new(abi.Reply).Decode(p) }
	check("reply", 1, "bytes", rep, new(fxReply))
	check("reply", 2, "text", rep, new(fxReply))
	op := func(p []byte) error { return new(abi.StateOp).Decode(p) }
	check("state operation", 1, "text", op, new(fxStateOp))
	check("state operation", 2, "bytes", op, new(fxStateOp))
	lr := func(p []byte) error { return new(abi.LogRecord).Decode(p) }
	check("log record", 2, "text", lr, new(fxLogRecord))
	tm := func(p []byte) error { return new(abi.Timer).Decode(p) }
	check("timer", 1, "text", tm, new(fxTimer))
	check("timer", 2, "uint", tm, new(fxTimer))
	check("timer", 5, "bytes", tm, new(fxTimer))
	rm := func(p []byte) error { return new(abi.Reminder).Decode(p) }
	check("reminder", 3, "uint", rm, new(fxReminder))
	check("reminder", 6, "text", rm, new(fxReminder))
	check("reminder", 8, "bytes", rm, new(fxReminder))
	check("reminder", 9, "text", rm, new(fxReminder))
	cn := func(p []byte) error { return new(abi.Cancel).Decode(p) }
	check("cancel", 1, "text", cn, new(fxCancel))
}

// ---- generic values ----

// randValue returns a random value in the data model both codecs share when
// decoding into any: uint64, int64 (negative only), []byte, string, []any,
// map[any]any (keys uint64, int64 or string), float64, bool, nil and
// cbor.Tag. Slices are never nil, which fxamacker would write as null.
func randValue(r *rand.Rand, depth int) any {
	n := 10
	if depth > 0 {
		n = 13
	}
	switch r.IntN(n) {
	case 0:
		return randUint(r)
	case 1:
		return -1 - int64(randUint(r)>>1)
	case 2:
		return randBytes(r, false)
	case 3:
		return randText(r)
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6, 7:
		return randFloat(r)
	case 8:
		return randUint(r) & 0xff
	case 9:
		return "k"
	case 10:
		a := make([]any, r.IntN(5))
		if r.IntN(30) == 0 { // past the one-byte count, with flat items
			a = make([]any, 24+r.IntN(300))
			for i := range a {
				a[i] = randValue(r, 0)
			}
			return a
		}
		for i := range a {
			a[i] = randValue(r, depth-1)
		}
		return a
	case 11:
		m := map[any]any{}
		for i := r.IntN(5); i > 0; i-- {
			var k any
			switch r.IntN(3) {
			case 0:
				k = randUint(r)
			case 1:
				k = -1 - int64(randUint(r)>>1)
			default:
				k = randText(r)
			}
			m[k] = randValue(r, depth-1)
		}
		return m
	default:
		// Tag numbers that fxamacker decodes into cbor.Tag (not time,
		// bignum, self-described or other built-in conversions).
		nums := []uint64{100, 1000, 65536, 1 << 40, math.MaxUint64}
		return cbor.Tag{Number: nums[r.IntN(len(nums))], Content: randValue(r, depth-1)}
	}
}

func randFloat(r *rand.Rand) float64 {
	edges := []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 65504, 100000, 1.1, -4.1, 1e300,
		5.960464477539063e-8, 0.00006103515625, 3.4028234663852886e+38, math.SmallestNonzeroFloat64,
		math.MaxFloat64, math.Inf(1), math.Inf(-1)}
	if r.IntN(2) == 0 {
		return edges[r.IntN(len(edges))]
	}
	switch r.IntN(3) {
	case 0:
		return float64(float32(r.NormFloat64())) // exact as a single
	case 1:
		return float64(r.IntN(2048)) / 1024 // exact as a half
	}
	return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
}

// abiAppend writes v with the abi writers. Map keys are written in the
// order of their encodings (RFC 8949 core deterministic encoding).
func abiAppend(b []byte, v any) []byte {
	switch v := v.(type) {
	case uint64:
		return abi.AppendUint(b, v)
	case int64:
		return abi.AppendInt(b, v)
	case []byte:
		return abi.AppendBytes(b, v)
	case string:
		return abi.AppendText(b, v)
	case bool:
		return abi.AppendBool(b, v)
	case nil:
		return abi.AppendNull(b)
	case float64:
		return abi.AppendFloat(b, v)
	case []any:
		b = abi.AppendArrayHeader(b, len(v))
		for _, x := range v {
			b = abiAppend(b, x)
		}
		return b
	case map[any]any:
		type pair struct{ k, v []byte }
		pairs := make([]pair, 0, len(v))
		for k, x := range v {
			pairs = append(pairs, pair{abiAppend(nil, k), abiAppend(nil, x)})
		}
		slices.SortFunc(pairs, func(a, b pair) int { return bytes.Compare(a.k, b.k) })
		b = abi.AppendMapHeader(b, len(v))
		for _, p := range pairs {
			b = append(append(b, p.k...), p.v...)
		}
		return b
	case cbor.Tag:
		// The abi writers have no tag writer: write the head by hand.
		head := abi.AppendUint(nil, v.Number)
		head[0] |= 6 << 5
		return abiAppend(append(b, head...), v.Content)
	}
	panic(fmt.Sprintf("abiAppend: unexpected %T", v))
}

// abiRead reads one item with abi.Reader into the same data model.
func abiRead(r *abi.Reader) (any, error) {
	switch r.Kind() {
	case abi.KindUint:
		return r.ReadUint()
	case abi.KindNegInt:
		return r.ReadInt()
	case abi.KindBytes:
		p, err := r.ReadBytes()
		return bytes.Clone(p), err
	case abi.KindText:
		return r.ReadText()
	case abi.KindBool:
		return r.ReadBool()
	case abi.KindNull:
		return nil, r.ReadNull()
	case abi.KindFloat:
		return r.ReadFloat()
	case abi.KindArray:
		n, err := r.ReadArrayHeader()
		if err != nil {
			return nil, err
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = abiRead(r); err != nil {
				return nil, err
			}
		}
		return a, nil
	case abi.KindMap:
		n, err := r.ReadMapHeader()
		if err != nil {
			return nil, err
		}
		m := make(map[any]any, n)
		for i := 0; i < n; i++ {
			k, err := abiRead(r)
			if err != nil {
				return nil, err
			}
			if m[k], err = abiRead(r); err != nil {
				return nil, err
			}
		}
		return m, nil
	case abi.KindTag:
		// No tag reader either: take the head apart from the raw item.
		raw, err := r.Raw()
		if err != nil {
			return nil, err
		}
		head := bytes.Clone(raw)
		head[0] &^= 6 << 5
		hr := abi.NewReader(head)
		num, err := hr.ReadUint()
		if err != nil {
			return nil, err
		}
		content, err := abiRead(abi.NewReader(raw[hr.Offset():]))
		return cbor.Tag{Number: num, Content: content}, err
	}
	return nil, r.Skip()
}

func TestGenericValuesCrossCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 5000; i++ {
		v := randValue(r, 4)

		// abi -> fxamacker, and byte for byte against fxamacker.
		ours := abiAppend(nil, v)
		theirs, err := encDet.Marshal(v)
		if err != nil {
			t.Fatalf("fxamacker Marshal(%#v): %v", v, err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("value %s:\nabi       %s\nfxamacker %s", short(v), short(ours), short(theirs))
		}
		var got any
		if err := decStd.Unmarshal(ours, &got); err != nil {
			t.Fatalf("fxamacker cannot decode abi's %s: %v", short(ours), err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("fxamacker decoded abi's %s to %s, want %s", short(ours), short(got), short(v))
		}
		if err := abi.WellFormed(ours); err != nil {
			t.Fatalf("abi.WellFormed(%x) = %v", ours, err)
		}

		// fxamacker (half and single floats, unsorted maps) -> abi.
		theirs, err = encShort.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd := abi.NewReader(theirs)
		got, err = abiRead(rd)
		if err != nil || rd.Len() != 0 {
			t.Fatalf("abi cannot read fxamacker's %s: %v (%d bytes left)", short(theirs), err, rd.Len())
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("abi read fxamacker's %s as %s, want %s", short(theirs), short(got), short(v))
		}
		raw, err := abi.NewReader(theirs).Raw()
		if err != nil || !bytes.Equal(raw, theirs) {
			t.Fatalf("abi Raw(%x) = %x, %v", theirs, raw, err)
		}
	}
}

// short formats a value or encoding for a failure message, cut to a length
// a person can read.
func short(v any) string {
	var s string
	if p, ok := v.([]byte); ok {
		s = hex.EncodeToString(p)
	} else {
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > 400 {
		s = s[:400] + fmt.Sprintf("... (%d more)", len(s)-400)
	}
	return s
}

// TestIntegerWidths runs every head width of both integer major types
// through both codecs, including values that overflow int64.
func TestIntegerWidths(t *testing.T) {
	for _, u := range []uint64{0, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1,
		math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		ours := abi.AppendUint(nil, u)
		theirs, _ := cbor.Marshal(u)
		if !bytes.Equal(ours, theirs) {
			t.Errorf("uint %d: abi %x, fxamacker %x", u, ours, theirs)
		}
		var got uint64
		if err := cbor.Unmarshal(ours, &got); err != nil || got != u {
			t.Errorf("uint %d: fxamacker read %d, %v", u, got, err)
		}
		// The negative integer -1-u.
		neg := append([]byte{ours[0] | 1<<5}, ours[1:]...)
		var bi big.Int
		bi.SetUint64(u)
		bi.Neg(&bi).Sub(&bi, big.NewInt(1))
		if bi.IsInt64() {
			ours := abi.AppendInt(nil, bi.Int64())
			if !bytes.Equal(ours, neg) {
				t.Errorf("int %v: abi %x, want %x", &bi, ours, neg)
			}
			v, err := abi.NewReader(neg).ReadInt()
			var fx int64
			fxErr := cbor.Unmarshal(neg, &fx)
			if err != nil || fxErr != nil || v != bi.Int64() || fx != v {
				t.Errorf("int %v: abi %d, %v; fxamacker %d, %v", &bi, v, err, fx, fxErr)
			}
			continue
		}
		// Out of int64 range: both refuse an int64, fxamacker gives a
		// big.Int, abi reads it as a float.
		_, err := abi.NewReader(neg).ReadInt()
		var fx int64
		if err == nil || cbor.Unmarshal(neg, &fx) == nil {
			t.Errorf("int %v: abi error %v, fxamacker accepted %d", &bi, err, fx)
		}
		var fxBig big.Int
		if err := cbor.Unmarshal(neg, &fxBig); err != nil || fxBig.Cmp(&bi) != 0 {
			t.Errorf("int %v: fxamacker big.Int %v, %v", &bi, &fxBig, err)
		}
		f, err := abi.NewReader(neg).ReadFloat()
		bf, _ := new(big.Float).SetInt(&bi).Float64()
		if err != nil || f != bf {
			t.Errorf("int %v: abi ReadFloat %g, %v, want %g", &bi, f, err, bf)
		}
	}
}

// TestFloatWidths checks that abi reads every float width fxamacker writes.
func TestFloatWidths(t *testing.T) {
	for _, tc := range []struct {
		f     float64
		width int // bytes fxamacker's shortest encoding takes
	}{
		{0, 3}, {math.Copysign(0, -1), 3}, {1.5, 3}, {65504, 3}, {5.960464477539063e-8, 3},
		{math.Inf(1), 3}, {math.Inf(-1), 3}, {100000, 5}, {3.4028234663852886e+38, 5},
		{1.1, 9}, {1e300, 9}, {math.SmallestNonzeroFloat64, 9},
	} {
		p, err := encShort.Marshal(tc.f)
		if err != nil || len(p) != tc.width {
			t.Errorf("fxamacker wrote %g as %x, %v; want %d bytes", tc.f, p, err, tc.width)
		}
		got, err := abi.NewReader(p).ReadFloat()
		if err != nil || math.Float64bits(got) != math.Float64bits(tc.f) {
			t.Errorf("abi read %x as %g, %v; want %g", p, got, err, tc.f)
		}
		var fx float64
		ours := abi.AppendFloat(nil, tc.f)
		if err := cbor.Unmarshal(ours, &fx); err != nil || math.Float64bits(fx) != math.Float64bits(tc.f) {
			t.Errorf("fxamacker read abi's %x as %g, %v", ours, fx, err)
		}
	}
	p, _ := encShort.Marshal(math.NaN())
	if got, err := abi.NewReader(p).ReadFloat(); err != nil || !math.IsNaN(got) {
		t.Errorf("abi read fxamacker's NaN %x as %g, %v", p, got, err)
	}
}

// ---- well-formedness ----

// sameVerdict reports whether abi.WellFormed and fxamacker (with abi's
// rules) agree about p, and describes both verdicts.
func sameVerdict(p []byte) (bool, string) {
	ours := abi.WellFormed(p)
	theirs := decWF.Wellformed(p)
	if (ours == nil) != (theirs == nil) {
		return false, fmt.Sprintf("%x: abi.WellFormed = %v, fxamacker Wellformed = %v", p, ours, theirs)
	}
	return true, ""
}

func mutate(r *rand.Rand, p []byte) []byte {
	p = bytes.Clone(p)
	for n := 1 + r.IntN(2); n > 0; n-- {
		switch op := r.IntN(5); {
		case op == 0 && len(p) > 0:
			p[r.IntN(len(p))] = byte(r.Uint32())
		case op == 1 && len(p) > 0:
			p[r.IntN(len(p))] ^= 1 << r.IntN(8)
		case op == 2 && len(p) > 0:
			p = p[:r.IntN(len(p))]
		case op == 3:
			i := r.IntN(len(p) + 1)
			p = slices.Insert(p, i, byte(r.Uint32()))
		default:
			heads := []byte{0x1b, 0x3b, 0x5b, 0x7b, 0x9b, 0xbb, 0xdb, 0xfb, 0x5f, 0x9f, 0xbf, 0xff, 0xf8, 0x1c}
			i := r.IntN(len(p) + 1)
			p = slices.Insert(p, i, heads[r.IntN(len(heads))])
		}
	}
	return p
}

func TestWellFormedAgreesWithFxamacker(t *testing.T) {
	fixed := []string{
		"", "00", "ff", "1c", "5f4101ff", "9f01ff", "bf0101ff", "f800", "f81f", "f820",
		"82 9bffffffffffffffff", "84 00 bb7fffffffffffffff", "5bffffffffffffffff",
		"c1", "c1 c1 00", "818181818100", "a1 00", "a1 0000 00",
	}
	for _, s := range fixed {
		p, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if ok, why := sameVerdict(p); !ok {
			t.Error(why)
		}
	}
	r := rand.New(rand.NewPCG(3, 3))
	const inputs = 50000
	wellFormed := 0
	for i := 0; i < inputs; i++ {
		var p []byte
		if i%4 == 0 {
			p = make([]byte, r.IntN(24))
			for j := range p {
				p[j] = byte(r.Uint32())
			}
		} else {
			v, _ := encShortSorted.Marshal(randValue(r, 3))
			p = mutate(r, v)
		}
		if abi.WellFormed(p) == nil {
			wellFormed++
		}
		if ok, why := sameVerdict(p); !ok {
			t.Fatal(why)
		}
	}
	// The inputs must exercise both verdicts for the check to mean much.
	t.Logf("%d of %d inputs were well-formed", wellFormed, inputs)
	if wellFormed < inputs/10 || wellFormed > inputs*9/10 {
		t.Errorf("%d of %d inputs were well-formed; the generator is off", wellFormed, inputs)
	}
}

// TestWellFormedDefaults relates abi.WellFormed to fxamacker's defaults:
// fxamacker also accepts indefinite lengths, which abi rejects, and caps
// nesting and container sizes, which abi bounds only by the input length.
func TestWellFormedDefaults(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 20000; i++ {
		v, _ := encShortSorted.Marshal(randValue(r, 3))
		p := mutate(r, v)
		ours, theirs := abi.WellFormed(p), cbor.Wellformed(p)
		if ours == nil && theirs != nil {
			var nested *cbor.MaxNestedLevelError
			if !errors.As(theirs, &nested) {
				t.Fatalf("%x: abi accepts, fxamacker's defaults reject: %v", p, theirs)
			}
		}
		if ours != nil && theirs == nil && !bytes.ContainsAny(p, "\x5f\x7f\x9f\xbf\xff") {
			t.Fatalf("%x: fxamacker's defaults accept, abi rejects (%v) without an indefinite length", p, ours)
		}
		// The deprecated Valid is the same check.
		if (cbor.Valid(p) == nil) != (theirs == nil) {
			t.Fatalf("%x: cbor.Valid and cbor.Wellformed disagree", p)
		}
	}
}

// TestInvalidUTF8 records a difference: well-formedness does not cover
// UTF-8, so both checks accept a text string of invalid UTF-8; abi's
// ReadText returns its bytes, while fxamacker refuses to decode it.
func TestInvalidUTF8(t *testing.T) {
	p := []byte{0x62, 0xff, 0xfe}
	if err := abi.WellFormed(p); err != nil {
		t.Errorf("abi.WellFormed = %v", err)
	}
	if err := decWF.Wellformed(p); err != nil {
		t.Errorf("fxamacker Wellformed = %v", err)
	}
	if s, err := abi.NewReader(p).ReadText(); err != nil || s != "\xff\xfe" {
		t.Errorf("abi ReadText = %q, %v", s, err)
	}
	var s string
	if err := cbor.Unmarshal(p, &s); err == nil {
		t.Errorf("fxamacker decoded invalid UTF-8")
	}
}

// FuzzWellFormedAgreement compares abi.WellFormed with fxamacker under
// abi's rules on fuzzed input. Run it with:
//
//	go test -run=XXX -fuzz=FuzzWellFormedAgreement -fuzztime=30s ./internal/abicheck/
func FuzzWellFormedAgreement(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 32; i++ {
		v, _ := encShortSorted.Marshal(randValue(r, 3))
		f.Add(v)
	}
	for _, s := range []string{"82 9bffffffffffffffff", "84 00 bb7fffffffffffffff", "9f01ff", "f81f"} {
		p, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if ok, why := sameVerdict(p); !ok {
			t.Fatal(why)
		}
	})
}
