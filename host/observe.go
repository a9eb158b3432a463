package host

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// Observer is told what the host does, for metrics (Config.Observer). The
// host calls it on its hot paths, for every turn, commit and send, from
// many goroutines at once: its methods must be safe for concurrent use,
// cheap, and must not block. Embed NopObserver in an implementation so
// that methods added to Observer later do nothing rather than break it.
//
// What the host passes is bounded, with one exception: types are the
// deployed types; kinds, reasons, outcomes and codes come from small fixed
// sets (an actor's own error codes are all "app_error", see Outcome). A
// turn's method is the caller's string, which any client can vary at will:
// an observer that keeps a series per method must bound them itself.
type Observer interface {
	// ActivationCreated: an activation of typ was created, its state
	// loaded and its instance started.
	ActivationCreated(typ string)
	// ActivationFailed: creating an activation of typ failed; outcome
	// says why (see Outcome).
	ActivationFailed(typ, outcome string)
	// ActivationEnded: an activation of typ was deactivated, for reason
	// (one of the scheduler.Reason constants).
	ActivationEnded(typ, reason string)
	// InstanceStarted: an instance of typ was built and its activate hook
	// ran, in took: at activation, after the guest broke, after a deploy.
	InstanceStarted(typ string, took time.Duration)
	// TurnDone: a message of kind to an actor of typ was processed, with
	// outcome (see Outcome), in took: from the start of its turn until
	// its outcome was known, its commit included.
	TurnDone(typ, method string, kind MessageKind, outcome string, took time.Duration)
	// GuestFailed: a guest of typ broke in a turn or a hook and its
	// instance was dropped; code is turn_timeout (interrupted),
	// memory_exhausted, trapped or bad_reply.
	GuestFailed(typ, code string)
	// Committed: a batch holding the effects of turns (more than one
	// when an activation's pipeline merged them) was committed, or failed
	// to be when err is not nil, in took.
	Committed(turns int, took time.Duration, err error)
	// Sent: n messages of kind (KindAsk or KindTell) were sent by actors
	// of typ, or by clients when typ is "" (HTTP, the Go API). Tells are
	// counted when the turn that sent them commits.
	Sent(typ string, kind MessageKind, n int)
	// ReminderFired: a reminder of an actor of typ fired, late after its
	// due time (the time its alarm and the actor's mailbox took).
	ReminderFired(typ string, late time.Duration)
	// DeadLettered: a tell to an actor of typ failed for good and was
	// moved to the dead letters, or dropped when kept is false (larger
	// than the whole cap, or the store refused it).
	DeadLettered(typ string, kept bool)
}

// NopObserver does nothing; embed it in an Observer.
type NopObserver struct{}

// ActivationCreated implements Observer.
func (NopObserver) ActivationCreated(string) {}

// ActivationFailed implements Observer.
func (NopObserver) ActivationFailed(string, string) {}

// ActivationEnded implements Observer.
func (NopObserver) ActivationEnded(string, string) {}

// InstanceStarted implements Observer.
func (NopObserver) InstanceStarted(string, time.Duration) {}

// TurnDone implements Observer.
func (NopObserver) TurnDone(string, string, MessageKind, string, time.Duration) {}

// GuestFailed implements Observer.
func (NopObserver) GuestFailed(string, string) {}

// Committed implements Observer.
func (NopObserver) Committed(int, time.Duration, error) {}

// Sent implements Observer.
func (NopObserver) Sent(string, MessageKind, int) {}

// ReminderFired implements Observer.
func (NopObserver) ReminderFired(string, time.Duration) {}

// DeadLettered implements Observer.
func (NopObserver) DeadLettered(string, bool) {}

// MessageKind says what a message is to the actor that gets it.
type MessageKind string

// The kinds of message.
const (
	KindAsk      MessageKind = "ask"      // its sender waits for the reply
	KindTell     MessageKind = "tell"     // one way, from the outbox
	KindTimer    MessageKind = "timer"    // a tick of one of the actor's timers
	KindReminder MessageKind = "reminder" // a firing of one of its durable reminders
)

// OutcomeOK and OutcomeAppError are the outcomes that are not error codes
// of the runtime (see Outcome).
const (
	OutcomeOK       = "ok"
	OutcomeAppError = "app_error"
)

// Outcome names the outcome of an operation that returned err: OutcomeOK
// for nil, the code of an *abi.Error from the runtime's vocabulary
// (abi.IsSystemCode), OutcomeAppError for an actor's own error code, and
// unavailable for any other error. The set of outcomes is small and fixed.
func Outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	e, ok := err.(*abi.Error)
	if !ok && !errors.As(err, &e) {
		return abi.CodeUnavailable
	}
	if abi.IsSystemCode(e.Code) {
		return e.Code
	}
	return OutcomeAppError
}

// kindOf is the kind of m.
func kindOf(m *scheduler.Message) MessageKind {
	switch {
	case m.IsAsk():
		return KindAsk
	case m.Timer != "":
		return KindTimer
	case m.Reminder != "":
		return KindReminder
	}
	return KindTell
}

// observer returns cfg's observer, or nil when it observes nothing.
func observer(cfg Config) Observer {
	if cfg.Observer == nil {
		return nil
	}
	if _, nop := cfg.Observer.(NopObserver); nop {
		return nil
	}
	return cfg.Observer
}

// turnWatch times the turn an activation runs, for the observer. The
// activation's goroutine owns it; a turn whose answer is deferred takes a
// copy into its pipeline entry.
type turnWatch struct {
	start  time.Duration // on the monotonic clock, see monotonic
	method string
	kind   MessageKind
	skip   bool // no turn ran: a stale or skipped reminder firing
}

// watchTurn starts timing the turn of m, when the host is observed.
func (a *activation) watchTurn(m *scheduler.Message) {
	if a.h.obs == nil {
		return
	}
	a.watch = turnWatch{start: monotonic(), method: m.Method, kind: kindOf(m)}
}

// epoch is where monotonic counts from.
var epoch = time.Now()

// monotonic reads the monotonic clock alone: time.Now reads the wall
// clock too, which a turn timed at both ends would pay twice for nothing.
func monotonic() time.Duration { return time.Since(epoch) }

// turnDone reports a turn that ended with err.
func (a *activation) turnDone(w *turnWatch, err error) {
	if a.h.obs == nil || w.skip {
		return
	}
	a.h.obs.TurnDone(a.ref.Type, w.method, w.kind, Outcome(err), monotonic()-w.start)
}

// guestBroke reports that the guest broke, with err, in a turn or hook.
func (a *activation) guestBroke(err error) {
	if a.h.obs != nil {
		a.h.obs.GuestFailed(a.ref.Type, Outcome(err))
	}
}

// committed reports a commit of turns that took took.
func (h *Host) committed(turns int, took time.Duration, err error) {
	if h.obs != nil {
		h.obs.Committed(turns, took, err)
	}
}

// sent reports n messages of kind sent by an actor of typ ("": a client).
func (h *Host) sent(typ string, kind MessageKind, n int) {
	if h.obs != nil && n > 0 {
		h.obs.Sent(typ, kind, n)
	}
}

// Levels is what the host holds at one instant, for metrics.
type Levels struct {
	// Types is the load of each deployed type, sorted by name (zero for
	// a type without live activations).
	Types []TypeLevels
	// GuestMemory is the bytes of linear memory the live guests hold or
	// reserved; GuestMemoryBudget the budget (0: none).
	GuestMemory, GuestMemoryBudget int64
	// OutboxWaiting counts the committed tells waiting in memory for
	// room in their target's mailbox.
	OutboxWaiting int64
	// RemindersDueSoon counts the reminders due within the next minute,
	// which the host holds in memory with an alarm each.
	RemindersDueSoon int
	// DeadLetters sums up the dead letters kept, from the store.
	DeadLetters storage.DeadLetterStats
}

// TypeLevels is the load of one deployed actor type.
type TypeLevels struct {
	Name string
	scheduler.TypeLoad
}

// Levels returns what the host holds now. It visits every live
// activation and reads the dead letter totals from the store: call it now
// and then (a metrics scrape), not per message. The error is the store's;
// the other fields are filled in anyway.
func (h *Host) Levels(ctx context.Context) (Levels, error) {
	load := h.sched.Load()
	h.typesMu.RLock()
	types := make([]TypeLevels, 0, len(h.types))
	for name := range h.types {
		types = append(types, TypeLevels{Name: name, TypeLoad: load[name]})
	}
	h.typesMu.RUnlock()
	sort.Slice(types, func(i, j int) bool { return types[i].Name < types[j].Name })
	h.rem.mu.Lock()
	due := len(h.rem.entries)
	h.rem.mu.Unlock()
	lv := Levels{
		Types:             types,
		GuestMemory:       h.sched.MemoryInUse(),
		GuestMemoryBudget: h.budget,
		OutboxWaiting:     h.waiting.Load(),
		RemindersDueSoon:  due,
	}
	st, err := h.store.DeadLetterStats(ctx)
	if err != nil {
		return lv, abi.NewError(abi.CodeUnavailable, "reading the dead letter totals: "+err.Error())
	}
	lv.DeadLetters = st
	return lv, nil
}
