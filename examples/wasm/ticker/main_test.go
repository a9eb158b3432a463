package main

import (
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func ticksOf(t *testing.T, h *wactortest.Host, method string, payload []byte) int64 {
	t.Helper()
	out, err := h.Call(method, payload)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wactor.ParseDoc(out)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := doc.Int("ticks")
	return n
}

func TestTicker(t *testing.T) {
	h := wactortest.New(t, "ticker/a")
	if n := ticksOf(t, h, "start", wactor.NewMap().Int("period_ms", 250).Encode()); n != 0 {
		t.Fatalf("start = %d ticks", n)
	}
	tm, ok := h.Timers()["tick"]
	if !ok || tm.DueMS != 250 || tm.PeriodMS != 250 || tm.Method != "tick" {
		t.Fatalf("timer = %+v, %v", tm, ok)
	}
	for i := 0; i < 3; i++ {
		if _, err := h.FireTimer("tick"); err != nil {
			t.Fatal(err)
		}
	}
	if n := ticksOf(t, h, "get", nil); n != 3 {
		t.Fatalf("get = %d, want 3", n)
	}
	if n := ticksOf(t, h, "stop", nil); n != 3 {
		t.Fatalf("stop = %d, want 3", n)
	}
	if len(h.Timers()) != 0 {
		t.Fatal("stop left the timer")
	}
	if _, err := h.Call("start", wactor.NewMap().Int("period_ms", 0).Encode()); err == nil {
		t.Fatal("start with period 0 succeeded")
	}
}
