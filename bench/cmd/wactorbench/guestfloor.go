package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/cputime"
)

// The guest-call floor of the ring and the fan-out: the same C guests,
// instantiated sp.N times in bare wazero, each message one call of
// wactor_alloc and wactor_handle with the request envelope wactor would
// write, and the few imports they use (tell, self, state_get, state_set,
// result) answered by the least a host can do (a map per instance, the
// last tell kept). No store, no scheduler, no goroutine: one loop on one
// goroutine. What a wactor message costs beyond it is the host's.

func init() {
	measures["ringfloor/wazero"] = ringFloor
	measures["fanoutfloor/wazero"] = fanoutFloor
}

// floorInstance is one instance and what its imports keep.
type floorInstance struct {
	mod     api.Module
	alloc   api.Function
	handle  api.Function
	self    string
	state   map[string][]byte
	pending []byte // the pending result
	told    abi.Call
	stack   [2]uint64
}

// floorGuests is sp.N instances of sp.Guest named typ/0 ... typ/<n-1>.
type floorGuests struct {
	rt    wazero.Runtime
	insts []*floorInstance
	byMod map[api.Module]*floorInstance
	req   []byte
}

func newFloorGuests(ctx context.Context, sp *spec, typ string) (*floorGuests, error) {
	wasm, err := os.ReadFile(sp.Guest)
	if err != nil {
		return nil, err
	}
	g := &floorGuests{rt: wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler()), byMod: map[api.Module]*floorInstance{}}
	inst := func(m api.Module) *floorInstance { return g.byMod[m] }
	arg := func(m api.Module, stack []uint64) []byte {
		b, ok := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
		if !ok {
			panic("import argument out of range")
		}
		return b
	}
	pend := func(f *floorInstance, status uint64, b []byte) uint64 {
		f.pending = b
		return status<<32 | uint64(len(b))
	}
	b := g.rt.NewHostModuleBuilder("wactor")
	i32i32 := []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}
	i64 := []api.ValueType{api.ValueTypeI64}
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		f := inst(m)
		if err := f.told.Decode(arg(m, stack)); err != nil {
			panic(err)
		}
		f.told.Payload = append([]byte(nil), f.told.Payload...)
		stack[0] = pend(f, 0, nil)
	}), i32i32, i64).Export("tell")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		f := inst(m)
		stack[0] = pend(f, 0, []byte(f.self))
	}), i32i32, i64).Export("self")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		f := inst(m)
		var op abi.StateOp
		if err := op.Decode(arg(m, stack)); err != nil {
			panic(err)
		}
		if v, ok := f.state[op.Key]; ok {
			stack[0] = pend(f, 0, v)
		} else {
			stack[0] = pend(f, 1, nil)
		}
	}), i32i32, i64).Export("state_get")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		f := inst(m)
		var op abi.StateOp
		if err := op.Decode(arg(m, stack)); err != nil {
			panic(err)
		}
		f.state[op.Key] = append([]byte(nil), op.Value...)
		stack[0] = pend(f, 0, nil)
	}), i32i32, i64).Export("state_set")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		f := inst(m)
		n := min(uint32(stack[1]), uint32(len(f.pending)))
		if !m.Memory().Write(uint32(stack[0]), f.pending[:n]) {
			panic("result out of range")
		}
		f.pending = nil
		stack[0] = uint64(n)
	}), i32i32, []api.ValueType{api.ValueTypeI32}).Export("result")
	if _, err := b.Instantiate(ctx); err != nil {
		g.close(ctx)
		return nil, err
	}
	compiled, err := g.rt.CompileModule(ctx, wasm)
	if err != nil {
		g.close(ctx)
		return nil, err
	}
	for i := range sp.N {
		// Registered before _initialize runs: it may call imports.
		f := &floorInstance{self: typ + "/" + strconv.Itoa(i), state: map[string][]byte{}}
		cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
		m, err := g.rt.InstantiateModule(ctx, compiled, cfg)
		if err != nil {
			g.close(ctx)
			return nil, fmt.Errorf("instance %d: %w", i, err)
		}
		f.mod = m
		g.byMod[m] = f
		if init := m.ExportedFunction("_initialize"); init != nil {
			if _, err := init.Call(ctx); err != nil {
				g.close(ctx)
				return nil, fmt.Errorf("instance %d: _initialize: %w", i, err)
			}
		}
		f.alloc, f.handle = m.ExportedFunction("wactor_alloc"), m.ExportedFunction("wactor_handle")
		if f.alloc == nil || f.handle == nil {
			g.close(ctx)
			return nil, fmt.Errorf("%s exports no wactor_alloc or wactor_handle", sp.Guest)
		}
		g.insts = append(g.insts, f)
	}
	return g, nil
}

func (g *floorGuests) close(ctx context.Context) { _ = g.rt.Close(ctx) }

// call delivers one message to instance i as wactor does: its request
// envelope written into memory wactor_alloc gave, then wactor_handle;
// the reply envelope is checked for an error.
func (g *floorGuests) call(ctx context.Context, i int, method string, payload []byte, id uint64) error {
	f := g.insts[i]
	q := abi.Request{Kind: abi.KindMessage, Method: method, Payload: payload, ID: fmt.Sprintf("%016x", id)}
	g.req = q.AppendTo(g.req[:0])
	f.stack[0] = uint64(len(g.req))
	if err := f.alloc.CallWithStack(ctx, f.stack[:]); err != nil {
		return err
	}
	ptr := uint32(f.stack[0])
	if !f.mod.Memory().Write(ptr, g.req) {
		return fmt.Errorf("request out of range")
	}
	f.stack[0], f.stack[1] = uint64(ptr), uint64(len(g.req))
	if err := f.handle.CallWithStack(ctx, f.stack[:]); err != nil {
		return err
	}
	packed := f.stack[0]
	reply, ok := f.mod.Memory().Read(uint32(packed>>32), uint32(packed))
	if !ok {
		return fmt.Errorf("reply out of range")
	}
	var r abi.Reply
	if err := r.Decode(reply); err != nil {
		return err
	}
	if r.Code != "" {
		return fmt.Errorf("%s: %s", r.Code, r.Message)
	}
	return nil
}

// ringFloor passes the token round sp.N instances of the ring guest:
// one lap not timed, then sp.Laps laps, each hop the instance the last
// tell named.
func ringFloor(ctx context.Context, sp *spec) (result, error) {
	g, err := newFloorGuests(ctx, sp, "ring")
	if err != nil {
		return nil, err
	}
	defer g.close(ctx)
	var id uint64
	lap := func(hops int) error {
		i, payload := 0, cborMap("n", sp.N, "h", hops-1)
		for range hops {
			id++
			if err := g.call(ctx, i, "pass", payload, id); err != nil {
				return err
			}
			told := g.insts[i].told
			to, ok := strings.CutPrefix(told.Target, "ring/")
			if !ok || told.Method != "pass" {
				return nil // the sink's turn: not counted
			}
			next, err := strconv.Atoi(to)
			if err != nil {
				return fmt.Errorf("told %q", told.Target)
			}
			i, payload = next, told.Payload
		}
		return nil
	}
	if err := lap(sp.N); err != nil {
		return nil, err
	}
	hops := sp.N * sp.Laps
	return timedMessages(hops, func() error { return lap(hops) })
}

// timedMessages runs run, which handles n messages, and reports their rate
// and the process's processor time per message.
func timedMessages(n int, run func() error) (result, error) {
	start, cpu := time.Now(), cputime.Process()
	if err := run(); err != nil {
		return nil, err
	}
	d, cpuUsed := time.Since(start), cputime.Process()-cpu
	return result{"msgs_per_s": float64(n) / d.Seconds(), "cpu_us": perMsgMicros(cpuUsed, n)}, nil
}

// fanoutFloor sends sp.K adds to each of sp.N counter instances, round
// robin, after a get on each (as the fan-out's activation does), and
// checks the totals.
func fanoutFloor(ctx context.Context, sp *spec) (result, error) {
	g, err := newFloorGuests(ctx, sp, "counter")
	if err != nil {
		return nil, err
	}
	defer g.close(ctx)
	var id uint64
	for i := range sp.N {
		id++
		if err := g.call(ctx, i, "get", getPayload, id); err != nil {
			return nil, err
		}
	}
	total := sp.N * sp.K
	res, err := timedMessages(total, func() error {
		for i := range total {
			id++
			if err := g.call(ctx, i%sp.N, "add", addPayload, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var sum int64
	for _, f := range g.insts {
		v := f.state["n"]
		if len(v) == 0 {
			return nil, fmt.Errorf("%s holds no total", f.self)
		}
		var r abi.Reader
		r.Reset(v)
		n, err := r.ReadInt()
		if err != nil {
			return nil, fmt.Errorf("%s: total %x: %w", f.self, v, err)
		}
		sum += n
	}
	if sum != int64(total) {
		return nil, fmt.Errorf("the counters hold %d, want %d", sum, total)
	}
	return res, nil
}
