// Command clockwork is an actor for the host's tests of timers, reminders
// and lifecycle hooks. Every timer and reminder it sets delivers "hit"
// with {"name": name}, which counts the hits of that name.
//
//	timer {"name": n, "due_ms": d, "period_ms": p}            sets a timer
//	cancel_timer {"name": n}                                   cancels it
//	reminder {"name": n, "in_ms" | "at_unix_ms" | "every_ms" (+ "first_ms") | "cron": ..., "missed": policy}
//	cancel_reminder {"name": n}
//	set_and_fail {"name": n}   sets a timer and a reminder n, then fails: neither may exist
//	hit {"name": n}            counts a hit of n; fails with "broken" while broken
//	break, fix                 make hit fail, or not
//	get {"name": n}            -> {"hits": h, "activations": a, "deactivations": d, "seed": s}
//	deactivate                 asks to be deactivated
//	panic                      traps
//
// The activate hook counts activations and copies the state key "seed" to
// "seen_seed" (so a test sees that the hook ran after the state was
// loaded); it fails when the state key "fail_activate" exists, and sets a
// once timer "boot" when "boot_timer_ms" holds a number. The deactivate
// hook counts deactivations.
package main

import (
	"errors"
	"time"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("timer", timer)
	wactor.Handle("cancel_timer", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return done(ctx.CancelTimer(name(p)))
	})
	wactor.Handle("reminder", reminder)
	wactor.Handle("cancel_reminder", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return done(ctx.CancelReminder(name(p)))
	})
	wactor.Handle("set_and_fail", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		n := name(p)
		if err := ctx.SetTimer(n, time.Millisecond, 0, "hit", hitPayload(n)); err != nil {
			return nil, err
		}
		if err := ctx.SetReminder(n, wactor.In(time.Millisecond), "hit", hitPayload(n)); err != nil {
			return nil, err
		}
		return nil, wactor.NewError("refused", "set, then refused")
	})
	wactor.Handle("hit", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		if _, broken := ctx.Get("broken"); broken {
			return nil, wactor.NewError("broken", "hit while broken")
		}
		n := name(p)
		ctx.Set("hits/"+n, abi.AppendInt(nil, count(ctx, "hits/"+n)+1))
		ctx.Set("last_id/"+n, abi.AppendText(nil, ctx.MessageID()))
		return nil, nil
	})
	wactor.Handle("break", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ctx.Set("broken", abi.AppendBool(nil, true))
		return done(nil)
	})
	wactor.Handle("fix", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ctx.Delete("broken")
		return done(nil)
	})
	wactor.Handle("get", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		m := wactor.NewMap().
			Int("hits", count(ctx, "hits/"+name(p))).
			Int("activations", count(ctx, "activations")).
			Int("deactivations", count(ctx, "deactivations"))
		if v, ok := ctx.Get("seen_seed"); ok {
			m.Raw("seed", v)
		}
		return m.Encode(), nil
	})
	wactor.Handle("deactivate", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ctx.Deactivate()
		return done(nil)
	})
	wactor.Handle("panic", func(ctx *wactor.Context, _ []byte) ([]byte, error) { panic("clockwork: panic") })

	wactor.OnActivate(func(ctx *wactor.Context) error {
		if _, fail := ctx.Get("fail_activate"); fail {
			return wactor.NewError("activate_failed", "the activate hook refused")
		}
		ctx.Set("activations", abi.AppendInt(nil, count(ctx, "activations")+1))
		if v, ok := ctx.Get("seed"); ok {
			ctx.Set("seen_seed", v)
		}
		if v, ok := ctx.Get("boot_timer_ms"); ok {
			ms, _ := wactor.ValueOf(v).Int()
			return ctx.SetTimer("boot", time.Duration(ms)*time.Millisecond, 0, "hit", hitPayload("boot"))
		}
		return nil
	})
	wactor.OnDeactivate(func(ctx *wactor.Context) error {
		ctx.Set("deactivations", abi.AppendInt(nil, count(ctx, "deactivations")+1))
		return nil
	})
}

func main() {}

func done(err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return wactor.NewMap().Encode(), nil
}

func name(p []byte) string {
	doc, _ := wactor.ParseDoc(p)
	n, _ := doc.Text("name")
	return n
}

func hitPayload(name string) []byte { return wactor.NewMap().Text("name", name).Encode() }

func count(ctx *wactor.Context, key string) int64 {
	v, ok := ctx.Get(key)
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}

func ms(doc wactor.Doc, key string) time.Duration {
	n, _ := doc.Int(key)
	return time.Duration(n) * time.Millisecond
}

func timer(ctx *wactor.Context, p []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(p)
	if err != nil {
		return nil, err
	}
	n := name(p)
	return done(ctx.SetTimer(n, ms(doc, "due_ms"), ms(doc, "period_ms"), "hit", hitPayload(n)))
}

func reminder(ctx *wactor.Context, p []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(p)
	if err != nil {
		return nil, err
	}
	var s wactor.Schedule
	switch {
	case doc.Has("in_ms"):
		s = wactor.In(ms(doc, "in_ms"))
	case doc.Has("at_unix_ms"):
		at, _ := doc.Int("at_unix_ms")
		s = wactor.At(time.UnixMilli(at))
	case doc.Has("every_ms"):
		s = wactor.Every(ms(doc, "every_ms"))
		if doc.Has("first_ms") {
			s = s.StartingIn(ms(doc, "first_ms"))
		}
	case doc.Has("cron"):
		expr, _ := doc.Text("cron")
		s = wactor.Cron(expr)
	default:
		return nil, errors.New("reminder needs in_ms, at_unix_ms, every_ms or cron")
	}
	if missed, ok := doc.Text("missed"); ok {
		s = s.OnMissed(wactor.MissedPolicy(missed))
	}
	n := name(p)
	return done(ctx.SetReminder(n, s, "hit", hitPayload(n)))
}
