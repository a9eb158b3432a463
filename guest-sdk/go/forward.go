package wactor

import (
	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// Forward passes the ask this turn handles on to the actor target
// ("type/id"): target's reply to method with payload answers the
// original asker, and whatever the handler returns is dropped (return
// nil, nil). Like a tell, the forward leaves when the turn commits; if
// the turn fails, nothing is forwarded and the asker gets the error. The
// asker's deadline still holds, and a forward to an actor that waits on
// the asker fails it with deadlock. A chain of actors can answer an ask
// with forwards only: the last one replies.
//
// An error means the host refused: the message is not an ask (a tell,
// a timer tick, a reminder), the turn already forwarded, or target is
// malformed or of an unknown type.
func (c *Context) Forward(target, method string, payload []byte) error {
	call := abi.Call{Target: target, Method: method, Payload: payload}
	_, _, err := c.call(hostlink.Forward, keepArg(call.AppendTo(argBuf[:0])))
	return err
}
