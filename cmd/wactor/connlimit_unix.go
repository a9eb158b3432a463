//go:build unix

package main

import "syscall"

// openFileLimit returns how many file descriptors the process may open
// (the soft limit, which the Go runtime raises to the hard one at start).
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
