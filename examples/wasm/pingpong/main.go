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

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type pingRequest,pingReply,pongReply

// maxCount bounds one ping so a single turn stays short.
const maxCount = 1000

type pingRequest struct {
	Peer  string `cbor:"peer"`
	Count *int64 `cbor:"count"`
}

func (r pingRequest) Validate() error {
	if r.Peer == "" {
		return wactor.NewError(wactor.CodeBadRequest, `ping needs a text "peer", as in {"peer": "pingpong/b", "count": 3}`)
	}
	if r.Count == nil || *r.Count < 0 || *r.Count > maxCount {
		return wactor.NewError(wactor.CodeBadRequest, `ping needs an integer "count" from 0 to `+strconv.Itoa(maxCount))
	}
	return nil
}

type pingReply struct {
	Pongs int64 `cbor:"pongs"`
}

type pongReply struct {
	Pong bool `cbor:"pong"`
}

var pongs = wactor.NewState[wactor.Int]("pongs")

func init() {
	wactor.HandleTyped("ping", ping)
	wactor.HandleTyped("pong", pong)
}

func main() {}

func ping(ctx *wactor.Context, req pingRequest) (pingReply, error) {
	count := *req.Count
	if count > 0 {
		peer, err := wactor.ParseRef(req.Peer)
		if err != nil {
			return pingReply{}, err
		}
		for range count {
			// Any reply will do: Empty decodes from anything.
			if _, err := wactor.Ask[wactor.Empty](ctx, peer, "pong", wactor.Empty{}); err != nil {
				return pingReply{}, err // the peer's error (deadlock, timeout, ...) becomes ours
			}
		}
	}
	_, err := pongs.Update(ctx, func(n wactor.Int) wactor.Int { return n + wactor.Int(count) })
	return pingReply{Pongs: count}, err
}

func pong(*wactor.Context, wactor.Empty) (pongReply, error) { return pongReply{Pong: true}, nil }
