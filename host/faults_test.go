package host_test

import "syscall"

// usage returns the process's minor page faults and system time in µs, for
// benchmarks that report them per operation (0, 0 where getrusage fails).
func usage() (faults, sysUS float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Minflt), float64(ru.Stime.Nano()) / 1e3
}
