package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forgeModuleInfo writes info as the description of a module in n's
// modules bucket, as anyone who can publish on the cluster's NATS can:
// the object store keeps an object's description as a message of its own.
func forgeModuleInfo(t *testing.T, ctx context.Context, n *Node, info *jetstream.ObjectInfo) {
	t.Helper()
	data, err := json.Marshal(info)
	require.NoError(t, err)
	m := nats.NewMsg("$O." + n.modulesName() + ".M." + base64.URLEncoding.EncodeToString([]byte(info.Name)))
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	m.Data = data
	_, err = n.js.PublishMsg(ctx, m)
	require.NoError(t, err)
}

// TestHostileModules: a module's description in the modules bucket that
// someone else forged is refused at once, and nothing past its size is
// read: one that claims fewer bytes than its chunks hold (the size is
// what is checked against MaxModule), and one that is a link to itself
// (the object store follows links, a call deeper each time).
func TestHostileModules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "hostilemods")
	defer n.Close(ctx)

	wasm := make([]byte, 4096)
	mod, err := n.PublishModule(ctx, "counter", wasm)
	require.NoError(t, err)
	obs, err := n.modules(ctx)
	require.NoError(t, err)
	real, err := obs.GetInfo(ctx, "counter")
	require.NoError(t, err)

	lie := *real
	lie.Size = 100
	forgeModuleInfo(t, ctx, n, &lie)
	got, err := n.GetModule(ctx, mod)
	require.Error(t, err, "a module of %d bytes read under a size of 100", len(got))
	assert.ErrorContains(t, err, "more than the 100 bytes")

	self := *real
	self.Size = 0
	self.Opts = &jetstream.ObjectMetaOptions{Link: &jetstream.ObjectLink{Bucket: n.modulesName(), Name: "counter"}}
	forgeModuleInfo(t, ctx, n, &self)
	gctx, gcancel := context.WithTimeout(ctx, 5*time.Second)
	defer gcancel()
	_, err = n.GetModule(gctx, mod)
	require.Error(t, err)
	assert.ErrorContains(t, err, "a link")
	assert.NoError(t, gctx.Err(), "the link was followed until the deadline")

	// A good module published again is read as before, all its chunks
	// (128 KiB each).
	wasm2 := make([]byte, 1<<20+3)
	for i := range wasm2 {
		wasm2[i] = byte(i * 7 / 5)
	}
	mod2, err := n.PublishModule(ctx, "counter", wasm2)
	require.NoError(t, err)
	sum := sha256.Sum256(wasm2)
	assert.Equal(t, hex.EncodeToString(sum[:]), mod2.SHA256)
	got, err = n.GetModule(ctx, mod2)
	require.NoError(t, err)
	assert.Equal(t, wasm2, got)
}
