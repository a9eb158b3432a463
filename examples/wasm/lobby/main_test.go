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

func TestNews(t *testing.T) {
	a := wactortest.New(t, "announcer/1")
	out, err := a.Call("announce", wactor.NewMap().Text("topic", "news").Int("n", 7).Encode())
	if err != nil {
		t.Fatal(err)
	}
	if intOf(t, out, "seq") != 1 || len(a.Published()) != 1 || a.Published()[0].Topic != "news" {
		t.Fatalf("announce: %x, published %v", out, a.Published())
	}
	r := wactortest.New(t, "reader/1")
	if _, err := r.Call("follow", wactor.NewMap().Text("topic", "news").Encode()); err != nil {
		t.Fatal(err)
	}
	if topics, _ := r.Subscriptions(); len(topics) != 1 {
		t.Fatalf("subscriptions %v", topics)
	}
	for range 2 { // the same publication twice: counted once, noted
		if _, err := r.CallFrom("announcer/1", "heard", a.Published()[0].Payload); err != nil {
			t.Fatal(err)
		}
	}
	out, err = r.Call("read", nil)
	if err != nil {
		t.Fatal(err)
	}
	if intOf(t, out, "heard") != 1 || intOf(t, out, "twice") != 1 || intOf(t, out, "disorder") != 1 {
		t.Fatalf("read %x", out)
	}
}
