// Command ticker is an actor with a volatile timer that counts its ticks.
//
//	start {"period_ms": p}  -> {"ticks": n}  starts (or restarts) the timer "tick", every p ms
//	stop                    -> {"ticks": n}  cancels it
//	get                     -> {"ticks": n}
//
// Each tick is a turn of its own that adds one to the count stored under
// the state key "ticks". The count is durable; the timer is not: it dies
// with the activation (idle timeout, eviction, restart), and start sets it
// again. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ticker.wasm ./ticker
package main

import (
	"time"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type startRequest,reply

type startRequest struct {
	PeriodMS int64 `cbor:"period_ms"`
}

func (r startRequest) Validate() error {
	if r.PeriodMS < 1 {
		return wactor.NewError(wactor.CodeBadRequest, `start needs a positive integer "period_ms", as in {"period_ms": 1000}`)
	}
	return nil
}

// reply is the reply of start, stop and get: the ticks counted so far.
type reply struct {
	Ticks int64 `cbor:"ticks"`
}

var ticks = wactor.NewState[wactor.Int]("ticks")

func init() {
	wactor.HandleTyped("start", func(ctx *wactor.Context, req startRequest) (reply, error) {
		period := time.Duration(req.PeriodMS) * time.Millisecond
		if err := ctx.SetTimer("tick", period, period, "tick", nil); err != nil {
			return reply{}, err
		}
		return get(ctx, wactor.Empty{})
	})
	wactor.HandleTyped("stop", func(ctx *wactor.Context, _ wactor.Empty) (reply, error) {
		if err := ctx.CancelTimer("tick"); err != nil {
			return reply{}, err
		}
		return get(ctx, wactor.Empty{})
	})
	wactor.HandleTyped("get", get)
	wactor.HandleTyped("tick", func(ctx *wactor.Context, _ wactor.Empty) (wactor.Empty, error) {
		_, err := ticks.Update(ctx, func(n wactor.Int) wactor.Int { return n + 1 })
		return wactor.Empty{}, err
	})
}

func main() {}

func get(ctx *wactor.Context, _ wactor.Empty) (reply, error) {
	n, err := ticks.Get(ctx)
	return reply{Ticks: int64(n)}, err
}
