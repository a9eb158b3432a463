package host

import (
	"bytes"
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// Forwarding an ask (the forward import).
//
// A turn that handles an ask may forward it: name another actor, a method
// and a payload, and that actor's reply answers the original asker; the
// turn's own reply is dropped. Like a tell, the forward is buffered with
// the turn and leaves only once the turn has committed: a failed turn
// forwards nothing and its asker gets its error. Unlike a tell it is not
// written to the outbox: an ask lives in memory, and so does the ask it
// becomes. The asker's deadline holds across the chain, and its wait
// moves, in the scheduler's wait-for graph, to the new target, so that a
// forward back to an actor that waits on the asker fails with deadlock
// (see scheduler.Forward).

// forwardCall buffers the forward of the turn's ask.
func (t *turn) forwardCall(arg []byte) (abi.Status, []byte) {
	var c abi.Call
	decoded(abi.ImportForward, c.Decode(arg))
	forwarded := 0
	if t.forward != nil {
		forwarded = 1
	}
	if e := abi.CheckForward(t.kind == abi.KindMessage && t.msg.IsAsk(), forwarded); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	if t.up != nil {
		// Its asker waits on the chain the turn it nests in waits on: the
		// forward could leave only when that turn commits, after the
		// reply it waits for.
		return abi.StatusError, abi.AppendError(nil, abi.NewError(abi.CodeBadRequest,
			t.a.ref.String()+"."+t.label()+" runs nested in a waiting turn and may not forward its ask"))
	}
	ref, status, res := t.target(&c)
	if status != abi.StatusOK {
		return status, res
	}
	o := &outgoing{ref: ref, target: c.Target, method: c.Method, payload: bytes.Clone(c.Payload)}
	if t.span != nil {
		var span trace.Span
		span, o.trace = t.a.h.tracer.startCall(t.span, "forward", ref, c.Method)
		span.End()
	}
	t.forward = o
	return abi.StatusOK, nil
}

// commitForward commits a turn that forwarded its ask, then forwards it.
// It commits at once, outside the pipeline: the ask must not leave before
// the turn is durable.
func (a *activation) commitForward(ctx context.Context, t *turn) (_ []byte, _ error, deferred bool) {
	if err := a.settle(ctx); err != nil {
		return nil, a.uncommitted(t.msg, err), false
	}
	if err := a.commitNow(ctx, t, a.batch(t, nil)); err != nil {
		return nil, a.uncommitted(t.msg, err), false
	}
	f := t.forward
	next := &scheduler.Message{ID: a.h.ids.next(), Target: f.ref, Sender: a.ref, Method: f.method, Payload: f.payload, Trace: f.trace}
	a.h.sent(a.ref.Type, KindAsk, 1)
	if err := a.h.sched.Forward(ctx, t.msg, next); err != nil {
		return nil, asABIError(err), false
	}
	return nil, nil, false // the scheduler answers the asker with next's reply
}
