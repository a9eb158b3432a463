package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reads of many subjects, checked against the store's own writes.
//
// A paged direct get (a batch of messages from a sequence on) is
// answered by any replica of the stream, and its end says nothing of how
// current that replica is, unlike a multi-subject read (see direct). A
// read that must see at least what this store saw acknowledged (the
// state of an actor, its reminders, a set of links) and matches more
// subjects than one multi-subject read returns (1,024) therefore does
// not page with direct gets: it lists the matching subjects with a
// stream info, which only the stream's leader answers and whose state
// says its last sequence (a listing from before the store's last
// acknowledged write is asked again), then reads their last messages in
// multi-subject reads of up to 1,000 subjects, each checked as direct
// checks them. The paged direct gets that remain (Outbox, OutboxPage,
// DeadLetters) serve readers that come back, for whom a view moments
// old is enough: see their comments.

// infoAnswer is the part of a stream info answer subjects reads.
type infoAnswer struct {
	Error *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
	Total int `json:"total"`
	State struct {
		LastSeq  uint64            `json:"last_seq"`
		Subjects map[string]uint64 `json:"subjects"`
	} `json:"state"`
}

// infoRequest asks for the subjects that match a filter, from offset on.
type infoRequest struct {
	Filter string `json:"subjects_filter"`
	Offset int    `json:"offset,omitempty"`
}

// subjects lists the subjects of the stream that match filter, as the
// stream's leader has them once it reflects the store's last
// acknowledged write. The server answers up to 100,000 subjects a page;
// more are read page by page, in the server's (sorted) order.
func (s *Store) subjects(ctx context.Context, filter string) ([]string, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var out []string
	for offset := 0; ; {
		a, err := s.infoOnce(ctx, infoRequest{Filter: filter, Offset: offset})
		if err != nil {
			return nil, err
		}
		for subj := range a.State.Subjects {
			out = append(out, subj)
		}
		offset += len(a.State.Subjects)
		if len(a.State.Subjects) == 0 || offset >= a.Total {
			return out, nil
		}
	}
}

// infoOnce sends req until the leader answers with a state that reflects
// the store's last acknowledged write. Like direct, it sends a request
// again when no server answers within the attempt's patience (the
// stream electing a leader, a paused server).
func (s *Store) infoOnce(ctx context.Context, req infoRequest) (infoAnswer, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return infoAnswer{}, err
	}
	patience := s.cfg.AttemptTimeout
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		need := s.acked.Load()
		attempt, cancel := context.WithTimeout(ctx, patience)
		msg, err := s.cfg.Conn.RequestWithContext(attempt, "$JS.API.STREAM.INFO."+s.cfg.Stream, data)
		cancel()
		patience = min(patience*3/2, 4*s.cfg.AttemptTimeout)
		var a infoAnswer
		switch {
		case err == nil:
			if err = json.Unmarshal(msg.Data, &a); err != nil {
				return infoAnswer{}, fmt.Errorf("natsstore: stream info of %q: %w", s.cfg.Stream, err)
			}
			if a.Error == nil && a.State.LastSeq >= need {
				return a, nil
			}
			if a.Error != nil && a.Error.Code != 503 {
				return infoAnswer{}, fmt.Errorf("natsstore: stream info of %q: %d %s", s.cfg.Stream, a.Error.Code, a.Error.Description)
			}
			err = errStale // or no leader yet (503): ask again
		case errors.Is(err, nats.ErrNoResponders), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		default:
			return infoAnswer{}, unavailable(err)
		}
		if ctx.Err() != nil {
			return infoAnswer{}, unavailable(err)
		}
		select {
		case <-ctx.Done():
			return infoAnswer{}, unavailable(err)
		case <-time.After(wait):
		}
	}
}

// latestChecked returns the last message of every subject that matches
// filter, tombstones left out, reflecting at least the store's last
// acknowledged write (see the top of this file). A subject written while
// it reads may come from before or after that write.
func (s *Store) latestChecked(ctx context.Context, filter string) (map[string]*jetstream.RawStreamMsg, error) {
	subjects, err := s.subjects(ctx, filter)
	if err != nil {
		return nil, err
	}
	latest := make(map[string]*jetstream.RawStreamMsg, len(subjects))
	for part := range slices.Chunk(subjects, 1000) {
		if err := s.readLast(ctx, part, latest); err != nil {
			return nil, err
		}
	}
	return latest, nil
}

// emptyRereads bounds how often readLast asks again when none of the
// subjects the leader listed has a message (see readLast).
const emptyRereads = 5

// readLast reads the last messages of subjects into latest, tombstones
// left out, in one multi-subject read, or in halves when the answer would
// be too large for one. An answer that finds none of them says nothing
// of how current its replica is (see direct): the subjects were listed by
// the leader, so it is most likely a replica that lags, and is asked
// again a few times; past that the subjects are taken as gone (their
// tombstones expired since the listing).
func (s *Store) readLast(ctx context.Context, subjects []string, latest map[string]*jetstream.RawStreamMsg) error {
	msgs, err := s.lastFor(ctx, subjects)
	wait := 2 * time.Millisecond
	for range emptyRereads {
		if err != nil || len(msgs) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return unavailable(ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		msgs, err = s.lastFor(ctx, subjects)
	}
	if errors.Is(err, errTooMany) && len(subjects) > 1 {
		half := len(subjects) / 2
		if err := s.readLast(ctx, subjects[:half], latest); err != nil {
			return err
		}
		return s.readLast(ctx, subjects[half:], latest)
	}
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if !deleted(m) {
			latest[m.Subject] = m
		}
	}
	return nil
}
