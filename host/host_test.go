package host_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
			goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators")); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// newHost starts a host on store with the given types deployed.
func newHost(t testing.TB, store storage.Store, types ...host.TypeConfig) *host.Host {
	t.Helper()
	return newHostConfig(t, host.Config{Store: store}, types...)
}

// newHostConfig is newHost with more of the configuration; it sets the
// compile cache and the logger.
func newHostConfig(t testing.TB, cfg host.Config, types ...host.TypeConfig) *host.Host {
	t.Helper()
	ctx := context.Background()
	cfg.CacheDir = testwasm.CacheDir(t)
	cfg.Logger = slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := host.New(ctx, cfg)
	require.NoError(t, err)
	for _, tc := range types {
		require.NoError(t, h.Deploy(ctx, tc))
	}
	require.NoError(t, h.Start(ctx))
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { closeHost(t, h) }) })
	return h
}

func closeHost(t testing.TB, h *host.Host) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assert.NoError(t, h.Close(ctx))
}

func goType(t testing.TB, name string) host.TypeConfig {
	return host.TypeConfig{Name: name, Module: testwasm.Go(t, name), Source: name + ".wasm"}
}

func cborOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	require.NoError(t, err)
	return b
}

// call asks and decodes the reply into a generic map.
func call(t testing.TB, h *host.Host, ref, method string, payload any) (map[string]any, error) {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	var body []byte
	if payload != nil {
		body = cborOf(t, payload)
	}
	reply, err := h.Ask(context.Background(), r, method, body)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	require.NoError(t, cbor.Unmarshal(reply, &out), "reply %x", reply)
	return out, nil
}

func mustCall(t testing.TB, h *host.Host, ref, method string, payload any) map[string]any {
	t.Helper()
	out, err := call(t, h, ref, method, payload)
	require.NoError(t, err)
	return out
}

type M = map[string]any

func TestExamplesAnswer(t *testing.T) {
	h := newHost(t, memstore.New(), goType(t, "counter"), goType(t, "greeter"), goType(t, "pingpong"),
		host.TypeConfig{Name: "counter-c", Module: testwasm.C(t, "counter"), Source: "counter-c.wasm"},
		host.TypeConfig{Name: "counter-rust", Module: testwasm.Rust(t, "counter"), Source: "counter-rust.wasm"},
		host.TypeConfig{Name: "counter-as", Module: testwasm.AS(t, "counter"), Source: "counter-as.wasm"},
		host.TypeConfig{Name: "pingpong-c", Module: testwasm.C(t, "pingpong")},
		host.TypeConfig{Name: "pingpong-rust", Module: testwasm.Rust(t, "pingpong")},
		host.TypeConfig{Name: "pingpong-as", Module: testwasm.AS(t, "pingpong")})

	for _, typ := range []string{"counter", "counter-c", "counter-rust", "counter-as"} {
		t.Run(typ, func(t *testing.T) {
			assert.EqualValues(t, M{"n": uint64(7)}, mustCall(t, h, typ+"/a", "add", M{"n": 7}))
			assert.EqualValues(t, M{"n": uint64(14)}, mustCall(t, h, typ+"/a", "add", M{"n": 7}))
			assert.EqualValues(t, M{"n": uint64(14)}, mustCall(t, h, typ+"/a", "get", nil))
			assert.EqualValues(t, M{"n": uint64(0)}, mustCall(t, h, typ+"/other", "get", nil))
			_, err := call(t, h, typ+"/a", "add", M{"m": 1})
			assert.ErrorIs(t, err, abi.ErrBadRequest)
			_, err = call(t, h, typ+"/a", "nope", nil)
			assert.ErrorIs(t, err, abi.ErrUnknownMethod)
		})
	}
	assert.Equal(t, M{"greeting": "Hello, Ada!"}, mustCall(t, h, "greeter/g", "hello", M{"name": "Ada"}))
	assert.EqualValues(t, M{"pongs": uint64(5)}, mustCall(t, h, "pingpong/a", "ping", M{"peer": "pingpong/b", "count": 5}))
	// Ping-pong across languages: Go -> Rust -> AssemblyScript -> C -> Go.
	for from, to := range map[string]string{"pingpong": "pingpong-rust", "pingpong-rust": "pingpong-as", "pingpong-as": "pingpong-c", "pingpong-c": "pingpong"} {
		assert.EqualValues(t, M{"pongs": uint64(3)}, mustCall(t, h, from+"/x", "ping", M{"peer": to + "/y", "count": 3}), "%s pings %s", from, to)
	}

	_, err := call(t, h, "nosuch/a", "get", nil)
	assert.ErrorIs(t, err, abi.ErrUnknownType)
}

func TestTellIsDeliveredAfterCommit(t *testing.T) {
	store := memstore.New()
	h := newHost(t, store, goType(t, "hostile"))
	mustCall(t, h, "hostile/a", "tell", M{"to": "hostile/b", "method": "write", "payload": M{"key": "k", "value": 42}})
	require.Eventually(t, func() bool {
		out := mustCall(t, h, "hostile/b", "read", M{"key": "k"})
		return out["value"] == uint64(42)
	}, 10*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		msgs, err := store.Outbox(context.Background())
		require.NoError(t, err)
		return len(msgs) == 0
	}, 10*time.Second, 5*time.Millisecond, "the receiver's commit consumes the outbox entry")

	// An external tell is durable before it returns.
	require.NoError(t, h.Tell(context.Background(), abi.Ref{Type: "hostile", ID: "c"}, "write", cborOf(t, M{"key": "k", "value": 1})))
	require.Eventually(t, func() bool {
		return mustCall(t, h, "hostile/c", "read", M{"key": "k"})["value"] == uint64(1)
	}, 10*time.Second, 5*time.Millisecond)
}

// A failed turn commits no state and sends nothing, whether the actor
// refused or broke; the actor keeps working afterwards.
func TestFailedTurnCommitsNothing(t *testing.T) {
	store := memstore.New()
	hostile := goType(t, "hostile")
	hostile.TurnTimeout = time.Second
	hostile.MaxMemory = 32 << 20
	// A Go guest that runs out of memory first fights for it with its
	// garbage collector, which takes seconds under the race detector: give
	// it time, so it fails for its own reason, not the turn limit.
	patient := hostile
	patient.Name = "hostile-patient"
	patient.TurnTimeout = time.Minute
	h := newHost(t, store, hostile, patient, goType(t, "counter"))
	tests := []struct {
		typ, method string
		code        *abi.Error
	}{
		{"hostile", "fail_after_write", &abi.Error{Code: "refused"}},
		{"hostile", "panic", abi.ErrTrapped},
		{"hostile", "spin", abi.ErrTurnTimeout},
		{"hostile-patient", "oom", abi.ErrMemoryExhausted},
		{"hostile", "recurse", abi.ErrTrapped},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			ref := tt.typ + "/" + tt.method
			done := make(chan struct{})
			go func() { // another actor keeps answering meanwhile
				defer close(done)
				mustCall(t, h, "counter/"+tt.method, "add", M{"n": 1})
			}()
			_, err := call(t, h, ref, tt.method, nil)
			require.ErrorIs(t, err, tt.code)
			t.Log(err)
			<-done

			snap, err := store.Load(context.Background(), ref)
			require.NoError(t, err)
			assert.Empty(t, snap.State, "state of the failed turn")
			msgs, err := store.Outbox(context.Background())
			require.NoError(t, err)
			assert.Empty(t, msgs, "tells of the failed turn")
			// The actor works again, with a fresh instance where it broke.
			mustCall(t, h, ref, "write", M{"key": "after", "value": 1})
			assert.Equal(t, M{"value": uint64(1)}, mustCall(t, h, ref, "read", M{"key": "after"}))
		})
	}
}

func TestStateSurvivesDeactivation(t *testing.T) {
	h := newHost(t, memstore.New(), goType(t, "counter"), goType(t, "hostile"))
	mustCall(t, h, "counter/a", "add", M{"n": 5})
	mustCall(t, h, "hostile/a", "write", M{"key": "k", "value": "v"})
	mustCall(t, h, "hostile/a", "deactivate", nil)
	require.Eventually(t, func() bool {
		for _, r := range h.Activations() {
			if r.String() == "hostile/a" {
				return false
			}
		}
		return true
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, M{"value": "v"}, mustCall(t, h, "hostile/a", "read", M{"key": "k"}))
}

func TestStateSurvivesRestartWithBadger(t *testing.T) {
	dir := t.TempDir()
	open := func() *badgerstore.Store {
		s, err := badgerstore.Open(dir, badgerstore.DefaultOptions())
		require.NoError(t, err)
		return s
	}
	store := open()
	h := newHost(t, store, goType(t, "counter"))
	mustCall(t, h, "counter/a", "add", M{"n": 7})
	mustCall(t, h, "counter/a", "add", M{"n": 7})
	closeHost(t, h)
	require.NoError(t, store.Close())

	store = open()
	defer store.Close()
	h = newHost(t, store, goType(t, "counter"))
	assert.EqualValues(t, M{"n": uint64(14)}, mustCall(t, h, "counter/a", "get", nil))
	closeHost(t, h)
}

func TestAskCycleFailsWithDeadlock(t *testing.T) {
	h := newHost(t, memstore.New(), goType(t, "hostile"), goType(t, "pingpong"))
	start := time.Now()
	_, err := call(t, h, "pingpong/a", "ping", M{"peer": "pingpong/a", "count": 1})
	require.ErrorIs(t, err, abi.ErrDeadlock)
	assert.Contains(t, err.Error(), "pingpong/a -> pingpong/a")

	_, err = call(t, h, "hostile/a", "ask", M{"to": "hostile/b", "method": "ask",
		"payload": M{"to": "hostile/a", "method": "read", "payload": M{"key": "k"}}})
	require.ErrorIs(t, err, abi.ErrDeadlock)
	assert.Contains(t, err.Error(), "hostile/b -> hostile/a -> hostile/b")
	assert.Less(t, time.Since(start), 3*time.Second, "cycles fail fast, not by timeout")
}

func TestMailboxFullUnderFlood(t *testing.T) {
	hostile := goType(t, "hostile")
	hostile.Mailbox = 4
	hostile.TurnTimeout = time.Second
	h := newHost(t, memstore.New(), hostile)
	busy := make(chan error, 1)
	go func() { _, err := call(t, h, "hostile/a", "spin", nil); busy <- err }()
	require.Eventually(t, func() bool { return len(h.Activations()) == 1 }, 5*time.Second, time.Millisecond)

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := call(t, h, "hostile/a", "read", M{"key": "k"})
			code := "ok"
			if e, ok := err.(*abi.Error); ok {
				code = e.Code
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.ErrorIs(t, <-busy, abi.ErrTurnTimeout)
	assert.Greater(t, codes[abi.CodeMailboxFull], 0, "codes: %v", codes)
	assert.LessOrEqual(t, codes["ok"], 4+1, "at most a mailbox's worth got through: %v", codes)
}

func TestDeployRefusesBrokenModules(t *testing.T) {
	h := newHost(t, memstore.New())
	ctx := context.Background()
	tests := []struct {
		name   string
		module []byte
		want   string
	}{
		{"garbage", []byte("not wasm at all"), "not a module this host can run: meter: not a WebAssembly module"},
		// (module (memory (export "memory") 1))
		{"no exports", []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01\x07\x0a\x01\x06memory\x02\x00"), "missing export wactor_handle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Deploy(ctx, host.TypeConfig{Name: "broken", Module: tt.module, Source: "broken.wasm"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "broken.wasm")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	info, err := host.Inspect(ctx, host.TypeConfig{Module: testwasm.C(t, "counter")})
	require.NoError(t, err)
	assert.Equal(t, abi.Version, info.ABIVersion)
	assert.Empty(t, info.Problems)
	assert.Contains(t, info.Imports, "wactor.state_get: (i32, i32) -> (i64)")
}

// A module whose start-up never ends is refused at deploy, once the
// type's turn limit has passed, instead of hanging the host.
func TestEndlessStartIsRefused(t *testing.T) {
	h := newHost(t, memstore.New())
	err := h.Deploy(context.Background(), host.TypeConfig{
		Name: "spinstart", Module: testwasm.C(t, "spinstart"), Source: "spinstart.wasm", TurnTimeout: 300 * time.Millisecond,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "_initialize ran past the limit of 300ms")
	t.Log(err)
}

func TestLiveRedeployKeepsState(t *testing.T) {
	h := newHost(t, memstore.New(), goType(t, "counter"))
	mustCall(t, h, "counter/a", "add", M{"n": 3})
	// Deploy the C counter under the same type: same contract, same state.
	require.NoError(t, h.Deploy(context.Background(), host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}))
	assert.EqualValues(t, M{"n": uint64(5)}, mustCall(t, h, "counter/a", "add", M{"n": 2}))
}

func TestIdempotencyKey(t *testing.T) {
	store := memstore.New()
	h := newHost(t, store, goType(t, "counter"))
	ctx := context.Background()
	ref := abi.Ref{Type: "counter", ID: "idem"}
	add := cborOf(t, M{"n": 5})
	first, err := h.Ask(ctx, ref, "add", add, host.IdempotencyKey("req-1"))
	require.NoError(t, err)
	again, err := h.Ask(ctx, ref, "add", add, host.IdempotencyKey("req-1"))
	require.NoError(t, err)
	assert.Equal(t, first, again, "a retry gets the recorded reply")
	assert.EqualValues(t, M{"n": uint64(5)}, mustCall(t, h, "counter/idem", "get", nil), "applied once")

	// Concurrent duplicates of a new key: still applied once.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Ask(ctx, ref, "add", add, host.IdempotencyKey("req-2"))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	// Tells with a key, sent twice: applied once.
	require.NoError(t, h.Tell(ctx, ref, "add", add, host.IdempotencyKey("tell-1")))
	require.NoError(t, h.Tell(ctx, ref, "add", add, host.IdempotencyKey("tell-1")))
	require.Eventually(t, func() bool {
		msgs, err := store.Outbox(ctx)
		require.NoError(t, err)
		return len(msgs) == 0
	}, 10*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, M{"n": uint64(15)}, mustCall(t, h, "counter/idem", "get", nil))

	_, err = h.Ask(ctx, ref, "add", add, host.IdempotencyKey("has space"))
	assert.ErrorIs(t, err, abi.ErrBadRequest)
}

func TestBankTransferMovesMoneyOnce(t *testing.T) {
	bank := goType(t, "bank")
	bank.Name = "account"
	h := newHost(t, memstore.New(), bank)
	assert.EqualValues(t, M{"balance": uint64(100)}, mustCall(t, h, "account/a", "deposit", M{"amount": 100}))
	assert.EqualValues(t, M{"balance": uint64(60)}, mustCall(t, h, "account/a", "transfer", M{"to": "b", "amount": 40}))
	_, err := call(t, h, "account/a", "transfer", M{"to": "b", "amount": 61})
	var e *abi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "insufficient_funds", e.Code)
	require.Eventually(t, func() bool {
		return mustCall(t, h, "account/b", "balance", nil)["balance"] == uint64(40)
	}, 10*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, M{"balance": uint64(60), "sent": uint64(1), "received": uint64(0)}, mustCall(t, h, "account/a", "balance", nil))
	assert.EqualValues(t, M{"balance": uint64(40), "sent": uint64(0), "received": uint64(1)}, mustCall(t, h, "account/b", "balance", nil))
}

// With deterministic dispatch, wasm turns run only when the test drives
// the host: tells wait until RunUntilIdle, an ask runs its target's turns
// (queued tells first), and nested asks between guests run nested.
func TestDeterministicHost(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h, err := host.New(ctx, host.Config{
		Store:         store,
		CacheDir:      testwasm.CacheDir(t),
		Dispatch:      scheduler.Dispatch{Deterministic: true},
		SweepInterval: -1,
	})
	require.NoError(t, err)
	t.Cleanup(func() { closeHost(t, h) })
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")}))
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "conf", Module: testwasm.C(t, "conformance")}))
	require.NoError(t, h.Start(ctx))

	ref := abi.Ref{Type: "counter", ID: "d"}
	for range 5 {
		require.NoError(t, h.Tell(ctx, ref, "add", cborOf(t, M{"n": 3})))
	}
	snap, err := store.Load(ctx, "counter/d")
	require.NoError(t, err)
	assert.Empty(t, snap.State, "nothing runs until the host is driven")
	assert.Equal(t, 5, h.RunUntilIdle())
	assert.EqualValues(t, M{"n": uint64(15)}, mustCall(t, h, "counter/d", "get", nil))

	require.NoError(t, h.Tell(ctx, ref, "add", cborOf(t, M{"n": 1})))
	assert.EqualValues(t, M{"n": uint64(16)}, mustCall(t, h, "counter/d", "get", nil), "the ask ran the queued tell first")

	// conf/a asks counter/d inside its turn: the ask runs counter/d's turn
	// nested, on this goroutine.
	reply := mustCall(t, h, "conf/a", "ask", M{"to": "counter/d", "method": "get"})
	assert.EqualValues(t, map[any]any{"n": uint64(16)}, reply["reply"])
	_, err = call(t, h, "conf/self", "ask", M{"to": "conf/self", "method": "echo"})
	require.ErrorIs(t, err, abi.ErrDeadlock)
}
