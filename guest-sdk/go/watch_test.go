package wactor_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func TestWatch(t *testing.T) {
	h := setup(t, "watcher/1")
	var told []wactor.Lifecycle
	var senders []string
	wactor.Handle("watch", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.Watch(string(p))
	})
	wactor.Handle("unwatch", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.Unwatch(string(p))
	})
	wactor.Handle("watch_then_fail", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		if err := ctx.Watch(string(p)); err != nil {
			return nil, err
		}
		return nil, errors.New("refused")
	})
	wactor.OnDeactivated(func(ctx *wactor.Context, l wactor.Lifecycle) error {
		told = append(told, l)
		senders = append(senders, ctx.Sender())
		return nil
	})

	for _, ref := range []string{"room/b", "room/a"} {
		if _, err := h.Call("watch", []byte(ref)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Call("watch_then_fail", []byte("room/c")); err == nil {
		t.Fatal("watch_then_fail succeeded")
	}
	if got := fmt.Sprint(h.Watching()); got != "[room/a room/b]" {
		t.Fatalf("watching %s, want [room/a room/b]: a failed turn's watch is not kept", got)
	}
	if _, err := h.Call("unwatch", []byte("room/b")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call("unwatch", []byte("room/never")); err != nil {
		t.Fatalf("unwatching an actor not watched: %v", err)
	}
	if got := fmt.Sprint(h.Watching()); got != "[room/a]" {
		t.Fatalf("watching %s after unwatch, want [room/a]", got)
	}

	// The host's refusals.
	for ref, code := range map[string]string{"watcher/1": abi.CodeBadRequest, "no-slash": abi.CodeBadRequest} {
		_, err := h.Call("watch", []byte(ref))
		var e *abi.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("watch %q: %v, want %s", ref, err, code)
		}
	}
	for i := len(h.Watching()); i < abi.MaxWatches; i++ {
		if _, err := h.Call("watch", []byte(fmt.Sprintf("room/n%d", i))); err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	_, err := h.Call("watch", []byte("room/one-too-many"))
	var e *abi.Error
	if !errors.As(err, &e) || e.Code != abi.CodeTooLarge {
		t.Fatalf("watch number %d: %v, want too_large", abi.MaxWatches+1, err)
	}
	if _, err := h.Call("watch", []byte("room/a")); err != nil {
		t.Fatalf("watching an actor watched already is no new watch: %v", err)
	}

	if _, err := h.Deactivated("room/a", wactor.ReasonIdle); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0] != (wactor.Lifecycle{Ref: "room/a", Reason: "idle"}) || senders[0] != "room/a" {
		t.Fatalf("told %v by %v", told, senders)
	}
	// Nobody may send the reserved method.
	_, err = h.Call(wactor.MethodDeactivated, nil)
	if !errors.As(err, &e) || e.Code != abi.CodeBadRequest {
		t.Fatalf("a client sending %s: %v, want bad_request", wactor.MethodDeactivated, err)
	}
}
