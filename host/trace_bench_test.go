package host_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wactor/wactor/host"
)

// discard is a span exporter that drops what it is given: the traced
// modes measure making, queueing and batching spans, not a collector.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// The traced modes of BenchmarkMessagePath, with the SDK set up as wactor
// run sets it up (a batching processor), over an exporter that drops the
// spans: sampled records every span; unsampled samples none, so only the
// trace context is made and carried.
func init() {
	traced := func(sampler sdktrace.Sampler) func(b *testing.B, cfg *host.Config) {
		return func(b *testing.B, cfg *host.Config) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sampler))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			cfg.TracerProvider = tp
		}
	}
	benchModes = append(benchModes,
		benchMode{name: "sampled", apply: traced(sdktrace.AlwaysSample())},
		benchMode{name: "unsampled", apply: traced(sdktrace.ParentBased(sdktrace.NeverSample()))})
}
