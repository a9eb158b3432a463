package abi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// unhex decodes a hex string, ignoring spaces, for readable test tables.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func wantHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if g := hex.EncodeToString(got); g != strings.ReplaceAll(want, " ", "") {
		t.Errorf("%s = %s, want %s", what, g, strings.ReplaceAll(want, " ", ""))
	}
}

// wantCBORError checks that err is a codec error whose message has every
// fragment in it.
func wantCBORError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", fragments)
	}
	if !errors.Is(err, ErrCBOR) {
		t.Errorf("error %q does not wrap ErrCBOR", err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

func TestAppendUint(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "00"},
		{1, "01"},
		{23, "17"},
		{24, "1818"},
		{25, "1819"},
		{100, "1864"},
		{255, "18ff"},
		{256, "190100"},
		{1000, "1903e8"},
		{65535, "19ffff"},
		{65536, "1a00010000"},
		{1000000, "1a000f4240"},
		{math.MaxUint32, "1affffffff"},
		{math.MaxUint32 + 1, "1b0000000100000000"},
		{1000000000000, "1b000000e8d4a51000"},
		{math.MaxUint64, "1bffffffffffffffff"},
	}
	for _, tt := range tests {
		b := AppendUint(nil, tt.v)
		wantHex(t, "AppendUint", b, tt.want)
		r := NewReader(b)
		got, err := r.ReadUint()
		if err != nil || got != tt.v || r.Len() != 0 {
			t.Errorf("ReadUint(%x) = %d, %v (left %d), want %d", b, got, err, r.Len(), tt.v)
		}
		if tt.v <= math.MaxInt64 {
			gi, err := NewReader(b).ReadInt()
			if err != nil || gi != int64(tt.v) {
				t.Errorf("ReadInt(%x) = %d, %v, want %d", b, gi, err, tt.v)
			}
		}
		gf, err := NewReader(b).ReadFloat()
		if err != nil || gf != float64(tt.v) {
			t.Errorf("ReadFloat(%x) = %g, %v, want %g", b, gf, err, float64(tt.v))
		}
		if k := NewReader(b).Kind(); k != KindUint {
			t.Errorf("Kind(%x) = %v, want %v", b, k, KindUint)
		}
	}
}

func TestAppendInt(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "00"},
		{1, "01"},
		{10, "0a"},
		{23, "17"},
		{24, "1818"},
		{-1, "20"},
		{-10, "29"},
		{-24, "37"},
		{-25, "3818"},
		{-100, "3863"},
		{-256, "38ff"},
		{-257, "390100"},
		{-1000, "3903e7"},
		{-65536, "39ffff"},
		{-65537, "3a00010000"},
		{-(1 << 32), "3affffffff"},
		{-(1 << 32) - 1, "3b0000000100000000"},
		{math.MaxInt64, "1b7fffffffffffffff"},
		{math.MinInt64, "3b7fffffffffffffff"},
	}
	for _, tt := range tests {
		b := AppendInt(nil, tt.v)
		wantHex(t, "AppendInt", b, tt.want)
		r := NewReader(b)
		got, err := r.ReadInt()
		if err != nil || got != tt.v || r.Len() != 0 {
			t.Errorf("ReadInt(%x) = %d, %v (left %d), want %d", b, got, err, r.Len(), tt.v)
		}
		gf, err := NewReader(b).ReadFloat()
		if err != nil || gf != float64(tt.v) {
			t.Errorf("ReadFloat(%x) = %g, %v, want %g", b, gf, err, float64(tt.v))
		}
		if tt.v < 0 {
			if k := NewReader(b).Kind(); k != KindNegInt {
				t.Errorf("Kind(%x) = %v, want %v", b, k, KindNegInt)
			}
			if _, err := NewReader(b).ReadUint(); err == nil {
				t.Errorf("ReadUint(%x) accepted a negative integer", b)
			}
		}
	}
}

func TestReadIntOverflow(t *testing.T) {
	for _, in := range []string{
		"1b8000000000000000", // 2^63
		"1bffffffffffffffff", // 2^64-1
		"3b8000000000000000", // -2^63-1
		"3bffffffffffffffff", // -2^64
	} {
		r := NewReader(unhex(t, in))
		_, err := r.ReadInt()
		wantCBORError(t, err, "overflows int64", "at byte 0")
		if r.Offset() != 0 {
			t.Errorf("ReadInt(%s) failed but consumed %d bytes", in, r.Offset())
		}
	}
	// ReadFloat still reads them, approximately.
	f, err := NewReader(unhex(t, "3bffffffffffffffff")).ReadFloat()
	if err != nil || f != -18446744073709551616.0 {
		t.Errorf("ReadFloat(-2^64) = %g, %v", f, err)
	}
}

// TestNonShortestHeads checks that every valid head width is accepted, not
// only the shortest one the writers produce.
func TestNonShortestHeads(t *testing.T) {
	for _, in := range []string{"05", "1805", "190005", "1a00000005", "1b0000000000000005"} {
		got, err := NewReader(unhex(t, in)).ReadUint()
		if err != nil || got != 5 {
			t.Errorf("ReadUint(%s) = %d, %v, want 5", in, got, err)
		}
	}
	for _, in := range []string{"24", "3804", "390004", "3a00000004", "3b0000000000000004"} {
		got, err := NewReader(unhex(t, in)).ReadInt()
		if err != nil || got != -5 {
			t.Errorf("ReadInt(%s) = %d, %v, want -5", in, got, err)
		}
	}
	for _, in := range []string{"6161", "780161", "79000161", "7a0000000161", "7b000000000000000161"} {
		got, err := NewReader(unhex(t, in)).ReadText()
		if err != nil || got != "a" {
			t.Errorf("ReadText(%s) = %q, %v, want \"a\"", in, got, err)
		}
	}
	for _, in := range []string{"a0", "b800", "b90000", "ba00000000", "bb0000000000000000"} {
		n, err := NewReader(unhex(t, in)).ReadMapHeader()
		if err != nil || n != 0 {
			t.Errorf("ReadMapHeader(%s) = %d, %v, want 0", in, n, err)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		n    int
		head string // head of the byte string; a text string has 0x60 added
	}{
		{0, "40"},
		{1, "41"},
		{23, "57"},
		{24, "5818"},
		{255, "58ff"},
		{256, "590100"},
		{65535, "59ffff"},
		{65536, "5a00010000"},
	}
	for _, tt := range tests {
		p := bytes.Repeat([]byte{'x'}, tt.n)
		head := unhex(t, tt.head)

		b := AppendBytes(nil, p)
		if !bytes.HasPrefix(b, head) || len(b) != len(head)+tt.n {
			t.Errorf("AppendBytes(len %d) head = %x, want %s", tt.n, b[:min(len(b), 9)], tt.head)
		}
		r := NewReader(b)
		got, err := r.ReadBytes()
		if err != nil || !bytes.Equal(got, p) || r.Len() != 0 {
			t.Errorf("ReadBytes(len %d) = len %d, %v", tt.n, len(got), err)
		}
		if NewReader(b).Kind() != KindBytes {
			t.Errorf("Kind of a byte string = %v", NewReader(b).Kind())
		}

		head[0] += 0x20 // byte string -> text string
		b = AppendText(nil, string(p))
		if !bytes.HasPrefix(b, head) || len(b) != len(head)+tt.n {
			t.Errorf("AppendText(len %d) head = %x, want %x", tt.n, b[:min(len(b), 9)], head)
		}
		s, err := NewReader(b).ReadText()
		if err != nil || s != string(p) {
			t.Errorf("ReadText(len %d) = len %d, %v", tt.n, len(s), err)
		}
		tb, err := NewReader(b).ReadTextBytes()
		if err != nil || !bytes.Equal(tb, p) {
			t.Errorf("ReadTextBytes(len %d) = len %d, %v", tt.n, len(tb), err)
		}
		if NewReader(b).Kind() != KindText {
			t.Errorf("Kind of a text string = %v", NewReader(b).Kind())
		}
		if _, err := NewReader(b).ReadBytes(); err == nil {
			t.Errorf("ReadBytes accepted a text string")
		}
	}
	wantHex(t, `AppendText("IETF")`, AppendText(nil, "IETF"), "6449455446")
	wantHex(t, `AppendText("ü")`, AppendText(nil, "\u00fc"), "62c3bc")
	wantHex(t, "AppendBytes(01020304)", AppendBytes(nil, []byte{1, 2, 3, 4}), "4401020304")
}

func TestReadBytesAliases(t *testing.T) {
	in := AppendBytes(AppendBytes(nil, []byte("ab")), []byte("cd"))
	r := NewReader(in)
	p, err := r.ReadBytes()
	if err != nil {
		t.Fatal(err)
	}
	in[1] = 'z'
	if string(p) != "zb" {
		t.Errorf("ReadBytes result does not alias the input: %q", p)
	}
	// The result's capacity ends with the string, so appending to it cannot
	// overwrite the next item.
	_ = append(p, '!')
	if q, err := r.ReadBytes(); err != nil || string(q) != "cd" {
		t.Errorf("next item after append = %q, %v", q, err)
	}
}

func TestContainers(t *testing.T) {
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536} {
		want := appendHead(nil, majorArray, uint64(n))
		b := AppendArrayHeader(nil, n)
		if !bytes.Equal(b, want) {
			t.Errorf("AppendArrayHeader(%d) = %x, want %x", n, b, want)
		}
		for i := 0; i < n; i++ {
			b = AppendUint(b, 0)
		}
		r := NewReader(b)
		got, err := r.ReadArrayHeader()
		if err != nil || got != n {
			t.Errorf("ReadArrayHeader(%d) = %d, %v", n, got, err)
		}
		if NewReader(b).Kind() != KindArray {
			t.Errorf("Kind of an array = %v", NewReader(b).Kind())
		}

		b = AppendMapHeader(nil, n)
		for i := 0; i < n; i++ {
			b = AppendUint(AppendUint(b, 0), 0)
		}
		got, err = NewReader(b).ReadMapHeader()
		if err != nil || got != n {
			t.Errorf("ReadMapHeader(%d) = %d, %v", n, got, err)
		}
		if NewReader(b).Kind() != KindMap {
			t.Errorf("Kind of a map = %v", NewReader(b).Kind())
		}
		if err := WellFormed(b); err != nil {
			t.Errorf("WellFormed(map of %d) = %v", n, err)
		}
	}
	wantHex(t, "AppendArrayHeader(3)", AppendArrayHeader(nil, 3), "83")
	wantHex(t, "AppendArrayHeader(25)", AppendArrayHeader(nil, 25), "9819")
	wantHex(t, "AppendMapHeader(2)", AppendMapHeader(nil, 2), "a2")
	wantHex(t, "AppendMapHeader(256)", AppendMapHeader(nil, 256), "b90100")
}

func TestSimpleValues(t *testing.T) {
	wantHex(t, "AppendBool(false)", AppendBool(nil, false), "f4")
	wantHex(t, "AppendBool(true)", AppendBool(nil, true), "f5")
	wantHex(t, "AppendNull", AppendNull(nil), "f6")

	for _, v := range []bool{false, true} {
		r := NewReader(AppendBool(nil, v))
		if r.Kind() != KindBool {
			t.Errorf("Kind(bool) = %v", r.Kind())
		}
		got, err := r.ReadBool()
		if err != nil || got != v || r.Len() != 0 {
			t.Errorf("ReadBool = %v, %v, want %v", got, err, v)
		}
	}
	for _, in := range []string{"f6", "f7"} { // null and undefined
		r := NewReader(unhex(t, in))
		if r.Kind() != KindNull {
			t.Errorf("Kind(%s) = %v, want null", in, r.Kind())
		}
		if err := r.ReadNull(); err != nil || r.Len() != 0 {
			t.Errorf("ReadNull(%s) = %v", in, err)
		}
	}
	for _, in := range []string{"00", "f6", "60", "f93c00", ""} {
		r := NewReader(unhex(t, in))
		if _, err := r.ReadBool(); err == nil || r.Offset() != 0 {
			t.Errorf("ReadBool(%s) = %v, offset %d; want an error and no progress", in, err, r.Offset())
		}
	}
	for _, in := range []string{"00", "f4", "40", ""} {
		r := NewReader(unhex(t, in))
		if err := r.ReadNull(); err == nil || r.Offset() != 0 {
			t.Errorf("ReadNull(%s) = %v, offset %d; want an error and no progress", in, err, r.Offset())
		}
	}
	// Unassigned simple values are well-formed and skippable, but not a kind
	// the Reader decodes.
	for _, in := range []string{"e0", "f3", "f820", "f8ff"} {
		if err := WellFormed(unhex(t, in)); err != nil {
			t.Errorf("WellFormed(%s) = %v", in, err)
		}
		if k := NewReader(unhex(t, in)).Kind(); k != KindInvalid {
			t.Errorf("Kind(%s) = %v, want invalid", in, k)
		}
	}
	// Two-byte simple values below 32 are not well-formed (RFC 8949 3.3).
	for _, in := range []string{"f800", "f814", "f81f"} {
		wantCBORError(t, WellFormed(unhex(t, in)), "invalid simple value")
	}
}

func TestFloats(t *testing.T) {
	// Examples from RFC 8949, appendix A.
	tests := []struct {
		in   string
		want float64
	}{
		{"f90000", 0},
		{"f98000", math.Copysign(0, -1)},
		{"f93c00", 1},
		{"f93e00", 1.5},
		{"f97bff", 65504},
		{"f90001", 5.960464477539063e-8},  // smallest subnormal half
		{"f903ff", 6.097555160522461e-05}, // largest subnormal half
		{"f90400", 0.00006103515625},      // smallest normal half
		{"f9c400", -4},
		{"f97c00", math.Inf(1)},
		{"f9fc00", math.Inf(-1)},
		{"fa47c35000", 100000},
		{"fa7f7fffff", 3.4028234663852886e+38},
		{"fa7f800000", math.Inf(1)},
		{"faff800000", math.Inf(-1)},
		{"fb3ff199999999999a", 1.1},
		{"fb7e37e43c8800759c", 1.0e+300},
		{"fbc010666666666666", -4.1},
		{"fb7ff0000000000000", math.Inf(1)},
		{"1864", 100},
		{"3863", -100},
	}
	for _, tt := range tests {
		r := NewReader(unhex(t, tt.in))
		got, err := r.ReadFloat()
		if err != nil || got != tt.want || math.Signbit(got) != math.Signbit(tt.want) || r.Len() != 0 {
			t.Errorf("ReadFloat(%s) = %g, %v, want %g", tt.in, got, err, tt.want)
		}
		if tt.in[0] == 'f' && NewReader(unhex(t, tt.in)).Kind() != KindFloat {
			t.Errorf("Kind(%s) = %v, want float", tt.in, NewReader(unhex(t, tt.in)).Kind())
		}
	}
	for _, in := range []string{"f97e00", "f97c01", "fa7fc00000", "fb7ff8000000000000"} {
		got, err := NewReader(unhex(t, in)).ReadFloat()
		if err != nil || !math.IsNaN(got) {
			t.Errorf("ReadFloat(%s) = %g, %v, want NaN", in, got, err)
		}
	}
	for _, in := range []string{"40", "60", "80", "a0", "c100", "f4", "f6", "f820", ""} {
		r := NewReader(unhex(t, in))
		if _, err := r.ReadFloat(); err == nil || r.Offset() != 0 {
			t.Errorf("ReadFloat(%s) = %v, offset %d; want an error and no progress", in, err, r.Offset())
		}
	}

	// AppendFloat always writes a double, which reads back exactly.
	wantHex(t, "AppendFloat(1.1)", AppendFloat(nil, 1.1), "fb3ff199999999999a")
	wantHex(t, "AppendFloat(0)", AppendFloat(nil, 0), "fb0000000000000000")
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -4.1, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()} {
		got, err := NewReader(AppendFloat(nil, f)).ReadFloat()
		if err != nil || math.Float64bits(got) != math.Float64bits(f) {
			t.Errorf("ReadFloat(AppendFloat(%g)) = %g, %v", f, got, err)
		}
	}
}

// TestHalfFloatsExhaustive checks every half-precision value against a
// conversion by another route: scaling the significand by a power of two.
func TestHalfFloatsExhaustive(t *testing.T) {
	for h := 0; h <= 0xffff; h++ {
		got, err := NewReader([]byte{0xf9, byte(h >> 8), byte(h)}).ReadFloat()
		if err != nil {
			t.Fatalf("ReadFloat(f9%04x): %v", h, err)
		}
		exp, frac := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && frac != 0:
			if !math.IsNaN(got) {
				t.Errorf("f9%04x = %g, want NaN", h, got)
			}
			continue
		case exp == 0x1f:
			want = math.Inf(1)
		case exp == 0:
			want = float64(frac) / (1 << 24)
		default:
			want = (1 + float64(frac)/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("f9%04x = %g, want %g", h, got, want)
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		in   string
		want Kind
	}{
		{"", KindInvalid},
		{"00", KindUint},
		{"20", KindNegInt},
		{"40", KindBytes},
		{"60", KindText},
		{"80", KindArray},
		{"a0", KindMap},
		{"c0", KindTag},
		{"f4", KindBool},
		{"f5", KindBool},
		{"f6", KindNull},
		{"f7", KindNull},
		{"f93c00", KindFloat},
		{"fa47c35000", KindFloat},
		{"fb3ff199999999999a", KindFloat},
		{"1c", KindInvalid},     // reserved additional information
		{"5f", KindInvalid},     // indefinite length
		{"ff", KindInvalid},     // break
		{"19", KindInvalid},     // truncated head
		{"fb3ff1", KindInvalid}, // truncated float
	}
	for _, tt := range tests {
		r := NewReader(unhex(t, tt.in))
		if got := r.Kind(); got != tt.want {
			t.Errorf("Kind(%s) = %v, want %v", tt.in, got, tt.want)
		}
		if r.Offset() != 0 {
			t.Errorf("Kind(%s) consumed input", tt.in)
		}
	}
	names := map[Kind]string{KindInvalid: "invalid", KindUint: "unsigned integer", KindNegInt: "negative integer",
		KindBytes: "byte string", KindText: "text string", KindArray: "array", KindMap: "map", KindTag: "tag",
		KindBool: "bool", KindNull: "null", KindFloat: "float", Kind(200): "kind(200)"}
	for k, want := range names {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

func TestTypeMismatch(t *testing.T) {
	text := AppendText(nil, "hi")
	tests := []struct {
		name string
		read func(r *Reader) error
		want string
	}{
		{"ReadUint", func(r *Reader) error { _, err := r.ReadUint(); return err }, "expected unsigned integer, found text string at byte 0"},
		{"ReadInt", func(r *Reader) error { _, err := r.ReadInt(); return err }, "expected integer, found text string"},
		{"ReadBytes", func(r *Reader) error { _, err := r.ReadBytes(); return err }, "expected byte string, found text string"},
		{"ReadArrayHeader", func(r *Reader) error { _, err := r.ReadArrayHeader(); return err }, "expected array, found text string"},
		{"ReadMapHeader", func(r *Reader) error { _, err := r.ReadMapHeader(); return err }, "expected map, found text string"},
		{"ReadBool", func(r *Reader) error { _, err := r.ReadBool(); return err }, "expected bool, found text string"},
		{"ReadNull", func(r *Reader) error { return r.ReadNull() }, "expected null, found text string"},
		{"ReadFloat", func(r *Reader) error { _, err := r.ReadFloat(); return err }, "expected number, found text string"},
	}
	for _, tt := range tests {
		r := NewReader(text)
		err := tt.read(r)
		wantCBORError(t, err, tt.want)
		if r.Offset() != 0 {
			t.Errorf("%s: failed but consumed %d bytes", tt.name, r.Offset())
		}
	}
	_, err := NewReader(AppendUint(nil, 1)).ReadText()
	wantCBORError(t, err, "expected text string, found unsigned integer")
}

// TestTruncated checks that every proper prefix of a well-formed item is
// rejected by the matching Read method, by Skip and by WellFormed.
func TestTruncated(t *testing.T) {
	nested := AppendArrayHeader(nil, 3)
	nested = AppendUint(nested, 1)
	nested = AppendText(AppendMapHeader(nested, 1), "k")
	nested = AppendBytes(AppendArrayHeader(nested, 1), []byte("value"))
	nested = append(nested, 0xc1, 0x1a, 0, 1, 0, 0) // tag 1(65536)
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader) error
	}{
		{"uint8", AppendUint(nil, 200), func(r *Reader) error { _, err := r.ReadUint(); return err }},
		{"uint16", AppendUint(nil, 60000), func(r *Reader) error { _, err := r.ReadUint(); return err }},
		{"uint32", AppendUint(nil, 1<<31), func(r *Reader) error { _, err := r.ReadUint(); return err }},
		{"uint64", AppendUint(nil, 1<<40), func(r *Reader) error { _, err := r.ReadUint(); return err }},
		{"int64", AppendInt(nil, -1<<40), func(r *Reader) error { _, err := r.ReadInt(); return err }},
		{"bytes", AppendBytes(nil, make([]byte, 300)), func(r *Reader) error { _, err := r.ReadBytes(); return err }},
		{"text", AppendText(nil, "hello"), func(r *Reader) error { _, err := r.ReadText(); return err }},
		{"array", AppendArrayHeader(nil, 70000), func(r *Reader) error { _, err := r.ReadArrayHeader(); return err }},
		{"map", AppendMapHeader(nil, 300), func(r *Reader) error { _, err := r.ReadMapHeader(); return err }},
		{"half", unhex(t, "f93c00"), func(r *Reader) error { _, err := r.ReadFloat(); return err }},
		{"single", unhex(t, "fa47c35000"), func(r *Reader) error { _, err := r.ReadFloat(); return err }},
		{"double", AppendFloat(nil, 1.1), func(r *Reader) error { _, err := r.ReadFloat(); return err }},
		{"nested", nested, func(r *Reader) error { return r.Skip() }},
	}
	for _, tt := range tests {
		// Containers' heads are complete on their own; for them only the
		// head's prefixes are truncated items.
		end := len(tt.in)
		if tt.name == "array" || tt.name == "map" {
			end = len(tt.in) - 1
		}
		for i := 0; i < end; i++ {
			p := tt.in[:i]
			r := NewReader(p)
			if err := tt.read(r); err == nil {
				t.Errorf("%s: prefix %x accepted", tt.name, p)
			} else if !errors.Is(err, ErrCBOR) {
				t.Errorf("%s: prefix %x: error %q does not wrap ErrCBOR", tt.name, p, err)
			}
			if err := WellFormed(p); err == nil {
				t.Errorf("%s: WellFormed(%x) accepted a truncated item", tt.name, p)
			}
		}
		if tt.name != "array" && tt.name != "map" {
			if err := WellFormed(tt.in); err != nil {
				t.Errorf("%s: WellFormed(whole) = %v", tt.name, err)
			}
		}
	}
}

func TestIndefiniteLengthRejected(t *testing.T) {
	for _, in := range []string{
		"5f4101ff",      // indefinite byte string
		"7f6161ff",      // indefinite text string
		"9f01ff",        // indefinite array
		"bf0101ff",      // indefinite map
		"ff",            // a lone break
		"8201 9f01ff",   // nested in an array
		"a101 5f4101ff", // nested in a map
		"c1 9fff",       // under a tag
	} {
		wantCBORError(t, WellFormed(unhex(t, in)), "indefinite-length items are not supported")
	}
	for _, read := range []func(r *Reader) error{
		func(r *Reader) error { _, err := r.ReadBytes(); return err },
		func(r *Reader) error { _, err := r.ReadText(); return err },
		func(r *Reader) error { _, err := r.ReadArrayHeader(); return err },
		func(r *Reader) error { _, err := r.ReadMapHeader(); return err },
	} {
		for _, in := range []string{"5f4101ff", "7f6161ff", "9f01ff", "bf0101ff"} {
			wantCBORError(t, read(NewReader(unhex(t, in))), "indefinite-length")
		}
	}
}

func TestReservedAdditionalInformation(t *testing.T) {
	for _, major := range []byte{0, 1, 2, 3, 4, 5, 6, 7} {
		for _, info := range []byte{28, 29, 30} {
			p := []byte{major<<5 | info, 0, 0, 0, 0, 0, 0, 0, 0}
			wantCBORError(t, WellFormed(p), "reserved additional information")
		}
	}
}

// TestLengthsLargerThanInput checks that a length the input cannot hold is
// rejected, and rejected before anything of that size is allocated.
func TestLengthsLargerThanInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		read func(r *Reader) error
		want string
	}{
		{"bytes 2^32", "5b0000000100000000", func(r *Reader) error { _, err := r.ReadBytes(); return err }, "byte string longer than the input at byte 0"},
		{"bytes 2^64-1", "5bffffffffffffffff", func(r *Reader) error { _, err := r.ReadBytes(); return err }, "byte string longer than the input"},
		{"bytes 2 of 1", "4201", func(r *Reader) error { _, err := r.ReadBytes(); return err }, "byte string longer than the input"},
		{"text 2^31", "7a80000000", func(r *Reader) error { _, err := r.ReadText(); return err }, "text string longer than the input"},
		{"text 2^63", "7b8000000000000000", func(r *Reader) error { _, err := r.ReadTextBytes(); return err }, "text string longer than the input"},
		{"array 2^32", "9b0000000100000000", func(r *Reader) error { _, err := r.ReadArrayHeader(); return err }, "array longer than the input"},
		{"array 2 of 1", "8201", func(r *Reader) error { _, err := r.ReadArrayHeader(); return err }, "array longer than the input"},
		{"map 2^32", "bb0000000100000000", func(r *Reader) error { _, err := r.ReadMapHeader(); return err }, "map longer than the input"},
		{"map 2^63", "bb8000000000000000", func(r *Reader) error { _, err := r.ReadMapHeader(); return err }, "map longer than the input"},
		{"map 2 of 3 bytes", "a2010203", func(r *Reader) error { _, err := r.ReadMapHeader(); return err }, "map longer than the input"},
		{"skip bytes 2^64-1", "5bffffffffffffffff", func(r *Reader) error { return r.Skip() }, "string longer than the input"},
		{"skip array 2^64-1", "9bffffffffffffffff", func(r *Reader) error { return r.Skip() }, "array longer than the input"},
		{"skip map 2^63", "bb8000000000000000", func(r *Reader) error { return r.Skip() }, "map longer than the input"},
		// Counts that would wrap the pending-item counter around.
		{"skip nested array 2^64-1", "82 9bffffffffffffffff", func(r *Reader) error { return r.Skip() }, "array longer than the input"},
		{"skip nested map 2^63-1", "84 00 bb7fffffffffffffff", func(r *Reader) error { return r.Skip() }, "map longer than the input"},
		{"skip nested map 2^64-1", "82 bbffffffffffffffff", func(r *Reader) error { return r.Skip() }, "map longer than the input"},
	}
	for _, tt := range tests {
		p := unhex(t, tt.in)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		err := tt.read(NewReader(p))
		runtime.ReadMemStats(&ms1)
		wantCBORError(t, err, tt.want)
		if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 64<<10 {
			t.Errorf("%s: allocated %d bytes while rejecting", tt.name, grew)
		}
		if err := WellFormed(p); err == nil {
			t.Errorf("%s: WellFormed accepted it", tt.name)
		}
	}
	// A count the input can hold is accepted even though the items are not
	// checked by the header read.
	if n, err := NewReader(unhex(t, "83010203")).ReadArrayHeader(); err != nil || n != 3 {
		t.Errorf("ReadArrayHeader(83010203) = %d, %v", n, err)
	}
}

func TestSkip(t *testing.T) {
	// [1, -2, h'0102', "x", [2, [3]], {1: {2: [4]}, "k": 5}, 1(1363896240),
	//  32(33("nested tags")), true, null, 1.5 (half), 100000.0 (single),
	//  1.1 (double), simple(255), 0 as a non-shortest uint64]
	var in []byte
	in = AppendArrayHeader(in, 15)
	in = AppendUint(in, 1)
	in = AppendInt(in, -2)
	in = AppendBytes(in, []byte{1, 2})
	in = AppendText(in, "x")
	in = AppendUint(AppendArrayHeader(in, 2), 2)
	in = AppendUint(AppendArrayHeader(in, 1), 3)
	in = AppendUint(AppendMapHeader(in, 2), 1)
	in = AppendUint(AppendMapHeader(in, 1), 2)
	in = AppendUint(AppendArrayHeader(in, 1), 4)
	in = AppendUint(AppendText(in, "k"), 5)
	in = append(in, unhex(t, "c11a514b67b0")...)
	in = AppendText(append(in, 0xd8, 0x20, 0xd8, 0x21), "nested tags")
	in = AppendNull(AppendBool(in, true))
	in = append(in, unhex(t, "f93e00 fa47c35000")...)
	in = AppendFloat(in, 1.1)
	in = append(in, unhex(t, "f8ff 1b0000000000000000")...)
	const tail = "\x07"
	in = append(in, tail...)

	r := NewReader(in)
	raw, err := r.Raw()
	if err != nil {
		t.Fatalf("Raw: %v", err)
	}
	if !bytes.Equal(raw, in[:len(in)-len(tail)]) || r.Len() != len(tail) {
		t.Errorf("Raw consumed %d of %d bytes", len(raw), len(in))
	}
	if err := WellFormed(raw); err != nil {
		t.Errorf("WellFormed: %v", err)
	}
	wantCBORError(t, WellFormed(in), "trailing bytes after the item")

	// Skip each item of the array in turn.
	r = NewReader(in)
	n, err := r.ReadArrayHeader()
	if err != nil || n != 15 {
		t.Fatalf("ReadArrayHeader = %d, %v", n, err)
	}
	for i := 0; i < n; i++ {
		if err := r.Skip(); err != nil {
			t.Fatalf("Skip item %d: %v", i, err)
		}
	}
	if v, err := r.ReadUint(); err != nil || v != 7 {
		t.Errorf("item after the array = %d, %v", v, err)
	}
	if err := r.Skip(); err == nil {
		t.Errorf("Skip at the end of the input succeeded")
	}
	wantCBORError(t, WellFormed(nil), "unexpected end of input")
}

// TestSkipDeep checks that Skip handles nesting far deeper than a recursive
// decoder could, without exhausting the stack.
func TestSkipDeep(t *testing.T) {
	const depth = 1 << 20
	for _, lead := range []byte{0x81, 0xc1, 0xa1} { // [[[...]]], 1(1(...)), {0:{0:...}}
		var in []byte
		for i := 0; i < depth; i++ {
			in = append(in, lead)
			if lead == 0xa1 {
				in = append(in, 0x00)
			}
		}
		in = append(in, 0x00)
		if err := WellFormed(in); err != nil {
			t.Errorf("WellFormed(%x nested %d deep) = %v", lead, depth, err)
		}
		if err := WellFormed(in[:len(in)-1]); err == nil {
			t.Errorf("WellFormed(%x nested, truncated) accepted", lead)
		}
	}
}

func TestReaderState(t *testing.T) {
	var zero Reader
	if zero.Len() != 0 || zero.Kind() != KindInvalid {
		t.Errorf("zero Reader: Len %d, Kind %v", zero.Len(), zero.Kind())
	}
	if _, err := zero.ReadUint(); err == nil {
		t.Errorf("zero Reader: ReadUint succeeded")
	}
	in := AppendText(AppendUint(nil, 500), "ab")
	r := NewReader(in)
	if r.Len() != len(in) || r.Offset() != 0 {
		t.Errorf("new Reader: Len %d, Offset %d", r.Len(), r.Offset())
	}
	if v, _ := r.ReadUint(); v != 500 || r.Offset() != 3 || r.Len() != 3 {
		t.Errorf("after ReadUint: %d, Offset %d, Len %d", v, r.Offset(), r.Len())
	}
	r.Reset(in)
	if r.Offset() != 0 || r.Len() != len(in) {
		t.Errorf("after Reset: Offset %d, Len %d", r.Offset(), r.Len())
	}
	r.Reset(AppendBool(nil, true))
	if v, err := r.ReadBool(); err != nil || !v {
		t.Errorf("after Reset to true: %v, %v", v, err)
	}
	// A failed read reports where it failed.
	r.Reset(AppendText(AppendUint(nil, 1), "x"))
	_, _ = r.ReadUint()
	_, err := r.ReadUint()
	wantCBORError(t, err, "at byte 1")
}
