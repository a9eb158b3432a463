package host_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// recorder is an OpenTelemetry SDK that keeps every span in memory, each
// exported as it ends.
type recorder struct {
	exp *tracetest.InMemoryExporter
	tp  *sdktrace.TracerProvider
}

func newRecorder(t testing.TB) *recorder {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &recorder{exp: exp, tp: tp}
}

// span waits (up to 10 s) for an ended span named name and returns it.
func (r *recorder) span(t testing.TB, name string) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range r.exp.GetSpans() {
			if s.Name == name {
				return s
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range r.exp.GetSpans() {
				names = append(names, s.Name)
			}
			t.Fatalf("no span %q in %q", name, names)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// attr returns the value of a span's attribute, "" when it has none.
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// requireChild checks that child's parent is parent, in parent's trace.
func requireChild(t testing.TB, parent, child tracetest.SpanStub) {
	t.Helper()
	require.Equal(t, parent.SpanContext.TraceID(), child.SpanContext.TraceID(), "%s is not in the trace of %s", child.Name, parent.Name)
	require.Equal(t, parent.SpanContext.SpanID(), child.Parent.SpanID(), "%s is not a child of %s", child.Name, parent.Name)
}

// conformanceType deploys the C conformance actor (docs/conformance.md)
// as the type name.
func conformanceType(t testing.TB, name string) host.TypeConfig {
	return host.TypeConfig{Name: name, Module: testwasm.C(t, "conformance"), Source: "conformance.wasm"}
}

// askTraced asks ref's method with payload under a span of its own, as the
// gateway does, and returns that span's context.
func askTraced(t testing.TB, h *host.Host, tp trace.TracerProvider, ref, method string, payload any) trace.SpanContext {
	t.Helper()
	ctx, span := tp.Tracer("test").Start(context.Background(), "client")
	defer span.End()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	_, err = h.Ask(ctx, r, method, cborOf(t, payload))
	require.NoError(t, err)
	return span.SpanContext()
}

// An ask from outside to an actor that asks another is one trace: the
// caller's span, the turn of a, its ask, the turn of b.
func TestTraceAskChain(t *testing.T) {
	rec := newRecorder(t)
	h := newHostConfig(t, host.Config{Store: memstore.New(), TracerProvider: rec.tp}, conformanceType(t, "a"), conformanceType(t, "b"))
	client := askTraced(t, h, rec.tp, "a/1", "ask", M{"to": "b/1", "method": "echo", "payload": "hi"})

	turnA, ask, turnB := rec.span(t, "turn a.ask"), rec.span(t, "ask b.echo"), rec.span(t, "turn b.echo")
	require.Equal(t, client.TraceID(), turnA.SpanContext.TraceID())
	require.Equal(t, client.SpanID(), turnA.Parent.SpanID())
	requireChild(t, turnA, ask)
	requireChild(t, ask, turnB)
	require.Equal(t, trace.SpanKindServer, turnA.SpanKind)
	require.Equal(t, trace.SpanKindClient, ask.SpanKind)
	for _, c := range []struct {
		s        tracetest.SpanStub
		key, val string
	}{
		{turnA, "wactor.actor.type", "a"}, {turnA, "wactor.actor", "a/1"}, {turnA, "wactor.method", "ask"},
		{turnA, "wactor.message.kind", "ask"}, {turnA, "wactor.outcome", "ok"},
		{ask, "wactor.target", "b/1"}, {ask, "wactor.outcome", "ok"},
		{turnB, "wactor.actor.type", "b"}, {turnB, "wactor.method", "echo"}, {turnB, "wactor.outcome", "ok"},
	} {
		require.Equal(t, c.val, attr(c.s, c.key), "%s: %s", c.s.Name, c.key)
	}

	// A failed turn says its code, and so does the ask that got it.
	rec.exp.Reset()
	r, _ := abi.ParseRef("a/2")
	_, err := h.Ask(context.Background(), r, "ask", cborOf(t, M{"to": "b/2", "method": "fail", "payload": M{"code": "insufficient_funds"}}))
	require.Error(t, err)
	failed := rec.span(t, "turn b.fail")
	require.Equal(t, "insufficient_funds", attr(failed, "wactor.outcome"))
	require.Equal(t, "insufficient_funds", attr(rec.span(t, "ask b.fail"), "wactor.outcome"))
	// Without a span in the caller's context, the turn starts a trace.
	require.False(t, rec.span(t, "turn a.ask").Parent.IsValid())
}

// A tell a turn sends goes through the outbox and its turn continues the
// sender's trace; so does a tell from outside.
func TestTraceTellThroughOutbox(t *testing.T) {
	rec := newRecorder(t)
	h := newHostConfig(t, host.Config{Store: memstore.New(), TracerProvider: rec.tp}, conformanceType(t, "a"), conformanceType(t, "b"))
	askTraced(t, h, rec.tp, "a/1", "tell", M{"to": "b/1", "method": "echo", "payload": 1})
	turnA, tell, turnB := rec.span(t, "turn a.tell"), rec.span(t, "tell b.echo"), rec.span(t, "turn b.echo")
	requireChild(t, turnA, tell)
	requireChild(t, tell, turnB)
	require.Equal(t, trace.SpanKindProducer, tell.SpanKind)
	require.Equal(t, trace.SpanKindConsumer, turnB.SpanKind)
	require.Equal(t, "tell", attr(turnB, "wactor.message.kind"))

	rec.exp.Reset()
	ctx, span := rec.tp.Tracer("test").Start(context.Background(), "client")
	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "b", ID: "2"}, "echo", cborOf(t, 2)))
	span.End()
	turn := rec.span(t, "turn b.echo")
	require.Equal(t, span.SpanContext().SpanID(), turn.Parent.SpanID())
}

// A reminder's firing continues the trace of the turn that set it, also
// when it fires in a later run of the host: the trace context is stored
// with the reminder.
func TestTraceReminderFiring(t *testing.T) {
	store, err := badgerstore.Open(t.TempDir(), badgerstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	rec := newRecorder(t)
	h := newHostConfig(t, host.Config{Store: store, TracerProvider: rec.tp}, conformanceType(t, "a"))
	askTraced(t, h, rec.tp, "a/1", "reminder", M{"name": "soon", "in_ms": 1, "method": "echo"})
	set, fired := rec.span(t, "turn a.reminder"), rec.span(t, "turn a.echo")
	requireChild(t, set, fired)
	require.Equal(t, "reminder", attr(fired, "wactor.message.kind"))

	// Set a reminder, stop the host before it fires, fire it in the next.
	askTraced(t, h, rec.tp, "a/2", "reminder", M{"name": "later", "in_ms": 400, "method": "get", "payload": M{"key": "k"}})
	set = rec.span(t, "turn a.reminder")
	for _, s := range rec.exp.GetSpans() {
		if s.Name == "turn a.reminder" && s.SpanContext.TraceID() != set.SpanContext.TraceID() {
			set = s // the second one
		}
	}
	closeHost(t, h)
	list, err := store.Reminders(context.Background(), "a/2")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, abi.ValidTraceparent(list[0].Trace), "stored trace %q", list[0].Trace)

	rec2 := newRecorder(t)
	newHostConfig(t, host.Config{Store: store, TracerProvider: rec2.tp}, conformanceType(t, "a"))
	fired = rec2.span(t, "turn a.get")
	require.Equal(t, set.SpanContext.TraceID(), fired.SpanContext.TraceID())
	require.Equal(t, set.SpanContext.SpanID(), fired.Parent.SpanID())
	require.True(t, fired.Parent.IsRemote())
}

// A timer's ticks continue the trace of the turn that set it.
func TestTraceTimerTick(t *testing.T) {
	rec := newRecorder(t)
	h := newHostConfig(t, host.Config{Store: memstore.New(), TracerProvider: rec.tp}, conformanceType(t, "a"))
	askTraced(t, h, rec.tp, "a/1", "timer", M{"name": "t", "due_ms": 1, "method": "echo"})
	set, tick := rec.span(t, "turn a.timer"), rec.span(t, "turn a.echo")
	requireChild(t, set, tick)
	require.Equal(t, "timer", attr(tick, "wactor.message.kind"))
}

// With tracing off, nothing of a trace is stored.
func TestNoTraceWhenOff(t *testing.T) {
	store := memstore.New()
	h := newHostConfig(t, host.Config{Store: store}, conformanceType(t, "a"))
	r := abi.Ref{Type: "a", ID: "1"}
	_, err := h.Ask(context.Background(), r, "reminder", cborOf(t, M{"name": "n", "in_ms": 3_600_000, "method": "echo"}))
	require.NoError(t, err)
	list, err := store.Reminders(context.Background(), "a/1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Empty(t, list[0].Trace)
}

// Each SDK's guest sees the trace key in its request envelope when the
// turn is traced, and skips it: its turns answer as without tracing.
func TestTracedGuestsOfEverySDK(t *testing.T) {
	rec := newRecorder(t)
	h := newHostConfig(t, host.Config{Store: memstore.New(), TracerProvider: rec.tp},
		host.TypeConfig{Name: "c", Module: testwasm.C(t, "conformance")},
		host.TypeConfig{Name: "go", Module: testwasm.Go(t, "conformance")},
		host.TypeConfig{Name: "rust", Module: testwasm.Rust(t, "conformance")},
		host.TypeConfig{Name: "as", Module: testwasm.AS(t, "conformance")})
	for _, typ := range []string{"c", "go", "rust", "as"} {
		t.Run(typ, func(t *testing.T) {
			r := abi.Ref{Type: typ, ID: "1"}
			reply, err := h.Ask(context.Background(), r, "echo", cborOf(t, "traced"))
			require.NoError(t, err)
			require.Equal(t, cborOf(t, "traced"), reply)
			require.Equal(t, "ok", attr(rec.span(t, "turn "+typ+".echo"), "wactor.outcome"))
		})
	}
}

// A trace that is not sampled records no span, and its context is carried
// all the same, marked not sampled, so that what it causes is not sampled
// either.
func TestTraceUnsampled(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	store := memstore.New()
	h := newHostConfig(t, host.Config{Store: store, TracerProvider: tp}, conformanceType(t, "a"), conformanceType(t, "b"))
	askTraced(t, h, tp, "a/1", "ask", M{"to": "b/1", "method": "echo"})
	askTraced(t, h, tp, "a/1", "reminder", M{"name": "n", "in_ms": 3_600_000, "method": "echo"})
	list, err := store.Reminders(context.Background(), "a/1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, abi.ValidTraceparent(list[0].Trace), "stored trace %q", list[0].Trace)
	require.True(t, strings.HasSuffix(list[0].Trace, "-00"), "stored trace %q is marked sampled", list[0].Trace)
	require.Empty(t, exp.GetSpans())
}
