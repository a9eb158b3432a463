package main

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func TestHello(t *testing.T) {
	h := wactortest.New(t, "greeter/x")
	out, err := h.Call("hello", wactor.NewMap().Text("name", "Ada").Encode())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := doc.Text("greeting"); g != "Hello, Ada!" {
		t.Errorf("greeting = %q", g)
	}
	if _, err := h.Call("hello", wactor.NewMap().Int("name", 1).Encode()); !errors.Is(err, wactor.ErrBadRequest) {
		t.Errorf("err = %v, want bad_request", err)
	}
}
