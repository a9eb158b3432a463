package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage/memstore"
)

// The manifest package cannot import the host, so it repeats the host's
// and the scheduler's defaults; this test ties each copy to its source,
// and checks that a manifest that leaves every limit out gives the host
// what the host would choose by itself, for the host and for a type.
func TestManifestDefaultsAreTheHosts(t *testing.T) {
	assert.Equal(t, scheduler.DefaultMaxActivations, manifest.DefaultMaxActivations)
	assert.Equal(t, host.DefaultGuestMemoryPercent, manifest.DefaultGuestMemoryPercent)
	assert.Equal(t, scheduler.DefaultMailbox, manifest.DefaultMailbox)
	assert.Equal(t, scheduler.DefaultIdleTimeout, manifest.DefaultIdleTimeout)
	assert.EqualValues(t, host.DefaultMaxMessage, manifest.DefaultMaxMessage)
	assert.EqualValues(t, host.DefaultMaxMemory, manifest.DefaultMaxMemory)
	assert.Equal(t, host.DefaultTurnTimeout, manifest.DefaultTurnTimeout)
	assert.Equal(t, host.DefaultAskTimeout, manifest.DefaultAskTimeout)
	assert.Equal(t, host.DefaultRecordRetention, manifest.DefaultIdempotencyRetention)
	assert.Equal(t, cluster.DefaultLeaseTTL, manifest.DefaultLeaseTTL)
	assert.Equal(t, cluster.MinLeaseTTL, manifest.MinLeaseTTL)
	assert.Equal(t, cluster.MaxLeaseTTL, manifest.MaxLeaseTTL)
	assert.Equal(t, cluster.MaxNameLen, manifest.MaxClusterNameLen)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "counter.wasm"), []byte("\x00asm\x01\x00\x00\x00"))
	m, err := manifest.Parse([]byte("version: 1\nactors: [{type: counter, module: counter.wasm}]\n"), dir, "wactor.yaml")
	require.NoError(t, err)
	cfg := hostConfig(m, memstore.New(), "", nil)
	assert.Equal(t, scheduler.DefaultMaxActivations, cfg.MaxActivations)

	ctx := context.Background()
	budget := func(cfg host.Config) int64 {
		h, err := host.New(ctx, cfg)
		require.NoError(t, err)
		defer func() { require.NoError(t, h.Close(ctx)) }()
		_, b := h.GuestMemory()
		return b
	}
	fromManifest := budget(cfg)
	assert.Positive(t, fromManifest)
	assert.Equal(t, budget(host.Config{Store: memstore.New()}), fromManifest, "a manifest with no max_guest_memory gives the host's default budget")

	assert.EqualValues(t, host.TableEntryCost, manifest.TableEntryCost)
	assert.EqualValues(t, host.MaxTableEntriesLimit, manifest.MaxTableEntriesLimit)
	for _, mem := range []manifest.Size{manifest.WasmPageSize, manifest.MiB, manifest.DefaultMaxMemory, manifest.MaxMemoryLimit} {
		assert.EqualValues(t, host.DefaultMaxTableEntries(int64(mem)), manifest.DefaultMaxTableEntries(mem), "max_table_entries for max_memory %s", mem)
	}
	a := manifest.Actor{MaxMemory: manifest.DefaultMaxMemory, MaxTableEntries: manifest.DefaultMaxTableEntries(manifest.DefaultMaxMemory)}
	tc := typeConfig(a, nil)
	assert.Equal(t, host.DefaultMaxTableEntries(tc.MaxMemory), tc.MaxTableEntries, "typeConfig's max_table_entries")
}

// reentrant: call_chain in the manifest makes a reentrant host type.
func TestTypeConfigReentrant(t *testing.T) {
	assert.True(t, typeConfig(manifest.Actor{Reentrant: manifest.ReentrantCallChain}, nil).Reentrant)
	assert.False(t, typeConfig(manifest.Actor{}, nil).Reentrant)
}
