package cluster

import (
	"context"
	"fmt"
	"time"
)

// A member's liveness, as this node judges it from the member list's
// heartbeats and the beats over core NATS, and the contexts that end an
// ask in a member's hands once it falls silent.

// watch is a member's liveness as a context.
type watch struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// silentCtx is the context liveContext returns for a node that is not
// live: canceled from the start.
var silentCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// silenced cancels the watches of members that are no longer live. m.mu
// is held.
func (m *membership) silenced() {
	for node, w := range m.watched {
		if !m.liveLocked(node) {
			if m.log != nil {
				m.log.Info("cluster: a member is no longer live; asks in its hands end", "member", node, "why", m.whySilentLocked(node))
			}
			w.cancel()
			delete(m.watched, node)
		}
	}
}

// beat notes a beat of node that arrived at at (this node's clock). A
// beat of a node that is not a member is ignored: members are bounded,
// beats from anyone on NATS are not.
func (m *membership) beat(node string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.members[node]; !ok {
		return
	}
	m.seen[node] = at
	if at.After(m.seenNewest) {
		m.seenNewest = at
	}
	m.silenced()
}

// live reports whether node is in the member list and its last heartbeat
// is at most a lease TTL older than the newest heartbeat of any member (a
// stall of the whole list aside, see listLagLocked): a node whose
// heartbeats stopped that long ago can renew no lease either.
// Comparing with the newest heartbeat rather than the clock keeps a member
// list that stalls as a whole (its stream electing a leader) from making
// every node look silent. The beats over core NATS are held to the same
// rule (against the newest beat), once one of node's has arrived: a member
// is silent when either says so, so that a member list whose stream
// elects a leader (its heartbeats stalled) still shows a member that
// died. Neither rule holds while this process has just stalled (see
// ran): a member of the list is then live.
func (m *membership) live(node string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.liveLocked(node)
}

// whySilentLocked says why node is not live, for a log record. m.mu is
// held.
func (m *membership) whySilentLocked(node string) string {
	v, ok := m.members[node]
	switch {
	case !ok:
		return "not in the member list"
	case m.listLagLocked(v) > m.ttl:
		return fmt.Sprintf("its last heartbeat is %s older than the newest, the list's stalls aside", m.listLagLocked(v).Round(time.Millisecond))
	}
	return fmt.Sprintf("its last beat arrived %s before the newest", m.seenNewest.Sub(m.seen[node]).Round(time.Millisecond))
}

func (m *membership) liveLocked(node string) bool {
	v, ok := m.members[node]
	if ok && m.stalledLocked() {
		return true
	}
	if !ok || m.listLagLocked(v) > m.ttl {
		return false
	}
	at, beat := m.seen[node]
	return !beat || m.seenNewest.Sub(at) <= m.ttl
}

// listLagLocked is how far v's last heartbeat lags the newest, less the
// part of the last stall of the whole list (see update) in between: when
// no heartbeat of anyone got through for longer than the TTL, the first
// one through, often this node's own (its write is not read back through
// the watch), is as far ahead of every other member's as the stall
// lasted, while theirs come in over the next interval. A member is
// silent by the list once it wrote nothing for a TTL of the list
// running. m.mu is held.
func (m *membership) listLagLocked(v member) time.Duration {
	lag := m.newest.Sub(v.Updated)
	from, to := v.Updated, m.gapTo
	if m.gapFrom.After(from) {
		from = m.gapFrom
	}
	if m.newest.Before(to) {
		to = m.newest
	}
	if to.After(from) {
		lag -= to.Sub(from)
	}
	return lag
}

// ran notes that this node's pulse ran (see Node.pulse), which it does
// every interval. A pulse that comes more than stallGap after the one
// before says this process did not run in between: it was paused
// (SIGSTOP, a VM frozen) or starved of processor time. Whatever it heard
// of the other members is then as old as the stall, and it hears them
// again only as its routes and its watch of the list catch up, while its
// own beat is fresh at once, and its own heartbeat as soon as its write
// comes through; judged against those, every
// other member would look silent, and the asks this node has in their
// hands would fail with an unknown outcome though the members are well.
// So for stallGrace after the stall no member of the list is judged
// silent (see liveLocked). A member that did die meanwhile is judged
// silent that much later than otherwise, and only by a node that was
// itself stalled.
func (m *membership) ran() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	if !m.ranAt.IsZero() && now.Sub(m.ranAt) > m.stallGap() {
		m.graceUntil = now.Add(m.stallGrace())
	}
	m.ranAt = now
}

// stallGrace is how long after a stall this node judges no member silent
// (see ran): two lease TTLs. In the first, a live member's beats have to
// find their way back: the NATS servers that closed their routes to this
// one while it was stalled connect them again only after a delay of their
// own (a second, nats-server's default); in the second they have a whole
// TTL to arrive, as at any other time.
func (m *membership) stallGrace() time.Duration { return 2 * m.ttl }

// stallGap is how long after the one before a pulse may run before this
// process counts as having stalled (see ran): two intervals, a pulse a
// whole interval late, which a busy runtime's timers are not.
func (m *membership) stallGap() time.Duration { return 2 * m.interval }

// stalledLocked reports whether this process stalled lately: its pulse
// is overdue by more than stallGap now (it has not run since the stall,
// or the stall goes on), or the grace after a stall has not ended (see
// ran). Before the first pulse, no. m.mu is held.
func (m *membership) stalledLocked() bool {
	if m.ranAt.IsZero() {
		return false
	}
	now := m.clock()
	return now.Sub(m.ranAt) > m.stallGap() || now.Before(m.graceUntil)
}

// liveContext returns a context canceled once node is no longer live (see
// live); canceled already when it is not live now. Callers share one
// context per member, so watching costs no goroutine: the member list's
// updates cancel it.
func (m *membership) liveContext(node string) context.Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.watched[node]; ok {
		return w.ctx
	}
	if !m.liveLocked(node) {
		return silentCtx
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.watched[node] = watch{ctx: ctx, cancel: cancel}
	return ctx
}
