package host

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/testwasm"
)

// interruptVariants are the ways a guest call can be made interruptible,
// priced by the benchmarks below against a call that cannot be stopped:
//   - unprotected: the module as built, no close checks compiled in, a
//     context without Done: a runaway guest would never stop;
//   - close-on-done: wazero's WithCloseOnContextDone and a cancellable
//     context per call, as turns ran before fuel metering; wazero starts a
//     goroutine per call and leaves compiled code at every loop back-edge;
//   - metered: the module with fuel metering added (host/internal/meter),
//     as turns run now: refuel checks the turn's deadline, which needs no
//     context of its own.
var interruptVariants = []struct {
	name        string
	closeOnDone bool
	metered     bool
	cancellable bool
}{
	{"unprotected", false, false, false},
	{"close-on-done", true, false, true},
	{"metered", false, true, false},
}

// BenchmarkGuestCall measures one small turn's call into a guest: the
// counter's get (one state_get) in C and in Go, below the scheduler, with
// the input buffer reused as turns do (one call into the guest per
// message).
func BenchmarkGuestCall(b *testing.B) {
	req := (&abi.Request{Kind: abi.KindMessage, Method: "get", Payload: []byte{0xa0}, ID: "1"}).AppendTo(nil)
	b.Run("c", func(b *testing.B) { benchmarkInterrupt(b, testwasm.C(b, "counter"), req) })
	b.Run("go", func(b *testing.B) { benchmarkInterrupt(b, testwasm.Go(b, "counter"), req) })
}

// BenchmarkGuestCompute measures a turn that computes: the C hostile
// actor's burn, 100,000 rounds of xorshift in one loop, which is where fuel
// metering pays its charge per loop iteration.
func BenchmarkGuestCompute(b *testing.B) {
	payload := abi.AppendUint(nil, 100_000)
	req := (&abi.Request{Kind: abi.KindMessage, Method: "burn", Payload: payload, ID: "1"}).AppendTo(nil)
	benchmarkInterrupt(b, testwasm.C(b, "hostile"), req)
}

func benchmarkInterrupt(b *testing.B, wasm, req []byte) {
	for _, bc := range interruptVariants {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(bc.closeOnDone))
			defer rt.Close(ctx)
			v, err := compileBench(ctx, rt, wasm, bc.metered)
			if err != nil {
				b.Fatal(err)
			}
			inst, err := v.instantiate(ctx, &outputBuffer{})
			if err != nil {
				b.Fatal(err)
			}
			t := &turn{a: &activation{state: map[string][]byte{}, ref: abi.Ref{Type: "bench", ID: "a"}}, cfg: &TypeConfig{MaxMessage: DefaultMaxMessage}}
			callCtx := context.WithValue(ctx, turnKey{}, t)
			inst.stack[0] = uint64(len(req))
			// The instance looks wactor_alloc up only when a request does
			// not fit the snapshot's input buffer: here it is looked up.
			if err := inst.mod.ExportedFunction(abi.ExportAlloc).CallWithStack(callCtx, inst.stack[:]); err != nil {
				b.Fatal(err)
			}
			ptr := uint32(inst.stack[0])
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := callCtx
				var cancel context.CancelFunc
				if bc.cancellable {
					c, cancel = context.WithCancel(callCtx)
				}
				inst.mod.Memory().Write(ptr, req)
				inst.stack[0], inst.stack[1] = uint64(ptr), uint64(len(req))
				if err := inst.handle.CallWithStack(c, inst.stack[:]); err != nil {
					b.Fatal(err)
				}
				if cancel != nil {
					cancel()
				}
			}
			b.StopTimer()
			var reply abi.Reply
			p, n := abi.UnpackPointer(inst.stack[0])
			raw, _ := inst.mod.Memory().Read(p, n)
			if err := reply.Decode(raw); err != nil || reply.Code != "" {
				b.Fatalf("the guest answered %q (%v)", reply.Code, err)
			}
		})
	}
}

// compileBench compiles wasm in rt with fuel metering and the default
// limits, or as it was built, for the baselines.
func compileBench(ctx context.Context, rt wazero.Runtime, wasm []byte, metered bool) (*moduleVersion, error) {
	var cm wazero.CompiledModule
	var err error
	if err = provideImports(ctx, rt); err == nil && metered {
		tc := TypeConfig{}
		tc.applyDefaults()
		cm, _, err = compileMetered(ctx, rt, wasm, tc.meterLimits(), false, 0)
	} else if err == nil {
		cm, err = rt.CompileModule(ctx, wasm)
	}
	if err != nil {
		return nil, err
	}
	return &moduleVersion{rt: rt, compiled: cm, size: len(wasm)}, nil
}
