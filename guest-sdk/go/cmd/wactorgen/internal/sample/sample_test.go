package sample

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func full() Order {
	note := "leave at the door"
	return Order{
		ID: "o-1", Qty: -3, Small: -8, Level: 300, Count: 7, Big: math.MaxUint64,
		Price: 12.5, Ratio: 0.25, Paid: true, Blob: []byte{0, 1, 2},
		Tags:   Tags{"a", "b"},
		Lines:  []Line{{SKU: "x", N: 1}, {SKU: "y", N: 2}},
		Extra:  map[string]int64{"b": 2, "a": 1},
		ByName: map[string]*Line{"x": {SKU: "x", N: 1}, "nil": nil},
		Note:   &note, Ship: &Address{Street: "1 Main St", City: "Oslo"},
		Bill:  Address{Street: "2 Side St"},
		Owner: wactor.Ref{Type: "customer", ID: "c/9"}, Total: 42,
		Matrix: [][]int{{1, 2}, nil, {}},
		NoTag:  "kept", Skipped: "dropped",
	}
}

func TestRoundTrip(t *testing.T) {
	in := full()
	enc := in.MarshalCBOR(nil)
	if err := abi.WellFormed(enc); err != nil {
		t.Fatalf("encoding %x is not well-formed: %v", enc, err)
	}
	var out Order
	if err := out.UnmarshalCBOR(enc); err != nil {
		t.Fatal(err)
	}
	want := in
	want.Skipped = ""
	want.Matrix = [][]int{{1, 2}, {}, {}} // a nil slice inside a slice encodes as []
	if !reflect.DeepEqual(out, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, want)
	}
	if again := out.MarshalCBOR(nil); !bytes.Equal(again, enc) {
		t.Errorf("the encoding is not stable (map keys must be sorted):\n%x\n%x", again, enc)
	}
}

func TestEncoding(t *testing.T) {
	// A map with text keys in field order: what the gateway turns into
	// the JSON object {"n":2,"sku":"x"}.
	got := Line{SKU: "x", N: 2}.MarshalCBOR(nil)
	want := wactor.NewMap().Text("sku", "x").Int("n", 2).Encode()
	if !bytes.Equal(got, want) {
		t.Errorf("Line = %x, want %x", got, want)
	}
	// omitempty leaves out zero values; the rest is always written.
	var doc wactor.Doc
	doc, err := wactor.ParseDoc(Order{}.MarshalCBOR(nil))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc.All() {
		keys = append(keys, k)
	}
	wantKeys := []string{"id", "qty", "level", "price", "paid", "lines", "bill", "owner", "total", "NoTag"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("keys of the zero Order = %q, want %q", keys, wantKeys)
	}
	if !doc.Get("lines").Exists() || doc.Get("lines").Kind() != abi.KindArray {
		t.Errorf("nil lines encode as %x, want []", doc.Get("lines").Raw())
	}
	if got := (Empty{}).MarshalCBOR(nil); !bytes.Equal(got, []byte{0xa0}) {
		t.Errorf("Empty = %x, want a0", got)
	}
}

// TestDecodeJSONShapes decodes what the gateway makes of JSON: integral
// numbers as integers, others as float64, keys in any order, unknown keys
// and nulls.
func TestDecodeJSONShapes(t *testing.T) {
	p := wactor.NewMap().
		Text("unknown", "skipped").
		Float("qty", 7). // 7.0
		Int("price", 3).
		Int("count", 4).
		Null("ship").
		Null("tags").
		Array("lines", wactor.NewArray().Map(wactor.NewMap().Text("sku", "a").Int("n", 1).Map("deep", wactor.NewMap()))).
		Map("extra", wactor.NewMap().Int("k", -1)).
		Text("owner", "customer/7").
		Encode()
	var o Order
	if err := o.UnmarshalCBOR(p); err != nil {
		t.Fatal(err)
	}
	want := Order{Qty: 7, Price: 3, Count: 4, Lines: []Line{{SKU: "a", N: 1}},
		Extra: map[string]int64{"k": -1}, Owner: wactor.Ref{Type: "customer", ID: "7"}}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %+v\nwant %+v", o, want)
	}
	// A reused value is reset, and no payload is {}.
	if err := o.UnmarshalCBOR(nil); err != nil || !reflect.DeepEqual(o, Order{}) {
		t.Errorf("decoding no payload = %+v, %v", o, err)
	}
}

func TestFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload *wactor.MapBuilder
		field   string
		msg     string
	}{
		{"wrong type", wactor.NewMap().Text("qty", "seven"), "qty", "expected an integer, found text string"},
		{"fraction", wactor.NewMap().Float("qty", 1.5), "qty", "expected an integer, found float"},
		{"int8 range", wactor.NewMap().Int("small", 300), "small", "300 is out of the range of int8"},
		{"uint32 range", wactor.NewMap().Int("count", 1<<40), "count", "1099511627776 is out of the range of uint32"},
		{"negative uint", wactor.NewMap().Int("count", -1), "count", "expected a non-negative integer, found negative integer"},
		{"nested", wactor.NewMap().Array("lines", wactor.NewArray().Map(wactor.NewMap().Text("n", "x"))), "lines.n", "expected an integer, found text string"},
		{"nested not a map", wactor.NewMap().Int("bill", 5), "bill", "payload is not a CBOR map with text keys: cbor: expected map, found unsigned integer at byte 0"},
		{"not an array", wactor.NewMap().Int("tags", 5), "tags", "expected an array, found unsigned integer"},
		{"bad ref", wactor.NewMap().Text("owner", "noslash"), "owner", ""},
		{"bool", wactor.NewMap().Int("paid", 1), "paid", "expected a bool, found unsigned integer"},
		{"bytes from text", wactor.NewMap().Text("blob", "AAE="), "blob", "expected a byte string, found text string"},
	} {
		var o Order
		err := o.UnmarshalCBOR(tc.payload.Text("id", "still read").Encode())
		var fe *wactor.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || (tc.msg != "" && fe.Msg != tc.msg) {
			t.Errorf("%s: err = %v, want a FieldError on %q: %s", tc.name, err, tc.field, tc.msg)
		}
		if o.ID != "still read" {
			t.Errorf("%s: decoding stopped at the bad field", tc.name)
		}
	}
}

func TestMalformed(t *testing.T) {
	good := Line{SKU: "x", N: 2}.MarshalCBOR(nil)
	for name, p := range map[string][]byte{
		"array":     abi.AppendArrayHeader(nil, 0),
		"truncated": good[:len(good)-2],
		"trailing":  append(good[:len(good):len(good)], 0),
		"int key":   {0xa1, 0x01, 0x02},
	} {
		var l Line
		err := l.UnmarshalCBOR(p)
		var fe *wactor.FieldError
		if !errors.Is(err, wactor.ErrBadRequest) || errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a bad_request *wactor.Error", name, err)
		}
	}
}

// FuzzUnmarshal checks that the generated decoder never panics and that
// what it accepts encodes stably.
func FuzzUnmarshal(f *testing.F) {
	f.Add(full().MarshalCBOR(nil))
	f.Add(Order{}.MarshalCBOR(nil))
	f.Add([]byte{})
	f.Add([]byte{0xa1, 0x63, 'q', 't', 'y', 0xfb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		var o Order
		if err := o.UnmarshalCBOR(p); err != nil {
			var fe *wactor.FieldError
			if !errors.As(err, &fe) && !errors.Is(err, wactor.ErrBadRequest) {
				t.Fatalf("error %v (%T) is neither a FieldError nor bad_request", err, err)
			}
			return
		}
		enc := o.MarshalCBOR(nil)
		var back Order
		if err := back.UnmarshalCBOR(enc); err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if again := back.MarshalCBOR(nil); !bytes.Equal(again, enc) {
			t.Fatalf("unstable encoding:\n%x\n%x", enc, again)
		}
	})
}

// TestRejectedOptional checks that a rejected value leaves an optional
// field nil, so a request's Validate can tell it was not given.
func TestRejectedOptional(t *testing.T) {
	var o Order
	err := o.UnmarshalCBOR(wactor.NewMap().Int("note", 5).Int("ship", 5).Map("by_name", wactor.NewMap().Int("x", 1)).Encode())
	var fe *wactor.FieldError
	if !errors.As(err, &fe) || fe.Field != "note" {
		t.Fatalf("err = %v, want a FieldError on note", err)
	}
	if o.Note != nil || o.Ship != nil || o.ByName["x"] != nil {
		t.Errorf("rejected values set pointers: note %v, ship %v, by_name %v", o.Note, o.Ship, o.ByName)
	}
}
