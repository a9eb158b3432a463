// Command counter is an actor that keeps a running total.
//
//	add {"n": 5}  -> {"n": total}
//	get           -> {"n": total}
//
// The total is stored under the state key "n" as a CBOR integer. Build it
// with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm ./counter
package main

import (
	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("add", add)
	wactor.Handle("get", get)
}

// main is never called: the host calls the handlers through the module's
// exports after _initialize has run init.
func main() {}

func add(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	n, ok := doc.Int("n")
	if !ok {
		return nil, wactor.NewError(wactor.CodeBadRequest, `add needs an integer "n", as in {"n": 5}`)
	}
	total := load(ctx) + n
	ctx.Set("n", abi.AppendInt(nil, total))
	return reply(total), nil
}

func get(ctx *wactor.Context, _ []byte) ([]byte, error) {
	return reply(load(ctx)), nil
}

// load returns the stored total, 0 if there is none yet.
func load(ctx *wactor.Context) int64 {
	v, ok := ctx.Get("n")
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}

func reply(total int64) []byte { return wactor.NewMap().Int("n", total).Encode() }
