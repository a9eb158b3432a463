package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/wactor/wactor/storage"
)

var _ storage.Leases = (*Store)(nil)

// lease is an actor's lease as the store keeps it: its last holding.
type lease struct {
	storage.Lease
	released bool
}

func (l *lease) heldAt(now time.Time) bool {
	return l != nil && !l.released && now.Before(l.Expires)
}

// Claim gives owner the actor's lease, as storage.Leases says. Epochs
// come from one counter of the store, so they only grow.
func (s *Store) Claim(ctx context.Context, actor, owner string, ttl time.Duration) (storage.Lease, error) {
	if ttl <= 0 || owner == "" {
		return storage.Lease{}, fmt.Errorf("memstore: claim of %q: need an owner and a positive ttl (got %q, %s)", actor, owner, ttl)
	}
	if err := s.lock(ctx); err != nil {
		return storage.Lease{}, err
	}
	defer s.mu.Unlock()
	now := time.Now()
	l := s.leases[actor]
	switch {
	case l.heldAt(now) && l.Owner != owner:
		return l.Lease, storage.ErrLeaseHeld
	case l.heldAt(now):
		l.Expires = now.Add(ttl)
	default:
		var lapsed uint64
		if l != nil && !l.released {
			lapsed = l.Epoch
		}
		s.epochs++
		l = &lease{Lease: storage.Lease{Actor: actor, Owner: owner, Epoch: s.epochs, Expires: now.Add(ttl)}}
		s.leases[actor] = l
		out := l.Lease
		out.Lapsed = lapsed
		return out, nil
	}
	return l.Lease, nil
}

// Renew extends each lease still held at its epoch (expired or not, as
// long as no other holding began and it was not released).
func (s *Store) Renew(ctx context.Context, leases []storage.Lease, ttl time.Duration) ([]storage.Lease, []error) {
	out := make([]storage.Lease, len(leases))
	errs := make([]error, len(leases))
	if err := s.lock(ctx); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	defer s.mu.Unlock()
	now := time.Now()
	for i, want := range leases {
		l := s.leases[want.Actor]
		if !s.holds(want) || l.Owner != want.Owner {
			errs[i] = storage.ErrFenced
			continue
		}
		l.Expires = now.Add(ttl)
		out[i] = l.Lease
	}
	return out, errs
}

// Release gives l up if it is still held at its epoch.
func (s *Store) Release(ctx context.Context, l storage.Lease) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.holds(l) && s.leases[l.Actor].Owner == l.Owner {
		s.leases[l.Actor].released = true
	}
	return nil
}

// Holder returns the actor's unexpired lease.
func (s *Store) Holder(ctx context.Context, actor string) (storage.Lease, bool, error) {
	if err := s.lock(ctx); err != nil {
		return storage.Lease{}, false, err
	}
	defer s.mu.Unlock()
	l := s.leases[actor]
	if !l.heldAt(time.Now()) {
		return storage.Lease{}, false, nil
	}
	return l.Lease, true, nil
}

// holds reports whether the actor's last holding is the one at l.Epoch
// and was not released: what a fence checks.
func (s *Store) holds(l storage.Lease) bool {
	cur := s.leases[l.Actor]
	return cur != nil && cur.Epoch == l.Epoch && !cur.released
}
