package gateway_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
)

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// The traced modes of BenchmarkHTTP: the host and the gateway traced by
// the SDK as wactor run sets it up (a batching processor), over an
// exporter that drops the spans; sampled records every span, unsampled
// none.
func init() {
	traced := func(sampler sdktrace.Sampler) func(*testing.B, *host.Config, *gateway.Config) {
		return func(b *testing.B, hc *host.Config, gc *gateway.Config) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sampler))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			hc.TracerProvider, gc.TracerProvider = tp, tp
		}
	}
	benchModes = append(benchModes,
		benchMode{name: "sampled", apply: traced(sdktrace.AlwaysSample())},
		benchMode{name: "unsampled", apply: traced(sdktrace.ParentBased(sdktrace.NeverSample()))})
}
