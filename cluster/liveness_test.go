package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestMembershipLiveness: a member is live while its last heartbeat lags
// the newest by at most the lease TTL; its live context is shared, and is
// canceled when it goes silent or is removed, without a poll.
func TestMembershipLiveness(t *testing.T) {
	m := newMembership(nil, "a", 3*time.Second)
	t0 := time.Now()
	m.put("a", memberJSON("a", StateActive), 1, t0)
	m.put("b", memberJSON("b", StateActive), 2, t0)
	assert.True(t, m.live("b"))
	assert.False(t, m.live("c"), "not a member")
	assert.Error(t, m.liveContext("c").Err(), "not a member: canceled at once")
	ctx := m.liveContext("b")
	assert.NoError(t, ctx.Err())
	assert.Equal(t, ctx, m.liveContext("b"), "one context per member")

	m.put("a", memberJSON("a", StateActive), 3, t0.Add(2*time.Second))
	assert.True(t, m.live("b"), "2s behind the newest, under the TTL")
	assert.NoError(t, ctx.Err())
	m.put("a", memberJSON("a", StateActive), 4, t0.Add(4*time.Second))
	assert.False(t, m.live("b"), "4s behind the newest")
	assert.Error(t, ctx.Err(), "silent: canceled")
	assert.Empty(t, m.watched)

	m.put("b", memberJSON("b", StateActive), 5, t0.Add(4*time.Second))
	assert.True(t, m.live("b"), "heartbeating again")
	ctx = m.liveContext("b")
	assert.NoError(t, ctx.Err())
	m.remove("b", 6, true)
	assert.Error(t, ctx.Err(), "removed: canceled")
	assert.False(t, m.live("b"))
	assert.Empty(t, m.watched)
}

// TestMembershipBeats: the beats over core NATS show a member silent while
// the member list itself stalls (no newer entry of anyone), and a beat
// from a node that is not a member is ignored.
func TestMembershipBeats(t *testing.T) {
	m := newMembership(nil, "a", 3*time.Second)
	t0 := time.Now()
	m.put("a", memberJSON("a", StateActive), 1, t0)
	m.put("b", memberJSON("b", StateActive), 2, t0)
	m.beat("zz", t0)
	assert.NotContains(t, m.seen, "zz")
	m.beat("a", t0)
	m.beat("b", t0)
	ctx := m.liveContext("b")
	m.beat("a", t0.Add(2*time.Second))
	assert.True(t, m.live("b"))
	m.beat("a", t0.Add(4*time.Second))
	assert.False(t, m.live("b"), "no beat of b for 4s while a beats; the list has nothing newer")
	assert.Error(t, ctx.Err())
	assert.True(t, m.live("a"))
	m.beat("b", t0.Add(4*time.Second))
	assert.True(t, m.live("b"), "b beats again")
	m.remove("b", 3, true)
	assert.NotContains(t, m.seen, "b")
}

// TestMembershipStallGrace: a node whose own pulse stalled (the process
// paused) judges no member silent until two lease TTLs after its pulse
// runs again, however stale its view of them, and a member it hears
// nothing from by then is silent once they end; pulses on time give no
// grace.
func TestMembershipStallGrace(t *testing.T) {
	const ttl = 3 * time.Second
	now := time.Now()
	m := clockedMembership(ttl, &now, "a", "b")
	m.beat("a", now)
	m.beat("b", now)
	ctx := m.liveContext("b")

	// Paused for 5 s: the pulse is overdue, and this node's own beat and
	// heartbeat, fresh at once, are 5 s ahead of b's.
	now = now.Add(5 * time.Second)
	m.beat("a", now)
	m.put("a", memberJSON("a", StateActive), 3, now)
	assert.True(t, m.live("b"), "overdue pulse: this node stalled, b is not judged on what it heard before")
	assert.NoError(t, ctx.Err())
	m.ran()
	for range 5 { // 2 TTLs less an interval, a pulse each interval
		now = now.Add(m.interval)
		m.ran()
		m.beat("a", now)
	}
	assert.True(t, m.live("b"), "within two TTLs of the resumed pulse")
	assert.NoError(t, ctx.Err())

	// The grace ends: b, heard nothing from since before the pause, is
	// silent at the next beat of anyone.
	now = now.Add(m.interval)
	m.ran()
	m.beat("a", now)
	assert.False(t, m.live("b"), "no beat of b in the TTL after the stall")
	assert.Error(t, ctx.Err())

	// Pulses on time give no grace.
	m.beat("b", now)
	m.put("b", memberJSON("b", StateActive), 4, now)
	assert.True(t, m.live("b"))
	for i := range 4 {
		now = now.Add(m.interval)
		m.ran()
		m.beat("a", now)
		m.put("a", memberJSON("a", StateActive), uint64(5+i), now)
	}
	assert.False(t, m.live("b"), "b silent for 4 intervals while this node ran on time")
}

// TestMembershipListStallEnds: when the member list stalled as a whole
// (its stream electing a leader, or every write timing out on a machine
// too busy), the first heartbeat through is as far ahead of every other
// member's as the stall lasted; those members are not silent for it, only
// once they wrote nothing for a TTL of the list running again.
func TestMembershipListStallEnds(t *testing.T) {
	const ttl = 3 * time.Second
	m := newMembership(nil, "a", ttl)
	t0 := time.Now()
	m.put("a", memberJSON("a", StateActive), 1, t0)
	m.put("b", memberJSON("b", StateActive), 2, t0)
	m.put("c", memberJSON("c", StateActive), 3, t0)
	b, c := m.liveContext("b"), m.liveContext("c")

	// Nothing got through for 5 s; a's heartbeat is the first after.
	m.put("a", memberJSON("a", StateActive), 4, t0.Add(5*time.Second))
	assert.True(t, m.live("b"), "the list stalled, not b")
	assert.NoError(t, b.Err())
	m.put("b", memberJSON("b", StateActive), 5, t0.Add(5100*time.Millisecond))

	// The list runs again; c writes nothing.
	m.put("a", memberJSON("a", StateActive), 6, t0.Add(7*time.Second))
	assert.True(t, m.live("c"), "2 s of the list running")
	m.put("a", memberJSON("a", StateActive), 7, t0.Add(8100*time.Millisecond))
	assert.False(t, m.live("c"), "over a TTL of the list running without c")
	assert.Error(t, c.Err())
	assert.True(t, m.live("b"))
	assert.NoError(t, b.Err())
}
