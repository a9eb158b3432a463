package host

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// How the host loads and fires reminders. Only reminders due within the
// horizon are held in memory, loaded through the store's due-time index a
// page at a time, so that a store full of far-off reminders costs nothing
// at start-up.
const (
	reminderHorizon  = time.Minute // load what is due this soon
	reminderPage     = 1000        // at most this many per load
	reminderRescan   = reminderHorizon / 2
	reminderRetryMax = time.Minute     // backoff cap of a failing firing
	reminderScanWait = 5 * time.Second // after a failed load
	reminderPageWait = time.Second     // after a full page, to load the next
)

// errStaleFiring: the reminder a firing was for was replaced, moved or
// cancelled after the firing was sent; it is dropped without a turn.
var errStaleFiring = errors.New("host: stale reminder firing")

type reminderKey struct{ actor, name string }

// reminderEntry is a reminder due soon, waiting for its alarm or firing.
type reminderEntry struct {
	key     reminderKey
	due     time.Time
	alarm   scheduler.Alarm // nil while the firing is in the actor's mailbox or turn
	attempt int             // failed firings so far
	id      string          // the firing's message id, kept across retries
	trace   string          // the reminder's trace context (storage.Reminder.Trace)
}

// reminders fires the durable reminders of every actor. The store is the
// truth; this holds the ones due within the horizon and fires each at its
// time by sending the actor a message. The turn that processes the firing
// commits the reminder's next due time (or its deletion) with its own
// writes, so a crash before that commit fires it again after a restart.
type reminders struct {
	h     *Host
	clock scheduler.Clock

	scanMu sync.Mutex // one load at a time

	mu          sync.Mutex
	entries     map[reminderKey]*reminderEntry
	loadedUntil time.Time // every reminder due at or before this is in entries
	started     time.Time // a tick due before this was missed while no host ran
	scanAlarm   scheduler.Alarm
	stopped     bool
	active      sync.WaitGroup // alarm callbacks that load
}

func newReminders(h *Host, clock scheduler.Clock) *reminders {
	return &reminders{h: h, clock: clock, entries: make(map[reminderKey]*reminderEntry)}
}

// start notes the start time and loads what is due soon.
func (rm *reminders) start(ctx context.Context) error {
	rm.mu.Lock()
	rm.started = rm.clock.Now()
	rm.mu.Unlock()
	return rm.scan(ctx)
}

// stop stops every alarm and waits for loads in progress. Firings already
// in mailboxes end with the scheduler; their reminders stay in the store.
func (rm *reminders) stop() {
	rm.mu.Lock()
	rm.stopped = true
	if rm.scanAlarm != nil {
		rm.scanAlarm.Stop()
	}
	for _, e := range rm.entries {
		if e.alarm != nil {
			e.alarm.Stop()
		}
	}
	clear(rm.entries)
	rm.mu.Unlock()
	rm.active.Wait()
}

// scan loads the reminders due within the horizon, a page at most, and
// sets the alarm for the next load.
func (rm *reminders) scan(ctx context.Context) error {
	rm.scanMu.Lock()
	defer rm.scanMu.Unlock()
	now := rm.clock.Now()
	until := now.Add(reminderHorizon)
	list, err := rm.h.store.DueReminders(ctx, until, reminderPage)
	wait := reminderRescan
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.stopped {
		return nil
	}
	if err != nil {
		rm.h.log.Error("loading the reminders due soon", "err", err)
		wait = reminderScanWait
	} else {
		if len(list) == reminderPage {
			// Later reminders did not fit: load them once these have fired.
			until = list[len(list)-1].Due.Add(-time.Nanosecond)
			wait = reminderPageWait
		}
		rm.loadedUntil = until
		for _, r := range list {
			k := reminderKey{r.Actor, r.Name}
			if rm.entries[k] == nil {
				rm.add(k, r.Due, r.Trace)
			}
		}
	}
	if rm.scanAlarm != nil {
		rm.scanAlarm.Stop()
	}
	rm.scanAlarm = rm.clock.AfterFunc(wait, rm.scanLater)
	if err != nil {
		return err
	}
	return nil
}

// scanLater is the alarm of the next load.
func (rm *reminders) scanLater() {
	rm.mu.Lock()
	if rm.stopped {
		rm.mu.Unlock()
		return
	}
	rm.active.Add(1)
	rm.mu.Unlock()
	defer rm.active.Done()
	_ = rm.scan(context.Background())
}

// add holds a reminder due soon and sets its alarm. Called with rm.mu held.
func (rm *reminders) add(k reminderKey, due time.Time, trace string) {
	e := &reminderEntry{key: k, due: due, trace: trace}
	rm.entries[k] = e
	e.alarm = rm.clock.AfterFunc(due.Sub(rm.clock.Now()), func() { rm.fire(e) })
}

// remove forgets a reminder. Called with rm.mu held.
func (rm *reminders) remove(k reminderKey) {
	if e := rm.entries[k]; e != nil {
		if e.alarm != nil {
			e.alarm.Stop()
		}
		delete(rm.entries, k)
	}
}

// committed updates what is held after a commit set and cancelled
// reminders.
func (rm *reminders) committed(set []storage.Reminder, actor string, cancelled []string) {
	if len(set) == 0 && len(cancelled) == 0 {
		return
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.stopped {
		return
	}
	for _, r := range set {
		k := reminderKey{r.Actor, r.Name}
		rm.remove(k)
		if !r.Due.After(rm.loadedUntil) {
			rm.add(k, r.Due, r.Trace)
		}
	}
	for _, name := range cancelled {
		rm.remove(reminderKey{actor, name})
	}
}

// fire sends the firing of e to its actor, activating it if need be.
func (rm *reminders) fire(e *reminderEntry) {
	to, err := abi.ParseRef(e.key.actor)
	mine := err != nil || rm.mine(to)
	rm.mu.Lock()
	if rm.stopped || rm.entries[e.key] != e {
		rm.mu.Unlock()
		return
	}
	e.alarm = nil
	if !mine {
		// Another node owns or prefers the actor: it fires the reminder.
		// Should that change, the next load (at each change of the
		// placement, and every reminderRescan) finds it still due.
		delete(rm.entries, e.key)
		rm.mu.Unlock()
		return
	}
	if e.id == "" {
		e.id = rm.h.ids.next()
	}
	m := &scheduler.Message{ID: e.id, Reminder: e.key.name, Due: e.due, Attempt: e.attempt + 1, Trace: e.trace,
		Done: func(_ []byte, err error) { rm.done(e, err) }}
	rm.mu.Unlock()
	if err == nil {
		m.Target = to
		err = rm.h.sched.Tell(context.Background(), m)
	}
	if err != nil {
		rm.done(e, err)
	}
}

// mine reports whether this host fires the reminders of to: always,
// unless a placement (a cluster) says which node should own it; then
// only where to is active (its owner) or preferred (which activates it).
// Either way the firing's turn commits under the lease's fence, with the
// reminder's next due time, so a reminder fires once per due time even
// when two nodes both believe it theirs for a moment.
func (rm *reminders) mine(to abi.Ref) bool {
	return rm.h.placement == nil || rm.h.sched.Active(to) || rm.h.Prefers(to)
}

// rescan loads the reminders due soon again, bounded in time: after the
// placement changed, the actors this node now prefers fire here.
func (rm *reminders) rescan() {
	ctx, cancel := context.WithTimeout(context.Background(), reminderRescan)
	defer cancel()
	_ = rm.scan(ctx)
}

// done handles the outcome of a firing. Success needs nothing: the turn's
// commit replaced or removed e. A failure leaves the reminder due in the
// store, and it is fired again after a backoff.
func (rm *reminders) done(e *reminderEntry, err error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.stopped || rm.entries[e.key] != e {
		return
	}
	if err == nil || errors.Is(err, errStaleFiring) {
		delete(rm.entries, e.key)
		return
	}
	e.attempt++
	backoff := min(time.Second<<min(e.attempt-1, 10), reminderRetryMax)
	rm.h.log.Warn("reminder firing failed; trying again", "actor", e.key.actor, "reminder", e.key.name,
		"attempt", e.attempt, "retry_in", backoff, "err", err)
	e.alarm = rm.clock.AfterFunc(backoff, func() { rm.fire(e) })
}

// missed reports whether a tick due at due came due before this host
// started, while no host ran.
func (rm *reminders) missed(due time.Time) bool {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return due.Before(rm.started)
}

// firing is the reminder a turn fires and what its commit does to it.
type firing struct {
	r    storage.Reminder
	next *storage.Reminder // nil: the reminder is deleted
}

// prepareFiring checks that the firing m is for the reminder as stored now
// and works out its next due time. It returns nil and no error when the
// tick was missed and the reminder's policy is to skip it: then it has
// committed the move to the next tick itself, without a turn.
func (a *activation) prepareFiring(ctx context.Context, m *scheduler.Message) (*firing, *scheduler.Message, error) {
	h := a.h
	list, err := h.store.Reminders(ctx, a.ref.String())
	if err != nil {
		return nil, nil, abi.NewError(abi.CodeUnavailable, "reading the reminders of "+a.ref.String()+": "+err.Error())
	}
	var f *firing
	for _, r := range list {
		if r.Name == m.Reminder && r.Due.Equal(m.Due) {
			f = &firing{r: r}
			break
		}
	}
	if f == nil {
		return nil, nil, errStaleFiring
	}
	s, err := decodeSchedule(f.r.Schedule)
	if err != nil {
		h.log.Error("a stored reminder has a malformed schedule; it fires this once", "actor", a.ref.String(), "reminder", f.r.Name, "err", err)
	}
	now := h.clock.Now().Round(0)
	if next, ok := s.next(f.r.Due, now); ok && err == nil {
		n := f.r
		n.Due = next
		f.next = &n
	}
	if f.r.Missed == abi.MissedSkip && h.rem.missed(f.r.Due) {
		b := &storage.Batch{Actor: a.ref.String()}
		if a.lease != nil {
			b.Fence = a.lease.fence
		}
		if f.next != nil {
			b.Reminders = []storage.Reminder{*f.next}
		} else {
			b.CancelReminders = []string{f.r.Name}
		}
		resume := h.sched.Blocking(ctx)
		err := h.store.Commit(ctx, b)
		resume()
		if err != nil {
			return nil, nil, abi.NewError(abi.CodeUnavailable, "skipping a missed tick of "+a.ref.String()+" reminder "+f.r.Name+": "+err.Error())
		}
		h.log.Info("skipped a reminder tick missed while no host ran", "actor", a.ref.String(), "reminder", f.r.Name, "due", f.r.Due)
		h.rem.committed(b.Reminders, b.Actor, b.CancelReminders)
		return nil, nil, nil
	}
	if h.obs != nil {
		h.obs.ReminderFired(a.ref.Type, now.Sub(f.r.Due))
	}
	fm := *m
	fm.Method, fm.Payload, fm.Trace = f.r.Method, f.r.Payload, f.r.Trace
	return f, &fm, nil
}

// ReminderInfo describes a durable reminder of an actor.
type ReminderInfo struct {
	Actor   string // "type/id"
	Name    string
	Method  string
	Payload []byte    // CBOR, as the actor set it
	Due     time.Time // when it fires next
	// Every is the period of a periodic reminder and Cron the expression
	// of a cron reminder; when both are zero it fires once, at Due.
	Every  time.Duration
	Cron   string
	Missed string // abi.MissedCatchUp or abi.MissedSkip
}

// Reminders lists the durable reminders of the actor ref, sorted by name.
func (h *Host) Reminders(ctx context.Context, ref abi.Ref) ([]ReminderInfo, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	if _, ok := h.lookupType(ref.Type); !ok {
		return nil, abi.NewError(abi.CodeUnknownType, "no actor type \""+ref.Type+"\"")
	}
	list, err := h.store.Reminders(ctx, ref.String())
	if err != nil {
		return nil, abi.NewError(abi.CodeUnavailable, "reading the reminders of "+ref.String()+": "+err.Error())
	}
	return reminderInfos(list), nil
}

// AllReminders lists the durable reminders of every actor, the next due
// first, at most limit of them: it reads the due-time index, so its cost
// follows limit, not the number stored.
func (h *Host) AllReminders(ctx context.Context, limit int) ([]ReminderInfo, error) {
	list, err := h.store.DueReminders(ctx, time.Unix(1<<40, 0), limit)
	if err != nil {
		return nil, abi.NewError(abi.CodeUnavailable, "reading the reminders: "+err.Error())
	}
	return reminderInfos(list), nil
}

func reminderInfos(list []storage.Reminder) []ReminderInfo {
	infos := make([]ReminderInfo, len(list))
	for i, r := range list {
		s, _ := decodeSchedule(r.Schedule)
		infos[i] = ReminderInfo{Actor: r.Actor, Name: r.Name, Method: r.Method, Payload: r.Payload, Due: r.Due, Every: s.every, Cron: s.cron, Missed: r.Missed}
	}
	return infos
}
