package wactor

import (
	"slices"
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
)

// HandlerFunc handles one message. payload is the message's CBOR (nil when
// the sender sent none) and is only valid until the handler returns: copy
// it to keep it. The returned bytes are the reply's CBOR payload (nil for
// none). A non-nil error fails the turn and answers the caller with an
// error: see NewError.
type HandlerFunc func(ctx *Context, payload []byte) ([]byte, error)

// HookFunc is an activation or deactivation hook.
type HookFunc func(ctx *Context) error

var (
	handlers     = map[string]HandlerFunc{}
	onActivate   HookFunc
	onDeactivate HookFunc
)

// Handle registers fn as the handler of method. Call it from an init
// function: the host may deliver messages as soon as the module is
// initialized. Handle panics if method is empty, fn is nil or method
// already has a handler.
func Handle(method string, fn HandlerFunc) {
	if method == "" {
		panic("wactor: Handle with an empty method name")
	}
	if fn == nil {
		panic("wactor: Handle(" + strconv.Quote(method) + ") with a nil handler")
	}
	if _, dup := handlers[method]; dup {
		panic("wactor: method " + strconv.Quote(method) + " registered twice")
	}
	handlers[method] = fn
}

// OnActivate registers fn to run when an activation starts, after its state
// is loaded and before its first message. Like a message, it runs as a turn:
// its state writes and tells commit only if it returns nil. A later call
// replaces an earlier one; nil removes the hook.
func OnActivate(fn HookFunc) { onActivate = fn }

// activateHookAnswer is what the module's wactor_activate_hook returns:
// abi.ActivateHookNone while no activate hook is registered. The host asks
// once per module version, after _initialize has run the init functions,
// and instances started from that state skip the hook's turn (docs/ABI.md,
// section 2, step 4). A hook registered later, in a turn, is of an
// instance already activated.
func activateHookAnswer() uint32 {
	if onActivate == nil {
		return abi.ActivateHookNone
	}
	return 1
}

// OnDeactivate registers fn to run when the activation is about to end
// (idle, memory pressure, shutdown or Context.Deactivate). It runs as a turn
// too. A later call replaces an earlier one; nil removes the hook.
func OnDeactivate(fn HookFunc) { onDeactivate = fn }

// Buffers that cross the ABI. Only one turn runs at a time, but a turn that
// asks may be re-entered (a reentrant actor type), so handle counts its
// depth and alloc hands out a fresh buffer while a turn is in progress,
// leaving the running turn's payload alone.
var (
	inBuf    []byte // the input buffer, reused between top-level calls
	pendIn   []byte // the buffer wactor_alloc handed out most recently
	replyBuf []byte // the encoded reply, valid until the next call into the guest
	argBuf   []byte // the argument of the host call in progress
	depth    int    // how many handle calls are in progress
)

// allocInput returns the buffer for the next request, at least n bytes.
func allocInput(n int) []byte {
	if depth > 0 {
		pendIn = make([]byte, n)
		return pendIn
	}
	if cap(inBuf) < n {
		inBuf = make([]byte, n)
	}
	pendIn = inBuf[:n]
	return pendIn
}

// handle decodes one request, runs its handler and returns the encoded
// reply, which stays valid until the next call into handle.
func handle(input []byte) []byte {
	depth++
	reply := dispatch(input)
	depth--
	pendIn = nil
	replyBuf = reply.AppendTo(replyBuf[:0])
	return replyBuf
}

// handleError encodes a reply for a request the SDK could not even read.
func handleError(e *abi.Error) []byte {
	pendIn = nil
	reply := abi.Reply{Code: e.Code, Message: e.Message}
	replyBuf = reply.AppendTo(replyBuf[:0])
	return replyBuf
}

func dispatch(input []byte) abi.Reply {
	var req request
	if err := req.decode(input); err != nil {
		return abi.Reply{Code: abi.CodeBadRequest, Message: "wactor: malformed request: " + err.Error()}
	}
	ctx := &Context{method: req.method, sender: req.sender, id: req.id}
	defer ctx.end()

	var payload []byte
	var err error
	switch req.kind {
	case abi.KindMessage:
		fn := handlers[string(req.method)]
		if fn == nil {
			return abi.Reply{Code: abi.CodeUnknownMethod, Message: unknownMethod(string(req.method))}
		}
		payload, err = fn(ctx, req.payload)
	case abi.KindActivate:
		if onActivate != nil {
			err = onActivate(ctx)
		}
	case abi.KindDeactivate:
		if onDeactivate != nil {
			err = onDeactivate(ctx)
		}
	}
	if ctx.err != nil {
		// A state operation failed: the turn must not commit, whatever the
		// handler answered.
		err = ctx.err
	}
	if err != nil {
		return replyError(err)
	}
	return abi.Reply{Payload: payload}
}

// request is an abi.Request whose fields alias the input, so that a turn
// allocates no strings it does not use. It decodes exactly as
// abi.Request.Decode does.
type request struct {
	kind                        abi.RequestKind
	method, payload, sender, id []byte
}

func (q *request) decode(p []byte) error {
	var r abi.Reader
	r.Reset(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		key, err := r.ReadUint()
		if err != nil {
			return err
		}
		switch key {
		case 1:
			var k uint64
			if k, err = r.ReadUint(); err == nil && k > uint64(abi.KindDeactivate) {
				return &abi.Error{Code: abi.CodeBadRequest, Message: "unknown request kind " + strconv.FormatUint(k, 10)}
			}
			q.kind = abi.RequestKind(k)
		case 2:
			q.method, err = r.ReadTextBytes()
		case 3:
			q.payload, err = r.ReadBytes()
		case 4:
			q.sender, err = r.ReadTextBytes()
		case 5:
			q.id, err = r.ReadTextBytes()
		case 6:
			// The turn's trace context: the SDK does not use it, but it
			// must be text, as for the host.
			_, err = r.ReadTextBytes()
		default:
			err = r.Skip()
		}
		if err != nil {
			return err
		}
	}
	if r.Len() != 0 {
		return &abi.Error{Code: abi.CodeBadRequest, Message: "trailing bytes after the request"}
	}
	return nil
}

// unknownMethod says which method is missing and which ones exist.
func unknownMethod(method string) string {
	names := make([]string, 0, len(handlers))
	for name := range handlers {
		names = append(names, name)
	}
	slices.Sort(names)
	msg := "wactor: no handler for method " + strconv.Quote(method)
	if len(names) == 0 {
		return msg + "; the actor registers none (call wactor.Handle from an init function)"
	}
	return msg + "; the actor handles " + strings.Join(names, ", ")
}
