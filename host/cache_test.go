package host_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testlog"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// A damaged compile cache entry is discarded with a warning and its module
// compiled again: the host starts as if the cache were empty. Every file of
// the cache folder is damaged, the way each case says.
func TestDamagedCompileCache(t *testing.T) {
	// C modules: wazero compiles them in milliseconds, even with -race.
	types := []host.TypeConfig{
		{Name: "counter", Module: testwasm.C(t, "counter")},
		{Name: "pingpong", Module: testwasm.C(t, "pingpong")},
	}
	for name, damage := range map[string]func(b []byte) []byte{
		"truncated":  func(b []byte) []byte { return b[:len(b)/2] },
		"emptied":    func(b []byte) []byte { return nil },
		"code bit":   func(b []byte) []byte { b[len(b)*3/4] ^= 0x10; return b }, // wazero: checksum mismatch
		"offset bit": func(b []byte) []byte { b[len(b)/8] ^= 0x01; return b },
		"version":    func(b []byte) []byte { b[7] ^= 0x20; return b },        // the first letter of wazero's version
		"last byte":  func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, // before: out of memory, the process dies
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			start := func() (*host.Host, *testlog.Buffer) {
				var log testlog.Buffer
				h, err := host.New(context.Background(), host.Config{
					Store:    memstore.New(),
					CacheDir: dir,
					Logger:   slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn})),
				})
				require.NoError(t, err)
				t.Cleanup(func() { closeHost(t, h) })
				for _, tc := range types {
					require.NoError(t, h.Deploy(context.Background(), tc), "deploy %s (log: %s)", tc.Name, log.String())
				}
				return h, &log
			}
			h, log := start()
			closeHost(t, h)
			assert.Empty(t, log.String())

			damaged := 0
			require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				damaged++
				return os.WriteFile(p, damage(b), 0o600)
			}))
			require.GreaterOrEqual(t, damaged, len(types), "an entry (and a seal) per module")

			h, log = start()
			assert.Equal(t, M{"n": uint64(2)}, mustCall(t, h, "counter/a", "add", M{"n": 2}))
			assert.Contains(t, log.String(), "level=WARN msg=\"discarded a compile cache entry")
			assert.GreaterOrEqual(t, strings.Count(log.String(), "discarded a compile cache entry"), len(types))
			closeHost(t, h)

			// Compiled again and sealed: the next start finds nothing wrong.
			_, log = start()
			assert.Empty(t, log.String())
		})
	}
}

// Types deployed at the same time into one cache folder all load, the
// first time each a miss that writes and seals an entry, the next time
// (another host on the folder) each a hit; InspectCache counts the
// entries and CleanCache deletes them with their seals, after which a
// host compiles again.
func TestConcurrentDeployAndCacheClean(t *testing.T) {
	ctx := context.Background()
	names := []string{"counter", "pingpong", "greeter", "conformance"}
	dir := t.TempDir()
	deployAll := func() []host.DeployStats {
		h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: dir})
		require.NoError(t, err)
		defer closeHost(t, h)
		stats := make([]host.DeployStats, len(names))
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				stats[i], errs[i] = h.DeployReport(ctx, host.TypeConfig{Name: name, Module: testwasm.C(t, name)})
			})
		}
		wg.Wait()
		for i := range names {
			require.NoError(t, errs[i], names[i])
		}
		require.Len(t, h.Types(), len(names))
		return stats
	}
	for i, s := range deployAll() {
		assert.False(t, s.CacheHit, "%s: the first deploy into an empty folder", names[i])
	}
	for i, s := range deployAll() {
		assert.True(t, s.CacheHit, "%s: the second deploy finds what the first wrote", names[i])
	}
	u, err := host.InspectCache(dir)
	require.NoError(t, err)
	assert.Equal(t, len(names), u.Entries)
	assert.Positive(t, u.Bytes)
	seals, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*.wactor-seal"))
	assert.Len(t, seals, len(names), "each entry sealed")

	other := filepath.Join(dir, "keep.txt")
	require.NoError(t, os.WriteFile(other, []byte("not the cache's"), 0o600))
	cleaned, err := host.CleanCache(dir)
	require.NoError(t, err)
	assert.Equal(t, u, cleaned, "clean deletes what inspect counted")
	left, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*"))
	assert.Empty(t, left, "entries and seals deleted")
	assert.FileExists(t, other, "files the cache did not write stay")
	u, err = host.InspectCache(dir)
	require.NoError(t, err)
	assert.Zero(t, u)
	for i, s := range deployAll() {
		assert.False(t, s.CacheHit, "%s: compiled again after clean", names[i])
	}
}

// Types of one module deployed at once by a host that finds the module
// in its cache's folder (a restart) all start, each as many times as it
// is tried: the compiles of one module's bytes take turns (see
// compileLocks), where wazero would hand the later ones a module not yet
// ready to call. Without the turns, 8 deploys at once panicked within a
// few rounds (without -race; with it each round is slower, so 3 are run).
func TestOneModuleDeployedAtOnceFromCache(t *testing.T) {
	module := testwasm.Go(t, "counter") // many function types: slow to make ready
	dir := t.TempDir()
	start := func() *host.Host {
		h, err := host.New(context.Background(), host.Config{Store: memstore.New(), CacheDir: dir})
		require.NoError(t, err)
		return h
	}
	h := start()
	require.NoError(t, h.Deploy(context.Background(), host.TypeConfig{Name: "warm", Module: module}))
	closeHost(t, h)
	for round := range 3 {
		h := start()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				errs[i] = h.Deploy(context.Background(), host.TypeConfig{Name: fmt.Sprintf("counter%d", i), Module: module})
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, type %d", round, i)
			assert.Equal(t, M{"n": uint64(1)}, mustCall(t, h, fmt.Sprintf("counter%d/a", i), "add", M{"n": 1}))
		}
		closeHost(t, h)
	}
}
