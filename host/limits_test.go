package host_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// The hostile modules below are assembled byte by byte: each is a guest
// that speaks ABI v1 (its handle answers {} to anything) with one attack
// added, so that nothing but the attack can make the host refuse it.

// leb encodes an unsigned LEB128. For the constants of i32.const here
// (30,000,000 and 16,384) it is also the signed encoding: their last
// group's sign bit (0x40) is clear.
func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		if v >>= 7; v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// vec is a vector of the binary format: a count, then the entries.
func vec(entries ...[]byte) []byte { return join(leb(uint64(len(entries))), join(entries...)) }

func section(id byte, content []byte) []byte {
	return join([]byte{id}, leb(uint64(len(content))), content)
}

func str(s string) []byte { return join(leb(uint64(len(s))), []byte(s)) }

// code is a function body: locals (a vector's content) and instructions.
func code(locals []byte, instrs ...byte) []byte {
	if locals == nil {
		locals = []byte{0}
	}
	b := join(locals, instrs, []byte{0x0b})
	return join(leb(uint64(len(b))), b)
}

func repeat(n int, entry []byte) [][]byte {
	e := make([][]byte, n)
	for i := range e {
		e[i] = entry
	}
	return e
}

// attack is what a hostile module adds to the ABI guest.
type attack struct {
	memory  []byte   // the memory's limits; default 1 page, no maximum
	tables  [][]byte // table entries
	globals [][]byte
	elems   [][]byte // element segments
	data    [][]byte // data segments after the one holding the reply
	start   []byte   // a start function's body (see code)
}

// abiGuest assembles the ABI guest with a added: functions 0-2 are
// wactor_abi_version, wactor_alloc and wactor_handle, 3 the start function.
func abiGuest(a attack) []byte {
	memory := a.memory
	if memory == nil {
		memory = []byte{0x00, 0x01}
	}
	funcs := [][]byte{{0}, {1}, {2}}
	bodies := [][]byte{
		code(nil, 0x41, 0x01),       // i32.const 1
		code(nil, 0x41, 0x80, 0x08), // i32.const 1024
		code(nil, 0x42, 0x01),       // i64.const 1: the reply is the byte at 0
	}
	if a.start != nil {
		funcs = append(funcs, []byte{3})
		bodies = append(bodies, a.start)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, vec(
		[]byte{0x60, 0x00, 0x01, 0x7f},
		[]byte{0x60, 0x01, 0x7f, 0x01, 0x7f},
		[]byte{0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e},
		[]byte{0x60, 0x00, 0x00},
	))...)
	m = append(m, section(3, vec(funcs...))...)
	if a.tables != nil {
		m = append(m, section(4, vec(a.tables...))...)
	}
	m = append(m, section(5, vec(memory))...)
	if a.globals != nil {
		m = append(m, section(6, vec(a.globals...))...)
	}
	m = append(m, section(7, vec(
		join(str(abi.ExportMemory), []byte{0x02, 0x00}),
		join(str(abi.ExportABIVersion), []byte{0x00, 0x00}),
		join(str(abi.ExportAlloc), []byte{0x00, 0x01}),
		join(str(abi.ExportHandle), []byte{0x00, 0x02}),
	))...)
	if a.start != nil {
		m = append(m, section(8, []byte{0x03})...)
	}
	if a.elems != nil {
		m = append(m, section(9, vec(a.elems...))...)
	}
	m = append(m, section(10, vec(bodies...))...)
	data := append([][]byte{{0x00, 0x41, 0x00, 0x0b, 0x01, 0xa0}}, a.data...) // {} at 0
	return append(m, section(11, vec(data...))...)
}

const thirtyMillion = 30_000_000

// hostileModules are attacks on the host's memory and time through what a
// module declares or does while it starts, each refused by Deploy and
// Inspect alike; the last entries are modules both accept.
func hostileModules(t *testing.T) []struct {
	name   string
	wasm   []byte
	accept bool
} {
	return []struct {
		name   string
		wasm   []byte
		accept bool
	}{
		// A table of 30 million entries (240 MB in wazero), filled at start.
		{"table bomb", abiGuest(attack{
			tables: [][]byte{join([]byte{0x70, 0x00}, leb(thirtyMillion))},
			start:  code(nil, join([]byte{0x41, 0x00, 0xd0, 0x70, 0x41}, leb(thirtyMillion), []byte{0xfc, 0x11, 0x00})...),
		}), false},
		// A small table grown by 30 million entries at start; the start
		// function traps unless the growth happened.
		{"table.grow bomb", abiGuest(attack{
			tables: [][]byte{{0x70, 0x00, 0x01}},
			start: code(nil, join([]byte{0xd0, 0x70, 0x41}, leb(thirtyMillion), []byte{0xfc, 0x0f, 0x00, 0x1a},
				[]byte{0xfc, 0x10, 0x00, 0x41}, leb(thirtyMillion), []byte{0x49, 0x04, 0x40, 0x00, 0x0b})...),
		}), false},
		// memory.grow by 4 GiB, forever, at start.
		{"memory.grow loop at start", abiGuest(attack{
			start: code(nil, 0x03, 0x40, 0x41, 0xff, 0xff, 0x03, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b),
		}), false},
		{"4 GiB minimum memory", abiGuest(attack{memory: []byte{0x00, 0x80, 0x80, 0x04}}), false},
		{"too many globals", abiGuest(attack{globals: repeat(1<<16+1, []byte{0x7f, 0x00, 0x41, 0x00, 0x0b})}), false},
		{"data segment larger than memory", abiGuest(attack{
			data: [][]byte{join([]byte{0x00, 0x41, 0x00, 0x0b}, leb(2<<20), make([]byte, 2<<20))},
		}), false},
		{"too many data segments", abiGuest(attack{data: repeat(1<<20, []byte{0x01, 0x00})}), false},
		{"element entries over the table limit", abiGuest(attack{
			tables: [][]byte{{0x70, 0x00, 0x01}},
			elems:  [][]byte{join([]byte{0x01, 0x00}, leb(100_000), make([]byte, 100_000))},
		}), false},
		// Every ref.func run makes wazero allocate, for the instance's life.
		{"ref.func in a loop", abiGuest(attack{
			elems: [][]byte{{0x03, 0x00, 0x01, 0x00}}, // declares function 0
			start: code(nil, 0x03, 0x40, 0xd2, 0x00, 0x1a, 0x0c, 0x00, 0x0b),
		}), false},
		{"65,536 locals", abiGuest(attack{start: code([]byte{0x01, 0x80, 0x80, 0x04, 0x7f})}), false},
		{"spin at start", abiGuest(attack{start: code(nil, 0x03, 0x40, 0x0c, 0x00, 0x0b)}), false},
		{"the ABI guest itself", abiGuest(attack{}), true},
		// An empty table grown to the limit (16,384 entries for 1 MiB) at
		// start; the start function traps unless the growth happened.
		{"a table grown to the limit", abiGuest(attack{
			tables: [][]byte{{0x70, 0x00, 0x00}},
			start: code(nil, join([]byte{0xd0, 0x70, 0x41}, leb(16384), []byte{0xfc, 0x0f, 0x00, 0x1a},
				[]byte{0xfc, 0x10, 0x00, 0x41}, leb(16384), []byte{0x47, 0x04, 0x40, 0x00, 0x0b})...),
		}), true},
		{"the C counter", testwasm.C(t, "counter"), true},
	}
}

// TestInspectAndRunAgree runs each hostile module through Inspect and
// through Deploy and a first activation, with the same limits, and
// requires the same verdict from both, each in bounded time and memory.
func TestInspectAndRunAgree(t *testing.T) {
	h := newHost(t, memstore.New())
	ctx := context.Background()
	const maxAlloc = 128 << 20 // what the largest module here costs to compile, with room to spare
	for i, m := range hostileModules(t) {
		t.Run(m.name, func(t *testing.T) {
			tc := host.TypeConfig{Name: fmt.Sprintf("m%d", i), Module: m.wasm, Source: "hostile.wasm",
				MaxMemory: 1 << 20, MaxMessage: 1 << 10, TurnTimeout: 300 * time.Millisecond}
			bounded := func(what string, f func()) {
				t.Helper()
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				f()
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				assert.Less(t, took, 10*time.Second, what)
				assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(maxAlloc), "%s allocated", what)
			}

			var runErr error
			bounded("deploy and first activation", func() {
				if runErr = h.Deploy(ctx, tc); runErr == nil {
					_, runErr = h.Ask(ctx, abi.Ref{Type: tc.Name, ID: "a"}, "get", nil)
				}
			})
			var info *host.ModuleInfo
			var inspectErr error
			bounded("inspect", func() { info, inspectErr = host.Inspect(ctx, tc) })
			inspectOK := inspectErr == nil && len(info.Problems) == 0
			t.Logf("run: %v", runErr)
			if info != nil {
				t.Logf("inspect: %v %q", inspectErr, info.Problems)
			} else {
				t.Logf("inspect: %v", inspectErr)
			}
			assert.Equal(t, m.accept, runErr == nil, "run accepts")
			assert.Equal(t, m.accept, inspectOK, "inspect accepts")
		})
	}
}
