package host

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// Paging of the dead letters.
const (
	// DefaultDeadLetterPage is the page size callers use when the user
	// gives none.
	DefaultDeadLetterPage = 100
	// MaxDeadLetterPage is the largest page DeadLetters returns.
	MaxDeadLetterPage = 1000
	// maxDeadLetterPageBytes ends a page early once the letters in it
	// (their sizes as listed, payloads left out or not) add up to this.
	maxDeadLetterPageBytes = 1 << 20
	// MaxDeadLetterError is how much of a failed tell's error a dead letter
	// keeps; a longer one is cut (a guest's error and stderr can be long).
	MaxDeadLetterError = 1 << 10
)

// deadLetters is the host's side of the dead letters: the cap every
// commit that keeps one carries, and the drops already logged.
type deadLetters struct {
	limit storage.DeadLetterCap

	mu      sync.Mutex
	dropped uint64 // storage.DeadLetterStats.Dropped when last logged
}

// DeadLetterPage is one page of the dead letters, in message ID order
// (the order the messages were sent).
type DeadLetterPage struct {
	// Letters holds the page's dead letters. A payload longer than
	// storage.MaxListedPayload is left out (see storage.DeadLetter
	// .PayloadLen): DeadLetter returns it.
	Letters []storage.DeadLetter
	// Next is the cursor of the next page; "" when this page is the last.
	Next string
}

// DeadLetters lists a page of the tells the host gave up on: at most limit
// (from 1 to MaxDeadLetterPage) letters that come after cursor, "" for the
// first page, and a cursor for the next page. A page also ends early once
// its letters add up to about a MiB. A cursor stays good while letters are
// added and deleted, its own included: the next page starts after it.
func (h *Host) DeadLetters(ctx context.Context, cursor string, limit int) (DeadLetterPage, error) {
	if limit < 1 || limit > MaxDeadLetterPage {
		return DeadLetterPage{}, abi.NewError(abi.CodeBadRequest, "limit "+strconv.Itoa(limit)+" is out of range: ask for 1 to "+strconv.Itoa(MaxDeadLetterPage)+" dead letters a page")
	}
	if cursor != "" && !isMessageID(cursor) {
		return DeadLetterPage{}, abi.NewError(abi.CodeBadRequest, "cursor "+strconv.Quote(cursor)+" is not one a listing gave; pass next_cursor as it came, or none for the first page")
	}
	list, err := h.store.DeadLetters(ctx, cursor, limit+1) // one more: is there a next page?
	if err != nil {
		return DeadLetterPage{}, abi.NewError(abi.CodeUnavailable, "reading the dead letters: "+err.Error())
	}
	n, size := 0, int64(0)
	for n < len(list) && n < limit && (n == 0 || size+listedSize(list[n]) <= maxDeadLetterPageBytes) {
		size += listedSize(list[n])
		n++
	}
	page := DeadLetterPage{Letters: list[:n]}
	if n < len(list) {
		page.Next = list[n-1].Message.ID
	}
	return page, nil
}

// listedSize is the size of a letter as a listing returns it.
func listedSize(d storage.DeadLetter) int64 {
	d.PayloadLen = 0
	return d.Size()
}

// DeadLetter returns one dead letter whole, payload included.
func (h *Host) DeadLetter(ctx context.Context, id string) (storage.DeadLetter, error) {
	d, ok, err := h.store.DeadLetter(ctx, id)
	if err != nil {
		return storage.DeadLetter{}, abi.NewError(abi.CodeUnavailable, "reading dead letter "+strconv.Quote(id)+": "+err.Error())
	}
	if !ok {
		return storage.DeadLetter{}, abi.NewError(abi.CodeBadRequest, "no dead letter "+strconv.Quote(id)+"; GET /v1/deadletters lists them")
	}
	return d, nil
}

// DeadLetterStats sums up the dead letters kept and counts those the cap
// dropped.
func (h *Host) DeadLetterStats(ctx context.Context) (storage.DeadLetterStats, error) {
	st, err := h.store.DeadLetterStats(ctx)
	if err != nil {
		return st, abi.NewError(abi.CodeUnavailable, "reading the dead letter totals: "+err.Error())
	}
	return st, nil
}

// ReplayDeadLetter sends a dead letter again as a new tell, with its
// sender, payload, idempotency key and trace context, and removes it from
// the dead letters in the same commit.
func (h *Host) ReplayDeadLetter(ctx context.Context, id string) error {
	d, err := h.DeadLetter(ctx, id)
	if err != nil {
		return err
	}
	m := d.Message
	m.ID = h.ids.next()
	if m.Trace == "" {
		// It keeps the trace of the turn that sent it, if it has one;
		// else it joins the replay's.
		m.Trace = h.tracer.contextTrace(ctx)
	}
	if err := h.store.Commit(ctx, &storage.Batch{Send: []storage.Message{m}, ClearDeadLetters: []string{id}}); err != nil {
		return abi.NewError(abi.CodeUnavailable, "replaying dead letter "+id+": "+err.Error())
	}
	h.deliver([]storage.Message{m})
	return nil
}

// DeleteDeadLetter forgets a dead letter.
func (h *Host) DeleteDeadLetter(ctx context.Context, id string) error {
	if _, err := h.DeadLetter(ctx, id); err != nil {
		return err
	}
	if err := h.store.Commit(ctx, &storage.Batch{ClearDeadLetters: []string{id}}); err != nil {
		return abi.NewError(abi.CodeUnavailable, "deleting dead letter "+id+": "+err.Error())
	}
	return nil
}

// keepDeadLetter moves the tell m, which failed with err after attempts
// tries, from the outbox to the dead letters in one commit that carries
// the cap. A letter larger than the whole byte cap is not kept: it would
// only push out every other one. The caller holds a blocking section.
func (h *Host) keepDeadLetter(ctx context.Context, target abi.Ref, m *scheduler.Message, err error) {
	d := storage.DeadLetter{
		Message: storage.Message{ID: m.ID, Target: target.String(), Sender: refString(m.Sender),
			Method: m.Method, Payload: m.Payload, Key: m.Key, Trace: m.Trace},
		Error:    truncate(asABIError(err).Error(), MaxDeadLetterError),
		Attempts: m.Attempt,
		At:       time.Now(),
	}
	// In a cluster a message may be delivered twice: a copy whose original
	// another commit consumed is not a dead letter (ConsumeOnce refuses it).
	b := &storage.Batch{Consumed: []string{m.ID}, ConsumeOnce: h.own != nil, DeadLetters: []storage.DeadLetter{d}, DeadLetterCap: h.dead.limit}
	if size := d.Size(); size > h.dead.limit.Bytes {
		h.log.Error("tell failed and is larger than the whole dead letter cap; dropped", "actor", d.Message.Target,
			"method", m.Method, "id", m.ID, "bytes", size, "max_bytes", h.dead.limit.Bytes, "err", d.Error)
		b.DeadLetters = nil
	} else {
		h.log.Warn("tell failed; moved to the dead letters", "actor", d.Message.Target, "method", m.Method,
			"id", m.ID, "attempts", m.Attempt, "err", d.Error)
	}
	cerr := h.store.Commit(ctx, b)
	if h.obs != nil {
		h.obs.DeadLettered(target.Type, cerr == nil && b.DeadLetters != nil)
	}
	if errors.Is(cerr, storage.ErrConsumed) {
		h.log.Info("a tell delivered twice failed its second time; the first was applied", "id", m.ID, "actor", d.Message.Target)
		return
	}
	if cerr != nil {
		h.log.Error("moving a tell to the dead letters", "id", m.ID, "err", cerr)
		return
	}
	h.logDropped(ctx)
}

// applyDeadLetterCap applies the cap to the letters an earlier run kept,
// so that a lowered cap holds from the start.
func (h *Host) applyDeadLetterCap(ctx context.Context) error {
	st, err := h.store.DeadLetterStats(ctx)
	if err != nil {
		return err
	}
	h.dead.mu.Lock()
	h.dead.dropped = st.Dropped
	h.dead.mu.Unlock()
	if err := h.store.Commit(ctx, &storage.Batch{DeadLetterCap: h.dead.limit}); err != nil {
		return err
	}
	h.logDropped(ctx)
	return nil
}

// logDropped logs the dead letters the cap dropped since it last logged.
func (h *Host) logDropped(ctx context.Context) {
	st, err := h.store.DeadLetterStats(ctx)
	if err != nil {
		h.log.Error("reading the dead letter totals", "err", err)
		return
	}
	h.dead.mu.Lock()
	n := st.Dropped - min(h.dead.dropped, st.Dropped)
	h.dead.dropped = max(h.dead.dropped, st.Dropped)
	h.dead.mu.Unlock()
	if n > 0 {
		h.log.Warn("dead letters full; dropped the oldest", "dropped", n, "dropped_total", st.Dropped,
			"kept", st.Count, "kept_bytes", st.Bytes, "max", h.dead.limit.Count, "max_bytes", h.dead.limit.Bytes)
	}
}

// truncate cuts s to at most n bytes, at a character boundary, saying so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const cut = "… (cut)"
	s = s[:n-len(cut)]
	// Drop a last character that the cut split.
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if r, size := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && size <= 1 {
				s = s[:i]
			}
			break
		}
	}
	return s + cut
}
