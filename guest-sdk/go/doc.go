// Package wactor is the Go and TinyGo SDK for writing wactor actors: Go
// code compiled to a WebAssembly module that the wactor host activates per
// actor and drives one message (one turn) at a time.
//
// An actor is a main package with an empty main function whose init
// functions register a handler per method. Typed handlers decode the
// request and encode the reply with codecs that cmd/wactorgen writes for
// the author's structs (go generate), and typed state cells read and write
// the actor's state:
//
//	//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type addRequest,reply
//
//	type addRequest struct {
//		N int64 `cbor:"n"` // {"n": 5}
//	}
//
//	type reply struct {
//		N int64 `cbor:"n"`
//	}
//
//	var sum = wactor.NewState[wactor.Int]("n")
//
//	func init() {
//		wactor.HandleTyped("add", func(ctx *wactor.Context, req addRequest) (reply, error) {
//			n, err := sum.Update(ctx, func(n wactor.Int) wactor.Int { return n + wactor.Int(req.N) })
//			return reply{N: int64(n)}, err
//		})
//	}
//
//	func main() {}
//
// Handle registers a handler of raw CBOR payloads instead.
//
// Built with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared (Go 1.24
// or later) or tinygo build -target=wasip1 -buildmode=c-shared, the package
// provides the module's exports (wactor_abi_version, wactor_alloc,
// wactor_handle, wactor_activate_hook) and calls the host's imports (module
// "wactor"), as docs/ABI.md describes. Everything else is ordinary Go.
// Register the activate hook in an init function, as the handlers: the
// host asks wactor_activate_hook once, after _initialize, and without a hook
// starts instances without the hook's turn.
//
// # Turns
//
// A handler's Context reads and writes the actor's state (Get, Set, Delete),
// sends one-way messages (Tell), asks other actors and waits for their reply
// (Ask), and logs. State writes and tells are buffered by the host and
// committed atomically only when the handler returns a nil error; a turn
// that returns an error, or whose state operation the host refused (see
// Context.Err), commits nothing.
//
// # Errors
//
// A handler that returns an error made with NewError answers the caller with
// that code and message (an application error, HTTP 422 unless the code is
// one of the runtime's). Any other error answers with the code CodeError
// ("error") and the error's text; an error that wraps an *Error keeps the
// wrapped code. Errors from host calls are *Error values too, so
// errors.Is(err, wactor.ErrDeadlock) and the other sentinels work, and a
// handler can return them unchanged to pass them on.
//
// # Timers, reminders and hooks
//
// Context.SetTimer sets a volatile timer: its ticks are messages to the
// activation itself, and it dies with the activation. Context.SetReminder
// sets a durable reminder on a Schedule (In, At, Every, Cron): it is
// stored with the turn, survives restarts, activates the actor when due,
// and follows its MissedPolicy for ticks missed while no host ran. Both are
// buffered with the turn like state writes: a failed turn sets nothing.
// OnActivate and OnDeactivate register hooks that run as turns when an
// activation starts (state loaded) and before it ends.
//
// # Payloads
//
// Payloads are CBOR; the HTTP gateway converts JSON bodies to CBOR and back.
// Types with MarshalCBOR and UnmarshalCBOR methods (see Codec) are the
// payloads of HandleTyped, Ask and Tell and the values of State: structs
// for which cmd/wactorgen wrote them (CBOR maps with text keys: JSON
// objects), the single values Int, Uint, Float, Text, Bytes, Bool and
// Empty, and Ref. For raw payloads, ParseDoc reads a map with text keys and
// MapBuilder writes one. Nothing uses reflection.
//
// # Testing
//
// Outside WebAssembly the package talks to an in-memory host instead:
// package wactortest runs an actor's handlers natively under go test, with
// the host's turn semantics.
package wactor
