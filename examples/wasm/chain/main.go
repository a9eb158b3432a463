// Command chain answers an ask through a chain of actors that only
// forward: hello forwards to world, which forwards to punctuate, whose
// reply answers the original asker. No actor of the chain waits for
// another (none asks), so none is held while the others work.
//
//	hello {"name": "Ada"} -> {"text": "Hello, Ada, and the World!"}
//
// chain/<id>'s hello forwards to chain/<id>-world, whose world forwards to
// chain/<id>-punctuate.
package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type helloRequest,text

type helloRequest struct {
	Name string `cbor:"name"`
}

func (r helloRequest) Validate() error {
	if r.Name == "" {
		return wactor.NewError(wactor.CodeBadRequest, `hello needs a text "name", as in {"name": "Ada"}`)
	}
	return nil
}

// text is what travels down the chain, and the reply.
type text struct {
	Text string `cbor:"text"`
}

func init() {
	wactor.HandleTyped("hello", func(ctx *wactor.Context, req helloRequest) (wactor.Empty, error) {
		next := text{Text: "Hello, " + req.Name}
		return wactor.Empty{}, ctx.Forward(ctx.Self().String()+"-world", "world", next.MarshalCBOR(nil))
	})
	wactor.HandleTyped("world", func(ctx *wactor.Context, in text) (wactor.Empty, error) {
		next := text{Text: in.Text + ", and the World"}
		self := ctx.Self().String()
		return wactor.Empty{}, ctx.Forward(self[:len(self)-len("-world")]+"-punctuate", "punctuate", next.MarshalCBOR(nil))
	})
	wactor.HandleTyped("punctuate", func(_ *wactor.Context, in text) (text, error) {
		return text{Text: in.Text + "!"}, nil
	})
}

func main() {}
