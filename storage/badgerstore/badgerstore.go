package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/wactor/wactor/storage"
)

// ErrBatchTooLarge: a single batch holds more than one badger transaction
// can: about 2.4 MiB of keys and values, where a value of 1 MiB or more
// counts only a few bytes (badger keeps it in its value log). Nothing of the
// batch was applied.
var ErrBatchTooLarge = errors.New("badgerstore: batch too large for one write")

// ErrNoLeases: a batch carries a storage.Fence, but a badger store serves
// one node and has no leases to check it against. Nothing of the batch was
// applied; a cluster needs a store with storage.Leases (natsstore).
var ErrNoLeases = errors.New("badgerstore: batch carries an ownership fence, but this single-node store has no leases")

// Options configures a Store.
type Options struct {
	// Sync makes Commit return only after the write is fsynced, so that a
	// crash of the machine cannot lose an acknowledged commit. Without it
	// only a crash of the process is survived.
	Sync bool
	// NoGroupCommit gives every batch a badger write (and, with Sync, an
	// fsync) of its own instead of sharing one with the batches waiting
	// beside it. Only benchmarks want it: it shows what group commit saves.
	NoGroupCommit bool
	// Logger receives badger's own log lines, at their own level except
	// that badger's chatty INFO lines are logged at slog.LevelDebug, and
	// the store's own warning when it refuses writes for want of disk
	// space. Nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns the options wactor uses: durable commits, no
// logging.
func DefaultOptions() Options { return Options{Sync: true} }

// Badger tuning: sized for an embedded runtime rather than badger's
// defaults (64 MiB memtables, 256 MiB block cache, 1 GiB value log files),
// so that a process or a test suite can hold many stores.
const (
	memTableSize     = 16 << 20 // a transaction holds up to 15% of it
	numMemtables     = 3
	blockCacheSize   = 16 << 20
	valueLogFileSize = 64 << 20
	valueThreshold   = 1 << 20 // values this long go to the value log
	numCompactors    = 2
)

// maxGroup bounds how many batches share one write, and so how long the
// last of them waits.
const maxGroup = 1024

// Store is a storage.Store over badger. Open one with Open; it must be
// closed.
type Store struct {
	db    *badger.DB
	space *space // only the committer uses it after Open

	// mu is held for reading by every call for its whole duration and for
	// writing by Close, so Close waits for the calls in flight.
	mu     sync.RWMutex
	closed bool

	requests chan *request
	stopped  chan struct{} // closed when the committer has returned
	maxGroup int

	batches atomic.Uint64 // batches applied
	writes  atomic.Uint64 // badger transactions committed that applied batches
}

var _ storage.Store = (*Store)(nil)

// request is one Commit waiting for the committer.
type request struct {
	batch   *storage.Batch
	refused error      // the batch's version did not match, or what it consumes is gone; set by add
	done    chan error // receives the outcome once
}

// Open opens, or creates, the store kept in dir. It fails with
// storage.ErrNoSpace when the disk lacks the room badger may take to open
// what dir holds.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("badgerstore: open: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	space, err := newSpace(dir, log)
	if err != nil {
		return nil, err
	}
	bopts := badger.DefaultOptions(dir).
		WithSyncWrites(opts.Sync).
		WithLogger(newLogger(opts.Logger)).
		WithMetricsEnabled(false).
		WithDetectConflicts(false). // the committer is the only writer
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(blockCacheSize).
		WithValueLogFileSize(valueLogFileSize).
		WithValueThreshold(valueThreshold).
		WithNumCompactors(numCompactors)
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	s := &Store{
		db:       db,
		space:    space,
		requests: make(chan *request, maxGroup),
		stopped:  make(chan struct{}),
		maxGroup: maxGroup,
	}
	if opts.NoGroupCommit {
		s.maxGroup = 1
	}
	go s.commitLoop()
	return s, nil
}

// Load returns the actor's committed state, read in one badger transaction.
func (s *Store) Load(ctx context.Context, actor string) (storage.Snapshot, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.Snapshot{}, err
	}
	defer done()
	snap := storage.Snapshot{State: make(map[string][]byte)}
	err = s.db.View(func(txn *badger.Txn) error {
		var err error
		if snap.Version, err = readVersion(txn, actor); err != nil {
			return err
		}
		prefix := stateKey(actor, "")
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			snap.State[string(item.Key()[len(prefix):])] = v
		}
		return nil
	})
	if err != nil {
		return storage.Snapshot{}, fmt.Errorf("badgerstore: load %q: %w", actor, err)
	}
	return snap, nil
}

// Commit hands b to the committer and waits until it is written, or
// rejected. ctx is only heeded until the committer has taken b: after that
// Commit waits for the outcome, so that an error always means nothing of b
// was applied.
func (s *Store) Commit(ctx context.Context, b *storage.Batch) error {
	done, err := s.using(ctx)
	if err != nil {
		return err
	}
	defer done()
	if b.Fence != nil {
		return fmt.Errorf("%w (actor %q)", ErrNoLeases, b.Fence.Actor)
	}
	if b.Empty() {
		return nil
	}
	r := &request{batch: b, done: make(chan error, 1)}
	select {
	case s.requests <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
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

// Outbox returns every message not yet consumed, sorted by ID.
func (s *Store) Outbox(ctx context.Context) ([]storage.Message, error) {
	return storage.OutboxFromPages(ctx, s.OutboxPage)
}

// OutboxPage reads the entries after cursor (an ID) in key order, which
// is ID order.
func (s *Store) OutboxPage(ctx context.Context, cursor string, limit int) ([]storage.Message, string, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, "", err
	}
	defer done()
	limit = storage.OutboxPageLimit(limit)
	var msgs []storage.Message
	more := false
	err = s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{kindOutbox}
		it := txn.NewIterator(opts)
		defer it.Close()
		start := outboxKey(cursor)
		for it.Seek(start); it.Valid(); it.Next() {
			item := it.Item()
			if cursor != "" && bytes.Equal(item.Key(), start) {
				continue
			}
			if len(msgs) == limit {
				more = true
				return nil
			}
			id := string(item.Key()[1:])
			err := item.Value(func(v []byte) error {
				m, err := decodeMessage(id, v)
				msgs = append(msgs, m)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("badgerstore: outbox after %q: %w", cursor, err)
	}
	next := ""
	if more {
		next = msgs[len(msgs)-1].ID
	}
	return msgs, next, nil
}

// Close waits for the calls in flight, stops the committer and closes the
// database. A second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.requests)
	s.mu.Unlock()
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("badgerstore: close: %w", err)
	}
	return nil
}

// commitLoop is the committer: it writes what is waiting as one group until
// Close closes s.requests.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	group := make([]*request, 0, s.maxGroup)
	for r := range s.requests {
		group = append(group[:0], r)
	drain:
		for len(group) < s.maxGroup {
			select {
			case r, ok := <-s.requests:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.write(s.space.admit(group))
		clear(group) // let the batches go
	}
}

// write commits group in as few badger transactions as it fits in and
// answers every request.
func (s *Store) write(group []*request) {
	for len(group) > 0 {
		group = group[s.writeTxn(group):]
	}
}

// writeTxn commits the longest prefix of reqs that fits in one badger
// transaction, answers its requests and returns its length. A first request
// that does not fit alone is answered with the error.
func (s *Store) writeTxn(reqs []*request) int {
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	n, err := fill(txn, reqs)
	switch {
	case err == nil:
	case n == 0:
		reqs[0].done <- batchError(reqs[0].batch, err)
		return 1
	default:
		// reqs[n] left part of itself in txn: start again without it.
		txn.Discard()
		txn = s.db.NewTransaction(true)
		reqs = reqs[:n]
		_, err = fill(txn, reqs)
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		err = fmt.Errorf("badgerstore: commit: %w", err)
	}
	applied := 0
	for _, r := range reqs {
		switch {
		case r.refused != nil:
			r.done <- r.refused
		case err != nil:
			r.done <- err
		default:
			applied++
			r.done <- nil
		}
	}
	if applied > 0 {
		s.batches.Add(uint64(applied))
		s.writes.Add(1)
	}
	return len(reqs)
}

// batchError describes why a batch could not be added to a transaction of
// its own.
func batchError(b *storage.Batch, err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w (actor %q: %d puts, %d deletes, %d sends, %d consumed, %d reminders)",
			ErrBatchTooLarge, b.Actor, len(b.Puts), len(b.Deletes), len(b.Send), len(b.Consumed), len(b.Reminders)+len(b.CancelReminders))
	}
	return fmt.Errorf("badgerstore: commit (actor %q): %w", b.Actor, err)
}

// fill adds reqs to txn in order and returns how many it added, stopping at
// the first that fails; that one may have left part of its entries in txn.
func fill(txn *badger.Txn, reqs []*request) (int, error) {
	for i, r := range reqs {
		refused, err := add(txn, r.batch)
		if err != nil {
			return i, err
		}
		r.refused = refused
	}
	return len(reqs), nil
}

// add adds b's writes to txn, unless b changes state and its version is not
// the actor's version in txn, which sees the batches added before it
// (refused: ErrVersionConflict), or b consumes once an entry that is gone
// (refused: a *storage.ConsumedError). A refused batch adds nothing.
func add(txn *badger.Txn, b *storage.Batch) (refused error, err error) {
	if b.ConsumeOnce {
		gone := b.ConsumedTwice()
		for _, id := range b.Consumed {
			_, err := txn.Get(outboxKey(id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				gone = append(gone, id)
			} else if err != nil {
				return nil, err
			}
		}
		if len(gone) > 0 {
			return &storage.ConsumedError{IDs: gone}, nil
		}
	}
	if b.ChangesState() {
		v, err := readVersion(txn, b.Actor)
		if err != nil {
			return nil, err
		}
		if v != b.Version {
			return storage.ErrVersionConflict, nil
		}
		for k, val := range b.Puts {
			if err := txn.Set(stateKey(b.Actor, k), val); err != nil {
				return nil, err
			}
		}
		for _, k := range b.Deletes {
			if err := txn.Delete(stateKey(b.Actor, k)); err != nil {
				return nil, err
			}
		}
		if err := txn.Set(versionKey(b.Actor), binary.BigEndian.AppendUint64(nil, b.Version+1)); err != nil {
			return nil, err
		}
	}
	for _, id := range b.Consumed {
		if err := txn.Delete(outboxKey(id)); err != nil {
			return nil, err
		}
	}
	for _, m := range b.Send {
		if err := txn.Set(outboxKey(m.ID), encodeMessage(m)); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Records {
		e := badger.NewEntry(recordKey(r.Key), r.Reply)
		e.ExpiresAt = uint64(max(r.Expires.Unix()+1, 1)) // badger expires whole seconds
		if err := txn.SetEntry(e); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Reminders {
		if err := deleteReminder(txn, r.Actor, r.Name); err != nil {
			return nil, err
		}
		due := encodeDue(r.Due)
		if err := txn.Set(dueKey(due, r.Actor, r.Name), encodeReminder(r)); err != nil {
			return nil, err
		}
		if err := txn.Set(reminderKey(r.Actor, r.Name), due); err != nil {
			return nil, err
		}
	}
	for _, name := range b.CancelReminders {
		if err := deleteReminder(txn, b.Actor, name); err != nil {
			return nil, err
		}
	}
	if err := addLinks(txn, b); err != nil {
		return nil, err
	}
	if len(b.ClearDeadLetters) > 0 || len(b.DeadLetters) > 0 || b.DeadLetterCap != (storage.DeadLetterCap{}) {
		return nil, addDeadLetters(txn, b)
	}
	return nil, nil
}

// addDeadLetters adds b's dead letter changes to txn and keeps the totals
// key up to date with them.
func addDeadLetters(txn *badger.Txn, b *storage.Batch) error {
	t, err := readDeadTotals(txn)
	if err != nil {
		return err
	}
	for _, id := range b.ClearDeadLetters {
		if err := clearDead(txn, id, &t.DeadLetterStats); err != nil {
			return err
		}
	}
	for _, d := range b.DeadLetters {
		if err := clearDead(txn, d.Message.ID, &t.DeadLetterStats); err != nil {
			return err
		}
		if err := txn.Set(deadKey(d.Message.ID), encodeDeadLetter(d)); err != nil {
			return err
		}
		t.Count++
		t.Bytes += d.Size()
		t.low = min(t.low, d.Message.ID)
	}
	if c := b.DeadLetterCap; c != (storage.DeadLetterCap{}) {
		if err := capDead(txn, c, &t); err != nil {
			return err
		}
	}
	return txn.Set(deadStatsKey, encodeDeadTotals(t))
}

// clearDead deletes the dead letter id from txn, if there is one, and
// takes it off st.
func clearDead(txn *badger.Txn, id string, st *storage.DeadLetterStats) error {
	item, err := txn.Get(deadKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var size int64
	if err := item.Value(func(v []byte) error {
		d, err := decodeDeadLetter(id, v, -1)
		size = d.Size()
		return err
	}); err != nil {
		return err
	}
	st.Count--
	st.Bytes -= size
	return txn.Delete(deadKey(id))
}

// capDead deletes the dead letters with the lowest IDs from txn until c
// holds, reading them in key order from t.low, and moves t.low past them.
func capDead(txn *badger.Txn, c storage.DeadLetterCap, t *deadTotals) error {
	over := func() bool { return (c.Count > 0 && t.Count > c.Count) || (c.Bytes > 0 && t.Bytes > c.Bytes) }
	if !over() {
		return nil
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte{kindDead}
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(deadKey(t.low)); it.Valid() && over(); it.Next() {
		item := it.Item()
		id := string(item.Key()[1:])
		err := item.Value(func(v []byte) error {
			d, err := decodeDeadLetter(id, v, -1)
			t.Count--
			t.Bytes -= d.Size()
			return err
		})
		if err != nil {
			return err
		}
		if err := txn.Delete(item.KeyCopy(nil)); err != nil {
			return err
		}
		t.Dropped++
		t.low = id
	}
	return nil
}

// deadTotals is what the totals key holds: the stats, and an ID below
// which there is no dead letter. Reading from low rather than from the
// start skips the deleted keys that dropping the oldest leaves at the
// start of the range until badger compacts them away, which a long flood
// of failing tells would otherwise make every cap and listing step over.
type deadTotals struct {
	storage.DeadLetterStats
	low string
}

// readDeadTotals reads the dead letter totals as txn sees them. A store
// written before they were kept has them counted, once, from the letters.
func readDeadTotals(txn *badger.Txn) (deadTotals, error) {
	var t deadTotals
	item, err := txn.Get(deadStatsKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		t.DeadLetterStats, err = countDead(txn)
		return t, err
	}
	if err != nil {
		return t, err
	}
	err = item.Value(func(v []byte) error {
		var fields [3]uint64
		for i := range fields {
			n, w := binary.Uvarint(v)
			if w <= 0 {
				return errors.New("dead letter totals: truncated")
			}
			fields[i], v = n, v[w:]
		}
		t.DeadLetterStats = storage.DeadLetterStats{Count: int(fields[0]), Bytes: int64(fields[1]), Dropped: fields[2]}
		t.low = string(v)
		return nil
	})
	return t, err
}

// countDead sums up the dead letters by reading them all.
func countDead(txn *badger.Txn) (storage.DeadLetterStats, error) {
	var st storage.DeadLetterStats
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte{kindDead}
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		err := item.Value(func(v []byte) error {
			d, err := decodeDeadLetter(string(item.Key()[1:]), v, -1)
			st.Count++
			st.Bytes += d.Size()
			return err
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// encodeDeadTotals encodes the totals as three uvarints, count, bytes and
// dropped, then the low ID up to the end.
func encodeDeadTotals(t deadTotals) []byte {
	b := binary.AppendUvarint(nil, uint64(t.Count))
	b = binary.AppendUvarint(b, uint64(t.Bytes))
	b = binary.AppendUvarint(b, t.Dropped)
	return append(b, t.low...)
}

// DeadLetters reads the dead letters in key order (the ID order) from the
// first one after after, fetching each value only as it decodes it.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]storage.DeadLetter, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var list []storage.DeadLetter
	err = s.db.View(func(txn *badger.Txn) error {
		t, err := readDeadTotals(txn)
		if err != nil {
			return err
		}
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{kindDead}
		opts.PrefetchValues = false // values may be large; most payloads are left out
		it := txn.NewIterator(opts)
		defer it.Close()
		start := deadKey(after)
		for it.Seek(deadKey(max(after, t.low))); it.Valid() && len(list) < limit; it.Next() {
			item := it.Item()
			if bytes.Equal(item.Key(), start) {
				continue
			}
			id := string(item.Key()[1:])
			err := item.Value(func(v []byte) error {
				d, err := decodeDeadLetter(id, v, storage.MaxListedPayload)
				list = append(list, d)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: dead letters after %q: %w", after, err)
	}
	return list, nil
}

// DeadLetter reads one dead letter by its key.
func (s *Store) DeadLetter(ctx context.Context, id string) (storage.DeadLetter, bool, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.DeadLetter{}, false, err
	}
	defer done()
	var d storage.DeadLetter
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(deadKey(id))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			d, err = decodeDeadLetter(id, v, math.MaxInt)
			return err
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return storage.DeadLetter{}, false, nil
	}
	if err != nil {
		return storage.DeadLetter{}, false, fmt.Errorf("badgerstore: dead letter %q: %w", id, err)
	}
	return d, true, nil
}

// DeadLetterStats reads the totals that every commit of dead letters
// keeps up to date.
func (s *Store) DeadLetterStats(ctx context.Context) (storage.DeadLetterStats, error) {
	done, err := s.using(ctx)
	if err != nil {
		return storage.DeadLetterStats{}, err
	}
	defer done()
	var st storage.DeadLetterStats
	err = s.db.View(func(txn *badger.Txn) error {
		t, err := readDeadTotals(txn)
		st = t.DeadLetterStats
		return err
	})
	if err != nil {
		return storage.DeadLetterStats{}, fmt.Errorf("badgerstore: dead letter totals: %w", err)
	}
	return st, nil
}

// scanIDs calls fn, in key order, with the id and value of every key of
// kind, a kind whose keys are the kind byte followed by an id. v is valid
// only during the call.
func (s *Store) scanIDs(kind byte, fn func(id string, v []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{kind}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			id := string(item.Key()[1:])
			if err := item.Value(func(v []byte) error { return fn(id, v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// encodeDeadLetter encodes d without its ID, which is in the key: attempts
// and time (uvarint, varint nanoseconds), the error (uvarint length and
// bytes), then the message as encodeMessage writes it.
func encodeDeadLetter(d storage.DeadLetter) []byte {
	b := binary.AppendUvarint(nil, uint64(d.Attempts))
	b = binary.AppendVarint(b, d.At.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(d.Error)))
	b = append(b, d.Error...)
	return append(b, encodeMessage(d.Message)...)
}

// decodeDeadLetter decodes what encodeDeadLetter made, copying out of b;
// it copies the payload only when it is at most maxPayload bytes long.
func decodeDeadLetter(id string, b []byte, maxPayload int) (storage.DeadLetter, error) {
	var d storage.DeadLetter
	attempts, n := binary.Uvarint(b)
	if n <= 0 {
		return d, fmt.Errorf("dead letter %q: truncated", id)
	}
	b = b[n:]
	at, n := binary.Varint(b)
	if n <= 0 {
		return d, fmt.Errorf("dead letter %q: truncated", id)
	}
	b = b[n:]
	elen, n := binary.Uvarint(b)
	if n <= 0 || elen > uint64(len(b)-n) {
		return d, fmt.Errorf("dead letter %q: truncated", id)
	}
	d.Attempts, d.At, d.Error = int(attempts), time.Unix(0, at), string(b[n:n+int(elen)])
	m, payload, err := splitMessage(id, b[n+int(elen):])
	if len(payload) <= maxPayload {
		m.Payload = append([]byte(nil), payload...)
	}
	d.Message, d.PayloadLen = m, len(payload)
	return d, err
}

// deleteReminder deletes a reminder and its due-time index entry, if it
// exists; txn sees the batches added before.
func deleteReminder(txn *badger.Txn, actor, name string) error {
	mk := reminderKey(actor, name)
	item, err := txn.Get(mk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	due, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if err := txn.Delete(dueKey(due, actor, name)); err != nil {
		return err
	}
	return txn.Delete(mk)
}

// DueReminders reads the due-time index from its start and stops at the
// first reminder due after before, or at limit.
func (s *Store) DueReminders(ctx context.Context, before time.Time, limit int) ([]storage.Reminder, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var list []storage.Reminder
	end := encodeDue(before)
	err = s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{kindDue}
		opts.PrefetchSize = min(max(limit, 1), 100)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(list) != limit; it.Next() {
			item := it.Item()
			key := item.Key()
			if len(key) < 1+dueLen || bytes.Compare(key[1:1+dueLen], end) > 0 {
				break
			}
			err := item.Value(func(v []byte) error {
				r, err := decodeReminder(key, v)
				list = append(list, r)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: due reminders: %w", err)
	}
	return list, nil
}

// Reminders lists actor's reminders through their by-name keys.
func (s *Store) Reminders(ctx context.Context, actor string) ([]storage.Reminder, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var list []storage.Reminder
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := reminderKey(actor, "")
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			name := string(item.Key()[len(prefix):])
			due, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			dk := dueKey(due, actor, name)
			ditem, err := txn.Get(dk)
			if err != nil {
				return fmt.Errorf("reminder %q of %q: index entry: %w", name, actor, err)
			}
			err = ditem.Value(func(v []byte) error {
				r, err := decodeReminder(dk, v)
				list = append(list, r)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: reminders of %q: %w", actor, err)
	}
	return list, nil
}

// Recorded returns the reply recorded under key; badger drops it once it
// has expired.
func (s *Store) Recorded(ctx context.Context, key string) ([]byte, bool, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	var reply []byte
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(recordKey(key))
		if err != nil {
			return err
		}
		reply, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("badgerstore: recorded %q: %w", key, err)
	}
	if reply == nil {
		reply = []byte{}
	}
	return reply, true, nil
}

// readVersion returns actor's version as txn sees it; 0 if it has none.
func readVersion(txn *badger.Txn, actor string) (uint64, error) {
	item, err := txn.Get(versionKey(actor))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("corrupt version of %q: %d bytes", actor, len(b))
		}
		v = binary.BigEndian.Uint64(b)
		return nil
	})
	return v, err
}

// Kinds of key; see the key layout in the package documentation.
const (
	kindState   = 's'
	kindVersion = 'v'
	kindOutbox  = 'o'
	kindRecord  = 'r'
	kindDue     = 'd'
	kindRemind  = 'm'
	kindDead    = 'x'
	// kindDeadStats is the one key of the dead letter totals.
	kindDeadStats = 'X'
	kindLink      = 'n'
)

// stateKey returns the key of actor's state entry key; with key "" it is
// the prefix of all of actor's state.
func stateKey(actor, key string) []byte {
	k := make([]byte, 0, 1+binary.MaxVarintLen64+len(actor)+len(key))
	k = append(k, kindState)
	k = binary.AppendUvarint(k, uint64(len(actor)))
	k = append(k, actor...)
	return append(k, key...)
}

func versionKey(actor string) []byte { return append([]byte{kindVersion}, actor...) }

func outboxKey(id string) []byte { return append([]byte{kindOutbox}, id...) }

func recordKey(key string) []byte { return append([]byte{kindRecord}, key...) }

func deadKey(id string) []byte { return append([]byte{kindDead}, id...) }

// deadStatsKey holds the dead letter totals, see encodeDeadTotals.
var deadStatsKey = []byte{kindDeadStats}

// dueLen is the length of an encoded due time.
const dueLen = 12

// encodeDue encodes t so that byte order is time order: the Unix seconds
// as a big-endian uint64 with the sign bit flipped, then the nanoseconds
// as a big-endian uint32.
func encodeDue(t time.Time) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, dueLen), uint64(t.Unix())^1<<63)
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func decodeDue(b []byte) time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(b)^1<<63), int64(binary.BigEndian.Uint32(b[8:]))).UTC()
}

// actorName appends uvarint(len(actor)) actor name: the length prefix
// keeps one actor's names a range of their own.
func actorName(k []byte, actor, name string) []byte {
	k = binary.AppendUvarint(k, uint64(len(actor)))
	k = append(k, actor...)
	return append(k, name...)
}

// dueKey returns the due-time index key of a reminder.
func dueKey(due []byte, actor, name string) []byte {
	k := make([]byte, 0, 1+dueLen+binary.MaxVarintLen64+len(actor)+len(name))
	k = append(append(k, kindDue), due...)
	return actorName(k, actor, name)
}

// reminderKey returns the by-name key of a reminder; with name "" it is
// the prefix of all of actor's reminders.
func reminderKey(actor, name string) []byte {
	k := make([]byte, 0, 1+binary.MaxVarintLen64+len(actor)+len(name))
	return actorName(append(k, kindRemind), actor, name)
}

// Formats of an encoded reminder, its first byte. A reminder with a trace
// context is written in format 2; one without in format 1, which builds
// from before traces were kept can still read.
const (
	reminderFormat      = 1
	reminderFormatTrace = 2
)

// encodeReminder encodes what the due-time key does not hold: a format
// byte, Method, Missed, Schedule and, in format 2, Trace, each as uvarint
// length and bytes, then Payload up to the end.
func encodeReminder(r storage.Reminder) []byte {
	fields := [...][]byte{[]byte(r.Method), []byte(r.Missed), r.Schedule, []byte(r.Trace)}
	format, n := byte(reminderFormat), 3
	if r.Trace != "" {
		format, n = reminderFormatTrace, 4
	}
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+len(r.Method)+len(r.Missed)+len(r.Schedule)+len(r.Trace)+len(r.Payload))
	b = append(b, format)
	for _, f := range fields[:n] {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, r.Payload...)
}

// decodeReminder decodes a reminder from its due-time key and value,
// copying out of both.
func decodeReminder(key, v []byte) (storage.Reminder, error) {
	var r storage.Reminder
	if len(key) < 1+dueLen {
		return r, fmt.Errorf("reminder index key %q: truncated", key)
	}
	r.Due = decodeDue(key[1 : 1+dueLen])
	rest := key[1+dueLen:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > uint64(len(rest)-w) {
		return r, fmt.Errorf("reminder index key %q: truncated", key)
	}
	r.Actor, r.Name = string(rest[w:w+int(n)]), string(rest[w+int(n):])
	if len(v) == 0 || (v[0] != reminderFormat && v[0] != reminderFormatTrace) {
		return r, fmt.Errorf("reminder %q of %q: unknown format", r.Name, r.Actor)
	}
	var fields [4][]byte
	count := 3
	if v[0] == reminderFormatTrace {
		count = 4
	}
	v = v[1:]
	for i := range fields[:count] {
		n, w := binary.Uvarint(v)
		if w <= 0 || n > uint64(len(v)-w) {
			return r, fmt.Errorf("reminder %q of %q: truncated", r.Name, r.Actor)
		}
		fields[i] = v[w : w+int(n)]
		v = v[w+int(n):]
	}
	r.Method, r.Missed, r.Trace = string(fields[0]), string(fields[1]), string(fields[3])
	r.Schedule = append([]byte(nil), fields[2]...)
	r.Payload = append([]byte(nil), v...)
	return r, nil
}

// Formats of an encoded message, its first byte. A message with a trace
// context is written in format 2; one without in format 1, which builds
// from before traces were kept can still read.
const (
	messageFormat      = 1
	messageFormatTrace = 2
)

// encodeMessage encodes m without its ID, which is in the key: a format
// byte, then Target, Sender, Method, Key and, in format 2, Trace, each as
// uvarint length and bytes, then Payload up to the end.
func encodeMessage(m storage.Message) []byte {
	fields := [...]string{m.Target, m.Sender, m.Method, m.Key, m.Trace}
	format, n := byte(messageFormat), 4
	if m.Trace != "" {
		format, n = messageFormatTrace, 5
	}
	b := make([]byte, 0, 1+5*binary.MaxVarintLen64+len(m.Target)+len(m.Sender)+len(m.Method)+len(m.Key)+len(m.Trace)+len(m.Payload))
	b = append(b, format)
	for _, f := range fields[:n] {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, m.Payload...)
}

// decodeMessage decodes what encodeMessage made, copying out of b.
func decodeMessage(id string, b []byte) (storage.Message, error) {
	m, payload, err := splitMessage(id, b)
	m.Payload = append([]byte(nil), payload...)
	return m, err
}

// splitMessage decodes what encodeMessage made but the payload, which it
// returns as the part of b that holds it.
func splitMessage(id string, b []byte) (storage.Message, []byte, error) {
	m := storage.Message{ID: id}
	if len(b) == 0 || (b[0] != messageFormat && b[0] != messageFormatTrace) {
		return m, nil, fmt.Errorf("outbox message %q: unknown format", id)
	}
	fields := []*string{&m.Target, &m.Sender, &m.Method, &m.Key, &m.Trace}
	if b[0] == messageFormat {
		fields = fields[:4]
	}
	b = b[1:]
	for _, f := range fields {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return m, nil, fmt.Errorf("outbox message %q: truncated", id)
		}
		*f = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	return m, b, nil
}

// logger routes badger's logging to a slog.Logger.
type logger struct{ l *slog.Logger }

// newLogger returns a badger.Logger for l, or nil, which badger takes as
// silence, when l is nil.
func newLogger(l *slog.Logger) badger.Logger {
	if l == nil {
		return nil
	}
	return logger{l.With("component", "badger")}
}

func (l logger) Errorf(format string, args ...any)   { l.log(slog.LevelError, format, args) }
func (l logger) Warningf(format string, args ...any) { l.log(slog.LevelWarn, format, args) }
func (l logger) Infof(format string, args ...any)    { l.log(slog.LevelDebug, format, args) }
func (l logger) Debugf(format string, args ...any)   { l.log(slog.LevelDebug, format, args) }

func (l logger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if l.l.Enabled(ctx, level) {
		l.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}
