package host_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testlog"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// snapshotHost starts a host with the hostile Go guest deployed, its
// configuration changed by edit (when not nil), and returns it with its
// log.
func snapshotHost(t *testing.T, edit func(*host.TypeConfig)) (*host.Host, *testlog.Buffer) {
	t.Helper()
	ctx := context.Background()
	logs := &testlog.Buffer{}
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(t),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { closeHost(t, h) })
	tc := goType(t, "hostile")
	if edit != nil {
		edit(&tc)
	}
	require.NoError(t, h.Deploy(ctx, tc))
	require.NoError(t, h.Start(ctx))
	return h, logs
}

// askInts asks ref and returns its reply's integers.
func askInts(t *testing.T, h *host.Host, ref, method string, payload any) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for k, v := range mustCall(t, h, ref, method, payload) {
		switch n := v.(type) {
		case uint64:
			out[k] = int64(n)
		case int64:
			out[k] = n
		}
	}
	return out
}

// TestSnapshotActivationsIsolated shows that activations started from
// the module's snapshot are as separate as freshly initialised ones: a
// write to memory in one is not seen in another, an instance rebuilt after
// a trap starts again from the snapshot while the state comes from the
// store, and each has its own random numbers.
func TestSnapshotActivationsIsolated(t *testing.T) {
	h, logs := snapshotHost(t, nil)
	assert.NotContains(t, logs.String(), "run _initialize", "the hostile guest should start from a snapshot")

	assert.Equal(t, int64(1), askInts(t, h, "hostile/a", "bump", nil)["n"])
	assert.Equal(t, int64(2), askInts(t, h, "hostile/a", "bump", nil)["n"])
	assert.Equal(t, int64(1), askInts(t, h, "hostile/b", "bump", nil)["n"], "b sees a's writes to memory")

	askInts(t, h, "hostile/a", "write", map[string]any{"key": "k", "value": 7})
	_, err := h.Ask(context.Background(), abi.Ref{Type: "hostile", ID: "a"}, "panic", nil)
	require.ErrorIs(t, err, abi.ErrTrapped)
	assert.Equal(t, int64(1), askInts(t, h, "hostile/a", "bump", nil)["n"], "the instance after the trap does not start from a fresh snapshot")
	assert.Equal(t, map[string]int64{"value": 7}, askInts(t, h, "hostile/a", "read", map[string]any{"key": "k"}))

	seen := map[int64]string{}
	for i := range 8 {
		id := "hostile/r" + strconv.Itoa(i)
		n := askInts(t, h, id, "random", nil)["n"]
		require.NotContains(t, seen, n, "%s drew the same random number as %s", id, seen[n])
		seen[n] = id
	}
}

// TestSnapshotClockIsCurrent shows that a guest started from a snapshot
// taken earlier reads the current time, not the snapshot's.
func TestSnapshotClockIsCurrent(t *testing.T) {
	h, _ := snapshotHost(t, nil)
	time.Sleep(20 * time.Millisecond) // the snapshot's clock readings are now stale
	before := time.Now().UnixNano()
	n := askInts(t, h, "hostile/a", "now", nil)["n"]
	after := time.Now().UnixNano()
	assert.GreaterOrEqual(t, n, before)
	assert.LessOrEqual(t, n, after)
}

// TestSnapshotRefused shows that a module whose _initialize does what a
// snapshot cannot keep is instantiated as before, with the reason logged,
// and runs _initialize in each activation.
func TestSnapshotRefused(t *testing.T) {
	for _, tc := range []struct{ init, reason string }{
		{"clock", "_initialize read the wall clock"},
		{"print", "_initialize wrote to standard error"},
		{"folder", "the type is granted folders"},
	} {
		t.Run(tc.init, func(t *testing.T) {
			h, logs := snapshotHost(t, func(c *host.TypeConfig) {
				if tc.init == "folder" {
					c.Dirs = []host.DirGrant{{HostPath: t.TempDir(), GuestPath: "/data"}}
				} else {
					c.Env = map[string]string{"HOSTILE_INIT": tc.init}
				}
			})
			assert.Contains(t, logs.String(), tc.reason)
			time.Sleep(20 * time.Millisecond)
			asked := time.Now()
			reply := askInts(t, h, "hostile/a", "now", nil)
			if tc.init == "clock" {
				// initialised in this activation, not when deployed
				assert.LessOrEqual(t, reply["since_init"], int64(time.Since(asked)))
			}
			assert.Equal(t, int64(1), askInts(t, h, "hostile/a", "bump", nil)["n"])
			assert.Equal(t, int64(1), askInts(t, h, "hostile/b", "bump", nil)["n"])
		})
	}
}
