package e2e

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// scrape GETs /metrics with the headers (name, value pairs) and returns
// the status and body.
func (s *server) scrape(header ...string) (int, string) {
	s.t.Helper()
	return s.getBody("/metrics", header...)
}

// TestMetrics: the real binary serves the wactor_ families at /metrics,
// only with the token, and they count the calls made; a client calling
// many method names does not multiply the series.
func TestMetrics(t *testing.T) {
	const token = "e2e-metrics-token-0123456789"
	s := startWith(t, newApp(t), []string{"WACTOR_TOKEN=" + token}, "--http-addr", "127.0.0.1:0")
	auth := []string{"Authorization", "Bearer " + token}
	s.ask("/v1/actors/counter/m/add", `{"n":2}`, `{"n":2}`)
	s.ask("/v1/actors/counter/m/add", `{"n":3}`, `{"n":5}`)
	for i := 0; i < 50; i++ {
		s.askError("/v1/actors/counter/m/no_such_method_"+strings.Repeat("x", i), `{}`, http.StatusNotFound, "unknown_method")
	}

	if status, _ := s.scrape(); status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token = %d; want 401", status)
	}
	status, body := s.scrape(auth...)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics with the token = %d; want 200\n%s", status, body)
	}
	for _, want := range []string{
		`wactor_activations{type="counter"} 1`,
		`wactor_activations{type="counter-c"} 0`,
		`wactor_turns_total{method="add",outcome="ok",type="counter"} 2`,
		`wactor_turns_total{method="(other)",outcome="unknown_method",type="counter"} 50`,
		`wactor_turn_duration_seconds_count{method="add",type="counter"} 2`,
		`wactor_http_requests_total{code="200",route="POST /v1/actors/{type}/{id}/{method}"} 2`,
		`wactor_http_requests_total{code="404",route="POST /v1/actors/{type}/{id}/{method}"} 50`,
		`wactor_http_requests_total{code="401",route="GET /metrics"} 1`,
		`wactor_activations_created_total{type="counter"} 1`,
		`wactor_messages_sent_total{kind="ask",type="(client)"} 52`,
		"# TYPE wactor_commit_duration_seconds histogram",
		"# TYPE wactor_mailbox_messages gauge",
		"# TYPE wactor_guest_memory_bytes gauge",
		"# TYPE wactor_dead_letters gauge",
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}
	if strings.Contains(body, `id="`) || strings.Contains(body, "counter/m") {
		t.Errorf("/metrics names an actor id")
	}
	if n := len(regexp.MustCompile(`(?m)^wactor_turns_total\{`).FindAllString(body, -1)); n > 3 {
		t.Errorf("%d series of wactor_turns_total after 2 methods called; want at most 3 (add ok, (other) ok and unknown_method)", n)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	s.stop(syscall.SIGTERM)
}

// TestMetricsOff: with metrics: {enabled: false}, GET /metrics answers
// 404, still only to the token.
func TestMetricsOff(t *testing.T) {
	const token = "e2e-metrics-token-0123456789"
	a := newApp(t)
	text, err := os.ReadFile(a.manifest)
	if err != nil {
		t.Fatal(err)
	}
	write(t, a.manifest, []byte(strings.Replace(string(text), "actors:\n", "metrics:\n  enabled: false\nactors:\n", 1)))
	s := startWith(t, a, []string{"WACTOR_TOKEN=" + token}, "--http-addr", "127.0.0.1:0")
	s.ask("/v1/actors/counter/m/add", `{"n":2}`, `{"n":2}`)
	if status, _ := s.scrape(); status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token = %d; want 401", status)
	}
	if status, body := s.scrape("Authorization", "Bearer "+token); status != http.StatusNotFound || !strings.Contains(body, "metrics are off") {
		t.Errorf("GET /metrics with metrics off = %d %s; want 404 saying metrics are off", status, body)
	}
	s.stop(syscall.SIGTERM)
}
