// Command lobby shows watches: a lobby watches the players who join it and
// counts how often they leave, by any means (they quit, go idle, break,
// are redeployed...). The same module serves both sides; deploy it as a
// type "lobby" and a type "player":
//
//	lobby:  join {"player": "player/7"}   -> {"members": n}  watches the player
//	        leave {"player": "player/7"}  -> {"members": n}  stops watching it
//	        stats                         -> {"members": n, "departures": d}
//	        (lifecycle message)           counts a departure of the player
//	player: quit                          -> {"quits": q}    asks to be deactivated
//	        quits                         -> {"quits": q}
//
// A player counts a quit once per instance: a second quit before its
// instance has gone runs on the same instance, whose deactivation its
// watchers are told of once. So a lobby's departures by request equal the
// sum of its players' quits, which the crash test (e2e) checks under
// kill -9.
package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

// quitting: this instance has committed a quit; it is deactivated once
// its turns are done, and its watchers are told once.
var quitting bool

func init() {
	wactor.Handle("join", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		player, err := playerOf(p, "join")
		if err != nil {
			return nil, err
		}
		if err := ctx.Watch(player); err != nil {
			return nil, err
		}
		n := count(ctx, "members")
		if _, ok := ctx.Get("member/" + player); !ok {
			ctx.Set("member/"+player, wactor.NewMap().Encode())
			n++
			setCount(ctx, "members", n)
		}
		return wactor.NewMap().Int("members", n).Encode(), nil
	})
	wactor.Handle("leave", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		player, err := playerOf(p, "leave")
		if err != nil {
			return nil, err
		}
		if err := ctx.Unwatch(player); err != nil {
			return nil, err
		}
		n := count(ctx, "members")
		if _, ok := ctx.Get("member/" + player); ok {
			ctx.Delete("member/" + player)
			n--
			setCount(ctx, "members", n)
		}
		return wactor.NewMap().Int("members", n).Encode(), nil
	})
	wactor.Handle("stats", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return wactor.NewMap().Int("members", count(ctx, "members")).Int("departures", count(ctx, "departures")).Encode(), nil
	})
	wactor.OnDeactivated(func(ctx *wactor.Context, l wactor.Lifecycle) error {
		setCount(ctx, "departures", count(ctx, "departures")+1)
		ctx.Set("last", wactor.NewMap().Text("player", l.Ref).Text("reason", l.Reason).Encode())
		return nil
	})

	wactor.Handle("quit", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		q := count(ctx, "quits")
		if !quitting {
			q++
			setCount(ctx, "quits", q)
		}
		ctx.Deactivate()
		// A turn that fails to commit takes its instance, and this flag,
		// with it.
		quitting = true
		return wactor.NewMap().Int("quits", q).Encode(), nil
	})
	wactor.Handle("quits", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return wactor.NewMap().Int("quits", count(ctx, "quits")).Encode(), nil
	})
}

func main() {}

func playerOf(p []byte, method string) (string, error) {
	doc, err := wactor.ParseDoc(p)
	if err != nil {
		return "", err
	}
	player, ok := doc.Text("player")
	if !ok {
		return "", wactor.NewError(wactor.CodeBadRequest, method+` needs a text "player", as in {"player": "player/7"}`)
	}
	return player, nil
}

// count reads the counter key, kept as {"n": n}.
func count(ctx *wactor.Context, key string) int64 {
	v, ok := ctx.Get(key)
	if !ok {
		return 0
	}
	doc, err := wactor.ParseDoc(v)
	if err != nil {
		return 0
	}
	n, _ := doc.Int("n")
	return n
}

func setCount(ctx *wactor.Context, key string, n int64) {
	ctx.Set(key, wactor.NewMap().Int("n", n).Encode())
}
