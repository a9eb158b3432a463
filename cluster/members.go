package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/abi"
)

// State is a member's stage in its life.
type State string

// The states of a member.
const (
	// StateJoining: the node is up but does not serve yet (it deploys its
	// actor types); placement leaves it out.
	StateJoining State = "joining"
	// StateActive: the node serves; placement counts it.
	StateActive State = "active"
	// StateLeaving: the node is shutting down and hands its actors over;
	// placement leaves it out.
	StateLeaving State = "leaving"
)

func (s State) valid() bool { return s == StateJoining || s == StateActive || s == StateLeaving }

// Member is one node as the membership bucket lists it.
type Member struct {
	Node  string `json:"node"`
	State State  `json:"state"`
	// HTTPAddr is the node's HTTP gateway address, as it listens.
	HTTPAddr string `json:"http_addr"`
	// Activations is how many activations the node held at its last
	// heartbeat.
	Activations int `json:"activations"`
	// Started is when the node joined.
	Started time.Time `json:"started"`
	// Updated is when its entry was last written, by the NATS server's
	// clock.
	Updated time.Time `json:"-"`
	// Self: this is the node reading the list.
	Self bool `json:"-"`
}

// maxMemberValue bounds a membership entry (untrusted: anyone on the
// NATS cluster can write the bucket).
const maxMemberValue = 4096

// membership keeps this node's entry alive in the members bucket and
// keeps a view of every member, reconciled from a watch and from a poll
// of the whole bucket (a watch alone was seen to miss entries that
// expired).
type membership struct {
	kv       jetstream.KeyValue
	self     string
	ttl      time.Duration // the lease TTL: how far a live member's heartbeat may lag the newest
	interval time.Duration // between heartbeats, and between polls
	log      *slog.Logger  // nil: no records

	mu      sync.Mutex
	count   func() int        // the activations this node holds; nil: 0
	entry   Member            // this node's own entry
	members map[string]member // the live members, this node included
	gone    map[string]tomb   // removed members, so that stale puts do not bring them back
	active  []string          // the active members' names, sorted
	changed chan struct{}     // closed when active changes
	read    time.Time         // when the whole bucket was last read
	newest  time.Time         // the newest heartbeat of any member
	// heard is the newest heartbeat this node ever read, and gapFrom to
	// gapTo the last stretch longer than the TTL in which it read none of
	// anyone's: the list stalled as a whole, or this node did (see
	// listLagLocked).
	heard, gapFrom, gapTo time.Time
	// seen is when each member's last beat (see beatSubject) arrived,
	// by this node's clock, and seenNewest the newest of them: the
	// beats go over core NATS, so that they show a member gone silent
	// even while the bucket's stream has no leader.
	seen       map[string]time.Time
	seenNewest time.Time
	// ranAt is when this node's pulse last ran, by its own clock, and
	// graceUntil the end of the grace that follows a stall of this
	// process (see stalledLocked); clock is time.Now but in tests.
	ranAt      time.Time
	graceUntil time.Time
	clock      func() time.Time
	// watched holds a context per live member that someone watches (see
	// liveContext), canceled and removed once the member goes silent;
	// at most one per member.
	watched map[string]watch

	// stops waits for the watches of polls being stopped in the
	// background, and stopping counts them (see stopWatch).
	stops    sync.WaitGroup
	stopping atomic.Int32
}

// maxStops bounds the watches being stopped in the background at once
// (see stopWatch); Node.poll skips its polls while that many are.
const maxStops = 4

// member is a member with the revision of the entry it was read from.
type member struct {
	Member
	rev uint64
}

// tomb remembers the revision at which a member was seen removed, and
// whether it left drained: its entry was deleted, which a node does only
// as it leaves, once it answered every ask it took (see Node.Close); an
// entry that expired was not.
type tomb struct {
	rev     uint64
	at      time.Time
	drained bool
}

// newMembership returns the view of the members bucket kv as node self
// sees it, heartbeating every third of ttl.
func newMembership(kv jetstream.KeyValue, self string, ttl time.Duration) *membership {
	return &membership{kv: kv, self: self, ttl: ttl, interval: ttl / 3,
		members: map[string]member{}, gone: map[string]tomb{}, changed: make(chan struct{}), watched: map[string]watch{},
		seen: map[string]time.Time{}, clock: time.Now}
}

// heartbeat writes this node's entry with the current activation count.
func (m *membership) heartbeat(ctx context.Context) error {
	m.mu.Lock()
	if m.count != nil {
		m.entry.Activations = m.count()
	}
	data, err := json.Marshal(m.entry)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	rev, err := m.kv.Put(ctx, m.self, data)
	if err != nil {
		return fmt.Errorf("cluster: heartbeat of node %s: %w", m.self, err)
	}
	m.put(m.self, data, rev, time.Now())
	return nil
}

// setState writes this node's entry with state s at once.
func (m *membership) setState(ctx context.Context, s State) error {
	m.mu.Lock()
	m.entry.State = s
	m.mu.Unlock()
	return m.heartbeat(ctx)
}

// put applies an entry of the bucket read at revision rev, unless a newer
// one (or the member's removal) was seen already.
func (m *membership) put(key string, data []byte, rev uint64, created time.Time) {
	var v Member
	if len(data) > maxMemberValue || json.Unmarshal(data, &v) != nil || v.Node != key || !v.State.valid() || CheckName(key) != "" {
		return // not an entry a node wrote; ignore it
	}
	v.Updated, v.Self = created, key == m.self
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.members[key]; ok && old.rev >= rev {
		return
	}
	if t, ok := m.gone[key]; ok {
		if t.rev >= rev {
			return
		}
		delete(m.gone, key)
	}
	m.members[key] = member{Member: v, rev: rev}
	m.update()
}

// remove applies the removal of key seen at revision rev: a delete of
// the entry (deleted) or its expiry.
func (m *membership) remove(key string, rev uint64, deleted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(key, rev, deleted)
	m.update()
}

// removeLocked removes key. The member left drained when its entry was
// deleted (the watch or a poll saw its delete marker); an entry found
// missing expired, which says nothing of that.
func (m *membership) removeLocked(key string, rev uint64, deleted bool) {
	if old, ok := m.members[key]; ok && old.rev > rev {
		return
	}
	delete(m.members, key)
	delete(m.seen, key)
	if t := m.gone[key]; t.rev < rev {
		m.gone[key] = tomb{rev: rev, at: time.Now(), drained: deleted}
	}
}

// drained reports whether node left drained (see tomb), as far as this
// node saw in the last few TTLs.
func (m *membership) drained(node string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, member := m.members[node]
	return !member && m.gone[node].drained
}

// reconcile applies a snapshot of the whole bucket taken when its last
// revision was watermark: its entries, and its delete markers (a member
// that deleted its entry); a member missing from it whose entry is not
// newer than the watermark expired. A snapshot without the watermark's
// revision or a later one was read from a replica of the bucket's stream
// that has not caught up with its leader (a poll's consumer may be placed
// on any replica): it removes nobody, as that replica dropped entries
// older than the TTL by its own clock and may lack their successors, as
// a node's own does right after the process was paused.
func (m *membership) reconcile(snap map[string]jetstream.KeyValueEntry, watermark uint64) {
	var last uint64
	for key, e := range snap {
		if e.Operation() == jetstream.KeyValuePut {
			m.put(key, e.Value(), e.Revision(), e.Created())
		}
		last = max(last, e.Revision())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.read = time.Now()
	for key, e := range snap {
		if e.Operation() != jetstream.KeyValuePut {
			// A delete the watch has not shown yet (or missed).
			m.removeLocked(key, e.Revision(), e.Operation() == jetstream.KeyValueDelete)
		}
	}
	for key, old := range m.members {
		if _, ok := snap[key]; !ok && old.rev <= watermark && last >= watermark {
			m.removeLocked(key, watermark, false)
		}
	}
	// A removal older than a few TTLs cannot be undone by a stale entry:
	// the bucket has dropped every entry that old.
	for key, t := range m.gone {
		if time.Since(t.at) > 10*m.interval {
			delete(m.gone, key)
		}
	}
	m.update()
}

// update recomputes the active members and signals a change, and cancels
// the watches of members that went silent. m.mu is held.
func (m *membership) update() {
	var active []string
	m.newest = time.Time{}
	for key, v := range m.members {
		if v.State == StateActive {
			active = append(active, key)
		}
		if v.Updated.After(m.newest) {
			m.newest = v.Updated
		}
	}
	if m.newest.After(m.heard) {
		if !m.heard.IsZero() && m.newest.Sub(m.heard) > m.ttl {
			m.gapFrom, m.gapTo = m.heard, m.newest
		}
		m.heard = m.newest
	}
	m.silenced()
	slices.Sort(active)
	if slices.Equal(active, m.active) {
		return
	}
	m.active = active
	close(m.changed)
	m.changed = make(chan struct{})
}

// snapshot reads every entry of the bucket, delete markers included,
// and the bucket's last revision before it started reading.
func (m *membership) snapshot(ctx context.Context) (map[string]jetstream.KeyValueEntry, uint64, error) {
	st, err := m.kv.Status(ctx)
	if err != nil {
		return nil, 0, err
	}
	var watermark uint64
	if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		watermark = bs.StreamInfo().State.LastSeq
	}
	// With the delete markers: a member that deleted its entry left
	// (see tomb), one whose entry is missing expired.
	w, err := m.kv.WatchAll(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer m.stopWatch(w)
	snap := map[string]jetstream.KeyValueEntry{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, 0, fmt.Errorf("cluster: the member list's watch closed")
			}
			if e == nil {
				return snap, watermark, nil
			}
			snap[e.Key()] = e
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// stopWatch stops the watch w of a poll without waiting for it. Stopping
// a watch deletes its consumer, a request to JetStream's meta leader that
// waits up to the client's own timeout (5 s) whatever the poll's deadline:
// when that leader has just died, or is slow under load, a poll that
// waited for it held up the node's heartbeats and every later poll, and
// the members' entries expired. The stops run in the background, at most
// maxStops at once; waitStops waits for them, which a closed connection
// ends at once.
func (m *membership) stopWatch(w jetstream.KeyWatcher) {
	m.stopping.Add(1)
	m.stops.Add(1)
	go func() {
		defer m.stops.Done()
		_ = w.Stop()
		m.stopping.Add(-1)
	}()
}

// waitStops waits until no watch is being stopped (see stopWatch).
func (m *membership) waitStops() { m.stops.Wait() }

// Owner implements Placement.
func (m *membership) Owner(ref abi.Ref) (string, bool) {
	m.mu.Lock()
	active := m.active
	m.mu.Unlock()
	n := Rendezvous(refKey(ref), active)
	return n, n != "" && n == m.self
}

// Changed implements Placement.
func (m *membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// readAt returns when the whole bucket was last read.
func (m *membership) readAt() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read
}

// list returns the members, sorted by name.
func (m *membership) list() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, v := range m.members {
		out = append(out, v.Member)
	}
	slices.SortFunc(out, func(a, b Member) int {
		if a.Node < b.Node {
			return -1
		}
		if a.Node > b.Node {
			return 1
		}
		return 0
	})
	return out
}
