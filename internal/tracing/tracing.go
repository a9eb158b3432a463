// Package tracing sets up the OpenTelemetry SDK that exports wactor's
// traces: from the manifest's tracing section and the standard OTEL_*
// environment variables, off unless one of them turns it on. The host and
// the gateway see only the OpenTelemetry API (a trace.TracerProvider);
// the SDK and the OTLP exporter live here, for the CLI.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Exporters a configuration may name.
const (
	// ExporterOTLP sends spans to an OpenTelemetry collector with OTLP
	// over HTTP (protobuf).
	ExporterOTLP = "otlp"
	// ExporterNone turns tracing off.
	ExporterNone = "none"
)

// ServiceName is the service.name of wactor's spans unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES name another.
const ServiceName = "wactor"

// tracesPath is what an OTLP/HTTP collector serves traces at, below its
// base URL.
const tracesPath = "v1/traces"

// Errors of Setup.
var (
	// ErrUnsupported: the configuration asks for an exporter or protocol
	// wactor does not have.
	ErrUnsupported = errors.New("tracing: unsupported")
)

// Config is what the manifest says about tracing. A zero field leaves the
// choice to the environment variables (see docs/manifest.md, "tracing").
type Config struct {
	// Exporter is ExporterOTLP, ExporterNone, or "" to follow
	// OTEL_TRACES_EXPORTER (and, when that is not set either, none).
	Exporter string
	// Endpoint is the OTLP/HTTP base URL of the collector, such as
	// http://127.0.0.1:4318; spans go to its /v1/traces. "" follows
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and OTEL_EXPORTER_OTLP_ENDPOINT,
	// then http://localhost:4318.
	Endpoint string
	// SampleRatio, when set, samples this fraction (0 to 1) of the traces
	// that start in wactor, and follows the caller's decision for the
	// others (parentbased_traceidratio). Nil follows OTEL_TRACES_SAMPLER
	// and OTEL_TRACES_SAMPLER_ARG, then samples every trace.
	SampleRatio *float64
	// Version is wactor's version, the service.version of its spans.
	Version string
	// Logger receives the exporter's errors (a collector that cannot be
	// reached, say). Nil discards them.
	Logger *slog.Logger
}

// Tracing is the SDK set up by Setup.
type Tracing struct {
	// Provider makes the spans; nil when tracing is off, which is what
	// host.Config and gateway.Config take as off.
	Provider trace.TracerProvider
	// Endpoint is the URL spans are sent to, or "" when the exporter
	// takes it from the environment; for the log.
	Endpoint string
	sdk      *sdktrace.TracerProvider
}

// On reports whether traces are exported.
func (t *Tracing) On() bool { return t.sdk != nil }

// Shutdown sends the spans still buffered and stops the exporter. It does
// nothing when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing the last spans: %w", err)
	}
	return nil
}

// Setup reads cfg and the environment and, when tracing is on, starts the
// SDK with a batching OTLP/HTTP exporter: spans are queued (at most 2048,
// OTEL_BSP_MAX_QUEUE_SIZE) and sent in the background; a full queue drops
// spans rather than slow turns down. Nothing is sent until a span ends.
func Setup(ctx context.Context, cfg Config) (*Tracing, error) {
	exporter, err := chooseExporter(cfg.Exporter)
	if err != nil || exporter == ExporterNone {
		return &Tracing{}, err
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(name); p != "" {
			if p != "http/protobuf" {
				return &Tracing{}, fmt.Errorf("%w: %s=%s: wactor sends OTLP over HTTP only; set http/protobuf or unset it", ErrUnsupported, name, p)
			}
			break // the more specific one wins
		}
	}
	var opts []otlptracehttp.Option
	t := &Tracing{}
	if cfg.Endpoint != "" {
		u, err := tracesURL(cfg.Endpoint)
		if err != nil {
			return &Tracing{}, err
		}
		t.Endpoint = u
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return &Tracing{}, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", ServiceName), attribute.String("service.version", cfg.Version)),
		resource.WithFromEnv()) // later detectors win: the environment names the service if it says
	if err != nil {
		_ = exp.Shutdown(ctx)
		return &Tracing{}, fmt.Errorf("tracing: reading OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(exp), sdktrace.WithResource(res)}
	if r := cfg.SampleRatio; r != nil {
		tpOpts = append(tpOpts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*r))))
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "err", err) }))
	t.sdk = sdktrace.NewTracerProvider(tpOpts...)
	t.Provider = t.sdk
	return t, nil
}

// chooseExporter returns the exporter the manifest names or, when it
// names none, the one OTEL_TRACES_EXPORTER does; none when neither does,
// or when OTEL_SDK_DISABLED is true.
func chooseExporter(manifest string) (string, error) {
	if disabled, _ := strconv.ParseBool(os.Getenv("OTEL_SDK_DISABLED")); disabled {
		return ExporterNone, nil
	}
	switch manifest {
	case ExporterOTLP, ExporterNone:
		return manifest, nil
	case "":
	default:
		return ExporterNone, fmt.Errorf("%w: exporter %q: write otlp or none", ErrUnsupported, manifest)
	}
	env := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))
	switch env {
	case "", ExporterNone:
		return ExporterNone, nil
	case ExporterOTLP:
		return ExporterOTLP, nil
	}
	return ExporterNone, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%s: wactor exports traces with otlp only; set otlp or none", ErrUnsupported, env)
}

// tracesURL returns where the traces of the collector at base go. The
// manifest checked base; this refuses only what is not an http(s) URL.
func tracesURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing: endpoint %q is not an http:// or https:// URL with a host, such as http://127.0.0.1:4318", base)
	}
	u.Path = path.Join("/", u.Path, tracesPath)
	return u.String(), nil
}
