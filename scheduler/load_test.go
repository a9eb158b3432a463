package scheduler

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// TestLoad counts the live activations and their queued messages by type,
// with deterministic dispatch so that told messages wait until run.
func TestLoad(t *testing.T) {
	w := &world{do: echo}
	w.s = New(Config{Activator: w, Dispatch: Dispatch{Deterministic: true}})
	defer func() { require.NoError(t, w.s.Close(context.Background())) }()
	ctx := context.Background()
	assert.Empty(t, w.s.Load())
	for _, to := range []abi.Ref{ref("a"), ref("a"), ref("a"), ref("b"), {Type: "u", ID: "a"}} {
		require.NoError(t, w.s.Tell(ctx, &Message{Target: to, Method: "m"}))
	}
	assert.Equal(t, map[string]TypeLoad{
		"t": {Activations: 2, Queued: 4, MaxQueued: 3},
		"u": {Activations: 1, Queued: 1, MaxQueued: 1},
	}, w.s.Load())
	assert.Equal(t, 5, w.s.RunUntilIdle())
	assert.Equal(t, map[string]TypeLoad{"t": {Activations: 2}, "u": {Activations: 1}}, w.s.Load())
}

// TestDeactivationReason: Deactivate learns why: the actor asked, it was
// idle, it was evicted for another, or the scheduler closed.
func TestDeactivationReason(t *testing.T) {
	var now atomic.Int64
	var mu sync.Mutex
	reasons := map[string]string{}
	w := &world{do: func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		if m.Method == "go" {
			s.DeactivateAfterTurn(ctx)
		}
		return nil, nil
	}}
	w.onDeactivate = func(ctx context.Context, _ *Scheduler, self abi.Ref) {
		mu.Lock()
		reasons[self.ID] = DeactivationReason(ctx)
		mu.Unlock()
	}
	w.s = New(Config{Activator: w, SweepInterval: -1, MaxActivations: 2,
		Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	ctx := context.Background()
	send := func(id, method string) {
		_, err := w.s.Ask(ctx, &Message{Target: ref(id), Method: method, Timeout: 5 * time.Second})
		require.NoError(t, err)
	}
	send("requested", "go")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return reasons["requested"] != "" }, 5*time.Second, time.Millisecond)
	send("idle", "m")
	now.Add(int64(DefaultIdleTimeout/time.Second) + 1)
	assert.Equal(t, 1, w.s.CollectIdle())
	send("evicted", "m")
	send("other", "m")
	send("third", "m") // the cap of 2: evicts the least recently used
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, w.s.Close(closeCtx))
	assert.Equal(t, map[string]string{
		"requested": ReasonRequested,
		"idle":      ReasonIdle,
		"evicted":   ReasonEvicted,
		"other":     ReasonShutdown,
		"third":     ReasonShutdown,
	}, reasons)
	assert.Empty(t, DeactivationReason(ctx), "outside a deactivation")
}
