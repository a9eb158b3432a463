// Package wactortest runs a Go actor natively, without WebAssembly, against
// an in-memory host, so that its handlers can be tested with go test:
//
//	func TestAdd(t *testing.T) {
//		h := wactortest.New(t, "counter/a")
//		out, err := h.Call("add", wactor.NewMap().Int("n", 2).Encode())
//		...
//	}
//
// The actor is the one whose init functions registered handlers in the test
// binary. The Host keeps the real host's turn semantics: state writes and
// tells are buffered during a turn, visible to the turn's own reads, and
// committed only if the turn succeeds. An ask goes to the function set with
// OnAsk; an ask to the actor itself fails with a deadlock error, as it would
// in the runtime. Every host call is checked with the host's own rules
// (package abi's limits and Check functions: key and value sizes, method
// names, timer and reminder fields, how many tells, timers and reminders a
// turn may buffer), so a call the runtime would refuse is refused here with
// the same code and message. Only the syntax of cron expressions is not
// checked natively. One Host is current at a time, so tests that use it
// must not run in parallel.
package wactortest

import (
	"strconv"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// AskFunc answers an ask. A returned *abi.Error (a wactor.Error) reaches
// the asking actor as is; any other error arrives with the code "error".
type AskFunc func(target, method string, payload []byte) ([]byte, error)

// LogEntry is one record the actor logged.
type LogEntry struct {
	Level   int64 // abi.LevelDebug .. abi.LevelError
	Message string
}

// Host is an in-memory host for one actor.
type Host struct {
	t     testing.TB
	self  string
	state map[string][]byte
	tells []abi.Call
	asks  []abi.Call
	fwds  []abi.Call
	logs  []LogEntry
	ask   AskFunc
	turns []*turn // the turns in progress, innermost last
	seq   int
	deact bool
	max   int64 // the message limit
	// asking: the next turn is an ask's (Call, CallFrom), which it may
	// forward.
	asking bool

	timers    map[string]abi.Timer
	reminders map[string]abi.Reminder
	watching  map[string]bool   // the actors watched, by committed turns
	published []abi.Publish     // by committed turns, in order
	subs      map[string]string // topic -> method, by committed turns
}

// turn holds what one turn buffers until it commits.
type turn struct {
	writes    map[string][]byte // nil value: deleted
	tells     []abi.Call
	deact     bool
	isAsk     bool                     // the turn handles an ask (Call, CallFrom)
	forward   *abi.Call                // where it forwards its ask; nil: it answers
	timerOps  int                      // timer sets and cancels, as the host counts them
	timers    map[string]*abi.Timer    // nil value: cancelled
	reminders map[string]*abi.Reminder // nil value: cancelled
	watches   map[string]bool          // by target: watch, or unwatch (false)
	published []abi.Publish
	subs      map[string]string // topic -> method; "": unsubscribe
}

// New returns a Host for the actor self ("type/id") and makes it the host
// the SDK calls until the test ends. Log records go to t.Log.
func New(t testing.TB, self string) *Host {
	t.Helper()
	if _, err := abi.ParseRef(self); err != nil {
		t.Fatalf("wactortest.New: %v", err)
	}
	h := &Host{t: t, self: self, state: map[string][]byte{}, max: abi.DefaultMaxMessage,
		timers: map[string]abi.Timer{}, reminders: map[string]abi.Reminder{}, watching: map[string]bool{}, subs: map[string]string{}}
	hostlink.Current = link{h}
	t.Cleanup(func() {
		if hostlink.Current == (link{h}) {
			hostlink.Current = nil
		}
	})
	return h
}

// SetMaxMessage sets the largest message, reply, state value and timer or
// reminder payload, as a type's max_message does in the manifest (the
// default is abi.DefaultMaxMessage).
func (h *Host) SetMaxMessage(n int64) { h.max = n }

// Self returns the actor's "type/id".
func (h *Host) Self() string { return h.self }

// OnAsk sets the function that answers the actor's asks.
func (h *Host) OnAsk(fn AskFunc) { h.ask = fn }

// Call delivers a message from outside (no sender) to method and returns
// the reply payload, or the reply's error as an *abi.Error.
func (h *Host) Call(method string, payload []byte) ([]byte, error) {
	return h.CallFrom("", method, payload)
}

// Call is Host.Call for typed handlers: it sends req's encoding to method
// and decodes the reply as a Resp:
//
//	total, err := wactortest.Call[reply](h, "add", addRequest{N: 5})
func Call[Resp any, PResp wactor.Codec[Resp]](h *Host, method string, req wactor.Marshaler) (Resp, error) {
	var resp Resp
	out, err := h.Call(method, req.MarshalCBOR(nil))
	if err != nil {
		return resp, err
	}
	if err := PResp(&resp).UnmarshalCBOR(out); err != nil {
		return resp, err
	}
	return resp, nil
}

// CallFrom delivers a message from the actor sender ("type/id").
func (h *Host) CallFrom(sender, method string, payload []byte) ([]byte, error) {
	if e := abi.CheckMethod("message to "+h.self, method); e != nil {
		return nil, e
	}
	if int64(len(payload)) > h.max {
		return nil, abi.NewError(abi.CodeTooLarge, "message to "+h.self+" is over the limit of "+strconv.FormatInt(h.max, 10)+" bytes")
	}
	h.asking = true
	return h.turn(abi.Request{Kind: abi.KindMessage, Method: method, Payload: payload, Sender: sender})
}

// Activate runs the actor's activate hook as the runtime does before the
// first message.
func (h *Host) Activate() error {
	_, err := h.turn(abi.Request{Kind: abi.KindActivate})
	return err
}

// Deactivate runs the actor's deactivate hook.
func (h *Host) Deactivate() error {
	_, err := h.turn(abi.Request{Kind: abi.KindDeactivate})
	return err
}

// State returns the committed value of key.
func (h *Host) State(key string) ([]byte, bool) {
	v, ok := h.state[key]
	return v, ok
}

// SetState stores a committed value, as if an earlier turn had written it.
func (h *Host) SetState(key string, value []byte) { h.state[key] = clone(value) }

// Tells returns the committed tells in the order they were sent.
func (h *Host) Tells() []abi.Call { return h.tells }

// Forwards returns the asks committed turns forwarded (Context.Forward),
// in order. Call answers a forwarded ask with the OnAsk function's reply
// to the forward, as the runtime answers the asker with the reply of the
// actor the ask was forwarded to.
func (h *Host) Forwards() []abi.Call { return h.fwds }

// Asks returns every ask the actor made, in order, whether or not its turn
// committed (an ask is not part of the transaction).
func (h *Host) Asks() []abi.Call { return h.asks }

// Logs returns the records the actor logged.
func (h *Host) Logs() []LogEntry { return h.logs }

// DeactivateRequested reports whether a committed turn called
// Context.Deactivate.
func (h *Host) DeactivateRequested() bool { return h.deact }

// Timers returns the timers set by committed turns and not cancelled or
// fired (once), by name.
func (h *Host) Timers() map[string]abi.Timer { return h.timers }

// Reminders returns the reminders set by committed turns and not cancelled
// or fired (once), by name.
func (h *Host) Reminders() map[string]abi.Reminder { return h.reminders }

// FireTimer delivers a tick of the timer name, as the runtime does when it
// is due: its method with its payload, as a turn without a sender. A timer
// that fires once is gone afterwards, whatever the turn's outcome.
func (h *Host) FireTimer(name string) ([]byte, error) {
	h.t.Helper()
	tm, ok := h.timers[name]
	if !ok {
		h.t.Fatalf("wactortest: FireTimer(%q): no such timer", name)
	}
	if tm.PeriodMS == 0 {
		delete(h.timers, name)
	}
	return h.turn(abi.Request{Kind: abi.KindMessage, Method: tm.Method, Payload: tm.Payload})
}

// FireReminder delivers a firing of the reminder name: its method with its
// payload, as a turn without a sender. When the turn commits, a reminder
// that fires once is deleted (unless the turn set it again); when it fails,
// the reminder stays, as in the runtime, which tries again later.
func (h *Host) FireReminder(name string) ([]byte, error) {
	h.t.Helper()
	r, ok := h.reminders[name]
	if !ok {
		h.t.Fatalf("wactortest: FireReminder(%q): no such reminder", name)
	}
	once := r.EveryMS == 0 && r.Cron == ""
	out, err := h.turnWith(abi.Request{Kind: abi.KindMessage, Method: r.Method, Payload: r.Payload}, func(t *turn) {
		if _, reset := t.reminders[name]; once && !reset {
			t.reminders[name] = nil
		}
	})
	return out, err
}

// Reset forgets the tells, asks, logs and deactivation request recorded so
// far; the state, timers and reminders stay.
func (h *Host) Reset() { h.tells, h.asks, h.fwds, h.logs, h.deact = nil, nil, nil, nil, false }

func (h *Host) turn(req abi.Request) ([]byte, error) {
	h.t.Helper()
	return h.turnWith(req, nil)
}

// turnWith runs a turn; beforeCommit may add to what a successful turn
// commits.
func (h *Host) turnWith(req abi.Request, beforeCommit func(*turn)) ([]byte, error) {
	h.t.Helper()
	if hostlink.Handle == nil {
		h.t.Fatal("wactortest: the wactor SDK is not linked into the test binary, or this is a wasip1 build (wactortest runs actors natively only)")
	}
	h.seq++
	req.ID = "msg-" + strconv.Itoa(h.seq)
	t := &turn{writes: map[string][]byte{}, timers: map[string]*abi.Timer{}, reminders: map[string]*abi.Reminder{}, watches: map[string]bool{}, subs: map[string]string{}, isAsk: h.asking}
	h.asking = false
	h.turns = append(h.turns, t)
	out := hostlink.Handle(req.AppendTo(nil))
	h.turns = h.turns[:len(h.turns)-1]

	var reply abi.Reply
	if err := reply.Decode(out); err != nil {
		return nil, &abi.Error{Code: abi.CodeBadReply, Message: "wactortest: the actor's reply is malformed: " + err.Error()}
	}
	if reply.Code != "" {
		return nil, &abi.Error{Code: reply.Code, Message: reply.Message}
	}
	if int64(len(reply.Payload)) > h.max {
		return nil, abi.NewError(abi.CodeTooLarge, "reply of "+h.self+"."+req.Method+" is over the limit of "+strconv.FormatInt(h.max, 10)+" bytes")
	}
	for k, v := range t.writes {
		if v == nil {
			delete(h.state, k)
		} else {
			h.state[k] = v
		}
	}
	if beforeCommit != nil {
		beforeCommit(t)
	}
	h.tells = append(h.tells, t.tells...)
	h.deact = h.deact || t.deact
	for name, tm := range t.timers {
		if tm == nil {
			delete(h.timers, name)
		} else {
			h.timers[name] = *tm
		}
	}
	for name, r := range t.reminders {
		if r == nil {
			delete(h.reminders, name)
		} else {
			h.reminders[name] = *r
		}
	}
	h.commitWatches(t)
	h.commitTopics(t)
	if t.forward != nil {
		h.fwds = append(h.fwds, *t.forward)
		st, res := h.answer(*t.forward)
		if st != abi.StatusOK {
			e, err := abi.DecodeError(res)
			if err != nil {
				return nil, err
			}
			return nil, e
		}
		return res, nil
	}
	return clone(reply.Payload), nil
}

// link is how the SDK reaches a Host.
type link struct{ h *Host }

func (l link) Call(fn hostlink.Func, arg []byte) (abi.Status, []byte) { return l.h.hostCall(fn, arg) }

// hostCall answers one host call of the actor.
func (h *Host) hostCall(fn hostlink.Func, arg []byte) (abi.Status, []byte) {
	if len(h.turns) == 0 {
		return fail(abi.CodeUnavailable, "wactortest: host call "+fn.String()+" outside a turn")
	}
	t := h.turns[len(h.turns)-1]
	if e := abi.CheckArgSize(fn.String(), len(arg), h.max); e != nil {
		return failErr(e)
	}
	switch fn {
	case hostlink.Forward:
		var c abi.Call
		if err := c.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: forward: "+err.Error())
		}
		forwarded := 0
		if t.forward != nil {
			forwarded = 1
		}
		if e := abi.CheckForward(t.isAsk, forwarded); e != nil {
			return failErr(e)
		}
		if _, e := abi.CheckCall(&c, h.max); e != nil {
			return failErr(e)
		}
		c.Payload = clone(c.Payload)
		t.forward = &c
		return abi.StatusOK, nil
	case hostlink.Tell, hostlink.Ask:
		var c abi.Call
		if err := c.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
		}
		if _, e := abi.CheckCall(&c, h.max); e != nil {
			return failErr(e)
		}
		c.Payload = clone(c.Payload)
		if fn == hostlink.Tell {
			if e := abi.CheckSends(len(t.tells)); e != nil {
				return failErr(e)
			}
			t.tells = append(t.tells, c)
			return abi.StatusOK, nil
		}
		h.asks = append(h.asks, c)
		return h.answer(c)
	case hostlink.StateGet, hostlink.StateSet, hostlink.StateDelete:
		var op abi.StateOp
		if err := op.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
		}
		if e := abi.CheckKey(op.Key); e != nil {
			return failErr(e)
		}
		switch fn {
		case hostlink.StateGet:
			v, ok := t.writes[op.Key]
			if !ok {
				v, ok = h.state[op.Key]
			} else {
				ok = v != nil
			}
			if !ok {
				return abi.StatusNotFound, nil
			}
			return abi.StatusOK, clone(v)
		case hostlink.StateSet:
			if e := abi.CheckValue(op.Key, op.Value, h.max); e != nil {
				return failErr(e)
			}
			t.writes[op.Key] = append([]byte{}, op.Value...) // no value: an empty one
		default:
			t.writes[op.Key] = nil
		}
		return abi.StatusOK, nil
	case hostlink.Self:
		return abi.StatusOK, []byte(h.self)
	case hostlink.Log:
		var rec abi.LogRecord
		if err := rec.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: log: "+err.Error())
		}
		msg := abi.TruncateLog(rec.Message)
		h.logs = append(h.logs, LogEntry{Level: rec.Level, Message: msg})
		h.t.Log(h.self + ": " + msg)
		return abi.StatusOK, nil
	case hostlink.Deactivate:
		t.deact = true
		return abi.StatusOK, nil
	case hostlink.TimerSet:
		var tm abi.Timer
		if err := tm.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: timer_set: "+err.Error())
		}
		if e := abi.CheckTimer(&tm, h.max); e != nil {
			return failErr(e)
		}
		if e := abi.CheckTimerOps(t.timerOps); e != nil { // a set is an op, as a cancel is
			return failErr(e)
		}
		if _, pending := t.timers[tm.Name]; !pending || t.timers[tm.Name] == nil {
			// As the host counts: the timers set, plus this turn's own.
			adding := 0
			for _, p := range t.timers {
				if p != nil {
					adding++
				}
			}
			if e := abi.CheckTimerCount(len(h.timers) + adding); e != nil {
				return failErr(e)
			}
		}
		tm.Payload = clone(tm.Payload)
		t.timers[tm.Name] = &tm
		t.timerOps++
		return abi.StatusOK, nil
	case hostlink.ReminderSet:
		var r abi.Reminder
		if err := r.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: reminder_set: "+err.Error())
		}
		if e := abi.CheckReminder(&r, h.max); e != nil {
			return failErr(e)
		}
		if e := t.reminderOp(r.Name); e != nil {
			return failErr(e)
		}
		r.Payload = clone(r.Payload)
		t.reminders[r.Name] = &r
		return abi.StatusOK, nil
	case hostlink.TimerCancel, hostlink.ReminderCancel:
		var c abi.Cancel
		if err := c.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
		}
		if fn == hostlink.TimerCancel {
			if e := abi.CheckTimerOps(t.timerOps); e != nil {
				return failErr(e)
			}
			t.timers[c.Name] = nil
			t.timerOps++
		} else {
			if e := t.reminderOp(c.Name); e != nil {
				return failErr(e)
			}
			t.reminders[c.Name] = nil
		}
		return abi.StatusOK, nil
	case hostlink.Watch, hostlink.Unwatch:
		return h.watchCall(t, fn, arg)
	case hostlink.Publish, hostlink.Subscribe, hostlink.Unsubscribe:
		return h.topicCall(t, fn, arg)
	}
	return fail(abi.CodeBadReply, "wactortest: unknown host call")
}

// reminderOp makes room for one more reminder change in the turn.
func (t *turn) reminderOp(name string) *abi.Error {
	if _, ok := t.reminders[name]; ok {
		return nil
	}
	return abi.CheckReminderOps(len(t.reminders))
}

func (h *Host) answer(c abi.Call) (abi.Status, []byte) {
	if c.Target == h.self {
		return fail(abi.CodeDeadlock, "wactortest: "+h.self+" asked itself; its own turn is still running")
	}
	if h.ask == nil {
		return fail(abi.CodeUnknownType, "wactortest: no OnAsk function to answer the ask to "+c.Target)
	}
	out, err := h.ask(c.Target, c.Method, c.Payload)
	if err != nil {
		return failErr(err)
	}
	return abi.StatusOK, clone(out)
}

func fail(code, msg string) (abi.Status, []byte) {
	return abi.StatusError, abi.AppendError(nil, &abi.Error{Code: code, Message: msg})
}

func failErr(err error) (abi.Status, []byte) {
	if e, ok := err.(*abi.Error); ok {
		return fail(e.Code, e.Message)
	}
	return fail("error", err.Error())
}

func clone(p []byte) []byte {
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}
