package host

import (
	"context"
	"fmt"
	"slices"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// Read-only methods (TypeConfig.ReadOnly).
//
// A read-only method may change nothing: a turn of one that writes or
// deletes state, tells, asks, sets or cancels a timer or a reminder, or
// asks to be deactivated is refused with bad_request naming the method,
// wherever it runs. In exchange it may run while a turn of the actor
// waits in an ask: the scheduler runs the read-only asks at the head of
// the mailbox on the waiting turn's goroutine (scheduler.ReadOnlyActor).
// The waiting turn's instance is in the middle of a host call and cannot
// be entered, so they run on a second instance of the module, the
// activation's reader, built at the first such ask (without the activate
// hook, which may write) and kept until the activation ends. Before an
// ask leaves, the turns before it are durable (turn.ask settles), and
// the waiting turn's writes are its own until it commits, so the reader
// sees exactly the committed state. Otherwise (no turn waiting) a
// read-only method runs as a turn like any other, on the instance.

// checkReadOnly checks the read-only methods of a type.
func checkReadOnly(methods []string) error {
	for i, m := range methods {
		if e := abi.CheckMethod("read-only method", m); e != nil {
			return fmt.Errorf("read_only[%d]: %s", i, e.Message)
		}
		if slices.Contains(methods[:i], m) {
			return fmt.Errorf("read_only[%d]: method %q is listed twice", i, m)
		}
	}
	return nil
}

// readOnly reports whether the turn runs a read-only method.
func (t *turn) readOnly() bool {
	return t.kind == abi.KindMessage && slices.Contains(t.cfg.ReadOnly, t.msg.Method)
}

// effect guards a host call that changes something: a read-only method's
// turn that makes it is refused with bad_request, naming the method.
func effect(what string, call hostCall) hostCall {
	return func(t *turn, arg []byte) (abi.Status, []byte) {
		if t.readOnly() {
			return abi.StatusError, abi.AppendError(nil, abi.NewError(abi.CodeBadRequest,
				t.a.ref.String()+"."+t.label()+" is read-only and may not "+what))
		}
		return call(t, arg)
	}
}

var _ scheduler.ReadOnlyActor = (*activation)(nil)

// ReadOnly reports whether method is read-only in the type's current
// deployment.
func (a *activation) ReadOnly(method string) bool {
	return slices.Contains(a.typ.current().cfg.ReadOnly, method)
}

// ReceiveReadOnly runs an ask of a read-only method on the reader while
// a turn of the activation waits in an ask (see scheduler.ReadOnlyActor).
// It commits nothing: the method can change nothing.
func (a *activation) ReceiveReadOnly(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	return a.whileWaiting(ctx, m, a.receiveReadOnly)
}

// whileWaiting runs receive, the turn of m that runs while a turn of the
// activation waits in an ask (read-only or nested), observed and traced
// as a turn of its own; the waiting turn's watch and span are kept.
func (a *activation) whileWaiting(ctx context.Context, m *scheduler.Message, receive func(context.Context, *scheduler.Message) ([]byte, error)) ([]byte, error) {
	watch, span := a.watch, a.span // the waiting turn's
	defer func() { a.watch, a.span = watch, span }()
	a.watchTurn(m)
	a.span = nil
	if a.h.tracer != nil {
		a.span = a.h.tracer.startTurn(a.ref, m)
	}
	reply, err := receive(ctx, m)
	a.turnDone(&a.watch, err)
	if a.span != nil {
		endSpan(a.span, err)
	}
	return reply, err
}

func (a *activation) receiveReadOnly(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	d := a.typ.current()
	if a.reader != nil && a.reader.v != d.v {
		a.discardReader(ctx)
	}
	if a.reader == nil {
		inst, err := d.v.instantiate(ctx, &a.stderr)
		if err != nil {
			return nil, abi.NewError(abi.CodeTrapped, "starting a reader instance of "+a.ref.String()+": "+err.Error()+a.stderr.suffix())
		}
		a.reader = inst
	}
	t := a.newTurn(ctx, d, m, abi.KindMessage)
	t.inst = a.reader
	reply, err := a.call(t)
	if err != nil {
		return nil, err
	}
	if reply.Code != "" {
		return nil, abi.NewError(reply.Code, reply.Message)
	}
	return reply.Payload, nil
}

func (a *activation) discardReader(ctx context.Context) {
	if a.reader != nil {
		a.reader.close(ctx)
		a.reader = nil
	}
}

// readerMemory is what the reader holds, for the guest memory budget.
func (a *activation) readerMemory() int64 {
	if a.reader == nil {
		return 0
	}
	return a.reader.resident()
}
