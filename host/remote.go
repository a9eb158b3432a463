package host

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// Remote connects a host to the other nodes of a cluster, so that any
// node reaches any actor (see docs/cluster.md, "Routing"). The host
// imports nothing of the cluster: the program that runs it adapts its
// cluster node to this interface, and hands what other nodes send to
// Host.ServeAsk and Host.ServeDelivery.
type Remote interface {
	// Owner names the node that should serve ref: the preferred active
	// member, with self true when that is this node; "" when no member
	// is known to be active.
	Owner(ref abi.Ref) (node string, self bool)
	// Ask sends req to node, which serves it with ServeAsk, and waits for
	// the reply until ctx's deadline. A *NotServedError means node did
	// not apply it.
	Ask(ctx context.Context, node string, req *RemoteAsk) ([]byte, error)
	// Deliver hands committed outbox messages to node, which queues them
	// with ServeDelivery, and returns the targets node refused, each with
	// the owner it names ("" for none). On an error node may or may not
	// have taken them.
	Deliver(ctx context.Context, node string, msgs []storage.Message) (refused map[string]string, err error)
}

// RemoteAsk is an ask on its way to another node.
type RemoteAsk struct {
	Target  abi.Ref
	Method  string
	Payload []byte
	Sender  string // "type/id" of the asking actor; "" from outside
	ID      string // the message's id
	Key     string // idempotency key; "" for none
	// Chain lists the actors whose asks led to this one, the first caller
	// first: the ask fails with deadlock when its target is in it, unless
	// the target is reentrant and the turn its entry names waits (an
	// entry of a reentrant actor is "type/id", NUL, the name of its
	// asking turn; see reentry.go).
	Chain []string
	// Trace is the W3C trace context (a traceparent value) the target's
	// turn continues, or "".
	Trace string
	// Hops counts the nodes the ask was sent to so far, this one
	// included; a node forwards it only while Hops is below MaxHops.
	Hops int
}

// MaxHops is how many nodes an ask may be sent to, one after the other,
// before one of them answers: the first node sends it to the node it
// believes serves the target, which may forward it once more (to the
// holder of the target's lease); the last one serves it or says it does
// not (NotServedError), and the first node tries again.
const MaxHops = 2

// MaxChain is the longest call chain an ask may carry across nodes; an
// ask that would make it longer fails with bad_request.
const MaxChain = 256

// NotServedError says a node did not apply a message because it does not
// serve its target now: another node holds the actor's lease, this node
// lost it, or the node is not running or is leaving. Nothing of the
// message was applied, so it may be sent again, to Owner when that names
// a node. It unwraps to an *abi.Error with code unavailable.
type NotServedError struct {
	Owner string
	Err   *abi.Error
}

func (e *NotServedError) Error() string { return e.Err.Error() }

// Unwrap returns the *abi.Error.
func (e *NotServedError) Unwrap() error { return e.Err }

// Transient reports true: the message may be sent again (the scheduler
// logs the activations it fails quietly).
func (e *NotServedError) Transient() bool { return true }

func notServedError(owner, msg string) *NotServedError {
	return &NotServedError{Owner: owner, Err: abi.NewError(abi.CodeUnavailable, msg)}
}

// Backoff between the tries of an ask whose target is moving.
const (
	minRetryBackoff = 2 * time.Millisecond
	maxRetryBackoff = 100 * time.Millisecond
)

// maxHints bounds the owners the host remembers (see hints).
const maxHints = 4096

// hints remembers, for a short while, which node holds an actor's lease
// when that is not the node placement prefers (an actor moving, or one
// that a node still serves since before a member joined), so that the
// next message goes there at once.
type hints struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[abi.Ref]hint
}

type hint struct {
	node  string
	until time.Time
}

func (hs *hints) get(ref abi.Ref) string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	h, ok := hs.m[ref]
	if !ok {
		return ""
	}
	if time.Now().After(h.until) {
		delete(hs.m, ref)
		return ""
	}
	return h.node
}

func (hs *hints) set(ref abi.Ref, node string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.m == nil || len(hs.m) >= maxHints {
		hs.m = make(map[abi.Ref]hint)
	}
	hs.m[ref] = hint{node: node, until: time.Now().Add(hs.ttl)}
}

func (hs *hints) drop(ref abi.Ref, node string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h, ok := hs.m[ref]; ok && h.node == node {
		delete(hs.m, ref)
	}
}

// route names the node that serves ref: "" for this one. An activation
// here serves it; else the node last seen holding its lease; else the
// node placement prefers.
func (h *Host) route(ref abi.Ref) string {
	if h.sched.Has(ref) {
		return ""
	}
	if n := h.hints.get(ref); n != "" {
		return n
	}
	node, self := h.remote.Owner(ref)
	if self {
		return ""
	}
	return node
}

// noted learns from a NotServedError where ref is served.
func (h *Host) noted(ref abi.Ref, from string, err error) {
	var ns *NotServedError
	if !errors.As(err, &ns) {
		return
	}
	switch {
	case ns.Owner != "" && ns.Owner != h.node && ns.Owner != from:
		h.hints.set(ref, ns.Owner)
	case from != "":
		h.hints.drop(ref, from)
	}
}

// askRouted sends the ask m to the node that serves its target and waits
// for the reply until ctx's deadline (ctx has one). While no node serves
// the target (it is moving: its lease is held by a node that is leaving
// or died, or expired and not yet claimed) the ask is tried again, with
// a short backoff, until the deadline; nothing of a try that a node did
// not serve was applied.
func (h *Host) askRouted(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	if reply, done, err := h.chainBack(ctx, m); done {
		return reply, err
	}
	backoff := minRetryBackoff
	for tries := 1; ; tries++ {
		reply, err := h.askOnce(ctx, m, 0)
		var ns *NotServedError
		if err == nil || !errors.As(err, &ns) {
			return reply, err
		}
		deadline, _ := ctx.Deadline()
		wait := min(backoff, time.Until(deadline))
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			return nil, abi.NewError(abi.CodeTimeout, "no node served "+m.Target.String()+" before the deadline ("+itoa(tries)+" tries; last: "+ns.Err.Message+")")
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// chainBack handles an ask whose target is on its call chain, and reports
// whether it did (done): without it, the ask would wait for itself. It
// fails with deadlock, at once, unless the target is reentrant: then,
// where the target is served, the ask nests in the waiting turn its chain
// entry names (see reentry.go), and fails with deadlock when that turn no
// longer waits; elsewhere, it goes on to that node (done is false). An
// ask whose target is not on its chain is not done either.
func (h *Host) chainBack(ctx context.Context, m *scheduler.Message) (reply []byte, done bool, err error) {
	target := m.Target.String()
	if len(m.Chain) > MaxChain {
		return nil, true, abi.NewError(abi.CodeBadRequest, "ask to "+target+": a call chain of "+itoa(len(m.Chain))+" actors, over "+itoa(MaxChain))
	}
	on := func(e string) bool { ref, _ := splitChainEntry(e); return ref == target }
	first := slices.IndexFunc(m.Chain, on)
	if first < 0 {
		return nil, false, nil
	}
	refs := make([]string, 0, len(m.Chain)-first+1)
	for _, e := range m.Chain[first:] {
		ref, _ := splitChainEntry(e)
		refs = append(refs, ref)
	}
	cycle := abi.NewError(abi.CodeDeadlock, "ask cycle: "+strings.Join(append(refs, target), " -> "))
	if t, ok := h.lookupType(m.Target.Type); !ok || !t.current().cfg.Reentrant {
		return nil, true, cycle
	}
	if h.route(m.Target) != "" {
		return nil, false, nil // the node that serves it decides
	}
	last := len(m.Chain) - 1
	for !on(m.Chain[last]) {
		last--
	}
	_, token := splitChainEntry(m.Chain[last])
	if reply, nested, err := h.sched.AskNestedIn(ctx, m, token); nested {
		return reply, true, err
	}
	return nil, true, cycle
}

// askOnce tries the ask m once, where route says, having come through
// hops nodes: here, or on another node. A try here that finds the lease
// held elsewhere goes on to the holder, while the hops allow.
func (h *Host) askOnce(ctx context.Context, m *scheduler.Message, hops int) ([]byte, error) {
	node := h.route(m.Target)
	if node != "" && !h.live(node) {
		// Its heartbeats stopped, so it holds no lease for long: go where
		// placement says, or, when that is a silent node too, serve the
		// actor here once the lease lapses, rather than wait on it.
		h.hints.drop(m.Target, node)
		if node = h.route(m.Target); node != "" && !h.live(node) {
			node = ""
		}
	}
	if node == "" {
		try := *m // the scheduler owns what it sends, per ask
		reply, err := h.sched.Ask(ctx, &try)
		if e := (*abi.Error)(nil); errors.As(err, &e) && e == scheduler.ErrClosed {
			// The node is shutting down and its turn never ran: another
			// node serves the actor once this one has let it go.
			return nil, notServedError("", "node "+h.node+" is shutting down")
		}
		var ns *NotServedError
		if err == nil || !errors.As(err, &ns) || ns.Owner == "" || ns.Owner == h.node || hops >= MaxHops {
			if ns != nil && ns.Owner != "" && ns.Owner != h.node {
				h.hints.set(m.Target, ns.Owner)
			}
			return reply, err
		}
		h.hints.set(m.Target, ns.Owner)
		if !h.live(ns.Owner) {
			return nil, err // tried again, here, once its lease lapses
		}
		node = ns.Owner
	} else if hops >= MaxHops {
		return nil, notServedError(node, "node "+h.node+" does not serve "+m.Target.String()+": node "+node+" does")
	}
	return h.askRemote(ctx, node, m, hops+1)
}

// askRemote sends the ask m to node as its hops-th.
func (h *Host) askRemote(ctx context.Context, node string, m *scheduler.Message, hops int) ([]byte, error) {
	req := &RemoteAsk{Target: m.Target, Method: m.Method, Payload: m.Payload, Sender: refString(m.Sender), ID: m.ID, Key: m.Key,
		Chain: m.Chain, Trace: m.Trace, Hops: hops}
	resume := h.sched.Blocking(ctx) // a turn waiting on another node lets others run
	reply, err := h.askWatched(ctx, node, req)
	resume()
	h.noted(m.Target, node, err)
	return reply, err
}

// live reports whether node still heartbeats, as far as the Remote can
// tell (true when it cannot).
func (h *Host) live(node string) bool {
	l, ok := h.remote.(Liveness)
	return !ok || l.Live(node)
}

// Liveness is a capability a Remote may have: whether node is still a
// member of the cluster (its heartbeats go on). With it, an ask sent to a
// node that dies or is paused ends when the node drops out of the member
// list, about a lease TTL later, instead of at the caller's deadline.
// Both are asked on every ask sent to another node, so both must be cheap:
// a lookup, no goroutine.
type Liveness interface {
	// Live reports whether node's heartbeats go on.
	Live(node string) bool
	// LiveContext returns a context canceled once node is no longer live
	// (canceled already when it is not live now).
	LiveContext(node string) context.Context
}

// Drainer is a capability a Remote with Liveness may have: whether a
// node that is no longer live left drained, that is, it left the cluster
// on purpose after answering every ask it had taken (a graceful leave),
// rather than dying or pausing.
type Drainer interface {
	// Drained reports whether node left drained.
	Drained(node string) bool
}

// DrainGrace is how long an ask waits for its answer from a node that
// left drained (see Drainer) before it is taken as not applied and sent
// again elsewhere: the node answered every ask it took before it left,
// so an answer still to come is already on its way.
const DrainGrace = time.Second

// askWatched sends req to node and, when the Remote has Liveness, gives
// up on node once it is no longer a member. A node that left drained
// (see Drainer) applied the ask only if its answer arrives within
// DrainGrace: without one, the ask goes again, elsewhere. Whether a node
// that stopped answering otherwise (it died or is paused) applied the
// ask is unknown: a keyed ask is sent again (its idempotency record
// makes a second application impossible), any other fails with timeout
// at once, saying so.
func (h *Host) askWatched(ctx context.Context, node string, req *RemoteAsk) ([]byte, error) {
	live, ok := h.remote.(Liveness)
	if !ok || h.own == nil {
		return h.remote.Ask(ctx, node, req)
	}
	// The node's liveness cancels the ask: a callback registered on its
	// context, run only if the node goes silent.
	lctx := live.LiveContext(node)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var drained atomic.Bool
	unwatch := context.AfterFunc(lctx, func() {
		if d, ok := h.remote.(Drainer); ok && d.Drained(node) {
			drained.Store(true)
			time.AfterFunc(DrainGrace, cancel)
			return
		}
		cancel()
	})
	reply, err := h.remote.Ask(tctx, node, req)
	gone := !unwatch()
	var ns *NotServedError
	if err == nil || !gone || ctx.Err() != nil || errors.As(err, &ns) {
		return reply, err
	}
	h.hints.drop(req.Target, node)
	if drained.Load() {
		return nil, notServedError("", "node "+node+" left the cluster without applying the ask to "+req.Target.String()+"; sent again")
	}
	if req.Key != "" {
		return nil, notServedError("", "node "+node+" left the cluster with the keyed ask to "+req.Target.String()+" in hand; sent again")
	}
	return nil, abi.NewError(abi.CodeTimeout, "node "+node+" left the cluster (it died or is paused) with the ask to "+req.Target.String()+
		" in hand: whether it was applied is unknown; send it with an Idempotency-Key to retry it safely")
}

// ServeAsk applies an ask that another node sent to this one (see
// Remote): here, when this node serves the target; else it forwards it
// once more, while req.Hops allows, or answers with a *NotServedError
// naming the node that does. ctx bounds the wait (the caller's deadline).
func (h *Host) ServeAsk(ctx context.Context, req *RemoteAsk) ([]byte, error) {
	if h.remote == nil {
		return nil, notServedError("", "this host is not in a cluster")
	}
	if h.closing() {
		return nil, notServedError("", "node "+h.node+" is shutting down")
	}
	if _, err := h.check(req.Target, req.Method, req.Payload); err != nil {
		return nil, err
	}
	m := &scheduler.Message{ID: req.ID, Key: req.Key, Target: req.Target, Method: req.Method, Payload: req.Payload,
		Chain: req.Chain, Trace: req.Trace}
	if req.Sender != "" {
		s, err := abi.ParseRef(req.Sender)
		if err != nil {
			return nil, abi.NewError(abi.CodeBadRequest, "sender of an ask from another node: "+err.Error())
		}
		m.Sender = s
	}
	if m.ID == "" {
		m.ID = h.ids.next()
	}
	if reply, done, err := h.chainBack(ctx, m); done {
		return reply, err
	}
	hops := req.Hops
	if h.leavingCluster() {
		// A leaving node serves only the actors it still holds; it
		// forwards nothing, so that no ask it sent on is in hand when it
		// stops: the sender, told where the target is, sends it there.
		hops = MaxHops
	}
	// The target's turn continues req.Trace, the asking span's context.
	return h.askOnce(ctx, m, hops)
}
