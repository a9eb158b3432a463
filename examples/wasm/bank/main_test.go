package main

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func field(t *testing.T, out []byte, key string) int64 {
	t.Helper()
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := doc.Int(key)
	if !ok {
		t.Fatalf("reply %x has no integer %q", out, key)
	}
	return n
}

func call(t *testing.T, h *wactortest.Host, method string, payload []byte) []byte {
	t.Helper()
	out, err := h.Call(method, payload)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return out
}

func TestTransfer(t *testing.T) {
	h := wactortest.New(t, "account/a")
	if b := field(t, call(t, h, "deposit", wactor.NewMap().Int("amount", 100).Encode()), "balance"); b != 100 {
		t.Fatalf("deposit: balance %d", b)
	}
	out := call(t, h, "transfer", wactor.NewMap().Text("to", "b").Int("amount", 30).Encode())
	if b := field(t, out, "balance"); b != 70 {
		t.Fatalf("transfer: balance %d", b)
	}
	tells := h.Tells()
	if len(tells) != 1 || tells[0].Target != "account/b" || tells[0].Method != "credit" {
		t.Fatalf("tells = %+v, want one credit to account/b", tells)
	}
	if n := field(t, tells[0].Payload, "amount"); n != 30 {
		t.Fatalf("credit amount %d", n)
	}
	h.Reset()

	_, err := h.Call("transfer", wactor.NewMap().Text("to", "b").Int("amount", 71).Encode())
	var e *wactor.Error
	if !errors.As(err, &e) || e.Code != "insufficient_funds" {
		t.Fatalf("overdraft: err %v, want insufficient_funds", err)
	}
	if len(h.Tells()) != 0 {
		t.Fatalf("a refused transfer sent %+v", h.Tells())
	}
	bal := call(t, h, "balance", nil)
	if field(t, bal, "balance") != 70 || field(t, bal, "sent") != 1 || field(t, bal, "received") != 0 {
		t.Fatalf("balance after refusal: %x", bal)
	}
	if b := field(t, call(t, h, "credit", wactor.NewMap().Int("amount", 5).Encode()), "balance"); b != 75 {
		t.Fatalf("credit: balance %d", b)
	}
	for _, bad := range [][]byte{nil, wactor.NewMap().Int("amount", -1).Encode(), wactor.NewMap().Text("to", "a").Int("amount", 1).Encode()} {
		if _, err := h.Call("transfer", bad); !errors.Is(err, wactor.ErrBadRequest) {
			t.Errorf("transfer %x: err %v, want bad_request", bad, err)
		}
	}
}
