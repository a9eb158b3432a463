//go:build !unix

package gateway_test

import "time"

// cpuTime returns 0: the processor time is read on Unix only.
func cpuTime() time.Duration { return 0 }
