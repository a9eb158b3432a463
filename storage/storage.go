// Package storage defines where wactor keeps what must survive a restart:
// each actor's key/value state and version, its durable reminders, the
// outbox of messages that committed turns have sent but receivers have not
// yet consumed, the dead letters (tells given up on, within a cap), and
// links: durable sets of members, such as an actor's watchers.
//
// A Store applies a Batch atomically: one turn's state writes, the
// reminders it set or cancelled, the messages it sends and the outbox
// entries it consumed land together or not at all.
// Implementations live in subpackages (memstore, badgerstore); storagetest
// holds the conformance suite every implementation passes.
package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Errors a Store returns.
var (
	// ErrVersionConflict: a Batch expected a version the actor no longer has,
	// so another writer committed first. Nothing of the batch was applied.
	ErrVersionConflict = errors.New("storage: version conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrNoSpace: the disk has too little free space to store a Batch
	// safely. Nothing of the batch was applied; the same batch may succeed
	// once space is freed.
	ErrNoSpace = errors.New("storage: not enough free disk space")
	// ErrRecorded: a Batch carries a Record whose key another commit
	// recorded first, and it has not expired. Nothing of the batch was
	// applied. A store shared between nodes (natsstore) checks this
	// inside the commit, because two nodes may each miss the other's
	// record when they read it; a store one host owns need not.
	ErrRecorded = errors.New("storage: idempotency key already recorded")
	// ErrConsumed: a Batch with ConsumeOnce consumed an outbox entry that
	// is no longer there (another commit consumed it: the message was
	// delivered twice). Nothing of the batch was applied. The error is a
	// *ConsumedError naming the entries.
	ErrConsumed = errors.New("storage: message already consumed")
)

// ConsumedError is the error of a Batch with ConsumeOnce whose Consumed
// names outbox entries that are gone; errors.Is(err, ErrConsumed) holds.
type ConsumedError struct {
	IDs []string // the entries that were gone
}

func (e *ConsumedError) Error() string {
	return fmt.Sprintf("%v: %d of the messages the batch consumes are no longer in the outbox, or consumed twice in it: %s",
		ErrConsumed, len(e.IDs), strings.Join(e.IDs, ", "))
}

// ConsumedTwice returns the IDs that b's Consumed lists more than once:
// with ConsumeOnce such a batch is refused, as it would apply one
// message twice (two deliveries of it, merged into one batch).
func (b *Batch) ConsumedTwice() []string {
	if len(b.Consumed) < 2 {
		return nil
	}
	seen := make(map[string]bool, len(b.Consumed))
	var twice []string
	for _, id := range b.Consumed {
		if seen[id] && !slices.Contains(twice, id) {
			twice = append(twice, id)
		}
		seen[id] = true
	}
	return twice
}

// Is makes errors.Is(err, ErrConsumed) hold.
func (e *ConsumedError) Is(target error) bool { return target == ErrConsumed }

// Snapshot is an actor's committed state.
type Snapshot struct {
	// Version counts the commits that changed the actor's state; 0 means the
	// actor has never written anything.
	Version uint64
	State   map[string][]byte
}

// Message is an outbox entry: a message a commit made durable before it is
// delivered. IDs are unique and sort in the order the messages were sent.
type Message struct {
	ID      string
	Target  string // "type/id"
	Sender  string // "type/id", or "" from outside
	Method  string
	Payload []byte
	// Key is the idempotency key the sender gave, or "".
	Key string
	// Trace is the W3C trace context (a traceparent value) of the turn or
	// request that sent the message, or "" when it was not traced.
	Trace string
}

// Record remembers that a keyed message was applied, and the reply it got,
// so that a retry with the same key is answered without applying it again.
type Record struct {
	Key     string
	Reply   []byte
	Expires time.Time // after this the store may forget the record
}

// Reminder is a durable reminder of an actor: a message the host delivers
// to the actor itself at Due, and then again as its Schedule says. An
// actor's reminders are keyed by Name.
type Reminder struct {
	Actor   string // "type/id"
	Name    string
	Method  string
	Payload []byte
	// Schedule is the host's encoding of when the reminder fires; the
	// store keeps it as it is.
	Schedule []byte
	// Due is when the reminder fires next. Stores keep it to the
	// nanosecond and index reminders by it.
	Due time.Time
	// Missed is the missed-tick policy, kept for the host as it is.
	Missed string
	// Trace is the W3C trace context (a traceparent value) of the turn
	// that set the reminder, so that its firings continue that trace; ""
	// when it was not traced.
	Trace string
}

// Batch is everything one turn (or one accepted external message) commits.
type Batch struct {
	// Actor whose state the batch changes; may be "" when Puts and Deletes
	// are empty (an external tell only adds to the outbox).
	Actor string
	// Version the turn read. When the batch changes state, Commit applies it
	// only if the actor's version is still Version, and sets it to Version+1.
	Version uint64
	// Puts and Deletes change the actor's state. A key in both is deleted.
	Puts    map[string][]byte
	Deletes []string
	// Send adds messages to the outbox.
	Send []Message
	// Consumed removes outbox entries by ID: the messages this turn processed.
	Consumed []string
	// ConsumeOnce makes the removals of Consumed conditional, checked
	// inside the same atomic write: when an entry is no longer in the
	// outbox (another commit consumed it), or Consumed names it twice,
	// Commit applies nothing and fails with a *ConsumedError. Without it
	// an entry that is gone is skipped. A cluster's hosts set it on every turn, so that a message
	// delivered twice is applied once.
	ConsumeOnce bool
	// Records are stored with the batch: one for each keyed message it
	// applies (a batch that merges several turns holds several).
	Records []Record
	// Reminders are set: each replaces the reminder of the same Actor and
	// Name, if there is one. (A reminder's Actor need not be the batch's.)
	Reminders []Reminder
	// CancelReminders deletes reminders of Actor by name; a name that has
	// none is not an error. A name both set and cancelled is deleted.
	CancelReminders []string
	// DeadLetters are kept: messages given up on, by their Message.ID. A
	// letter with the ID of one already kept replaces it.
	DeadLetters []DeadLetter
	// ClearDeadLetters removes dead letters by ID (replayed or deleted).
	ClearDeadLetters []string
	// DeadLetterCap, when not zero, bounds the dead letters kept once the
	// rest of the batch is applied: see DeadLetterCap.
	DeadLetterCap DeadLetterCap
	// Fence, when not nil, makes the whole batch conditional on the
	// committing node still holding the actor's lease (see Fence, Leases).
	Fence *Fence
	// Links are added to their sets, each replacing the link of the same
	// Set and Member; Unlinks are removed (their Value is ignored). A
	// link both added and removed is removed. See Link.
	Links   []Link
	Unlinks []Link
}

// DeadLetter is a message the host gave up on, kept so that an operator
// can see why, and replay or delete it.
type DeadLetter struct {
	Message  Message // its ID identifies the dead letter
	Error    string  // the last error, "code: message"
	Attempts int
	At       time.Time // when it was given up on
	// PayloadLen is the length of the payload as kept. A store sets it on
	// every letter it returns; a listing leaves Message.Payload nil when
	// it is longer than MaxListedPayload.
	PayloadLen int
}

// MaxListedPayload is the longest payload a dead letter listing returns;
// a longer one is left out (Store.DeadLetter returns it), so that a page
// of letters stays small whatever the letters hold.
const MaxListedPayload = 4 << 10

// MaxOutboxPage caps the entries one OutboxPage returns.
const MaxOutboxPage = 1000

// OutboxPageLimit returns limit as OutboxPage takes it: at most
// MaxOutboxPage, and MaxOutboxPage for a limit below 1.
func OutboxPageLimit(limit int) int {
	if limit < 1 || limit > MaxOutboxPage {
		return MaxOutboxPage
	}
	return limit
}

// OutboxFromPages reads a whole outbox with page (a store's OutboxPage),
// MaxOutboxPage entries at a time, and sorts it by ID: each store's
// Outbox. Like the pages it reads, it is a view of no single moment.
func OutboxFromPages(ctx context.Context, page func(ctx context.Context, cursor string, limit int) ([]Message, string, error)) ([]Message, error) {
	var all []Message
	for cursor := ""; ; {
		msgs, next, err := page(ctx, cursor, MaxOutboxPage)
		if err != nil {
			return nil, err
		}
		all = append(all, msgs...)
		if next == "" {
			break
		}
		cursor = next
	}
	slices.SortFunc(all, func(a, b Message) int { return strings.Compare(a.ID, b.ID) })
	return all, nil
}

// Size is what a dead letter counts against DeadLetterCap.Bytes: the
// lengths of its payload (PayloadLen, or the payload when PayloadLen is
// 0), error and the message's ID, target, sender, method, key and trace.
func (d DeadLetter) Size() int64 {
	m := &d.Message
	payload := max(d.PayloadLen, len(m.Payload))
	return int64(payload + len(d.Error) + len(m.ID) + len(m.Target) + len(m.Sender) + len(m.Method) + len(m.Key) + len(m.Trace))
}

// DeadLetterCap bounds the dead letters a store keeps. When a batch that
// carries one is applied and more than Count letters, or more than Bytes
// in total (see DeadLetter.Size), are kept, the store drops the letters
// with the lowest IDs (the messages sent first) until both hold, and
// counts them in DeadLetterStats.Dropped. A zero field bounds nothing.
type DeadLetterCap struct {
	Count int
	Bytes int64
}

// DeadLetterStats sums up the dead letters a store keeps.
type DeadLetterStats struct {
	Count int   // letters kept
	Bytes int64 // their total Size
	// Dropped counts the letters a DeadLetterCap dropped since the store
	// was created (a durable store keeps the count).
	Dropped uint64
}

// ChangesState reports whether b writes or deletes any state.
func (b *Batch) ChangesState() bool { return len(b.Puts) > 0 || len(b.Deletes) > 0 }

// Empty reports whether b commits nothing at all.
func (b *Batch) Empty() bool {
	return !b.ChangesState() && len(b.Send) == 0 && len(b.Consumed) == 0 && len(b.Records) == 0 &&
		len(b.Reminders) == 0 && len(b.CancelReminders) == 0 &&
		len(b.DeadLetters) == 0 && len(b.ClearDeadLetters) == 0 && b.DeadLetterCap == (DeadLetterCap{}) &&
		len(b.Links) == 0 && len(b.Unlinks) == 0
}

// Store is durable storage for actors. Every method is safe for concurrent
// use. A Store must not be used after Close.
type Store interface {
	// Load returns the actor's committed state; an actor never written to
	// has Version 0 and empty State.
	Load(ctx context.Context, actor string) (Snapshot, error)
	// Commit applies b atomically. When it returns nil the batch is as
	// durable as the store promises (on disk, for a durable store). Many
	// concurrent Commits may share one write (group commit). Once it
	// returns, with or without an error, the store holds nothing of b
	// (it copied what it keeps): the caller may reuse b and what it holds.
	Commit(ctx context.Context, b *Batch) error
	// Outbox returns every message sent and not yet consumed, sorted by
	// ID, read as OutboxPage reads it (see OutboxFromPages): entries
	// added or consumed meanwhile may be left out or listed.
	Outbox(ctx context.Context) ([]Message, error)
	// OutboxPage returns a page of the outbox: at most limit (capped at
	// MaxOutboxPage) of the entries that come after cursor ("" for the
	// first page) in the store's order, and the cursor of the next page,
	// "" when this page is the last. The messages one sender sent to one
	// target come in the order they were sent. It reads the page, not
	// the outbox: a reader that walks the outbox a bounded number of
	// pages at a time spends memory and time bounded per call. Entries
	// added or consumed while the pages are read, or shortly before on a
	// replicated store (natsstore: a replica that lags may answer), may
	// be left out or listed: a walk is a view of no single moment, for
	// readers that come back (the outbox sweep). A cursor is only good
	// for the store that made it.
	OutboxPage(ctx context.Context, cursor string, limit int) ([]Message, string, error)
	// Recorded returns the reply of the Record committed under key, unless
	// it has expired.
	Recorded(ctx context.Context, key string) (reply []byte, ok bool, err error)
	// DueReminders returns up to limit reminders due at or before before,
	// earliest first (ties in Actor, then Name order). It reads an index
	// by due time: the cost depends on what it returns, not on how many
	// reminders are stored.
	DueReminders(ctx context.Context, before time.Time, limit int) ([]Reminder, error)
	// Reminders returns the reminders of actor, sorted by Name.
	Reminders(ctx context.Context, actor string) ([]Reminder, error)
	// DeadLetters returns a page of the dead letters in message ID order:
	// at most limit of those whose IDs sort after after ("" for the first
	// page). It reads from after on, not every letter, and leaves out
	// payloads longer than MaxListedPayload (see DeadLetter.PayloadLen).
	DeadLetters(ctx context.Context, after string, limit int) ([]DeadLetter, error)
	// DeadLetter returns the dead letter id whole, and whether there is one.
	DeadLetter(ctx context.Context, id string) (DeadLetter, bool, error)
	// DeadLetterStats sums up the dead letters kept; it does not read them
	// all.
	DeadLetterStats(ctx context.Context) (DeadLetterStats, error)
	// Links returns a page of the links of set in Member order: at most
	// limit (capped at MaxLinkPage) of those whose Member sorts after
	// after ("" for the first page).
	Links(ctx context.Context, set, after string, limit int) ([]Link, error)
	// Close releases the store; it waits for commits in flight.
	Close() error
}

// Merge appends next to b, so that committing b applies both at once, as
// if b were committed and then next: next's puts, deletes and reminder
// changes replace b's for the same key or name, its messages, records and
// dead letters come after b's, and a non-zero DeadLetterCap of next
// replaces b's. b keeps its Actor (next's, when b has none) and its
// Version: a merged batch that changes state moves the version by one.
// Merge copies next's map and slices (not the bytes of its values), so
// that next's may be reused after.
func (b *Batch) Merge(next *Batch) {
	if b.Actor == "" {
		b.Actor = next.Actor
	}
	if b.Fence == nil {
		b.Fence = next.Fence
	}
	b.ConsumeOnce = b.ConsumeOnce || next.ConsumeOnce
	if len(next.Deletes) > 0 {
		gone := make(map[string]bool, len(next.Deletes))
		for _, k := range next.Deletes {
			gone[k] = true
			delete(b.Puts, k)
		}
		b.Deletes = slices.DeleteFunc(b.Deletes, func(k string) bool { return gone[k] })
		b.Deletes = append(b.Deletes, next.Deletes...)
	}
	if len(next.Puts) > 0 {
		b.Deletes = slices.DeleteFunc(b.Deletes, func(k string) bool { _, put := next.Puts[k]; return put })
		if b.Puts == nil {
			b.Puts = maps.Clone(next.Puts)
		} else {
			maps.Copy(b.Puts, next.Puts)
		}
	}
	consumed := next.Consumed
	if len(consumed) > 0 && len(b.Send) > 0 {
		// A message b sends and next consumes is never stored.
		gone := make(map[string]bool, len(consumed))
		for _, id := range consumed {
			gone[id] = false
		}
		b.Send = slices.DeleteFunc(b.Send, func(m Message) bool {
			_, ok := gone[m.ID]
			gone[m.ID] = ok
			return ok
		})
		consumed = slices.DeleteFunc(slices.Clone(consumed), func(id string) bool { return gone[id] })
	}
	b.Send = append(b.Send, next.Send...)
	b.Consumed = append(b.Consumed, consumed...)
	b.Records = append(b.Records, next.Records...)
	if len(next.Reminders) > 0 || len(next.CancelReminders) > 0 {
		type key struct{ actor, name string }
		replaced := make(map[key]bool, len(next.Reminders)+len(next.CancelReminders))
		for _, r := range next.Reminders {
			replaced[key{r.Actor, r.Name}] = true
		}
		for _, name := range next.CancelReminders {
			replaced[key{b.Actor, name}] = true
		}
		b.Reminders = slices.DeleteFunc(b.Reminders, func(r Reminder) bool { return replaced[key{r.Actor, r.Name}] })
		b.CancelReminders = slices.DeleteFunc(b.CancelReminders, func(name string) bool { return replaced[key{b.Actor, name}] })
		b.Reminders = append(b.Reminders, next.Reminders...)
		b.CancelReminders = append(b.CancelReminders, next.CancelReminders...)
	}
	b.DeadLetters = append(b.DeadLetters, next.DeadLetters...)
	b.ClearDeadLetters = append(b.ClearDeadLetters, next.ClearDeadLetters...)
	if next.DeadLetterCap != (DeadLetterCap{}) {
		b.DeadLetterCap = next.DeadLetterCap
	}
	b.mergeLinks(next)
}
