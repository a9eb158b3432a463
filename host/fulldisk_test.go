package host_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// fullStore refuses, while full is set, every batch that changes state,
// as a store on a full disk does (an outbox entry is taken, as one that
// fits would be).
type fullStore struct {
	storage.Store
	full    atomic.Bool
	refused atomic.Int64
}

func (s *fullStore) Commit(ctx context.Context, b *storage.Batch) error {
	if s.full.Load() && b.ChangesState() {
		s.refused.Add(1)
		return storage.ErrNoSpace
	}
	return s.Store.Commit(ctx, b)
}

// An ask whose commit the store refuses fails with unavailable and leaves
// nothing; a tell whose commit is refused stays in the outbox and is
// applied once the store takes writes again, with no restart and no dead
// letter.
func TestRefusedCommitIsRetried(t *testing.T) {
	store := &fullStore{Store: memstore.New()}
	h := newHost(t, store, goType(t, "hostile"))
	ctx := context.Background()
	store.full.Store(true)

	_, err := call(t, h, "hostile/a", "write", M{"key": "k", "value": 1})
	assert.ErrorIs(t, err, abi.ErrUnavailable)
	assert.Equal(t, M{}, mustCall(t, h, "hostile/a", "read", M{"key": "k"}), "a refused commit leaves nothing")

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "b"}, "write", cborOf(t, M{"key": "k", "value": 2})))
	require.Eventually(t, func() bool { return store.refused.Load() >= 3 }, 20*time.Second, 5*time.Millisecond,
		"the tell's turn is tried again while the store refuses it")
	store.full.Store(false)
	require.Eventually(t, func() bool {
		return mustCall(t, h, "hostile/b", "read", M{"key": "k"})["value"] == uint64(2)
	}, 20*time.Second, 10*time.Millisecond, "the tell is applied once the store takes writes")
	msgs, err := store.Outbox(ctx)
	require.NoError(t, err)
	assert.Empty(t, msgs)
	dead, err := h.DeadLetters(ctx, "", host.MaxDeadLetterPage)
	require.NoError(t, err)
	assert.Empty(t, dead.Letters, "a refused commit is not the guest's failure")
}
