package host

import (
	"context"
	"fmt"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// Placement names the node of a cluster that should own each actor, as
// the host of one node sees it (package cluster implements it; the host
// knows it only through this interface). With a Placement the host hands
// over, at a turn boundary, every activation whose actor another node now
// prefers, and fires a durable reminder only where its actor is active or
// preferred.
type Placement interface {
	// Owner returns the preferred owner of ref among the active members,
	// and whether that is this node; "" when no member is active (the
	// node is joining or leaving, or sees no member).
	Owner(ref abi.Ref) (node string, self bool)
	// Changed returns a channel closed at the next change of the active
	// members. Call it again after it closes for the change after that.
	Changed() <-chan struct{}
}

// Prefers reports whether this node is the preferred owner of ref: always
// without a Placement; never while no member is active.
func (h *Host) Prefers(ref abi.Ref) bool {
	if h.placement == nil {
		return true
	}
	_, self := h.placement.Owner(ref)
	return self
}

// handoverLoop waits for changes of the placement until the host stops;
// at each it hands over the activations another node now prefers (see
// handover) and loads the reminders due again, so that those of actors
// this node now prefers fire here. It hands over every lease TTL as
// well: an actor activated here from a view of the members that was out
// of date (a call that raced a change) does not stay.
func (h *Host) handoverLoop() {
	defer h.wg.Done()
	changed := h.placement.Changed()
	tick := time.NewTicker(h.own.ttl)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
			h.handover()
			continue
		case <-changed:
		}
		// Taken before the handover, so that a change during it is not
		// missed.
		changed = h.placement.Changed()
		if h.closing() {
			return
		}
		h.handover()
		h.rem.rescan()
	}
}

// handover deactivates, at their next turn boundary, the activations
// whose actors another live member now prefers (movesAway): each runs its
// deactivate hook, commits, and releases its lease, so that the preferred
// node can claim it. While no member is active (this node is leaving, or
// sees none) nothing moves here: shutting down hands every activation
// over.
func (h *Host) handover() int {
	h.handMu.Lock()
	defer h.handMu.Unlock()
	if h.closing() {
		return 0
	}
	n := 0
	for _, ref := range h.sched.Activations() {
		if h.movesAway(ref) {
			if h.sched.Deactivate(ref, scheduler.ReasonMoved) {
				n++
			}
		}
	}
	if n > 0 {
		h.log.Info("handing actors over to the nodes that now own them", "activations", n)
	}
	return n
}

// movesAway reports whether the activation of ref should go to another
// node: one that placement prefers and that still heartbeats. A member
// list can name a silent member for a while (a paused node, or one that
// died while the list's stream elects a leader); handing an actor to it
// would only take it away from the node serving it, again every lease
// TTL, while calls that come here are served here once it has gone.
func (h *Host) movesAway(ref abi.Ref) bool {
	node, self := h.placement.Owner(ref)
	return node != "" && !self && h.live(node)
}

// leavingCluster reports whether HandOver was called: the node is leaving
// its cluster.
func (h *Host) leavingCluster() bool { return h.own != nil && h.own.leaving.Load() }

// HandOver hands over, at turn boundaries, every activation whose actor
// another member prefers, if that member still heartbeats (see
// movesAway), and waits until they have ended (their deactivate hooks
// committed and their leases released), or ctx ends. An activation whose
// preferred member went silent is not handed to it: it stays here until
// the host closes, which releases its lease, and the actor is claimed
// again wherever its next message goes. A node that leaves the cluster
// calls HandOver once its state says leaving, so that the others claim
// its actors while it still answers; it returns at once without a
// Placement. From then on the host forwards no ask that another node sent
// it (see ServeAsk) and activates nothing (see ownership.leaving).
func (h *Host) HandOver(ctx context.Context) error {
	if h.placement == nil || h.own == nil {
		return nil
	}
	h.own.leaving.Store(true)
	h.handover()
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		left := 0
		for _, ref := range h.sched.Activations() {
			if h.movesAway(ref) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("host: handing over: %d activations left: %w", left, ctx.Err())
		case <-time.After(wait):
		}
	}
}
