package meter

import (
	"fmt"
	"strconv"
)

// GlobalExportPrefix starts the names under which a restorable module
// exports its mutable globals: the prefix and the global's index.
const GlobalExportPrefix = "wactor_meter_global_"

// Restorable is a module rewritten so that the host can start instances
// of it from a state it saved, rather than from the module's own
// initialisers: its memory's contents and its mutable globals are all the
// host has to set.
type Restorable struct {
	// Module is the instrumented module with every active data segment
	// emptied (kept as an empty passive segment when code can name
	// segments, so that indices and the data count hold) and every
	// mutable global of the original module exported.
	Module []byte
	// Memory is what an instance of the original module holds right after
	// instantiation: the memory's minimum, with the active data segments
	// written in. An instance of Module starts with zeroes instead.
	Memory []byte
	// Globals names the exports of the mutable globals, in index order.
	Globals []string
}

// NotRestorableError says why a module cannot be made restorable; the
// module may still be instrumented.
type NotRestorableError struct{ Reason string }

func (e *NotRestorableError) Error() string {
	return "meter: the module cannot be restored from a saved state: " + e.Reason
}

// InstrumentRestorable instruments wasm as Instrument does and makes it
// restorable. It fails with a *NotRestorableError for a module whose state
// is not all in its memory and mutable globals, or that an instance
// changes at instantiation in a way the host could not repeat: one that
// changes its tables, has a start function, passive data segments, data
// segments at offsets other than constants, or mutable globals other than
// numbers.
//
// The memory's minimum is raised to minPages, if it is below, so that
// instances start with the room the saved state needs without growing.
func InstrumentRestorable(wasm []byte, lim Limits, minPages uint32) (*Restorable, error) {
	rs := &restoring{minPages: minPages}
	out, err := instrument(wasm, lim, rs)
	if err != nil {
		return nil, err
	}
	return &Restorable{Module: out, Memory: rs.memory, Globals: rs.names}, nil
}

// restoring is what instrument learns and checks of a module it makes
// restorable.
type restoring struct {
	minPages  uint32 // the least minimum of the memory
	dataCount bool   // the module has a data count section
	// namesData: its code names data segments (memory.init, data.drop),
	// whose emptied ones it must then keep. Without, dropData removes
	// them all, and the data count.
	namesData, dropData bool
	names               []string // export names of the mutable globals
	memory              []byte   // nil until the memory section
	exported            bool     // the export section was written
	reason              string   // why it cannot be, if it cannot
}

func (rs *restoring) refuse(reason string) {
	if rs.reason == "" {
		rs.reason = reason
	}
}

// global records mutable global idx, of type typ.
func (rs *restoring) global(idx uint32, typ byte) {
	switch typ {
	case 0x7f, 0x7e, 0x7d, 0x7c: // i32, i64, f32, f64: what api.Global carries whole
		rs.names = append(rs.names, GlobalExportPrefix+strconv.FormatUint(uint64(idx), 10))
	default:
		rs.refuse(fmt.Sprintf("its mutable global %d is of type %#02x", idx, typ))
	}
}

// exports returns the exports of the mutable globals, for the export
// section, and their count; none on a nil receiver.
func (rs *restoring) exports() ([]byte, int) {
	if rs == nil {
		return nil, 0
	}
	var out []byte
	for _, name := range rs.names {
		idx, _ := strconv.ParseUint(name[len(GlobalExportPrefix):], 10, 32)
		out = appendName(out, name)
		out = append(out, 0x03)
		out = appendULEB(out, idx)
	}
	return out, len(rs.names)
}

// memorySection returns the memory section of n memories, the last of
// which has the limits flags, min and max, with its minimum raised to
// rs.minPages.
func (rs *restoring) memorySection(n int, flags byte, min, max uint32) []byte {
	if n != 1 {
		rs.refuse(fmt.Sprintf("it has %d memories", n))
		return nil
	}
	rs.memory = make([]byte, int(min)*GrowPageCharge)
	if rs.minPages > min {
		if flags&1 != 0 && max < rs.minPages {
			rs.refuse("its memory's maximum is below the saved state's size")
		}
		min = rs.minPages
	}
	out := []byte{1, flags}
	out = appendULEB(out, uint64(min))
	if flags&1 != 0 {
		out = appendULEB(out, uint64(max))
	}
	return out
}

// dataSection copies the n active segments of r into rs.memory and
// returns the section with each emptied, or with none if no code names
// them (no data count section, or no memory.init nor data.drop: see
// dropData).
func (rs *restoring) dataSection(r *reader, n int) []byte {
	keep := rs.dataCount && !rs.dropData
	out := appendULEB(nil, uint64(n))
	if !keep {
		out = appendULEB(nil, 0)
	}
	for i := 0; i < n && r.err == nil; i++ {
		flags := r.u32()
		switch flags {
		case 0:
		case 2:
			if mem := r.u32(); mem != 0 {
				r.fail("data segment %d is for memory %d", i, mem)
			}
		default:
			rs.refuse(fmt.Sprintf("data segment %d is passive", i))
			r.off = len(r.b)
			return nil
		}
		var off uint64
		if op := r.byte(); op == 0x41 {
			off = uint64(uint32(r.sleb(32)))
		} else {
			rs.refuse(fmt.Sprintf("data segment %d has an offset that is not a constant", i))
		}
		if end := r.byte(); end != 0x0b && r.err == nil {
			rs.refuse(fmt.Sprintf("data segment %d has an offset that is not a constant", i))
		}
		data := r.bytes(uint64(r.u32()))
		if rs.reason != "" || r.err != nil {
			r.off = len(r.b)
			return nil
		}
		if off+uint64(len(data)) > uint64(len(rs.memory)) {
			rs.refuse(fmt.Sprintf("data segment %d lies outside the memory's minimum", i))
		} else {
			copy(rs.memory[off:], data)
		}
		if keep {
			// An empty passive segment: memory.init and data.drop see
			// what they would of the emptied active one (an active
			// segment is dropped once applied: empty), and instantiation
			// has no offset to evaluate (wazero evaluates every active
			// segment's offset in every instance: about 6% of an
			// AssemblyScript counter's activation, for its 122).
			out = append(out, 0x01, 0x00)
		}
	}
	return out
}

// restorable reports why m cannot be restored, once the whole module is
// read.
func (m *module) restorable() error {
	rs := m.restore
	if rs == nil {
		return nil
	}
	switch {
	case rs.reason != "":
	case m.tableWrites:
		rs.reason = "its code changes tables"
	case rs.memory == nil:
		rs.reason = "it has no memory"
	case !rs.exported:
		rs.reason = "it has no exports"
	default:
		return nil
	}
	return &NotRestorableError{Reason: rs.reason}
}
