package meter

import (
	"fmt"
	"slices"
)

// A module's function table costs every instance the same work again:
// wazero 1.12 fills a new instance's table from the element segments,
// evaluating each entry and allocating a function reference for it on the
// Go heap (a standard-Go guest has 1,662 entries in a table of 5,758: two
// thirds of the host's work to start an instance from a snapshot, and the
// garbage collector's work after it). When the table is only read by
// call_indirect and its entries are fixed when the module is instantiated,
// the meter replaces it with code that does the same: each call_indirect
// of type t becomes a call of a dispatch function for t, which jumps
// (br_table) on the table index to a direct call of the function that the
// element segments put in that slot, and traps (unreachable) for an empty
// slot, a slot outside the table or a function of another type, as
// call_indirect does. The table and the element segments are then dropped:
// an instance has no table to fill.

// maxDispatchSlots bounds the slots a dispatch function jumps on (from the
// first filled slot to the last): a br_table of that many targets, about
// two bytes each, per type that call_indirect names.
const maxDispatchSlots = 1 << 16

// maxDispatchFunctions bounds the functions in the table: a dispatch
// function nests a block per function, and wazero's compile time grows
// faster than their number (measured: 8,000 add 0.75 s to a module's
// compile, 30,000 add 4.5 s). A standard-Go counter has 1,662.
const maxDispatchFunctions = 1 << 14

// dispatch is what the meter learns of a module's table in a first pass
// and, when the table can go, applies in a second.
type dispatch struct {
	apply  bool   // second pass: replace the table
	reason string // why the table must stay; "" while it may go

	sigs      [][]byte // each type's params and results, as encoded, by type index
	params    []int    // each type's number of params
	funcTypes []uint32 // the type of each function, imported and defined
	tables    int
	slots     []int64         // table 0 as instantiated: a function index, or -1
	used      map[uint32]bool // types call_indirect names

	// Set for the second pass.
	base   uint32            // the first filled slot
	order  []uint32          // the types with a dispatch function, in order
	index  map[uint32]uint32 // type -> its position in order
	nTypes uint32            // types of the original module
}

func (d *dispatch) keep(format string, args ...any) {
	if d.reason == "" {
		d.reason = fmt.Sprintf(format, args...)
	}
}

// ready reports whether the table can go, after the first pass, and
// prepares the second.
func (d *dispatch) ready() bool {
	if d.reason != "" || d.tables != 1 {
		return false
	}
	first, last := -1, -1
	for i, f := range d.slots {
		if f >= 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		first, last = 0, -1
	}
	if last-first+1 > maxDispatchSlots {
		return false
	}
	distinct := map[int64]bool{}
	for _, f := range d.slots[first : last+1] {
		if f >= 0 {
			distinct[f] = true
		}
	}
	if len(distinct) > maxDispatchFunctions {
		return false
	}
	d.base, d.slots = uint32(first), d.slots[first:last+1]
	d.order = make([]uint32, 0, len(d.used))
	for t := range d.used {
		d.order = append(d.order, t)
	}
	slices.Sort(d.order)
	d.index = make(map[uint32]uint32, len(d.order))
	for k, t := range d.order {
		d.index[t] = uint32(k)
	}
	d.nTypes = uint32(len(d.sigs))
	d.apply = true
	return true
}

// typeEntry reads one type of the type section, recording it.
func (d *dispatch) typeEntry(r *reader) {
	if form := r.byte(); form != 0x60 && r.err == nil {
		d.keep("type %d is not a function type", len(d.sigs))
		r.off = len(r.b) // copied as it is
		return
	}
	from := r.off
	np := r.count()
	for i := 0; i < np && r.err == nil; i++ {
		r.valueType()
	}
	for n := r.count(); n > 0 && r.err == nil; n-- {
		r.valueType()
	}
	d.sigs = append(d.sigs, r.b[from:r.off])
	d.params = append(d.params, np)
}

// types appends the types of the dispatch functions, after the refuel
// type: each one's callee type with an i32 param (the table index) added.
func (d *dispatch) types(out []byte) []byte {
	for _, t := range d.order {
		sig := d.sigs[t]
		pr := &reader{b: sig}
		np := pr.count()
		params := sig[pr.off : pr.off+np]
		out = append(out, 0x60)
		out = appendULEB(out, uint64(np+1))
		out = append(out, params...)
		out = append(out, 0x7f)
		out = append(out, sig[pr.off+np:]...)
	}
	return out
}

// table records a table of the module, of which the first is the index
// of the module's tables: the meter refuses a module with more entries
// than limit.
func (d *dispatch) table(i int, ref byte, min, limit uint32) {
	d.tables++
	switch {
	case ref != 0x70:
		d.keep("table %d holds %#02x", i, ref)
	case min <= limit && d.tables == 1:
		d.slots = slices.Repeat([]int64{-1}, int(min))
	}
}

// elementSegment records one segment's entries in d.slots; off is its
// offset, or -1 when it is not active with a constant offset.
func (d *dispatch) elementSegment(i int, table uint32, off int64, entries []int64) {
	switch {
	case off < 0:
		d.keep("element segment %d is not active at a constant offset", i)
	case table != 0 || d.tables != 1:
		d.keep("element segment %d is for table %d", i, table)
	case uint64(off)+uint64(len(entries)) > uint64(len(d.slots)):
		d.keep("element segment %d lies outside the table's minimum", i)
	default:
		copy(d.slots[off:], entries)
	}
}

// elemExpr reads a constant expression of a segment of expressions: the
// function it names, -1 for ref.null, or -2 for anything else.
func elemExpr(r *reader) int64 {
	switch r.byte() {
	case 0xd2:
		f := r.u32()
		if r.byte() == 0x0b {
			return int64(f)
		}
	case 0xd0:
		r.refType()
		if r.byte() == 0x0b {
			return -1
		}
	}
	return -2
}

// function returns the index of the dispatch function of type t in the
// rewritten module, where they follow the original module's functions.
func (d *dispatch) function(m *module, r *reader, t uint32) uint32 {
	k, ok := d.index[t]
	if !ok {
		r.fail("call_indirect names type %d, which does not exist", t)
	}
	return m.nFuncs + 1 + k
}

// bodies appends the dispatch functions' bodies to the code section.
func (d *dispatch) bodies(m *module, out []byte) []byte {
	for _, t := range d.order {
		out = d.body(m, out, t)
	}
	return out
}

// body appends the body of type t's dispatch function:
//
//	block                 ;; trap
//	  block ... block     ;; one per function of type t in the table
//	    local.get index; i32.const base; i32.sub
//	    br_table ...      ;; a slot's function's block; trap by default
//	  end  local.get params; call f0; return
//	  ...
//	end
//	unreachable
func (d *dispatch) body(m *module, out []byte, t uint32) []byte {
	np := d.params[t]
	var fns []int64 // functions of type t in the table, in slot order
	label := make(map[int64]int)
	for _, f := range d.slots {
		if f < 0 || f >= int64(len(d.funcTypes)) || int(d.funcTypes[f]) >= len(d.sigs) || !slices.Equal(d.sigs[d.funcTypes[f]], d.sigs[t]) {
			continue
		}
		if _, ok := label[f]; !ok {
			label[f] = len(fns)
			fns = append(fns, f)
		}
	}
	trap := len(fns)
	var b []byte
	b = append(b, 0x00) // no locals
	// Charged for what runs: the index, the jump, the params, the call
	// and the return. The blocks only nest the cases (no code).
	b = m.appendCharge(b, int64(np)+6)
	for range trap + 1 {
		b = append(b, 0x02, 0x40)
	}
	b = append(b, 0x20)
	b = appendULEB(b, uint64(np))
	b = append(b, 0x41)
	b = appendSLEB(b, int64(int32(d.base)))
	b = append(b, 0x6b, 0x0e) // i32.sub, br_table
	b = appendULEB(b, uint64(len(d.slots)))
	for _, f := range d.slots {
		l, ok := label[f]
		if f < 0 || !ok {
			l = trap
		}
		b = appendULEB(b, uint64(l))
	}
	b = appendULEB(b, uint64(trap))
	for _, f := range fns {
		b = append(b, 0x0b)
		for p := range np {
			b = append(b, 0x20)
			b = appendULEB(b, uint64(p))
		}
		b = append(b, 0x10)
		b = appendULEB(b, uint64(m.shift(uint32(f))))
		b = append(b, 0x0f)
	}
	b = append(b, 0x0b, 0x00, 0x0b) // end (trap), unreachable, end
	out = appendULEB(out, uint64(len(b)))
	return append(out, b...)
}

// shift maps a function index of the original module, known to exist, to
// the rewritten one (see fn).
func (m *module) shift(idx uint32) uint32 {
	if idx < m.nImportFuncs {
		return idx
	}
	return idx + 1
}
