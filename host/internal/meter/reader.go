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

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits+7 || shift >= 70 {
			r.fail("integer too long")
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if bits < 64 && v>>bits != 0 {
				r.fail("integer over %d bits", bits)
				return 0
			}
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// sleb skips a signed LEB128 of at most bits bits; the instrumenter copies
// immediates verbatim, so only their extent matters.
func (r *reader) sleb(bits uint) {
	for n := uint(0); ; n += 7 {
		if n >= bits+7 {
			r.fail("integer too long")
			return
		}
		c := r.byte()
		if r.err != nil || c&0x80 == 0 {
			return
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
