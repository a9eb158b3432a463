package wactor

import (
	"errors"

	"github.com/wactor/wactor/abi"
)

// Error is an error with a code and a message: what a handler returns to
// answer with an application error, and what Ask and the other host calls
// return when they fail. It is abi.Error, so errors.Is(err, ErrDeadlock)
// matches any *Error with the code "deadlock".
type Error = abi.Error

// Codes a handler commonly answers with. Any other code an actor picks
// (insufficient_funds, say) is an application error of its own.
const (
	// CodeBadRequest says the message's payload was malformed.
	CodeBadRequest = abi.CodeBadRequest
	// CodeError is the code of a reply to a handler that returned a plain
	// error, one that is not an *Error and wraps none.
	CodeError = "error"
)

// Sentinels for errors.Is, each matching any *Error with its code. Ask
// returns them (with a message) when the host or the callee refuses.
var (
	ErrBadRequest      = abi.ErrBadRequest      // malformed message, ref or payload
	ErrUnknownType     = abi.ErrUnknownType     // no such actor type
	ErrUnknownMethod   = abi.ErrUnknownMethod   // the callee has no such handler
	ErrTooLarge        = abi.ErrTooLarge        // message, reply or state value over its limit
	ErrMailboxFull     = abi.ErrMailboxFull     // the callee's mailbox is full
	ErrTimeout         = abi.ErrTimeout         // an ask got no reply in time
	ErrTurnTimeout     = abi.ErrTurnTimeout     // the callee ran past its turn limit
	ErrMemoryExhausted = abi.ErrMemoryExhausted // the callee hit its memory limit
	ErrTrapped         = abi.ErrTrapped         // the callee trapped
	ErrBadReply        = abi.ErrBadReply        // the callee broke the ABI
	ErrDeadlock        = abi.ErrDeadlock        // the ask would wait on its own call chain
	ErrUnavailable     = abi.ErrUnavailable     // the host is shutting down or storage is down
)

// NewError returns an application error with the given code and message.
// A handler that returns it answers the caller with exactly that code and
// message, and its turn fails: no state write or tell of the turn is
// committed. An empty code becomes CodeError.
func NewError(code, message string) error {
	if code == "" {
		code = CodeError
	}
	return &abi.Error{Code: code, Message: message}
}

// replyError turns a handler's error into the Reply the caller gets: the
// code and message of an *Error (the whole err.Error() as the message when
// err wraps one), or CodeError and err.Error() for any other error.
func replyError(err error) abi.Reply {
	for e := err; e != nil; e = errors.Unwrap(e) {
		ae, ok := e.(*abi.Error)
		if !ok {
			continue
		}
		if ae == nil { // a typed nil: the classic nil-interface mistake
			return abi.Reply{Code: CodeError, Message: "wactor: the handler returned a nil *wactor.Error as a non-nil error"}
		}
		code, msg := ae.Code, ae.Message
		if code == "" {
			code = CodeError
		}
		if e != err {
			msg = err.Error()
		}
		return abi.Reply{Code: code, Message: msg}
	}
	return abi.Reply{Code: CodeError, Message: err.Error()}
}
