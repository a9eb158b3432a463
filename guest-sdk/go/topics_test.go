package wactor_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func TestTopics(t *testing.T) {
	h := setup(t, "room/1")
	wactor.Handle("say", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.Publish("rooms.1", p)
	})
	wactor.Handle("say_then_fail", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		if err := ctx.Publish("rooms.1", p); err != nil {
			return nil, err
		}
		return nil, errors.New("refused")
	})
	wactor.Handle("sub", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.Subscribe(string(p), "heard")
	})
	wactor.Handle("unsub", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.Unsubscribe(string(p))
	})
	if _, err := h.Call("say", []byte{0x01}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call("say_then_fail", []byte{0x02}); err == nil {
		t.Fatal("say_then_fail succeeded")
	}
	if got := h.Published(); len(got) != 1 || got[0].Topic != "rooms.1" || string(got[0].Payload) != "\x01" {
		t.Fatalf("published %v: a failed turn publishes nothing", got)
	}
	for _, topic := range []string{"rooms.1", "rooms.2"} {
		if _, err := h.Call("sub", []byte(topic)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Call("unsub", []byte("rooms.2")); err != nil {
		t.Fatal(err)
	}
	if topics, methods := h.Subscriptions(); fmt.Sprint(topics) != "[rooms.1]" || methods["rooms.1"] != "heard" {
		t.Fatalf("subscriptions %v %v", topics, methods)
	}
	for _, bad := range []string{"", "a b", "rooms.*", "a..b", "rooms.>"} {
		_, err := h.Call("sub", []byte(bad))
		var e *abi.Error
		if !errors.As(err, &e) || e.Code != abi.CodeBadRequest {
			t.Errorf("subscribe %q: %v, want bad_request", bad, err)
		}
	}
	for i := 1; i < abi.MaxSubscriptions; i++ {
		if _, err := h.Call("sub", []byte(fmt.Sprintf("t.%d", i))); err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
	_, err := h.Call("sub", []byte("t.over"))
	var e *abi.Error
	if !errors.As(err, &e) || e.Code != abi.CodeTooLarge {
		t.Fatalf("subscription %d: %v, want too_large", abi.MaxSubscriptions+1, err)
	}
}
