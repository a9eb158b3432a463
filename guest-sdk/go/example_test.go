package wactor_test

import (
	"fmt"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func ExampleParseDoc() {
	// The gateway turns the JSON body {"n":7,"tags":["a","b"]} into CBOR.
	payload := wactor.NewMap().Int("n", 7).Array("tags", wactor.NewArray().Text("a").Text("b")).Encode()

	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		panic(err)
	}
	n, ok := doc.Int("n")
	fmt.Println(n, ok)
	tags, _ := doc.Array("tags")
	for i, tag := range tags.All() {
		s, _ := tag.Text()
		fmt.Println(i, s)
	}
	_, ok = doc.Int("missing")
	fmt.Println(ok)
	// Output:
	// 7 true
	// 0 a
	// 1 b
	// false
}

func ExampleNewMap() {
	reply := wactor.NewMap().Int("n", 7).Text("greeting", "Hello, Ada!").Encode()
	fmt.Printf("%x\n", reply)
	// Output:
	// a2616e07686772656574696e676b48656c6c6f2c2041646121
}

func ExampleNewError() {
	// In a handler:
	//	return nil, wactor.NewError("insufficient_funds", "balance 3 is less than 5")
	err := wactor.NewError("insufficient_funds", "balance 3 is less than 5")
	fmt.Println(err)
	// Output:
	// insufficient_funds: balance 3 is less than 5
}
