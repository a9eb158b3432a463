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

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("start", start)
	wactor.Handle("stop", stop)
	wactor.Handle("get", get)
	wactor.Handle("tick", tick)
}

func main() {}

func start(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	p, ok := doc.Int("period_ms")
	if !ok || p < 1 {
		return nil, wactor.NewError(wactor.CodeBadRequest, `start needs a positive integer "period_ms", as in {"period_ms": 1000}`)
	}
	period := time.Duration(p) * time.Millisecond
	if err := ctx.SetTimer("tick", period, period, "tick", nil); err != nil {
		return nil, err
	}
	return reply(ticks(ctx)), nil
}

func stop(ctx *wactor.Context, _ []byte) ([]byte, error) {
	if err := ctx.CancelTimer("tick"); err != nil {
		return nil, err
	}
	return reply(ticks(ctx)), nil
}

func get(ctx *wactor.Context, _ []byte) ([]byte, error) { return reply(ticks(ctx)), nil }

func tick(ctx *wactor.Context, _ []byte) ([]byte, error) {
	ctx.Set("ticks", abi.AppendInt(nil, ticks(ctx)+1))
	return nil, nil
}

func ticks(ctx *wactor.Context) int64 {
	v, ok := ctx.Get("ticks")
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}

func reply(n int64) []byte { return wactor.NewMap().Int("ticks", n).Encode() }
