package host_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage/memstore"
)

// TestFollow checks that a follower sees publications, that the number of
// followers is bounded, and that one that does not read is dropped.
func TestFollow(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h := newHost(t, store)
	fl, err := h.Follow("live.a")
	require.NoError(t, err)
	require.NoError(t, h.Publish(ctx, "live.a", cborOf(t, 1)))
	select {
	case ev := <-fl.Events:
		require.Equal(t, "live.a", ev.Topic)
		require.Equal(t, cborOf(t, 1), ev.Payload)
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}

	// Bounded per topic.
	var more []*host.Follower
	for range host.MaxFollowerTopic - 1 {
		f, err := h.Follow("live.a")
		require.NoError(t, err)
		more = append(more, f)
	}
	_, err = h.Follow("live.a")
	var e *abi.Error
	require.True(t, errors.As(err, &e) && e.Code == abi.CodeUnavailable, "follower %d of a topic: %v", host.MaxFollowerTopic+1, err)
	for _, f := range more {
		f.Stop()
	}
	_, err = h.Follow("not a topic")
	require.Error(t, err)

	// A follower that does not read is dropped: its channel closes.
	for i := range host.FollowBuffer + 1 {
		require.NoError(t, h.Publish(ctx, "live.a", cborOf(t, i)))
	}
	drained(t, store) // all fanned out before the follower reads
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-fl.Events:
			if !ok {
				fl.Stop() // stopping a dropped follower is fine
				return
			}
		case <-deadline:
			t.Fatal("a follower that fell behind was not dropped")
		}
	}
}
