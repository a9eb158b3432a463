package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// importSignatures are the host functions of ABI v1 and their signatures.
var importSignatures = map[string]string{
	abi.ImportTell:        "(i32, i32) -> (i64)",
	abi.ImportAsk:         "(i32, i32) -> (i64)",
	abi.ImportStateGet:    "(i32, i32) -> (i64)",
	abi.ImportStateSet:    "(i32, i32) -> (i64)",
	abi.ImportStateDelete: "(i32, i32) -> (i64)",
	abi.ImportSelf:        "(i32, i32) -> (i64)",
	abi.ImportLog:         "(i32, i32) -> (i64)",
	abi.ImportDeactivate:  "(i32, i32) -> (i64)",
	abi.ImportResult:      "(i32, i32) -> (i32)",

	abi.ImportTimerSet:       "(i32, i32) -> (i64)",
	abi.ImportTimerCancel:    "(i32, i32) -> (i64)",
	abi.ImportReminderSet:    "(i32, i32) -> (i64)",
	abi.ImportReminderCancel: "(i32, i32) -> (i64)",
	abi.ImportForward:        "(i32, i32) -> (i64)",

	abi.ImportWatch:   "(i32, i32) -> (i64)",
	abi.ImportUnwatch: "(i32, i32) -> (i64)",

	abi.ImportPublish:     "(i32, i32) -> (i64)",
	abi.ImportSubscribe:   "(i32, i32) -> (i64)",
	abi.ImportUnsubscribe: "(i32, i32) -> (i64)",
}

// violation is the guest breaking the ABI inside a host call (a pointer out
// of bounds, malformed CBOR). The host function panics with it; wazero
// unwinds the guest and returns it from the call, and the turn fails with
// bad_reply.
type violation struct{ msg string }

func (v *violation) Error() string { return v.msg }

// hostCall implements one host function on the bytes of its argument and
// returns a status and the pending result.
type hostCall func(t *turn, arg []byte) (abi.Status, []byte)

func instantiateImports(ctx context.Context, rt wazero.Runtime) error {
	calls := map[string]hostCall{
		abi.ImportTell:        effect("tell", (*turn).tell),
		abi.ImportAsk:         effect("ask", (*turn).ask),
		abi.ImportStateGet:    (*turn).stateGet,
		abi.ImportStateSet:    keepsState("write state", (*turn).stateSet),
		abi.ImportStateDelete: keepsState("delete state", (*turn).stateDelete),
		abi.ImportSelf:        (*turn).self,
		abi.ImportLog:         (*turn).log,
		abi.ImportDeactivate:  effect("deactivate", (*turn).deactivateCall),

		abi.ImportTimerSet:       effect("set a timer", (*turn).timerSet),
		abi.ImportTimerCancel:    effect("cancel a timer", (*turn).timerCancel),
		abi.ImportReminderSet:    keepsState("set a reminder", (*turn).reminderSet),
		abi.ImportReminderCancel: keepsState("cancel a reminder", (*turn).reminderCancel),
		abi.ImportForward:        effect("forward", (*turn).forwardCall),

		abi.ImportWatch:   keepsState("watch", (*turn).watch),
		abi.ImportUnwatch: keepsState("unwatch", (*turn).unwatch),

		abi.ImportPublish:     effect("publish", (*turn).publish),
		abi.ImportSubscribe:   keepsState("subscribe", (*turn).subscribe),
		abi.ImportUnsubscribe: keepsState("unsubscribe", (*turn).unsubscribe),
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	for name, call := range calls {
		b.NewFunctionBuilder().
			WithGoModuleFunction(wrap(name, call), []api.ValueType{i32, i32}, []api.ValueType{i64}).
			WithParameterNames("ptr", "len").
			Export(name)
	}
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(result), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("ptr", "len").
		Export(abi.ImportResult)
	if _, err := b.Instantiate(ctx); err != nil {
		return errors.New("instantiating host functions: " + err.Error())
	}
	return nil
}

// wrap adapts a hostCall to wazero: it finds the turn, reads the argument
// from guest memory (bounds-checked) and packs the status and result length.
func wrap(name string, call hostCall) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		t := turnFrom(ctx, name)
		ptr, n := uint32(stack[0]), uint32(stack[1])
		if e := abi.CheckArgSize(name, int(n), t.cfg.MaxMessage); e != nil {
			t.setResult(abi.StatusError, abi.AppendError(nil, e))
		} else {
			arg, ok := mod.Memory().Read(ptr, n)
			if !ok {
				panic(&violation{msg: name + ": argument at " + itoa(int(ptr)) + "+" + itoa(int(n)) +
					" is outside guest memory of " + itoa(int(mod.Memory().Size())) + " bytes"})
			}
			t.setResult(call(t, arg))
		}
		stack[0] = abi.PackResult(t.status, uint32(len(t.result)))
	}
}

// result copies the pending result of the last host call into guest memory.
func result(ctx context.Context, mod api.Module, stack []uint64) {
	t := turnFrom(ctx, abi.ImportResult)
	ptr, n := uint32(stack[0]), uint32(stack[1])
	if int(n) > len(t.result) {
		n = uint32(len(t.result))
	}
	if !mod.Memory().Write(ptr, t.result[:n]) {
		panic(&violation{msg: "result: buffer at " + itoa(int(ptr)) + "+" + itoa(int(n)) + " is outside guest memory"})
	}
	t.result = nil
	stack[0] = uint64(n)
}

func turnFrom(ctx context.Context, name string) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	if t == nil {
		panic(&violation{msg: "host function " + name + " called outside a turn (during _initialize?)"})
	}
	if t.allocating {
		panic(&violation{msg: "host function " + name + " called from " + abi.ExportAlloc + ", which may call none (docs/ABI.md)"})
	}
	return t
}

// decoded fails the turn with a violation when err, from decoding the
// argument of the host function name, is not nil. It takes the decoder's
// error rather than the decoder: a value passed through an interface
// would escape to the heap, on every call of the import.
func decoded(name string, err error) {
	if err != nil {
		panic(&violation{msg: name + ": " + err.Error()})
	}
}

// target validates the target of a tell or ask.
func (t *turn) target(c *abi.Call) (abi.Ref, abi.Status, []byte) {
	ref, e := abi.CheckCall(c, t.cfg.MaxMessage)
	if e == nil {
		if _, ok := t.a.h.lookupType(ref.Type); !ok {
			e = abi.NewError(abi.CodeUnknownType, "no actor type "+ref.Type)
		}
	}
	if e != nil {
		return ref, abi.StatusError, abi.AppendError(nil, e)
	}
	return ref, abi.StatusOK, nil
}

func (t *turn) tell(arg []byte) (abi.Status, []byte) {
	var c abi.Call
	decoded(abi.ImportTell, c.Decode(arg))
	ref, status, res := t.target(&c)
	if status != abi.StatusOK {
		return status, res
	}
	if e := abi.CheckSends(len(t.sends)); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	o := outgoing{ref: ref, target: c.Target, method: c.Method, payload: bytes.Clone(c.Payload)}
	if t.span != nil {
		// The tell leaves after the commit; its span marks the send, and
		// the receiver's turn is its child.
		var span trace.Span
		span, o.trace = t.a.h.tracer.startCall(t.span, "tell", ref, c.Method)
		span.End()
	}
	t.sends = append(t.sends, o)
	return abi.StatusOK, nil
}

func (t *turn) ask(arg []byte) (abi.Status, []byte) {
	var c abi.Call
	decoded(abi.ImportAsk, c.Decode(arg))
	ref, status, res := t.target(&c)
	if status != abi.StatusOK {
		return status, res
	}
	timeout := t.cfg.AskTimeout
	if c.TimeoutMS > 0 {
		timeout = time.Duration(min(c.TimeoutMS, uint64(time.Hour/time.Millisecond))) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	// The execution limit counts the guest's own work, not the wait for
	// another actor, which its own timeout bounds, nor for the store.
	waitStart := monotonic()
	defer func() { t.deadline += monotonic() - waitStart }()
	// The target acts on what the ask says: the turns before this one,
	// whose writes it may reflect, must be durable before it leaves.
	if !t.settle() {
		return abi.StatusError, abi.AppendError(nil, asABIError(t.doomed))
	}
	t.a.h.sent(t.a.ref.Type, KindAsk, 1)
	m := &scheduler.Message{
		ID: t.a.h.ids.next(), Target: ref, Sender: t.a.ref, Method: c.Method, Payload: bytes.Clone(c.Payload),
	}
	var span trace.Span
	if t.span != nil {
		span, m.Trace = t.a.h.tracer.startCall(t.span, "ask", ref, c.Method)
	}
	var reply []byte
	var err error
	if t.a.h.remote != nil {
		// Across nodes the wait-for graph of this node's scheduler cannot
		// see a cycle: the ask carries its call chain instead. A chain
		// that comes back to a reentrant actor nests (see reentry.go):
		// the scheduler knows a chain that stayed on this node; one that
		// went through others names the waiting turn in its entry.
		m.Chain = append(slices.Clip(t.msg.Chain), t.a.chainEntry(t.ctx))
		var nested bool
		if reply, nested, err = t.a.h.sched.AskNested(ctx, m); !nested {
			reply, err = t.a.h.sched.Await(ctx, func(ctx context.Context) ([]byte, error) { return t.a.h.askRouted(ctx, m) })
		}
	} else {
		reply, err = t.a.h.sched.Ask(ctx, m)
	}
	if span != nil {
		endSpan(span, err)
	}
	if b := t.brokenBelow(); b != nil {
		// A call nested in this turn, or in one it nests in, broke the
		// instance while the turn waited: the turn may not go on in it.
		panic(&nestedBroke{err: b})
	}
	if err != nil {
		return abi.StatusError, abi.AppendError(nil, asABIError(err))
	}
	return abi.StatusOK, reply
}

func (t *turn) stateKey(name string, op *abi.StateOp, arg []byte) (abi.Status, []byte) {
	decoded(name, op.Decode(arg))
	if e := abi.CheckKey(op.Key); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	return abi.StatusOK, nil
}

func (t *turn) stateGet(arg []byte) (abi.Status, []byte) {
	var op abi.StateOp
	if s, r := t.stateKey(abi.ImportStateGet, &op, arg); s != abi.StatusOK {
		return s, r
	}
	if w, ok := t.writes[op.Key]; ok {
		if w == nil {
			return abi.StatusNotFound, nil
		}
		return abi.StatusOK, w
	}
	if v, ok := t.a.state[op.Key]; ok {
		return abi.StatusOK, v
	}
	return abi.StatusNotFound, nil
}

func (t *turn) stateSet(arg []byte) (abi.Status, []byte) {
	var op abi.StateOp
	if s, r := t.stateKey(abi.ImportStateSet, &op, arg); s != abi.StatusOK {
		return s, r
	}
	if e := abi.CheckValue(op.Key, op.Value, t.cfg.MaxMessage); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	if op.Value == nil {
		op.Value = []byte{}
	}
	t.write(op.Key, bytes.Clone(op.Value))
	return abi.StatusOK, nil
}

func (t *turn) stateDelete(arg []byte) (abi.Status, []byte) {
	var op abi.StateOp
	if s, r := t.stateKey(abi.ImportStateDelete, &op, arg); s != abi.StatusOK {
		return s, r
	}
	t.write(op.Key, nil)
	return abi.StatusOK, nil
}

func (t *turn) self([]byte) (abi.Status, []byte) { return abi.StatusOK, []byte(t.a.ref.String()) }

func (t *turn) log(arg []byte) (abi.Status, []byte) {
	var rec abi.LogRecord
	decoded(abi.ImportLog, rec.Decode(arg))
	msg := abi.TruncateLog(rec.Message)
	level := slog.LevelInfo
	switch {
	case rec.Level <= abi.LevelDebug:
		level = slog.LevelDebug
	case rec.Level == abi.LevelWarn:
		level = slog.LevelWarn
	case rec.Level >= abi.LevelError:
		level = slog.LevelError
	}
	t.a.h.log.Log(t.ctx, level, msg, "actor", t.a.ref.String(), "method", t.label())
	return abi.StatusOK, nil
}

func (t *turn) deactivateCall([]byte) (abi.Status, []byte) {
	t.deactivate = true
	return abi.StatusOK, nil
}

// timerSet buffers a timer; it is set when the turn commits.
func (t *turn) timerSet(arg []byte) (abi.Status, []byte) {
	var tm abi.Timer
	decoded(abi.ImportTimerSet, tm.Decode(arg))
	if e := abi.CheckTimer(&tm, t.cfg.MaxMessage); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	// Every set is an op the turn buffers (with its payload), even of a
	// name it set before: without this, setting one name again and again
	// would grow the turn's buffer without bound.
	if e := abi.CheckTimerOps(len(t.timers)); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	pending := map[string]bool{}
	for _, op := range t.timers {
		pending[op.name] = op.spec != nil
	}
	adding := 0
	for _, set := range pending {
		if set {
			adding++
		}
	}
	if !pending[tm.Name] {
		if e := t.timersAtLimit(adding); e != nil {
			return abi.StatusError, abi.AppendError(nil, e)
		}
	}
	spec := &scheduler.TimerSpec{
		Name:    tm.Name,
		Due:     time.Duration(tm.DueMS) * time.Millisecond,
		Period:  time.Duration(tm.PeriodMS) * time.Millisecond,
		Method:  tm.Method,
		Payload: bytes.Clone(tm.Payload),
	}
	if t.span != nil {
		spec.Trace = formatTraceparent(t.span.SpanContext()) // its ticks continue this turn's trace
	}
	t.timers = append(t.timers, timerOp{name: tm.Name, spec: spec})
	return abi.StatusOK, nil
}

// timersAtLimit refuses a new timer when the activation has
// abi.MaxTimers timers set, counting adding more of the turn's own. Timers
// that turns in the pipeline set are not set yet: when they could make the
// difference, the turn waits for them (and if that fails, the turn does).
func (t *turn) timersAtLimit(adding int) *abi.Error {
	n := t.a.h.sched.TimerCount(t.ctx) + adding
	if abi.CheckTimerCount(n) == nil && abi.CheckTimerCount(n+t.a.p.pendingTimerSets()) != nil {
		if !t.settle() {
			return asABIError(t.doomed)
		}
		n = t.a.h.sched.TimerCount(t.ctx) + adding
	}
	return abi.CheckTimerCount(n)
}

// settle waits, inside the turn, until the turns before it are durable. If
// one failed to commit, the turn ran on writes that do not exist: it is
// doomed, and settle returns false.
func (t *turn) settle() bool {
	if t.doomed == nil {
		t.doomed = t.a.settle(t.ctx)
	}
	return t.doomed == nil
}

// timerCancel buffers the cancellation of a timer.
func (t *turn) timerCancel(arg []byte) (abi.Status, []byte) {
	var c abi.Cancel
	decoded(abi.ImportTimerCancel, c.Decode(arg))
	if e := abi.CheckTimerOps(len(t.timers)); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	t.timers = append(t.timers, timerOp{name: c.Name})
	return abi.StatusOK, nil
}

// reminderSet buffers a reminder; it is stored with the turn's commit.
func (t *turn) reminderSet(arg []byte) (abi.Status, []byte) {
	var rm abi.Reminder
	decoded(abi.ImportReminderSet, rm.Decode(arg))
	r, err := newReminder(&rm, t.cfg.MaxMessage, t.a.h.clock.Now())
	if err != nil {
		return abi.StatusError, abi.AppendError(nil, err)
	}
	if status, res := t.reminderOp(r.Name); status != abi.StatusOK {
		return status, res
	}
	r.Actor = t.a.ref.String()
	r.Payload = bytes.Clone(r.Payload)
	if t.span != nil {
		r.Trace = formatTraceparent(t.span.SpanContext()) // its firings continue this turn's trace
	}
	t.reminders[r.Name] = &r
	return abi.StatusOK, nil
}

// reminderCancel buffers the deletion of a reminder.
func (t *turn) reminderCancel(arg []byte) (abi.Status, []byte) {
	var c abi.Cancel
	decoded(abi.ImportReminderCancel, c.Decode(arg))
	if status, res := t.reminderOp(c.Name); status != abi.StatusOK {
		return status, res
	}
	t.reminders[c.Name] = nil
	return abi.StatusOK, nil
}

// reminderOp makes room for one more reminder change in the turn.
func (t *turn) reminderOp(name string) (abi.Status, []byte) {
	if t.reminders == nil {
		t.reminders = make(map[string]*storage.Reminder)
	}
	if _, ok := t.reminders[name]; !ok {
		if e := abi.CheckReminderOps(len(t.reminders)); e != nil {
			return abi.StatusError, abi.AppendError(nil, e)
		}
	}
	return abi.StatusOK, nil
}
