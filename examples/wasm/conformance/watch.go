package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

// The watch methods of docs/conformance.md:
//
//	watch {"to"}                 -> {}
//	unwatch {"to"}               -> {}
//	wactor:deactivated (a lifecycle message) stores its payload, byte for
//	                             byte, under the state key "lifecycle/" + the message id
func init() {
	wactor.Handle("watch", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		return watchCall(payload, "watch", ctx.Watch)
	})
	wactor.Handle("unwatch", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		return watchCall(payload, "unwatch", ctx.Unwatch)
	})
	wactor.Handle(wactor.MethodDeactivated, func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		ctx.Set("lifecycle/"+ctx.MessageID(), payload)
		return nil, nil
	})
}

func watchCall(payload []byte, method string, call func(string) error) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, ok := doc.Text("to")
	if !ok {
		return nil, badRequest(method + ` needs a text "to"`)
	}
	if err := call(to); err != nil {
		return nil, err
	}
	return empty(), nil
}
