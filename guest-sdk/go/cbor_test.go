package wactor_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	p, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMapBuilderEncoding(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"empty", wactor.NewMap().Encode(), "a0"},
		{"zero builder", new(wactor.MapBuilder).Encode(), "a0"},
		{"int", wactor.NewMap().Int("n", 7).Encode(), "a1616e07"},
		{"negative", wactor.NewMap().Int("n", -1).Encode(), "a1616e20"},
		{"text", wactor.NewMap().Text("a", "hi").Encode(), "a161616268 69"},
		{"bool null", wactor.NewMap().Bool("t", true).Null("z").Encode(), "a26174f5617af6"},
		{"bytes", wactor.NewMap().Bytes("b", []byte{1, 2}).Encode(), "a161624201 02"},
		{"uint", wactor.NewMap().Uint("u", 1<<40).Encode(), "a161751b0000010000000000"},
		{"float", wactor.NewMap().Float("f", 1.5).Encode(), "a16166fb3ff8000000000000"},
		{"nested", wactor.NewMap().Map("m", wactor.NewMap().Int("x", 1)).Array("a", wactor.NewArray().Int(1).Text("b")).Encode(),
			"a2616da16178 01 6161 82 01 6162"},
		{"array", wactor.NewArray().Bool(false).Null().Bytes(nil).Uint(2).Float(0).Map(wactor.NewMap()).Array(wactor.NewArray()).Raw([]byte{0x05}).Encode(),
			"88 f4 f6 40 02 fb0000000000000000 a0 80 05"},
		{"zero array builder", new(wactor.ArrayBuilder).Int(1).Encode(), "8101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, string(bytes.ReplaceAll([]byte(tt.want), []byte(" "), nil)))
			if !bytes.Equal(tt.got, want) {
				t.Errorf("got %x, want %x", tt.got, want)
			}
			if err := abi.WellFormed(tt.got); err != nil {
				t.Errorf("not well-formed: %v", err)
			}
		})
	}
}

func TestMapBuilderManyEntries(t *testing.T) {
	// Past 23 and 255 entries the head grows; it must still fit in front.
	for _, n := range []int{23, 24, 255, 256, 70000} {
		m := wactor.NewMap()
		for i := 0; i < n; i++ {
			m.Int("k", int64(i))
		}
		d, err := wactor.ParseDoc(m.Encode())
		if err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
		if d.Len() != n || m.Len() != n {
			t.Fatalf("Len = %d, %d; want %d", d.Len(), m.Len(), n)
		}
	}
}

func TestDocAccessors(t *testing.T) {
	payload := wactor.NewMap().
		Int("n", -7).
		Float("whole", 42.0).
		Float("half", 2.5).
		Text("name", "Ada").
		Bytes("raw", []byte{9}).
		Bool("ok", true).
		Null("nothing").
		Map("inner", wactor.NewMap().Int("x", 1)).
		Array("list", wactor.NewArray().Int(10).Text("eleven")).
		Encode()
	d, err := wactor.ParseDoc(payload)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := d.Int("n"); n != -7 || !ok {
		t.Errorf("Int(n) = %d, %v", n, ok)
	}
	if n, ok := d.Int("whole"); n != 42 || !ok {
		t.Errorf("Int(whole) = %d, %v; an integral float counts as an int", n, ok)
	}
	if _, ok := d.Int("half"); ok {
		t.Error("Int(half) ok for 2.5")
	}
	if _, ok := d.Int("name"); ok {
		t.Error("Int(name) ok for text")
	}
	if _, ok := d.Int("missing"); ok {
		t.Error("Int(missing) ok")
	}
	if f, ok := d.Float("n"); f != -7 || !ok {
		t.Errorf("Float(n) = %v, %v", f, ok)
	}
	if f, ok := d.Float("half"); f != 2.5 || !ok {
		t.Errorf("Float(half) = %v, %v", f, ok)
	}
	if s, ok := d.Text("name"); s != "Ada" || !ok {
		t.Errorf("Text(name) = %q, %v", s, ok)
	}
	if _, ok := d.Text("raw"); ok {
		t.Error("Text(raw) ok for bytes")
	}
	if b, ok := d.Bytes("raw"); !bytes.Equal(b, []byte{9}) || !ok {
		t.Errorf("Bytes(raw) = %x, %v", b, ok)
	}
	if b, ok := d.Bool("ok"); !b || !ok {
		t.Errorf("Bool(ok) = %v, %v", b, ok)
	}
	if !d.Get("nothing").IsNull() || !d.Has("nothing") || d.Has("missing") || d.Get("missing").Exists() {
		t.Error("null and missing keys are confused")
	}
	if d.Get("name").Kind() != abi.KindText {
		t.Errorf("Kind = %v", d.Get("name").Kind())
	}
	inner, ok := d.Map("inner")
	if x, _ := inner.Int("x"); !ok || x != 1 {
		t.Errorf("Map(inner) = %v, %v", inner, ok)
	}
	list, ok := d.Array("list")
	if !ok || list.Len() != 2 {
		t.Fatalf("Array(list) = %v, %v", list, ok)
	}
	if s, _ := list.At(1).Text(); s != "eleven" {
		t.Errorf("list[1] = %q", s)
	}
	if list.At(2).Exists() || list.At(-1).Exists() {
		t.Error("out-of-range items exist")
	}
	var sum int64
	for i, v := range list.All() {
		if n, ok := v.Int(); ok {
			sum += n + int64(i)
		}
	}
	if sum != 10 {
		t.Errorf("sum over All = %d", sum)
	}
	var keys []string
	for k := range d.All() {
		keys = append(keys, k)
		if k == "ok" {
			break
		}
	}
	if len(keys) != 6 || keys[0] != "n" || keys[5] != "ok" {
		t.Errorf("keys = %q", keys)
	}
	if _, ok := d.Map("n"); ok {
		t.Error("Map(n) ok for an int")
	}
	if _, ok := d.Array("inner"); ok {
		t.Error("Array(inner) ok for a map")
	}
}

func TestIntRange(t *testing.T) {
	tests := []struct {
		cbor string
		want int64
		ok   bool
	}{
		{"1b7fffffffffffffff", math.MaxInt64, true},
		{"1b8000000000000000", 0, false}, // overflows int64
		{"3b7fffffffffffffff", math.MinInt64, true},
		{"fbc3e0000000000000", math.MinInt64, true}, // -2^63 as a float
		{"fb43e0000000000000", 0, false},            // 2^63 as a float
		{"f97e00", 0, false},                        // NaN
		{"0102", 0, false},                          // trailing bytes
	}
	for _, tt := range tests {
		n, ok := wactor.ValueOf(unhex(t, tt.cbor)).Int()
		if n != tt.want || ok != tt.ok {
			t.Errorf("%s: Int = %d, %v; want %d, %v", tt.cbor, n, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDocErrors(t *testing.T) {
	for _, bad := range []string{
		"01",          // not a map
		"a1016161",    // integer key
		"a16161",      // truncated value
		"a0 00",       // trailing bytes
		"bf ff",       // indefinite length
		"a1616182 01", // nested array truncated
	} {
		_, err := wactor.ParseDoc(unhex(t, string(bytes.ReplaceAll([]byte(bad), []byte(" "), nil))))
		if !errors.Is(err, wactor.ErrBadRequest) {
			t.Errorf("%s: err = %v, want bad_request", bad, err)
		}
	}
	d, err := wactor.ParseDoc(nil)
	if err != nil || d.Len() != 0 {
		t.Errorf("ParseDoc(nil) = %v, %v; want an empty Doc", d, err)
	}
}

func TestValueOfStateValue(t *testing.T) {
	v := wactor.ValueOf(abi.AppendInt(nil, 12))
	if n, ok := v.Int(); n != 12 || !ok {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if v.Raw()[0] != 0x0c {
		t.Errorf("Raw = %x", v.Raw())
	}
	var zero wactor.Value
	if _, ok := zero.Int(); ok || zero.Exists() || zero.Kind() != abi.KindInvalid {
		t.Error("the zero Value is not absent")
	}
}

func FuzzParseDoc(f *testing.F) {
	f.Add([]byte{0xa0})
	f.Add(wactor.NewMap().Int("n", 7).Map("m", wactor.NewMap().Text("a", "b")).Array("l", wactor.NewArray().Float(1)).Encode())
	f.Add([]byte{0xa1, 0x61, 0x61, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := wactor.ParseDoc(p)
		if err != nil {
			return
		}
		walkDoc(d, 0)
	})
}

func walkDoc(d wactor.Doc, depth int) {
	for _, v := range d.All() {
		walk(v, depth)
	}
}

func walk(v wactor.Value, depth int) {
	if depth > 50 {
		return
	}
	v.Int()
	v.Float()
	v.Text()
	v.Bytes()
	v.Bool()
	v.IsNull()
	if m, ok := v.Map(); ok {
		walkDoc(m, depth+1)
	}
	if a, ok := v.Array(); ok {
		for _, item := range a.All() {
			walk(item, depth+1)
		}
	}
}
