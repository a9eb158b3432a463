package natsstore

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage"
)

// leaseGrace is how long the server keeps a lease message after it
// expires (its TTL is the lease's plus this), so that a node whose clock
// is a little ahead still finds it.
const leaseGrace = time.Minute

// leaseState is an actor's lease as one read finds it.
type leaseState struct {
	epoch uint64 // the epoch subject's sequence; 0 if never claimed
	seq   uint64 // the lease subject's sequence; 0 if none
	rec   leaseRecord
}

func (st leaseState) heldAt(now time.Time) bool {
	return st.seq > 0 && !st.rec.released && now.Before(st.rec.expires)
}

func (st leaseState) lease(actor string) storage.Lease {
	return storage.Lease{Actor: actor, Owner: st.rec.owner, Epoch: st.epoch, Expires: st.rec.expires}
}

// readLease reads the actor's epoch and lease subjects in one request, so
// that the two agree.
func (s *Store) readLease(ctx context.Context, actor string) (leaseState, error) {
	esubj, lsubj := s.subject(kindEpoch, actor), s.subject(kindLease, actor)
	msgs, err := s.lastFor(ctx, []string{esubj, lsubj})
	if err != nil {
		return leaseState{}, fmt.Errorf("natsstore: lease of %q: %w", actor, err)
	}
	var st leaseState
	for _, m := range msgs {
		switch m.Subject {
		case esubj:
			st.epoch = m.Sequence
		case lsubj:
			if st.rec, err = decodeLease(m.Data); err != nil {
				return leaseState{}, err
			}
			st.seq = m.Sequence
		}
	}
	return st, nil
}

// leaseMsg is the message of a lease record. A held lease's message
// expires leaseGrace after the lease; a released one's is kept (no TTL),
// so that an epoch subject whose lease subject is gone tells that the
// last holding lapsed, not that it was released (see lapsed).
func (s *Store) leaseMsg(actor string, rec leaseRecord, ttl time.Duration) *nats.Msg {
	m := &nats.Msg{Subject: s.subject(kindLease, actor), Data: encodeLease(rec), Header: nats.Header{}}
	if !rec.released {
		keep := (ttl + leaseGrace).Truncate(time.Second)
		m.Header.Set(jetstream.MsgTTLHeader, keep.String())
	}
	return m
}

// lapsed returns the epoch of the last holding when it ended without a
// release: its lease message says it is not released, or the message is
// gone (a held lease's message expires; a released one's is kept) while
// the epoch is there. It is 0 when the lease was never claimed or was
// released. Only meaningful when the lease is not held.
func (st leaseState) lapsed() uint64 {
	if st.epoch == 0 || (st.seq > 0 && st.rec.released) {
		return 0
	}
	return st.epoch
}

// noteLease remembers the lease subject's sequence of a holding this store
// wrote, for Renew and Release; seq 0 forgets it.
func (s *Store) noteLease(actor string, epoch, seq uint64) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if seq == 0 {
		delete(s.leases, actor)
		return
	}
	if len(s.leases) >= cacheCap {
		clear(s.leases)
	}
	s.leases[actor] = leaseAt{epoch, seq}
}

// claimAttempts bounds the rounds of one Claim that lose a race to
// another writer of the same lease.
const claimAttempts = 5

// Claim reads the actor's lease and, when owner may take it, writes it
// with an expectation on what it read: a renewal writes the lease subject
// only; a new holding writes the epoch subject and the lease subject in
// one atomic batch, and its epoch is the epoch message's sequence.
// Expiry is judged by this node's clock against the holder's Expires;
// the fence, not the clock, is what keeps two nodes from committing.
func (s *Store) Claim(ctx context.Context, actor, owner string, ttl time.Duration) (storage.Lease, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.Lease{}, err
	}
	defer done()
	if ttl <= 0 || owner == "" {
		return storage.Lease{}, fmt.Errorf("natsstore: claim of %q: need an owner and a positive ttl (got %q, %s)", actor, owner, ttl)
	}
	for range claimAttempts {
		st, err := s.readLease(ctx, actor)
		if err != nil {
			return storage.Lease{}, err
		}
		now := time.Now()
		held := st.heldAt(now)
		if held && st.rec.owner != owner {
			return st.lease(actor), storage.ErrLeaseHeld
		}
		rec := leaseRecord{owner: owner, expires: now.Add(ttl)}
		m := s.leaseMsg(actor, rec, ttl)
		lsubj := m.Subject
		expect(m, lsubj, st.seq)
		var seq uint64
		epoch := st.epoch
		if held {
			seq, err = s.publishLease(ctx, []*nats.Msg{m})
		} else {
			esubj := s.subject(kindEpoch, actor)
			e := &nats.Msg{Subject: esubj, Data: []byte(owner), Header: nats.Header{}}
			expect(e, esubj, st.epoch)
			seq, err = s.publishLease(ctx, []*nats.Msg{e, m})
			// The batch's two messages are stored next to each other.
			epoch = seq - 1
		}
		if wrongSequence(err) {
			continue
		}
		if err != nil {
			return storage.Lease{}, fmt.Errorf("natsstore: claim of %q: %w", actor, err)
		}
		s.noteLease(actor, epoch, seq)
		l := storage.Lease{Actor: actor, Owner: owner, Epoch: epoch, Expires: rec.expires}
		if !held {
			l.Lapsed = st.lapsed()
		}
		return l, nil
	}
	return storage.Lease{}, fmt.Errorf("natsstore: claim of %q: lost %d races with other claims; try again", actor, claimAttempts)
}

// renewRounds bounds how often Renew sends its batch again after leases
// that were lost are taken out of it.
const renewRounds = 3

// Renew writes the leases' subjects in atomic batches, each expecting the
// sequence this store last wrote for the holding. It never writes the
// epoch subject, so it never disturbs a fenced commit in flight. When a
// batch fails, the leases are read to find those no longer held at their
// epoch (ErrFenced), and the rest are sent again.
func (s *Store) Renew(ctx context.Context, leases []storage.Lease, ttl time.Duration) ([]storage.Lease, []error) {
	out := make([]storage.Lease, len(leases))
	errs := make([]error, len(leases))
	done, err := s.using(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	defer done()
	for start := 0; start < len(leases); start += s.cfg.MaxBatch {
		end := min(start+s.cfg.MaxBatch, len(leases))
		s.renew(ctx, leases[start:end], ttl, out[start:end], errs[start:end])
	}
	return out, errs
}

func (s *Store) renew(ctx context.Context, leases []storage.Lease, ttl time.Duration, out []storage.Lease, errs []error) {
	seqs := make([]uint64, len(leases))
	for i, l := range leases {
		s.cacheMu.Lock()
		at, ok := s.leases[l.Actor]
		s.cacheMu.Unlock()
		if ok && at.epoch == l.Epoch {
			seqs[i] = at.seq
			continue
		}
		errs[i] = s.checkHolding(ctx, l, &seqs[i])
	}
	for round := 0; ; round++ {
		var msgs []*nats.Msg
		var which []int
		now := time.Now()
		for i, l := range leases {
			if errs[i] != nil {
				continue
			}
			out[i] = storage.Lease{Actor: l.Actor, Owner: l.Owner, Epoch: l.Epoch, Expires: now.Add(ttl)}
			m := s.leaseMsg(l.Actor, leaseRecord{owner: l.Owner, expires: out[i].Expires}, ttl)
			expect(m, m.Subject, seqs[i])
			msgs = append(msgs, m)
			which = append(which, i)
		}
		if len(msgs) == 0 {
			return
		}
		last, err := s.publishLease(ctx, msgs)
		if err == nil {
			// The batch's messages are stored next to each other.
			for k, i := range which {
				s.noteLease(leases[i].Actor, leases[i].Epoch, last-uint64(len(which)-1-k))
			}
			return
		}
		if !wrongSequence(err) || round == renewRounds {
			err = fmt.Errorf("natsstore: renew: %w", err)
			for _, i := range which {
				errs[i], out[i] = err, storage.Lease{}
			}
			return
		}
		for _, i := range which {
			errs[i] = s.checkHolding(ctx, leases[i], &seqs[i])
			if errs[i] != nil {
				out[i] = storage.Lease{}
			}
		}
	}
}

// checkHolding reads l's actor's lease: ErrFenced unless it is still l's
// holding (same epoch and owner, not released); otherwise it sets seq to
// the lease subject's sequence.
func (s *Store) checkHolding(ctx context.Context, l storage.Lease, seq *uint64) error {
	st, err := s.readLease(ctx, l.Actor)
	if err != nil {
		return err
	}
	if st.epoch != l.Epoch || st.seq == 0 || st.rec.owner != l.Owner || st.rec.released {
		s.noteLease(l.Actor, 0, 0)
		return storage.ErrFenced
	}
	*seq = st.seq
	return nil
}

// Release marks l's lease released, expecting the lease subject's
// sequence of l's holding; a lease no longer held at l.Epoch is left as
// it is. It keeps the epoch subject, so a later claim gets a new epoch.
func (s *Store) Release(ctx context.Context, l storage.Lease) error {
	done, err := s.using(ctx)
	if err != nil {
		return err
	}
	defer done()
	for range claimAttempts {
		var seq uint64
		if err := s.checkHolding(ctx, l, &seq); err == storage.ErrFenced {
			return nil
		} else if err != nil {
			return err
		}
		m := s.leaseMsg(l.Actor, leaseRecord{owner: l.Owner, released: true}, 0)
		expect(m, m.Subject, seq)
		_, err = s.publishLease(ctx, []*nats.Msg{m})
		if wrongSequence(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("natsstore: release of %q: %w", l.Actor, err)
		}
		s.noteLease(l.Actor, 0, 0)
		return nil
	}
	return fmt.Errorf("natsstore: release of %q: lost %d races with other writers; try again", l.Actor, claimAttempts)
}

// Holder reads the actor's lease and returns it unless it expired or was
// released.
func (s *Store) Holder(ctx context.Context, actor string) (storage.Lease, bool, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.Lease{}, false, err
	}
	defer done()
	st, err := s.readLease(ctx, actor)
	if err != nil || !st.heldAt(time.Now()) {
		return storage.Lease{}, false, err
	}
	return st.lease(actor), true, nil
}
