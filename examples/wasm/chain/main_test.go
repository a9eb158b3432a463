package main

import (
	"testing"

	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

// Each link forwards to the next; the kit answers a forward with the
// OnAsk function, here the next link run in a kit of its own.
func TestChain(t *testing.T) {
	punctuate := func(target, method string, payload []byte) ([]byte, error) {
		if target != "chain/a-punctuate" || method != "punctuate" {
			t.Fatalf("world forwarded to %s %s", target, method)
		}
		p := wactortest.New(t, target)
		return p.Call(method, payload)
	}
	world := func(target, method string, payload []byte) ([]byte, error) {
		if target != "chain/a-world" || method != "world" {
			t.Fatalf("hello forwarded to %s %s", target, method)
		}
		w := wactortest.New(t, target)
		w.OnAsk(punctuate)
		return w.Call(method, payload)
	}
	h := wactortest.New(t, "chain/a")
	h.OnAsk(world)
	out, err := wactortest.Call[text](h, "hello", helloRequest{Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "Hello, Ada, and the World!" {
		t.Errorf("reply %q", out.Text)
	}
	if f := h.Forwards(); len(f) != 1 {
		t.Errorf("hello forwarded %d times", len(f))
	}
}
