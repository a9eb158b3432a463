// Command greeter is a stateless actor that says hello.
//
//	hello {"name": "Ada"} -> {"greeting": "Hello, Ada!"}
package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type helloRequest,greeting

type helloRequest struct {
	Name string `cbor:"name"`
}

func (r helloRequest) Validate() error {
	if r.Name == "" {
		return wactor.NewError(wactor.CodeBadRequest, `hello needs a text "name", as in {"name": "Ada"}`)
	}
	return nil
}

type greeting struct {
	Greeting string `cbor:"greeting"`
}

func init() {
	wactor.HandleTyped("hello", func(_ *wactor.Context, req helloRequest) (greeting, error) {
		return greeting{Greeting: "Hello, " + req.Name + "!"}, nil
	})
}

func main() {}
