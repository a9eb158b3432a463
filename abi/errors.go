package abi

// Error codes: one vocabulary for the ABI, the Go API, HTTP and the CLI.
// An actor may also answer with a code of its own (insufficient_funds, say);
// such codes are application errors.
const (
	CodeBadRequest      = "bad_request"
	CodeUnknownType     = "unknown_type"
	CodeUnknownMethod   = "unknown_method"
	CodeTooLarge        = "too_large"
	CodeMailboxFull     = "mailbox_full"
	CodeTimeout         = "timeout"
	CodeTurnTimeout     = "turn_timeout"
	CodeMemoryExhausted = "memory_exhausted"
	CodeTrapped         = "trapped"
	CodeBadReply        = "bad_reply"
	CodeDeadlock        = "deadlock"
	CodeUnavailable     = "unavailable"
	// CodeUnauthorized refuses an HTTP request to the control plane that
	// lacks a valid bearer token. Only the gateway produces it; a guest
	// never sees it.
	CodeUnauthorized = "unauthorized"
)

// systemCodes are the codes the runtime itself produces.
var systemCodes = map[string]bool{
	CodeBadRequest: true, CodeUnknownType: true, CodeUnknownMethod: true, CodeTooLarge: true,
	CodeMailboxFull: true, CodeTimeout: true, CodeTurnTimeout: true, CodeMemoryExhausted: true,
	CodeTrapped: true, CodeBadReply: true, CodeDeadlock: true, CodeUnavailable: true,
	CodeUnauthorized: true,
}

// IsSystemCode reports whether code belongs to the runtime's vocabulary
// rather than to an actor.
func IsSystemCode(code string) bool { return systemCodes[code] }

// Error is an error with a code from the vocabulary above (or an actor's own
// code) and a message for people.
type Error struct {
	Code    string
	Message string
}

// NewError returns an *Error with the given code and message.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is(err, abi.ErrMailboxFull) true for any *Error with the
// same code, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is; each matches any *Error with its code.
var (
	ErrBadRequest      = &Error{Code: CodeBadRequest}
	ErrUnknownType     = &Error{Code: CodeUnknownType}
	ErrUnknownMethod   = &Error{Code: CodeUnknownMethod}
	ErrTooLarge        = &Error{Code: CodeTooLarge}
	ErrMailboxFull     = &Error{Code: CodeMailboxFull}
	ErrTimeout         = &Error{Code: CodeTimeout}
	ErrTurnTimeout     = &Error{Code: CodeTurnTimeout}
	ErrMemoryExhausted = &Error{Code: CodeMemoryExhausted}
	ErrTrapped         = &Error{Code: CodeTrapped}
	ErrBadReply        = &Error{Code: CodeBadReply}
	ErrDeadlock        = &Error{Code: CodeDeadlock}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
	ErrUnauthorized    = &Error{Code: CodeUnauthorized}
)
