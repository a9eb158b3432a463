package natsstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage"
)

// Outbox reads every outbox entry, page by page, and sorts them by ID.
// Like the pages, it is not checked against the store's last write (see
// fresh.go): a replica that lags may leave out an entry committed moments
// ago, or list one consumed moments ago. Its readers come back (a host
// reads it at start; a cluster's sweep uses OutboxPage), and a
// consumption is checked inside the commit.
func (s *Store) Outbox(ctx context.Context) ([]storage.Message, error) {
	return storage.OutboxFromPages(ctx, s.OutboxPage)
}

// OutboxPage reads the outbox entries from stream sequence cursor on
// ("" for 1), in stream order, which is the order they were committed,
// in one direct get of at most limit messages; tombstones are left out,
// so a page may hold fewer. The next cursor is the sequence after the
// last message read. Like every paged read it is not checked against
// the store's last acknowledged write (see direct): a replica that lags
// may leave out entries committed moments ago or list entries consumed
// moments ago, which the contract allows (the sweep that walks the
// outbox takes only entries older than a lease TTL, and a commit that
// consumes an entry twice is refused inside the commit).
func (s *Store) OutboxPage(ctx context.Context, cursor string, limit int) ([]storage.Message, string, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, "", err
	}
	defer done()
	seq := uint64(1)
	if cursor != "" {
		if seq, err = strconv.ParseUint(cursor, 10, 64); err != nil || seq == 0 {
			return nil, "", fmt.Errorf("natsstore: outbox cursor %q is not one OutboxPage gave", cursor)
		}
	}
	var msgs []storage.Message
	var last *jetstream.RawStreamMsg
	_, err = s.direct(ctx, directRequest{Seq: seq, NextFor: s.prefix + kindOutbox + ".>", Batch: storage.OutboxPageLimit(limit)}, func(m *jetstream.RawStreamMsg) error {
		last = m
		if deleted(m) {
			return nil
		}
		msg, err := decodeMessage(m.Data)
		if err != nil {
			return fmt.Errorf("%w (subject %s)", err, m.Subject)
		}
		msgs = append(msgs, msg)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("natsstore: outbox page from %d: %w", seq, err)
	}
	if last == nil || last.Header.Get(hdrNumPending) == "0" {
		return msgs, "", nil
	}
	return msgs, strconv.FormatUint(last.Sequence+1, 10), nil
}

// Recorded reads the record under key.
func (s *Store) Recorded(ctx context.Context, key string) ([]byte, bool, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	m, err := s.last(ctx, s.subject(kindRecord, key))
	if err != nil {
		return nil, false, fmt.Errorf("natsstore: record %q: %w", key, err)
	}
	if m == nil || deleted(m) {
		return nil, false, nil
	}
	r, err := decodeRecord(m.Data)
	if err != nil {
		return nil, false, err
	}
	if time.Now().After(r.Expires) {
		return nil, false, nil
	}
	if r.Reply == nil {
		r.Reply = []byte{}
	}
	return r.Reply, true, nil
}

// Reminders reads the actor's reminders in one request (in pages past
// 1024) and sorts them by name.
func (s *Store) Reminders(ctx context.Context, actor string) ([]storage.Reminder, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	msgs, err := s.lastForOrScan(ctx, s.subject(kindReminder, actor)+".*")
	if err != nil {
		return nil, fmt.Errorf("natsstore: reminders of %q: %w", actor, err)
	}
	var list []storage.Reminder
	for _, m := range msgs {
		r, err := decodeReminder(m.Data)
		if err != nil {
			return nil, fmt.Errorf("%w (subject %s)", err, m.Subject)
		}
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b storage.Reminder) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// lastForOrScan returns the messages, tombstones left out, of the subjects
// filter matches: in one request, or, when there are too many, listed and
// read as latestChecked does. Either way it reflects the store's last
// acknowledged write.
func (s *Store) lastForOrScan(ctx context.Context, filter string) ([]*jetstream.RawStreamMsg, error) {
	msgs, err := s.lastFor(ctx, []string{filter})
	if errors.Is(err, errTooMany) {
		latest, err := s.latestChecked(ctx, filter)
		msgs = msgs[:0]
		for _, m := range latest {
			msgs = append(msgs, m)
		}
		return msgs, err
	}
	return slices.DeleteFunc(msgs, deleted), err
}

// DeadLetters scans the dead letters' subjects and returns a page of them
// in ID order. Its cost follows the number kept, which the dead letter cap
// bounds. Like Outbox it is a listing for an operator, not checked
// against the store's last write (see fresh.go): a letter kept or removed
// moments ago may show as it was.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]storage.DeadLetter, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if limit <= 0 {
		return nil, nil
	}
	latest, err := s.scanLatest(ctx, s.prefix+kindDead+".*")
	if err != nil {
		return nil, fmt.Errorf("natsstore: dead letters: %w", err)
	}
	type entry struct {
		id string
		m  *jetstream.RawStreamMsg
	}
	var page []entry
	for _, m := range latest {
		id, err := lastToken(m.Subject)
		if err != nil {
			return nil, err
		}
		if id > after {
			page = append(page, entry{id, m})
		}
	}
	slices.SortFunc(page, func(a, b entry) int { return strings.Compare(a.id, b.id) })
	page = page[:min(len(page), limit)]
	list := make([]storage.DeadLetter, len(page))
	for i, e := range page {
		d, err := decodeDeadLetter(e.m.Data)
		if err != nil {
			return nil, fmt.Errorf("%w (subject %s)", err, e.m.Subject)
		}
		if d.PayloadLen > storage.MaxListedPayload {
			d.Message.Payload = nil
		}
		list[i] = d
	}
	return list, nil
}

// DeadLetter reads the dead letter id.
func (s *Store) DeadLetter(ctx context.Context, id string) (storage.DeadLetter, bool, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.DeadLetter{}, false, err
	}
	defer done()
	m, err := s.last(ctx, s.subject(kindDead, id))
	if err != nil {
		return storage.DeadLetter{}, false, fmt.Errorf("natsstore: dead letter %q: %w", id, err)
	}
	if m == nil || deleted(m) {
		return storage.DeadLetter{}, false, nil
	}
	d, err := decodeDeadLetter(m.Data)
	return d, err == nil, err
}

// DeadLetterStats reads the totals that every batch with dead letters
// keeps up to date.
func (s *Store) DeadLetterStats(ctx context.Context) (storage.DeadLetterStats, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.DeadLetterStats{}, err
	}
	defer done()
	st, _, err := s.readStats(ctx)
	return st, err
}

func (s *Store) readStats(ctx context.Context) (storage.DeadLetterStats, uint64, error) {
	m, err := s.last(ctx, s.prefix+kindStats)
	if err != nil {
		return storage.DeadLetterStats{}, 0, fmt.Errorf("natsstore: dead letter totals: %w", err)
	}
	if m == nil {
		return storage.DeadLetterStats{}, 0, nil
	}
	st, err := decodeStats(m.Data)
	return st, m.Sequence, err
}

// planDeadLetters adds b's dead letter changes to p, with the totals they
// lead to, expecting the totals' sequence read here: concurrent batches
// with dead letters are serialised by that expectation (the loser is built
// again). A cap that is exceeded scans the letters kept to find the lowest
// IDs; one batch drops at most what fits in it, and the next capped batch
// drops the rest.
func (s *Store) planDeadLetters(ctx context.Context, p *plan, b *storage.Batch) error {
	st, seq, err := s.readStats(ctx)
	if err != nil {
		return err
	}
	// sizes holds what each letter named in b counts now: -1 for none.
	sizes := make(map[string]int64)
	var subjects []string
	for _, id := range b.ClearDeadLetters {
		subjects = append(subjects, s.subject(kindDead, id))
	}
	for _, d := range b.DeadLetters {
		subjects = append(subjects, s.subject(kindDead, d.Message.ID))
	}
	for part := range slices.Chunk(subjects, 1000) {
		for _, subj := range part {
			id, _ := lastToken(subj)
			sizes[id] = -1
		}
		msgs, err := s.lastFor(ctx, part)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if deleted(m) {
				continue
			}
			id, err := lastToken(m.Subject)
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(m.Header.Get(hdrSize), 10, 64)
			if err != nil {
				return fmt.Errorf("natsstore: dead letter %q has no size", id)
			}
			sizes[id] = n
		}
	}
	drop := func(id string) {
		if n := sizes[id]; n >= 0 {
			st.Count--
			st.Bytes -= n
			sizes[id] = -1
		}
	}
	for _, id := range b.ClearDeadLetters {
		drop(id)
		p.tombstone(s.subject(kindDead, id))
	}
	for _, d := range b.DeadLetters {
		id := d.Message.ID
		drop(id)
		d.PayloadLen = len(d.Message.Payload)
		n := d.Size()
		p.put(s.subject(kindDead, id), encodeDeadLetter(d), nats.Header{hdrSize: {strconv.FormatInt(n, 10)}})
		sizes[id] = n
		st.Count++
		st.Bytes += n
	}
	c := b.DeadLetterCap
	over := func() bool { return (c.Count > 0 && st.Count > c.Count) || (c.Bytes > 0 && st.Bytes > c.Bytes) }
	if over() {
		// Checked: a letter another batch removed must not be counted
		// off the totals again.
		latest, err := s.latestChecked(ctx, s.prefix+kindDead+".*")
		if err != nil {
			return err
		}
		for _, m := range latest {
			id, err := lastToken(m.Subject)
			if err != nil {
				return err
			}
			if _, named := sizes[id]; named {
				continue // this batch decides it
			}
			n, err := strconv.ParseInt(m.Header.Get(hdrSize), 10, 64)
			if err != nil {
				return fmt.Errorf("natsstore: dead letter %q has no size", id)
			}
			sizes[id] = n
		}
		ids := make([]string, 0, len(sizes))
		for id, n := range sizes {
			if n >= 0 {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		room := s.cfg.MaxBatch - len(p.msgs) - 3 // the totals, the version and a fence
		for _, id := range ids {
			if !over() || room <= 0 {
				break
			}
			drop(id)
			st.Dropped++
			p.tombstone(s.subject(kindDead, id))
			room--
		}
	}
	subj := s.prefix + kindStats
	expect(p.put(subj, encodeStats(st), nil), subj, seq)
	return nil
}
