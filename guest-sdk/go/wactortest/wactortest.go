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
// in the runtime. One Host is current at a time, so tests that use it must
// not run in parallel.
package wactortest

import (
	"strconv"
	"testing"

	"github.com/wactor/wactor/abi"
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
	logs  []LogEntry
	ask   AskFunc
	turns []*turn // the turns in progress, innermost last
	seq   int
	deact bool
}

// turn holds what one turn buffers until it commits.
type turn struct {
	writes map[string][]byte // nil value: deleted
	tells  []abi.Call
	deact  bool
}

// New returns a Host for the actor self ("type/id") and makes it the host
// the SDK calls until the test ends. Log records go to t.Log.
func New(t testing.TB, self string) *Host {
	t.Helper()
	if _, err := abi.ParseRef(self); err != nil {
		t.Fatalf("wactortest.New: %v", err)
	}
	h := &Host{t: t, self: self, state: map[string][]byte{}}
	hostlink.Current = link{h}
	t.Cleanup(func() {
		if hostlink.Current == (link{h}) {
			hostlink.Current = nil
		}
	})
	return h
}

// Self returns the actor's "type/id".
func (h *Host) Self() string { return h.self }

// OnAsk sets the function that answers the actor's asks.
func (h *Host) OnAsk(fn AskFunc) { h.ask = fn }

// Call delivers a message from outside (no sender) to method and returns
// the reply payload, or the reply's error as an *abi.Error.
func (h *Host) Call(method string, payload []byte) ([]byte, error) {
	return h.CallFrom("", method, payload)
}

// CallFrom delivers a message from the actor sender ("type/id").
func (h *Host) CallFrom(sender, method string, payload []byte) ([]byte, error) {
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

// Asks returns every ask the actor made, in order, whether or not its turn
// committed (an ask is not part of the transaction).
func (h *Host) Asks() []abi.Call { return h.asks }

// Logs returns the records the actor logged.
func (h *Host) Logs() []LogEntry { return h.logs }

// DeactivateRequested reports whether a committed turn called
// Context.Deactivate.
func (h *Host) DeactivateRequested() bool { return h.deact }

// Reset forgets the tells, asks, logs and deactivation request recorded so
// far; the state stays.
func (h *Host) Reset() { h.tells, h.asks, h.logs, h.deact = nil, nil, nil, false }

func (h *Host) turn(req abi.Request) ([]byte, error) {
	h.t.Helper()
	if hostlink.Handle == nil {
		h.t.Fatal("wactortest: the wactor SDK is not linked into the test binary, or this is a wasip1 build (wactortest runs actors natively only)")
	}
	h.seq++
	req.ID = "msg-" + strconv.Itoa(h.seq)
	t := &turn{writes: map[string][]byte{}}
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
	for k, v := range t.writes {
		if v == nil {
			delete(h.state, k)
		} else {
			h.state[k] = v
		}
	}
	h.tells = append(h.tells, t.tells...)
	h.deact = h.deact || t.deact
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
	switch fn {
	case hostlink.Tell, hostlink.Ask:
		var c abi.Call
		if err := c.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
		}
		if _, err := abi.ParseRef(c.Target); err != nil {
			return failErr(err)
		}
		if c.Method == "" {
			return fail(abi.CodeBadRequest, "wactortest: "+fn.String()+" to "+c.Target+" without a method")
		}
		c.Payload = clone(c.Payload)
		if fn == hostlink.Tell {
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
		if op.Key == "" {
			return fail(abi.CodeBadRequest, "wactortest: "+fn.String()+" with an empty key")
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
			if op.Value == nil {
				return fail(abi.CodeBadReply, "wactortest: state_set without a value")
			}
			t.writes[op.Key] = clone(op.Value)
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
		h.logs = append(h.logs, LogEntry{Level: rec.Level, Message: rec.Message})
		h.t.Log(h.self + ": " + rec.Message)
		return abi.StatusOK, nil
	case hostlink.Deactivate:
		t.deact = true
		return abi.StatusOK, nil
	}
	return fail(abi.CodeBadReply, "wactortest: unknown host call")
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
