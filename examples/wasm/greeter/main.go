// Command greeter is a stateless actor that says hello.
//
//	hello {"name": "Ada"} -> {"greeting": "Hello, Ada!"}
package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

func init() { wactor.Handle("hello", hello) }

func main() {}

func hello(_ *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	name, ok := doc.Text("name")
	if !ok || name == "" {
		return nil, wactor.NewError(wactor.CodeBadRequest, `hello needs a text "name", as in {"name": "Ada"}`)
	}
	return wactor.NewMap().Text("greeting", "Hello, "+name+"!").Encode(), nil
}
