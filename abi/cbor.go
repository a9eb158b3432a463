package abi

import (
	"errors"
	"math"
	"strconv"
)

// Major types of CBOR data items (RFC 8949, section 3.1).
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// Kind is the kind of the next CBOR item, as Reader.Kind reports it.
type Kind uint8

// Kinds of CBOR items.
const (
	KindInvalid Kind = iota // end of input or a malformed head
	KindUint
	KindNegInt
	KindBytes
	KindText
	KindArray
	KindMap
	KindTag
	KindBool
	KindNull // null or undefined
	KindFloat
)

var kindNames = [...]string{"invalid", "unsigned integer", "negative integer", "byte string",
	"text string", "array", "map", "tag", "bool", "null", "float"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ErrCBOR is wrapped by every error the Reader returns, so callers can tell
// malformed input from other failures with errors.Is.
var ErrCBOR = errors.New("cbor")

type cborError struct {
	off int
	msg string
}

func (e *cborError) Error() string {
	return "cbor: " + e.msg + " at byte " + strconv.Itoa(e.off)
}

func (e *cborError) Unwrap() error { return ErrCBOR }

// appendHead appends an item head with the shortest encoding of v.
func appendHead(b []byte, major byte, v uint64) []byte {
	m := major << 5
	switch {
	case v < 24:
		return append(b, m|byte(v))
	case v <= math.MaxUint8:
		return append(b, m|24, byte(v))
	case v <= math.MaxUint16:
		return append(b, m|25, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return append(b, m|26, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, m|27, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// AppendUint appends an unsigned integer.
func AppendUint(b []byte, v uint64) []byte { return appendHead(b, majorUint, v) }

// AppendInt appends a signed integer.
func AppendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendHead(b, majorUint, uint64(v))
	}
	return appendHead(b, majorNegInt, uint64(-1-v))
}

// AppendBytes appends a byte string.
func AppendBytes(b, p []byte) []byte { return append(appendHead(b, majorBytes, uint64(len(p))), p...) }

// AppendText appends a text string. s should be valid UTF-8.
func AppendText(b []byte, s string) []byte {
	return append(appendHead(b, majorText, uint64(len(s))), s...)
}

// AppendArrayHeader appends the head of an array of n items; the caller
// appends the items.
func AppendArrayHeader(b []byte, n int) []byte { return appendHead(b, majorArray, uint64(n)) }

// AppendMapHeader appends the head of a map of n pairs; the caller appends
// n keys, each followed by its value.
func AppendMapHeader(b []byte, n int) []byte { return appendHead(b, majorMap, uint64(n)) }

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xf5)
	}
	return append(b, 0xf4)
}

// AppendNull appends null.
func AppendNull(b []byte) []byte { return append(b, 0xf6) }

// AppendFloat appends a float64 as a double-precision float.
func AppendFloat(b []byte, f float64) []byte {
	v := math.Float64bits(f)
	return append(b, 0xfb, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Reader reads CBOR items from a byte slice, one at a time. Byte and text
// strings it returns alias the input. The zero Reader is empty.
type Reader struct {
	buf []byte
	off int
}

// NewReader returns a Reader over p.
func NewReader(p []byte) *Reader { return &Reader{buf: p} }

// Reset makes r read p from the start.
func (r *Reader) Reset(p []byte) { r.buf, r.off = p, 0 }

// Len reports how many bytes are left unread.
func (r *Reader) Len() int { return len(r.buf) - r.off }

// Offset reports how many bytes have been read.
func (r *Reader) Offset() int { return r.off }

func (r *Reader) fail(msg string) error { return &cborError{off: r.off, msg: msg} }

// head decodes the head of the next item without consuming it and returns
// its major type, argument, the head's size and the low five bits.
func (r *Reader) head() (major byte, arg uint64, size int, info byte, err error) {
	if r.off >= len(r.buf) {
		return 0, 0, 0, 0, r.fail("unexpected end of input")
	}
	ib := r.buf[r.off]
	major, info = ib>>5, ib&0x1f
	rest := r.buf[r.off+1:]
	switch {
	case info < 24:
		return major, uint64(info), 1, info, nil
	case info == 24:
		if len(rest) < 1 {
			return 0, 0, 0, 0, r.fail("truncated item head")
		}
		return major, uint64(rest[0]), 2, info, nil
	case info == 25:
		if len(rest) < 2 {
			return 0, 0, 0, 0, r.fail("truncated item head")
		}
		return major, uint64(rest[0])<<8 | uint64(rest[1]), 3, info, nil
	case info == 26:
		if len(rest) < 4 {
			return 0, 0, 0, 0, r.fail("truncated item head")
		}
		return major, uint64(rest[0])<<24 | uint64(rest[1])<<16 | uint64(rest[2])<<8 | uint64(rest[3]), 5, info, nil
	case info == 27:
		if len(rest) < 8 {
			return 0, 0, 0, 0, r.fail("truncated item head")
		}
		var v uint64
		for _, c := range rest[:8] {
			v = v<<8 | uint64(c)
		}
		return major, v, 9, info, nil
	case info == 31:
		return 0, 0, 0, 0, r.fail("indefinite-length items are not supported")
	default:
		return 0, 0, 0, 0, r.fail("reserved additional information " + strconv.Itoa(int(info)))
	}
}

// Kind reports the kind of the next item without consuming it.
func (r *Reader) Kind() Kind {
	major, _, _, info, err := r.head()
	if err != nil {
		return KindInvalid
	}
	switch major {
	case majorUint:
		return KindUint
	case majorNegInt:
		return KindNegInt
	case majorBytes:
		return KindBytes
	case majorText:
		return KindText
	case majorArray:
		return KindArray
	case majorMap:
		return KindMap
	case majorTag:
		return KindTag
	}
	switch info {
	case 20, 21:
		return KindBool
	case 22, 23:
		return KindNull
	case 25, 26, 27:
		return KindFloat
	}
	return KindInvalid
}

// peek decodes the head of the next item without consuming it and checks
// that it has the wanted major type. It returns the argument and head size.
func (r *Reader) peek(want byte, what string) (arg uint64, size int, err error) {
	major, arg, size, _, err := r.head()
	if err != nil {
		return 0, 0, err
	}
	if major != want {
		return 0, 0, r.fail("expected " + what + ", found " + r.Kind().String())
	}
	return arg, size, nil
}

func (r *Reader) expect(want byte, what string) (uint64, error) {
	arg, size, err := r.peek(want, what)
	if err != nil {
		return 0, err
	}
	r.off += size
	return arg, nil
}

// ReadUint reads an unsigned integer.
func (r *Reader) ReadUint() (uint64, error) { return r.expect(majorUint, "unsigned integer") }

// ReadInt reads an integer that fits in an int64.
func (r *Reader) ReadInt() (int64, error) {
	major, arg, size, _, err := r.head()
	if err != nil {
		return 0, err
	}
	if major != majorUint && major != majorNegInt {
		return 0, r.fail("expected integer, found " + r.Kind().String())
	}
	if arg > math.MaxInt64 {
		return 0, r.fail("integer overflows int64")
	}
	r.off += size
	if major == majorNegInt {
		return -1 - int64(arg), nil
	}
	return int64(arg), nil
}

func (r *Reader) readString(major byte, what string) ([]byte, error) {
	n, size, err := r.peek(major, what)
	if err != nil {
		return nil, err
	}
	if n > uint64(r.Len()-size) {
		return nil, r.fail(what + " longer than the input")
	}
	start := r.off + size
	end := start + int(n)
	r.off = end
	return r.buf[start:end:end], nil
}

// ReadBytes reads a byte string. The result aliases the input.
func (r *Reader) ReadBytes() ([]byte, error) { return r.readString(majorBytes, "byte string") }

// ReadText reads a text string.
func (r *Reader) ReadText() (string, error) {
	p, err := r.readString(majorText, "text string")
	return string(p), err
}

// ReadTextBytes reads a text string without copying it; the result aliases
// the input.
func (r *Reader) ReadTextBytes() ([]byte, error) { return r.readString(majorText, "text string") }

// ReadArrayHeader reads an array head and returns its item count. A count
// larger than the bytes left is rejected before anything is allocated.
func (r *Reader) ReadArrayHeader() (int, error) {
	n, size, err := r.peek(majorArray, "array")
	if err != nil {
		return 0, err
	}
	if n > uint64(r.Len()-size) { // every item takes at least one byte
		return 0, r.fail("array longer than the input")
	}
	r.off += size
	return int(n), nil
}

// ReadMapHeader reads a map head and returns its pair count. A count larger
// than the bytes left allow is rejected before anything is allocated.
func (r *Reader) ReadMapHeader() (int, error) {
	n, size, err := r.peek(majorMap, "map")
	if err != nil {
		return 0, err
	}
	if n > uint64(r.Len()-size)/2 { // every pair takes at least two bytes
		return 0, r.fail("map longer than the input")
	}
	r.off += size
	return int(n), nil
}

// ReadBool reads true or false.
func (r *Reader) ReadBool() (bool, error) {
	if r.off < len(r.buf) {
		switch r.buf[r.off] {
		case 0xf4:
			r.off++
			return false, nil
		case 0xf5:
			r.off++
			return true, nil
		}
	}
	return false, r.fail("expected bool, found " + r.Kind().String())
}

// ReadNull reads null (or undefined).
func (r *Reader) ReadNull() error {
	if r.off < len(r.buf) && (r.buf[r.off] == 0xf6 || r.buf[r.off] == 0xf7) {
		r.off++
		return nil
	}
	return r.fail("expected null, found " + r.Kind().String())
}

// ReadFloat reads a number as float64: a half, single or double precision
// float, or an integer.
func (r *Reader) ReadFloat() (float64, error) {
	major, arg, size, info, err := r.head()
	if err != nil {
		return 0, err
	}
	switch {
	case major == majorUint:
		r.off += size
		return float64(arg), nil
	case major == majorNegInt:
		r.off += size
		return -1 - float64(arg), nil
	case major == majorSimple && info == 25:
		r.off += size
		return halfToFloat(uint16(arg)), nil
	case major == majorSimple && info == 26:
		r.off += size
		return float64(math.Float32frombits(uint32(arg))), nil
	case major == majorSimple && info == 27:
		r.off += size
		return math.Float64frombits(arg), nil
	}
	return 0, r.fail("expected number, found " + r.Kind().String())
}

func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 31:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(frac+1024, exp-25)
}

// Skip consumes the next item, including everything nested in it. It does not
// recurse, so deeply nested input cannot exhaust the stack.
func (r *Reader) Skip() error {
	pending := uint64(1)
	for pending > 0 {
		pending--
		major, arg, size, info, err := r.head()
		if err != nil {
			return err
		}
		switch major {
		case majorBytes, majorText:
			if arg > uint64(r.Len()-size) {
				return r.fail("string longer than the input")
			}
			r.off += size + int(arg)
			continue
		case majorArray:
			// Check before adding: a huge count must not wrap pending around.
			if arg > uint64(r.Len()-size) {
				return r.fail("array longer than the input")
			}
			pending += arg
		case majorMap:
			if arg > uint64(r.Len()-size)/2 {
				return r.fail("map longer than the input")
			}
			pending += 2 * arg
		case majorTag:
			pending++
		case majorSimple:
			if info == 24 && arg < 32 {
				return r.fail("invalid simple value")
			}
		}
		r.off += size
		if pending > uint64(r.Len()) { // every pending item needs at least one byte
			return r.fail("container longer than the input")
		}
	}
	return nil
}

// Raw consumes the next item and returns its encoding, aliasing the input.
func (r *Reader) Raw() ([]byte, error) {
	start := r.off
	if err := r.Skip(); err != nil {
		return nil, err
	}
	return r.buf[start:r.off:r.off], nil
}

// WellFormed reports whether p holds exactly one well-formed CBOR item (of
// the definite-length subset this package reads).
func WellFormed(p []byte) error {
	r := NewReader(p)
	if err := r.Skip(); err != nil {
		return err
	}
	if r.Len() != 0 {
		return r.fail("trailing bytes after the item")
	}
	return nil
}
