package host_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage/memstore"
)

// hostileImports are the host functions of ABI v1, each of which must
// refuse an argument outside guest memory.
var hostileImports = []string{
	abi.ImportTell, abi.ImportAsk, abi.ImportStateGet, abi.ImportStateSet, abi.ImportStateDelete,
	abi.ImportSelf, abi.ImportLog, abi.ImportDeactivate, abi.ImportTimerSet, abi.ImportTimerCancel,
	abi.ImportReminderSet, abi.ImportReminderCancel, abi.ImportResult,
}

// hostileDecoders are the host functions that decode a CBOR argument.
var hostileDecoders = []string{
	abi.ImportTell, abi.ImportAsk, abi.ImportStateGet, abi.ImportStateSet, abi.ImportStateDelete,
	abi.ImportLog, abi.ImportTimerSet, abi.ImportTimerCancel, abi.ImportReminderSet, abi.ImportReminderCancel,
}

// TestHostileSuite runs every attack of the hostile actors (Go:
// examples/wasm/hostile; C, against the raw ABI: examples/wasm/c/hostile).
// Each fails with its code from the table in docs/design.md, commits nothing of
// its turn (no state, no tells), and a counter answers meanwhile; the
// attacker answers again afterwards.
func TestHostileSuite(t *testing.T) {
	store := memstore.New()
	hostile := goType(t, "hostile")
	hostile.TurnTimeout = 2 * time.Second
	hostileC := host.TypeConfig{Name: "hostile-c", Module: testwasm.C(t, "hostile"), Source: "hostile-c.wasm", TurnTimeout: 2 * time.Second}
	h := newHost(t, store, hostile, hostileC, goType(t, "counter"))

	type attack struct {
		name, typ, method string
		payload           any
		code              *abi.Error
	}
	attacks := []attack{
		{"unreachable", "hostile", "unreachable", nil, abi.ErrTrapped},
		{"unreachable-c", "hostile-c", "unreachable", nil, abi.ErrTrapped},
		{"fill_forever", "hostile-c", "fill_forever", nil, abi.ErrTurnTimeout},
		{"huge_reply", "hostile", "huge_reply", M{"size": 2 << 20}, abi.ErrTooLarge},
		{"ask_self", "hostile", "ask_self", nil, abi.ErrDeadlock},
		{"ask_cycle", "hostile", "ask_cycle", M{"peer": "hostile/ask_cycle-peer"}, abi.ErrDeadlock},
		{"tell_flood", "hostile", "tell_flood", M{"count": 10001}, abi.ErrTooLarge},
		{"state_bomb", "hostile", "state_bomb", M{"keys": 1000, "size": 2 << 20}, abi.ErrTooLarge},
		{"state_bomb-just-over", "hostile", "state_bomb", M{"keys": 10, "size": host.DefaultMaxMessage + 1}, abi.ErrTooLarge},
		{"bad_reply_pointer", "hostile-c", "bad_reply_pointer", nil, abi.ErrBadReply},
		{"bad_reply_cbor", "hostile-c", "bad_reply_cbor", nil, abi.ErrBadReply},
	}
	for _, imp := range hostileImports {
		attacks = append(attacks, attack{"bad_pointer-" + imp, "hostile-c", "bad_pointer", imp, abi.ErrBadReply})
	}
	for _, imp := range hostileDecoders {
		attacks = append(attacks, attack{"bad_cbor-" + imp, "hostile-c", "bad_cbor", imp, abi.ErrBadReply})
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			ref := at.typ + "/" + at.name
			done := make(chan struct{})
			go func() { // another actor keeps answering meanwhile
				defer close(done)
				mustCall(t, h, "counter/"+at.name, "add", M{"n": 1})
			}()
			_, err := call(t, h, ref, at.method, at.payload)
			require.ErrorIs(t, err, at.code)
			t.Log(err)
			<-done

			ctx := context.Background()
			snap, err := store.Load(ctx, ref)
			require.NoError(t, err)
			assert.Empty(t, snap.State, "state of the failed turn")
			msgs, err := store.Outbox(ctx)
			require.NoError(t, err)
			assert.Empty(t, msgs, "tells of the failed turn")
			// The attacker answers again, with a fresh instance where it broke.
			if at.typ == "hostile-c" {
				assert.Equal(t, M{}, mustCall(t, h, ref, "ok", nil))
			} else {
				mustCall(t, h, ref, "write", M{"key": "after", "value": 1})
				assert.Equal(t, M{"value": uint64(1)}, mustCall(t, h, ref, "read", M{"key": "after"}))
			}
		})
	}
}

// Two guests spinning forever, on a process limited to two cores, do not
// freeze it: a counter answers several asks while both spin, each long
// before the spins are cut off.
func TestTwoSpinningGuestsDoNotFreezeTheHost(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	hostile := goType(t, "hostile")
	hostile.TurnTimeout = 2 * time.Second
	h := newHost(t, memstore.New(), hostile, goType(t, "counter"))
	mustCall(t, h, "counter/c", "get", nil) // instantiated before the spins start

	var spinning atomic.Int32
	spinsDone := make(chan error, 2)
	for _, id := range []string{"s1", "s2"} {
		go func() {
			spinning.Add(1)
			_, err := call(t, h, "hostile/"+id, "spin", nil)
			spinsDone <- err
		}()
	}
	require.Eventually(t, func() bool { return len(h.Activations()) == 3 }, 10*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // both guests are inside their loops
	for i := 1; i <= 5; i++ {
		assert.EqualValues(t, M{"n": uint64(i)}, mustCall(t, h, "counter/c", "add", M{"n": 1}))
		select {
		case err := <-spinsDone:
			t.Fatalf("a spin ended (%v) before ask %d of the counter answered", err, i)
		default:
		}
	}
	for range 2 {
		assert.ErrorIs(t, <-spinsDone, abi.ErrTurnTimeout)
	}
}

// An ask without a deadline of its own waits as long as its type's ask
// timeout, then fails with timeout while the turn still runs.
func TestAskWithoutDeadlineTimesOutAtAskTimeout(t *testing.T) {
	for name, d := range map[string]scheduler.Dispatch{"goroutines": scheduler.Goroutines, "pool": {Workers: 2}} {
		t.Run(name, func(t *testing.T) {
			hostile := goType(t, "hostile")
			hostile.TurnTimeout = 3 * time.Second
			hostile.AskTimeout = 200 * time.Millisecond
			h := newHostConfig(t, host.Config{Store: memstore.New(), Dispatch: d}, hostile)
			_, err := call(t, h, "hostile/slow", "spin", nil)
			require.ErrorIs(t, err, abi.ErrTimeout) // not turn_timeout: the ask gave up first
		})
	}
}
