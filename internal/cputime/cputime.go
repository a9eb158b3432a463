//go:build unix

// Package cputime reads the processor time of the process, for benchmarks
// that report what work cost the machine as well as how long it took.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the processor time the process has used, user and
// system.
func Process() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
