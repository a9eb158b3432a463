package host

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/host/internal/linmem"
	"github.com/wactor/wactor/internal/testwasm"
)

// TestSnapshotOfExamples checks that the counter examples start from a
// snapshot (Rust's, which has no _initialize, from one of its data), that
// every SDK tells the host its counter does nothing on activation
// (wactor_activate_hook), and that the Go runtime's random state is found
// in the Go one (a Go release that moved it would fail here, and its
// guests would run _initialize in every activation).
func TestSnapshotOfExamples(t *testing.T) {
	for _, g := range []struct {
		name   string
		wasm   func(testing.TB, string) []byte
		goRand bool
		// noActivate: the SDK exports wactor_activate_hook, and the
		// counter has no activate handler
		noActivate bool
	}{{"go", testwasm.Go, true, true}, {"c", testwasm.C, false, true}, {"rust", testwasm.Rust, false, true}, {"as", testwasm.AS, false, true}} {
		t.Run(g.name, func(t *testing.T) {
			tc := TypeConfig{Module: g.wasm(t, "counter")}
			require.NoError(t, tc.prepare())
			v, _, err := load(context.Background(), nil, tc, wasiGrants{}, true)
			require.NoError(t, err)
			defer v.retire(context.Background())
			require.NotNil(t, v.snap, v.noSnapshot)
			assert.Equal(t, g.goRand, v.snap.goRand >= 0)
			assert.Equal(t, g.noActivate, v.snap.noActivate)
			n := 0
			for _, r := range v.snap.runs {
				n += r[1] - r[0]
			}
			t.Logf("memory %d bytes, %d of them in %d runs not zero", len(v.snap.Memory), n, len(v.snap.runs))
		})
	}
}

// TestHotPagesLearnt shows how a version learns the pages of its snapshot
// that instances write first (learnHot): the pages an instance wrote,
// at most linmem.MaxHot of them however many it wrote, which new
// instances then hold as copies of the snapshot from the start, reading
// exactly as the snapshot does; and that copied pages an instance left
// as they were drop out of the set.
func TestHotPagesLearnt(t *testing.T) {
	ctx := context.Background()
	tc := TypeConfig{Module: testwasm.Go(t, "counter")}
	require.NoError(t, tc.prepare())
	v, _, err := load(ctx, nil, tc, wasiGrants{}, true)
	require.NoError(t, err)
	defer v.retire(ctx)
	require.NotNil(t, v.snap, v.noSnapshot)
	if !v.snap.mapped {
		t.Skip("the snapshot is not mapped from an image here")
	}
	if _, err := linmem.Own(nil); err != nil {
		t.Skip(err)
	}
	img := v.snap.Memory
	pages := len(img) / pageSize
	randPage := v.snap.goRand / pageSize

	// An instance that writes every page of its memory, as a hostile
	// guest might in its first turn.
	first, err := v.instantiate(ctx, io.Discard)
	require.NoError(t, err)
	defer first.close(ctx)
	for p := range pages {
		require.True(t, first.mod.Memory().WriteByte(uint32(p*pageSize+7), ^img[p*pageSize+7]))
	}
	v.learnHot(first)
	hot := v.memory.Hot()
	require.Len(t, hot, linmem.MaxHot, "the set is bounded whatever the guest wrote")
	assert.Equal(t, uint32(0), hot[0])

	// A new instance holds the hot pages from the start and reads as the
	// snapshot (the Go runtime's random state, reseeded, aside).
	next, err := v.instantiate(ctx, io.Discard)
	require.NoError(t, err)
	defer next.close(ctx)
	mem, ok := next.mod.Memory().Read(0, uint32(len(img)))
	require.True(t, ok)
	own, err := linmem.Own(mem)
	require.NoError(t, err)
	assert.Subset(t, own, hot, "hot pages are the instance's own copies")
	for p := range pages {
		if p == randPage || p == (v.snap.goRand+goRandSize-1)/pageSize {
			continue
		}
		require.Equal(t, img[p*pageSize:(p+1)*pageSize], mem[p*pageSize:(p+1)*pageSize], "page %d differs from the snapshot", p)
	}

	// Learning from it, only the pages it changed stay: those restore
	// wrote (the random state).
	v.learnHot(next)
	hot = v.memory.Hot()
	assert.Contains(t, hot, uint32(randPage))
	assert.Less(t, len(hot), 4, "copied pages left as they were drop out: %v", hot)
}
