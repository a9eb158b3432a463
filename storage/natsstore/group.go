package natsstore

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
)

// Group commit. A Store runs Config.MaxInflight senders. Each takes the
// next commit waiting, adds the others waiting behind it while their
// messages fit in one batch and touch none of the same subjects, and sends
// them as one atomic batch. The server's cost of a batch is mostly per
// batch (on a single-replica file stream it stages every batch in a file
// store of its own), so a busy store sends fewer, larger batches. When a
// group is refused, each of its commits is sent again alone, so that one
// commit's conflict decides only its own outcome.

// request is one commit waiting for a sender.
type request struct {
	msgs []*nats.Msg
	done chan result
}

type result struct {
	seq uint64 // the sequence of the request's last message
	err error
}

// errAlone: the group a commit was sent in was refused; the commit must
// be sent again on its own.
var errAlone = errors.New("natsstore: group refused")

// startSenders starts the senders; stopSenders (after no more requests
// can come) stops them and waits.
func (s *Store) startSenders() {
	s.requests = make(chan *request, s.cfg.MaxBatch)
	for range s.cfg.MaxInflight {
		s.senders.Go(s.send)
	}
}

func (s *Store) stopSenders() {
	close(s.requests)
	s.senders.Wait()
}

// submit hands msgs to a sender and waits for the outcome. ctx is heeded
// only until a sender has taken them.
func (s *Store) submit(ctx context.Context, msgs []*nats.Msg) (uint64, error) {
	r := &request{msgs: msgs, done: make(chan result, 1)}
	select {
	case s.requests <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	res := <-r.done
	if errors.Is(res.err, errAlone) {
		return s.publish(ctx, msgs)
	}
	return res.seq, res.err
}

// send is a sender's loop.
func (s *Store) send() {
	var next *request
	for {
		r := next
		next = nil
		if r == nil {
			var ok bool
			if r, ok = <-s.requests; !ok {
				return
			}
		}
		group := []*request{r}
		n := len(r.msgs)
		subjects := make(map[string]bool, n)
		for _, m := range r.msgs {
			subjects[m.Subject] = true
		}
	drain:
		for n < s.cfg.MaxBatch {
			select {
			case o, ok := <-s.requests:
				if !ok {
					break drain
				}
				if n+len(o.msgs) > s.cfg.MaxBatch || s.overlaps(subjects, o.msgs) {
					next = o
					break drain
				}
				for _, m := range o.msgs {
					subjects[m.Subject] = true
				}
				group = append(group, o)
				n += len(o.msgs)
			default:
				break drain
			}
		}
		s.sendGroup(group, n)
	}
}

// overlaps reports whether msgs write a subject of the group, other than
// a due-hour marker (written whole, with no expectation, by whoever files
// a reminder in that hour).
func (s *Store) overlaps(subjects map[string]bool, msgs []*nats.Msg) bool {
	for _, m := range msgs {
		if subjects[m.Subject] && !s.isMarker(m.Subject) {
			return true
		}
	}
	return false
}

// sendGroup sends the group's messages as one batch and answers each
// request.
func (s *Store) sendGroup(group []*request, n int) {
	msgs := group[0].msgs
	if len(group) > 1 {
		msgs = make([]*nats.Msg, 0, n)
		for _, r := range group {
			msgs = append(msgs, r.msgs...)
		}
	}
	seq, err := s.publish(context.Background(), msgs)
	if err != nil && len(group) > 1 && apiCode(err) != 0 {
		err = errAlone
	}
	s.grouped.Add(uint64(len(group)))
	s.groups.Add(1)
	// The batch's messages are stored one after the other: each
	// request's last message is followed by those of the later ones.
	after := uint64(0)
	for i := len(group) - 1; i >= 0; i-- {
		group[i].done <- result{seq: seq - after, err: err}
		after += uint64(len(group[i].msgs))
	}
}
