package host_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// hasherHost deploys the hasher example twice: as an ordinary actor type
// ("hash-actor") and as a stateless worker of up to workers instances
// ("hash-pool").
func hasherHost(tb testing.TB, workers int) *host.Host {
	tb.Helper()
	ctx := context.Background()
	h := memHost(tb)
	wasm := testwasm.Go(tb, "hasher")
	require.NoError(tb, h.Deploy(ctx, host.TypeConfig{Name: "hash-actor", Module: wasm}))
	require.NoError(tb, h.Deploy(ctx, host.TypeConfig{Name: "hash-pool", Module: wasm, StatelessWorker: workers}))
	return h
}

func digestPayload(tb testing.TB, data []byte, rounds int) []byte {
	tb.Helper()
	p, err := cbor.Marshal(map[string]any{"data": data, "rounds": rounds})
	require.NoError(tb, err)
	return p
}

// memHost is a host on a memory store, closed when the test ends.
func memHost(tb testing.TB) *host.Host {
	tb.Helper()
	h, err := host.New(context.Background(), host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(tb)})
	require.NoError(tb, err)
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func TestStatelessWorkerDeployLimit(t *testing.T) {
	ctx := context.Background()
	h := memHost(t)
	err := h.Deploy(ctx, host.TypeConfig{Name: "p", Module: testwasm.Go(t, "hasher"), StatelessWorker: 5000})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stateless worker max_local 5000 must be from 1 to 1024")
}

// The instances of a stateless worker answer concurrent asks to one actor
// correctly, and start no more than max_local.
func TestStatelessWorkerAnswersConcurrently(t *testing.T) {
	h := hasherHost(t, 3)
	ref := abi.Ref{Type: "hash-pool", ID: "x"}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	peak := 0
	var mu sync.Mutex
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := []byte{byte(i)}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			reply, err := h.Ask(ctx, ref, "digest", digestPayload(t, data, 3))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			peak = max(peak, len(h.Activations()))
			mu.Unlock()
			var got struct {
				SHA256 []byte `cbor:"sha256"`
			}
			if err := cbor.Unmarshal(reply, &got); err != nil {
				errs <- err
				return
			}
			want := sha256.Sum256(data)
			want = sha256.Sum256(want[:])
			want = sha256.Sum256(want[:])
			if !bytes.Equal(got.SHA256, want[:]) {
				errs <- assert.AnError
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(h.Activations()), 3, "at most max_local instances")
	assert.LessOrEqual(t, peak, 3)
}

// BenchmarkStatelessWorker measures a CPU-bound handler (the hasher
// example, 2,000 SHA-256 rounds a message) under concurrent asks to one
// actor id: as an ordinary actor, one turn at a time, and as a stateless
// worker with GOMAXPROCS instances. Each iteration sends the same batch to
// both in turn, and to GOMAXPROCS distinct ordinary actors, whose time is
// the ceiling: what the machine lets this process run in parallel at that
// moment. The speedup metric is the actor's time over the worker's; the
// ceiling metric the actor's time over the distinct actors'.
func BenchmarkStatelessWorker(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	h := hasherHost(b, procs)
	ctx := context.Background()
	payload := digestPayload(b, []byte("wactor"), 2000)
	const batch = 32
	// run sends the batch from 2*procs goroutines to typ, to ids actors
	// of it, and returns the wall and processor time it took.
	run := func(typ string, ids int) (wall, cpu time.Duration) {
		start, cpu0 := time.Now(), cpuTime()
		var wg sync.WaitGroup
		for w := 0; w < 2*procs; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ref := abi.Ref{Type: typ, ID: "x" + strconv.Itoa(w%ids)}
				for i := w; i < batch; i += 2 * procs {
					if _, err := h.Ask(ctx, ref, "digest", payload); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), cpuTime() - cpu0
	}
	// Start every instance before measuring.
	run("hash-actor", procs)
	run("hash-pool", 1)
	var actor, pool, spread, actorCPU, poolCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c := run("hash-actor", 1)
		actor, actorCPU = actor+w, actorCPU+c
		w, c = run("hash-pool", 1)
		pool, poolCPU = pool+w, poolCPU+c
		w, _ = run("hash-actor", procs)
		spread += w
	}
	b.StopTimer()
	n := float64(b.N * batch)
	b.ReportMetric(n/actor.Seconds(), "actor-asks/s")
	b.ReportMetric(n/pool.Seconds(), "stateless-asks/s")
	b.ReportMetric(actor.Seconds()/pool.Seconds(), "speedup")
	b.ReportMetric(actor.Seconds()/spread.Seconds(), "ceiling")
	if actorCPU > 0 {
		// The cores each kept busy.
		b.ReportMetric(actorCPU.Seconds()/actor.Seconds(), "actor-cores-used")
		b.ReportMetric(poolCPU.Seconds()/pool.Seconds(), "stateless-cores-used")
	}
}
