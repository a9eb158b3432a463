package main

import (
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func intOf(t *testing.T, out []byte, key string) int64 {
	t.Helper()
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := doc.Int(key)
	if !ok {
		t.Fatalf("no %q in the reply", key)
	}
	return n
}

func TestLobby(t *testing.T) {
	h := wactortest.New(t, "lobby/main")
	join := wactor.NewMap().Text("player", "player/7").Encode()
	for range 2 {
		out, err := h.Call("join", join)
		if err != nil {
			t.Fatal(err)
		}
		if n := intOf(t, out, "members"); n != 1 {
			t.Fatalf("members %d after joining twice, want 1", n)
		}
	}
	if w := h.Watching(); len(w) != 1 || w[0] != "player/7" {
		t.Fatalf("watching %v", w)
	}
	if _, err := h.Deactivated("player/7", wactor.ReasonIdle); err != nil {
		t.Fatal(err)
	}
	out, err := h.Call("stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := intOf(t, out, "departures"); d != 1 {
		t.Fatalf("departures %d, want 1", d)
	}
	if _, err := h.Call("leave", join); err != nil {
		t.Fatal(err)
	}
	if w := h.Watching(); len(w) != 0 {
		t.Fatalf("watching %v after leave", w)
	}
	if _, err := h.Call("join", wactor.NewMap().Text("player", "lobby/main").Encode()); err == nil {
		t.Fatal("a lobby watched itself")
	}
}

func TestPlayerQuitsOncePerInstance(t *testing.T) {
	quitting = false
	h := wactortest.New(t, "player/7")
	for range 2 {
		if _, err := h.Call("quit", nil); err != nil {
			t.Fatal(err)
		}
	}
	if !h.DeactivateRequested() {
		t.Fatal("quit did not ask to be deactivated")
	}
	out, err := h.Call("quits", nil)
	if err != nil {
		t.Fatal(err)
	}
	if q := intOf(t, out, "quits"); q != 1 {
		t.Fatalf("quits %d from one instance, want 1", q)
	}
}
