package host

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/testwasm"
)

// BenchmarkGuestCall measures one request through wactor_alloc and
// wactor_handle of the C counter's get, below the scheduler, to price the
// interruption machinery a per-turn execution limit needs:
//   - unprotected: no close checks compiled in, a context without Done;
//   - checks-only: close checks compiled in, a context without Done
//     (what a turn would cost if something else could stop the guest);
//   - cancellable: close checks and a cancellable context; wazero starts a
//     goroutine per call to watch the context;
//   - cancellable-reuse: the same with the input buffer reused, one call
//     into the guest per message instead of two, as turns run now.
func BenchmarkGuestCall(b *testing.B) {
	wasm := testwasm.C(b, "counter")
	req := (&abi.Request{Kind: abi.KindMessage, Method: "get", Payload: []byte{0xa0}, ID: "1"}).AppendTo(nil)
	for _, bc := range []struct {
		name        string
		checks      bool
		cancellable bool
		reuse       bool
	}{
		{"unprotected", false, false, false},
		{"checks-only", true, false, false},
		{"cancellable", true, true, false},
		{"cancellable-reuse", true, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(bc.checks))
			defer rt.Close(ctx)
			v, err := compileIn(ctx, rt, wasm)
			if err != nil {
				b.Fatal(err)
			}
			inst, err := v.instantiate(ctx, &outputBuffer{})
			if err != nil {
				b.Fatal(err)
			}
			// Host functions find their turn in the context; get makes
			// one state_get call.
			t := &turn{a: &activation{state: map[string][]byte{}, ref: abi.Ref{Type: "counter", ID: "a"}}, cfg: &TypeConfig{MaxMessage: DefaultMaxMessage}}
			callCtx := context.WithValue(ctx, turnKey{}, t)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := callCtx
				var cancel context.CancelFunc
				if bc.cancellable {
					c, cancel = context.WithCancel(callCtx)
				}
				if !bc.reuse || inst.inCap == 0 {
					inst.stack[0] = uint64(len(req))
					if err := inst.alloc.CallWithStack(c, inst.stack); err != nil {
						b.Fatal(err)
					}
					inst.inPtr, inst.inCap = uint32(inst.stack[0]), uint32(len(req))
				}
				ptr := inst.inPtr
				inst.mod.Memory().Write(ptr, req)
				inst.stack[0], inst.stack[1] = uint64(ptr), uint64(len(req))
				if err := inst.handle.CallWithStack(c, inst.stack); err != nil {
					b.Fatal(err)
				}
				if cancel != nil {
					cancel()
				}
			}
		})
	}
}
