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

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("set", set)
	wactor.Handle("cancel", cancel)
	wactor.Handle("get", get)
	wactor.Handle("ring", ring)
}

func main() {}

func set(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	d, ok := doc.Int("in_ms")
	if !ok || d < 0 {
		return nil, wactor.NewError(wactor.CodeBadRequest, `set needs an integer "in_ms" >= 0, as in {"in_ms": 1500}`)
	}
	if err := ctx.SetReminder("alarm", wactor.In(time.Duration(d)*time.Millisecond), "ring", nil); err != nil {
		return nil, err
	}
	return reply(fired(ctx)), nil
}

func cancel(ctx *wactor.Context, _ []byte) ([]byte, error) {
	if err := ctx.CancelReminder("alarm"); err != nil {
		return nil, err
	}
	return reply(fired(ctx)), nil
}

func get(ctx *wactor.Context, _ []byte) ([]byte, error) { return reply(fired(ctx)), nil }

func ring(ctx *wactor.Context, _ []byte) ([]byte, error) {
	n := fired(ctx) + 1
	ctx.Set("fired", abi.AppendInt(nil, n))
	ctx.Info("alarm rang")
	return nil, nil
}

func fired(ctx *wactor.Context) int64 {
	v, ok := ctx.Get("fired")
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}

func reply(n int64) []byte { return wactor.NewMap().Int("fired", n).Encode() }
