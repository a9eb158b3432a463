package natsstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Config says where a Store keeps its data. Conn is required; the other
// fields have defaults (see DefaultConfig).
type Config struct {
	// Conn is the connection to the NATS server or cluster. The Store uses
	// it and never closes it: the caller owns it.
	Conn *nats.Conn
	// Stream names the JetStream stream that holds everything, and is the
	// first token of every subject the store writes ("<Stream>.>"). Stores
	// opened with the same Stream on the same NATS system share their
	// data; that is how the nodes of a cluster share one store. Letters,
	// digits, '-' and '_' only.
	Stream string
	// Replicas is how many servers keep a copy of the stream: 1 for a
	// single server, 3 for a cluster of three or more (a commit is then
	// acknowledged once a majority has it).
	Replicas int
	// MaxInflight bounds the atomic batches this Store has open on the
	// stream at once, and is the number of its group-commit senders:
	// Commits waiting while all are busy are sent together, as one batch.
	// The server refuses more than 50 open batches per stream (its
	// max_batch_inflight_per_stream), shared by every node; the store
	// retries that refusal until Timeout.
	MaxInflight int
	// MaxBatch is the most messages one Commit may write; a larger batch
	// fails with ErrBatchTooLarge. It must not exceed the server's
	// max_batch_size (1000 unless configured).
	MaxBatch int
	// Timeout bounds each request to JetStream that the caller's context
	// does not bound, and the wait for a commit's acknowledgement once its
	// batch has started (from then on the caller's context is not heeded,
	// so that an error means the batch was not applied; see Commit).
	Timeout time.Duration
	// AttemptTimeout bounds the first attempt of a read, and of a lease's
	// claim, renewal or release: an attempt that gets no answer in time
	// is sent again, each time with half as long again to wait (up to 4
	// times AttemptTimeout), until Timeout (or the caller's context) ends. A
	// request sent while JetStream elects a stream's leader, or to a
	// server that is paused, gets no answer; the next attempt reaches the
	// new leader as soon as there is one, so a lease is taken over within
	// about this much of JetStream answering again. A commit is sent
	// again the same way, with the same message id: the stream refuses
	// the second as a duplicate if the first was applied (its leader
	// moved while the answer was on its way), and the commit succeeds.
	AttemptTimeout time.Duration
}

// DefaultConfig returns a Config on nc with the defaults: stream
// "WACTOR", one replica, 4 batches in flight, 1000 messages a batch, a
// 10 s timeout, attempts of 500 ms.
func DefaultConfig(nc *nats.Conn) Config {
	return Config{Conn: nc, Stream: "WACTOR", Replicas: 1, MaxInflight: 4, MaxBatch: 1000, Timeout: 10 * time.Second,
		AttemptTimeout: 500 * time.Millisecond}
}

// validate checks c, filling in zero fields from DefaultConfig.
func (c Config) validate() (Config, error) {
	d := DefaultConfig(c.Conn)
	if c.Conn == nil {
		return c, errors.New("natsstore: Config.Conn is nil: connect to NATS first")
	}
	if c.Stream == "" {
		c.Stream = d.Stream
	}
	if !validName(c.Stream) {
		return c, fmt.Errorf("natsstore: Config.Stream %q: use letters, digits, '-' and '_' only", c.Stream)
	}
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		return c, fmt.Errorf("natsstore: Config.Replicas is %d: want 1 to 5", c.Replicas)
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = d.MaxInflight
	}
	if c.MaxInflight < 1 || c.MaxInflight > 1000 {
		return c, fmt.Errorf("natsstore: Config.MaxInflight is %d: want 1 to 1000", c.MaxInflight)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxBatch < 2 {
		return c, fmt.Errorf("natsstore: Config.MaxBatch is %d: want 2 or more", c.MaxBatch)
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Timeout < 0 {
		return c, fmt.Errorf("natsstore: Config.Timeout is %s: want a positive duration", c.Timeout)
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = min(d.AttemptTimeout, c.Timeout)
	}
	if c.AttemptTimeout < 0 || c.AttemptTimeout > c.Timeout {
		return c, fmt.Errorf("natsstore: Config.AttemptTimeout is %s: want a positive duration, at most Timeout (%s)", c.AttemptTimeout, c.Timeout)
	}
	return c, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
