package host

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/internal/testwasm"
)

// TestSnapshotOfExamples checks that the counter examples start from a
// snapshot (Rust's, which has no _initialize, from one of its data), and
// that the Go runtime's random state is found in the Go one (a Go release that moved it would fail here, and its
// guests would run _initialize in every activation).
func TestSnapshotOfExamples(t *testing.T) {
	for _, g := range []struct {
		name   string
		wasm   func(testing.TB, string) []byte
		goRand bool
	}{{"go", testwasm.Go, true}, {"c", testwasm.C, false}, {"rust", testwasm.Rust, false}} {
		t.Run(g.name, func(t *testing.T) {
			tc := TypeConfig{Module: g.wasm(t, "counter")}
			require.NoError(t, tc.prepare())
			v, _, err := load(context.Background(), nil, tc, wasiGrants{}, true)
			require.NoError(t, err)
			defer v.retire(context.Background())
			require.NotNil(t, v.snap, v.noSnapshot)
			assert.Equal(t, g.goRand, v.snap.goRand >= 0)
			n := 0
			for _, r := range v.snap.runs {
				n += r[1] - r[0]
			}
			t.Logf("memory %d bytes, %d of them in %d runs not zero", len(v.snap.Memory), n, len(v.snap.runs))
		})
	}
}
