package host_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testlog"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// snapshotHost starts a host with the hostile Go guest deployed, its
// _initialize told what to do by env, and returns it with its log.
func snapshotHost(t *testing.T, env map[string]string) (*host.Host, *testlog.Buffer) {
	t.Helper()
	ctx := context.Background()
	logs := &testlog.Buffer{}
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(t),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { closeHost(t, h) })
	tc := goType(t, "hostile")
	tc.Env = env
	require.NoError(t, h.Deploy(ctx, tc))
	require.NoError(t, h.Start(ctx))
	return h, logs
}

// askInts asks ref and decodes its reply's integers.
func askInts(t *testing.T, h *host.Host, ref, method string, payload any) map[string]int64 {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	var p []byte
	if payload != nil {
		p = cborOf(t, payload)
	}
	reply, err := h.Ask(context.Background(), r, method, p)
	require.NoError(t, err)
	var out map[string]int64
	require.NoError(t, cbor.Unmarshal(reply, &out))
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
		{"clock", "read the wall clock"},
		{"print", "wrote to standard error"},
	} {
		t.Run(tc.init, func(t *testing.T) {
			h, logs := snapshotHost(t, map[string]string{"HOSTILE_INIT": tc.init})
			assert.Contains(t, logs.String(), "_initialize "+tc.reason)
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
