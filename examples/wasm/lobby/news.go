package main

import (
	"strconv"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

// Topics, on the same module:
//
//	announcer: announce {"topic", "n"}  -> {"seq": s}  publishes {"n", "seq"} to the topic,
//	                                                   seq counting this announcer's announcements
//	reader:    follow {"topic"}         -> {}          subscribes to the topic (method "heard")
//	           heard (a publication)                   counts it, once per (sender, n), and
//	                                                   notes one seen twice or out of order
//	           read                     -> {"heard": h, "twice": t, "disorder": d}
func init() {
	wactor.Handle("announce", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(p)
		if err != nil {
			return nil, err
		}
		topic, ok1 := doc.Text("topic")
		n, ok2 := doc.Int("n")
		if !ok1 || !ok2 {
			return nil, wactor.NewError(wactor.CodeBadRequest, `announce needs a text "topic" and an integer "n"`)
		}
		seq := count(ctx, "seq") + 1
		setCount(ctx, "seq", seq)
		if err := ctx.Publish(topic, wactor.NewMap().Int("n", n).Int("seq", seq).Encode()); err != nil {
			return nil, err
		}
		return wactor.NewMap().Int("seq", seq).Encode(), nil
	})
	wactor.Handle("follow", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(p)
		if err != nil {
			return nil, err
		}
		topic, ok := doc.Text("topic")
		if !ok {
			return nil, wactor.NewError(wactor.CodeBadRequest, `follow needs a text "topic"`)
		}
		return wactor.NewMap().Encode(), ctx.Subscribe(topic, "heard")
	})
	wactor.Handle("heard", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(p)
		if err != nil {
			return nil, err
		}
		n, _ := doc.Int("n")
		seq, _ := doc.Int("seq")
		from := ctx.Sender()
		seen := "seen/" + from + "/" + strconv.FormatInt(n, 10)
		if _, twice := ctx.Get(seen); twice {
			setCount(ctx, "twice", count(ctx, "twice")+1)
		} else {
			ctx.Set(seen, wactor.NewMap().Encode())
			setCount(ctx, "heard", count(ctx, "heard")+1)
		}
		if seq <= count(ctx, "last/"+from) {
			setCount(ctx, "disorder", count(ctx, "disorder")+1)
		}
		setCount(ctx, "last/"+from, seq)
		return nil, nil
	})
	wactor.Handle("read", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		return wactor.NewMap().Int("heard", count(ctx, "heard")).Int("twice", count(ctx, "twice")).
			Int("disorder", count(ctx, "disorder")).Encode(), nil
	})
}
