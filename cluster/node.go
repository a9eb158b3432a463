package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the package.
var (
	// ErrConfig: a Config is incomplete or wrong; the message says which
	// field and why.
	ErrConfig = errors.New("cluster: bad configuration")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("cluster: node closed")
	// ErrNameTaken: another live node announces itself under this node's
	// name.
	ErrNameTaken = errors.New("cluster: node name taken by a live member")
)

// Node is this process as a member of a cluster: its NATS connection (and
// embedded server), its membership, placement and transport. Start it,
// Join, SetState(StateActive) once it serves, Close to leave.
type Node struct {
	cfg      Config
	srv      *embedded // nil with a NATS URL
	nc       *nats.Conn
	js       jetstream.JetStream
	kv       jetstream.KeyValue
	replicas int
	tr       *transport
	log      *slog.Logger

	mu      sync.Mutex
	obs     jetstream.ObjectStore // the modules bucket, once opened (see modules)
	members *membership
	joined  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

// Start brings NATS up for this node: it starts the embedded server (or
// connects to Config.NATSURL), waits until JetStream answers (in a new
// cluster, until enough peers are up to elect a leader) and creates the
// members bucket. Without a deadline on ctx it gives up after
// DefaultStartTimeout.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.Node, "cluster", cfg.Name)}
	var err error
	if cfg.NATSURL == "" {
		if n.srv, err = startServer(ctx, &n.cfg); err != nil {
			return nil, err
		}
		n.nc, err = nats.Connect("", nats.InProcessServer(n.srv.srv), nats.Name("wactor "+cfg.Node), nats.NoReconnect())
	} else {
		n.nc, err = nats.Connect(cfg.NATSURL, nats.Name("wactor "+cfg.Node), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second), nats.Timeout(5*time.Second))
	}
	if err != nil {
		n.shutdown()
		return nil, fmt.Errorf("cluster: connecting to NATS: %w", err)
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		n.shutdown()
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	n.replicas = n.clusterReplicas()
	if err := n.createBucket(ctx); err != nil {
		n.shutdown()
		return nil, err
	}
	n.tr = newTransport(n.nc, cfg.Name, cfg.Node, n.log)
	n.members = newMembership(n.kv, cfg.Node, cfg.LeaseTTL)
	n.members.log = n.log
	return n, nil
}

// clusterReplicas is how many copies the cluster's streams keep: 3 once
// the cluster has 3 servers or more, else 1.
func (n *Node) clusterReplicas() int {
	servers := 0
	if n.srv == nil {
		servers = len(n.nc.Servers())
	} else if _, alone, _ := routeURLs(n.cfg.Routes, n.cfg.ClusterAddr); alone {
		servers = 1
	} else {
		servers = len(n.cfg.Routes)
		own := false
		for _, r := range n.cfg.Routes {
			u, _ := parseRoute(r)
			own = own || isOwnAddr(u, n.cfg.ClusterAddr)
		}
		if !own {
			servers++
		}
	}
	if servers >= 3 {
		return 3
	}
	return 1
}

// Replicas is how many copies the cluster's streams keep: 3 when the
// cluster has 3 servers or more, else 1. A store on the same NATS should
// use the same.
func (n *Node) Replicas() int { return n.replicas }

// bucketName is the members bucket of the cluster.
func (n *Node) bucketName() string { return "wactor_" + n.cfg.Name + "_members" }

// createBucket creates (or updates) the members bucket, retrying while
// JetStream has no leader yet.
func (n *Node) createBucket(ctx context.Context) error {
	cfg := jetstream.KeyValueConfig{
		Bucket:       n.bucketName(),
		Description:  "wactor cluster " + n.cfg.Name + ": one entry per live node",
		History:      1,
		TTL:          n.cfg.LeaseTTL,
		MaxValueSize: maxMemberValue,
		Storage:      jetstream.MemoryStorage,
		Replicas:     n.replicas,
	}
	start, logged := time.Now(), time.Now()
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		kv, err := n.js.CreateOrUpdateKeyValue(attempt, cfg)
		cancel()
		if err == nil {
			n.kv = kv
			n.log.Info("cluster: JetStream ready", "replicas", n.replicas, "took", time.Since(start).Round(time.Millisecond).String())
			return nil
		}
		if time.Since(logged) > 5*time.Second {
			n.log.Info("cluster: waiting for JetStream (a new cluster needs a majority of its servers up)", "err", err)
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: JetStream did not become ready (are a majority of the routes' servers up?): %w; last error: %v", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Conn is the node's NATS connection, for the JetStream store.
func (n *Node) Conn() *nats.Conn { return n.nc }

// JetStream is the node's JetStream context, for the JetStream store.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Name is the cluster's name.
func (n *Node) Name() string { return n.cfg.Name }

// NodeName is this node's name.
func (n *Node) NodeName() string { return n.cfg.Node }

// LeaseTTL is the cluster's lease TTL.
func (n *Node) LeaseTTL() time.Duration { return n.cfg.LeaseTTL }

// Transport carries asks between nodes; it serves once Serve is called.
func (n *Node) Transport() Transport { return n.tr }

// Placement names actors' owners; before Join it knows no member.
func (n *Node) Placement() Placement { return n.members }

// Members returns the members this node knows of, itself included once
// it joined, sorted by name.
func (n *Node) Members() []Member { return n.members.list() }

// Live reports whether node is a member whose heartbeats go on: it is in
// the member list, its last heartbeat is at most LeaseTTL older than the
// newest heartbeat of any member, a stall of the whole list aside (a node
// silent that long can renew no lease either), and, once a beat of it
// arrived over core NATS, its last beat is at most LeaseTTL older than
// the newest beat. A node that has itself just stalled judges no member
// silent for a while (see membership.ran). It is a map lookup.
func (n *Node) Live(node string) bool { return n.members.live(node) }

// LiveContext returns a context that is canceled once node is no longer
// live (see Live), as the member list's updates and the beats show; canceled already
// when it is not live now. One context is shared per member: watching a
// node costs no goroutine.
func (n *Node) LiveContext(node string) context.Context { return n.members.liveContext(node) }

// Drained reports whether node left the cluster drained: it deleted its
// entry, which a node does only as it leaves, once it has answered every
// ask and delivery it took (see Close). An ask still waiting on
// such a node was not applied by it, once its answer, sent before the
// entry's deletion, has had time to arrive. False for a member, for a
// node whose entry expired (it died), and for one that left more than a
// few lease TTLs ago.
func (n *Node) Drained(node string) bool { return n.members.drained(node) }

// ListedAt is when this node last read the whole member list (it does so
// every LeaseTTL/3); zero before Join. When it lies more than twice LeaseTTL
// in the past, the list may be out of date: the node cannot reach a majority
// of the NATS servers that keep it.
func (n *Node) ListedAt() time.Time { return n.members.readAt() }

// Join announces this node in state joining, with the address of its HTTP
// gateway, and keeps its entry alive with a heartbeat every LeaseTTL/3
// carrying activations() (nil: 0) until Close. It fails with ErrNameTaken
// when a live node holds the name (a node restarted after a crash waits
// up to LeaseTTL for its old entry to expire).
func (n *Node) Join(ctx context.Context, httpAddr string, activations func() int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.joined:
		return errors.New("cluster: already joined")
	}
	m := n.members
	m.mu.Lock()
	m.entry = Member{Node: n.cfg.Node, State: StateJoining, HTTPAddr: httpAddr, Started: time.Now().UTC().Truncate(time.Millisecond)}
	m.count = activations
	m.mu.Unlock()
	if err := n.claimName(ctx, m); err != nil {
		return err
	}
	snap, mark, err := m.snapshot(ctx)
	if err != nil {
		return fmt.Errorf("cluster: reading the members: %w", err)
	}
	m.reconcile(snap, mark)
	// The members' beats over core NATS (see beatSubject), noted as they
	// arrive; unsubscribed when the connection closes.
	if _, err := n.nc.Subscribe(beatSubject(n.cfg.Name, "*"), func(msg *nats.Msg) {
		if node, ok := strings.CutPrefix(msg.Subject, beatSubject(n.cfg.Name, "")); ok {
			m.beat(node, time.Now())
		}
	}); err != nil {
		return fmt.Errorf("cluster: following the members' beats: %w", err)
	}
	n.joined = true
	lctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(4)
	go func() { defer n.wg.Done(); n.beat(lctx, m) }()
	go func() { defer n.wg.Done(); n.poll(lctx, m) }()
	go func() { defer n.wg.Done(); n.watch(lctx, m) }()
	go func() { defer n.wg.Done(); n.pulse(lctx, m) }()
	n.log.Info("cluster: joined", "http_addr", httpAddr, "members", len(m.list()))
	return nil
}

// claimName creates this node's entry, which fails while another entry
// under the name lives: a node's own from before a crash expires within
// the TTL; one that outlives it belongs to another live node. While
// JetStream settles (a restarted server catching up, the bucket's stream
// electing a leader) the write is tried again until ctx ends; a write
// whose answer was lost but which was applied is recognised as this
// node's own entry.
func (n *Node) claimName(ctx context.Context, m *membership) error {
	data, err := json.Marshal(m.entry)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(n.cfg.LeaseTTL + 2*m.interval)
	logged := time.Now()
	for {
		attempt, cancel := context.WithTimeout(ctx, claimAttempt)
		rev, err := n.kv.Create(attempt, m.self, data)
		cancel()
		switch {
		case err == nil:
			m.put(m.self, data, rev, time.Now())
			return nil
		case errors.Is(err, jetstream.ErrKeyExists):
			if e, gerr := n.kv.Get(ctx, m.self); gerr == nil && bytes.Equal(e.Value(), data) {
				m.put(m.self, data, e.Revision(), time.Now())
				return nil // an earlier attempt's
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: %s is heartbeating under the name %s; give each node its own --node", ErrNameTaken, describeHolder(ctx, n.kv, m.self), m.self)
			}
		case ctx.Err() == nil && settling(err):
			if time.Since(logged) > 5*time.Second {
				n.log.Info("cluster: announcing this node: JetStream does not answer yet; trying again", "err", err)
				logged = time.Now()
			}
		default:
			return fmt.Errorf("cluster: announcing node %s: %w", m.self, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: announcing node %s: %w", m.self, ctx.Err())
		case <-time.After(m.interval / 2):
		}
	}
}

// claimAttempt bounds one write of claimName.
const claimAttempt = 2 * time.Second

// settling reports whether err says JetStream did not answer, or not yet:
// a stream electing its leader, a restarted server catching up. Such a
// write may be tried again.
func settling(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &api) && api.Code == 503
}

// describeHolder names the node holding the entry key, for an error.
func describeHolder(ctx context.Context, kv jetstream.KeyValue, key string) string {
	e, err := kv.Get(ctx, key)
	if err != nil {
		return "another node"
	}
	var v Member
	if json.Unmarshal(e.Value(), &v) != nil {
		return "another node"
	}
	return fmt.Sprintf("a node (HTTP %s, started %s)", v.HTTPAddr, v.Started.Format(time.RFC3339))
}

// beat writes this node's heartbeat into the member list every third of
// the TTL until ctx ends. It has a goroutine of its own, so that nothing
// but the write (to the bucket stream's leader) holds it up: a heartbeat
// late by more than the TTL is a member whose entry expired.
func (n *Node) beat(ctx context.Context, m *membership) {
	n.every(ctx, m.interval, "heartbeat", m.heartbeat)
}

// poll reads the whole member list every third of the TTL until ctx ends
// (see reconcile): the watch does not show an entry that expired. A poll
// is skipped while maxStops watches of earlier ones are still being
// stopped (see stopWatch): JetStream's meta leader, which creates and
// deletes the polls' consumers, is then gone or slow.
func (n *Node) poll(ctx context.Context, m *membership) {
	n.every(ctx, m.interval, "member poll", func(op context.Context) error {
		if m.stopping.Load() >= maxStops {
			return nil
		}
		snap, mark, err := m.snapshot(op)
		if err == nil {
			m.reconcile(snap, mark)
		}
		return err
	})
}

// every runs do with a deadline of interval, every interval until ctx
// ends, and logs when it starts failing and when it works again; what
// names it in the log.
func (n *Node) every(ctx context.Context, interval time.Duration, what string, do func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		op, cancel := context.WithTimeout(ctx, interval)
		err := do(op)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			n.log.Warn("cluster: "+what+" failed; retrying", "err", err)
			failing = true
		case err == nil && failing:
			n.log.Info("cluster: " + what + " works again")
			failing = false
		}
	}
}

// beatSubject is where node publishes its beats, every third of the
// lease TTL: core NATS, no JetStream, so that they go on while a stream
// elects a leader. With node "*", every member's.
func beatSubject(cluster, node string) string { return "wactor." + cluster + ".beat." + node }

// pulse publishes this node's beats until ctx ends. A publish does not
// wait on JetStream, so the beats keep their pace when heartbeats into the
// bucket stall.
func (n *Node) pulse(ctx context.Context, m *membership) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	subject := beatSubject(n.cfg.Name, n.cfg.Node)
	for {
		m.ran()
		_ = n.nc.Publish(subject, nil) // best effort: a lost beat is one of three in a TTL
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch applies the bucket's changes as they come, until ctx ends; the
// poll in beat catches what it misses.
func (n *Node) watch(ctx context.Context, m *membership) {
	for ctx.Err() == nil {
		w, err := n.kv.WatchAll(ctx, jetstream.UpdatesOnly())
		if err == nil {
			n.follow(ctx, m, w)
			_ = w.Stop()
		}
		select {
		case <-ctx.Done():
		case <-time.After(m.interval):
		}
	}
}

func (n *Node) follow(ctx context.Context, m *membership, w jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValuePut:
				m.put(e.Key(), e.Value(), e.Revision(), e.Created())
			default:
				// A delete is the member's own, as it leaves; a purge
				// is anyone's (see docs/cluster.md).
				m.remove(e.Key(), e.Revision(), e.Operation() == jetstream.KeyValueDelete)
			}
		}
	}
}

// SetState writes this node's state at once (StateActive once it serves).
func (n *Node) SetState(ctx context.Context, s State) error {
	if !s.valid() {
		return fmt.Errorf("cluster: unknown state %q", s)
	}
	n.mu.Lock()
	joined, closed := n.joined, n.closed
	n.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !joined:
		return errors.New("cluster: SetState before Join")
	}
	return n.members.setState(ctx, s)
}

// Close leaves the cluster: it marks the node leaving, stops applying
// asks (waiting for those being applied; later ones are answered "not
// served" until the connection closes), stops the heartbeats, deletes the
// node's entry (then it left drained, see Drained), and closes the NATS
// connection and the embedded server. The other members see it leave at
// once; had it died instead, they would within the TTL.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	var m *membership
	if n.joined {
		m = n.members
	}
	cancel := n.cancel
	n.mu.Unlock()

	// The writes to the bucket are best effort: when most servers are
	// gone already they cannot commit, and the entry expires anyway.
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, min(2*time.Second, n.cfg.LeaseTTL))
	}
	if m != nil {
		op, c := short()
		if err := m.setState(op, StateLeaving); err != nil {
			n.log.Warn("cluster: marking the node leaving", "err", err)
		}
		c()
	}
	err := n.tr.close(ctx)
	if m != nil {
		cancel()
		n.wg.Wait()
		// The deletion says the node left drained (see Drained): every
		// ask it took is answered. With asks still being applied, the
		// entry is left to expire, as a dead node's does.
		if err == nil {
			op, c := short()
			if derr := n.kv.Delete(op, m.self); derr != nil {
				n.log.Warn("cluster: deleting the node's entry; it expires within the TTL", "err", derr)
			}
			c()
		}
	}
	if n.nc != nil {
		n.nc.Close()
	}
	n.members.waitStops() // the connection closed: a stop pending ends
	if n.srv != nil {
		n.srv.leave()
	}
	n.log.Info("cluster: left")
	return err
}

// shutdown closes the connection and stops the embedded server.
func (n *Node) shutdown() {
	if n.nc != nil {
		n.nc.Close()
	}
	if n.srv != nil {
		n.srv.shutdown()
	}
}
