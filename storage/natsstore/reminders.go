package natsstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage"
)

// The due-time index. A reminder is kept twice, both written in one
// batch: under its actor and name (WACTOR.r.<actor>.<name>, which
// Reminders reads and which says where its index entry is), and under the
// hour it is due in (WACTOR.d.<hour>.<actor>.<name>). A marker
// WACTOR.db.<hour> says that hour may hold entries; markers are the only
// subjects DueReminders lists, so its cost follows the hours that hold
// reminders up to its bound and the reminders in the hours it reads, not
// every reminder stored. An hour found empty has its marker removed, with
// an expectation on the marker's sequence read before the hour was read:
// a commit that files a reminder there meanwhile rewrites the marker, and
// the removal fails.

const (
	kindDue       = "d"
	kindDueMarker = "db"
)

// hour returns the index bucket of t: the hour since the Unix epoch, as
// 16 hex digits that sort in time order (the sign bit flipped).
func hour(t time.Time) string {
	h := t.Unix() / 3600
	if t.Unix() < 0 && t.Unix()%3600 != 0 {
		h--
	}
	return fmt.Sprintf("%016x", uint64(h)^(1<<63))
}

func (s *Store) dueSubject(r storage.Reminder) string {
	return s.prefix + kindDue + "." + hour(r.Due) + "." + token(r.Actor) + "." + token(r.Name)
}

// isMarker reports whether subject is a due-hour marker: markers may be
// written by several commits of one batch.
func (s *Store) isMarker(subject string) bool {
	return strings.HasPrefix(subject, s.prefix+kindDueMarker+".")
}

// planReminders adds b's reminder changes to p: for each reminder named,
// the record expecting the sequence read here, the old index entry
// removed when it moves, the new entry and its hour's marker.
func (s *Store) planReminders(ctx context.Context, p *plan, b *storage.Batch) error {
	type key struct{ actor, name string }
	final := make(map[key]*storage.Reminder)
	var order []key
	note := func(k key, r *storage.Reminder) {
		if _, ok := final[k]; !ok {
			order = append(order, k)
		}
		final[k] = r
	}
	for i := range b.Reminders {
		r := &b.Reminders[i]
		note(key{r.Actor, r.Name}, r)
	}
	for _, name := range b.CancelReminders {
		note(key{b.Actor, name}, nil)
	}
	subjects := make([]string, len(order))
	for i, k := range order {
		subjects[i] = s.subject(kindReminder, k.actor, k.name)
	}
	old := make(map[string]*jetstream.RawStreamMsg, len(subjects))
	for part := range slices.Chunk(subjects, 1000) {
		msgs, err := s.lastFor(ctx, part)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			old[m.Subject] = m
		}
	}
	for i, k := range order {
		subj := subjects[i]
		var seq uint64
		var was *storage.Reminder
		if m := old[subj]; m != nil {
			seq = m.Sequence
			if !deleted(m) {
				r, err := decodeReminder(m.Data)
				if err != nil {
					return fmt.Errorf("%w (subject %s)", err, subj)
				}
				was = &r
			}
		}
		r := final[k]
		if r == nil && was == nil {
			continue // cancelling what is not there
		}
		if was != nil && (r == nil || hour(was.Due) != hour(r.Due)) {
			p.tombstone(s.dueSubject(*was))
		}
		var m *nats.Msg
		if r == nil {
			p.tombstone(subj)
			m = p.msgs[p.index[subj]]
		} else {
			data := encodeReminder(*r)
			m = p.put(subj, data, nil)
			p.put(s.dueSubject(*r), data, nil)
			p.put(s.prefix+kindDueMarker+"."+hour(r.Due), nil, nil)
		}
		expect(m, subj, seq)
	}
	return nil
}

// DueReminders lists the hours that hold reminders up to before, reads
// them in order until limit reminders are found, and returns those due at
// or before before, earliest first.
func (s *Store) DueReminders(ctx context.Context, before time.Time, limit int) ([]storage.Reminder, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if limit == 0 {
		return nil, nil
	}
	hours, err := s.dueHours(ctx, hour(before))
	if err != nil {
		return nil, fmt.Errorf("natsstore: due reminders: %w", err)
	}
	var due []storage.Reminder
	for _, h := range hours {
		if limit > 0 && len(due) >= limit {
			break
		}
		found, err := s.readHour(ctx, h, before)
		if err != nil {
			return nil, fmt.Errorf("natsstore: due reminders: %w", err)
		}
		due = append(due, found...)
	}
	slices.SortFunc(due, func(a, b storage.Reminder) int {
		return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.Actor, b.Actor), strings.Compare(a.Name, b.Name))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

// dueHours lists the hours with a marker, up to last, in order.
func (s *Store) dueHours(ctx context.Context, last string) ([]string, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	info, err := s.stream.Info(ctx, jetstream.WithSubjectFilter(s.prefix+kindDueMarker+".*"))
	if err != nil {
		return nil, unavailable(err)
	}
	var hours []string
	for subj := range info.State.Subjects {
		h := subj[strings.LastIndexByte(subj, '.')+1:]
		if h <= last {
			hours = append(hours, h)
		}
	}
	slices.Sort(hours)
	return hours, nil
}

// readHour returns the reminders of hour h due at or before before, and
// removes the hour's marker when it holds none.
func (s *Store) readHour(ctx context.Context, h string, before time.Time) ([]storage.Reminder, error) {
	msubj := s.prefix + kindDueMarker + "." + h
	marker, err := s.last(ctx, msubj)
	if err != nil || marker == nil || deleted(marker) {
		return nil, err
	}
	msgs, err := s.lastForOrScan(ctx, s.prefix+kindDue+"."+h+".*.*")
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		m := &nats.Msg{Subject: msubj, Header: nats.Header{hdrDeleted: {"1"}, jetstream.MsgTTLHeader: {tombstoneTTL}}}
		expect(m, msubj, marker.Sequence)
		// A commit that filed a reminder in this hour since makes this
		// fail, and the marker stays: nothing to report either way.
		if _, err := s.publish(ctx, []*nats.Msg{m}); err != nil && !wrongSequence(err) {
			return nil, err
		}
		return nil, nil
	}
	var due []storage.Reminder
	for _, m := range msgs {
		r, err := decodeReminder(m.Data)
		if err != nil {
			return nil, fmt.Errorf("%w (subject %s)", err, m.Subject)
		}
		if !r.Due.After(before) {
			due = append(due, r)
		}
	}
	return due, nil
}
