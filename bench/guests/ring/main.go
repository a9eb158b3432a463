// Command ring is one node of the benchmark ring, and its sink: the
// standard-Go twin of bench/guests/c/ring.c.
//
//	pass {"n": N, "h": hops}  node ring/<i>: with hops left, tells
//	                          ring/<(i+1) mod N> pass {"n": N, "h": hops-1};
//	                          with none left, tells ring/sink done {}
//	done                      sink: counts finished tokens (state "done")
//	get  -> {"done": count}   sink: the count, for the benchmark to poll
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ring.wasm .
package main

import (
	"strconv"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("pass", pass)
	wactor.Handle("done", done)
	wactor.Handle("get", get)
}

func main() {}

// index is this node's i, read once from its own id: an instance belongs to
// one activation.
var index int64 = -1

func pass(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	n, okN := doc.Int("n")
	hops, okH := doc.Int("h")
	if !okN || !okH || n <= 0 {
		return nil, wactor.NewError(wactor.CodeBadRequest, `pass wants {"n": ring size, "h": hops left}`)
	}
	if hops <= 0 {
		return nil, ctx.Tell("ring/sink", "done", []byte{0xa0})
	}
	if index < 0 {
		id := ctx.Self().ID
		i, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, wactor.NewError(wactor.CodeBadRequest, "ring: my id "+strconv.Quote(id)+" is not a number")
		}
		index = i
	}
	next := wactor.NewMap().Int("n", n).Int("h", hops-1).Encode()
	return nil, ctx.Tell("ring/"+strconv.FormatInt((index+1)%n, 10), "pass", next)
}

func done(ctx *wactor.Context, _ []byte) ([]byte, error) {
	ctx.Set("done", abi.AppendInt(nil, load(ctx)+1))
	return nil, nil
}

func get(ctx *wactor.Context, _ []byte) ([]byte, error) {
	return wactor.NewMap().Int("done", load(ctx)).Encode(), nil
}

func load(ctx *wactor.Context) int64 {
	v, ok := ctx.Get("done")
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}
