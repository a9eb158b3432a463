package wactor

import (
	"testing"

	"github.com/wactor/wactor/abi"
)

// FuzzRequestDecode checks that the SDK's allocation-free request decoder
// accepts and rejects exactly what abi.Request.Decode does, with the same
// fields.
func FuzzRequestDecode(f *testing.F) {
	for _, q := range []abi.Request{
		{},
		{Kind: abi.KindMessage, Method: "add", Payload: []byte{0xa0}, Sender: "a/b", ID: "m1"},
		{Kind: abi.KindDeactivate, ID: "x"},
		{Kind: abi.KindMessage, Method: "get", ID: "m2", Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	} {
		f.Add(q.AppendTo(nil))
	}
	f.Add([]byte{0xa1, 0x01, 0x03})             // unknown kind
	f.Add([]byte{0xa1, 0x09, 0x80})             // unknown key
	f.Add([]byte{0xa1, 0x06, 0x20})             // a trace that is not text
	f.Add([]byte{0xa1, 0x06, 0x61, 0x74})       // a trace
	f.Add([]byte{0xa1, 0x02, 0x61, 0x61, 0x00}) // trailing byte
	f.Fuzz(func(t *testing.T, p []byte) {
		var want abi.Request
		wantErr := want.Decode(p)
		var got request
		gotErr := got.decode(p)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("abi: %v; sdk: %v", wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if got.kind != want.Kind || string(got.method) != want.Method || string(got.payload) != string(want.Payload) ||
			(got.payload == nil) != (want.Payload == nil) || string(got.sender) != want.Sender || string(got.id) != want.ID {
			t.Fatalf("abi: %+v; sdk: %+v", want, got)
		}
	})
}
