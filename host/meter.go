package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wactor/wactor/host/internal/meter"
)

// Guests are stopped by fuel metering rather than by wazero's
// WithCloseOnContextDone, which starts a goroutine on every call into the
// guest and leaves compiled code at every loop back-edge (RATIONALE.md,
// "Sandbox"). Modules are instrumented when they are compiled; the
// instrumented code calls refuel about once per meter.Quantum instructions.

// instantiateMeter provides the refuel import to the runtime.
func instantiateMeter(ctx context.Context, rt wazero.Runtime) error {
	_, err := rt.NewHostModuleBuilder(meter.ImportModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(refuel), nil, []api.ValueType{api.ValueTypeI64}).
		Export(meter.ImportRefuel).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("instantiating the fuel meter: %w", err)
	}
	return nil
}

// errOverran stops a guest whose turn ran past its execution limit.
var errOverran = errors.New("wactor: turn ran past its execution limit")

// refuel is where a running guest meets the host. It stops the guest when
// its turn ran past its limit (its deadline, which the turn pushes back
// by the time it waits in asks) or the call's context is done, and
// otherwise yields the processor, because Go cannot preempt a goroutine
// inside compiled guest code: without this, two spinning guests on two
// cores would hold both until their turns' limits. The deadline is read
// here, on the goroutine running the turn, once per quantum: a guest
// stops only at a refuel anyway, so a goroutine watching deadlines would
// stop it no sooner, and registering every turn with it cost each turn
// two locks on one shared map.
func refuel(ctx context.Context, _ api.Module, stack []uint64) {
	if t, _ := ctx.Value(turnKey{}).(*turn); t != nil && (t.timedOut || (t.deadline != 0 && monotonic() > t.deadline)) {
		t.timedOut = true
		panic(errOverran) // wazero unwinds the guest and returns it from the call
	}
	if err := ctx.Err(); err != nil {
		panic(err)
	}
	runtime.Gosched()
	stack[0] = meter.Quantum
}
