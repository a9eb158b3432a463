package host

import (
	"context"
	"encoding/hex"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// How the host traces (see docs/design.md, "Tracing"). With a
// TracerProvider in its Config, the host makes a span for each turn of a
// message and for each ask and tell a turn sends; it passes the W3C trace
// context on inside the messages (scheduler.Message.Trace), through the
// outbox (storage.Message.Trace) and reminders (storage.Reminder.Trace) as
// a traceparent string, so that the turn a message starts is a child of
// the span that sent it, even after a restart. Without one, h.tracer is
// nil and none of this runs: a turn pays one nil check.

// tracerName is the instrumentation scope of the host's spans.
const tracerName = "github.com/wactor/wactor/host"

// Attributes of the host's spans. Spans never hold state or payloads.
const (
	attrActor     = attribute.Key("wactor.actor")      // "type/id"
	attrType      = attribute.Key("wactor.actor.type") // the actor type
	attrMethod    = attribute.Key("wactor.method")
	attrKind      = attribute.Key("wactor.message.kind") // ask, tell, reminder, timer
	attrAttempt   = attribute.Key("wactor.message.attempt")
	attrOutcome   = attribute.Key("wactor.outcome") // "ok" or the error code
	attrTarget    = attribute.Key("wactor.target")  // of an ask or tell
	attrTargetTyp = attribute.Key("wactor.target.type")
)

// tracer makes the host's spans; a nil *tracer traces nothing.
type tracer struct {
	t trace.Tracer
}

func newTracer(tp trace.TracerProvider) *tracer {
	if tp == nil {
		return nil
	}
	return &tracer{t: tp.Tracer(tracerName)}
}

// contextTrace returns the traceparent of the span in ctx, for a message
// sent from outside (the gateway's request span, say); "" when tracing is
// off or ctx has no span.
func (tr *tracer) contextTrace(ctx context.Context) string {
	if tr == nil {
		return ""
	}
	return formatTraceparent(trace.SpanContextFromContext(ctx))
}

// messageKind names what m is, for the kind attribute.
func messageKind(m *scheduler.Message) string {
	switch {
	case m.IsAsk():
		return "ask"
	case m.Reminder != "":
		return "reminder"
	case m.Timer != "":
		return "timer"
	}
	return "tell"
}

// startTurn starts the span of the turn of m by the activation ref, a
// child of the span that sent m when m carries a trace context.
func (tr *tracer) startTurn(ref abi.Ref, m *scheduler.Message) trace.Span {
	ctx := context.Background()
	if sc := parseTraceparent(m.Trace); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	kind := trace.SpanKindConsumer
	if m.IsAsk() {
		kind = trace.SpanKindServer
	}
	_, span := tr.t.Start(ctx, turnName(ref, m), trace.WithSpanKind(kind))
	if span.IsRecording() { // an unsampled span would drop them
		span.SetAttributes(attrType.String(ref.Type), attrActor.String(ref.String()),
			attrMethod.String(m.Method), attrKind.String(messageKind(m)))
		if m.Attempt > 1 {
			span.SetAttributes(attrAttempt.Int(m.Attempt))
		}
	}
	return span
}

// turnName names the span of a turn: "turn type.method". Methods are few
// per type, so names stay few.
func turnName(ref abi.Ref, m *scheduler.Message) string { return "turn " + ref.Type + "." + m.Method }

// nameTurn names the span of a reminder's firing once its method is read
// from the store.
func nameTurn(span trace.Span, ref abi.Ref, m *scheduler.Message) {
	if span.IsRecording() {
		span.SetName(turnName(ref, m))
		span.SetAttributes(attrMethod.String(m.Method))
	}
}

// endSpan ends span with the outcome of what it covers: "ok", or the code
// of err (the message of an error may quote the guest's output, so it is
// left out).
func endSpan(span trace.Span, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if errors.Is(err, errStaleFiring) {
		// The reminder changed after this firing was sent: no turn ran.
		span.SetAttributes(attrOutcome.String("stale"))
		span.End()
		return
	}
	if err == nil {
		span.SetAttributes(attrOutcome.String("ok"))
	} else {
		code := asABIError(err).Code
		span.SetAttributes(attrOutcome.String(code))
		span.SetStatus(codes.Error, code)
	}
	span.End()
}

// startCall starts the span of an ask or tell (op) that a turn traced by
// parent sends to method of to, and returns it with its traceparent, for
// the message.
func (tr *tracer) startCall(parent trace.Span, op string, to abi.Ref, method string) (trace.Span, string) {
	kind := trace.SpanKindProducer
	if op == "ask" {
		kind = trace.SpanKindClient
	}
	ctx := trace.ContextWithSpan(context.Background(), parent)
	_, span := tr.t.Start(ctx, op+" "+to.Type+"."+method, trace.WithSpanKind(kind))
	if span.IsRecording() {
		span.SetAttributes(attrTargetTyp.String(to.Type), attrTarget.String(to.String()), attrMethod.String(method))
	}
	return span, formatTraceparent(span.SpanContext())
}

// formatTraceparent returns the W3C traceparent of sc, or "" when sc is
// not valid.
func formatTraceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var b [abi.TraceparentLen]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	flags := sc.TraceFlags()
	hex.Encode(b[53:55], []byte{byte(flags)})
	return string(b[:])
}

// parseTraceparent returns the remote span context a traceparent names;
// an invalid one (including "") gives the zero, invalid SpanContext.
func parseTraceparent(s string) trace.SpanContext {
	if !abi.ValidTraceparent(s) {
		return trace.SpanContext{}
	}
	var tid trace.TraceID
	var sid trace.SpanID
	var flags [1]byte
	// ValidTraceparent checked the hex digits: these cannot fail.
	_, _ = hex.Decode(tid[:], []byte(s[3:35]))
	_, _ = hex.Decode(sid[:], []byte(s[36:52]))
	_, _ = hex.Decode(flags[:], []byte(s[53:55]))
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags[0]), Remote: true,
	})
}
