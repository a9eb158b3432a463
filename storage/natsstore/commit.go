package natsstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/wactor/wactor/storage"
)

// plan is the messages of one atomic batch, built from a storage.Batch.
type plan struct {
	msgs  []*nats.Msg
	index map[string]int // subject -> its message in msgs: a later write replaces an earlier
	// The expectations the batch carries, so that a failed batch can be
	// told apart: a fence that moved, a version that moved, or a race to
	// retry.
	version      *versionAt
	statsChecked bool
}

func (p *plan) put(subject string, data []byte, hdr nats.Header) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: data, Header: hdr}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	if i, ok := p.index[subject]; ok {
		p.msgs[i] = m
		return m
	}
	p.index[subject] = len(p.msgs)
	p.msgs = append(p.msgs, m)
	return m
}

func (p *plan) tombstone(subject string) {
	p.put(subject, nil, nats.Header{hdrDeleted: {"1"}, jetstream.MsgTTLHeader: {tombstoneTTL}})
}

// expect makes m carry the expectation that subject's last sequence is
// seq.
func expect(m *nats.Msg, subject string, seq uint64) {
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
	if subject != m.Subject {
		m.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, subject)
	}
}

func hasExpectation(m *nats.Msg) bool { return m.Header.Get(jetstream.ExpectedLastSubjSeqHeader) != "" }

// Commit applies b as one JetStream atomic batch (or, when it is one
// message, one publish). A batch that changes state expects the
// sequence of the actor's version message, and a fenced batch the
// sequence of the actor's epoch message, both checked by the server
// inside the batch: when either moved, nothing is applied. ctx is
// heeded until the batch is sent; then Commit waits for the server's
// answer (at most Config.Timeout), so that an error other than
// ErrUnavailable means nothing of b was applied.
func (s *Store) Commit(ctx context.Context, b *storage.Batch) error {
	done, err := s.using(ctx)
	if err != nil {
		return err
	}
	defer done()
	if b.Empty() {
		return nil
	}
	for attempt := 1; ; attempt++ {
		p, err := s.plan(ctx, b)
		if err != nil {
			return err
		}
		seq, err := s.submit(ctx, p.msgs)
		if err == nil {
			if p.version != nil {
				// The version message is the batch's last.
				s.noteVersion(b.Actor, versionAt{b.Version + 1, seq})
			}
			return nil
		}
		if !wrongSequence(err) {
			return fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		if err := s.diagnose(ctx, b); err != nil {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("natsstore: commit (actor %q): lost %d races with other writers; try again", b.Actor, attempt)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		}
	}
}

// diagnose says why a batch's expectations failed: ErrFenced when the
// actor's epoch moved, ErrVersionConflict when its version did, nil when
// neither (the batch lost a race it may retry).
func (s *Store) diagnose(ctx context.Context, b *storage.Batch) error {
	if f := b.Fence; f != nil {
		m, err := s.last(ctx, s.subject(kindEpoch, f.Actor))
		if err != nil {
			return fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		if m == nil || m.Sequence != f.Epoch {
			return storage.ErrFenced
		}
	}
	if b.ChangesState() {
		v, err := s.readVersion(ctx, b.Actor)
		if err != nil {
			return fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		if v.version != b.Version {
			return storage.ErrVersionConflict
		}
	}
	return nil
}

// plan builds the messages of b. What it reads (the version's sequence,
// where consumed messages are, dead letter totals) it reads before the
// batch; the batch's expectations make the server refuse it if any of
// that changed since.
func (s *Store) plan(ctx context.Context, b *storage.Batch) (*plan, error) {
	p := &plan{index: make(map[string]int)}
	if b.ChangesState() {
		v, err := s.version(ctx, b.Actor, b.Version)
		if err != nil {
			return nil, fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		if v.version != b.Version {
			if err := s.diagnose(ctx, b); err != nil {
				return nil, err
			}
			return nil, storage.ErrVersionConflict
		}
		p.version = &v
		for k, v := range b.Puts {
			p.put(s.subject(kindState, b.Actor, k), append([]byte{}, v...), nil)
		}
		for _, k := range b.Deletes {
			p.tombstone(s.subject(kindState, b.Actor, k))
		}
	}
	if len(b.Consumed) > 0 {
		found, err := s.outboxEntries(ctx, b.Actor, b.Consumed)
		if err != nil {
			return nil, fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		if b.ConsumeOnce {
			gone := b.ConsumedTwice()
			for _, id := range b.Consumed {
				if _, ok := found[id]; !ok && !slices.Contains(gone, id) {
					gone = append(gone, id)
				}
			}
			if len(gone) > 0 {
				return nil, &storage.ConsumedError{IDs: gone}
			}
		}
		for _, e := range found {
			p.tombstone(e.subject)
			if b.ConsumeOnce {
				// Consumed once: the server refuses the batch if another
				// commit consumed the entry since it was read.
				expect(p.msgs[p.index[e.subject]], e.subject, e.seq)
			}
		}
	}
	for _, m := range b.Send {
		p.put(s.subject(kindOutbox, m.Target, m.ID), encodeMessage(nil, m), nil)
	}
	if err := s.planRecords(ctx, p, b); err != nil {
		return nil, err
	}
	for _, l := range b.Links {
		p.put(s.subject(kindLink, l.Set, l.Member), append([]byte{}, l.Value...), nil)
	}
	for _, l := range b.Unlinks {
		p.tombstone(s.subject(kindLink, l.Set, l.Member))
	}
	if len(b.Reminders) > 0 || len(b.CancelReminders) > 0 {
		if err := s.planReminders(ctx, p, b); err != nil {
			return nil, fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
	}
	if len(b.DeadLetters) > 0 || len(b.ClearDeadLetters) > 0 || b.DeadLetterCap != (storage.DeadLetterCap{}) {
		if err := s.planDeadLetters(ctx, p, b); err != nil {
			return nil, fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, err)
		}
		p.statsChecked = true
	}
	if p.version != nil {
		// Last, so that its sequence is the batch's acknowledged one and
		// every state message of a commit is older than its version.
		vsubj := s.subject(kindVersion, b.Actor)
		expect(p.put(vsubj, []byte(strconv.FormatUint(b.Version+1, 10)), nil), vsubj, p.version.seq)
	}
	if f := b.Fence; f != nil {
		esubj := s.subject(kindEpoch, f.Actor)
		i := slices.IndexFunc(p.msgs, func(m *nats.Msg) bool { return !hasExpectation(m) })
		if i < 0 {
			// Every message carries an expectation already: the fence
			// gets a message of its own, which the server soon drops.
			p.msgs = slices.Insert(p.msgs, 0, &nats.Msg{Subject: s.subject(kindFence, f.Actor),
				Header: nats.Header{jetstream.MsgTTLHeader: {tombstoneTTL}, hdrDeleted: {"1"}}})
			i = 0
		}
		expect(p.msgs[i], esubj, f.Epoch)
	}
	if len(p.msgs) > s.cfg.MaxBatch {
		return nil, fmt.Errorf("%w: actor %q: %d messages, at most %d (%d puts, %d deletes, %d sends, %d consumed, %d records, %d reminders, %d dead letters)",
			ErrBatchTooLarge, b.Actor, len(p.msgs), s.cfg.MaxBatch, len(b.Puts), len(b.Deletes), len(b.Send), len(b.Consumed), len(b.Records),
			len(b.Reminders)+len(b.CancelReminders), len(b.DeadLetters)+len(b.ClearDeadLetters))
	}
	return p, nil
}

// outboxEntry is where an outbox entry is: its subject and sequence.
type outboxEntry struct {
	subject string
	seq     uint64
}

// outboxEntries finds the outbox entries ids: first among the messages to
// actor (those a turn consumes), then anywhere. IDs with no entry are
// left out.
func (s *Store) outboxEntries(ctx context.Context, actor string, ids []string) (map[string]outboxEntry, error) {
	found := make(map[string]outboxEntry, len(ids))
	left := make(map[string]bool, len(ids))
	for _, id := range ids {
		left[id] = true
	}
	find := func(filters []string) error {
		for part := range slices.Chunk(filters, 1000) {
			msgs, err := s.lastFor(ctx, part)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				id, err := lastToken(m.Subject)
				if err != nil {
					return err
				}
				if !deleted(m) && left[id] {
					delete(left, id)
					found[id] = outboxEntry{subject: m.Subject, seq: m.Sequence}
				}
			}
		}
		return nil
	}
	// The subject is <stream>.o.<target>.<id>: the target is known first
	// when the turn consumes its own messages.
	var filters []string
	if actor != "" {
		for _, id := range ids {
			filters = append(filters, s.subject(kindOutbox, actor, id))
		}
		if err := find(filters); err != nil {
			return nil, err
		}
	}
	filters = filters[:0]
	for id := range left {
		filters = append(filters, s.prefix+kindOutbox+".*."+token(id))
	}
	if len(filters) > 0 {
		if err := find(filters); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// publish sends msgs as one atomic batch, or one publish when there is
// one, and returns the sequence of the last. It waits for a slot among
// the batches this store has in flight while ctx allows; once the first
// message is sent it waits for the answer for at most Config.Timeout,
// whatever ctx says. An attempt that gets no answer within
// Config.AttemptTimeout (longer for each next one) is sent again, with
// the same message id, so that the stream applies it at most once.
func (s *Store) publish(ctx context.Context, msgs []*nats.Msg) (uint64, error) {
	return s.publishWith(ctx, msgs, false)
}

// publishLease is publish for a lease's claim, renewal or release, and
// for other writes that a caller's context should bound: the attempts go
// on while ctx (and Config.Timeout) allow, so that the write reaches a
// stream leader elected meanwhile without waiting out the whole timeout.
func (s *Store) publishLease(ctx context.Context, msgs []*nats.Msg) (uint64, error) {
	return s.publishWith(ctx, msgs, true)
}

func (s *Store) publishWith(ctx context.Context, msgs []*nats.Msg, again bool) (uint64, error) {
	// Every attempt carries the same message id, so that the stream
	// applies at most one of them: an attempt whose answer is lost (the
	// stream's leader moved while it was in flight) is sent again, and
	// the stream refuses the second as a duplicate if the first was
	// applied.
	msgs, id := withMsgID(msgs)
	return s.publishID(ctx, msgs, id, again)
}

// publishID is publishWith for msgs whose first message carries the id.
func (s *Store) publishID(ctx context.Context, msgs []*nats.Msg, id string, again bool) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	base := context.WithoutCancel(ctx)
	if again {
		base = ctx
	}
	sent, cancel := context.WithTimeout(base, s.cfg.Timeout)
	defer cancel()
	if len(msgs) > 1 {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		defer func() { <-s.slots }()
	}
	// A large batch (a renewal of many leases) takes longer.
	patience := s.cfg.AttemptTimeout * time.Duration(1+len(msgs)/100)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		// Each attempt after an unanswered one waits half as long again,
		// up to 4 times the first: a server that is only slow (loaded) is
		// not sent a stream of batches it has to abandon.
		d := patience
		patience = min(patience*3/2, 4*s.cfg.AttemptTimeout*time.Duration(1+len(msgs)/100))
		attempt, stop := context.WithTimeout(sent, d)
		// A batch's first message is acknowledged on its own, for at
		// most d: until it is, nothing else of the batch is sent.
		var opts []jetstreamext.PublishMsgBatchOpt
		if len(msgs) > 1 {
			opts = append(opts, jetstreamext.BatchFlowControl{AckFirst: true, AckTimeout: d})
		}
		var seq uint64
		var err error
		if len(msgs) == 1 {
			// A duplicate is acknowledged with the first one's sequence.
			var ack *jetstream.PubAck
			if ack, err = s.js.PublishMsg(attempt, msgs[0]); err == nil {
				seq = ack.Sequence
			}
		} else {
			var ack *jetstreamext.BatchAck
			if ack, err = jetstreamext.PublishMsgBatch(attempt, s.js, msgs, opts...); err == nil {
				seq = ack.Sequence
			}
		}
		unanswered := sent.Err() == nil && (attempt.Err() != nil || errors.Is(err, nats.ErrTimeout))
		stop()
		if err == nil {
			s.sawWrite(seq)
			return seq, nil
		}
		if apiCode(err) == jetstreamext.JSErrCodeBatchPublishDuplicateMsgID {
			// An earlier attempt was applied, its messages one after
			// the other.
			seq, err := s.appliedAs(sent, msgs, id)
			if err != nil {
				return 0, err
			}
			s.sawWrite(seq)
			return seq, nil
		}
		// Not applied, and may go again: no server took the first
		// message (the stream is electing a leader), or other stores
		// (other nodes) fill the stream's batches in flight, or an
		// earlier attempt is still being applied (the next one learns
		// its outcome), or another write to a subject this one expects
		// on is still being applied (see jsErrCodeSubjectInProcess). Or
		// no answer came: the next attempt is applied only if this one
		// was not.
		code := apiCode(err)
		retry := unanswered || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
			code == jetstreamext.JSErrCodeAtomicPublishTooManyInflight || code == jsErrCodeDuplicateInProcess ||
			code == jsErrCodeSubjectInProcess
		if !retry || sent.Err() != nil {
			return 0, sendError(err)
		}
		select {
		case <-sent.Done():
			return 0, sendError(sent.Err())
		case <-time.After(wait):
		}
	}
}

// jsErrCodeDuplicateInProcess: a message with the same id is being
// applied (JetStream's JSStreamDuplicateMessageConflict).
const jsErrCodeDuplicateInProcess jetstream.ErrorCode = 10158

// jsErrCodeSubjectInProcess is "wrong last sequence" without a sequence
// (JetStream's JSStreamWrongLastSequenceConstantErr). A stream leader
// answers it, without deciding, to a message that expects a subject's
// last sequence while another write to that subject is proposed and not
// yet applied; it also removes that write from its in-process set only
// after acknowledging it, so a writer that sends its next write on the
// subject as soon as the last is acknowledged (a lease renewed in a loop)
// can meet it with the right sequence. The message was not applied: it is
// sent again, and a real mismatch then comes back with its sequence
// (JSErrCodeStreamWrongLastSequence). This store never makes a batch the
// leader refuses with this code for its shape (an expectation on a
// subject written earlier in the same batch, or on the stream's last
// sequence).
const jsErrCodeSubjectInProcess = jetstream.JSErrCodeStreamWrongLastSequenceConstant

// withMsgID returns msgs with a new message id on the first one (a copy:
// the caller's messages are not changed), and the id. JetStream checks a
// batch's message ids, before its expectations, against those it applied
// within the stream's duplicate window, and refuses a batch that repeats
// one.
func withMsgID(msgs []*nats.Msg) ([]*nats.Msg, string) {
	id := nuid.Next()
	first := *msgs[0]
	first.Header = make(nats.Header, len(msgs[0].Header)+1)
	for k, v := range msgs[0].Header {
		first.Header[k] = v
	}
	first.Header.Set(jetstream.MsgIDHeader, id)
	return append([]*nats.Msg{&first}, msgs[1:]...), id
}

// appliedAs returns the sequence of the last message of msgs, a batch
// that the stream applied with the message id id, once a read of its first
// message's subject shows it (a replica may answer from before it). When
// other writes to that subject came after it (another writer saw the
// batch applied before this store learnt it was), the batch's messages
// may be gone (a subject keeps its last message only) and its sequence
// with them: it returns the later write's sequence instead, which is
// after the batch's, so that reads of this store still see the batch. A
// later write is known as such by the batch's expectation on its own
// first subject: a message there after the one expected came after the
// batch.
func (s *Store) appliedAs(ctx context.Context, msgs []*nats.Msg, id string) (uint64, error) {
	first := msgs[0]
	after, perr := strconv.ParseUint(first.Header.Get(jetstream.ExpectedLastSubjSeqHeader), 10, 64)
	own := perr == nil && cmp.Or(first.Header.Get(jetstream.ExpectedLastSubjSeqSubjHeader), first.Subject) == first.Subject
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		m, err := s.last(ctx, first.Subject)
		switch {
		case err != nil || m == nil:
		case m.Header.Get(jetstream.MsgIDHeader) == id:
			return m.Sequence + uint64(len(msgs)-1), nil
		case own && m.Sequence > after:
			return m.Sequence, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w (the commit was applied, but its sequence could not be read): %w", ErrUnavailable, cmp.Or(err, ctx.Err()))
		case <-time.After(wait):
		}
	}
}

// sendError describes the failure of a batch already sent: an answer from
// the server means it was not applied; no answer means that is unknown.
func sendError(err error) error {
	if apiCode(err) != 0 || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return unavailable(err) // refused or not received: not applied
	}
	if errors.Is(unavailable(err), ErrUnavailable) {
		return fmt.Errorf("%w (no answer to the commit: it may or may not have been applied): %w", ErrUnavailable, err)
	}
	return err
}

// planRecords adds b's idempotency records, each expecting its subject to
// be as a read just before found it. Two nodes can both miss a record (a
// direct get may be answered by a replica that lags) and run the same
// keyed message; this makes the second commit fail instead of applying
// the message twice. A record found live refuses the batch at once.
func (s *Store) planRecords(ctx context.Context, p *plan, b *storage.Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	subjects := make([]string, 0, len(b.Records))
	for _, r := range b.Records {
		if subj := s.subject(kindRecord, r.Key); !slices.Contains(subjects, subj) {
			subjects = append(subjects, subj)
		}
	}
	// The records' last messages, in one read per 1000 keys.
	lasts := make(map[string]*jetstream.RawStreamMsg, len(subjects))
	for part := range slices.Chunk(subjects, 1000) {
		msgs, err := s.lastFor(ctx, part)
		if err != nil {
			return fmt.Errorf("natsstore: commit (actor %q): %d idempotency records: %w", b.Actor, len(b.Records), err)
		}
		for _, m := range msgs {
			if old, ok := lasts[m.Subject]; !ok || old.Sequence < m.Sequence {
				lasts[m.Subject] = m
			}
		}
	}
	now := time.Now()
	for _, r := range b.Records {
		subj := s.subject(kindRecord, r.Key)
		var seq uint64
		if last := lasts[subj]; last != nil {
			seq = last.Sequence
			if !deleted(last) {
				if old, err := decodeRecord(last.Data); err == nil && now.Before(old.Expires) {
					return fmt.Errorf("natsstore: commit (actor %q): %w", b.Actor, storage.ErrRecorded)
				}
			}
		}
		ttl := max(r.Expires.Sub(now), 0).Truncate(time.Second) + 2*time.Second
		expect(p.put(subj, encodeRecord(r), nats.Header{jetstream.MsgTTLHeader: {ttl.String()}}), subj, seq)
	}
	return nil
}
