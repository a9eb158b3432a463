package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func TestDigest(t *testing.T) {
	h := wactortest.New(t, "hasher/x")
	out, err := wactortest.Call[digestReply](h, "digest", digestRequest{Data: []byte("wactor"), Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("wactor"))
	want = sha256.Sum256(want[:])
	if !bytes.Equal(out.SHA256, want[:]) {
		t.Errorf("digest %x, want %x", out.SHA256, want)
	}
	if _, err := h.Call("digest", digestRequest{Rounds: maxRounds + 1}.MarshalCBOR(nil)); !errors.Is(err, wactor.ErrBadRequest) {
		t.Errorf("too many rounds: %v, want bad_request", err)
	}
}
