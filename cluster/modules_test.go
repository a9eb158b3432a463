package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModules: a follower gets the modules the bucket holds, then each
// one published after; GetModule returns the bytes of the version named.
func TestModules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "mods")
	defer n.Close(ctx)

	v1 := []byte("\x00asm first")
	m1, err := n.PublishModule(ctx, "counter", v1)
	require.NoError(t, err)
	sum := sha256.Sum256(v1)
	assert.Equal(t, Module{Type: "counter", SHA256: hex.EncodeToString(sum[:]), Node: "only"}, m1)

	var mu sync.Mutex
	var seen []Module
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.FollowModules(fctx, func(m Module) {
			mu.Lock()
			seen = append(seen, m)
			mu.Unlock()
		})
	}()
	last := func() Module {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return Module{}
		}
		return seen[len(seen)-1]
	}
	require.Eventually(t, func() bool { return last() == m1 }, 10*time.Second, 5*time.Millisecond, "the module there before")

	v2 := []byte("\x00asm second")
	m2, err := n.PublishModule(ctx, "counter", v2)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return last() == m2 }, 10*time.Second, 5*time.Millisecond, "the module published after")
	got, err := n.GetModule(ctx, m2)
	require.NoError(t, err)
	assert.Equal(t, v2, got)
	_, err = n.GetModule(ctx, m1)
	assert.ErrorContains(t, err, "changed while it was read", "only the last version is kept")
	stop()
	<-done
}
