package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

// The topic methods of docs/conformance.md:
//
//	publish {"topic", "payload"?}   -> {}
//	subscribe {"topic", "method"}   -> {}
//	unsubscribe {"topic"}           -> {}
func init() {
	wactor.Handle("publish", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(payload)
		if err != nil {
			return nil, err
		}
		topic, ok := doc.Text("topic")
		if !ok {
			return nil, badRequest(`publish needs a text "topic"`)
		}
		var body []byte
		if v := doc.Get("payload"); v.Exists() {
			body = v.Raw()
		}
		if err := ctx.Publish(topic, body); err != nil {
			return nil, err
		}
		return empty(), nil
	})
	wactor.Handle("subscribe", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(payload)
		if err != nil {
			return nil, err
		}
		topic, ok1 := doc.Text("topic")
		method, ok2 := doc.Text("method")
		if !ok1 || !ok2 {
			return nil, badRequest(`subscribe needs a text "topic" and "method"`)
		}
		if err := ctx.Subscribe(topic, method); err != nil {
			return nil, err
		}
		return empty(), nil
	})
	wactor.Handle("unsubscribe", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, err := wactor.ParseDoc(payload)
		if err != nil {
			return nil, err
		}
		topic, ok := doc.Text("topic")
		if !ok {
			return nil, badRequest(`unsubscribe needs a text "topic"`)
		}
		if err := ctx.Unsubscribe(topic); err != nil {
			return nil, err
		}
		return empty(), nil
	})
}
