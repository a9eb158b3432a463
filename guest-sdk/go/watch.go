package wactor

import (
	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// MethodDeactivated is the method of the lifecycle messages the host
// sends to watchers (see Context.Watch); OnDeactivated handles it.
const MethodDeactivated = abi.MethodDeactivated

// Reasons a lifecycle message gives for a deactivation.
const (
	ReasonIdle       = abi.ReasonIdle
	ReasonRequested  = abi.ReasonRequested
	ReasonEvicted    = abi.ReasonEvicted
	ReasonShutdown   = abi.ReasonShutdown
	ReasonFailed     = abi.ReasonFailed
	ReasonRedeployed = abi.ReasonRedeployed
	ReasonLost       = abi.ReasonLost
)

// Lifecycle is what a lifecycle message says: which actor deactivated
// ("type/id") and why (one of the Reason constants).
type Lifecycle struct {
	Ref    string
	Reason string
}

// Watch makes the actor a watcher of target ("type/id") when the turn
// commits: each time target deactivates, for any reason, the actor gets
// one lifecycle message (see OnDeactivated). A watch lasts until Unwatch,
// across restarts; watching an actor that is not active tells nothing
// until it next deactivates. An actor may watch at most abi.MaxWatches
// actors, and be watched by at most abi.MaxWatchers; it cannot watch
// itself.
func (c *Context) Watch(target string) error {
	return c.watchCall(hostlink.Watch, target)
}

// Unwatch ends the actor's watch of target when the turn commits.
// Unwatching an actor not watched is not an error.
func (c *Context) Unwatch(target string) error {
	return c.watchCall(hostlink.Unwatch, target)
}

func (c *Context) watchCall(fn hostlink.Func, target string) error {
	arg := abi.Watch{Target: target}
	_, _, err := c.call(fn, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}

// OnDeactivated sets the handler of lifecycle messages: fn is called with
// the watched actor and the reason it deactivated. Like any handler, it
// runs as a turn; what it writes and sends commits with it. Without one, a
// lifecycle message is answered with unknown_method, and the host keeps
// it as a dead letter.
func OnDeactivated(fn func(ctx *Context, l Lifecycle) error) {
	Handle(MethodDeactivated, func(ctx *Context, payload []byte) ([]byte, error) {
		var l abi.Lifecycle
		if err := l.Decode(payload); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: "wactor: lifecycle message: " + err.Error()}
		}
		return nil, fn(ctx, Lifecycle{Ref: l.Ref, Reason: l.Reason})
	})
}
