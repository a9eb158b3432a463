package meter

// An edit is a change to an expression, at a byte offset of the module.
type edit struct {
	pos, end int   // bytes [pos, end) are replaced; pos == end inserts
	kind     uint8 // one of the edit kinds below
	val      int64 // the charge, or the new function index
}

const (
	editCharge  = iota // insert: subtract val from the fuel
	editDynamic        // insert: subtract the i32 on top of the stack
	editGrow           // insert: subtract the i32 on top of the stack, in pages
	editFunc           // replace a function index with val
	editCall           // replace an instruction with a call of function val
)

// scan decodes one expression from r, up to and including its final end,
// and returns edits with those it needs appended. In a function body it
// charges each function entry, loop header and return from a call for the
// instructions that run before the next charge: those of the segment
// (up to the next call) of the region (function or loop) outside its
// nested loops, each at most once per pass, since leaving the region,
// going round it again or calling passes a charge. Calls are charged by
// their callee's entry; bulk instructions and memory.grow are charged
// their length operand as well, which they take time (and, for
// memory.grow, host memory) in proportion to.
func (m *module) scan(r *reader, body bool, edits []edit) []edit {
	var loops []bool  // open blocks: true for a loop
	var regions []int // the charge edit of the function and each open loop
	if body {
		regions = append(regions, len(edits))
		edits = append(edits, edit{pos: r.off, end: r.off, kind: editCharge})
	}
	funcIdx := func() {
		pos := r.off
		idx := m.fn(r, r.u32())
		if idx > m.nImportFuncs {
			edits = append(edits, edit{pos: pos, end: r.off, kind: editFunc, val: int64(idx)})
		}
	}
	for r.err == nil {
		pos := r.off
		op := r.byte()
		if body {
			edits[regions[len(regions)-1]].val++
		}
		switch {
		case op == 0x0b: // end
			if len(loops) == 0 {
				return edits
			}
			if loops[len(loops)-1] && body {
				regions = regions[:len(regions)-1]
			}
			loops = loops[:len(loops)-1]
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
			loops = append(loops, false)
		case op == 0x03: // loop
			r.blockType()
			loops = append(loops, true)
			if body {
				regions = append(regions, len(edits))
				edits = append(edits, edit{pos: r.off, end: r.off, kind: editCharge})
			}
		case op <= 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b ||
			(op >= 0x45 && op <= 0xc4) || op == 0xd1:
			// no immediates
		case op == 0x0c || op == 0x0d || (op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26 ||
			op == 0x3f:
			r.u32()
			m.tableWrites = m.tableWrites || op == 0x26 // table.set
			if op == 0x25 || op == 0x26 {
				m.disp.keep("its code uses table.get or table.set")
			}
		case op == 0x40: // memory.grow
			r.u32()
			if body {
				edits = append(edits, edit{pos: pos, end: pos, kind: editGrow})
			}
		case op == 0x0e: // br_table
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.u32()
			}
			r.u32()
		case op == 0x10 || op == 0x11: // call, call_indirect
			if op == 0x10 {
				funcIdx()
			} else {
				m.callIndirect(r, pos, &edits)
			}
			if body {
				// What follows the call runs when the callee returns, maybe
				// after many frames unwound: charge it there, so that
				// unwinding meets refuel too.
				regions[len(regions)-1] = len(edits)
				edits = append(edits, edit{pos: r.off, end: r.off, kind: editCharge})
			}
		case op == 0xd2 && body: // ref.func
			// wazero 1.12 allocates a function reference each time ref.func
			// runs and keeps it as long as the instance: a loop of them
			// would take host memory without bound. Compilers put function
			// references in tables instead; constant expressions, which
			// run once, may still use it.
			r.fail("ref.func in a function body is not supported (wazero allocates at every execution); put functions in a table with an element segment")
		case op == 0x12 || op == 0xd2: // return_call, ref.func
			funcIdx()
		case op == 0x13: // return_call_indirect
			r.u32()
			r.u32()
			m.disp.keep("its code uses return_call_indirect")
		case op == 0x1c: // select with types
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.valueType()
			}
		case op == 0x23 || op == 0x24: // global.get, global.set
			if idx := r.u32(); idx >= m.nGlobals && r.err == nil {
				r.fail("global %d does not exist; the module has %d", idx, m.nGlobals)
			}
		case op >= 0x28 && op <= 0x3e:
			r.memarg()
		case op == 0x41:
			r.sleb(32)
		case op == 0x42:
			r.sleb(64)
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op == 0xd0: // ref.null
			r.refType()
		case op == 0xfc:
			sub, bulk := r.misc()
			// table.init, elem.drop, table.copy, table.grow, table.fill
			m.tableWrites = m.tableWrites || sub >= 12 && sub != 16
			if sub >= 12 {
				m.disp.keep("its code uses table instructions other than call_indirect")
			}
			if (sub == 8 || sub == 9) && m.restore != nil { // memory.init, data.drop
				m.restore.namesData = true
			}
			if bulk && body {
				edits = append(edits, edit{pos: pos, end: pos, kind: editDynamic})
			}
		case op == 0xfd:
			r.simd()
		case op == 0xfe:
			r.atomic()
		default:
			r.fail("unsupported instruction %#02x", op)
		}
	}
	return edits
}

// misc decodes the immediates of a 0xfc instruction and reports whether it
// takes time in proportion to its length operand.
func (r *reader) misc() (sub uint32, bulk bool) {
	switch sub = r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8 || sub == 10 || sub == 12 || sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
		return sub, true
	case sub == 11 || sub == 15 || sub == 17: // memory.fill, table.grow, table.fill
		r.u32()
		return sub, true
	case sub == 9 || sub == 13 || sub == 16: // data.drop, elem.drop, table.size
		r.u32()
	default:
		r.fail("unsupported instruction 0xfc %d", sub)
	}
	return sub, false
}

func (r *reader) memarg() {
	if align := r.u32(); align >= 0x40 { // multiple memories, which wazero does not run
		r.fail("unsupported alignment %#x", align)
	}
	r.u32()
}

// simd decodes a 0xfd instruction. wazero reads its opcode as one byte,
// not as the LEB128 the specification says; the meter must read what
// wazero runs.
func (r *reader) simd() {
	switch sub := r.byte(); {
	case sub <= 0x0b || sub == 0x5c || sub == 0x5d: // loads and stores
		r.memarg()
	case sub == 0x0c || sub == 0x0d: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 0x15 && sub <= 0x22: // extract and replace lane
		r.byte()
	case sub >= 0x54 && sub <= 0x5b: // load and store lane
		r.memarg()
		r.byte()
	}
}

// atomic decodes a 0xfe instruction; its opcode is one byte, as for simd.
func (r *reader) atomic() {
	switch sub := r.byte(); {
	case sub == 0x03: // atomic.fence
		r.byte()
	case sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e):
		r.memarg()
	default:
		r.fail("unsupported instruction 0xfe %d", sub)
	}
}

// apply appends b[from:to] to out with edits (ordered by position) made.
func (m *module) apply(out, b []byte, from, to int, edits []edit) []byte {
	for _, e := range edits {
		out = append(out, b[from:e.pos]...)
		switch e.kind {
		case editCharge:
			out = m.appendCharge(out, e.val)
		case editDynamic:
			out = m.appendDynamicCharge(out, false)
		case editGrow:
			out = m.appendDynamicCharge(out, true)
		case editFunc:
			out = appendULEB(out, uint64(e.val))
		case editCall:
			out = appendULEB(append(out, 0x10), uint64(e.val))
		}
		from = e.end
	}
	return append(out, b[from:to]...)
}

// appendCharge appends: fuel -= cost; if fuel < 0 { fuel = refuel() }.
func (m *module) appendCharge(out []byte, cost int64) []byte {
	out = m.appendGlobal(out, 0x23, m.fuel)
	out = append(out, 0x42) // i64.const
	out = appendSLEB(out, cost)
	out = append(out, 0x7d) // i64.sub
	out = m.appendGlobal(out, 0x24, m.fuel)
	return m.appendRefuel(out)
}

// appendDynamicCharge charges the length operand on top of the stack, or
// GrowPageCharge per page when pages is true, and leaves it there.
func (m *module) appendDynamicCharge(out []byte, pages bool) []byte {
	out = m.appendGlobal(out, 0x24, m.scratch)
	out = m.appendGlobal(out, 0x23, m.fuel)
	out = m.appendGlobal(out, 0x23, m.scratch)
	out = append(out, 0xad) // i64.extend_i32_u
	if pages {
		out = append(out, 0x42) // i64.const
		out = appendSLEB(out, GrowPageCharge)
		out = append(out, 0x7e) // i64.mul
	}
	out = append(out, 0x7d) // i64.sub
	out = m.appendGlobal(out, 0x24, m.fuel)
	out = m.appendRefuel(out)
	return m.appendGlobal(out, 0x23, m.scratch)
}

// appendRefuel appends: if fuel < 0 { fuel = refuel() }.
func (m *module) appendRefuel(out []byte) []byte {
	out = m.appendGlobal(out, 0x23, m.fuel)
	out = append(out, 0x42, 0x00, 0x53, 0x04, 0x40, 0x10) // i64.const 0, i64.lt_s, if, call
	out = appendULEB(out, uint64(m.nImportFuncs))
	out = m.appendGlobal(out, 0x24, m.fuel)
	return append(out, 0x0b) // end
}

func (m *module) appendGlobal(out []byte, op byte, idx uint32) []byte {
	return appendULEB(append(out, op), uint64(idx))
}

// callIndirect reads the immediates of the call_indirect at pos: it notes
// the type it names or, when the table is being replaced, makes it a call
// of the type's dispatch function (dispatch.go).
func (m *module) callIndirect(r *reader, pos int, edits *[]edit) {
	t, table := r.u32(), r.u32()
	switch {
	case r.err != nil:
	case table != 0:
		m.disp.keep("call_indirect on table %d", table)
	case m.disp.apply:
		*edits = append(*edits, edit{pos: pos, end: r.off, kind: editCall, val: int64(m.disp.function(m, r, t))})
	default:
		m.disp.used[t] = true
	}
}
