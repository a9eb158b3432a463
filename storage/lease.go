package storage

import (
	"context"
	"errors"
	"time"
)

// Errors of the ownership capability (Leases) and of fenced commits.
var (
	// ErrFenced: a Batch carried a Fence that no longer holds: the actor's
	// lease was taken by another node (or expired and was claimed again)
	// since the committing node claimed it. Nothing of the batch was
	// applied, and the node must drop the activation.
	ErrFenced = errors.New("storage: ownership lost")
	// ErrLeaseHeld: another owner holds an unexpired lease on the actor.
	ErrLeaseHeld = errors.New("storage: lease held by another owner")
)

// Lease is one owner's exclusive right to commit turns for one actor,
// until Expires unless renewed.
type Lease struct {
	Actor string // "type/id"
	Owner string // the node holding it
	// Epoch identifies this holding of the lease: it changes every time
	// the lease passes to an owner (a claim of a free or expired lease) and
	// never when the same holder renews it. A Fence names it.
	Epoch   uint64
	Expires time.Time
	// Lapsed, on a Lease that Claim returns when it began a new holding,
	// is the Epoch of the holding before it if that one ended without a
	// Release: it expired (its owner died, was paused or cut off, or
	// stopped renewing) and this claim took it over. It is 0 when there
	// was no holding before, when that one was released, and on every
	// other Lease. A host uses it to tell the watchers of an activation
	// that ended without telling them.
	Lapsed uint64
}

// Fence returns the fence a batch of l's actor carries so that it commits
// only while l is still the actor's holding.
func (l Lease) Fence() *Fence { return &Fence{Actor: l.Actor, Epoch: l.Epoch} }

// Fence makes a commit conditional on ownership: a Batch with a Fence is
// applied only if no other holding of Actor's lease has begun since the
// one at Epoch, checked inside the same atomic write as the rest of the
// batch, never as a separate read before it. A holding that merely
// expired, or was released, and that no one has claimed again does not
// fence: no other node can have committed since. A store without Leases
// rejects a batch that carries a Fence.
type Fence struct {
	Actor string
	Epoch uint64
}

// Leases is the optional capability of a store shared by several nodes
// (discover it with a type assertion): exclusive, expiring ownership of
// actors, and the fence that makes a lost lease unable to commit.
type Leases interface {
	// Claim gives owner the lease on actor for ttl: when no lease is held,
	// when it expired, or when owner already holds it (then it is renewed
	// and keeps its Epoch). Otherwise it returns ErrLeaseHeld and the
	// current holding.
	Claim(ctx context.Context, actor, owner string, ttl time.Duration) (Lease, error)
	// Renew extends each of leases by ttl from now, in as few writes as the
	// store can. The result has one entry per lease, in order: the renewed
	// lease, or an error (ErrFenced when it was released or another
	// holding began since its Epoch; a lease that expired with no one
	// claiming it is renewed). A renewal never fences its holder's
	// commits.
	Renew(ctx context.Context, leases []Lease, ttl time.Duration) ([]Lease, []error)
	// Release gives l up at once, so that another owner can claim it
	// without waiting for it to expire; a lease no longer held at its
	// Epoch is not an error.
	Release(ctx context.Context, l Lease) error
	// Holder returns the unexpired lease on actor, if any.
	Holder(ctx context.Context, actor string) (Lease, bool, error)
}
