package wactor_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func TestTimers(t *testing.T) {
	h := setup(t, "ticker/1")
	ticks := 0
	wactor.Handle("start", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return nil, ctx.SetTimer("tick", 1500*time.Microsecond, time.Second, "tick", []byte{0x01})
	})
	wactor.Handle("once", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return nil, ctx.SetTimer("once", 0, 0, "tick", nil)
	})
	wactor.Handle("stop", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return nil, ctx.CancelTimer("tick")
	})
	wactor.Handle("start_and_fail", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		if err := ctx.SetTimer("lost", time.Second, 0, "tick", nil); err != nil {
			return nil, err
		}
		return nil, errors.New("refused")
	})
	wactor.Handle("tick", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ticks++
		return nil, nil
	})

	if _, err := h.Call("start", nil); err != nil {
		t.Fatal(err)
	}
	want := abi.Timer{Name: "tick", DueMS: 2, PeriodMS: 1000, Method: "tick", Payload: []byte{0x01}}
	if got := h.Timers()["tick"]; got.Name != want.Name || got.DueMS != want.DueMS || got.PeriodMS != want.PeriodMS ||
		got.Method != want.Method || string(got.Payload) != string(want.Payload) {
		t.Fatalf("timer = %+v, want %+v (durations rounded up to milliseconds)", got, want)
	}
	for i := 0; i < 3; i++ {
		if _, err := h.FireTimer("tick"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Call("once", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.FireTimer("once"); err != nil {
		t.Fatal(err)
	}
	if ticks != 4 {
		t.Fatalf("ticks = %d, want 4", ticks)
	}
	if _, ok := h.Timers()["once"]; ok {
		t.Fatal("a once timer stays after its tick")
	}
	if _, err := h.Call("start_and_fail", nil); err == nil {
		t.Fatal("start_and_fail succeeded")
	}
	if _, ok := h.Timers()["lost"]; ok {
		t.Fatal("a failed turn set a timer")
	}
	if _, err := h.Call("stop", nil); err != nil {
		t.Fatal(err)
	}
	if len(h.Timers()) != 0 {
		t.Fatalf("timers after stop: %v", h.Timers())
	}
}

func TestReminders(t *testing.T) {
	h := setup(t, "alarm/1")
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	schedules := map[string]wactor.Schedule{
		"in":       wactor.In(1500 * time.Millisecond),
		"at":       wactor.At(at),
		"every":    wactor.Every(time.Minute).StartingIn(time.Second).OnMissed(wactor.Skip),
		"cron":     wactor.Cron("0 9 * * *"),
		"now":      wactor.In(0),
		"ancient":  wactor.At(time.Unix(-5, 0)),
		"catch_up": wactor.Every(time.Hour).OnMissed(wactor.CatchUp),
	}
	fired := 0
	wactor.Handle("set", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		name := string(p)
		return nil, ctx.SetReminder(name, schedules[name], "ring", []byte(name))
	})
	wactor.Handle("cancel", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return nil, ctx.CancelReminder(string(p))
	})
	wactor.Handle("ring", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		fired++
		return nil, nil
	})
	wactor.Handle("bad", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		var s wactor.Schedule
		switch string(p) {
		case "every0":
			s = wactor.Every(0)
		case "starting":
			s = wactor.In(time.Second).StartingIn(time.Second)
		}
		return nil, ctx.SetReminder("bad", s, "ring", nil)
	})
	for name := range schedules {
		if _, err := h.Call("set", []byte(name)); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	want := map[string]abi.Reminder{
		"in":       {Name: "in", InMS: 1500},
		"at":       {Name: "at", AtUnixMS: uint64(at.UnixMilli())},
		"every":    {Name: "every", EveryMS: 60000, FirstMS: 1000, Missed: "skip"},
		"cron":     {Name: "cron", Cron: "0 9 * * *"},
		"now":      {Name: "now"},
		"ancient":  {Name: "ancient", AtUnixMS: 1},
		"catch_up": {Name: "catch_up", EveryMS: 3600000, Missed: "catch_up"},
	}
	got := h.Reminders()
	if len(got) != len(want) {
		t.Fatalf("reminders = %v", got)
	}
	for name, w := range want {
		g := got[name]
		w.Method, w.Payload = "ring", []byte(name)
		if g.Name != w.Name || g.InMS != w.InMS || g.AtUnixMS != w.AtUnixMS || g.EveryMS != w.EveryMS ||
			g.FirstMS != w.FirstMS || g.Cron != w.Cron || g.Method != w.Method || string(g.Payload) != string(w.Payload) || g.Missed != w.Missed {
			t.Errorf("reminder %s = %+v, want %+v", name, g, w)
		}
	}
	if _, err := h.FireReminder("in"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.FireReminder("every"); err != nil {
		t.Fatal(err)
	}
	if fired != 2 {
		t.Fatalf("fired = %d", fired)
	}
	if _, ok := h.Reminders()["in"]; ok {
		t.Error("a once reminder stays after it fired")
	}
	if _, ok := h.Reminders()["every"]; !ok {
		t.Error("a periodic reminder is gone after it fired")
	}
	if _, err := h.Call("cancel", []byte("cron")); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Reminders()["cron"]; ok {
		t.Error("cancel left the reminder")
	}
	for _, bad := range []string{"every0", "starting"} {
		_, err := h.Call("bad", []byte(bad))
		wantCode(t, err, wactor.CodeBadRequest)
	}
}
