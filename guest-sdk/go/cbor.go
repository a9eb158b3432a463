package wactor

import (
	"iter"

	"github.com/wactor/wactor/abi"
)

// Payloads are CBOR. The gateway turns a JSON body such as {"n":7} into a
// CBOR map with text keys and turns the reply back into JSON, so most
// actors read a Doc and answer with a MapBuilder. Nothing here uses
// reflection; byte and text results alias the payload.

// Value is one encoded CBOR item, read lazily. The zero Value is absent:
// every accessor reports false on it.
type Value struct{ raw []byte }

// ValueOf wraps the encoding of one CBOR item (a state value written with
// the abi.Append functions, say). It does not check the encoding; the
// accessors do.
func ValueOf(cbor []byte) Value { return Value{raw: cbor} }

// Exists reports whether v holds an item (false for a missing key).
func (v Value) Exists() bool { return len(v.raw) > 0 }

// Raw returns v's encoding.
func (v Value) Raw() []byte { return v.raw }

// Kind reports the kind of v's item (abi.KindInvalid if absent).
func (v Value) Kind() abi.Kind { return abi.NewReader(v.raw).Kind() }

// IsNull reports whether v is null (JSON null) or undefined.
func (v Value) IsNull() bool { return v.Kind() == abi.KindNull }

// Int returns v as an int64: an integer that fits, or a float with an
// integral value in range (JSON 7.0).
func (v Value) Int() (int64, bool) {
	var d Decoder
	d.Reset(v.raw)
	n := d.Int("", 64)
	if d.Finish() != nil {
		return 0, false
	}
	return n, true
}

// Float returns v as a float64: a float or an integer.
func (v Value) Float() (float64, bool) {
	r := abi.NewReader(v.raw)
	f, err := r.ReadFloat()
	if err != nil || r.Len() != 0 {
		return 0, false
	}
	return f, true
}

// Text returns v as a string if it is a text string.
func (v Value) Text() (string, bool) {
	r := abi.NewReader(v.raw)
	s, err := r.ReadText()
	if err != nil || r.Len() != 0 {
		return "", false
	}
	return s, true
}

// Bytes returns v as a byte slice if it is a byte string. The slice aliases
// the payload.
func (v Value) Bytes() ([]byte, bool) {
	r := abi.NewReader(v.raw)
	p, err := r.ReadBytes()
	if err != nil || r.Len() != 0 {
		return nil, false
	}
	return p, true
}

// Bool returns v as a bool if it is true or false.
func (v Value) Bool() (bool, bool) {
	r := abi.NewReader(v.raw)
	b, err := r.ReadBool()
	if err != nil || r.Len() != 0 {
		return false, false
	}
	return b, true
}

// Map returns v as a Doc if it is a well-formed map with text keys.
func (v Value) Map() (Doc, bool) {
	d, err := parseDoc(v.raw)
	return d, err == nil
}

// Array returns v as an Array if it is a well-formed array.
func (v Value) Array() (Array, bool) {
	r := abi.NewReader(v.raw)
	n, err := r.ReadArrayHeader()
	if err != nil {
		return Array{}, false
	}
	items := make([]Value, n)
	for i := range items {
		if items[i].raw, err = r.Raw(); err != nil {
			return Array{}, false
		}
	}
	if r.Len() != 0 {
		return Array{}, false
	}
	return Array{items: items}, true
}

// Doc is a decoded CBOR map with text keys: a JSON object. Lookups are
// linear, which is fastest for the few keys a message has. The zero Doc is
// empty.
type Doc struct{ fields []field }

type field struct {
	key []byte
	val Value
}

// ParseDoc decodes payload as a map with text keys, checking that it is
// well-formed CBOR throughout. An empty payload is an empty Doc, so a
// method called without a body reads as {}. The error is an *Error with
// CodeBadRequest, ready to return from a handler.
func ParseDoc(payload []byte) (Doc, error) {
	if len(payload) == 0 {
		return Doc{}, nil
	}
	d, err := parseDoc(payload)
	if err != nil {
		return Doc{}, &abi.Error{Code: abi.CodeBadRequest, Message: "payload is not a CBOR map with text keys: " + err.Error()}
	}
	return d, nil
}

func parseDoc(p []byte) (Doc, error) {
	r := abi.NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return Doc{}, err
	}
	fields := make([]field, n)
	for i := range fields {
		if fields[i].key, err = r.ReadTextBytes(); err != nil {
			return Doc{}, err
		}
		if fields[i].val.raw, err = r.Raw(); err != nil {
			return Doc{}, err
		}
	}
	if r.Len() != 0 {
		return Doc{}, &abi.Error{Code: abi.CodeBadRequest, Message: "trailing bytes after the map"}
	}
	return Doc{fields: fields}, nil
}

// Len returns the number of keys.
func (d Doc) Len() int { return len(d.fields) }

// Has reports whether d has key.
func (d Doc) Has(key string) bool { return d.Get(key).Exists() }

// Get returns the value of key; the Value is absent if d has no such key.
// If a key occurs twice the first wins.
func (d Doc) Get(key string) Value {
	for i := range d.fields {
		if string(d.fields[i].key) == key {
			return d.fields[i].val
		}
	}
	return Value{}
}

// All yields d's keys and values in encoding order.
func (d Doc) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		for _, f := range d.fields {
			if !yield(string(f.key), f.val) {
				return
			}
		}
	}
}

// Int returns the integer under key; see Value.Int.
func (d Doc) Int(key string) (int64, bool) { return d.Get(key).Int() }

// Float returns the number under key; see Value.Float.
func (d Doc) Float(key string) (float64, bool) { return d.Get(key).Float() }

// Text returns the text string under key.
func (d Doc) Text(key string) (string, bool) { return d.Get(key).Text() }

// Bytes returns the byte string under key.
func (d Doc) Bytes(key string) ([]byte, bool) { return d.Get(key).Bytes() }

// Bool returns the bool under key.
func (d Doc) Bool(key string) (bool, bool) { return d.Get(key).Bool() }

// Map returns the map under key.
func (d Doc) Map(key string) (Doc, bool) { return d.Get(key).Map() }

// Array returns the array under key.
func (d Doc) Array(key string) (Array, bool) { return d.Get(key).Array() }

// Array is a decoded CBOR array. The zero Array is empty.
type Array struct{ items []Value }

// Len returns the number of items.
func (a Array) Len() int { return len(a.items) }

// At returns item i, or an absent Value if i is out of range.
func (a Array) At(i int) Value {
	if i < 0 || i >= len(a.items) {
		return Value{}
	}
	return a.items[i]
}

// All yields a's indexes and items.
func (a Array) All() iter.Seq2[int, Value] {
	return func(yield func(int, Value) bool) {
		for i, v := range a.items {
			if !yield(i, v) {
				return
			}
		}
	}
}

// headRoom is the space a builder keeps in front of its items for the head
// that Encode writes once the count is known (at most 5 bytes for up to
// 2^32-1 entries).
const headRoom = 5

// builder is what MapBuilder and ArrayBuilder share.
type builder struct {
	buf []byte
	n   int
}

func newBuilder() builder { return builder{buf: make([]byte, headRoom, 64)} }

// encode writes the head just before the items and returns head and items.
func (b *builder) encode(head func([]byte, int) []byte) []byte {
	if b.buf == nil {
		*b = newBuilder()
	}
	var h [headRoom]byte
	hd := head(h[:0], b.n)
	start := headRoom - len(hd)
	copy(b.buf[start:], hd)
	return b.buf[start:len(b.buf):len(b.buf)]
}

func (b *builder) add() {
	if b.buf == nil {
		*b = newBuilder()
	}
	b.n++
}

// MapBuilder encodes a CBOR map with text keys (a JSON object), one entry
// at a time:
//
//	reply := wactor.NewMap().Int("n", 7).Text("greeting", "hi").Encode()
//
// It does not check for duplicate keys. The zero MapBuilder is ready to use.
type MapBuilder struct{ b builder }

// NewMap returns an empty MapBuilder.
func NewMap() *MapBuilder { return &MapBuilder{b: newBuilder()} }

func (m *MapBuilder) key(k string) {
	m.b.add()
	m.b.buf = abi.AppendText(m.b.buf, k)
}

// Int adds key: v.
func (m *MapBuilder) Int(key string, v int64) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendInt(m.b.buf, v)
	return m
}

// Uint adds key: v.
func (m *MapBuilder) Uint(key string, v uint64) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendUint(m.b.buf, v)
	return m
}

// Float adds key: v as a double.
func (m *MapBuilder) Float(key string, v float64) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendFloat(m.b.buf, v)
	return m
}

// Text adds key: v as a text string.
func (m *MapBuilder) Text(key, v string) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendText(m.b.buf, v)
	return m
}

// Bytes adds key: v as a byte string.
func (m *MapBuilder) Bytes(key string, v []byte) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendBytes(m.b.buf, v)
	return m
}

// Bool adds key: v.
func (m *MapBuilder) Bool(key string, v bool) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendBool(m.b.buf, v)
	return m
}

// Null adds key: null.
func (m *MapBuilder) Null(key string) *MapBuilder {
	m.key(key)
	m.b.buf = abi.AppendNull(m.b.buf)
	return m
}

// Map adds key: the map v builds.
func (m *MapBuilder) Map(key string, v *MapBuilder) *MapBuilder {
	return m.Raw(key, v.Encode())
}

// Array adds key: the array v builds.
func (m *MapBuilder) Array(key string, v *ArrayBuilder) *MapBuilder {
	return m.Raw(key, v.Encode())
}

// Raw adds key: cbor, which must be the encoding of exactly one item (a
// Value's Raw, or the output of the abi.Append functions).
func (m *MapBuilder) Raw(key string, cbor []byte) *MapBuilder {
	m.key(key)
	m.b.buf = append(m.b.buf, cbor...)
	return m
}

// Len returns the number of entries added so far.
func (m *MapBuilder) Len() int { return m.b.n }

// Encode returns the map's encoding. The result shares the builder's
// memory: finish building before calling Encode.
func (m *MapBuilder) Encode() []byte { return m.b.encode(abi.AppendMapHeader) }

// ArrayBuilder encodes a CBOR array, one item at a time. The zero
// ArrayBuilder is ready to use.
type ArrayBuilder struct{ b builder }

// NewArray returns an empty ArrayBuilder.
func NewArray() *ArrayBuilder { return &ArrayBuilder{b: newBuilder()} }

func (a *ArrayBuilder) item() { a.b.add() }

// Int adds v.
func (a *ArrayBuilder) Int(v int64) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendInt(a.b.buf, v)
	return a
}

// Uint adds v.
func (a *ArrayBuilder) Uint(v uint64) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendUint(a.b.buf, v)
	return a
}

// Float adds v as a double.
func (a *ArrayBuilder) Float(v float64) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendFloat(a.b.buf, v)
	return a
}

// Text adds v as a text string.
func (a *ArrayBuilder) Text(v string) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendText(a.b.buf, v)
	return a
}

// Bytes adds v as a byte string.
func (a *ArrayBuilder) Bytes(v []byte) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendBytes(a.b.buf, v)
	return a
}

// Bool adds v.
func (a *ArrayBuilder) Bool(v bool) *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendBool(a.b.buf, v)
	return a
}

// Null adds null.
func (a *ArrayBuilder) Null() *ArrayBuilder {
	a.item()
	a.b.buf = abi.AppendNull(a.b.buf)
	return a
}

// Map adds the map v builds.
func (a *ArrayBuilder) Map(v *MapBuilder) *ArrayBuilder { return a.Raw(v.Encode()) }

// Array adds the array v builds.
func (a *ArrayBuilder) Array(v *ArrayBuilder) *ArrayBuilder { return a.Raw(v.Encode()) }

// Raw adds cbor, which must be the encoding of exactly one item.
func (a *ArrayBuilder) Raw(cbor []byte) *ArrayBuilder {
	a.item()
	a.b.buf = append(a.b.buf, cbor...)
	return a
}

// Len returns the number of items added so far.
func (a *ArrayBuilder) Len() int { return a.b.n }

// Encode returns the array's encoding. The result shares the builder's
// memory: finish building before calling Encode.
func (a *ArrayBuilder) Encode() []byte { return a.b.encode(abi.AppendArrayHeader) }
