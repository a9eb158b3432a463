package tracing_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/internal/tracing"
	"github.com/wactor/wactor/internal/tracing/collectortest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

// clearEnv unsets the OTEL_* variables Setup reads, for the test.
func clearEnv(t *testing.T) {
	for _, name := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
}

func setup(t *testing.T, cfg tracing.Config) *tracing.Tracing {
	t.Helper()
	tr, err := tracing.Setup(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tr.Shutdown(context.Background())) })
	return tr
}

// emit ends one span named name and flushes it to the collector.
func emit(t *testing.T, tr *tracing.Tracing, name string) {
	t.Helper()
	_, span := tr.Provider.Tracer("test").Start(context.Background(), name)
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tr.Shutdown(ctx))
}

// requireOnly checks that c received one span, with want's name, service
// and path.
func requireOnly(t *testing.T, c *collectortest.Collector, want collectortest.Span) {
	t.Helper()
	spans := c.Spans()
	require.Len(t, spans, 1)
	got := spans[0]
	require.Equal(t, want, collectortest.Span{Name: got.Name, Service: got.Service, Path: got.Path})
}

func TestOffByDefault(t *testing.T) {
	clearEnv(t)
	tr := setup(t, tracing.Config{})
	require.False(t, tr.On())
	require.Nil(t, tr.Provider)
	tr = setup(t, tracing.Config{Exporter: tracing.ExporterNone})
	require.Nil(t, tr.Provider)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	require.Nil(t, setup(t, tracing.Config{}).Provider)
	// OTEL_SDK_DISABLED wins over everything.
	t.Setenv("OTEL_SDK_DISABLED", "true")
	require.Nil(t, setup(t, tracing.Config{Exporter: tracing.ExporterOTLP}).Provider)
}

// The manifest's endpoint is a base URL: spans go to its /v1/traces, in
// OTLP protobuf, under the service name wactor.
func TestManifestEndpoint(t *testing.T) {
	clearEnv(t)
	c := collectortest.Start(t)
	tr := setup(t, tracing.Config{Exporter: tracing.ExporterOTLP, Endpoint: c.URL, Version: "v-test"})
	require.True(t, tr.On())
	require.Equal(t, c.URL+"/v1/traces", tr.Endpoint)
	emit(t, tr, "turn a.m")
	requireOnly(t, c, collectortest.Span{Name: "turn a.m", Service: "wactor", Path: "/v1/traces"})
}

// With no tracing section, the standard variables turn it on and say
// where to, and name the service.
func TestEnvironment(t *testing.T) {
	clearEnv(t)
	c := collectortest.Start(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.URL)
	t.Setenv("OTEL_SERVICE_NAME", "shop")
	tr := setup(t, tracing.Config{})
	require.True(t, tr.On())
	emit(t, tr, "from env")
	requireOnly(t, c, collectortest.Span{Name: "from env", Service: "shop", Path: "/v1/traces"})
}

// sample_ratio samples that fraction of the traces that start here and
// follows the caller's decision for the rest.
func TestSampleRatio(t *testing.T) {
	clearEnv(t)
	c := collectortest.Start(t)
	zero := 0.0
	tr := setup(t, tracing.Config{Exporter: tracing.ExporterOTLP, Endpoint: c.URL, SampleRatio: &zero})
	tracer := tr.Provider.Tracer("test")
	_, root := tracer.Start(context.Background(), "root")
	require.False(t, root.SpanContext().IsSampled())
	require.True(t, root.SpanContext().IsValid(), "an unsampled span still carries its trace context")
	root.End()
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2},
		TraceFlags: trace.FlagsSampled, Remote: true})
	_, child := tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "child")
	require.True(t, child.SpanContext().IsSampled())
	child.End()
	require.NoError(t, tr.Shutdown(context.Background()))
	spans := c.Spans()
	require.Len(t, spans, 1)
	require.Equal(t, "child", spans[0].Name)

	// The standard sampler variables apply when the manifest gives no ratio.
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	tr = setup(t, tracing.Config{Exporter: tracing.ExporterOTLP, Endpoint: c.URL})
	_, off := tr.Provider.Tracer("test").Start(context.Background(), "off")
	require.False(t, off.SpanContext().IsSampled())
	off.End()
}

func TestUnsupported(t *testing.T) {
	for _, tt := range []struct {
		env, value string
		cfg        tracing.Config
		want       string
	}{
		{"OTEL_TRACES_EXPORTER", "zipkin", tracing.Config{}, "OTEL_TRACES_EXPORTER=zipkin: wactor exports traces with otlp only"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", tracing.Config{Exporter: tracing.ExporterOTLP}, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: wactor sends OTLP over HTTP only"},
		{"", "", tracing.Config{Exporter: "jaeger"}, `exporter "jaeger": write otlp or none`},
		{"", "", tracing.Config{Exporter: tracing.ExporterOTLP, Endpoint: "127.0.0.1:4318"}, "is not an http:// or https:// URL"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			clearEnv(t)
			if tt.env != "" {
				t.Setenv(tt.env, tt.value)
			}
			tr, err := tracing.Setup(context.Background(), tt.cfg)
			require.ErrorContains(t, err, tt.want)
			require.Nil(t, tr.Provider)
			if tt.cfg.Endpoint == "" {
				require.True(t, errors.Is(err, tracing.ErrUnsupported))
			}
		})
	}
}
