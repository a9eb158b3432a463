// Package collectortest is an OpenTelemetry collector for tests: an
// OTLP/HTTP server on 127.0.0.1 that keeps the spans it is sent.
package collectortest

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds one export request the collector reads.
const maxBody = 16 << 20

// Span is what the collector keeps of a span it received.
type Span struct {
	Name     string
	TraceID  string // hex
	SpanID   string // hex
	ParentID string // hex; "" for a root span
	Service  string // service.name of its resource
	Path     string // the URL path it was sent to
	Attrs    map[string]string
}

// Collector is a running test collector.
type Collector struct {
	// URL is its base URL, for tracing.Config.Endpoint or
	// OTEL_EXPORTER_OTLP_ENDPOINT.
	URL string
	mu  sync.Mutex
	got []Span
}

// Start starts a collector that t's cleanup stops. A request that is not
// an OTLP protobuf export gets 400 and is recorded nowhere.
func Start(t testing.TB) *Collector {
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(c.export))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Collector) export(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	req := &collector.ExportTraceServiceRequest{}
	if err == nil {
		err = proto.Unmarshal(body, req)
	}
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP protobuf export", http.StatusBadRequest)
		return
	}
	var spans []Span
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				service = kv.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := Span{Name: s.Name, TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					ParentID: hex.EncodeToString(s.ParentSpanId), Service: service, Path: r.URL.Path, Attrs: map[string]string{}}
				for _, kv := range s.Attributes {
					v := kv.Value
					switch {
					case v.GetStringValue() != "":
						sp.Attrs[kv.Key] = v.GetStringValue()
					default:
						sp.Attrs[kv.Key] = v.String()
					}
				}
				spans = append(spans, sp)
			}
		}
	}
	c.mu.Lock()
	c.got = append(c.got, spans...)
	c.mu.Unlock()
	out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Spans returns the spans received so far, in the order they came.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.got...)
}

// Named returns the spans received so far named name.
func (c *Collector) Named(name string) []Span {
	var out []Span
	for _, s := range c.Spans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
