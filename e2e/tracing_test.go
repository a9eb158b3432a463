package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/internal/tracing/collectortest"
)

// tracedApp writes the C conformance actor as types a and b, and a
// manifest whose tracing section is tracing (YAML, indented by two).
func tracedApp(t *testing.T, tracing string) *app {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "conformance.wasm"), testwasm.C(t, "conformance"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(`version: 1
tracing:
`+tracing+`
actors:
  - type: a
    module: conformance.wasm
  - type: b
    module: conformance.wasm
`))
	return a
}

// waitSpans waits, up to callTimeout, until c has a span named each of
// names in the trace traceID, and returns them by name.
func waitSpans(t *testing.T, c *collectortest.Collector, traceID string, names ...string) map[string]collectortest.Span {
	t.Helper()
	deadline := time.Now().Add(callTimeout)
	for {
		got := map[string]collectortest.Span{}
		for _, s := range c.Spans() {
			if s.TraceID == traceID {
				got[s.Name] = s
			}
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
			t.Fatalf("no span %q in trace %s; the collector has %+v", missing, traceID, c.Spans())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitTurns waits, up to callTimeout, until s's /metrics (open: the
// test sets no token) has the line want.
func waitTurns(t *testing.T, s *server, want string) {
	t.Helper()
	deadline := time.Now().Add(callTimeout)
	for {
		status, body := s.scrape()
		if status == http.StatusOK && strings.Contains(body, want+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no line %q after %v:\n%s", want, callTimeout, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkChain checks that each span of names is the child of the one
// before it.
func checkChain(t *testing.T, spans map[string]collectortest.Span, names ...string) {
	t.Helper()
	for i := 1; i < len(names); i++ {
		if p, c := spans[names[i-1]], spans[names[i]]; c.ParentID != p.SpanID {
			t.Errorf("%s has parent %s, want %s (%s)", c.Name, c.ParentID, p.SpanID, p.Name)
		}
	}
}

// A traced wactor exports, for one HTTP ask with a traceparent header to
// an actor that asks another, one trace: the request, the turn of a, its
// ask and the turn of b; and a tell through the outbox continues the trace
// of the turn that sent it. Stopping wactor sends the spans still
// buffered.
func TestTracingExport(t *testing.T) {
	c := collectortest.Start(t)
	a := tracedApp(t, "  exporter: otlp\n  endpoint: "+c.URL)
	s := start(t, a)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, body := s.post("/v1/actors/a/1/ask", `{"to": "b/1", "method": "echo", "payload": "hi"}`,
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if status != http.StatusOK || !jsonEqual(body, `{"reply": "hi"}`) {
		t.Fatalf("ask = %d %s", status, body)
	}
	const tellTrace = "0af7651916cd43dd8448eb211c80319c"
	if status, body := s.post("/v1/actors/a/2/tell", `{"to": "b/2", "method": "echo", "payload": 1}`,
		"traceparent", "00-"+tellTrace+"-b7ad6b7169203331-01"); status != http.StatusOK {
		t.Fatalf("tell = %d %s", status, body)
	}
	// The tell is durable once acknowledged, but it is delivered after
	// the reply; stopping before b/2's turn would leave that turn for
	// the next start, so wait until it has run.
	waitTurns(t, s, `wactor_turns_total{method="echo",outcome="ok",type="b"} 2`)
	s.stop(syscall.SIGTERM)

	const route = "POST /v1/actors/{type}/{id}/{method}"
	ask := waitSpans(t, c, traceID, route, "turn a.ask", "ask b.echo", "turn b.echo")
	if ask[route].ParentID != "00f067aa0ba902b7" {
		t.Errorf("the request's span has parent %q, want the caller's 00f067aa0ba902b7", ask[route].ParentID)
	}
	checkChain(t, ask, route, "turn a.ask", "ask b.echo", "turn b.echo")
	for _, sp := range ask {
		if sp.Service != "wactor" || sp.Path != "/v1/traces" {
			t.Errorf("span %s came from service %q to %s", sp.Name, sp.Service, sp.Path)
		}
	}
	if got := ask["turn b.echo"].Attrs; got["wactor.actor"] != "b/1" || got["wactor.outcome"] != "ok" {
		t.Errorf("turn b.echo has attributes %v", got)
	}
	tell := waitSpans(t, c, tellTrace, route, "turn a.tell", "tell b.echo", "turn b.echo")
	checkChain(t, tell, route, "turn a.tell", "tell b.echo", "turn b.echo")
	for _, sp := range c.Spans() {
		for k, v := range sp.Attrs {
			if strings.Contains(v, "hi") && k != "url.path" {
				t.Errorf("span %s holds the payload in %s=%q", sp.Name, k, v)
			}
		}
	}
}

// Without a tracing section, the standard environment variables turn
// tracing on; sampling at 0 keeps only traces whose caller sampled them.
func TestTracingFromEnvironment(t *testing.T) {
	c := collectortest.Start(t)
	a := tracedApp(t, "  # all from the environment")
	s := startWith(t, a, []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=" + c.URL,
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0", "OTEL_SERVICE_NAME=shop"},
		"--http-addr", "127.0.0.1:0")
	s.ask("/v1/actors/a/1/echo", `"unsampled"`, `"unsampled"`)
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	status, _ := s.post("/v1/actors/a/2/echo", `"sampled"`, "traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	if status != http.StatusOK {
		t.Fatalf("echo = %d", status)
	}
	s.stop(syscall.SIGTERM)
	spans := waitSpans(t, c, traceID, "POST /v1/actors/{type}/{id}/{method}", "turn a.echo")
	if spans["turn a.echo"].Service != "shop" {
		t.Errorf("service %q, want shop", spans["turn a.echo"].Service)
	}
	if n := len(c.Spans()); n != 2 {
		t.Errorf("the collector got %d spans, want the 2 of the sampled request: %+v", n, c.Spans())
	}
}
