package main

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

// total calls method and returns the "n" of its reply.
func total(t *testing.T, h *wactortest.Host, method string, payload []byte) int64 {
	t.Helper()
	out, err := h.Call(method, payload)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := doc.Int("n")
	if !ok {
		t.Fatalf("reply %x has no integer n", out)
	}
	return n
}

func TestCounter(t *testing.T) {
	h := wactortest.New(t, "counter/a")
	if n := total(t, h, "get", nil); n != 0 {
		t.Errorf("get on a new counter = %d", n)
	}
	if n := total(t, h, "add", wactor.NewMap().Int("n", 5).Encode()); n != 5 {
		t.Errorf("add 5 = %d", n)
	}
	if n := total(t, h, "add", wactor.NewMap().Int("n", -2).Encode()); n != 3 {
		t.Errorf("add -2 = %d", n)
	}
	if n := total(t, h, "get", nil); n != 3 {
		t.Errorf("get = %d", n)
	}
	if v, _ := h.State("n"); len(v) != 1 || v[0] != 0x03 {
		t.Errorf("state n = %x, want the CBOR integer 3", v)
	}

	for _, bad := range [][]byte{
		nil,
		wactor.NewMap().Text("n", "five").Encode(),
		wactor.NewMap().Float("n", 1.5).Encode(),
		{0x01},
	} {
		_, err := h.Call("add", bad)
		if !errors.Is(err, wactor.ErrBadRequest) {
			t.Errorf("add %x: err = %v, want bad_request", bad, err)
		}
	}
	if n := total(t, h, "get", nil); n != 3 {
		t.Errorf("a bad add changed the total to %d", n)
	}
}
