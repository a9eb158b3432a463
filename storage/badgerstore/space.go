package badgerstore

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wactor/wactor/storage"
)

// Badger writes its write-ahead logs (.mem), value logs (.vlog) and tables
// (.sst) through shared memory maps of files it grew with ftruncate, which
// allocates nothing: the disk blocks are taken when a page is first
// written, and when the disk has none left the write faults (SIGBUS),
// which kills a Go process. So the store never lets badger write without
// the space for it and for everything that writing may make badger do
// later on its own: see RATIONALE.md, "A full disk refuses writes".
const (
	// spaceSlack covers writes that no batch accounts for: pages touched
	// beside an entry when a log starts or rotates, and the 1 MiB discard
	// file badger maps when it opens.
	spaceSlack = 2 << 20
	// entryOverhead bounds what badger adds to an entry's key in its logs:
	// header, timestamp, checksum, value pointer.
	entryOverhead = 64
	// txnOverhead bounds the pages one transaction can touch beyond its
	// entries: a partial page at each end of a log, in the write-ahead log
	// and the value log, and the commit marker.
	txnOverhead = 16 << 10
	// spaceRefresh is how often the committer measures badger's files
	// again; in between it adds what it admitted.
	spaceRefresh = time.Second
	// freeRefresh is how long a reading of the free space is used, less
	// what was admitted since (statfs costs microseconds, as much as a
	// small commit); a batch it would refuse reads it again first.
	freeRefresh = 100 * time.Millisecond
)

// space decides whether a batch may be written: it admits a batch only if,
// once the batch is written, the disk still has room to flush every
// memtable and run every compaction that the data then held could need.
// Only the committer uses it.
type space struct {
	dir string
	log *slog.Logger

	reserve  int64     // what flushing and compacting the files last measured need
	admitted int64     // what the batches admitted since add to it
	refresh  time.Time // when to measure the files again

	free   int64     // the free space last read, less what was admitted since
	reread time.Time // when to read the free space again

	full bool // the last batch was refused; to log the change only
}

// newSpace measures dir and fails with storage.ErrNoSpace when the disk
// does not have the room that opening badger may take: replaying and
// flushing its write-ahead logs, then compacting.
func newSpace(dir string, log *slog.Logger) (*space, error) {
	s := &space{dir: dir, log: log}
	if err := s.measure(); err != nil {
		return nil, err
	}
	if err := s.readFree(); err != nil {
		return nil, err
	}
	if s.free < s.reserve {
		return nil, fmt.Errorf("%w in %s to open the store: %s free, badger needs %s to flush and compact what it holds; free space on that disk and start again",
			storage.ErrNoSpace, dir, mib(max(s.free, 0)), mib(s.reserve))
	}
	return s, nil
}

// measure sets the reserve from badger's files: what a flush of every
// write-ahead log and a compaction of every table could write before the
// files they replace are deleted. A compaction's tables hold what its
// inputs held, less what it drops; a tenth more covers the difference in
// blocks, index and compression.
func (s *space) measure() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("badgerstore: measuring %s: %w", s.dir, err)
	}
	var held int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".mem") && !strings.HasSuffix(name, ".sst") {
			continue
		}
		fi, err := e.Info()
		if os.IsNotExist(err) {
			continue // flushed or compacted away meanwhile
		}
		if err != nil {
			return fmt.Errorf("badgerstore: measuring %s: %w", filepath.Join(s.dir, name), err)
		}
		held += allocated(fi)
	}
	s.reserve = withMargin(held) + spaceSlack
	s.admitted = 0
	s.refresh = time.Now().Add(spaceRefresh)
	return nil
}

// mib formats n bytes for a person.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// withMargin returns n and a tenth more.
func withMargin(n int64) int64 { return n + n/10 }

// admit answers, with storage.ErrNoSpace or an error measuring the disk,
// every request of group that may not be written, and returns the others
// in order.
func (s *space) admit(group []*request) []*request {
	now := time.Now()
	if now.After(s.refresh) {
		if err := s.measure(); err != nil {
			return refuse(group, err)
		}
	}
	read := false // s.free was read for this group
	if now.After(s.reread) {
		if err := s.readFree(); err != nil {
			return refuse(group, err)
		}
		read = true
	}
	kept := group[:0]
	for _, r := range group {
		c := batchCost(r.batch)
		if !s.fits(c) && !read {
			// Space may have been freed since the last reading.
			if err := s.readFree(); err != nil {
				r.done <- err
				continue
			}
			read = true
		}
		if !s.fits(c) {
			r.done <- s.refused(r.batch, c)
			continue
		}
		s.free -= c.disk
		s.admitted += withMargin(c.tree)
		kept = append(kept, r)
	}
	if s.full && len(kept) > 0 {
		s.full = false
		s.log.Info("badgerstore: writes accepted again", "dir", s.dir, "free", mib(s.free))
	}
	return kept
}

// fits reports whether a batch that costs c leaves the reserve free once
// written: it takes c.disk of the disk, and may add c.tree to what
// badger flushes and compacts later.
func (s *space) fits(c cost) bool {
	return s.free-c.disk >= s.reserve+s.admitted+withMargin(c.tree)
}

// readFree reads the free space of the disk.
func (s *space) readFree() error {
	free, err := freeSpace(s.dir)
	if err != nil {
		return err
	}
	s.free, s.reread = free, time.Now().Add(freeRefresh)
	return nil
}

// refused returns the error for a batch that costs c and does not fit,
// and logs the first refusal after a write was admitted.
func (s *space) refused(b *storage.Batch, c cost) error {
	err := fmt.Errorf("%w in %s: %s free, the turn of %q would write %s and badger must keep %s to flush and compact; free space on that disk and writes resume by themselves",
		storage.ErrNoSpace, s.dir, mib(max(s.free, 0)), b.Actor, mib(c.disk), mib(s.reserve+s.admitted+withMargin(c.tree)))
	if !s.full {
		s.full = true
		s.log.Warn("badgerstore: disk nearly full, refusing writes", "err", err)
	}
	return err
}

// refuse answers every request of group with err and returns none.
func refuse(group []*request, err error) []*request {
	for _, r := range group {
		r.done <- err
	}
	return nil
}

// cost is what writing a batch takes: disk bounds the bytes it adds to
// badger's logs, tree bounds what it adds to the memtables and tables
// that badger later flushes and compacts (a value of valueThreshold bytes
// or more stays in the value log, and only a pointer to it in the tree).
type cost struct{ disk, tree int64 }

// batchCost bounds what writing b takes: every key and value it stores or
// deletes, each with its overhead, and the transaction's.
func batchCost(b *storage.Batch) cost {
	actor := int64(len(b.Actor))
	c := cost{disk: txnOverhead, tree: txnOverhead}
	// A key is written twice when its value goes to the value log: there
	// and, with a pointer, in the write-ahead log.
	entry := func(key, value int) {
		k := entryOverhead + actor + int64(key)
		c.disk += 2*k + int64(value)
		if value < valueThreshold {
			c.tree += k + int64(value)
		} else {
			c.tree += k
		}
	}
	entry(0, 8) // the version
	for k, v := range b.Puts {
		entry(len(k), len(v))
	}
	for _, k := range b.Deletes {
		entry(len(k), 0)
	}
	for _, id := range b.Consumed {
		entry(len(id), 0)
	}
	for _, m := range b.Send {
		entry(len(m.ID), messageSize(m))
	}
	for _, r := range b.Records {
		entry(len(r.Key), len(r.Reply))
	}
	for _, r := range b.Reminders {
		// The old due-time and by-name keys deleted, the new ones set.
		key := len(r.Actor) + len(r.Name) + dueLen
		entry(key, 0)
		entry(key, 0)
		entry(key, dueLen)
		entry(key, entryOverhead+len(r.Method)+len(r.Missed)+len(r.Schedule)+len(r.Trace)+len(r.Payload))
	}
	for _, l := range b.Links {
		entry(len(l.Set)+len(l.Member), len(l.Value))
	}
	for _, l := range b.Unlinks {
		entry(len(l.Set)+len(l.Member), len(l.Value))
	}
	for _, name := range b.CancelReminders {
		entry(len(name)+dueLen, 0)
		entry(len(name)+dueLen, 0)
	}
	for _, id := range b.ClearDeadLetters {
		entry(len(id), 0)
	}
	var added int64
	for _, d := range b.DeadLetters {
		entry(len(d.Message.ID), len(d.Error)+messageSize(d.Message))
		added += d.Size()
	}
	if len(b.ClearDeadLetters) > 0 || len(b.DeadLetters) > 0 || b.DeadLetterCap != (storage.DeadLetterCap{}) {
		entry(1, 3*binary.MaxVarintLen64+maxDeadIDLen) // the totals key
	}
	if c := b.DeadLetterCap; c != (storage.DeadLetterCap{}) {
		// A tombstone for each letter the cap drops. The cap held before
		// this batch, so the drops free at most what it adds: one letter
		// per letter added for the count, and for the bytes no more letters
		// than the added bytes over the smallest size a letter has.
		drops := int64(len(b.DeadLetters)) + added/minDeadLetterSize + 1
		if c.Count > 0 {
			drops = min(drops, int64(c.Count))
		}
		for range drops {
			entry(maxDeadIDLen, 0)
		}
	}
	return c
}

const (
	// maxDeadIDLen bounds the ID of a dead letter the host keeps (a message
	// ID: 16 hex digits), for the reserve only.
	maxDeadIDLen = 32
	// minDeadLetterSize is the smallest DeadLetter.Size the host keeps: an
	// ID and a target of at least 3 bytes.
	minDeadLetterSize = 16
)

// messageSize bounds the length of encodeMessage(m).
func messageSize(m storage.Message) int {
	return entryOverhead + len(m.Target) + len(m.Sender) + len(m.Method) + len(m.Key) + len(m.Trace) + len(m.Payload)
}
