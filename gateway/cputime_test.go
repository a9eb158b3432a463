package gateway_test

import (
	"time"

	"github.com/wactor/wactor/internal/cputime"
)

// cpuTime is the processor time the process has used (0 where it cannot
// be read), under the name the benchmarks that also run on older trees use.
func cpuTime() time.Duration { return cputime.Process() }
