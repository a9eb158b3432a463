package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host/internal/meter"
	"github.com/wactor/wactor/scheduler"
)

// Call-chain reentrancy (TypeConfig.Reentrant).
//
// While a turn of a reentrant actor waits in an ask, an ask on its call
// chain that comes back to the actor (it asked B and B asks it, or it
// asks itself, or A -> B -> C -> A) runs nested in the waiting turn
// (scheduler.ReentrantActor): on the same instance, re-entering the
// guest's wactor_handle while the first call is still inside the ask
// host call, and on the waiting turn's goroutine. Other messages wait
// for the turn as usual.
//
// The nested call belongs to the waiting turn's transaction. It starts
// from a copy of what that turn has buffered (its state writes, tells,
// timers, reminders, watches, topic calls, deactivation), so it reads the
// turn's writes; when it answers, what it buffered becomes the waiting
// turn's, and commits or rolls back with it. When it answers with an
// error, its copy is dropped: a savepoint, and its asker gets the error.
// When it traps, or breaks a limit, the instance is broken: its asker
// gets the error, and the turns it nested in fail when their asks return
// (the host call panics with nestedBroke, which unwinds the guest), after
// which the instance is discarded as for any broken turn. Until then it
// is not entered again. Limits that a turn's buffers are held to count
// the whole transaction, since the copy starts with the waiting turn's.
//
// A nested call is metered like a turn (its own execution limit, while
// the turn it nests in has its clock stopped in its ask) and may not
// forward its ask.
//
// In a cluster, a chain that stays on this node nests through the
// scheduler's links (Scheduler.AskNested, tried before routing); one that
// goes through other nodes carries, in the entry of each reentrant actor,
// the name of its asking turn (chainEntry), and the node that serves the
// actor nests the ask in that turn if it still waits (Host.chainBack).
// While a reentrant turn waits for another node it serves nested asks
// (Scheduler.Await).

// errReentrantWorker refuses a type that is both reentrant and a
// stateless worker.
const errReentrantWorker = "reentrant: call_chain and stateless_worker do not go together: a stateless worker's turns never wait on one instance for a call to come back, each ask goes to any free instance"

// goBuildID is the custom section the standard Go toolchain writes into
// every module it builds.
const goBuildID = "go:buildid"

// checkReentrant calls the module's wactor_reentrant on inst and refuses
// the module unless it returns abi.ReentrantYes: without it, the host must
// not enter an instance while a call into it waits in an ask. module is
// the module's bytes, for the reason.
func checkReentrant(ctx context.Context, inst *instance, module []byte) error {
	const need = "reentrant: call_chain needs a module that can be re-entered (a second wactor_handle while the first waits in an ask)"
	f := inst.mod.ExportedFunction(abi.ExportReentrant)
	if f == nil {
		if meter.HasCustomSection(module, goBuildID) {
			return errors.New(need + ", and this module was built by the standard Go toolchain, whose runtime does not promise to take a second call into an instance while the first waits in a host call " +
				"(go:wasmexport makes no such promise, so the Go SDK does not declare it); build the type with the C, Rust or AssemblyScript SDK, or leave reentrant out")
		}
		return errors.New(need + ", and this module does not say it can: it exports no " + abi.ExportReentrant +
			" () -> i32 returning 1; build it with a guest SDK that supports re-entry (docs/ABI.md, \"Reentrancy\"), or leave reentrant out")
	}
	if sig := signature(f.Definition()); sig != "() -> (i32)" {
		return fmt.Errorf("%s: export %s has signature %s, want () -> (i32)", need, abi.ExportReentrant, sig)
	}
	res, err := f.Call(ctx)
	if err != nil {
		return fmt.Errorf("calling %s: %w", abi.ExportReentrant, err)
	}
	if got := int32(res[0]); got != abi.ReentrantYes {
		return fmt.Errorf("%s, and this module's %s returned %d, not %d: it cannot be re-entered", need, abi.ExportReentrant, got, abi.ReentrantYes)
	}
	return nil
}

// level is what a call nested at one depth into an instance calls with:
// exports of its own (a wazero function keeps its call's state, so it
// cannot be called again while it runs) and a stack of its own.
type level struct {
	alloc, handle api.Function
	stack         []uint64
}

// level returns the exports and stack of calls nested depth deep.
func (i *instance) level(depth int) *level {
	for len(i.levels) < depth {
		i.levels = append(i.levels, &level{
			alloc:  i.mod.ExportedFunction(abi.ExportAlloc),
			handle: i.mod.ExportedFunction(abi.ExportHandle),
			stack:  make([]uint64, 2),
		})
	}
	return i.levels[depth-1]
}

// invokeNested is invoke for a nested call: the guest allocates a fresh
// input buffer every time (docs/ABI.md, "Reentrancy").
func (a *activation) invokeNested(t *turn) ([]uint64, error) {
	inst := t.inst
	// The guest may hand its input buffer around while calls nest (the
	// C SDK keeps the nested call's): the next request of a turn of its
	// own asks wactor_alloc again rather than trust the one it kept.
	inst.inPtr, inst.inCap = 0, 0
	lv := inst.level(t.depth)
	lv.stack[0] = uint64(len(a.reqBuf))
	if err := t.callAlloc(lv.alloc, lv.stack); err != nil {
		return nil, a.guestFailure(t, abi.ExportAlloc, err)
	}
	return lv.stack, a.handle(t, lv.handle, lv.stack, uint32(lv.stack[0]))
}

// nestedBroke unwinds a turn whose instance a nested call broke while
// the turn waited in an ask: the ask host call panics with it.
type nestedBroke struct{ err error }

func (b *nestedBroke) Error() string { return "a nested call broke the instance: " + b.err.Error() }

var _ scheduler.ReentrantActor = (*activation)(nil)

// ReceiveNested runs an ask nested in the turn of the activation that
// waits in the ask ctx was made with (see scheduler.ReentrantActor).
func (a *activation) ReceiveNested(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	return a.whileWaiting(ctx, m, a.receiveNested)
}

func (a *activation) receiveNested(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	outer, _ := ctx.Value(turnKey{}).(*turn)
	if outer == nil || outer.inst == nil {
		return nil, abi.NewError(abi.CodeDeadlock, "ask cycle: "+a.ref.String()+" has no waiting turn to run "+m.Method+" in")
	}
	if b := outer.inst.broken; b != nil {
		return nil, abi.NewError(abi.CodeUnavailable, "the instance of "+a.ref.String()+" broke in an earlier nested call ("+
			b.Error()+"); its waiting turn fails when it resumes")
	}
	n := outer.nest(m, a.span)
	reply, err := a.call(n)
	if err != nil {
		return nil, err
	}
	if reply.Code != "" {
		return nil, abi.NewError(reply.Code, reply.Message) // n's buffers go: a savepoint
	}
	outer.join(n)
	return reply.Payload, nil
}

// nest starts the turn of m, nested in t: it shares t's instance and
// starts from a copy of what t has buffered.
func (t *turn) nest(m *scheduler.Message, span trace.Span) *turn {
	n := &turn{
		a: t.a, cfg: t.cfg, inst: t.inst, msg: m, kind: abi.KindMessage, span: span,
		up: t, depth: t.depth + 1,
		writes: maps.Clone(t.writes), sends: t.sends, timers: t.timers,
		reminders: maps.Clone(t.reminders), watches: maps.Clone(t.watches),
		publications: t.publications, subs: maps.Clone(t.subs),
		deactivate: t.deactivate, doomed: t.doomed,
	}
	n.setCtx(t.ctx)
	return n
}

// join makes what the nested turn n buffered t's: n answered, so its
// effects commit or roll back with t. The slices n appended to were t's
// (appends past t's length), so t takes them whole.
func (t *turn) join(n *turn) {
	t.writes, t.sends, t.timers = n.writes, n.sends, n.timers
	t.reminders, t.watches = n.reminders, n.watches
	t.publications, t.subs = n.publications, n.subs
	t.deactivate = n.deactivate
	if t.doomed == nil {
		t.doomed = n.doomed
	}
}

// brokenBelow is why a call nested in the turn, or in one it nests in,
// broke the turn's instance; nil when none did.
func (t *turn) brokenBelow() error {
	if t.inst == nil {
		return nil
	}
	return t.inst.broken
}

// chainSep separates, in an entry of the call chain an ask carries to
// other nodes, an actor's ref from the name of its asking turn; a ref
// holds no control character.
const chainSep = "\x00"

// chainEntry is the activation's entry in the call chain of an ask its
// turn of ctx sends: its ref and, for a reentrant type, the name of the
// turn (scheduler.ChainToken), so that an ask that comes back to it from
// another node can nest in that turn (Host.chainBack).
func (a *activation) chainEntry(ctx context.Context) string {
	ref := a.ref.String()
	if !a.typ.current().cfg.Reentrant {
		return ref
	}
	if token := a.h.sched.ChainToken(ctx); token != "" {
		return ref + chainSep + token
	}
	return ref
}

// splitChainEntry splits an entry of a call chain (chainEntry).
func splitChainEntry(e string) (ref, token string) {
	ref, token, _ = strings.Cut(e, chainSep)
	return ref, token
}
