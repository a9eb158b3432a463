package abi

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// Fuzz targets for every decoder of guest-supplied bytes. Each checks that
// the decoder does not panic, that it fails only with codec errors, that it
// never accepts input WellFormed rejects, and that whatever it accepts
// re-encodes to bytes that decode to the same value.
//
// Run one with, for example:
//
//	go test -run=XXX -fuzz=FuzzReplyDecode -fuzztime=30s ./

// seedItems are well-formed and malformed CBOR items shared by the seeds.
var seedItems = []string{
	"", "00", "17", "1818", "19ffff", "1a00010000", "1bffffffffffffffff", "20", "3b7fffffffffffffff",
	"40", "4401020304", "5b0000000100000000", "60", "6449455446", "7f6161ff",
	"80", "8301820203820405", "82 9bffffffffffffffff", "9f01ff",
	"a0", "a26161016162820203", "84 00 bb7fffffffffffffff", "bf0101ff",
	"c11a514b67b0", "d820d82182a0a180f6", "c1",
	"f4", "f5", "f6", "f7", "f820", "f81f", "f93c00", "fa47c35000", "fb3ff199999999999a", "fb3ff1",
	"1c", "ff", "818181818181818100",
}

func addSeeds(f *testing.F, envelopes ...[]byte) {
	for _, s := range seedItems {
		f.Add(unhex(f, s))
	}
	for _, e := range envelopes {
		f.Add(e)
		f.Add(e[:len(e)/2])
		f.Add(append(append([]byte(nil), e...), 0))
		// The same pairs plus an unknown key 9 holding a nested item.
		if len(e) > 0 && e[0] >= 0xa0 && e[0] < 0xb7 {
			withUnknown := append([]byte{e[0] + 1}, e[1:]...)
			withUnknown = append(withUnknown, unhex(f, "09 d820a2616182f6f5616280")...)
			f.Add(withUnknown)
		}
	}
}

// checkRoundTrip is the property every envelope fuzzer checks.
func checkRoundTrip[T any](t *testing.T, p []byte, decode func(*T, []byte) error, encode func(*T) []byte, same func(a, b *T) bool) {
	t.Helper()
	var v T
	if err := decode(&v, p); err != nil {
		if !errors.Is(err, ErrCBOR) {
			t.Fatalf("Decode(%x) failed with a non-codec error: %v", p, err)
		}
		return
	}
	if err := WellFormed(p); err != nil {
		t.Fatalf("Decode(%x) accepted input WellFormed rejects: %v", p, err)
	}
	b := encode(&v)
	if err := WellFormed(b); err != nil {
		t.Fatalf("encoding %x of %+v is not well-formed: %v", b, v, err)
	}
	var w T
	if err := decode(&w, b); err != nil {
		t.Fatalf("re-encoding %x of %+v (from %x) does not decode: %v", b, v, p, err)
	}
	if !same(&v, &w) {
		t.Fatalf("round trip changed the value: %+v -> %x -> %+v (input %x)", v, b, w, p)
	}
	if b2 := encode(&w); !bytes.Equal(b, b2) {
		t.Fatalf("encoding is not stable: %x then %x", b, b2)
	}
}

func FuzzRequestDecode(f *testing.F) {
	addSeeds(f,
		(&Request{Kind: KindMessage, Method: "deposit", Payload: samplePayload, Sender: "bank/alice", ID: "m-1"}).AppendTo(nil),
		(&Request{Kind: KindActivate}).AppendTo(nil),
		(&Request{Kind: KindDeactivate, Payload: []byte{}}).AppendTo(nil),
		(&Request{Method: "m", ID: "x", Trace: sampleTrace}).AppendTo(nil),
		unhex(f, "a1 01 03"),
		unhex(f, "a3 02616d 02616e 0101"),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Request).Decode, func(q *Request) []byte { return q.AppendTo(nil) }, sameRequest)
	})
}

func FuzzReplyDecode(f *testing.F) {
	addSeeds(f,
		(&Reply{Payload: AppendUint(nil, 150)}).AppendTo(nil),
		(&Reply{Code: "insufficient_funds", Message: "balance 5"}).AppendTo(nil),
		(&Reply{Payload: []byte{}, Code: "c", Message: "m"}).AppendTo(nil),
		unhex(f, "a1 0260"),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Reply).Decode, func(y *Reply) []byte { return y.AppendTo(nil) }, sameReply)
	})
}

func FuzzCallDecode(f *testing.F) {
	addSeeds(f,
		(&Call{Target: "account/bob", Method: "credit", Payload: AppendUint(nil, 7), TimeoutMS: 2000}).AppendTo(nil),
		(&Call{Target: "a/b", Method: "m"}).AppendTo(nil),
		(&Call{TimeoutMS: math.MaxUint64, Payload: []byte{}}).AppendTo(nil),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Call).Decode, func(c *Call) []byte { return c.AppendTo(nil) }, sameCall)
	})
}

func FuzzStateOpDecode(f *testing.F) {
	addSeeds(f,
		(&StateOp{Key: "balance", Value: AppendUint(nil, 150)}).AppendTo(nil),
		(&StateOp{Key: "balance"}).AppendTo(nil),
		(&StateOp{Value: []byte{}}).AppendTo(nil),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*StateOp).Decode, func(s *StateOp) []byte { return s.AppendTo(nil) }, sameStateOp)
	})
}

func FuzzLogRecordDecode(f *testing.F) {
	addSeeds(f,
		(&LogRecord{Level: LevelWarn, Message: "low"}).AppendTo(nil),
		(&LogRecord{Level: math.MinInt64}).AppendTo(nil),
		unhex(f, "a1 01 1b8000000000000000"),
	)
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*LogRecord).Decode, func(l *LogRecord) []byte { return l.AppendTo(nil) }, sameLogRecord)
	})
}

func FuzzDecodeError(f *testing.F) {
	addSeeds(f,
		AppendError(nil, NewError(CodeTimeout, "no reply")),
		AppendError(nil, NewError("insufficient_funds", "")),
		unhex(f, "a1 0260"),
	)
	decode := func(e *Error, p []byte) error {
		got, err := DecodeError(p)
		if got == nil {
			return errors.New("DecodeError returned a nil *Error")
		}
		*e = *got
		if err == nil && e.Code == "" {
			return errors.New("DecodeError accepted an envelope without a code")
		}
		return err
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, decode, func(e *Error) []byte { return AppendError(nil, e) }, sameError)
	})
}

// FuzzWellFormed checks WellFormed and Reader.Skip against refItem, a
// separate recursive reading of the same rules.
func FuzzWellFormed(f *testing.F) {
	addSeeds(f, (&Request{Method: "m", Payload: samplePayload}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		err := WellFormed(p)
		if err != nil && !errors.Is(err, ErrCBOR) {
			t.Fatalf("WellFormed(%x) failed with a non-codec error: %v", p, err)
		}
		r := NewReader(p)
		skipErr := r.Skip()
		if skipErr == nil && (r.Offset() == 0 || r.Offset() > len(p)) {
			t.Fatalf("Skip(%x) succeeded at offset %d", p, r.Offset())
		}
		if (err == nil) != (skipErr == nil && r.Len() == 0) {
			t.Fatalf("WellFormed(%x) = %v but Skip = %v with %d bytes left", p, err, skipErr, r.Len())
		}
		if err == nil {
			raw, rerr := NewReader(p).Raw()
			if rerr != nil || !bytes.Equal(raw, p) {
				t.Fatalf("Raw(%x) = %x, %v", p, raw, rerr)
			}
		}
		if len(p) > 4096 { // keep the reference's recursion shallow
			return
		}
		end, ok := refItem(p, 0)
		if ok != (skipErr == nil) || ok && end != r.Offset() {
			t.Fatalf("Skip(%x) = %v at %d, reference says ok=%v at %d", p, skipErr, r.Offset(), ok, end)
		}
	})
}

// refItem is a deliberately simple, recursive well-formedness check of the
// item at p[off:]: definite lengths only, no reserved additional information,
// two-byte simple values at least 32. It returns the end of the item.
func refItem(p []byte, off int) (int, bool) {
	if off >= len(p) {
		return 0, false
	}
	major, info := p[off]>>5, p[off]&0x1f
	off++
	var arg uint64
	switch {
	case info < 24:
		arg = uint64(info)
	case info <= 27:
		n := 1 << (info - 24)
		if len(p)-off < n {
			return 0, false
		}
		for _, c := range p[off : off+n] {
			arg = arg<<8 | uint64(c)
		}
		off += n
	default:
		return 0, false
	}
	switch major {
	case 2, 3:
		if arg > uint64(len(p)-off) {
			return 0, false
		}
		return off + int(arg), true
	case 4, 5:
		items := arg
		if major == 5 {
			if arg > uint64(len(p)) {
				return 0, false
			}
			items = 2 * arg
		}
		for i := uint64(0); i < items; i++ {
			var ok bool
			if off, ok = refItem(p, off); !ok {
				return 0, false
			}
		}
		return off, true
	case 6:
		return refItem(p, off)
	case 7:
		if info == 24 && arg < 32 {
			return 0, false
		}
	}
	return off, true
}

// FuzzReaderRead reads a sequence of items with the Read method their Kind
// calls for and checks that writing each value back gives an item that reads
// back to the same value.
func FuzzReaderRead(f *testing.F) {
	addSeeds(f, unhex(f, "01 20 4101 6161 f5 f6 fb3ff199999999999a 8101 a10101"))
	f.Fuzz(func(t *testing.T, p []byte) {
		r := NewReader(p)
		for r.Len() > 0 {
			start := r.Offset()
			var err error
			switch r.Kind() {
			case KindUint:
				var v uint64
				if v, err = r.ReadUint(); err == nil {
					if w, err2 := NewReader(AppendUint(nil, v)).ReadUint(); err2 != nil || w != v {
						t.Fatalf("uint %d -> %d, %v", v, w, err2)
					}
				}
			case KindNegInt:
				var v int64
				if v, err = r.ReadInt(); err == nil {
					if w, err2 := NewReader(AppendInt(nil, v)).ReadInt(); err2 != nil || w != v {
						t.Fatalf("int %d -> %d, %v", v, w, err2)
					}
				} else if r.Offset() != start {
					t.Fatalf("failed ReadInt moved the reader")
				} else {
					err = r.Skip() // out of int64 range, still well-formed
				}
			case KindBytes:
				var v []byte
				if v, err = r.ReadBytes(); err == nil {
					if w, err2 := NewReader(AppendBytes(nil, v)).ReadBytes(); err2 != nil || !bytes.Equal(w, v) {
						t.Fatalf("bytes %x -> %x, %v", v, w, err2)
					}
				}
			case KindText:
				var v string
				if v, err = r.ReadText(); err == nil {
					if w, err2 := NewReader(AppendText(nil, v)).ReadText(); err2 != nil || w != v {
						t.Fatalf("text %q -> %q, %v", v, w, err2)
					}
				}
			case KindArray:
				var n int
				if n, err = r.ReadArrayHeader(); err == nil {
					if n > r.Len() {
						t.Fatalf("array of %d with %d bytes left", n, r.Len())
					}
					if w, err2 := NewReader(AppendArrayHeader(nil, n)).ReadArrayHeader(); err2 == nil && w != n {
						t.Fatalf("array %d -> %d", n, w)
					}
				}
			case KindMap:
				var n int
				if n, err = r.ReadMapHeader(); err == nil && n > r.Len()/2 {
					t.Fatalf("map of %d with %d bytes left", n, r.Len())
				}
			case KindBool:
				var v bool
				if v, err = r.ReadBool(); err == nil {
					if w, _ := NewReader(AppendBool(nil, v)).ReadBool(); w != v {
						t.Fatalf("bool %v -> %v", v, w)
					}
				}
			case KindNull:
				err = r.ReadNull()
			case KindFloat:
				var v float64
				if v, err = r.ReadFloat(); err == nil {
					w, err2 := NewReader(AppendFloat(nil, v)).ReadFloat()
					if err2 != nil || math.Float64bits(w) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(w)) {
						t.Fatalf("float %g -> %g, %v", v, w, err2)
					}
				}
			default: // tags, simple values, malformed heads
				err = r.Skip()
			}
			if err != nil {
				if !errors.Is(err, ErrCBOR) {
					t.Fatalf("non-codec error: %v", err)
				}
				return
			}
			if r.Offset() <= start {
				t.Fatalf("read at %d made no progress", start)
			}
		}
	})
}

func FuzzWatchDecode(f *testing.F) {
	addSeeds(f, (&Watch{Target: "room/a"}).AppendTo(nil), unhex(f, "a1 0160"))
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Watch).Decode, func(w *Watch) []byte { return w.AppendTo(nil) },
			func(a, b *Watch) bool { return *a == *b })
	})
}

func FuzzLifecycleDecode(f *testing.F) {
	addSeeds(f, (&Lifecycle{Ref: "room/a", Reason: ReasonIdle}).AppendTo(nil), unhex(f, "a0"))
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Lifecycle).Decode, func(l *Lifecycle) []byte { return l.AppendTo(nil) },
			func(a, b *Lifecycle) bool { return *a == *b })
	})
}

func FuzzPublishDecode(f *testing.F) {
	addSeeds(f, (&Publish{Topic: "rooms.1", Payload: []byte{7}}).AppendTo(nil), (&Publish{Topic: "t"}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Publish).Decode, func(q *Publish) []byte { return q.AppendTo(nil) },
			func(a, b *Publish) bool {
				return a.Topic == b.Topic && bytes.Equal(a.Payload, b.Payload) && (a.Payload == nil) == (b.Payload == nil)
			})
	})
}

func FuzzSubscriptionDecode(f *testing.F) {
	addSeeds(f, (&Subscription{Topic: "rooms.1", Method: "heard"}).AppendTo(nil), (&Subscription{Topic: "t"}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		checkRoundTrip(t, p, (*Subscription).Decode, func(s *Subscription) []byte { return s.AppendTo(nil) },
			func(a, b *Subscription) bool { return *a == *b })
	})
}
