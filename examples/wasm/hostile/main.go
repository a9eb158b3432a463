// Command hostile is an actor that misbehaves on purpose, one method per
// attack, so that tests can show the host survives each one and commits
// nothing of the failed turn. Every attack first writes state and sends a
// tell, which must then never be seen.
//
//	write {"key": k, "value": v}  -> {}            a well-behaved write
//	read  {"key": k}              -> {"value": v}  (absent: {})
//	fail_after_write              -> application error code "refused"
//	panic                         -> trapped
//	spin                          -> turn_timeout
//	oom                           -> memory_exhausted
//	recurse                       -> trapped (stack exhausted)
//	tell {"to": ref, "method": m, "payload": p} -> {}  a tell, committed with the turn
//	ask  {"to": ref, "method": m, "payload": p} -> the reply   (errors pass through)
//	deactivate                    -> {}            asks to be deactivated
package main

import (
	"runtime/debug"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	// Go's default 1 GiB stack limit lets recurse fight the memory limit
	// first (slowly: the garbage collector runs at each failed growth);
	// with 8 MiB it overflows at once, as a guest runtime should.
	debug.SetMaxStack(8 << 20)

	wactor.Handle("write", write)
	wactor.Handle("read", read)
	wactor.Handle("fail_after_write", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		return nil, wactor.NewError("refused", "this actor refuses after writing")
	})
	wactor.Handle("panic", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		panic("hostile: panic on purpose")
	})
	wactor.Handle("spin", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		for i := 0; ; i++ {
			sink = i
		}
	})
	wactor.Handle("oom", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	})
	wactor.Handle("recurse", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		return nil, wactor.NewError("unreachable", string(rune(recurse(1))))
	})
	wactor.Handle("tell", tell)
	wactor.Handle("ask", ask)
	wactor.Handle("deactivate", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ctx.Deactivate()
		return empty(), nil
	})
}

func main() {}

var (
	sink  int
	hoard [][]byte
)

func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[0])
}

// dirty writes state and sends a tell that a failed turn must drop.
func dirty(ctx *wactor.Context) {
	ctx.Set("dirty", []byte{0xf5})
	_ = ctx.Tell(ctx.Self(), "write", wactor.NewMap().Text("key", "told").Int("value", 1).Encode())
}

func empty() []byte { return wactor.NewMap().Encode() }

func write(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	key, ok := doc.Text("key")
	if !ok {
		return nil, wactor.NewError(wactor.CodeBadRequest, `write needs a text "key"`)
	}
	ctx.Set(key, doc.Get("value").Raw())
	return empty(), nil
}

func read(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	key, _ := doc.Text("key")
	v, ok := ctx.Get(key)
	if !ok {
		return empty(), nil
	}
	return wactor.NewMap().Raw("value", v).Encode(), nil
}

func tell(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, _ := doc.Text("to")
	method, _ := doc.Text("method")
	body := doc.Get("payload").Raw()
	if err := ctx.Tell(to, method, body); err != nil {
		return nil, err
	}
	return empty(), nil
}

func ask(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, _ := doc.Text("to")
	method, _ := doc.Text("method")
	return ctx.Ask(to, method, doc.Get("payload").Raw(), 0)
}
