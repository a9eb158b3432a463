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
// had seen its own write at acked acknowledged, and LastFor reads with it.
func ReadsOnly(nc *nats.Conn, stream string, acked uint64) *Store {
	s := &Store{cfg: Config{Conn: nc, Stream: stream, Timeout: 10 * time.Second, AttemptTimeout: time.Second}}
	s.acked.Store(acked)
	return s
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
