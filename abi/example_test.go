package abi_test

import (
	"errors"
	"fmt"

	"github.com/wactor/wactor/abi"
)

// A host encodes a request; a guest decodes it and answers with a reply.
func ExampleRequest() {
	payload := abi.AppendUint(abi.AppendText(abi.AppendMapHeader(nil, 1), "amount"), 100)
	req := abi.Request{Kind: abi.KindMessage, Method: "deposit", Payload: payload, Sender: "bank/alice", ID: "m-1"}
	wire := req.AppendTo(nil)
	fmt.Printf("%x\n", wire)

	var got abi.Request
	if err := got.Decode(wire); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Method, got.Sender, got.ID)
	// Output:
	// a5010002676465706f736974034aa166616d6f756e741864046a62616e6b2f616c69636505636d2d31
	// deposit bank/alice m-1
}

// Decoding names the envelope and the key that is wrong.
func ExampleReply_Decode() {
	var y abi.Reply
	err := y.Decode([]byte{0xa1, 0x02, 0x01}) // {2: 1}: the code must be text
	fmt.Println(err)
	fmt.Println(errors.Is(err, abi.ErrCBOR))
	// Output:
	// cbor: reply key 2: expected text string, found unsigned integer at byte 2
	// true
}

// A host call returns its status and the length of its pending result in
// one i64.
func ExampleUnpackResult() {
	status, n := abi.UnpackResult(0x000000020000001a)
	fmt.Println(status == abi.StatusError, n)
	// Output: true 26
}

// Any *abi.Error matches the sentinel for its code.
func ExampleError_Is() {
	err := fmt.Errorf("tell counter/1: %w", abi.NewError(abi.CodeMailboxFull, "256 messages waiting"))
	fmt.Println(errors.Is(err, abi.ErrMailboxFull), errors.Is(err, abi.ErrTimeout))
	// Output: true false
}

func ExampleParseRef() {
	ref, err := abi.ParseRef("files/a/b")
	fmt.Println(ref.Type, ref.ID, err)
	_, err = abi.ParseRef("no-slash")
	fmt.Println(err)
	// Output:
	// files a/b <nil>
	// bad_request: actor ref "no-slash" is not of the form type/id
}
