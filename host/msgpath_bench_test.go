package host_test

import (
	"context"
	"testing"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// benchMode is a configuration BenchmarkMessagePath runs the message path
// under. "off" is the host as configured by default; trace_bench_test.go
// adds the traced modes. This file uses only what the host had before
// tracing, so that it runs unchanged on an older tree: see
// scripts/bench-tracing.sh, which compares the two in one run.
type benchMode struct {
	name  string
	apply func(b *testing.B, cfg *host.Config)
}

var benchModes = []benchMode{{name: "off", apply: func(*testing.B, *host.Config) {}}}

// BenchmarkMessagePath measures the paths a message takes, on the C
// conformance actor (docs/conformance.md) deployed as types a and b, over
// the in-memory store: ask, an ask from outside (one turn); askchain, an
// ask to a that asks b (two turns and an ask); tell, a durable tell from
// outside (outbox commit, delivery, turn, consuming commit).
func BenchmarkMessagePath(b *testing.B) {
	askChain := cborOf(b, M{"to": "b/1", "method": "echo", "payload": 1})
	echo := cborOf(b, 1)
	for _, mode := range benchModes {
		for _, path := range []string{"ask", "askchain", "tell"} {
			b.Run(mode.name+"/"+path, func(b *testing.B) {
				ctx := context.Background()
				cfg := host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(b)}
				mode.apply(b, &cfg)
				h, err := host.New(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { h.Close(context.Background()) })
				for _, name := range []string{"a", "b"} {
					if err := h.Deploy(ctx, host.TypeConfig{Name: name, Module: testwasm.C(b, "conformance"), Mailbox: 1 << 16}); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.Start(ctx); err != nil {
					b.Fatal(err)
				}
				a, bb := abi.Ref{Type: "a", ID: "1"}, abi.Ref{Type: "b", ID: "1"}
				for _, r := range []abi.Ref{a, bb} { // activate both
					if _, err := h.Ask(ctx, r, "echo", echo); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cpuTime()
				for i := 0; i < b.N; i++ {
					switch path {
					case "ask":
						_, err = h.Ask(ctx, a, "echo", echo)
					case "askchain":
						_, err = h.Ask(ctx, a, "ask", askChain)
					case "tell":
						err = h.Tell(ctx, bb, "echo", echo)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if path == "tell" {
					// The ask queues behind the tells: when it answers,
					// every tell has had its turn.
					if _, err := h.Ask(ctx, bb, "echo", echo); err != nil {
						b.Fatal(err)
					}
				}
				// The processor time of the whole process (the SDK's
				// goroutines included) per message: what other processes
				// on a busy machine disturb less than ns/op.
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
