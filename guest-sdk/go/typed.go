package wactor

import (
	"errors"
	"time"

	"github.com/wactor/wactor/abi"
)

// Validator is a request that checks itself once decoded. HandleTyped calls
// Validate before the handler, and a non-nil error answers the caller
// instead (an error that is no *Error is sent as CodeBadRequest).
//
// A field whose value had the wrong type is left at its zero value, and
// Validate still runs: a request that says what it needs ("add needs an
// integer n") answers with that, rather than with the decoder's message.
type Validator interface {
	Validate() error
}

// payloadBuf holds the encoded reply of a typed handler until handle has
// copied it; askBuf, the encoded request of a typed Ask or Tell until the
// host call has copied it. A nested turn (a reentrant ask) finishes with
// them before the outer turn uses them again.
var payloadBuf, askBuf []byte

// HandleTyped registers fn as the handler of method, decoding the payload
// into a Req and encoding the Resp it answers with:
//
//	wactor.HandleTyped("add", func(ctx *wactor.Context, req AddRequest) (Total, error) { ... })
//
// Req and Resp are types with the codec methods (see Codec): generated
// by cmd/wactorgen, or Int, Text, Empty and the other built-in ones. A
// payload that does not decode answers CodeBadRequest, naming the method
// and the field, without running fn; an empty payload decodes as an empty
// map (a Req with no field set). If Req is a Validator, Validate runs
// first. Registration is as with Handle.
func HandleTyped[Req, Resp any, PReq Codec[Req], PResp Codec[Resp]](method string, fn func(ctx *Context, req Req) (Resp, error)) {
	if fn == nil {
		Handle(method, nil) // panics, naming the method
	}
	Handle(method, func(ctx *Context, payload []byte) ([]byte, error) {
		var req Req
		if err := decodeRequest(method, PReq(&req), payload); err != nil {
			return nil, err
		}
		resp, err := fn(ctx, req)
		if err != nil {
			return nil, err
		}
		payloadBuf = PResp(&resp).MarshalCBOR(payloadBuf[:0])
		if len(payloadBuf) == 0 {
			return nil, nil
		}
		return payloadBuf, nil
	})
}

// decodeRequest decodes payload into req and validates it.
func decodeRequest(method string, req Unmarshaler, payload []byte) error {
	err := req.UnmarshalCBOR(payload)
	var fe *FieldError
	if err != nil && !errors.As(err, &fe) {
		return err // malformed: Validate would only see a partial request
	}
	if v, ok := req.(Validator); ok {
		if verr := v.Validate(); verr != nil {
			return badRequest(verr)
		}
	}
	if err != nil {
		return &abi.Error{Code: abi.CodeBadRequest, Message: method + ": " + err.Error()}
	}
	return nil
}

// badRequest makes err an *Error, with CodeBadRequest if it is none.
func badRequest(err error) error {
	var e *abi.Error
	if errors.As(err, &e) {
		return err
	}
	return &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
}

// State is a typed cell of the actor's state: the value of one key,
// encoded with T's codec methods. Declare it once, next to the handlers:
//
//	var total = wactor.NewState[wactor.Int]("n")
//
// Reads and writes belong to the turn like Context.Get and Context.Set.
// Written out, the type names PT too: wactor.State[wactor.Int, *wactor.Int].
type State[T any, PT Codec[T]] struct {
	key string
}

// NewState returns the cell of key.
func NewState[T any, PT Codec[T]](key string) State[T, PT] { return State[T, PT]{key: key} }

// Key returns the cell's state key.
func (s State[T, PT]) Key() string { return s.key }

// Get returns the cell's value, or T's zero value if the key is not set. A
// stored value that does not decode as a T is an error, never a silent
// zero; so is a read the host refused (see Context.Err).
func (s State[T, PT]) Get(ctx *Context) (T, error) {
	v, _, err := s.Lookup(ctx)
	return v, err
}

// Lookup is Get that also reports whether the key is set.
func (s State[T, PT]) Lookup(ctx *Context) (T, bool, error) {
	var v T
	raw, ok := ctx.Get(s.key)
	if ctx.err != nil {
		return v, false, ctx.err
	}
	if !ok {
		return v, false, nil
	}
	if err := PT(&v).UnmarshalCBOR(raw); err != nil {
		return v, true, &abi.Error{Code: CodeError,
			Message: "wactor: state " + s.key + " does not decode: " + err.Error()}
	}
	return v, true, nil
}

// Set stores v under the cell's key when the turn commits. A refused write
// fails the turn as with Context.Set.
func (s State[T, PT]) Set(ctx *Context, v T) { ctx.Set(s.key, PT(&v).MarshalCBOR(nil)) }

// Delete removes the cell's key when the turn commits.
func (s State[T, PT]) Delete(ctx *Context) { ctx.Delete(s.key) }

// Update sets the cell to fn of its current value (the zero value if unset)
// and returns the new value.
func (s State[T, PT]) Update(ctx *Context, fn func(T) T) (T, error) {
	v, err := s.Get(ctx)
	if err != nil {
		return v, err
	}
	v = fn(v)
	s.Set(ctx, v)
	return v, nil
}

// Ref addresses an actor: its type and its id. As a payload it is the text
// "type/id".
type Ref struct {
	Type string
	ID   string
}

// ParseRef parses "type/id"; the id may itself contain '/'. The error is
// an *Error with CodeBadRequest.
func ParseRef(s string) (Ref, error) {
	r, err := abi.ParseRef(s)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Type: r.Type, ID: r.ID}, nil
}

// String returns "type/id", or "" for the zero Ref.
func (r Ref) String() string {
	if r == (Ref{}) {
		return ""
	}
	return r.Type + "/" + r.ID
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == (Ref{}) }

// MarshalCBOR appends r as the text "type/id" ("" for the zero Ref).
func (r Ref) MarshalCBOR(dst []byte) []byte { return abi.AppendText(dst, r.String()) }

// UnmarshalCBOR decodes the text "type/id", or "" as the zero Ref.
func (r *Ref) UnmarshalCBOR(p []byte) error {
	var d Decoder
	d.Reset(p)
	s := d.Text("")
	if err := d.Finish(); err != nil {
		return err
	}
	*r = Ref{}
	if s == "" {
		return nil
	}
	ref, err := abi.ParseRef(s)
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*abi.Error); ok {
			msg = e.Message
		}
		return &FieldError{Msg: msg}
	}
	*r = Ref{Type: ref.Type, ID: ref.ID}
	return nil
}

// Tell sends req to method of the actor to, one way, as Context.Tell does:
// delivered only if the turn commits.
func Tell(ctx *Context, to Ref, method string, req Marshaler) error {
	askBuf = req.MarshalCBOR(askBuf[:0])
	return ctx.Tell(to.String(), method, nonEmpty(askBuf))
}

// Ask sends req to method of the actor to, waits for the reply (the host's
// default timeout; Context.Ask takes another) and decodes it as a Resp:
//
//	pong, err := wactor.Ask[Pong](ctx, peer, "pong", wactor.Empty{})
//
// A reply that does not decode is an error with ErrBadReply's code.
func Ask[Resp any, PResp Codec[Resp]](ctx *Context, to Ref, method string, req Marshaler) (Resp, error) {
	return AskWithin[Resp, PResp](ctx, to, method, req, 0)
}

// AskWithin is Ask with a timeout; zero or less means the host's default.
func AskWithin[Resp any, PResp Codec[Resp]](ctx *Context, to Ref, method string, req Marshaler, timeout time.Duration) (Resp, error) {
	var resp Resp
	askBuf = req.MarshalCBOR(askBuf[:0])
	out, err := ctx.Ask(to.String(), method, nonEmpty(askBuf), timeout)
	if err != nil {
		return resp, err
	}
	if err := PResp(&resp).UnmarshalCBOR(out); err != nil {
		return resp, &abi.Error{Code: abi.CodeBadReply,
			Message: "wactor: the reply of " + to.String() + "." + method + " does not decode: " + err.Error()}
	}
	return resp, nil
}

// nonEmpty maps an empty encoding to no payload at all.
func nonEmpty(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return p
}
