// Package meter instruments WebAssembly modules with fuel metering, so that
// the host can bound how long a guest runs without paying for it on every
// call into the guest.
//
// Instrument rewrites a module so that each function entry and each loop
// header subtracts from a fuel counter the number of instructions that can
// run before the next such point, each bulk memory or table instruction
// subtracts its length, and memory.grow its length in bytes. When the counter goes negative, the guest calls the
// host import wactor_meter.refuel, which may stop the guest (by failing the
// call) and otherwise returns fresh fuel. The count is an upper bound on the
// instructions executed, so a guest cannot run more than a refuel's worth of
// instructions without reaching the host.
//
// The counter is a global the original module cannot name: Instrument
// refuses a module that refers to a global it does not define, which is
// what the rewritten module's fuel global would otherwise be.
//
// Instrument also bounds what an instance of the module can make wazero
// allocate outside its linear memory: its tables (Limits), and the counts
// of what it declares (the Max constants), refusing a module over them
// with a *LimitError.
//
// InstrumentRestorable also makes a module whose state is all in its memory
// and mutable globals restorable (restore.go): the host can then start
// instances from a state it saved instead of the module's initialisers.
package meter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The import the instrumented module calls when its fuel runs out, of type
// () -> i64: the host returns the fuel to continue with.
const (
	ImportModule = "wactor_meter"
	ImportRefuel = "refuel"
)

// Quantum is the fuel an instrumented module starts with and a good amount
// for refuel to hand back: about a million instructions, a millisecond or
// two of compiled code.
const Quantum = 1 << 20

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// Fixed bounds on what a module declares, where wazero 1.12 allocates in
// proportion per instance or per compile and allows far more (2^27 of each,
// and locals without limit). Each is well above what the compilers we know
// emit: a standard-Go guest of 2.3 MB has 1,600 functions, 8 globals, one
// table, one element segment and 27,000 data segments.
const (
	// MaxLocals bounds the locals of one function: wazero reserves them in
	// every call's frame.
	MaxLocals = 50000
	// MaxGlobals bounds globals, imported and defined: about 80 bytes each
	// per instance.
	MaxGlobals = 1 << 16
	// MaxTables bounds tables: a table header per instance each.
	MaxTables = 100
	// MaxElementSegments and MaxDataSegments bound the segments: a slice
	// header (24 bytes) each per instance.
	MaxElementSegments = 1 << 16
	MaxDataSegments    = 1 << 20
	// MaxFunctions bounds functions, imported and defined; MaxImports and
	// MaxExports bound imports and exports, and MaxTypes function types:
	// wazero keeps a record of each per compile (imported functions and
	// types also per instance).
	MaxFunctions = 1 << 20
	MaxImports   = 1 << 14
	MaxExports   = 1 << 16
	MaxTypes     = 1 << 16
	// MaxModuleSize bounds the module, so compiling it stays bounded in
	// time and memory: standard-Go guests are 2 to 30 MB.
	MaxModuleSize = 256 << 20
)

// GrowPageCharge is what memory.grow is charged per page it asks for: one
// unit per byte, as memory.fill is, since growing zeroes the new pages.
const GrowPageCharge = 64 << 10

// Limits are the bounds that depend on the host's configuration.
type Limits struct {
	// MemoryPages bounds the minimum of the module's memory, in 64 KiB
	// pages. (Its growth is bounded by wazero's memory limit, which the
	// runtime must set to the same figure.)
	MemoryPages uint32
	// TableEntries bounds the entries of the module's tables together, at
	// their largest: Instrument refuses a module whose tables' minimums
	// exceed it and lowers the tables' maximums so that table.grow fails
	// (returns -1) rather than pass it. It also bounds the entries of the
	// element segments together: wazero allocates a function reference
	// for each when it instantiates the module.
	TableEntries uint32
}

// LimitError is a module over one of the bounds: Limits or the fixed ones.
type LimitError struct {
	What  string // what is counted, as "table entries"
	Where string // where the module went over, as "table 0 at offset 0x14"
	Got   uint64
	Limit uint64
	// Field names the field of Limits that Limit comes from, so the
	// caller can say how to raise it; "" when the bound is fixed.
	Field string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("meter: %s: %d %s; at most %d are allowed", e.Where, e.Got, e.What, e.Limit)
}

// rank orders the known sections as the binary format requires.
var rank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count", "tag"}

// module is what the rewrite needs to know of the module so far.
type module struct {
	nFuncs         uint32 // functions of the original module, imported and defined
	nImportFuncs   uint32
	nImportGlobals uint32
	nGlobals       uint32 // globals of the original module, imported and defined

	typeDone, importDone, globalDone bool

	size       int // of the original module, in bytes
	lim        Limits
	nTables    uint32 // tables of the original module (none are imported)
	nElems     uint64 // entries of the element segments so far
	refuelType uint32 // index of () -> i64
	fuel       uint32 // global index of the fuel counter (i64)
	scratch    uint32 // global index of an i32 the bulk-instruction charge needs

	tableWrites bool       // the code changes tables
	restore     *restoring // nil unless the module is made restorable
	disp        *dispatch  // the table and what replaces it (dispatch.go)
}

// Instrument returns wasm with fuel metering added and its tables bounded
// by lim. It fails on a module it cannot parse, that uses instructions it
// does not know, or that is over a bound (a *LimitError); the error says
// where.
func Instrument(wasm []byte, lim Limits) ([]byte, error) {
	return instrument(wasm, lim, nil)
}

// instrument is Instrument, also making the module restorable when restore
// is not nil (restore.go). A module whose table can be replaced by code
// (dispatch.go) is read twice: to learn the table, then to replace it.
func instrument(wasm []byte, lim Limits, restore *restoring) ([]byte, error) {
	d := &dispatch{used: map[uint32]bool{}}
	var first restoring
	if restore != nil {
		first = *restore
	}
	out, err := instrumentPass(wasm, lim, restore, d)
	if err != nil {
		return out, err
	}
	// A restorable module whose code names no data segment loses them
	// all, emptied, with its data count: wazero keeps a slice entry per
	// segment in every instance (122 for an AssemblyScript counter).
	drop := restore != nil && restore.dataCount && !restore.namesData && restore.reason == ""
	ready := d.ready()
	if !ready && !drop {
		return out, nil
	}
	if !ready {
		d = &dispatch{used: map[uint32]bool{}} // the table stays: learn again
	}
	if restore != nil {
		*restore = first
		restore.dropData = drop
	}
	return instrumentPass(wasm, lim, restore, d)
}

// instrumentPass is one pass of instrument, learning the table (d.apply
// false) or replacing it.
func instrumentPass(wasm []byte, lim Limits, restore *restoring, d *dispatch) ([]byte, error) {
	if len(wasm) > MaxModuleSize {
		return nil, &LimitError{What: "bytes", Where: "module", Got: uint64(len(wasm)), Limit: MaxModuleSize}
	}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("meter: not a WebAssembly module (no \\0asm header)")
	}
	if v := binary.LittleEndian.Uint32(wasm[4:8]); v != 1 {
		return nil, fmt.Errorf("meter: binary format version %d; only version 1 is supported", v)
	}
	m := &module{size: len(wasm), lim: lim, restore: restore, disp: d}
	out := make([]byte, 0, len(wasm)+len(wasm)/4)
	out = append(out, wasm[:8]...)
	r := &reader{b: wasm, off: 8}
	last := 0
	for !r.done() {
		id, start, payload := r.section()
		if r.err != nil {
			break
		}
		if id != secCustom {
			rk, ok := rank[id]
			if !ok {
				return nil, fmt.Errorf("meter: offset %#x: unknown section id %d", start, id)
			}
			if rk <= last {
				return nil, fmt.Errorf("meter: offset %#x: %s section out of order or repeated", start, sectionNames[id])
			}
			last = rk
			out = m.addMissing(out, rk)
		}
		sr := &reader{b: payload, base: start}
		content, keep := m.section(id, sr)
		if sr.err == nil && keep && !sr.done() {
			sr.fail("%d bytes after the section's end", len(sr.b)-sr.off)
		}
		if sr.err != nil {
			var le *LimitError
			if errors.As(sr.err, &le) {
				le.Where = sectionNames[id] + " section, " + le.Where
				return nil, le
			}
			return nil, fmt.Errorf("meter: %s section: %w", sectionNames[id], sr.err)
		}
		if keep {
			out = appendSection(out, id, content)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("meter: %w", r.err)
	}
	if err := m.restorable(); err != nil {
		return nil, err
	}
	return m.addMissing(out, len(rank)+1), nil
}

func appendSection(out []byte, id byte, content []byte) []byte {
	out = append(out, id)
	out = appendULEB(out, uint64(len(content)))
	return append(out, content...)
}

// addMissing emits the sections the instrumentation adds to that the module
// lacks, once the next section's rank shows they should have come already.
func (m *module) addMissing(out []byte, next int) []byte {
	if next > rank[secType] && !m.typeDone {
		out = appendSection(out, secType, appendVec(nil, 1, m.types(0)))
	}
	if next > rank[secImport] && !m.importDone {
		out = appendSection(out, secImport, appendVec(nil, 1, m.imports()))
	}
	if next > rank[secGlobal] && !m.globalDone {
		m.nGlobals = m.nImportGlobals
		out = appendSection(out, secGlobal, appendVec(nil, 2, m.globals()))
	}
	return out
}

// types returns the type the refuel import has, at index n.
func (m *module) types(n int) []byte {
	m.refuelType, m.typeDone = uint32(n), true
	return []byte{0x60, 0x00, 0x01, 0x7e}
}

// imports returns the refuel import, after the module's own.
func (m *module) imports() []byte {
	m.importDone = true
	b := appendName(nil, ImportModule)
	b = appendName(b, ImportRefuel)
	b = append(b, 0x00)
	return appendULEB(b, uint64(m.refuelType))
}

// globals returns the fuel counter and the scratch global, after the
// module's own.
func (m *module) globals() []byte {
	m.globalDone = true
	m.fuel, m.scratch = m.nGlobals, m.nGlobals+1
	b := []byte{0x7e, 0x01, 0x42}
	b = appendSLEB(b, Quantum)
	return append(b, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b)
}

// fn maps a function index of the original module to the rewritten one,
// where the refuel import comes after the original imports. An index the
// original module does not have is refused: shifted, it could come to name
// refuel or a function that exists.
func (m *module) fn(r *reader, idx uint32) uint32 {
	switch {
	case idx >= m.nFuncs:
		r.fail("function %d does not exist; the module has %d", idx, m.nFuncs)
		return 0
	case idx < m.nImportFuncs:
		return idx
	}
	return idx + 1
}

// section rewrites one section's content; keep false drops the section.
func (m *module) section(id byte, r *reader) (content []byte, keep bool) {
	switch id {
	case secCustom:
		return m.custom(r)
	case secType:
		n := r.count()
		if n > MaxTypes {
			r.over("function types", "", uint64(n), MaxTypes, "")
		}
		from := r.off
		if !m.disp.apply {
			for i := 0; i < n && r.err == nil && m.disp.reason == ""; i++ {
				m.disp.typeEntry(r)
			}
		}
		rest := r.b[from:]
		r.off = len(r.b)
		out := append(appendVec(nil, n+1+len(m.disp.order), rest), m.types(n)...)
		return m.disp.types(out), true
	case secImport:
		return m.importSection(r), true
	case secGlobal:
		return m.globalSection(r), true
	case secExport:
		return m.exportSection(r), true
	case secStart:
		if m.restore != nil {
			m.restore.refuse("it has a start function")
		}
		return appendULEB(nil, uint64(m.fn(r, r.u32()))), true
	case secFunction:
		m.nFuncs = m.nImportFuncs + uint32(r.count())
		if m.nFuncs > MaxFunctions {
			r.over("functions, imported and defined", "", uint64(m.nFuncs), MaxFunctions, "")
		}
		from := r.off
		for !r.done() {
			if t := r.u32(); !m.disp.apply {
				m.disp.funcTypes = append(m.disp.funcTypes, t)
			}
		}
		if !m.disp.apply {
			return r.b, true
		}
		out := appendVec(nil, int(m.nFuncs-m.nImportFuncs)+len(m.disp.order), r.b[from:])
		for k := range m.disp.order {
			out = appendULEB(out, uint64(m.disp.nTypes+1+uint32(k)))
		}
		return out, true
	case secTable:
		out := m.tableSection(r)
		return out, !m.disp.apply
	case secMemory:
		// Copied as it is, but its count is checked first: wazero
		// allocates what a count claims before reading the elements.
		n := r.count()
		var flags byte
		var min, max uint32
		for i := 0; i < n && r.err == nil; i++ {
			if flags, min, max = r.limits(); min > m.lim.MemoryPages && r.err == nil {
				r.over("memory pages (the memory's minimum)", "", uint64(min), uint64(m.lim.MemoryPages), "MemoryPages")
			}
		}
		if m.restore != nil && r.err == nil {
			return m.restore.memorySection(n, flags, min, max), true
		}
		return r.b, true
	case secData:
		n := r.count()
		if n > MaxDataSegments {
			r.over("data segments", "", uint64(n), MaxDataSegments, "")
		}
		if m.restore != nil {
			return m.restore.dataSection(r, n), true
		}
		r.off = len(r.b)
		return r.b, true
	case secDataCount:
		if m.restore != nil {
			m.restore.dataCount = true
		}
		switch n := r.u32(); {
		case uint64(n) > uint64(m.size):
			r.fail("data count %d in a module of %d bytes", n, m.size)
		case n > MaxDataSegments:
			r.over("data segments", "", uint64(n), MaxDataSegments, "")
		}
		if m.restore != nil && m.restore.dropData {
			return []byte{0}, true // as many as the data section now has
		}
		return r.b, true
	case secElement:
		out := m.elementSection(r)
		return out, !m.disp.apply
	case secCode:
		return m.codeSection(r), true
	}
	r.off = len(r.b)
	return r.b, true
}

func (m *module) importSection(r *reader) []byte {
	n := r.count()
	if n > MaxImports {
		r.over("imports", "", uint64(n), MaxImports, "")
	}
	from := r.off
	for i := 0; i < n && r.err == nil; i++ {
		mod, name := r.name(), r.name()
		if mod == ImportModule {
			r.fail("import %s.%s: module %q is reserved for the host's fuel metering", mod, name, mod)
		}
		// Only functions: the host provides nothing else, and a table
		// or memory from elsewhere would escape the bounds set here.
		switch kind := r.byte(); kind {
		case 0x00: // function
			if t := r.u32(); !m.disp.apply {
				m.disp.funcTypes = append(m.disp.funcTypes, t)
			}
			m.nImportFuncs++
		case 0x01, 0x02, 0x03:
			r.fail("import %s.%s is a %s; the host provides functions only", mod, name, [...]string{"", "table", "memory", "global"}[kind])
		default:
			r.fail("import %s.%s has unknown kind %d", mod, name, kind)
		}
	}
	m.nFuncs = m.nImportFuncs // the function section adds the defined ones
	return append(appendVec(nil, n+1, r.b[from:r.off]), m.imports()...)
}

// tableSection bounds the tables. Their minimums together must fit in
// lim.TableEntries, and each gets a maximum of at most its minimum plus an
// equal share of what is left, so that together they can never grow past
// it: wazero fails a table.grow beyond a table's maximum. (Reading the
// reference type refuses the initialiser expressions of the
// function-references proposal, which could name functions.)
func (m *module) tableSection(r *reader) []byte {
	n := r.count()
	if uint64(m.nTables)+uint64(n) > MaxTables {
		r.over("tables", "", uint64(m.nTables)+uint64(n), MaxTables, "")
		return nil
	}
	m.nTables += uint32(n)
	type table struct {
		ref      byte
		min, max uint32
		hasMax   bool
	}
	tables := make([]table, n)
	limit := uint64(m.lim.TableEntries)
	sum := uint64(0)
	for i := range tables {
		t := &tables[i]
		t.ref = r.refType()
		var flags byte
		flags, t.min, t.max = r.limits()
		if flags > 1 && r.err == nil {
			r.fail("table %d is shared; tables cannot be", i)
		}
		t.hasMax = flags == 1
		if !m.disp.apply {
			m.disp.table(i, t.ref, t.min, m.lim.TableEntries)
		}
		if sum += uint64(t.min); sum > limit && r.err == nil {
			r.over("table entries (the tables' minimums together)", fmt.Sprintf("table %d", i), sum, limit, "TableEntries")
		}
		if r.err != nil {
			return nil
		}
	}
	out := appendULEB(nil, uint64(n))
	for _, t := range tables {
		max := uint64(t.min) + (limit-sum)/uint64(n)
		if t.hasMax && uint64(t.max) < max {
			max = uint64(t.max)
		}
		out = append(out, t.ref, 0x01)
		out = appendULEB(out, uint64(t.min))
		out = appendULEB(out, max)
	}
	return out
}

func (r *reader) mutability() byte {
	mut := r.byte()
	if mut > 1 {
		r.fail("mutability %#x", mut)
	}
	return mut
}

// limits reads the limits of a table or memory as wazero does: a flags
// byte (bit 0: a maximum follows; bit 1: shared) and 32-bit sizes.
func (r *reader) limits() (flags byte, min, max uint32) {
	if flags = r.byte(); flags > 3 {
		r.fail("limits flags %#x", flags)
	}
	min = r.u32()
	if flags&1 != 0 {
		max = r.u32()
	}
	return flags, min, max
}

func (m *module) globalSection(r *reader) []byte {
	n := r.count()
	m.nGlobals = m.nImportGlobals + uint32(n)
	if m.nGlobals > MaxGlobals {
		r.over("globals", "", uint64(m.nGlobals), MaxGlobals, "")
	}
	out := appendULEB(nil, uint64(n)+2)
	for i := 0; i < n && r.err == nil; i++ {
		typ, mut := r.valueType(), r.mutability()
		if m.restore != nil && mut == 1 {
			m.restore.global(m.nImportGlobals+uint32(i), typ)
		}
		out = append(out, typ, mut)
		out = m.constExpr(r, out)
	}
	return append(out, m.globals()...)
}

func (m *module) exportSection(r *reader) []byte {
	n := r.count()
	if n > MaxExports {
		r.over("exports", "", uint64(n), MaxExports, "")
	}
	extra, nExtra := m.restore.exports()
	out := appendULEB(nil, uint64(n)+uint64(nExtra))
	for i := 0; i < n && r.err == nil; i++ {
		name := r.name()
		if m.restore != nil && strings.HasPrefix(name, GlobalExportPrefix) {
			m.restore.refuse("it exports " + name + ", a name reserved for the host")
		}
		kind := r.byte()
		idx := r.u32()
		switch {
		case kind == 0x00:
			idx = m.fn(r, idx)
		case kind == 0x01:
			m.disp.keep("it exports its table")
		case kind == 0x03 && idx >= m.nGlobals:
			r.fail("export %q names global %d; the module has %d", name, idx, m.nGlobals)
		}
		out = appendName(out, name)
		out = append(out, kind)
		out = appendULEB(out, uint64(idx))
	}
	if m.restore != nil {
		m.restore.exported = true
	}
	return append(out, extra...)
}

func (m *module) elementSection(r *reader) []byte {
	n := r.count()
	if n > MaxElementSegments {
		r.over("element segments", "", uint64(n), MaxElementSegments, "")
	}
	out := appendULEB(nil, uint64(n))
	for i := 0; i < n && r.err == nil; i++ {
		flags := r.u32()
		out = appendULEB(out, uint64(flags))
		if flags > 7 {
			r.fail("element segment %d has flags %#x", i, flags)
			break
		}
		table, off := uint32(0), int64(-1)
		if flags&3 == 2 { // active, with a table index
			table = r.u32()
			out = appendULEB(out, uint64(table))
		}
		if flags&1 == 0 { // active: an offset
			if r.off+1 < len(r.b) && r.b[r.off] == 0x41 {
				cr := &reader{b: r.b, off: r.off + 1}
				if v := cr.sleb(32); cr.err == nil && cr.off < len(r.b) && r.b[cr.off] == 0x0b {
					off = int64(uint32(v))
				}
			}
			out = m.constExpr(r, out)
		}
		switch {
		case flags&3 == 0: // neither element kind nor reference type
		case flags&4 == 0: // element kind: funcref
			if kind := r.byte(); kind != 0x00 {
				r.fail("element segment %d has element kind %#x", i, kind)
			}
			out = append(out, 0x00)
		default:
			out = append(out, r.refType())
		}
		k := r.count()
		if m.nElems += uint64(k); m.nElems > uint64(m.lim.TableEntries) {
			r.over("table entries (the element segments' entries together)", fmt.Sprintf("element segment %d", i), m.nElems, uint64(m.lim.TableEntries), "TableEntries")
		}
		out = appendULEB(out, uint64(k))
		var entries []int64
		for j := 0; j < k && r.err == nil; j++ {
			if flags&4 == 0 {
				f := r.u32()
				entries = append(entries, int64(f))
				out = appendULEB(out, uint64(m.fn(r, f)))
			} else {
				entries = append(entries, elemExpr(&reader{b: r.b, off: r.off}))
				out = m.constExpr(r, out)
			}
		}
		if !m.disp.apply && m.disp.reason == "" && r.err == nil {
			if slices.Contains(entries, -2) {
				m.disp.keep("element segment %d holds expressions other than ref.func and ref.null", i)
			}
			m.disp.elementSegment(i, table, off, entries)
		}
	}
	return out
}

// constExpr copies a constant expression, renumbering the functions it
// names.
func (m *module) constExpr(r *reader, out []byte) []byte {
	from := r.off
	edits := m.scan(r, false, nil)
	return m.apply(out, r.b, from, r.off, edits)
}

func (m *module) codeSection(r *reader) []byte {
	n := r.count()
	out := appendULEB(nil, uint64(n+len(m.disp.order)))
	var body []byte
	var edits []edit
	for i := 0; i < n && r.err == nil; i++ {
		size := r.u32()
		if uint64(size) > uint64(len(r.b)-r.off) {
			r.fail("function %d: body of %d bytes, %d left", m.nImportFuncs+uint32(i), size, len(r.b)-r.off)
			break
		}
		from, to := r.off, r.off+int(size)
		fr := &reader{b: r.b[:to], off: from, base: r.base}
		locals := uint64(0)
		for k := fr.count(); k > 0 && fr.err == nil; k-- {
			locals += uint64(fr.u32())
			fr.valueType()
		}
		if locals > MaxLocals {
			fr.over("locals", "", locals, MaxLocals, "")
		}
		edits = m.scan(fr, true, edits[:0])
		if fr.err == nil && fr.off != to {
			fr.fail("%d bytes after the function's end", to-fr.off)
		}
		if le := (*LimitError)(nil); errors.As(fr.err, &le) {
			le.Where = fmt.Sprintf("function %d at %s", m.nImportFuncs+uint32(i), le.Where)
			r.err = le
			break
		}
		if fr.err != nil {
			r.err = fmt.Errorf("function %d: %w", m.nImportFuncs+uint32(i), fr.err)
			break
		}
		body = m.apply(body[:0], r.b, from, to, edits)
		out = appendULEB(out, uint64(len(body)))
		out = append(out, body...)
		r.off = to
	}
	if m.disp.apply && r.err == nil {
		out = m.disp.bodies(m, out)
	}
	return out
}

// custom keeps custom sections, except debugging information (its code
// offsets no longer hold) and the name section, whose function indices are
// renumbered.
func (m *module) custom(r *reader) ([]byte, bool) {
	name := r.name()
	if r.err != nil {
		return nil, false
	}
	switch {
	case strings.HasPrefix(name, ".debug_"):
		r.off = len(r.b)
		return nil, false
	case name == "name":
		return m.names(r)
	}
	r.off = len(r.b)
	return r.b, true
}

// names renumbers the function and local names of a name section and drops
// its label names (the added blocks shift them). A name section it cannot
// read, or one placed before the imports, is dropped: names only decorate
// stack traces.
func (m *module) names(r *reader) ([]byte, bool) {
	out := appendName(nil, "name")
	for !r.done() {
		id := r.byte()
		sub := &reader{b: r.bytes(uint64(r.u32()))}
		switch id {
		case 1, 2: // function names, local names
			n := sub.count()
			out = append(out, id)
			body := appendULEB(nil, uint64(n))
			for i := 0; i < n && sub.err == nil; i++ {
				body = appendULEB(body, uint64(m.fn(sub, sub.u32())))
				from := sub.off
				if id == 1 {
					sub.name()
				} else {
					for k := sub.count(); k > 0 && sub.err == nil; k-- {
						sub.u32()
						sub.name()
					}
				}
				body = append(body, sub.b[from:sub.off]...)
			}
			out = appendULEB(out, uint64(len(body)))
			out = append(out, body...)
			r.err = errors.Join(r.err, sub.err)
		case 3: // label names
		default:
			out = append(out, id)
			out = appendULEB(out, uint64(len(sub.b)))
			out = append(out, sub.b...)
		}
	}
	if r.err != nil || !m.importDone {
		r.err = nil
		r.off = len(r.b)
		return nil, false
	}
	return out, true
}

// HasCustomSection reports whether wasm has a custom section called name.
// A module it cannot read has none.
func HasCustomSection(wasm []byte, name string) bool {
	if len(wasm) < 8 || len(wasm) > MaxModuleSize || string(wasm[:4]) != "\x00asm" {
		return false
	}
	r := &reader{b: wasm, off: 8}
	for !r.done() {
		id, start, payload := r.section()
		if r.err != nil {
			return false
		}
		if id == secCustom {
			sr := &reader{b: payload, base: start}
			if got := sr.name(); sr.err == nil && got == name {
				return true
			}
		}
	}
	return false
}
