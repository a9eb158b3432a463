package main

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func TestPing(t *testing.T) {
	h := wactortest.New(t, "pingpong/a")
	// The peer answers with this module's own pong handler.
	h.OnAsk(func(target, method string, payload []byte) ([]byte, error) {
		if target != "pingpong/b" || method != "pong" {
			t.Errorf("asked %s.%s", target, method)
		}
		r, err := pong(nil, wactor.Empty{})
		return r.MarshalCBOR(nil), err
	})
	ping := func(peer string, count int64) ([]byte, error) {
		return h.Call("ping", wactor.NewMap().Text("peer", peer).Int("count", count).Encode())
	}
	for _, count := range []int64{3, 2} {
		out, err := ping("pingpong/b", count)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := wactor.ParseDoc(out)
		if n, _ := doc.Int("pongs"); n != count {
			t.Errorf("pongs = %d, want %d", n, count)
		}
	}
	if len(h.Asks()) != 5 {
		t.Errorf("%d asks, want 5", len(h.Asks()))
	}
	if v, _ := h.State("pongs"); len(v) != 1 || v[0] != 0x05 {
		t.Errorf("state pongs = %x, want the CBOR integer 5", v)
	}

	// Pinging itself deadlocks; the turn fails and commits nothing.
	if _, err := ping("pingpong/a", 1); !errors.Is(err, wactor.ErrDeadlock) {
		t.Errorf("ping self: err = %v, want deadlock", err)
	}
	if v, _ := h.State("pongs"); v[0] != 0x05 {
		t.Errorf("a failed ping changed pongs to %x", v)
	}
	if _, err := ping("pingpong/b", maxCount+1); !errors.Is(err, wactor.ErrBadRequest) {
		t.Errorf("count too big: err = %v, want bad_request", err)
	}
	if _, err := h.Call("ping", wactor.NewMap().Int("count", 1).Encode()); !errors.Is(err, wactor.ErrBadRequest) {
		t.Errorf("no peer: err = %v, want bad_request", err)
	}
}

func TestPong(t *testing.T) {
	h := wactortest.New(t, "pingpong/b")
	out, err := h.CallFrom("pingpong/a", "pong", nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := wactor.ParseDoc(out)
	if ok, _ := doc.Bool("pong"); !ok {
		t.Errorf("pong = %x", out)
	}
}
