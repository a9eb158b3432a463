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

import wactor "github.com/wactor/wactor/guest-sdk/go"

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type addRequest,reply

// addRequest is add's payload. N is a pointer so that a missing "n" is
// told apart from 0.
type addRequest struct {
	N *int64 `cbor:"n"`
}

func (r addRequest) Validate() error {
	if r.N == nil {
		return wactor.NewError(wactor.CodeBadRequest, `add needs an integer "n", as in {"n": 5}`)
	}
	return nil
}

// reply is the reply of both methods: the total.
type reply struct {
	N int64 `cbor:"n"`
}

var sum = wactor.NewState[wactor.Int]("n")

func init() {
	wactor.HandleTyped("add", func(ctx *wactor.Context, req addRequest) (reply, error) {
		n, err := sum.Update(ctx, func(n wactor.Int) wactor.Int { return n + wactor.Int(*req.N) })
		return reply{N: int64(n)}, err
	})
	wactor.HandleTyped("get", func(ctx *wactor.Context, _ wactor.Empty) (reply, error) {
		n, err := sum.Get(ctx)
		return reply{N: int64(n)}, err
	})
}

// main is never called: the host calls the handlers through the module's
// exports after _initialize has run init.
func main() {}
