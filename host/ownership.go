package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// DefaultLeaseTTL is how long an activation's lease lives without being
// renewed, when Config.Node is set and Config.LeaseTTL is 0.
const DefaultLeaseTTL = 3 * time.Second

// ownership makes the activations of a host that shares its store with
// other nodes exclusive (see RATIONALE.md, "Single activation across
// nodes"): an activation claims its actor's lease before it loads the
// state, every batch it commits carries the lease's fence, one goroutine
// renews the leases of the live activations in batches every third of
// the TTL, and a deactivation releases its lease. A host whose store has
// no Leases, or that has no node name, has no ownership (nil), and none
// of this happens.
type ownership struct {
	leases storage.Leases
	owner  string
	ttl    time.Duration

	// leaving is set once the node hands everything over to leave the
	// cluster (Host.HandOver): from then on it claims no lease, so that
	// a message that reaches an activation just handed over is refused
	// (its sender tries the new owner) instead of activating it here
	// again, and it forwards no ask another node sent it (see
	// Host.ServeAsk). The host's only record of leaving.
	leaving atomic.Bool

	mu   sync.Mutex
	held map[*held]struct{}
}

// held is one activation's lease. The lease's epoch, and so its fence,
// never changes while the activation holds it.
type held struct {
	lease storage.Lease
	fence *storage.Fence
	// validUntil (Unix nanoseconds) is the time before which the lease is
	// known held: the start of its last claim or renewal plus the TTL.
	validUntil atomic.Int64
	// lost is set once the store said another holding began (a fenced
	// commit or renewal): the activation must be dropped.
	lost atomic.Bool
}

func newOwnership(st storage.Store, owner string, ttl time.Duration) (*ownership, error) {
	if owner == "" {
		return nil, nil
	}
	l, ok := st.(storage.Leases)
	if !ok {
		return nil, errors.New("host: Config.Node is set, but the store cannot share actors between nodes (it has no leases)")
	}
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	if ttl < 30*time.Millisecond {
		return nil, errors.New("host: Config.LeaseTTL is " + ttl.String() + ": want 30ms or more")
	}
	return &ownership{leases: l, owner: owner, ttl: ttl, held: make(map[*held]struct{})}, nil
}

// claim takes the lease of actor for a new activation. A lease another
// node holds fails with unavailable, naming that node.
func (o *ownership) claim(ctx context.Context, actor string) (*held, error) {
	if o.leaving.Load() {
		return nil, notServedError("", "node "+o.owner+" is leaving the cluster and activates nothing; "+actor+" is served by another node")
	}
	start := time.Now()
	l, err := o.leases.Claim(ctx, actor, o.owner, o.ttl)
	if errors.Is(err, storage.ErrLeaseHeld) {
		return nil, notServedError(l.Owner, actor+" is owned by node "+l.Owner)
	}
	if err != nil {
		return nil, notServedError("", "claiming the lease of "+actor+": "+err.Error())
	}
	h := &held{lease: l, fence: l.Fence()}
	h.validUntil.Store(start.Add(o.ttl).UnixNano())
	o.mu.Lock()
	o.held[h] = struct{}{}
	o.mu.Unlock()
	return h, nil
}

// release gives h up: at once in the store, unless it was lost.
func (o *ownership) release(ctx context.Context, h *held, log func(msg string, args ...any)) {
	o.mu.Lock()
	delete(o.held, h)
	o.mu.Unlock()
	if h.lost.Load() {
		return
	}
	if err := o.leases.Release(ctx, h.lease); err != nil {
		log("releasing a lease", "actor", h.lease.Actor, "err", err)
	}
}

// check is called at each turn boundary: it reports an error when the
// activation of h must be dropped, its lease lost. A lease not renewed
// within its TTL (the node was paused, or the store unreachable) is
// renewed first, so that a turn never reads state another node may have
// changed since.
func (o *ownership) check(ctx context.Context, h *held) error {
	if !h.lost.Load() && time.Now().UnixNano() >= h.validUntil.Load() {
		start := time.Now()
		_, errs := o.leases.Renew(ctx, []storage.Lease{h.lease}, o.ttl)
		switch err := errs[0]; {
		case errors.Is(err, storage.ErrFenced):
			h.lost.Store(true)
		case err != nil:
			return abi.NewError(abi.CodeUnavailable, "renewing the lease of "+h.lease.Actor+": "+err.Error())
		default:
			h.validUntil.Store(start.Add(o.ttl).UnixNano())
		}
	}
	if h.lost.Load() {
		return errOwnershipLost(h.lease.Actor)
	}
	return nil
}

func errOwnershipLost(actor string) error {
	return notServedError("", "this node lost the ownership of "+actor+" to another node; try again")
}

// fenced notes a commit's error: ErrFenced means the lease is lost.
func (o *ownership) fenced(h *held, err error) bool {
	if errors.Is(err, storage.ErrFenced) {
		h.lost.Store(true)
		return true
	}
	return false
}

// renewAll renews the leases of every live activation in one call.
func (o *ownership) renewAll(ctx context.Context, log func(msg string, args ...any)) {
	o.mu.Lock()
	hs := make([]*held, 0, len(o.held))
	for h := range o.held {
		if !h.lost.Load() {
			hs = append(hs, h)
		}
	}
	o.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	ls := make([]storage.Lease, len(hs))
	for i, h := range hs {
		ls[i] = h.lease
	}
	start := time.Now()
	_, errs := o.leases.Renew(ctx, ls, o.ttl)
	failed := 0
	var first error
	for i, err := range errs {
		switch {
		case err == nil:
			hs[i].validUntil.Store(start.Add(o.ttl).UnixNano())
		case errors.Is(err, storage.ErrFenced):
			hs[i].lost.Store(true) // dropped at its next turn boundary
		default:
			failed++
			first = err
		}
	}
	if failed > 0 {
		log("renewing leases", "failed", failed, "of", len(hs), "err", first)
	}
}

// renewLoop renews the leases every third of the TTL until stop closes.
func (o *ownership) renewLoop(stop <-chan struct{}, log func(msg string, args ...any)) {
	t := time.NewTicker(o.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), o.ttl/3)
			o.renewAll(ctx, log)
			cancel()
		}
	}
}
