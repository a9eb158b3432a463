package meter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// sections returns the ids of the module's sections, in order.
func sections(t *testing.T, wasm []byte) []byte {
	t.Helper()
	var ids []byte
	r := &reader{b: wasm, off: 8}
	for !r.done() {
		ids = append(ids, r.byte())
		r.bytes(uint64(r.u32()))
	}
	require.NoError(t, r.err)
	return ids
}

// indirect has a table of 8: slot 2 forty (imported), 3 two, 4 void (of
// another type), 5 two again; the others empty. pick(i) calls slot i as
// () -> i32, add(i, x) slot 6 (plus) as (i32) -> i32.
func indirect(code ...byte) []byte {
	return wasmModule(
		sec(secType, funcType("", i32), funcType("", ""), funcType(i32, i32), funcType(i32+i32, i32)),
		sec(secImport, cat(appendName(nil, "env"), appendName(nil, "forty"), []byte{0x00, 0x00})),
		// functions: 1 two, 2 void, 3 pick, 4 plus, 5 add
		sec(secFunction, []byte{0}, []byte{1}, []byte{2}, []byte{2}, []byte{3}),
		sec(4, []byte{0x70, 0x00, 0x08}),
		sec(secExport, export("pick", 0, 3), export("add", 0, 5)),
		sec(secElement,
			cat([]byte{0x00, 0x41, 0x02, 0x0b}, appendVec(nil, 4, []byte{0, 1, 2, 1})),
			cat([]byte{0x04, 0x41, 0x06, 0x0b}, appendVec(nil, 1, []byte{0xd2, 4, 0x0b})),
		),
		sec(secCode,
			body(nil, 0x41, 0x02),                   // two
			body(nil),                               // void
			body(nil, code...),                      // pick
			body(nil, 0x20, 0x00, 0x41, 0x01, 0x6a), // plus: x + 1
			body(nil, 0x20, 0x01, 0x20, 0x00, 0x11, 0x02, 0x00), // add: table[i](x)
		),
	)
}

func withForty(rt wazero.Runtime) {
	_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func() int32 { return 40 }).Export("forty").Instantiate(context.Background())
	if err != nil {
		panic(err)
	}
}

// TestTableBecomesDispatch checks that a table only call_indirect reads is
// replaced by dispatch functions that call what the table held, and trap
// where call_indirect would: an empty slot, a slot past the table, a
// function of another type.
func TestTableBecomesDispatch(t *testing.T) {
	wasm := indirect(0x20, 0x00, 0x11, 0x00, 0x00) // table[i]() as () -> i32
	metered, err := Instrument(wasm, testLimits)
	require.NoError(t, err)
	require.NotContains(t, sections(t, metered), byte(secTable), "the table is replaced")
	require.NotContains(t, sections(t, metered), byte(secElement))
	h := &meterHost{fuel: Quantum}
	mod := h.instantiate(t, metered, withForty)
	// The module as given, with its table, answers the same.
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	withForty(rt)
	orig, err := rt.Instantiate(ctx, wasm)
	require.NoError(t, err)
	for _, c := range []struct {
		fn   string
		args []uint64
		want uint64 // 0: traps
	}{
		{"pick", []uint64{2}, 40}, {"pick", []uint64{3}, 2}, {"pick", []uint64{5}, 2}, {"add", []uint64{6, 7}, 8},
		{"pick", []uint64{0}, 0}, {"pick", []uint64{1}, 0}, {"pick", []uint64{4}, 0}, {"pick", []uint64{6}, 0},
		{"pick", []uint64{7}, 0}, {"pick", []uint64{8}, 0}, {"pick", []uint64{1 << 31}, 0}, {"pick", []uint64{1<<32 - 1}, 0},
		{"add", []uint64{5, 1}, 0}, {"add", []uint64{2, 1}, 0},
	} {
		for _, m := range []api.Module{mod, orig} {
			res, err := m.ExportedFunction(c.fn).Call(ctx, c.args...)
			if c.want == 0 {
				require.Error(t, err, "%s%v", c.fn, c.args)
			} else {
				require.NoError(t, err, "%s%v", c.fn, c.args)
				require.EqualValues(t, c.want, res[0], "%s%v", c.fn, c.args)
			}
		}
	}
}

// TestTableStaysWhenCodeReadsIt checks that a table that code reads or
// changes other than by call_indirect is kept.
func TestTableStaysWhenCodeReadsIt(t *testing.T) {
	for name, code := range map[string][]byte{
		"table.get":  {0x20, 0x00, 0x25, 0x00, 0x1a, 0x41, 0x00},
		"table.size": {0xfc, 0x10, 0x00},
		"table.grow": {0xd0, 0x70, 0x41, 0x01, 0xfc, 0x0f, 0x00},
	} {
		t.Run(name, func(t *testing.T) {
			metered, err := Instrument(indirect(code...), testLimits)
			require.NoError(t, err)
			require.Contains(t, sections(t, metered), byte(secTable))
			h := &meterHost{fuel: Quantum}
			mod := h.instantiate(t, metered, withForty)
			require.EqualValues(t, 8, call(t, mod, "add", 6, 7))
		})
	}
}

// TestLargeTablesStay checks that a table of more functions than a
// dispatch function may nest is kept.
func TestLargeTablesStay(t *testing.T) {
	n := maxDispatchFunctions + 1
	var funcs, bodies [][]byte
	var elems []byte
	for i := range n {
		funcs = append(funcs, []byte{0})
		bodies = append(bodies, body(nil, 0x41, 0x01))
		elems = appendULEB(elems, uint64(i))
	}
	funcs = append(funcs, []byte{1})
	bodies = append(bodies, body(nil, 0x20, 0x00, 0x11, 0x00, 0x00))
	wasm := wasmModule(
		sec(secType, funcType("", i32), funcType(i32, i32)),
		sec(secFunction, funcs...),
		sec(4, appendULEB([]byte{0x70, 0x00}, uint64(n))),
		sec(secExport, export("pick", 0, uint32(n))),
		sec(secElement, cat([]byte{0x00, 0x41, 0x00, 0x0b}, appendVec(nil, n, elems))),
		sec(secCode, bodies...),
	)
	metered, err := Instrument(wasm, Limits{MemoryPages: 16, TableEntries: 1 << 20})
	require.NoError(t, err)
	require.Contains(t, sections(t, metered), byte(secTable))
}
