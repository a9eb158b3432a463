package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// benchMode is a configuration BenchmarkHTTP runs under. "off" is the
// default; trace_bench_test.go adds the traced modes. This file uses only
// what the gateway had before tracing, so that it runs unchanged on an
// older tree: see scripts/bench-tracing.sh.
type benchMode struct {
	name  string
	apply func(b *testing.B, hc *host.Config, gc *gateway.Config)
}

var benchModes = []benchMode{{name: "off", apply: func(*testing.B, *host.Config, *gateway.Config) {}}}

// BenchmarkHTTP is one HTTP ask after the other, over a kept-alive
// connection on 127.0.0.1, to the C conformance actor (a JSON echo: the
// gateway converts JSON to CBOR and back), and, as askchain, to an actor
// that asks another.
func BenchmarkHTTP(b *testing.B) {
	for _, mode := range benchModes {
		for _, path := range []string{"ask", "askchain"} {
			b.Run(mode.name+"/"+path, func(b *testing.B) {
				ctx := context.Background()
				hc := host.Config{Store: memstore.New(), CacheDir: cacheDir}
				gc := gateway.Config{}
				mode.apply(b, &hc, &gc)
				h, err := host.New(ctx, hc)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { h.Close(context.Background()) })
				for _, name := range []string{"a", "b"} {
					if err := h.Deploy(ctx, host.TypeConfig{Name: name, Module: testwasm.C(b, "conformance")}); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.Start(ctx); err != nil {
					b.Fatal(err)
				}
				g := gateway.New(h, gc)
				g.SetReady(true)
				srv := httptest.NewServer(g)
				b.Cleanup(srv.Close)
				url, body := srv.URL+"/v1/actors/a/1/echo", `{"n": 1}`
				if path == "askchain" {
					url, body = srv.URL+"/v1/actors/a/1/ask", `{"to": "b/1", "method": "echo", "payload": {"n": 1}}`
				}
				post := func() {
					resp, err := srv.Client().Post(url, "application/json", strings.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("POST %s: %d", url, resp.StatusCode)
					}
				}
				post() // activate
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cpuTime()
				for i := 0; i < b.N; i++ {
					post()
				}
				// The processor time of the whole process, client and
				// server, per request: what other processes on a busy
				// machine disturb less than ns/op.
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
