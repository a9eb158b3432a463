package natsstore

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// Groups returns how many batches s's senders sent and how many commits
// they held.
func Groups(s *Store) (batches, commits uint64) { return s.groups.Load(), s.grouped.Load() }

// ReadsOnly returns a store that only reads stream through nc, as if it
// had seen its own write at acked acknowledged and held the leases of
// held, and LastFor reads with it.
func ReadsOnly(nc *nats.Conn, stream string, acked uint64, held ...string) *Store {
	s := &Store{cfg: Config{Conn: nc, Stream: stream, Timeout: 10 * time.Second, AttemptTimeout: time.Second},
		prefix: stream + ".", versions: make(map[string]versionAt), leases: make(map[string]leaseAt)}
	s.acked.Store(acked)
	for _, actor := range held {
		s.leases[actor] = leaseAt{epoch: 1, seq: acked}
	}
	return s
}

// Subjects returns the subjects of actor's version and lease in s.
func Subjects(s *Store, actor string) (version, lease string) {
	return s.subject(kindVersion, actor), s.subject(kindLease, actor)
}

// LastFor returns the sequences of the messages s.lastFor reads.
func LastFor(ctx context.Context, s *Store, filters ...string) ([]uint64, error) {
	msgs, err := s.lastFor(ctx, filters)
	var seqs []uint64
	for _, m := range msgs {
		seqs = append(seqs, m.Sequence)
	}
	return seqs, err
}

// PublishTwice sends msgs as one write, then again with the same message
// id, as a write whose answer was lost is sent again, and returns the
// sequences the two attempts report.
func PublishTwice(ctx context.Context, s *Store, msgs []*nats.Msg) (first, second uint64, err error) {
	msgs, id := withMsgID(msgs)
	if first, err = s.publishID(ctx, msgs, id, false); err != nil {
		return 0, 0, err
	}
	second, err = s.publishID(ctx, msgs, id, false)
	return first, second, err
}

// PublishAgainAfter sends msgs as one write, then each of between, then
// msgs again with the same message id, as a write whose answer was lost
// is sent again after other writers moved on, and returns the sequences
// the two attempts of msgs report.
func PublishAgainAfter(ctx context.Context, s *Store, msgs []*nats.Msg, between ...[]*nats.Msg) (first, second uint64, err error) {
	msgs, id := withMsgID(msgs)
	if first, err = s.publishID(ctx, msgs, id, false); err != nil {
		return 0, 0, err
	}
	for _, b := range between {
		b, bid := withMsgID(b)
		if _, err = s.publishID(ctx, b, bid, false); err != nil {
			return 0, 0, err
		}
	}
	second, err = s.publishID(ctx, msgs, id, false)
	return first, second, err
}

// Expect sets m's expectation on subject's last sequence.
func Expect(m *nats.Msg, subject string, seq uint64) { expect(m, subject, seq) }
