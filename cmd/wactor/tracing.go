package main

import (
	"context"
	"log/slog"

	"github.com/wactor/wactor/internal/tracing"
	"github.com/wactor/wactor/manifest"
)

// startTracing sets up the export of traces the manifest's tracing section
// and the OTEL_* environment variables ask for (docs/manifest.md,
// "tracing"), and logs where they go. Off, it returns a Tracing whose
// Provider is nil, which the host and the gateway take as off.
func startTracing(ctx context.Context, m *manifest.Manifest, log *slog.Logger) (*tracing.Tracing, error) {
	tr, err := tracing.Setup(ctx, tracing.Config{
		Exporter:    string(m.Tracing.Exporter),
		Endpoint:    m.Tracing.Endpoint,
		SampleRatio: m.Tracing.SampleRatio,
		Version:     version,
		Logger:      log,
	})
	if err != nil {
		return nil, err
	}
	if tr.On() {
		endpoint := tr.Endpoint
		if endpoint == "" {
			endpoint = "from OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces"
		}
		log.Info("exporting traces", "exporter", tracing.ExporterOTLP, "endpoint", endpoint)
	}
	return tr, nil
}

// stopTracing sends the spans still buffered, within closeTimeout; a
// failure is logged and does not change how wactor exits.
func stopTracing(tr *tracing.Tracing, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		log.Warn("sending the last spans", "err", err)
	}
}
