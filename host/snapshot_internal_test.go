package host

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"slices"
	"testing"
	"unsafe"

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

// TestRestoredMemoryIsTheSnapshot shows that an instance's memory reads
// exactly as its snapshot, on both ways of restoring it: the C counter's
// few pages copied into a fresh memory by restore, the Go counter's
// memory mapped from an image by the allocator (on Linux). Neither the
// writes of another live instance nor those of the instance whose memory
// a new one reuses (a slot zeroed in place, a region with the image
// mapped again) show through: the new memory reads as the snapshot up to
// its size and as zeros past it, and so does what it then grows by.
func TestRestoredMemoryIsTheSnapshot(t *testing.T) {
	for _, g := range []struct {
		name   string
		wasm   func(testing.TB, string) []byte
		mapped bool // on Linux
	}{{"c", testwasm.C, false}, {"go", testwasm.Go, true}} {
		t.Run(g.name, func(t *testing.T) {
			ctx := context.Background()
			tc := TypeConfig{Module: g.wasm(t, "counter")}
			require.NoError(t, tc.prepare())
			v, _, err := load(ctx, nil, tc, wasiGrants{}, true)
			require.NoError(t, err)
			defer v.retire(ctx)
			require.NotNil(t, v.snap, v.noSnapshot)
			require.Equal(t, g.mapped && runtime.GOOS == "linux", v.snap.mapped)
			img := v.snap.Memory

			// isSnapshot checks inst's memory against the snapshot, the Go
			// runtime's random state (reseeded by restore) aside.
			isSnapshot := func(inst *instance, what string) {
				t.Helper()
				mem, ok := inst.mod.Memory().Read(0, uint32(inst.memorySize()))
				require.True(t, ok)
				want := slices.Clone(img)
				got := slices.Clone(mem[:len(img)])
				if r := v.snap.goRand; r >= 0 {
					clear(want[r : r+goRandSize])
					clear(got[r : r+goRandSize])
				}
				require.True(t, bytes.Equal(want, got), "%s: its memory differs from the snapshot", what)
				require.True(t, allZero(mem[len(img):]), "%s: its memory past the snapshot is not zero", what)
			}
			// scribble writes every page of inst's memory and of a page it
			// grows by, as a hostile guest could.
			scribble := func(inst *instance) {
				t.Helper()
				mem := inst.mod.Memory()
				_, ok := mem.Grow(1)
				require.True(t, ok)
				for off := uint32(0); off < mem.Size(); off += uint32(pageSize) {
					require.True(t, mem.WriteUint64Le(off+8, 0xdeadbeefcafef00d))
				}
			}
			base := func(inst *instance) uintptr {
				mem, ok := inst.mod.Memory().Read(0, 1)
				require.True(t, ok)
				return uintptr(unsafe.Pointer(&mem[0]))
			}

			a, err := v.instantiate(ctx, io.Discard)
			require.NoError(t, err)
			isSnapshot(a, "the first instance")
			scribble(a)
			b, err := v.instantiate(ctx, io.Discard)
			require.NoError(t, err)
			isSnapshot(b, "an instance beside one that wrote everywhere")
			scribble(b)
			used := []uintptr{base(a), base(b)}
			a.close(ctx)
			b.close(ctx)

			c, err := v.instantiate(ctx, io.Discard)
			require.NoError(t, err)
			defer c.close(ctx)
			require.Contains(t, used, base(c), "the new instance should reuse a freed memory")
			isSnapshot(c, "an instance in a reused memory")
			// Growing past the slot moves a slot's memory to a region.
			mem := c.mod.Memory()
			_, ok := mem.Grow(32)
			require.True(t, ok)
			isSnapshot(c, "an instance grown by 2 MiB")
		})
	}
}
