package meter

import "fmt"

// reader decodes the WebAssembly binary format. The first failure sticks:
// later reads return zero values, and callers check err at the end of each
// loop so that a garbage count cannot keep them spinning.
type reader struct {
	b    []byte
	off  int
	base int // offset of b[0] in the module, for error messages
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %#x: %s", r.base+r.off, fmt.Sprintf(format, args...))
	}
	r.off = len(r.b)
}

// over fails with a *LimitError: got of what, at where, is over limit.
func (r *reader) over(what, where string, got, limit uint64, field string) {
	if r.err == nil {
		if where != "" {
			where += " at "
		}
		r.err = &LimitError{What: what, Where: fmt.Sprintf("%soffset %#x", where, r.base+r.off),
			Got: got, Limit: limit, Field: field}
	}
	r.off = len(r.b)
}

func (r *reader) done() bool { return r.off >= len(r.b) || r.err != nil }

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.fail("%d bytes wanted, %d left", n, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// leb reads a LEB128 of at most bits bits, in at most as many bytes as
// bits need, as wazero does; signed ones are sign-extended.
func (r *reader) leb(bits uint, signed bool) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits {
			r.fail("integer too long")
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 != 0 {
			continue
		}
		switch {
		case signed && shift+7 < 64 && c&0x40 != 0:
			v |= ^uint64(0) << (shift + 7)
		case !signed && bits < 64 && v>>bits != 0:
			r.fail("integer over %d bits", bits)
			return 0
		}
		return v
	}
}

func (r *reader) uleb(bits uint) uint64 { return r.leb(bits, false) }
func (r *reader) sleb(bits uint) int64  { return int64(r.leb(bits, true)) }
func (r *reader) u32() uint32           { return uint32(r.leb(32, false)) }

// valueType reads a value type of WebAssembly 2.0. wazero also reads the
// typed references of later proposals, which carry more bytes; refusing
// them keeps the meter reading exactly what wazero runs.
func (r *reader) valueType() byte {
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return t
	default:
		r.fail("unsupported value type %#02x", t)
		return 0
	}
}

// refType reads funcref or externref.
func (r *reader) refType() byte {
	switch t := r.byte(); t {
	case 0x70, 0x6f:
		return t
	default:
		r.fail("unsupported reference type %#02x", t)
		return 0
	}
}

// blockType reads the type of a block, loop or if: empty, one value type
// or a type index.
func (r *reader) blockType() {
	switch t := r.sleb(33); {
	case t >= 0, t == -64, t >= -5 && t <= -1, t == -16, t == -17:
	default:
		if r.err == nil {
			r.fail("unsupported block type %d", t)
		}
	}
}

// count reads a vector length, refusing lengths the remaining bytes cannot
// hold (every element takes at least one byte).
func (r *reader) count() int {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("vector of %d elements in %d bytes", n, len(r.b)-r.off)
		return 0
	}
	return int(n)
}

func (r *reader) name() string { return string(r.bytes(uint64(r.u32()))) }

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendULEB(b, uint64(len(s)))
	return append(b, s...)
}

// appendVec writes a vector of n elements whose encodings are body.
func appendVec(b []byte, n int, body []byte) []byte {
	b = appendULEB(b, uint64(n))
	return append(b, body...)
}

// section reads the header of the next section of a module and its
// payload, and returns its id, the payload's offset and the payload.
func (r *reader) section() (id byte, start int, payload []byte) {
	id = r.byte()
	size := r.u32()
	start = r.off
	return id, start, r.bytes(uint64(size))
}
