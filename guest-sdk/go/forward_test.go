package wactor_test

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func TestForward(t *testing.T) {
	h := wactortest.New(t, "hello/a")
	wactor.Handle("fwd_hello", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		return []byte("dropped"), ctx.Forward("world/b", "world", append([]byte("hello"), payload...))
	})
	wactor.Handle("fwd_twice", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		if err := ctx.Forward("world/b", "world", nil); err != nil {
			return nil, err
		}
		return nil, ctx.Forward("world/c", "world", nil)
	})
	h.OnAsk(func(target, method string, payload []byte) ([]byte, error) {
		return append(payload, " from "+target+"."+method...), nil
	})
	got, err := h.Call("fwd_hello", []byte(", "))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "hello,  from world/b.world" {
		t.Fatalf("the forward's reply answers the call; got %q", got)
	}
	if f := h.Forwards(); len(f) != 1 || f[0].Target != "world/b" || f[0].Method != "world" {
		t.Fatalf("Forwards() = %+v", f)
	}
	_, err = h.Call("fwd_twice", nil)
	var e *wactor.Error
	if !errors.As(err, &e) || e.Code != wactor.CodeBadRequest {
		t.Fatalf("a second forward: %v, want bad_request", err)
	}
	// A timer tick is no ask: there is nobody to answer.
	wactor.Handle("tick", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return nil, ctx.Forward("world/b", "world", nil)
	})
	wactor.Handle("arm", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return nil, ctx.SetTimer("t", 0, 0, "tick", nil)
	})
	if _, err := h.Call("arm", nil); err != nil {
		t.Fatal(err)
	}
	_, err = h.FireTimer("t")
	if !errors.As(err, &e) || e.Code != wactor.CodeBadRequest {
		t.Fatalf("forward from a timer tick: %v, want bad_request", err)
	}
}
