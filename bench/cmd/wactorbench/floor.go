package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The floor: what wazero itself costs, below everything wactor adds. The
// two modules are written out byte by byte so that no WebAssembly text
// tool is needed.

func init() { measures["floor/wazero"] = floorWazero }

// noopModule is
//
//	(module (func (export "noop")))
var noopModule = wasmModule(
	section(1, vec(funcType(nil, nil))), // types
	section(3, vec([]byte{0})),          // functions: type 0
	section(7, vec(export("noop", 0))),  // exports
	section(10, vec(body(0x0b))),        // code: end
)

// importLoopModule calls its imported no-op n times:
//
//	(module
//	  (import "env" "noop" (func $noop))
//	  (func (export "loop") (param $n i32)
//	    (block (loop
//	      (br_if 1 (i32.eqz (local.get $n)))
//	      (call $noop)
//	      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
//	      (br 0)))))
var importLoopModule = wasmModule(
	section(1, vec(funcType(nil, nil), funcType([]byte{0x7f}, nil))),
	section(2, vec(concat(name("env"), name("noop"), []byte{0x00, 0x00}))), // func of type 0
	section(3, vec([]byte{1})),
	section(7, vec(export("loop", 1))),
	section(10, vec(body(
		0x02, 0x40, // block
		0x03, 0x40, // loop
		0x20, 0x00, // local.get 0
		0x45,       // i32.eqz
		0x0d, 0x01, // br_if 1
		0x10, 0x00, // call 0
		0x20, 0x00, // local.get 0
		0x41, 0x01, // i32.const 1
		0x6b,       // i32.sub
		0x21, 0x00, // local.set 0
		0x0c, 0x00, // br 0
		0x0b, 0x0b, // end loop, end block
		0x0b, // end
	))),
)

func wasmModule(sections ...[]byte) []byte {
	return concat(append([][]byte{{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}}, sections...)...)
}

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func uleb(n int) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func section(id byte, content []byte) []byte {
	return concat([]byte{id}, uleb(len(content)), content)
}

func vec(items ...[]byte) []byte { return concat(append([][]byte{uleb(len(items))}, items...)...) }

func funcType(params, results []byte) []byte {
	return concat([]byte{0x60}, uleb(len(params)), params, uleb(len(results)), results)
}

func name(s string) []byte { return concat(uleb(len(s)), []byte(s)) }

func export(n string, fn int) []byte { return concat(name(n), []byte{0x00}, uleb(fn)) }

// body is a function body without locals.
func body(code ...byte) []byte {
	b := concat([]byte{0x00}, code)
	return concat(uleb(len(b)), b)
}

// floorWazero times calls of an exported no-op from Go, and calls of an
// imported no-op (an api.GoModuleFunc, as wactor registers its host
// functions) from a guest loop, each for at least sp.Dur.
func floorWazero(ctx context.Context, sp *spec) (result, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(sp.Checks))
	defer rt.Close(ctx)
	_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {}), nil, nil).
		Export("noop").Instantiate(ctx)
	if err != nil {
		return nil, err
	}
	noop, err := rt.InstantiateWithConfig(ctx, noopModule, wazero.NewModuleConfig().WithName("noop"))
	if err != nil {
		return nil, fmt.Errorf("noop module: %w", err)
	}
	loop, err := rt.InstantiateWithConfig(ctx, importLoopModule, wazero.NewModuleConfig().WithName("loop"))
	if err != nil {
		return nil, fmt.Errorf("import loop module: %w", err)
	}
	fn := noop.ExportedFunction("noop")
	stack := make([]uint64, 1)
	exportNS, err := timePerCall(sp.Dur, func(n int) error {
		for range n {
			if err := fn.CallWithStack(ctx, stack); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lf := loop.ExportedFunction("loop")
	importNS, err := timePerCall(sp.Dur, func(n int) error {
		stack[0] = uint64(n)
		return lf.CallWithStack(ctx, stack)
	})
	if err != nil {
		return nil, err
	}
	return result{"export_ns": exportNS, "import_ns": importNS}, nil
}

// timePerCall runs batch(n) with n growing from 1,000, each time aiming at
// d from the last batch's rate, until one batch takes at least d, and
// returns that batch's ns per call.
func timePerCall(d time.Duration, batch func(n int) error) (float64, error) {
	if err := batch(1000); err != nil { // warm-up
		return 0, err
	}
	for n := 1000; ; {
		start := time.Now()
		if err := batch(n); err != nil {
			return 0, err
		}
		el := time.Since(start)
		if el >= d || n >= 1e9 {
			return float64(el.Nanoseconds()) / float64(n), nil
		}
		grow := 100.0
		if el > 0 {
			grow = min(100, max(2, 1.2*float64(d)/float64(el)))
		}
		n = int(float64(n) * grow)
	}
}
