package main

import (
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func firedOf(t *testing.T, h *wactortest.Host, method string, payload []byte) int64 {
	t.Helper()
	out, err := h.Call(method, payload)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := doc.Int("fired")
	return n
}

func TestAlarm(t *testing.T) {
	h := wactortest.New(t, "alarm/a")
	if n := firedOf(t, h, "set", wactor.NewMap().Int("in_ms", 1500).Encode()); n != 0 {
		t.Fatalf("set = %d", n)
	}
	r, ok := h.Reminders()["alarm"]
	if !ok || r.InMS != 1500 || r.Method != "ring" {
		t.Fatalf("reminder = %+v, %v", r, ok)
	}
	if _, err := h.FireReminder("alarm"); err != nil {
		t.Fatal(err)
	}
	if n := firedOf(t, h, "get", nil); n != 1 {
		t.Fatalf("get = %d, want 1", n)
	}
	if len(h.Reminders()) != 0 {
		t.Fatal("the once reminder stays after it rang")
	}
	firedOf(t, h, "set", wactor.NewMap().Int("in_ms", 10).Encode())
	firedOf(t, h, "cancel", nil)
	if len(h.Reminders()) != 0 {
		t.Fatal("cancel left the reminder")
	}
	if _, err := h.Call("set", wactor.NewMap().Text("in_ms", "soon").Encode()); err == nil {
		t.Fatal("set without an integer succeeded")
	}
}
