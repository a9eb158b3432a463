package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// entry is a KV entry as a poll returns it.
type entry struct {
	key string
	val []byte
	rev uint64
	op  jetstream.KeyValueOp // 0: a put
}

func (e entry) Bucket() string                  { return "b" }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return e.val }
func (e entry) Revision() uint64                { return e.rev }
func (e entry) Created() time.Time              { return time.Time{} }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return cmp.Or(e.op, jetstream.KeyValuePut) }

func memberJSON(node string, s State) []byte {
	b, _ := json.Marshal(Member{Node: node, State: s})
	return b
}

// clockedMembership is node a's view, with a lease TTL of ttl, of the
// active members given, each put at revision 1, 2, ... as of *now; its
// clock reads *now, and its pulse has run once.
func clockedMembership(ttl time.Duration, now *time.Time, members ...string) *membership {
	m := newMembership(nil, "a", ttl)
	m.clock = func() time.Time { return *now }
	for i, node := range members {
		m.put(node, memberJSON(node, StateActive), uint64(i+1), *now)
	}
	m.ran()
	return m
}

func snapshotOf(entries ...entry) map[string]jetstream.KeyValueEntry {
	out := map[string]jetstream.KeyValueEntry{}
	for _, e := range entries {
		out[e.key] = e
	}
	return out
}

// TestMembershipReconcile: the view follows puts and removals by revision,
// a poll drops what expired but not what is newer than the poll, and a
// stale entry does not bring a removed member back.
func TestMembershipReconcile(t *testing.T) {
	m := newMembership(nil, "a", 3*time.Second)
	changed := m.Changed()
	m.put("a", memberJSON("a", StateActive), 1, time.Time{})
	m.put("b", memberJSON("b", StateJoining), 2, time.Time{})
	assert.Equal(t, []string{"a"}, m.active)
	select {
	case <-changed:
	default:
		t.Fatal("no change signalled")
	}
	m.put("b", memberJSON("b", StateActive), 3, time.Time{})
	assert.Equal(t, []string{"a", "b"}, m.active)
	m.put("b", memberJSON("b", StateJoining), 2, time.Time{}) // older: ignored
	assert.Equal(t, []string{"a", "b"}, m.active)

	// Not ours: refused.
	m.put("c", memberJSON("other", StateActive), 4, time.Time{})
	m.put("d", []byte("{not json"), 5, time.Time{})
	m.put("e", memberJSON("e", "sleeping"), 6, time.Time{})
	assert.Len(t, m.list(), 2)

	// A poll that started at revision 4 (a's newest heartbeat) without b:
	// b expired.
	m.put("c", memberJSON("c", StateActive), 5, time.Time{}) // seen by the watch after the poll began
	m.reconcile(snapshotOf(entry{"a", memberJSON("a", StateActive), 4, 0}), 4)
	assert.Equal(t, []string{"a", "c"}, m.active, "c is newer than the poll; b is gone")
	// A late copy of b's old entry does not revive it.
	m.put("b", memberJSON("b", StateActive), 3, time.Time{})
	assert.Equal(t, []string{"a", "c"}, m.active)
	// b coming back with a new entry does.
	m.put("b", memberJSON("b", StateActive), 7, time.Time{})
	assert.Equal(t, []string{"a", "b", "c"}, m.active)

	// A removal seen by the watch.
	m.remove("c", 8, true)
	assert.Equal(t, []string{"a", "b"}, m.active)
	m.put("c", memberJSON("c", StateActive), 5, time.Time{})
	assert.Equal(t, []string{"a", "b"}, m.active, "the removal is newer")

	owner, self := m.Owner(refFor("x"))
	assert.Contains(t, []string{"a", "b"}, owner)
	assert.Equal(t, owner == "a", self)
}

func refFor(id string) abi.Ref { return abi.Ref{Type: "t", ID: id} }

// TestMembershipDrained: a member left drained when its entry was
// deleted (the watch, or a poll, saw the delete marker); one whose entry
// expired did not.
func TestMembershipDrained(t *testing.T) {
	m := newMembership(nil, "a", 3*time.Second)
	t0 := time.Now()
	m.put("a", memberJSON("a", StateActive), 1, t0)
	m.put("b", memberJSON("b", StateActive), 2, t0)
	m.put("c", memberJSON("c", StateActive), 3, t0)
	m.put("d", memberJSON("d", StateActive), 4, t0)
	m.put("b", memberJSON("b", StateLeaving), 5, t0)
	ctx := m.liveContext("b")
	assert.False(t, m.drained("b"), "leaving, but still a member")
	m.remove("b", 6, true)
	assert.Error(t, ctx.Err(), "removed: canceled")
	assert.True(t, m.drained("b"), "deleted while leaving")

	m.remove("c", 7, false)
	assert.False(t, m.drained("c"), "purged, not deleted")

	m.put("d", memberJSON("d", StateLeaving), 8, t0)
	m.reconcile(snapshotOf(entry{"a", memberJSON("a", StateActive), 9, 0}), 9)
	assert.False(t, m.drained("d"), "found missing by a poll (expired): it may have died while leaving")

	m.put("b", memberJSON("b", StateActive), 10, t0)
	assert.False(t, m.drained("b"), "back as a member")

	// A poll that finds the delete marker of a leaving member before the
	// watch shows it.
	m.put("e", memberJSON("e", StateLeaving), 11, t0)
	m.reconcile(snapshotOf(entry{"a", memberJSON("a", StateActive), 9, 0}, entry{"b", memberJSON("b", StateActive), 10, 0},
		entry{"e", nil, 12, jetstream.KeyValueDelete}), 12)
	assert.True(t, m.drained("e"), "its delete marker read by a poll")
	assert.Equal(t, []string{"a", "b"}, m.active)
}

// TestMembershipPollBehind: a poll read from a replica of the bucket's
// stream that has not caught up with the watermark (the stream leader's
// last revision) removes no member for missing from it. A node resumed
// after a pause reads such a copy: its replica dropped every entry older
// than the TTL as the process woke, and applies the entries written
// meanwhile only as its routes come back. Removed, a member is not live
// whatever the grace that follows the pause.
func TestMembershipPollBehind(t *testing.T) {
	const ttl = 3 * time.Second
	now := time.Now()
	m := clockedMembership(ttl, &now, "a", "b", "c")
	b, c := m.liveContext("b"), m.liveContext("c")

	// Paused for 5 s, while b went on heartbeating up to revision 9 and
	// c died.
	now = now.Add(5 * time.Second)
	m.ran()
	m.reconcile(snapshotOf(), 9)
	assert.Equal(t, []string{"a", "b", "c"}, m.active, "an empty copy behind revision 9 says nothing of who expired")
	m.reconcile(snapshotOf(entry{"b", memberJSON("b", StateActive), 5, 0}), 9)
	assert.Equal(t, []string{"a", "b", "c"}, m.active, "a copy that reached revision 5 neither")
	assert.True(t, m.live("b"))
	assert.NoError(t, b.Err())

	// Caught up, with a's first heartbeat after the pause: c expired.
	m.reconcile(snapshotOf(entry{"a", memberJSON("a", StateActive), 10, 0}, entry{"b", memberJSON("b", StateActive), 9, 0}), 10)
	assert.Equal(t, []string{"a", "b"}, m.active)
	assert.True(t, m.live("b"))
	assert.NoError(t, b.Err())
	assert.Error(t, c.Err())
}

// stuckStops is a member list whose polls' watches take 5 s to stop, or
// until release closes, as when the deletion of their consumers waits on
// a JetStream meta leader that died (nats.go's timeout is 5 s).
type stuckStops struct {
	jetstream.KeyValue
	release chan struct{}
	pending atomic.Int32
}

func (k *stuckStops) WatchAll(ctx context.Context, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	w, err := k.KeyValue.WatchAll(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &stuckWatcher{KeyWatcher: w, k: k}, nil
}

type stuckWatcher struct {
	jetstream.KeyWatcher
	k *stuckStops
}

func (w *stuckWatcher) Stop() error {
	w.k.pending.Add(1)
	defer w.k.pending.Add(-1)
	select {
	case <-w.k.release:
	case <-time.After(5 * time.Second):
	}
	return w.KeyWatcher.Stop()
}

// TestHeartbeatsOutlastStuckPolls: while the polls' watches cannot be
// stopped, the node's heartbeats go on (its entry does not expire), and
// the polls go on until maxStops of them wait.
func TestHeartbeatsOutlastStuckPolls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := freeAddrs(t, 1)[0]
	n, err := Start(ctx, Config{Name: "stuck", Node: "only", LeaseTTL: testTTL, DataDir: t.TempDir(), ClusterAddr: addr,
		Routes: []string{"nats-route://" + addr}, Logger: testLogger(t)})
	require.NoError(t, err)
	kv := &stuckStops{KeyValue: n.members.kv, release: make(chan struct{})}
	n.members.kv = kv
	require.NoError(t, n.Join(ctx, "127.0.0.1:1", nil))
	time.Sleep(4 * testTTL)
	e, err := n.kv.Get(ctx, "only")
	require.NoError(t, err, "the node's entry expired: its heartbeats waited for a poll")
	assert.Less(t, time.Since(e.Created()), testTTL)
	assert.EqualValues(t, maxStops, kv.pending.Load(), "polls until maxStops wait to be stopped")
	close(kv.release)
	require.NoError(t, n.Close(ctx))
	assert.Zero(t, kv.pending.Load())
}
