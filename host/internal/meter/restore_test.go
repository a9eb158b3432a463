package meter

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restorable has a memory of one page with "hello" at 16, a mutable i32
// global at 5, an immutable i64 one, and init, which sets the mutable
// global to 42.
func restorableModule(extra ...[]byte) []byte {
	return wasmModule(cat(
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secGlobal, []byte{0x7f, 0x01, 0x41, 0x05, 0x0b}, []byte{0x7e, 0x00, 0x42, 0x07, 0x0b}),
		sec(secExport, export("memory", 2, 0), export("init", 0, 0)),
		sec(secCode, body(nil, 0x41, 42, 0x24, 0x00)),
		sec(secData, cat([]byte{0x00, 0x41, 16, 0x0b}, appendName(nil, "hello"))),
	), cat(extra...))
}

func TestInstrumentRestorable(t *testing.T) {
	rs, err := InstrumentRestorable(restorableModule(), testLimits, 3)
	require.NoError(t, err)
	assert.Len(t, rs.Memory, 64<<10, "the image is the memory's declared minimum")
	assert.Equal(t, "hello", string(rs.Memory[16:21]))
	assert.Equal(t, []string{GlobalExportPrefix + "0"}, rs.Globals)

	h := &meterHost{fuel: 1000}
	mod := h.instantiate(t, rs.Module, nil)
	assert.Equal(t, uint32(3<<16), mod.Memory().Size(), "the minimum is raised to the snapshot's")
	b, _ := mod.Memory().Read(16, 5)
	assert.Equal(t, make([]byte, 5), b, "the data is left to the host")
	g := mod.ExportedGlobal(rs.Globals[0])
	require.NotNil(t, g)
	assert.Equal(t, uint64(5), g.Get())
	call(t, mod, "init")
	assert.Equal(t, uint64(42), g.Get())
}

func TestInstrumentRestorableRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm []byte
	}{
		{"start function", wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secMemory, []byte{0x00, 0x01}),
			sec(secExport, export("memory", 2, 0)),
			raw(secStart, []byte{0}),
			sec(secCode, body(nil)),
		)},
		{"passive data", wasmModule(
			sec(secMemory, []byte{0x00, 0x01}),
			sec(secExport, export("memory", 2, 0)),
			sec(secData, cat([]byte{0x01}, appendName(nil, "hi"))),
		)},
		{"table.set", wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secTable, []byte{0x70, 0x00, 0x01}),
			sec(secMemory, []byte{0x00, 0x01}),
			sec(secExport, export("memory", 2, 0)),
			sec(secCode, body(nil, 0x41, 0x00, 0xd0, 0x70, 0x26, 0x00)),
		)},
		{"funcref global", wasmModule(
			sec(secMemory, []byte{0x00, 0x01}),
			sec(secGlobal, []byte{0x70, 0x01, 0xd0, 0x70, 0x0b}),
			sec(secExport, export("memory", 2, 0)),
		)},
		{"reserved export", wasmModule(
			sec(secMemory, []byte{0x00, 0x01}),
			sec(secExport, export("memory", 2, 0), export(GlobalExportPrefix+"0", 2, 0)),
		)},
		{"no memory", wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secExport, export("f", 0, 0)),
			sec(secCode, body(nil)),
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Instrument(tc.wasm, testLimits)
			require.NoError(t, err, "the module is fine to run")
			_, err = InstrumentRestorable(tc.wasm, testLimits, 0)
			var nr *NotRestorableError
			require.True(t, errors.As(err, &nr), "got %v", err)
		})
	}
}

// With a data count section, code can name data segments: the emptied
// segments stay, and memory.init and data.drop behave on them as the
// specification says they do on active segments once applied (dropped:
// empty). wazero itself keeps an active segment's bytes after applying
// it, so the original module is not the reference here.
func TestRestorableKeepsNamedSegmentsEmpty(t *testing.T) {
	memInit := func(n byte) []byte { return []byte{0x41, 0x00, 0x41, 0x00, 0x41, n, 0xfc, 0x08, 0x00, 0x00} }
	wasm := wasmModule(
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}, []byte{0}, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secExport, export("memory", 2, 0), export("init0", 0, 0), export("init1", 0, 1), export("drop", 0, 2)),
		raw(secDataCount, []byte{1}),
		sec(secCode, body(nil, memInit(0)...), body(nil, memInit(1)...), body(nil, 0xfc, 0x09, 0x00)),
		sec(secData, cat([]byte{0x00, 0x41, 16, 0x0b}, appendName(nil, "hello"))),
	)
	rs, err := InstrumentRestorable(wasm, testLimits, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(rs.Memory[16:21]))
	h := &meterHost{fuel: 1000}
	mod := h.instantiate(t, rs.Module, nil)
	b, _ := mod.Memory().Read(16, 5)
	assert.Equal(t, make([]byte, 5), b, "the data is left to the host")
	call(t, mod, "init0")
	_, err = mod.ExportedFunction("init1").Call(context.Background())
	assert.Error(t, err, "memory.init of a byte from an applied segment")
	mod = h.instantiate(t, rs.Module, nil)
	call(t, mod, "drop")
	call(t, mod, "init0")
}

// With a data count section but no code that names a segment, the
// emptied segments go, and the data count with them: instances carry
// nothing of them.
func TestRestorableDropsUnnamedSegments(t *testing.T) {
	wasm := wasmModule(
		sec(secType, funcType("", "\x7f")),
		sec(secFunction, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secExport, export("memory", 2, 0), export("load", 0, 0)),
		raw(secDataCount, []byte{2}),
		sec(secCode, body(nil, 0x41, 16, 0x2d, 0x00, 0x00)), // i32.load8_u offset 0 of 16
		sec(secData, cat([]byte{0x00, 0x41, 16, 0x0b}, appendName(nil, "hello")), cat([]byte{0x00, 0x41, 32, 0x0b}, appendName(nil, "world"))),
	)
	rs, err := InstrumentRestorable(wasm, testLimits, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(rs.Memory[16:21]))
	assert.Equal(t, "world", string(rs.Memory[32:37]))
	dc, data := sectionPayload(t, rs.Module, secDataCount), sectionPayload(t, rs.Module, secData)
	assert.Equal(t, []byte{0}, dc, "the data count")
	assert.Equal(t, []byte{0}, data, "the data section")
	h := &meterHost{fuel: 1000}
	mod := h.instantiate(t, rs.Module, nil)
	b, _ := mod.Memory().Read(16, 5)
	assert.Equal(t, make([]byte, 5), b, "the data is left to the host")
	res, err := mod.ExportedFunction("load").Call(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(0), res[0])
}

// sectionPayload returns the payload of the section of module wasm with
// id, or fails.
func sectionPayload(t *testing.T, wasm []byte, id byte) []byte {
	t.Helper()
	r := &reader{b: wasm, off: 8}
	for !r.done() {
		got, _, payload := r.section()
		require.NoError(t, r.err)
		if got == id {
			return payload
		}
	}
	t.Fatalf("no section %d", id)
	return nil
}
