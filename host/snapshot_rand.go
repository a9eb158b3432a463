package host

import "math/rand/v2"

// chacha8 returns Go's ChaCha8 generator seeded as the Go runtime seeds
// its own: the same algorithm as the runtime's internal/chacha8rand.
func chacha8(seed []byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte(seed)) }
