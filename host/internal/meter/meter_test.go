package meter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Test modules are assembled here byte by byte, so that each shows one
// thing the instrumentation must get right.

func wasmModule(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

// sec is a section whose content is a vector of entries.
func sec(id byte, entries ...[]byte) []byte {
	var body []byte
	for _, e := range entries {
		body = append(body, e...)
	}
	return appendSection(nil, id, appendVec(nil, len(entries), body))
}

// raw is a section whose content is given whole.
func raw(id byte, content []byte) []byte { return appendSection(nil, id, content) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func funcType(params, results string) []byte {
	return cat([]byte{0x60}, appendVec(nil, len(params), []byte(params)), appendVec(nil, len(results), []byte(results)))
}

// body is a function body: locals (pairs of count and type) and code, to
// which the final end is added.
func body(locals []byte, code ...byte) []byte {
	b := cat(appendVec(nil, len(locals)/2, locals), code, []byte{0x0b})
	return cat(appendULEB(nil, uint64(len(b))), b)
}

func export(name string, kind byte, idx uint32) []byte {
	return appendULEB(append(appendName(nil, name), kind), uint64(idx))
}

const (
	i32 = "\x7f"
	i64 = "\x7e"
)

// testLimits are the limits the tests instrument with.
var testLimits = Limits{MemoryPages: 16, TableEntries: 1000}

// meterHost runs instrumented modules with a refuel that counts its calls,
// hands out fuel fuel each time and, once stopAfter calls have been made
// (when it is not 0), stops the guest.
type meterHost struct {
	fuel      uint64
	stopAfter int
	refuels   int
}

var errStopped = errors.New("stopped by the test's refuel")

func (h *meterHost) run(t *testing.T, wasm []byte, imports func(wazero.Runtime)) api.Module {
	t.Helper()
	metered, err := Instrument(wasm, testLimits)
	require.NoError(t, err)
	return h.instantiate(t, metered, imports)
}

// instantiate runs a module already instrumented.
func (h *meterHost) instantiate(t *testing.T, metered []byte, imports func(wazero.Runtime)) api.Module {
	t.Helper()
	ctx := context.Background()
	// Close-on-done only bounds a test whose metering is broken.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { rt.Close(ctx) })
	_, err := rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			h.refuels++
			if h.stopAfter > 0 && h.refuels >= h.stopAfter {
				panic(errStopped)
			}
			stack[0] = h.fuel
		}), nil, []api.ValueType{api.ValueTypeI64}).
		Export(ImportRefuel).Instantiate(ctx)
	require.NoError(t, err)
	if imports != nil {
		imports(rt)
	}
	mod, err := rt.Instantiate(ctx, metered)
	require.NoError(t, err)
	return mod
}

func call(t *testing.T, mod api.Module, name string, args ...uint64) uint64 {
	t.Helper()
	fn := mod.ExportedFunction(name)
	require.NotNil(t, fn, "export %s", name)
	res, err := fn.Call(context.Background(), args...)
	require.NoError(t, err, name)
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// countdown(n) runs a loop of 10 instructions n times and returns n.
var countdown = wasmModule(
	sec(secType, funcType(i32, i32)),
	sec(secFunction, []byte{0}),
	sec(secExport, export("countdown", 0, 0)),
	sec(secCode, body([]byte{1, 0x7f},
		0x03, 0x40, // loop
		0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, // acc += 1
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, // n -= 1
		0x0d, 0x00, // br_if 0
		0x0b,       // end
		0x20, 0x01, // acc
	)),
)

func TestLoopIterationsAreCharged(t *testing.T) {
	h := &meterHost{fuel: 1000}
	mod := h.run(t, countdown, nil)
	const n = 1_000_000
	require.EqualValues(t, n, call(t, mod, "countdown", n))
	// Each iteration is charged its 10 instructions; a refuel happens when
	// a charge takes the fuel below zero, so it covers 1000 to 1009 units.
	spent := int64(n*10 - Quantum)
	require.GreaterOrEqual(t, h.refuels, int(spent/1010), "refuels")
	require.LessOrEqual(t, h.refuels, int(spent/1000)+2, "refuels")
}

func TestRefuelStopsASpinningGuest(t *testing.T) {
	spin := wasmModule(
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}),
		sec(secExport, export("spin", 0, 0)),
		sec(secCode, body(nil, 0x03, 0x40, 0x0c, 0x00, 0x0b)), // loop br 0 end
	)
	h := &meterHost{fuel: 1000, stopAfter: 3}
	mod := h.run(t, spin, nil)
	_, err := mod.ExportedFunction("spin").Call(context.Background())
	require.ErrorIs(t, err, errStopped)
	require.Equal(t, 3, h.refuels)
}

func TestRecursionIsChargedAtFunctionEntry(t *testing.T) {
	// f calls itself forever without a loop; wazero would stop it when its
	// stack runs out, but refuel must be reached first.
	recurse := wasmModule(
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}),
		sec(secExport, export("f", 0, 0)),
		sec(secCode, body(nil, 0x10, 0x00)), // call 0
	)
	h := &meterHost{fuel: 10, stopAfter: 2}
	mod := h.run(t, recurse, nil)
	_, err := mod.ExportedFunction("f").Call(context.Background())
	require.ErrorIs(t, err, errStopped)
}

func TestBulkInstructionsAreChargedByLength(t *testing.T) {
	fill := wasmModule(
		sec(secType, funcType(i32, "")),
		sec(secFunction, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secExport, export("fill", 0, 0)),
		sec(secCode, body(nil,
			0x41, 0x00, 0x41, 0x2a, 0x20, 0x00, // dst 0, value 42, length n
			0xfc, 0x0b, 0x00, // memory.fill
		)),
	)
	h := &meterHost{fuel: 1000}
	mod := h.run(t, fill, nil)
	for i := 0; i < 100; i++ {
		call(t, mod, "fill", 65536)
	}
	// 100 fills of 64 KiB charge 6.5M units: the first quantum lasts 16
	// fills, and every later one goes below zero on its own.
	require.GreaterOrEqual(t, h.refuels, 84)
	mem, ok := mod.Memory().Read(65535, 1)
	require.True(t, ok)
	require.Equal(t, byte(42), mem[0], "the fill still happens")
}

// TestFunctionsAreRenumbered checks every place a function index appears:
// calls, the start function, exports, element segments (indices and
// expressions), ref.func and the name section.
func TestFunctionsAreRenumbered(t *testing.T) {
	names := cat(appendName(nil, "name"), []byte{1}, func() []byte {
		m := cat(appendULEB(nil, 1), appendName(nil, "two"))
		m = cat(m, appendULEB(nil, 2), appendName(nil, "direct"))
		v := appendVec(nil, 2, m)
		return cat(appendULEB(nil, uint64(len(v))), v)
	}())
	wasm := wasmModule(
		sec(secType, funcType("", i32), funcType("", "")),
		sec(secImport, cat(appendName(nil, "env"), appendName(nil, "forty"), []byte{0x00, 0x00})),
		// functions: 1 two, 2 direct, 3 indirect(i), 4 start, 5 started
		sec(secFunction, []byte{0}, []byte{0}, []byte{0}, []byte{1}, []byte{0}),
		sec(4, []byte{0x70, 0x00, 0x04}), // table: funcref, min 4
		sec(secGlobal, []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}),
		sec(secExport,
			export("two", 0, 1), export("direct", 0, 2), export("indirect0", 0, 3), export("started", 0, 5)),
		raw(secStart, []byte{4}),
		sec(secElement,
			cat([]byte{0x00, 0x41, 0x00, 0x0b}, appendVec(nil, 2, []byte{1, 0})),          // table[0..1] = two, forty
			cat([]byte{0x04, 0x41, 0x02, 0x0b}, appendVec(nil, 1, []byte{0xd2, 2, 0x0b})), // table[2] = ref.func direct
		),
		sec(secCode,
			body(nil, 0x41, 0x02),                   // two
			body(nil, 0x10, 0x00, 0x10, 0x01, 0x6a), // direct: forty() + two()
			// indirect0: table[0]() + table[1]() + table[2]()
			body(nil, 0x41, 0x00, 0x11, 0x00, 0x00, 0x41, 0x01, 0x11, 0x00, 0x00, 0x6a, 0x41, 0x02, 0x11, 0x00, 0x00, 0x6a),
			body(nil, 0x41, 0x07, 0x24, 0x00), // start: g = 7
			body(nil, 0x23, 0x00),             // started: g
		),
		raw(secCustom, names),
	)
	h := &meterHost{fuel: Quantum}
	mod := h.run(t, wasm, func(rt wazero.Runtime) {
		_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
			WithFunc(func() int32 { return 40 }).Export("forty").Instantiate(context.Background())
		require.NoError(t, err)
	})
	require.EqualValues(t, 2, call(t, mod, "two"))
	require.EqualValues(t, 42, call(t, mod, "direct"))
	require.EqualValues(t, 2+40+42, call(t, mod, "indirect0"))
	require.EqualValues(t, 7, call(t, mod, "started"))
	require.Equal(t, "two", mod.ExportedFunction("two").Definition().Name())
	require.Equal(t, "direct", mod.ExportedFunction("direct").Definition().Name())
}

func TestRefusals(t *testing.T) {
	oneGlobal := func(code ...byte) []byte {
		return wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secGlobal, []byte{0x7e, 0x01, 0x42, 0x00, 0x0b}),
			sec(secCode, body(nil, code...)),
		)
	}
	for _, tc := range []struct {
		name, wasm, want string
	}{
		{"not wasm", "hello world", "no \\0asm header"},
		{"version 2", "\x00asm\x02\x00\x00\x00", "version 2"},
		{"truncated", string(countdown[:len(countdown)-3]), "bytes wanted"},
		{"global.set beyond the globals", string(oneGlobal(0x42, 0x05, 0x24, 0x01)), "global 1 does not exist; the module has 1"},
		{"global.get beyond the globals", string(oneGlobal(0x23, 0x02, 0x1a)), "global 2 does not exist"},
		{"exception handling", string(oneGlobal(0x06, 0x40, 0x0b)), "unsupported instruction 0x06"},
		{"meter import", string(wasmModule(
			sec(secType, funcType("", i64)),
			sec(secImport, cat(appendName(nil, ImportModule), appendName(nil, ImportRefuel), []byte{0x00, 0x00})),
		)), "reserved for the host's fuel metering"},
		{"sections out of order", string(wasmModule(sec(secFunction), sec(secType))), "type section out of order"},
		{"trailing bytes in a body", string(wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secCode, cat([]byte{4, 0, 0x0b, 0x01, 0x01})),
		)), "function 0: offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Instrument([]byte(tc.wasm), testLimits)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "meter: "), err.Error())
		})
	}
}

// TestMissingSectionsAreAdded instruments a module without types, imports
// or globals: the ones the meter needs must appear in the right order.
func TestMissingSectionsAreAdded(t *testing.T) {
	ctx := context.Background()
	for _, wasm := range [][]byte{
		wasmModule(),
		wasmModule(sec(secMemory, []byte{0x00, 0x01})),
		wasmModule(sec(secExport), raw(secCustom, cat(appendName(nil, "extra"), []byte{1, 2, 3}))),
	} {
		metered, err := Instrument(wasm, testLimits)
		require.NoError(t, err)
		rt := wazero.NewRuntime(ctx)
		_, err = rt.CompileModule(ctx, metered)
		require.NoError(t, err)
		require.NoError(t, rt.Close(ctx))
	}
}

// FuzzInstrument feeds arbitrary bytes to Instrument: it must never panic,
// and what it accepts, if wazero accepts it as given, must still compile
// once metered. (Only what the meter accepted goes to wazero: some counts
// make wazero allocate without bound, which the meter refuses first.)
func FuzzInstrument(f *testing.F) {
	f.Add(countdown)
	f.Add(wasmModule(sec(secMemory, []byte{0x00, 0x01})))
	f.Add(wasmModule(
		sec(secType, funcType(i32, "")),
		sec(secFunction, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secCode, body(nil, 0x41, 0x00, 0x41, 0x2a, 0x20, 0x00, 0xfc, 0x0b, 0x00)),
	))
	f.Add(growMemory)
	f.Add(growTable)
	f.Add(restorableModule())
	f.Add(wasmModule( // a data count that no code uses: restorable without segments
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}),
		sec(secMemory, []byte{0x00, 0x01}),
		sec(secExport, export("memory", 2, 0)),
		raw(secDataCount, []byte{1}),
		sec(secCode, body(nil)),
		sec(secData, cat([]byte{0x00, 0x41, 16, 0x0b}, appendName(nil, "hello"))),
	))
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	f.Cleanup(func() { rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		metered, err := Instrument(wasm, testLimits)
		if err != nil {
			return
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			return // invalid as given; the metered copy may be too
		}
		require.NoError(t, orig.Close(ctx))
		cm, err := rt.CompileModule(ctx, metered)
		require.NoError(t, err, "the metered module must compile")
		require.NoError(t, cm.Close(ctx))
		rs, err := InstrumentRestorable(wasm, testLimits, testLimits.MemoryPages)
		if errors.As(err, new(*NotRestorableError)) {
			return
		}
		require.NoError(t, err, "a module the meter takes is restorable or says why not")
		cm, err = rt.CompileModule(ctx, rs.Module)
		require.NoError(t, err, "the restorable module must compile")
		require.NoError(t, cm.Close(ctx))
	})
}

// The meter must read every byte as wazero does, or refuse: a difference
// would let a guest hide code from it. These came from a review.
func TestRefusesWhatItCannotReadLikeWazero(t *testing.T) {
	fn := func(locals []byte, code ...byte) []byte {
		return wasmModule(
			sec(secType, funcType("", "")),
			sec(secFunction, []byte{0}),
			sec(secCode, body(locals, code...)),
		)
	}
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"typed reference block type", fn(nil, 0x02, 0x63, 0x70, 0x0b), "unsupported block type"},
		{"typed reference local", fn([]byte{1, 0x63}, 0x01), "unsupported value type 0x63"},
		{"typed reference select", fn(nil, 0x1c, 0x01, 0x63), "unsupported value type 0x63"},
		{"table with an initialiser", wasmModule(sec(4, []byte{0x40, 0x00, 0x70, 0x00, 0x01})), "unsupported reference type 0x40"},
		{"call beyond the functions", fn(nil, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f), "function 4294967295 does not exist"},
		{"export beyond the functions", wasmModule(sec(secExport, export("f", 0, 0xffffffff))), "function 4294967295 does not exist"},
		{"a count the bytes cannot hold", wasmModule(raw(secData, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})), "vector of 4294967295 elements"},
		{"a data count the module cannot hold", wasmModule(raw(secDataCount, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})), "data count 4294967295"},
		{"an overlong integer", fn(nil, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a), "integer too long"},
		{"ref.func in code", fn(nil, 0xd2, 0x00, 0x1a), "ref.func in a function body"},
		{"an imported table", wasmModule(sec(secImport, cat(appendName(nil, "env"), appendName(nil, "t"), []byte{0x01, 0x70, 0x00, 0x00}))),
			"import env.t is a table; the host provides functions only"},
		{"a shared table", wasmModule(sec(secTable, []byte{0x70, 0x03, 0x00, 0x01})), "table 0 is shared"},
		{"limits flags as LEB128", wasmModule(sec(secTable, []byte{0x70, 0x80, 0x00, 0x00})), "limits flags 0x80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Instrument(tc.wasm, testLimits)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// wazero reads a SIMD opcode as one byte: "fd 8c 00" is i16x8.shr_s then
// unreachable, not one LEB128 opcode. Read the other way, the 16 bytes of a
// v128.const would hide a loop from the meter.
func TestSIMDOpcodesAreOneByte(t *testing.T) {
	hidden := []byte{0x0b, 0x03, 0x40, 0x0c, 0x00} // end; loop; br 0
	for len(hidden) < 16 {
		hidden = append(hidden, 0x01)
	}
	code := cat([]byte{0x02, 0x40, 0x41, 0x01, 0x0d, 0x00, 0xfd, 0x0c}, make([]byte, 16),
		[]byte{0x41, 0x01, 0xfd, 0x8c, 0x00}, hidden, []byte{0x0b})
	spin := wasmModule(
		sec(secType, funcType("", "")),
		sec(secFunction, []byte{0}),
		sec(secExport, export("spin", 0, 0)),
		sec(secCode, body(nil, code...)),
	)
	h := &meterHost{fuel: 1000, stopAfter: 3}
	mod := h.run(t, spin, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := mod.ExportedFunction("spin").Call(ctx)
	require.ErrorIs(t, err, errStopped, "the hidden loop is metered")
}

// What follows a call is charged when the call returns, so that a deep
// recursion unwinding through long tails still meets refuel.
func TestReturnsFromCallsAreCharged(t *testing.T) {
	// f(n): if n { f(n-1) }; tails += 1; then 1,000 nops.
	code := []byte{0x20, 0x00, 0x04, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, 0x0b,
		0x23, 0x00, 0x41, 0x01, 0x6a, 0x24, 0x00}
	for range 1000 {
		code = append(code, 0x01)
	}
	recurse := wasmModule(
		sec(secType, funcType(i32, "")),
		sec(secFunction, []byte{0}),
		sec(secGlobal, []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}),
		sec(secExport, export("f", 0, 0), export("tails", 3, 0)),
		sec(secCode, body(nil, code...)),
	)
	// The descent of 2,000 frames costs about 30,000 units, within the
	// first quantum; the unwinding costs a refuel every frame or so.
	h := &meterHost{fuel: 500, stopAfter: 100}
	mod := h.run(t, recurse, nil)
	_, err := mod.ExportedFunction("f").Call(context.Background(), 2000)
	require.ErrorIs(t, err, errStopped)
	tails := mod.ExportedGlobal("tails").Get()
	require.Greater(t, tails, uint64(0), "stopped while unwinding, not only on the way down")
	require.Less(t, tails, uint64(2000), "stopped before the unwinding ended")
}

// growMemory's grow(n) grows its memory by n pages and returns the old
// size in pages, or -1.
var growMemory = wasmModule(
	sec(secType, funcType(i32, i32)),
	sec(secFunction, []byte{0}),
	sec(secMemory, []byte{0x00, 0x00}),
	sec(secExport, export("grow", 0, 0)),
	sec(secCode, body(nil, 0x20, 0x00, 0x40, 0x00)), // memory.grow(n)
)

// growTable's grow(n) grows a table declared with min 10 and max 2^32-1
// by n entries and returns its old size, or -1.
var growTable = wasmModule(
	sec(secType, funcType(i32, i32)),
	sec(secFunction, []byte{0}),
	sec(secTable, []byte{0x70, 0x01, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}),
	sec(secExport, export("grow", 0, 0)),
	sec(secCode, body(nil, 0xd0, 0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00)), // table.grow(ref.null, n)
)

func TestMemoryGrowIsChargedPerPage(t *testing.T) {
	h := &meterHost{fuel: 1000}
	mod := h.run(t, growMemory, nil)
	// 16 pages are charged 1 MiB, the first quantum; each page after it
	// (64 KiB units) goes below zero on its own.
	for i := 0; i < 16; i++ {
		require.EqualValues(t, i, call(t, mod, "grow", 1))
	}
	require.LessOrEqual(t, h.refuels, 1)
	for i := 16; i < 26; i++ {
		require.EqualValues(t, i, call(t, mod, "grow", 1))
	}
	require.GreaterOrEqual(t, h.refuels, 10)
	// A grow that fails is charged too: what it asked for bounds its cost.
	before := h.refuels
	require.EqualValues(t, uint32(0xffffffff), call(t, mod, "grow", 1<<20))
	require.Greater(t, h.refuels, before)
}

// A table declared unbounded grows only to the limit: table.grow past it
// fails, as the specification lets it, instead of allocating.
func TestTablesGrowOnlyToTheLimit(t *testing.T) {
	h := &meterHost{fuel: Quantum}
	mod := h.run(t, growTable, nil)
	require.EqualValues(t, 10, call(t, mod, "grow", 990))
	require.EqualValues(t, uint32(0xffffffff), call(t, mod, "grow", 1))
	require.EqualValues(t, uint32(0xffffffff), call(t, mod, "grow", 30_000_000))
	require.EqualValues(t, 1000, call(t, mod, "grow", 0))
}

// Two tables share the limit: each may grow by half of what the minimums
// leave, and a declared maximum below that stays.
func TestTablesShareTheLimit(t *testing.T) {
	wasm := wasmModule(
		sec(secType, funcType(i32, i32)),
		sec(secFunction, []byte{0}, []byte{0}),
		sec(secTable, []byte{0x70, 0x00, 0x64}, []byte{0x6f, 0x01, 0x00, 0x05}), // min 100; min 0 max 5
		sec(secExport, export("grow0", 0, 0), export("grow1", 0, 1)),
		sec(secCode,
			body(nil, 0xd0, 0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00),
			body(nil, 0xd0, 0x6f, 0x20, 0x00, 0xfc, 0x0f, 0x01)),
	)
	h := &meterHost{fuel: Quantum}
	mod := h.run(t, wasm, nil)
	require.EqualValues(t, uint32(0xffffffff), call(t, mod, "grow0", 451)) // 100 + (1000-100)/2 = 550
	require.EqualValues(t, 100, call(t, mod, "grow0", 450))
	require.EqualValues(t, uint32(0xffffffff), call(t, mod, "grow1", 6))
	require.EqualValues(t, 0, call(t, mod, "grow1", 5))
}

// Each bound on what a module declares refuses a module just over it, with
// a *LimitError that says what, where and the limit.
func TestLimits(t *testing.T) {
	repeat := func(n int, entry []byte) [][]byte {
		e := make([][]byte, n)
		for i := range e {
			e[i] = entry
		}
		return e
	}
	elemSegment := func(n int) []byte { // active, table 0, offset 0, n times function 0
		return cat([]byte{0x00, 0x41, 0x00, 0x0b}, appendVec(nil, n, make([]byte, n)))
	}
	oneFunc := [][]byte{sec(secType, funcType("", "")), sec(secFunction, []byte{0})}
	for _, tc := range []struct {
		name       string
		wasm       []byte
		what       string
		got, limit uint64
		field      string
	}{
		{"table minimum", wasmModule(sec(secTable, []byte{0x70, 0x00, 0x80, 0x87, 0xa7, 0x0e})), // 30,000,000
			"table entries (the tables' minimums together)", 30_000_000, 1000, "TableEntries"},
		{"tables' minimums together", wasmModule(sec(secTable, []byte{0x70, 0x00, 0xe8, 0x07}, []byte{0x70, 0x00, 0x01})),
			"table entries (the tables' minimums together)", 1001, 1000, "TableEntries"},
		{"element entries", wasmModule(oneFunc[0], oneFunc[1],
			sec(secTable, []byte{0x70, 0x00, 0x01}),
			sec(secElement, elemSegment(600), elemSegment(401)),
			sec(secCode, body(nil))),
			"table entries (the element segments' entries together)", 1001, 1000, "TableEntries"},
		{"memory minimum", wasmModule(sec(secMemory, []byte{0x00, 0x11})), "memory pages (the memory's minimum)", 17, 16, "MemoryPages"},
		{"tables", wasmModule(sec(secTable, repeat(MaxTables+1, []byte{0x70, 0x00, 0x00})...)), "tables", MaxTables + 1, MaxTables, ""},
		{"globals", wasmModule(sec(secGlobal, repeat(MaxGlobals+1, []byte{0x7f, 0x00, 0x41, 0x00, 0x0b})...)), "globals", MaxGlobals + 1, MaxGlobals, ""},
		{"data segments", wasmModule(sec(secData, repeat(MaxDataSegments+1, []byte{0x01, 0x00})...)), "data segments", MaxDataSegments + 1, MaxDataSegments, ""},
		{"element segments", wasmModule(sec(secElement, repeat(MaxElementSegments+1, []byte{0x01, 0x00, 0x00})...)), "element segments", MaxElementSegments + 1, MaxElementSegments, ""},
		{"exports", wasmModule(sec(secExport, repeat(MaxExports+1, export("", 0x02, 0))...)), "exports", MaxExports + 1, MaxExports, ""},
		{"imports", wasmModule(sec(secType, funcType("", "")), sec(secImport, repeat(MaxImports+1, cat(appendName(nil, "m"), appendName(nil, "f"), []byte{0x00, 0x00}))...)),
			"imports", MaxImports + 1, MaxImports, ""},
		{"types", wasmModule(sec(secType, repeat(MaxTypes+1, funcType("", ""))...)), "function types", MaxTypes + 1, MaxTypes, ""},
		{"locals", wasmModule(oneFunc[0], oneFunc[1], sec(secCode, []byte{7, 1, 0x80, 0x80, 0x04, 0x7f, 0x01, 0x0b})), "locals", 65536, MaxLocals, ""},
		{"module size", make([]byte, MaxModuleSize+1), "bytes", MaxModuleSize + 1, MaxModuleSize, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Instrument(tc.wasm, testLimits)
			var le *LimitError
			require.ErrorAs(t, err, &le)
			require.Equal(t, tc.what, le.What)
			require.Equal(t, tc.got, le.Got)
			require.Equal(t, tc.limit, le.Limit)
			require.Equal(t, tc.field, le.Field)
			t.Log(err)
		})
	}
}
