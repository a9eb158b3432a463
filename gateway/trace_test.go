package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// tracedServer serves a gateway over a host of its own, both traced into
// an in-memory exporter, with the C conformance actor deployed as types a
// and b (see docs/conformance.md).
func tracedServer(t *testing.T) (*httptest.Server, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: cacheDir, TracerProvider: tp})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, h.Close(ctx))
		require.NoError(t, tp.Shutdown(ctx))
	})
	for _, name := range []string{"a", "b"} {
		require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: name, Module: testwasm.C(t, "conformance")}))
	}
	require.NoError(t, h.Start(ctx))
	g := gateway.New(h, gateway.Config{Logger: testLogger(t), TracerProvider: tp})
	g.SetReady(true)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv, exp
}

// spansByName waits (up to 10 s) until every name has an ended span, and
// returns them by name.
func spansByName(t *testing.T, exp *tracetest.InMemoryExporter, names ...string) map[string]tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]tracetest.SpanStub{}
		for _, s := range exp.GetSpans() {
			got[s.Name] = s
		}
		missing := ""
		for _, n := range names {
			if _, ok := got[n]; !ok {
				missing = n
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q; have %v", missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One HTTP ask to an actor that asks another yields one connected trace:
// the caller's span (from its traceparent header), the HTTP request's
// span, the turn of a, its ask, and the turn of b.
func TestTraceHTTPAskChain(t *testing.T) {
	srv, exp := tracedServer(t)
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/actors/a/1/ask",
		bytes.NewReader([]byte(`{"to": "b/1", "method": "echo", "payload": "hi"}`)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", caller)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	const route = "POST /v1/actors/{type}/{id}/{method}"
	s := spansByName(t, exp, route, "turn a.ask", "ask b.echo", "turn b.echo")
	httpSpan := s[route]
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", httpSpan.SpanContext.TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", httpSpan.Parent.SpanID().String())
	chain := []string{route, "turn a.ask", "ask b.echo", "turn b.echo"}
	for i := 1; i < len(chain); i++ {
		parent, child := s[chain[i-1]], s[chain[i]]
		require.Equal(t, httpSpan.SpanContext.TraceID(), child.SpanContext.TraceID(), "%s is in another trace", child.Name)
		require.Equal(t, parent.SpanContext.SpanID(), child.Parent.SpanID(), "%s is not a child of %s", child.Name, parent.Name)
	}
	attrs := map[string]string{}
	for _, kv := range httpSpan.Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	require.Equal(t, map[string]string{"http.request.method": "POST", "url.path": "/v1/actors/a/1/ask",
		"http.route": "/v1/actors/{type}/{id}/{method}", "http.response.status_code": "200"}, attrs)
	require.Len(t, exp.GetSpans(), 4, "one trace of four spans")
}

// A request without a traceparent starts a trace; a 404 is traced too,
// under its route.
func TestTraceHTTPRoot(t *testing.T) {
	srv, exp := tracedServer(t)
	resp, err := http.Post(srv.URL+"/v1/actors/nosuchtype/1/m", "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	s := spansByName(t, exp, "POST /v1/actors/{type}/{id}/{method}")["POST /v1/actors/{type}/{id}/{method}"]
	require.False(t, s.Parent.IsValid())
	require.True(t, s.SpanContext.IsValid())
}
