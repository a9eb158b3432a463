package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// A tell whose turn keeps failing is tried three times, then kept as a
// dead letter with its error; an actor's own error refusal is kept at once.
// Dead letters can be replayed and deleted, and are never lost meanwhile.
func TestDeadLetters(t *testing.T) {
	store := memstore.New()
	h := newHost(t, store, goType(t, "hostile"))
	ctx := context.Background()
	waitDead := func(n int) []storage.DeadLetter {
		t.Helper()
		var list []storage.DeadLetter
		require.Eventually(t, func() bool {
			var err error
			list, err = h.DeadLetters(ctx)
			require.NoError(t, err)
			return len(list) == n
		}, 20*time.Second, 10*time.Millisecond)
		return list
	}

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "p"}, "panic", nil))
	list := waitDead(1)
	assert.Equal(t, "hostile/p", list[0].Message.Target)
	assert.Equal(t, "panic", list[0].Message.Method)
	assert.Equal(t, 3, list[0].Attempts)
	assert.Contains(t, list[0].Error, "trapped")

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "f"}, "fail_after_write", nil))
	list = waitDead(2)
	refused := list[1]
	assert.Equal(t, 1, refused.Attempts, "an actor's own refusal is not retried")
	assert.Contains(t, refused.Error, "refused")
	msgs, err := store.Outbox(ctx)
	require.NoError(t, err)
	assert.Empty(t, msgs, "dead letters leave the outbox")

	// Replay sends it again (it fails again, so it comes back as a new
	// dead letter); delete forgets one.
	require.NoError(t, h.ReplayDeadLetter(ctx, refused.Message.ID))
	list = waitDead(2)
	assert.NotEqual(t, refused.Message.ID, list[1].Message.ID, "the replay is a new message")
	require.NoError(t, h.DeleteDeadLetter(ctx, list[0].Message.ID))
	waitDead(1)
	assert.ErrorIs(t, h.DeleteDeadLetter(ctx, "nope"), abi.ErrBadRequest)
}
