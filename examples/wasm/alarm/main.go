// Command alarm is an actor with a durable reminder that counts how often
// it rang.
//
//	set {"in_ms": d}  -> {"fired": n}  sets the reminder "alarm" to ring once, d ms from now
//	cancel            -> {"fired": n}  cancels it
//	get               -> {"fired": n}
//
// The reminder is stored with the turn that sets it, so it rings even if
// the host is killed and restarted before it is due (then as soon as the
// host is back: the default missed-tick policy is to catch up). Ringing is
// a turn that adds one to the count under the state key "fired" and, in
// the same commit, deletes the reminder. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o alarm.wasm ./alarm
package main

import (
	"time"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type setRequest,reply

type setRequest struct {
	InMS *int64 `cbor:"in_ms"`
}

func (r setRequest) Validate() error {
	if r.InMS == nil || *r.InMS < 0 {
		return wactor.NewError(wactor.CodeBadRequest, `set needs an integer "in_ms" >= 0, as in {"in_ms": 1500}`)
	}
	return nil
}

// reply is the reply of set, cancel and get: how often the alarm rang.
type reply struct {
	Fired int64 `cbor:"fired"`
}

var fired = wactor.NewState[wactor.Int]("fired")

func init() {
	wactor.HandleTyped("set", func(ctx *wactor.Context, req setRequest) (reply, error) {
		if err := ctx.SetReminder("alarm", wactor.In(time.Duration(*req.InMS)*time.Millisecond), "ring", nil); err != nil {
			return reply{}, err
		}
		return get(ctx, wactor.Empty{})
	})
	wactor.HandleTyped("cancel", func(ctx *wactor.Context, _ wactor.Empty) (reply, error) {
		if err := ctx.CancelReminder("alarm"); err != nil {
			return reply{}, err
		}
		return get(ctx, wactor.Empty{})
	})
	wactor.HandleTyped("get", get)
	wactor.HandleTyped("ring", func(ctx *wactor.Context, _ wactor.Empty) (wactor.Empty, error) {
		_, err := fired.Update(ctx, func(n wactor.Int) wactor.Int { return n + 1 })
		ctx.Info("alarm rang")
		return wactor.Empty{}, err
	})
}

func main() {}

func get(ctx *wactor.Context, _ wactor.Empty) (reply, error) {
	n, err := fired.Get(ctx)
	return reply{Fired: int64(n)}, err
}
