package abi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

// Equality helpers. Byte fields compare by content and by presence: a nil
// slice (key absent) differs from an empty one (key present, zero length).

func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func sameRequest(a, b *Request) bool {
	return a.Kind == b.Kind && a.Method == b.Method && sameBytes(a.Payload, b.Payload) &&
		a.Sender == b.Sender && a.ID == b.ID && a.Trace == b.Trace
}

func sameReply(a, b *Reply) bool {
	return sameBytes(a.Payload, b.Payload) && a.Code == b.Code && a.Message == b.Message
}

func sameCall(a, b *Call) bool {
	return a.Target == b.Target && a.Method == b.Method && sameBytes(a.Payload, b.Payload) &&
		a.TimeoutMS == b.TimeoutMS
}

func sameStateOp(a, b *StateOp) bool { return a.Key == b.Key && sameBytes(a.Value, b.Value) }

func sameLogRecord(a, b *LogRecord) bool { return *a == *b }

func sameError(a, b *Error) bool { return *a == *b }

// samplePayload is a small CBOR user payload: {"amount": 100}.
var samplePayload = AppendUint(AppendText(AppendMapHeader(nil, 1), "amount"), 100)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Request
		want string // hex of the encoding; empty to skip the check
	}{
		{"full message", Request{Kind: KindMessage, Method: "deposit", Payload: samplePayload, Sender: "bank/alice", ID: "m-1"},
			"a5 0100 02 676465706f736974 03 4a a166616d6f756e741864 04 6a62616e6b2f616c696365 05 636d2d31"},
		{"activate", Request{Kind: KindActivate}, "a2 0101 0260"},
		{"deactivate", Request{Kind: KindDeactivate, ID: "x"}, "a3 0102 0260 056178"},
		{"empty payload", Request{Method: "m", Payload: []byte{}}, "a3 0100 02616d 0340"},
		{"large payload", Request{Method: "m", Payload: bytes.Repeat([]byte{0xf6}, 70000)}, ""},
		{"unicode", Request{Method: "d\u00e9p\u00f4t", Sender: "t/\u00fc", ID: "\u2603"}, ""},
		{"traced", Request{Kind: KindMessage, Method: "m", ID: "x", Trace: sampleTrace},
			"a4 0100 02616d 056178 06 7837 " + hex.EncodeToString([]byte(sampleTrace))},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		if tt.want != "" {
			wantHex(t, tt.name, b, tt.want)
		}
		var got Request
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
			continue
		}
		if !sameRequest(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
		// AppendTo appends; it does not overwrite what is there.
		if b2 := tt.in.AppendTo([]byte{0xaa}); b2[0] != 0xaa || !bytes.Equal(b2[1:], b) {
			t.Errorf("%s: AppendTo did not append", tt.name)
		}
	}
}

func TestReplyRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Reply
		want string
	}{
		{"success", Reply{Payload: AppendUint(nil, 150)}, "a1 01 42 1896"},
		{"empty success", Reply{}, "a0"},
		{"empty payload", Reply{Payload: []byte{}}, "a1 0140"},
		{"app error", Reply{Code: "insufficient_funds", Message: "balance 5"},
			"a2 02 72696e73756666696369656e745f66756e6473 03 6962616c616e63652035"},
		{"code only", Reply{Code: CodeUnknownMethod}, "a1 02 6e756e6b6e6f776e5f6d6574686f64"},
		{"all", Reply{Payload: []byte{0}, Code: "c", Message: "m"}, "a3 01 4100 02 6163 03 616d"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got Reply
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameReply(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestCallRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Call
		want string
	}{
		{"ask", Call{Target: "account/bob", Method: "credit", Payload: AppendUint(nil, 7), TimeoutMS: 2000},
			"a4 01 6b6163636f756e742f626f62 02 66637265646974 03 4107 04 1907d0"},
		{"tell", Call{Target: "a/b", Method: "m"}, "a2 01 63612f62 02 616d"},
		{"empty", Call{}, "a2 0160 0260"},
		{"empty payload", Call{Target: "a/b", Method: "m", Payload: []byte{}}, "a3 01 63612f62 02 616d 0340"},
		{"max timeout", Call{Target: "a/b", Method: "m", TimeoutMS: math.MaxUint64},
			"a3 01 63612f62 02 616d 04 1bffffffffffffffff"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got Call
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameCall(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestStateOpRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   StateOp
		want string
	}{
		{"set", StateOp{Key: "balance", Value: AppendUint(nil, 150)}, "a2 01 6762616c616e6365 02 421896"},
		{"get", StateOp{Key: "balance"}, "a1 01 6762616c616e6365"},
		{"set empty", StateOp{Key: "k", Value: []byte{}}, "a2 01 616b 0240"},
		{"empty key", StateOp{}, "a1 0160"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got StateOp
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameStateOp(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestLogRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   LogRecord
		want string
	}{
		{"warn", LogRecord{Level: LevelWarn, Message: "low"}, "a2 0102 02 636c6f77"},
		{"debug", LogRecord{Level: LevelDebug}, "a2 0100 0260"},
		{"negative", LogRecord{Level: -1, Message: "x"}, "a2 0120 026178"},
		{"min", LogRecord{Level: math.MinInt64}, "a2 01 3b7fffffffffffffff 0260"},
	}
	for _, tt := range tests {
		b := tt.in.AppendTo(nil)
		wantHex(t, tt.name, b, tt.want)
		var got LogRecord
		if err := got.Decode(b); err != nil {
			t.Errorf("%s: Decode: %v", tt.name, err)
		} else if !sameLogRecord(&got, &tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.name, got, tt.in)
		}
	}
}

func TestErrorEnvelopeRoundTrip(t *testing.T) {
	tests := []struct {
		in   *Error
		want string
	}{
		{NewError(CodeTimeout, "no reply"), "a2 01 6774696d656f7574 02 686e6f207265706c79"},
		{NewError("insufficient_funds", ""), "a2 01 72696e73756666696369656e745f66756e6473 0260"},
	}
	for _, tt := range tests {
		b := AppendError(nil, tt.in)
		wantHex(t, tt.in.Code, b, tt.want)
		got, err := DecodeError(b)
		if err != nil {
			t.Errorf("%s: DecodeError: %v", tt.in.Code, err)
		} else if !sameError(got, tt.in) {
			t.Errorf("%s: round trip = %+v, want %+v", tt.in.Code, got, tt.in)
		}
	}
	_, err := DecodeError(unhex(t, "a1 0260"))
	wantCBORError(t, err, "error envelope has no code")
	_, err = DecodeError(unhex(t, "a2 0160 0260"))
	wantCBORError(t, err, "error envelope has no code")
}

// unknownValues are items an older decoder must skip under keys it does not
// know: every major type, nested containers and tags, and non-shortest heads.
var unknownValues = []string{
	"00", "3863", "4401020304", "6449455446", "f5", "f6", "f93c00", "fb3ff199999999999a",
	"8301820203820405",                         // [1, [2, 3], [4, 5]]
	"a26161016162820203",                       // {"a": 1, "b": [2, 3]}
	"c11a514b67b0",                             // 1(1363896240)
	"d820d82182a0a180f6",                       // 32(33([{}, {[]: null}]))
	"bb0000000000000001 00 9b0000000000000000", // {0: []} with 8-byte heads
	"f8ff", // simple(255)
}

func TestUnknownKeysSkipped(t *testing.T) {
	req := Request{Kind: KindMessage, Method: "deposit", Payload: samplePayload, Sender: "bank/alice", ID: "m-1"}
	call := Call{Target: "a/b", Method: "m", Payload: []byte{0}, TimeoutMS: 5}
	tests := []struct {
		name  string
		known []byte // the encoding without unknown keys
		check func(p []byte) error
	}{
		{"request", req.AppendTo(nil), func(p []byte) error {
			var got Request
			if err := got.Decode(p); err != nil {
				return err
			}
			if !sameRequest(&got, &req) {
				return errors.New("decoded differently")
			}
			return nil
		}},
		{"reply", (&Reply{Payload: []byte{1}, Code: "c", Message: "m"}).AppendTo(nil), func(p []byte) error {
			var got Reply
			if err := got.Decode(p); err != nil {
				return err
			}
			if !sameReply(&got, &Reply{Payload: []byte{1}, Code: "c", Message: "m"}) {
				return errors.New("decoded differently")
			}
			return nil
		}},
		{"call", call.AppendTo(nil), func(p []byte) error {
			var got Call
			if err := got.Decode(p); err != nil {
				return err
			}
			if !sameCall(&got, &call) {
				return errors.New("decoded differently")
			}
			return nil
		}},
		{"state op", (&StateOp{Key: "k", Value: []byte{2}}).AppendTo(nil), func(p []byte) error {
			var got StateOp
			if err := got.Decode(p); err != nil {
				return err
			}
			if !sameStateOp(&got, &StateOp{Key: "k", Value: []byte{2}}) {
				return errors.New("decoded differently")
			}
			return nil
		}},
		{"log record", (&LogRecord{Level: 1, Message: "m"}).AppendTo(nil), func(p []byte) error {
			var got LogRecord
			if err := got.Decode(p); err != nil {
				return err
			}
			if got != (LogRecord{Level: 1, Message: "m"}) {
				return errors.New("decoded differently")
			}
			return nil
		}},
		{"error", AppendError(nil, NewError("c", "m")), func(p []byte) error {
			got, err := DecodeError(p)
			if err != nil {
				return err
			}
			if *got != (Error{Code: "c", Message: "m"}) {
				return errors.New("decoded differently")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		r := NewReader(tt.known)
		n, err := r.ReadMapHeader()
		if err != nil {
			t.Fatal(err)
		}
		pairs := tt.known[r.Offset():]
		for _, key := range []uint64{0, 10, 99, 1 << 40} {
			for _, v := range unknownValues {
				// The unknown pair first, last, and with a non-shortest map head.
				first := AppendMapHeader(nil, n+1)
				first = append(AppendUint(first, key), unhex(t, v)...)
				first = append(first, pairs...)
				last := append(append(AppendMapHeader(nil, n+1), pairs...), AppendUint(nil, key)...)
				last = append(last, unhex(t, v)...)
				wide := append([]byte{0xbb, 0, 0, 0, 0, 0, 0, 0, byte(n + 1)}, last[1:]...)
				for _, p := range [][]byte{first, last, wide} {
					if err := tt.check(p); err != nil {
						t.Errorf("%s with unknown key %d = %s: %v (input %x)", tt.name, key, v, err, p)
					}
				}
			}
		}
	}
}

// TestEnvelopeErrors checks malformed envelopes: each is rejected with an
// error that wraps ErrCBOR and names the envelope and, for a bad field, its key.
func TestEnvelopeErrors(t *testing.T) {
	decoders := map[string]func(p []byte) error{
		"request":         func(p []byte) error { return new(Request).Decode(p) },
		"reply":           func(p []byte) error { return new(Reply).Decode(p) },
		"call":            func(p []byte) error { return new(Call).Decode(p) },
		"state operation": func(p []byte) error { return new(StateOp).Decode(p) },
		"log record":      func(p []byte) error { return new(LogRecord).Decode(p) },
		"error":           func(p []byte) error { _, err := DecodeError(p); return err },
	}
	// Each envelope's keys and a value of the wrong type for each.
	wrongTypes := map[string]map[uint64]string{
		"request":         {1: "6161", 2: "01", 3: "6161", 4: "4161", 5: "f6"},
		"reply":           {1: "6161", 2: "4161", 3: "01"},
		"call":            {1: "01", 2: "4161", 3: "6161", 4: "20"},
		"state operation": {1: "4161", 2: "6161"},
		"log record":      {1: "6161", 2: "01"},
		"error":           {1: "01", 2: "4161"},
	}
	for name, decode := range decoders {
		for key, v := range wrongTypes[name] {
			p := append(AppendUint(AppendMapHeader(nil, 1), key), unhex(t, v)...)
			wantCBORError(t, decode(p), "cbor: "+name+" key ", "expected")
		}
		for _, tc := range []struct{ in, why string }{
			{"", "unexpected end of input"},
			{"80", "expected map, found array"},
			{"6161", "expected map, found text string"},
			{"f6", "expected map, found null"},
			{"a1 6161 00", "expected unsigned integer, found text string"}, // text key
			{"a1 20 00", "expected unsigned integer, found negative integer"},
			{"a1 f93c00 00", "expected unsigned integer, found float"},
			{"a2 01", "map longer than the input"},
			{"a1 01", "map longer than the input"},
			{"a2 00 4100 00", "unexpected end of input"},
			{"a1 0061", "string longer than the input"},
			{"a0 00", "trailing bytes after the map"},
			{"bf ff", "indefinite-length"},
			{"a1 00 9f ff", "indefinite-length"},
			{"a1 00 7a ffffffff", "longer than the input"},
		} {
			wantCBORError(t, decode(unhex(t, tc.in)), "cbor: "+name, tc.why)
		}
	}
	// Values decoded as Go types with a narrower range than CBOR's.
	wantCBORError(t, new(Request).Decode(unhex(t, "a1 01 03")), "request key 1: unknown request kind 3 at byte 2")
	wantCBORError(t, new(Request).Decode(unhex(t, "a1 01 1bffffffffffffffff")), "unknown request kind")
	wantCBORError(t, new(LogRecord).Decode(unhex(t, "a1 01 1b8000000000000000")), "log record key 1", "overflows int64")
}

func TestEnvelopeTrailingBytes(t *testing.T) {
	for name, b := range map[string][]byte{
		"request":         (&Request{Method: "m"}).AppendTo(nil),
		"reply":           (&Reply{Code: "c"}).AppendTo(nil),
		"call":            (&Call{Target: "a/b"}).AppendTo(nil),
		"state operation": (&StateOp{Key: "k"}).AppendTo(nil),
		"log record":      (&LogRecord{}).AppendTo(nil),
		"error":           AppendError(nil, NewError("c", "")),
	} {
		for _, tail := range []string{"00", "a0", "ff"} {
			p := append(append([]byte(nil), b...), unhex(t, tail)...)
			var err error
			switch name {
			case "request":
				err = new(Request).Decode(p)
			case "reply":
				err = new(Reply).Decode(p)
			case "call":
				err = new(Call).Decode(p)
			case "state operation":
				err = new(StateOp).Decode(p)
			case "log record":
				err = new(LogRecord).Decode(p)
			case "error":
				_, err = DecodeError(p)
			}
			wantCBORError(t, err, name, "trailing bytes")
		}
	}
}

// TestEnvelopeTruncated checks that no proper prefix of an envelope decodes.
func TestEnvelopeTruncated(t *testing.T) {
	req := (&Request{Kind: KindMessage, Method: "deposit", Payload: samplePayload, Sender: "bank/alice", ID: "m-1"}).AppendTo(nil)
	rep := (&Reply{Payload: samplePayload, Code: "c", Message: "m"}).AppendTo(nil)
	call := (&Call{Target: "a/b", Method: "m", Payload: samplePayload, TimeoutMS: 300}).AppendTo(nil)
	op := (&StateOp{Key: "k", Value: samplePayload}).AppendTo(nil)
	lr := (&LogRecord{Level: 3, Message: "boom"}).AppendTo(nil)
	er := AppendError(nil, NewError("c", "m"))
	for i := 0; i < len(req); i++ {
		if new(Request).Decode(req[:i]) == nil {
			t.Errorf("request prefix %x decoded", req[:i])
		}
	}
	for i := 0; i < len(rep); i++ {
		if new(Reply).Decode(rep[:i]) == nil {
			t.Errorf("reply prefix %x decoded", rep[:i])
		}
	}
	for i := 0; i < len(call); i++ {
		if new(Call).Decode(call[:i]) == nil {
			t.Errorf("call prefix %x decoded", call[:i])
		}
	}
	for i := 0; i < len(op); i++ {
		if new(StateOp).Decode(op[:i]) == nil {
			t.Errorf("state op prefix %x decoded", op[:i])
		}
	}
	for i := 0; i < len(lr); i++ {
		if new(LogRecord).Decode(lr[:i]) == nil {
			t.Errorf("log record prefix %x decoded", lr[:i])
		}
	}
	for i := 0; i < len(er); i++ {
		if _, err := DecodeError(er[:i]); err == nil {
			t.Errorf("error prefix %x decoded", er[:i])
		}
	}
}

func TestDecodeResets(t *testing.T) {
	q := Request{Kind: KindDeactivate, Method: "old", Payload: []byte{1}, Sender: "a/b", ID: "i"}
	if err := q.Decode(unhex(t, "a0")); err != nil {
		t.Fatal(err)
	}
	if !sameRequest(&q, &Request{}) {
		t.Errorf("Request.Decode kept old fields: %+v", q)
	}
	y := Reply{Payload: []byte{1}, Code: "c", Message: "m"}
	if err := y.Decode(unhex(t, "a0")); err != nil || !sameReply(&y, &Reply{}) {
		t.Errorf("Reply.Decode kept old fields: %+v, %v", y, err)
	}
	c := Call{Target: "a/b", Method: "m", Payload: []byte{1}, TimeoutMS: 1}
	if err := c.Decode(unhex(t, "a0")); err != nil || !sameCall(&c, &Call{}) {
		t.Errorf("Call.Decode kept old fields: %+v, %v", c, err)
	}
	s := StateOp{Key: "k", Value: []byte{1}}
	if err := s.Decode(unhex(t, "a0")); err != nil || !sameStateOp(&s, &StateOp{}) {
		t.Errorf("StateOp.Decode kept old fields: %+v, %v", s, err)
	}
	l := LogRecord{Level: 3, Message: "m"}
	if err := l.Decode(unhex(t, "a0")); err != nil || l != (LogRecord{}) {
		t.Errorf("LogRecord.Decode kept old fields: %+v, %v", l, err)
	}
}

// TestDuplicateKeys pins down what a repeated key does: the last one wins.
func TestDuplicateKeys(t *testing.T) {
	var q Request
	if err := q.Decode(unhex(t, "a3 02616d 02616e 0101")); err != nil {
		t.Fatal(err)
	}
	if q.Method != "n" || q.Kind != KindActivate {
		t.Errorf("duplicate keys decoded to %+v", q)
	}
}

func TestEnvelopeBytesAlias(t *testing.T) {
	b := (&Reply{Payload: []byte("abc")}).AppendTo(nil)
	var y Reply
	if err := y.Decode(b); err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 'z'
	if string(y.Payload) != "abz" {
		t.Errorf("Reply.Payload does not alias the input: %q", y.Payload)
	}
	// Strings are copies.
	b = (&Reply{Code: "abc"}).AppendTo(nil)
	if err := y.Decode(b); err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 'z'
	if y.Code != "abc" {
		t.Errorf("Reply.Code changed with its input: %q", y.Code)
	}
}

func TestErrorMessagesAreReadable(t *testing.T) {
	err := new(Call).Decode(unhex(t, "a2 01 63612f62 02 01"))
	const want = "cbor: call key 2: expected text string, found unsigned integer at byte 7"
	if err == nil || err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !strings.HasPrefix(new(Reply).Decode(nil).Error(), "cbor: reply: ") {
		t.Errorf("Reply.Decode(nil) error = %q", new(Reply).Decode(nil))
	}
}

// TestWatchVectors pins the bytes docs/ABI.md gives for section 5.10.
func TestWatchVectors(t *testing.T) {
	w := Watch{Target: "room/a"}
	if got := hex.EncodeToString(w.AppendTo(nil)); got != "a10166726f6f6d2f61" {
		t.Errorf("Watch room/a = %s", got)
	}
	var back Watch
	if err := back.Decode(w.AppendTo(nil)); err != nil || back != w {
		t.Errorf("Watch round trip: %+v, %v", back, err)
	}
	l := Lifecycle{Ref: "room/a", Reason: ReasonIdle}
	if got := hex.EncodeToString(l.AppendTo(nil)); got != "a26372656666726f6f6d2f6166726561736f6e6469646c65" {
		t.Errorf("Lifecycle = %s", got)
	}
	var lb Lifecycle
	if err := lb.Decode(l.AppendTo(nil)); err != nil || lb != l {
		t.Errorf("Lifecycle round trip: %+v, %v", lb, err)
	}
	if err := lb.Decode([]byte{0xa1, 0x63, 'r', 'e', 'f', 0x01}); err == nil {
		t.Error("a lifecycle whose ref is not text decoded")
	}
	if e := CheckMethod("message", MethodDeactivated); e == nil || e.Code != CodeBadRequest {
		t.Errorf("CheckMethod(%s) = %v, want bad_request", MethodDeactivated, e)
	}
}

// TestTopicVectors pins the bytes docs/ABI.md gives for sections 5.11 and
// 5.12, and the rules for topics and patterns.
func TestTopicVectors(t *testing.T) {
	for want, enc := range map[string][]byte{
		"a20167726f6f6d732e31024107":         (&Publish{Topic: "rooms.1", Payload: []byte{7}}).AppendTo(nil),
		"a20167726f6f6d732e3102656865617264": (&Subscription{Topic: "rooms.1", Method: "heard"}).AppendTo(nil),
		"a10167726f6f6d732e31":               (&Subscription{Topic: "rooms.1"}).AppendTo(nil),
	} {
		if got := hex.EncodeToString(enc); got != want {
			t.Errorf("encoded %s, want %s", got, want)
		}
	}
	for _, ok := range []string{"a", "rooms.42.said", "ünï.cödé", "a-b_c:d"} {
		if e := CheckTopic("t", ok); e != nil {
			t.Errorf("CheckTopic(%q) = %v", ok, e)
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "a b", "a.*", "a.>", "a\x00", string(make([]byte, MaxTopicLen+1))} {
		if e := CheckTopic("t", bad); e == nil || e.Code != CodeBadRequest {
			t.Errorf("CheckTopic(%q) = %v, want bad_request", bad, e)
		}
	}
	for _, c := range []struct {
		pattern, topic string
		ok             bool
		wild           string
	}{
		{"rooms.*", "rooms.42", true, "42"},
		{"rooms.*", "rooms.42.x", false, ""},
		{"rooms.*.said", "rooms.7.said", true, "7"},
		{"rooms.>", "rooms.a.b", true, "a.b"},
		{"rooms.>", "rooms", false, ""},
		{"a.b", "a.b", true, ""},
		{"a.b", "a.c", false, ""},
	} {
		wild, ok := MatchTopic(c.pattern, c.topic)
		if ok != c.ok || (ok && c.wild != "" && (len(wild) == 0 || wild[0] != c.wild)) {
			t.Errorf("MatchTopic(%q, %q) = %v, %v", c.pattern, c.topic, wild, ok)
		}
	}
	for _, bad := range []string{"", "a..b", "a.>.b", "a.b*"} {
		if CheckTopicPattern(bad) == nil {
			t.Errorf("CheckTopicPattern(%q) accepted it", bad)
		}
	}
}
