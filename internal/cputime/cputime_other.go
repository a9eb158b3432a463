//go:build !unix

// Package cputime reads the processor time of the process, for benchmarks
// that report what work cost the machine as well as how long it took.
package cputime

import "time"

// Process returns 0: the processor time is read on Unix only.
func Process() time.Duration { return 0 }
