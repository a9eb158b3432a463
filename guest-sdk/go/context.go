package wactor

import (
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// Context is a handler's view of its turn: who the actor is, who sent the
// message, and the host calls the turn may make. A Context is valid only
// until its handler returns; calls after that fail with ErrUnavailable.
//
// State writes and tells are buffered by the host and committed together,
// atomically, only if the turn succeeds; reads see the turn's own writes.
type Context struct {
	method, sender, id []byte // alias the request
	self               Ref
	err                error // the first failed state operation
	done               bool
}

// Level is the severity of a log record.
type Level int64

// Log levels.
const (
	LevelDebug Level = abi.LevelDebug
	LevelInfo  Level = abi.LevelInfo
	LevelWarn  Level = abi.LevelWarn
	LevelError Level = abi.LevelError
)

var errTurnOver = &abi.Error{Code: abi.CodeUnavailable,
	Message: "wactor: Context used after its handler returned; host calls are only possible during a turn"}

func (c *Context) end() {
	c.done = true
	c.method, c.sender, c.id = nil, nil, nil // the request buffer is reused
}

// Method returns the method the message was sent to ("" for the activate
// and deactivate hooks).
func (c *Context) Method() string { return string(c.method) }

// Sender returns the "type/id" of the actor that sent the message, or "" if
// it came from outside (HTTP, the CLI, a Go program embedding the host).
func (c *Context) Sender() string { return string(c.sender) }

// MessageID returns the message's unique id. A message redelivered after a
// crash keeps its id.
func (c *Context) MessageID() string { return string(c.id) }

// Self returns the actor's own type and id (Self().String() is "type/id"),
// or the zero Ref if the host refused to say.
func (c *Context) Self() Ref {
	if c.self.IsZero() {
		if res, _, err := c.call(hostlink.Self, nil); err == nil {
			c.self, _ = ParseRef(string(res))
		}
	}
	return c.self
}

// Tell sends a one-way message to the actor target ("type/id"). The host
// delivers it only after the turn commits; if the turn fails it is dropped.
// An error means the host refused it (a malformed target, say).
func (c *Context) Tell(target, method string, payload []byte) error {
	call := abi.Call{Target: target, Method: method, Payload: payload}
	_, _, err := c.call(hostlink.Tell, keepArg(call.AppendTo(argBuf[:0])))
	return err
}

// Ask sends a message to the actor target ("type/id") now and waits for its
// reply payload. timeout bounds the wait; zero or less means the host's
// default. The error is an *Error: the callee's own application error, or
// one of the runtime's (ErrTimeout, ErrDeadlock, ErrUnknownMethod, ...), so
// errors.Is(err, wactor.ErrDeadlock) works. Asking is not part of the
// turn's transaction: the callee's turn commits on its own.
func (c *Context) Ask(target, method string, payload []byte, timeout time.Duration) ([]byte, error) {
	call := abi.Call{Target: target, Method: method, Payload: payload}
	if timeout > 0 {
		call.TimeoutMS = uint64((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	res, _, err := c.call(hostlink.Ask, keepArg(call.AppendTo(argBuf[:0])))
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Get returns the value stored under key, including a value this turn
// wrote, and whether there is one. If the host refuses the read (a
// malformed key, say) Get returns false and the turn fails with that error
// when the handler returns; Err reports it meanwhile.
func (c *Context) Get(key string) ([]byte, bool) {
	op := abi.StateOp{Key: key}
	res, st, err := c.call(hostlink.StateGet, keepArg(op.AppendTo(argBuf[:0])))
	if err != nil {
		c.fail(err)
		return nil, false
	}
	if st == abi.StatusNotFound {
		return nil, false
	}
	if res == nil {
		res = []byte{}
	}
	return res, true
}

// Set stores value under key when the turn commits. If the host refuses the
// write (a value over the size limit, say) the turn fails with that error
// when the handler returns, whatever the handler answers: see Err.
func (c *Context) Set(key string, value []byte) {
	if value == nil {
		value = []byte{} // a nil Value would encode as a delete-shaped StateOp
	}
	op := abi.StateOp{Key: key, Value: value}
	if _, _, err := c.call(hostlink.StateSet, keepArg(op.AppendTo(argBuf[:0]))); err != nil {
		c.fail(err)
	}
}

// Delete removes key when the turn commits. Deleting a missing key is not
// an error. Refusals fail the turn as with Set.
func (c *Context) Delete(key string) {
	op := abi.StateOp{Key: key}
	if _, _, err := c.call(hostlink.StateDelete, keepArg(op.AppendTo(argBuf[:0]))); err != nil {
		c.fail(err)
	}
}

// Err returns the first error of a Get, Set or Delete the host refused
// during this turn, or nil. When the handler returns, a non-nil Err fails
// the turn and becomes the reply, so no partial state is ever committed.
func (c *Context) Err() error { return c.err }

func (c *Context) fail(err error) {
	if c.err == nil && err != errTurnOver {
		c.err = err
	}
}

// Log writes msg to the host's log at level, tagged with the actor and the
// message. Logging never fails the turn.
func (c *Context) Log(level Level, msg string) {
	rec := abi.LogRecord{Level: int64(level), Message: msg}
	c.call(hostlink.Log, keepArg(rec.AppendTo(argBuf[:0])))
}

// Debug logs msg at LevelDebug.
func (c *Context) Debug(msg string) { c.Log(LevelDebug, msg) }

// Info logs msg at LevelInfo.
func (c *Context) Info(msg string) { c.Log(LevelInfo, msg) }

// Warn logs msg at LevelWarn.
func (c *Context) Warn(msg string) { c.Log(LevelWarn, msg) }

// Error logs msg at LevelError. (It does not fail the turn; return an
// error from the handler for that.)
func (c *Context) Error(msg string) { c.Log(LevelError, msg) }

// Deactivate asks the host to deactivate this activation once the turn has
// committed: the deactivate hook runs, the instance is dropped, and the next
// message activates the actor afresh from its committed state.
func (c *Context) Deactivate() { c.call(hostlink.Deactivate, nil) }

// HostCall makes the host call fn (an import name of the ABI, such as
// abi.ImportStateSet) with arg, its CBOR argument, and returns the result:
// the answer and true, nil and false when state_get found nothing, or the
// host's refusal as an *Error. It is for actors that test the ABI itself:
// it checks nothing and, unlike Set and Delete, a refused state write does
// not fail the turn by itself. Every host call has a method above.
func (c *Context) HostCall(fn string, arg []byte) ([]byte, bool, error) {
	f, ok := hostlink.ByName(fn)
	if !ok {
		return nil, false, &abi.Error{Code: abi.CodeBadRequest, Message: "wactor: no host call " + fn}
	}
	res, st, err := c.call(f, arg)
	return res, st == abi.StatusOK, err
}

// keepArg keeps the grown argument buffer for the next host call.
func keepArg(b []byte) []byte {
	argBuf = b
	return b
}

// call makes one host call and interprets its status: the result and
// status for StatusOK and StatusNotFound, an *Error for StatusError.
func (c *Context) call(fn hostlink.Func, arg []byte) ([]byte, abi.Status, error) {
	if c.done {
		return nil, abi.StatusError, errTurnOver
	}
	st, res := hostCall(fn, arg)
	switch st {
	case abi.StatusOK, abi.StatusNotFound:
		return res, st, nil
	case abi.StatusError:
		e, err := abi.DecodeError(res)
		if err != nil {
			return nil, st, &abi.Error{Code: abi.CodeBadReply,
				Message: "wactor: the host answered " + fn.String() + " with a malformed error: " + err.Error()}
		}
		return nil, st, e
	}
	return nil, st, &abi.Error{Code: abi.CodeBadReply,
		Message: "wactor: the host answered " + fn.String() + " with an unknown status"}
}
