package manifest

import (
	"fmt"
	"net/url"

	"github.com/goccy/go-yaml/ast"
)

// TracingExporter names where traces go.
type TracingExporter string

// The exporters a manifest may name.
const (
	// TracingOTLP sends spans to an OpenTelemetry collector with OTLP over
	// HTTP.
	TracingOTLP TracingExporter = "otlp"
	// TracingNone exports nothing: tracing is off, whatever the
	// environment says.
	TracingNone TracingExporter = "none"
)

// Tracing configures the export of OpenTelemetry traces (see
// docs/manifest.md, "tracing"). A field left out defers to the standard
// OTEL_* environment variables; with neither, tracing is off.
type Tracing struct {
	// Exporter is otlp or none; "" when left out: OTEL_TRACES_EXPORTER
	// decides, and without it tracing is off.
	Exporter TracingExporter `yaml:"exporter"`
	// Endpoint is the collector's OTLP/HTTP base URL, such as
	// http://127.0.0.1:4318; spans go to its /v1/traces. "" when left
	// out: OTEL_EXPORTER_OTLP_ENDPOINT decides, then
	// http://localhost:4318.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the fraction, from 0 to 1, of the traces starting in
	// wactor that are sampled; a trace started by a caller that sent a
	// traceparent follows the caller's decision. Nil when left out:
	// OTEL_TRACES_SAMPLER decides, then every trace is sampled.
	SampleRatio *float64 `yaml:"sample_ratio"`
}

// tracing reads the tracing mapping.
func (d *decoder) tracing(v ast.Node, path string, tr *Tracing) {
	mm, site, ok := d.mapping(v, path, "a mapping with exporter, endpoint and sample_ratio")
	if !ok || mm == nil {
		return
	}
	d.fields(mm, site, path, tracingSection, func(key string, v ast.Node, p string) {
		switch key {
		case "exporter":
			s, site, ok := d.str(v, p, "otlp or none")
			if !ok {
				return
			}
			switch e := TracingExporter(s); e {
			case TracingOTLP, TracingNone:
				tr.Exporter = e
			default:
				d.errAt(site, p, "exporter must be otlp or none, got %s; wactor sends traces with OTLP over HTTP", quote(s))
			}
		case "endpoint":
			if s, site, ok := d.str(v, p, "a URL, e.g. http://127.0.0.1:4318"); ok {
				if msg := checkEndpoint(s); msg != "" {
					d.errAt(site, p, "%s", msg)
				} else {
					tr.Endpoint = s
				}
			}
		case "sample_ratio":
			if r, ok := d.ratio(v, p); ok {
				tr.SampleRatio = &r
			}
		}
	})
}

// checkEndpoint explains what is wrong with a collector's base URL, or
// returns "".
func checkEndpoint(s string) string {
	u, err := url.Parse(s)
	s = hideUser(s) // a password must not reach the message
	switch {
	case err != nil:
		return fmt.Sprintf("%s is not a URL; write the collector's base URL, e.g. http://127.0.0.1:4318", quote(s))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%s must start with http:// or https://, e.g. http://127.0.0.1:4318", quote(s))
	case u.Host == "":
		return fmt.Sprintf("%s has no host; write e.g. http://127.0.0.1:4318", quote(s))
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Sprintf("%s must have no query, fragment or user name; write the collector's base URL, e.g. http://127.0.0.1:4318", quote(s))
	}
	return ""
}

// ratio reads a number from 0 to 1.
func (d *decoder) ratio(v ast.Node, path string) (float64, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return 0, false
	}
	var r float64
	switch n := n.(type) {
	case *ast.FloatNode:
		r = n.Value
	case *ast.IntegerNode:
		x, ok := intValue(n)
		if !ok {
			x = 2 // out of range all the same
		}
		r = float64(x)
	default:
		d.wrongType(site, path, "a number from 0 to 1", n, "")
		return 0, false
	}
	if !(r >= 0 && r <= 1) {
		d.errAt(site, path, "sample_ratio must be from 0 to 1 (0.25 samples a quarter of the traces), got %s", nodeText(n))
		return 0, false
	}
	return r, true
}
