// Command pingpong is an actor that plays ping-pong with a peer of its type.
//
//	ping {"peer": "pingpong/b", "count": 3} -> {"pongs": 3}
//	pong                                    -> {"pong": true}
//
// ping asks the peer's pong method count times, one ask after the other,
// and adds the pongs it got to the total kept under the state key "pongs".
// Pinging itself fails with a deadlock error: its own turn is still running.
package main

import (
	"strconv"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

// maxCount bounds one ping so a single turn stays short.
const maxCount = 1000

func init() {
	wactor.Handle("ping", ping)
	wactor.Handle("pong", pong)
}

func main() {}

func ping(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	peer, ok := doc.Text("peer")
	if !ok || peer == "" {
		return nil, wactor.NewError(wactor.CodeBadRequest, `ping needs a text "peer", as in {"peer": "pingpong/b", "count": 3}`)
	}
	count, ok := doc.Int("count")
	if !ok || count < 0 || count > maxCount {
		return nil, wactor.NewError(wactor.CodeBadRequest,
			`ping needs an integer "count" from 0 to `+strconv.Itoa(maxCount))
	}
	for i := int64(0); i < count; i++ {
		if _, err := ctx.Ask(peer, "pong", nil, 0); err != nil {
			return nil, err // the peer's error (deadlock, timeout, ...) becomes ours
		}
	}
	total := count
	if v, ok := ctx.Get("pongs"); ok {
		n, _ := wactor.ValueOf(v).Int()
		total += n
	}
	ctx.Set("pongs", abi.AppendInt(nil, total))
	return wactor.NewMap().Int("pongs", count).Encode(), nil
}

func pong(_ *wactor.Context, _ []byte) ([]byte, error) {
	return wactor.NewMap().Bool("pong", true).Encode(), nil
}
