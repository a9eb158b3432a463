package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage"
)

// Errors of a Store, besides those of package storage.
var (
	// ErrUnavailable: JetStream did not answer (no server, no quorum for
	// the stream, or a timeout). The error wraps the NATS error. A Commit
	// that fails with it after its batch was sent may or may not have been
	// applied: the message says which.
	ErrUnavailable = errors.New("natsstore: JetStream unavailable")
	// ErrBatchTooLarge: a Commit needs more messages than one atomic batch
	// may hold (Config.MaxBatch). Nothing of it was applied.
	ErrBatchTooLarge = errors.New("natsstore: batch too large for one atomic write")
)

// Headers the store puts on the messages it writes.
const (
	// hdrDeleted marks a tombstone: the subject's value is deleted. A
	// tombstone carries a short TTL, so the server drops it soon after.
	hdrDeleted = "Wactor-Deleted"
	// hdrSize is a dead letter's DeadLetter.Size, so that totals can be
	// kept without decoding letters.
	hdrSize = "Wactor-Size"
	// tombstoneTTL is how long a tombstone stays: the server's shortest.
	tombstoneTTL = "1s"
	// hdrNumPending is the header of a direct get answer that counts the
	// matching messages after this one.
	hdrNumPending = "Nats-Num-Pending"
	// hdrUpTo is the header of a multi-subject direct get's end of batch
	// that gives the stream sequence the answer reflects.
	hdrUpTo = "Nats-UpTo-Sequence"
)

// Subject kinds: the second token of every subject (see doc.go).
const (
	kindVersion  = "v"
	kindState    = "s"
	kindOutbox   = "o"
	kindRecord   = "k"
	kindReminder = "r"
	kindDead     = "x"
	kindStats    = "xs"
	kindEpoch    = "e"
	kindLease    = "l"
	kindFence    = "f"
	kindLink     = "n"
)

// maxAttempts bounds how often Commit builds and sends a batch again
// after it lost a race that does not decide its outcome (another batch
// changed the dead letter totals, or had the same subject in flight).
const maxAttempts = 20

// cacheCap bounds the versions and leases a Store remembers; past it the
// cache is dropped and filled again from reads.
const cacheCap = 1 << 18

// Store is a storage.Store and storage.Leases on one JetStream stream.
// Open one with Open; it must be closed.
type Store struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	prefix string // cfg.Stream + "."
	slots  chan struct{}

	// mu is held for reading by every call for its whole duration and for
	// writing by Close, so Close waits for the calls in flight.
	mu     sync.RWMutex
	closed bool

	requests chan *request
	senders  sync.WaitGroup
	groups   atomic.Uint64 // batches the senders sent
	grouped  atomic.Uint64 // commits in them
	// acked is the highest stream sequence of a write of this store's
	// that the stream acknowledged: a read must reflect it (see direct).
	acked atomic.Uint64

	cacheMu  sync.Mutex
	versions map[string]versionAt // actor -> its version and the sequence of its version message
	leases   map[string]leaseAt   // actor -> the lease subject's sequence for a holding this store made
}

type versionAt struct{ version, seq uint64 }
type leaseAt struct{ epoch, seq uint64 }

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Leases = (*Store)(nil)
)

// Open creates the stream cfg names, or updates its settings, and returns
// a Store on it.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("natsstore: open: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "wactor actor state, outbox, reminders, dead letters and leases",
		Subjects:    []string{cfg.Stream + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		// One message per subject: each subject is a key, its last
		// message the value.
		MaxMsgsPerSubject:  1,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		AllowMsgTTL:        true,
		DenyDelete:         true,
		DenyPurge:          true,
		// A write whose answer was lost is sent again with the same
		// message id for up to Timeout; the stream remembers the ids
		// this long, so that it applies the write once.
		Duplicates: 2 * cfg.Timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("natsstore: open stream %q: %w", cfg.Stream, unavailable(err))
	}
	if err := awaitLeader(ctx, stream); err != nil {
		return nil, fmt.Errorf("natsstore: open stream %q: no leader yet: %w", cfg.Stream, unavailable(err))
	}
	s := &Store{
		cfg:      cfg,
		js:       js,
		stream:   stream,
		prefix:   cfg.Stream + ".",
		slots:    make(chan struct{}, cfg.MaxInflight),
		versions: make(map[string]versionAt),
		leases:   make(map[string]leaseAt),
	}
	s.startSenders()
	return s, nil
}

// awaitLeader waits until a replicated stream has elected its leader, so
// that a Store is not handed out before a commit can reach one (a new
// replicated stream answers nothing until then).
func awaitLeader(ctx context.Context, stream jetstream.Stream) error {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		info, err := stream.Info(ctx)
		if err == nil && (info.Cluster == nil || info.Cluster.Leader != "" || info.Config.Replicas <= 1) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return err
		case <-time.After(wait):
		}
	}
}

// subject returns the subject of kind with the given tokens, each encoded.
func (s *Store) subject(kind string, parts ...string) string {
	n := len(s.prefix) + len(kind)
	for _, p := range parts {
		n += 1 + len(p)*4/3 + 1
	}
	b := make([]byte, 0, n)
	b = append(b, s.prefix...)
	b = append(b, kind...)
	for _, p := range parts {
		b = append(b, '.')
		b = append(b, token(p)...)
	}
	return string(b)
}

// using begins a call on the store: it fails when ctx is done or the store
// is closed, and otherwise holds off Close until done is called.
func (s *Store) using(ctx context.Context) (done func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, storage.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// Close waits for the calls in flight and closes the store. It does not
// close Config.Conn. A second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stopSenders()
	return nil
}

// bounded returns ctx bounded by the configured timeout.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// unavailable wraps err in ErrUnavailable when it says that JetStream did
// not answer; context errors and API errors pass as they are.
func unavailable(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, errStale):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// apiCode returns the JetStream error code in err, if it has one.
func apiCode(err error) jetstream.ErrorCode {
	var je jetstream.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		return je.APIError().ErrorCode
	}
	return 0
}

// wrongSequence reports whether err is an expectation that failed: a
// subject's last sequence was not the expected one.
func wrongSequence(err error) bool {
	c := apiCode(err)
	return c == jetstream.JSErrCodeStreamWrongLastSequence || c == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// last returns subject's last message, or nil when it has none. It is
// a direct get, sent again as direct says.
func (s *Store) last(ctx context.Context, subject string) (*jetstream.RawStreamMsg, error) {
	msgs, err := s.lastFor(ctx, []string{subject})
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	return msgs[0], nil
}

var (
	// errTooMany: a multi-subject read matched more subjects than the
	// server returns in one answer.
	errTooMany = errors.New("natsstore: too many subjects for one read")
	// errStale: a replica answered a read from before a write this store
	// saw acknowledged (see direct).
	errStale = errors.New("natsstore: a replica answered from before this store's last write")
)

// directRequest is a direct get of the stream: the last messages of
// subjects (MultiLast), or a page of messages from Seq on that match
// NextFor.
type directRequest struct {
	Seq       uint64   `json:"seq,omitempty"`
	NextFor   string   `json:"next_by_subj,omitempty"`
	Batch     int      `json:"batch,omitempty"`
	MultiLast []string `json:"multi_last,omitempty"`
}

// direct sends req and calls fn with each message of the answer. It
// returns the number of matching messages the answer left out, or
// errTooMany when the server refused to answer that many. Unlike a
// client that stops at a silence, it fails unless the answer ended with
// the server's end-of-batch marker: a read never returns part of an
// answer as if it were all. A request that no server answers, or whose
// answer does not begin within Config.AttemptTimeout (the stream is
// electing a leader, or the server that got it is paused), is sent
// again: nothing was read yet.
//
// Any replica of a replicated stream may answer a direct get, and one
// that lags may not have applied a write the stream already
// acknowledged. A multi-subject answer says which stream sequence it
// reflects; one older than the store's own last acknowledged write is
// dropped and the request sent again, so that a node reads at least what
// it wrote: after it claims a lease, the state it loads includes every
// commit before the claim (the fence refuses any after). An answer with
// no message, or to a paged read, says nothing of its sequence and is
// taken as it is: reads that must be current do not page this way (see
// fresh.go).
func (s *Store) direct(ctx context.Context, req directRequest, fn func(m *jetstream.RawStreamMsg) error) (pending uint64, err error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	patience := s.cfg.AttemptTimeout
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var answered bool
		pending, answered, err = s.directOnce(ctx, req, patience, fn)
		// As for lease writes (publishLease), a slow server gets more
		// time at each attempt, up to 4 times the first.
		patience = min(patience*3/2, 4*s.cfg.AttemptTimeout)
		if answered || ctx.Err() != nil || !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errStale) {
			return pending, err
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(wait):
		}
	}
}

// directOnce is one attempt of direct; answered reports that an answer
// began (then err is final).
func (s *Store) directOnce(ctx context.Context, req directRequest, patience time.Duration, fn func(m *jetstream.RawStreamMsg) error) (pending uint64, answered bool, err error) {
	need := s.acked.Load()
	nc := s.cfg.Conn
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, false, unavailable(err)
	}
	defer sub.Unsubscribe()
	data, err := json.Marshal(req)
	if err != nil {
		return 0, true, err
	}
	if err := nc.PublishMsg(&nats.Msg{Subject: "$JS.API.DIRECT.GET." + s.cfg.Stream, Reply: inbox, Data: data}); err != nil {
		return 0, false, unavailable(err)
	}
	first, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	// Only a multi-subject answer says how current it is: its messages
	// are held until its end, and passed to fn once it is known current;
	// those of a paged read go to fn as they come.
	checked := len(req.MultiLast) > 0
	var got []*jetstream.RawStreamMsg
	for wctx := first; ; wctx = ctx {
		m, err := sub.NextMsgWithContext(wctx)
		if err != nil {
			return 0, wctx == ctx, unavailable(err)
		}
		if status := m.Header.Get("Status"); status != "" {
			switch status {
			case "204": // end of batch
				if upTo, err := strconv.ParseUint(m.Header.Get(hdrUpTo), 10, 64); err == nil && upTo < need {
					return 0, false, unavailable(errStale)
				}
				for _, m := range got {
					if err := fn(m); err != nil {
						return 0, true, err
					}
				}
				n, _ := strconv.ParseUint(m.Header.Get(hdrNumPending), 10, 64)
				return n, true, nil
			case "404": // nothing matched
				return 0, true, nil
			case "413":
				return 0, true, errTooMany
			case "503":
				// No server answers for the stream yet (it was just
				// created, or is electing a leader): nothing was read.
				return 0, false, unavailable(nats.ErrNoResponders)
			}
			return 0, true, fmt.Errorf("natsstore: read of stream %q: status %s %s", s.cfg.Stream, status, m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		subj := m.Header.Get(jetstream.SubjectHeader)
		if err != nil || subj == "" {
			return 0, true, fmt.Errorf("natsstore: read of stream %q: an answer without subject or sequence", s.cfg.Stream)
		}
		rm := &jetstream.RawStreamMsg{Subject: subj, Sequence: seq, Header: m.Header, Data: m.Data}
		if checked {
			got = append(got, rm)
		} else if err := fn(rm); err != nil {
			return 0, true, err
		}
	}
}

// sawWrite notes that the stream acknowledged a write of this store at
// seq.
func (s *Store) sawWrite(seq uint64) {
	for {
		old := s.acked.Load()
		if seq <= old || s.acked.CompareAndSwap(old, seq) {
			return
		}
	}
}

// lastFor returns the last message of every subject that matches one of
// filters, read in one request, which the server isolates from writes: it
// sees whole batches only. It fails with errTooMany past the server's
// limit of 1024 subjects, or when the answer would be too large.
func (s *Store) lastFor(ctx context.Context, filters []string) ([]*jetstream.RawStreamMsg, error) {
	var msgs []*jetstream.RawStreamMsg
	pending, err := s.direct(ctx, directRequest{MultiLast: filters}, func(m *jetstream.RawStreamMsg) error {
		msgs = append(msgs, m)
		return nil
	})
	if err == nil && pending > 0 {
		err = errTooMany
	}
	return msgs, err
}

// scanPage is how many messages one request of a scan asks for.
const scanPage = 1000

// scan calls fn with the last message of every subject that matches
// filter, page by page in stream order. A subject written again while
// the scan runs may come twice: callers keep the one with the higher
// sequence.
func (s *Store) scan(ctx context.Context, filter string, fn func(m *jetstream.RawStreamMsg) error) error {
	seq := uint64(1)
	for {
		var last *jetstream.RawStreamMsg
		_, err := s.direct(ctx, directRequest{Seq: seq, NextFor: filter, Batch: scanPage}, func(m *jetstream.RawStreamMsg) error {
			last = m
			return fn(m)
		})
		if err != nil || last == nil || last.Header.Get(hdrNumPending) == "0" {
			return err
		}
		seq = last.Sequence + 1
	}
}

// scanLatest scans filter and returns the last message of each subject
// that is not a tombstone.
func (s *Store) scanLatest(ctx context.Context, filter string) (map[string]*jetstream.RawStreamMsg, error) {
	latest := make(map[string]*jetstream.RawStreamMsg)
	err := s.scan(ctx, filter, func(m *jetstream.RawStreamMsg) error {
		if old, ok := latest[m.Subject]; !ok || old.Sequence < m.Sequence {
			latest[m.Subject] = m
		}
		return nil
	})
	for subj, m := range latest {
		if deleted(m) {
			delete(latest, subj)
		}
	}
	return latest, err
}

// deleted reports whether m is a tombstone.
func deleted(m *jetstream.RawStreamMsg) bool { return m.Header.Get(hdrDeleted) != "" }

// Load reads the actor's version and state in one request, so that it
// sees whole commits; an actor with more keys than one request returns
// is read in pages and checked against its version.
func (s *Store) Load(ctx context.Context, actor string) (storage.Snapshot, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.Snapshot{}, err
	}
	defer done()
	vsubj := s.subject(kindVersion, actor)
	msgs, err := s.loadLast(ctx, actor, []string{vsubj, s.subject(kindState, actor) + ".*"})
	if errors.Is(err, errTooMany) {
		return s.loadPaged(ctx, actor)
	}
	if err != nil {
		return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
	}
	snap, vseq, err := snapshot(vsubj, msgs)
	if err != nil {
		return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
	}
	s.noteVersion(actor, versionAt{snap.Version, vseq})
	return snap, nil
}

// loadLast is lastFor for Load. When this store holds the actor's lease,
// it reads the lease subject too: an answer without it (an empty answer
// says nothing of how current the replica is) comes from a replica that
// has not applied the claim, and is read again, as direct does with an
// answer older than the store's last write. The lease message is not
// returned.
func (s *Store) loadLast(ctx context.Context, actor string, filters []string) ([]*jetstream.RawStreamMsg, error) {
	s.cacheMu.Lock()
	_, held := s.leases[actor]
	s.cacheMu.Unlock()
	if !held {
		return s.lastFor(ctx, filters)
	}
	lsubj := s.subject(kindLease, actor)
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		msgs, err := s.lastFor(ctx, append(slices.Clip(filters), lsubj))
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(msgs, func(m *jetstream.RawStreamMsg) bool { return m.Subject == lsubj }); i >= 0 {
			return slices.Delete(msgs, i, i+1), nil
		}
		select {
		case <-ctx.Done():
			return nil, unavailable(errStale)
		case <-time.After(wait):
		}
	}
}

// snapshot builds a snapshot from the version message (on vsubj) and the
// state messages in msgs, and returns the version message's sequence.
func snapshot(vsubj string, msgs []*jetstream.RawStreamMsg) (storage.Snapshot, uint64, error) {
	snap := storage.Snapshot{State: make(map[string][]byte, len(msgs))}
	var vseq uint64
	for _, m := range msgs {
		if m.Subject == vsubj {
			v, err := strconv.ParseUint(string(m.Data), 10, 64)
			if err != nil {
				return snap, 0, fmt.Errorf("natsstore: corrupt version %q", m.Data)
			}
			snap.Version, vseq = v, m.Sequence
			continue
		}
		if deleted(m) {
			continue
		}
		k, err := lastToken(m.Subject)
		if err != nil {
			return snap, 0, err
		}
		snap.State[k] = append([]byte{}, m.Data...)
	}
	return snap, vseq, nil
}

// loadAttempts bounds the paged reads of one Load that a concurrent
// commit of the same actor spoils.
const loadAttempts = 10

// loadPaged reads an actor with many keys: its version, then its state
// (listed and read as latestChecked does, so that it reflects the store's
// last acknowledged write, as a Load in one read does), then its version
// again. Each commit writes the version message last, so the state is
// whole when the version did not move and no state message is newer
// than it.
func (s *Store) loadPaged(ctx context.Context, actor string) (storage.Snapshot, error) {
	vsubj := s.subject(kindVersion, actor)
	for range loadAttempts {
		before, err := s.last(ctx, vsubj)
		if err != nil {
			return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
		}
		latest, err := s.latestChecked(ctx, s.subject(kindState, actor)+".*")
		if err != nil {
			return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
		}
		after, err := s.last(ctx, vsubj)
		if err != nil {
			return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
		}
		if before == nil || after == nil || before.Sequence != after.Sequence {
			continue
		}
		msgs := []*jetstream.RawStreamMsg{before}
		whole := true
		for _, m := range latest {
			whole = whole && m.Sequence < before.Sequence
			msgs = append(msgs, m)
		}
		if !whole {
			continue
		}
		snap, vseq, err := snapshot(vsubj, msgs)
		if err != nil {
			return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: %w", actor, err)
		}
		s.noteVersion(actor, versionAt{snap.Version, vseq})
		return snap, nil
	}
	return storage.Snapshot{}, fmt.Errorf("natsstore: load %q: its state changed under %d paged reads; try again", actor, loadAttempts)
}

// noteVersion remembers the actor's version and its message's sequence.
func (s *Store) noteVersion(actor string, v versionAt) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if len(s.versions) >= cacheCap {
		clear(s.versions)
	}
	s.versions[actor] = v
}

// version returns the actor's version and its message's sequence, from
// what this store last wrote or read when that is the version the caller
// expects, and otherwise read afresh.
func (s *Store) version(ctx context.Context, actor string, want uint64) (versionAt, error) {
	s.cacheMu.Lock()
	v, ok := s.versions[actor]
	s.cacheMu.Unlock()
	if ok && v.version == want {
		return v, nil
	}
	return s.readVersion(ctx, actor)
}

// readVersion reads the actor's version and its message's sequence.
func (s *Store) readVersion(ctx context.Context, actor string) (versionAt, error) {
	m, err := s.last(ctx, s.subject(kindVersion, actor))
	if err != nil || m == nil {
		return versionAt{}, err
	}
	n, err := strconv.ParseUint(string(m.Data), 10, 64)
	if err != nil {
		return versionAt{}, fmt.Errorf("natsstore: corrupt version %q of %q", m.Data, actor)
	}
	v := versionAt{n, m.Sequence}
	s.noteVersion(actor, v)
	return v, nil
}
