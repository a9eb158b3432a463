package host_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// A guest that grows its memory a page per turn keeps its content across
// every growth and gets zero pages, up to the type's max_memory, where
// the failed grow is reported as memory_exhausted; the next message gets
// a fresh instance that can grow again.
func TestGuestGrowsMemoryToTheLimit(t *testing.T) {
	const maxMemory = 2 << 20
	typ := host.TypeConfig{Name: "grower", Module: testwasm.C(t, "hostile"), MaxMemory: maxMemory, TurnTimeout: 10 * time.Second}
	h := newHost(t, memstore.New(), typ)
	grown := 0
	var err error
	for range maxMemory / (64 << 10) { // more turns than pages: one must fail
		if _, err = call(t, h, "grower/a", "grow", nil); err != nil {
			break
		}
		grown++
	}
	require.ErrorIs(t, err, abi.ErrMemoryExhausted)
	assert.Greater(t, grown, 16, "pages grown before the limit")
	t.Logf("grew %d pages, then: %v", grown, err)
	assert.Equal(t, M{}, mustCall(t, h, "grower/a", "grow", nil), "a fresh instance grows again")
}

// The Rust SDK's allocator takes a guest's heap up to the type's
// max_memory: a reply of many times the memory's start fits below it,
// and an allocation past it fails cleanly, as memory_exhausted (Rust
// aborts, the instance traps near its limit); the next message gets a
// fresh instance.
func TestRustGuestGrowsItsHeapToTheLimit(t *testing.T) {
	const maxMemory = 4 << 20
	typ := host.TypeConfig{Name: "rust", Module: testwasm.Rust(t, "conformance"), MaxMemory: maxMemory, MaxMessage: maxMemory, TurnTimeout: 10 * time.Second}
	h := newHost(t, memstore.New(), typ)
	got := mustCall(t, h, "rust/a", "sized", M{"size": 1 << 20})
	require.Len(t, got["data"], 1<<20)
	_, err := call(t, h, "rust/a", "sized", M{"size": 3 << 20}) // the data and the reply's copy of it
	require.ErrorIs(t, err, abi.ErrMemoryExhausted)
	got = mustCall(t, h, "rust/a", "sized", M{"size": 1 << 20})
	require.Len(t, got["data"], 1<<20, "a fresh instance")
}
