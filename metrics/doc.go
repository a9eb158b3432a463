// Package metrics exports what a wactor node does as Prometheus metrics:
// activations, turns by type, method and outcome with their latency,
// mailbox depth, commits, messages sent and received, reminders, dead
// letters, guest memory and failures, HTTP requests, and the Go runtime's
// and the process's own metrics. docs/metrics.md lists every metric.
//
// The host and the gateway know nothing of Prometheus: a *Metrics is the
// host's Observer and the gateway's request observer, and reads the host's
// levels (host.Host.Levels) at each scrape. Label values are bounded:
// types are the deployed ones, methods are bounded per type (OtherMethod
// takes the rest), routes are the gateway's patterns, and no label ever
// holds an actor id.
package metrics
