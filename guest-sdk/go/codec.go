package wactor

import (
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/wactor/wactor/abi"
)

// Typed payloads. A type that encodes itself as one CBOR item implements
// Marshaler, one that decodes itself implements Unmarshaler; the typed
// handlers, state cells and asks work on such types. cmd/wactorgen writes
// both methods for an author's structs, as CBOR maps with text keys (JSON
// objects over HTTP); Int, Uint, Float, Text, Bytes, Bool and Empty cover
// payloads that are a single value. Nothing here uses reflection.

// Marshaler is a value that appends its CBOR encoding to dst and returns
// the extended slice. An encoding of no bytes at all means "no payload".
type Marshaler interface {
	MarshalCBOR(dst []byte) []byte
}

// Unmarshaler is a value that decodes itself from one CBOR item. It must
// copy what it keeps: p is only valid during the call.
type Unmarshaler interface {
	UnmarshalCBOR(p []byte) error
}

// Codec is the constraint of the typed API's pointer type parameters: PT is
// *T and encodes and decodes a T. Generated types and the built-in ones
// (Int, Text, ...) satisfy it with a value-receiver MarshalCBOR and a
// pointer-receiver UnmarshalCBOR. Calls need not name PT, Go infers it:
// wactor.NewState[wactor.Int]("n").
type Codec[T any] interface {
	*T
	Marshaler
	Unmarshaler
}

// Empty is no payload: it encodes as nothing and decodes from anything, so
// a method that takes or returns nothing is HandleTyped with Empty.
type Empty struct{}

// MarshalCBOR appends nothing.
func (Empty) MarshalCBOR(dst []byte) []byte { return dst }

// UnmarshalCBOR ignores p.
func (*Empty) UnmarshalCBOR([]byte) error { return nil }

// Int is an int64 payload or state value: a CBOR integer. It decodes from
// an integer or a float with an integral value in range (JSON 7.0).
type Int int64

// MarshalCBOR appends i as a CBOR integer.
func (i Int) MarshalCBOR(dst []byte) []byte { return abi.AppendInt(dst, int64(i)) }

// UnmarshalCBOR decodes an integer.
func (i *Int) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *i = Int(d.Int("", 64)) })
}

// Uint is a uint64 payload or state value: a CBOR unsigned integer.
type Uint uint64

// MarshalCBOR appends u as a CBOR unsigned integer.
func (u Uint) MarshalCBOR(dst []byte) []byte { return abi.AppendUint(dst, uint64(u)) }

// UnmarshalCBOR decodes an unsigned integer.
func (u *Uint) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *u = Uint(d.Uint("", 64)) })
}

// Float is a float64 payload or state value; it decodes from any number.
type Float float64

// MarshalCBOR appends f as a double.
func (f Float) MarshalCBOR(dst []byte) []byte { return abi.AppendFloat(dst, float64(f)) }

// UnmarshalCBOR decodes a number.
func (f *Float) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *f = Float(d.Float("")) })
}

// Text is a string payload or state value: a CBOR text string.
type Text string

// MarshalCBOR appends t as a text string.
func (t Text) MarshalCBOR(dst []byte) []byte { return abi.AppendText(dst, string(t)) }

// UnmarshalCBOR decodes a text string.
func (t *Text) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *t = Text(d.Text("")) })
}

// Bytes is a byte-string payload or state value.
type Bytes []byte

// MarshalCBOR appends b as a byte string.
func (b Bytes) MarshalCBOR(dst []byte) []byte { return abi.AppendBytes(dst, b) }

// UnmarshalCBOR decodes a byte string, copying it.
func (b *Bytes) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *b = d.Bytes("") })
}

// Bool is a bool payload or state value.
type Bool bool

// MarshalCBOR appends true or false.
func (b Bool) MarshalCBOR(dst []byte) []byte { return abi.AppendBool(dst, bool(b)) }

// UnmarshalCBOR decodes true or false.
func (b *Bool) UnmarshalCBOR(p []byte) error {
	return decodeOne(p, func(d *Decoder) { *b = Bool(d.Bool("")) })
}

// decodeOne decodes the single item p holds with read.
func decodeOne(p []byte, read func(*Decoder)) error {
	var d Decoder
	d.Reset(p)
	read(&d)
	return d.Finish()
}

// Encoding functions for generated MarshalCBOR methods and hand-written
// ones: each appends one item (or a container's head) to b.

// AppendInt appends a CBOR integer.
func AppendInt(b []byte, v int64) []byte { return abi.AppendInt(b, v) }

// AppendUint appends a CBOR unsigned integer.
func AppendUint(b []byte, v uint64) []byte { return abi.AppendUint(b, v) }

// AppendFloat appends a double.
func AppendFloat(b []byte, v float64) []byte { return abi.AppendFloat(b, v) }

// AppendText appends a text string.
func AppendText(b []byte, s string) []byte { return abi.AppendText(b, s) }

// AppendBytes appends a byte string.
func AppendBytes(b, p []byte) []byte { return abi.AppendBytes(b, p) }

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte { return abi.AppendBool(b, v) }

// AppendNull appends null.
func AppendNull(b []byte) []byte { return abi.AppendNull(b) }

// AppendArrayHeader appends the head of an array of n items.
func AppendArrayHeader(b []byte, n int) []byte { return abi.AppendArrayHeader(b, n) }

// AppendMapHeader appends the head of a map of n pairs.
func AppendMapHeader(b []byte, n int) []byte { return abi.AppendMapHeader(b, n) }

// SortedKeys returns m's keys in order, so that a map encodes the same way
// every time.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// FieldError reports a field whose value has the wrong type or is out of
// range. The decoder skips such a value, leaves the field at its zero value
// and carries on, so the rest of the message is still decoded; the first
// FieldError is what UnmarshalCBOR returns (as encoding/json does).
type FieldError struct {
	Field string // the field's key; nested fields are "outer.inner"
	Msg   string // what was wrong
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Msg
}

// Decoder reads one CBOR item for a generated UnmarshalCBOR method. A
// malformed encoding stops it (every later read returns a zero value); a
// value of the wrong type only records a FieldError and is skipped. Byte
// strings it returns are copies. The zero Decoder is empty; use Reset.
type Decoder struct {
	r     abi.Reader
	empty bool  // the input was empty: it reads as an empty map
	err   error // malformed input
	field *FieldError
	bad   int // values rejected
}

// Reset makes d read p from the start.
func (d *Decoder) Reset(p []byte) { *d = Decoder{empty: len(p) == 0}; d.r.Reset(p) }

// Finish returns the first error: malformed input (an *Error with
// CodeBadRequest), bytes after the item, or else the first *FieldError.
func (d *Decoder) Finish() error {
	if d.err == nil && !d.empty && d.r.Len() != 0 {
		d.stop("trailing bytes after the payload")
	}
	if d.err != nil {
		return d.err
	}
	if d.field != nil {
		return d.field
	}
	return nil
}

func (d *Decoder) ok() bool { return d.err == nil }

// malformed stops d: the input is not what its type needs (not even a map
// for a struct), or not well-formed CBOR.
func (d *Decoder) malformed(err error) { d.stop("malformed payload: " + err.Error()) }

func (d *Decoder) stop(msg string) {
	if d.err == nil {
		d.err = &abi.Error{Code: abi.CodeBadRequest, Message: msg}
	}
}

// wrong records that field holds something else than want and skips it.
func (d *Decoder) wrong(field, want string) {
	found := d.r.Kind().String()
	if err := d.r.Skip(); err != nil {
		d.malformed(err)
		return
	}
	d.fieldErr(field, "expected "+want+", found "+found)
}

func (d *Decoder) fieldErr(field, msg string) {
	d.bad++
	if d.field == nil {
		d.field = &FieldError{Field: field, Msg: msg}
	}
}

// Rejected returns how many values were rejected so far for their type or
// range. Generated code compares it before and after reading the value of
// a pointer field, so that a rejected value leaves the pointer nil.
func (d *Decoder) Rejected() int { return d.bad }

// Map reads the head of a map with text keys and returns its number of
// pairs. An empty input reads as an empty map, so a message sent without a
// payload decodes as {}. Anything else than a map is malformed input.
func (d *Decoder) Map() int {
	if !d.ok() || d.empty {
		return 0
	}
	n, err := d.r.ReadMapHeader()
	if err != nil {
		// The message ParseDoc gives: a struct is a JSON object.
		d.stop("payload is not a CBOR map with text keys: " + err.Error())
		return 0
	}
	return n
}

// Key reads a map key, which must be a text string; the result aliases the
// input.
func (d *Decoder) Key() []byte {
	if !d.ok() {
		return nil
	}
	k, err := d.r.ReadTextBytes()
	if err != nil {
		d.malformed(err)
	}
	return k
}

// Skip skips the next item (the value of an unknown key).
func (d *Decoder) Skip() {
	if d.ok() {
		if err := d.r.Skip(); err != nil {
			d.malformed(err)
		}
	}
}

// Null reports whether the next item is null (or undefined), consuming it
// if so: how an optional field reads JSON null.
func (d *Decoder) Null() bool {
	if d.ok() && d.r.Kind() == abi.KindNull {
		d.r.ReadNull()
		return true
	}
	return false
}

// Int reads an integer that fits in a signed integer of the given bits (0
// for int's size): a CBOR integer, or a float with an integral value (JSON
// 7.0).
func (d *Decoder) Int(field string, size int) int64 {
	if !d.ok() {
		return 0
	}
	if size == 0 {
		size = bits.UintSize
	}
	var n int64
	switch d.r.Kind() {
	case abi.KindUint, abi.KindNegInt:
		v, err := d.r.ReadInt()
		if err != nil {
			d.wrong(field, "an integer that fits in int64")
			return 0
		}
		n = v
	case abi.KindFloat:
		f, ok := d.integral(-(1 << 63), 1<<63)
		if !ok {
			d.wrong(field, "an integer")
			return 0
		}
		n = int64(f)
	default:
		d.wrong(field, "an integer")
		return 0
	}
	if size < 64 && (n < -1<<(size-1) || n >= 1<<(size-1)) {
		d.fieldErr(field, strconv.FormatInt(n, 10)+" is out of the range of int"+strconv.Itoa(size))
		return 0
	}
	return n
}

// integral reads a float with an integral value in [lo, hi), leaving the
// float unread if it is not one.
func (d *Decoder) integral(lo, hi float64) (float64, bool) {
	save := d.r
	f, _ := d.r.ReadFloat()
	if f != math.Trunc(f) || f < lo || f >= hi {
		d.r = save
		return 0, false
	}
	return f, true
}

// Uint reads a non-negative integer that fits in an unsigned integer of the
// given bits (0 for uint's size).
func (d *Decoder) Uint(field string, size int) uint64 {
	if !d.ok() {
		return 0
	}
	if size == 0 {
		size = bits.UintSize
	}
	var n uint64
	switch d.r.Kind() {
	case abi.KindUint:
		n, _ = d.r.ReadUint()
	case abi.KindFloat:
		f, ok := d.integral(0, 1<<64)
		if !ok {
			d.wrong(field, "a non-negative integer")
			return 0
		}
		n = uint64(f)
	default:
		d.wrong(field, "a non-negative integer")
		return 0
	}
	if size < 64 && n >= 1<<size {
		d.fieldErr(field, strconv.FormatUint(n, 10)+" is out of the range of uint"+strconv.Itoa(size))
		return 0
	}
	return n
}

// Float reads a number.
func (d *Decoder) Float(field string) float64 {
	if !d.ok() {
		return 0
	}
	switch d.r.Kind() {
	case abi.KindUint, abi.KindNegInt, abi.KindFloat:
		f, _ := d.r.ReadFloat()
		return f
	}
	d.wrong(field, "a number")
	return 0
}

// Text reads a text string.
func (d *Decoder) Text(field string) string {
	if !d.ok() {
		return ""
	}
	if d.r.Kind() != abi.KindText {
		d.wrong(field, "a text string")
		return ""
	}
	s, err := d.r.ReadText()
	if err != nil {
		d.malformed(err)
	}
	return s
}

// Bytes reads a byte string and returns a copy of it.
func (d *Decoder) Bytes(field string) []byte {
	if !d.ok() {
		return nil
	}
	if d.r.Kind() != abi.KindBytes {
		d.wrong(field, "a byte string")
		return nil
	}
	p, err := d.r.ReadBytes()
	if err != nil {
		d.malformed(err)
		return nil
	}
	return append([]byte{}, p...)
}

// Bool reads true or false.
func (d *Decoder) Bool(field string) bool {
	if !d.ok() {
		return false
	}
	if d.r.Kind() != abi.KindBool {
		d.wrong(field, "a bool")
		return false
	}
	b, _ := d.r.ReadBool()
	return b
}

// Array reads the head of an array and returns its number of items, or -1
// (with a FieldError) if the next item is no array.
func (d *Decoder) Array(field string) int {
	return d.container(field, abi.KindArray, "an array", (*abi.Reader).ReadArrayHeader)
}

// MapOf reads the head of a map field (text keys, each followed by a
// value; read the keys with Text) and returns its number of pairs, or -1
// (with a FieldError) if the next item is no map.
func (d *Decoder) MapOf(field string) int {
	return d.container(field, abi.KindMap, "a map", (*abi.Reader).ReadMapHeader)
}

func (d *Decoder) container(field string, kind abi.Kind, want string, head func(*abi.Reader) (int, error)) int {
	if !d.ok() {
		return -1
	}
	if d.r.Kind() != kind {
		d.wrong(field, want)
		return -1
	}
	n, err := head(&d.r)
	if err != nil {
		d.malformed(err)
		return -1
	}
	return n
}

// Unmarshal decodes the next item into u (a nested struct, a Ref, any
// Unmarshaler). Its errors become FieldErrors of field, with the nested
// field's name appended to field's for a nested FieldError.
func (d *Decoder) Unmarshal(field string, u Unmarshaler) {
	if !d.ok() {
		return
	}
	raw, err := d.r.Raw()
	if err != nil {
		d.malformed(err)
		return
	}
	err = u.UnmarshalCBOR(raw)
	if err == nil {
		return
	}
	switch e := err.(type) {
	case *FieldError:
		if e.Field != "" && field != "" {
			field += "." + e.Field
		} else if field == "" {
			field = e.Field
		}
		d.fieldErr(field, e.Msg)
	case *abi.Error:
		d.fieldErr(field, e.Message)
	default:
		d.fieldErr(field, err.Error())
	}
}
