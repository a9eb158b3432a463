package abi

import (
	"strconv"
	"sync"
	"testing"
)

// TestDecodeConcurrently decodes envelopes from several goroutines at once
// (run it with -race): decodeMap's pooled readers are never shared by two
// decodes, and one decode's bytes never show in another's result.
func TestDecodeConcurrently(t *testing.T) {
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				want := Call{Target: "t/" + strconv.Itoa(g), Method: "m" + strconv.Itoa(i), Payload: []byte{byte(g), byte(i)}}
				var got Call
				if err := got.Decode(want.AppendTo(nil)); err != nil {
					errs <- err.Error()
					return
				}
				if got.Target != want.Target || got.Method != want.Method || string(got.Payload) != string(want.Payload) {
					errs <- "decoded " + got.Target + " " + got.Method + ", want " + want.Target + " " + want.Method
					return
				}
				var op StateOp
				if err := op.Decode((&StateOp{Key: want.Method}).AppendTo(nil)); err != nil || op.Key != want.Method {
					errs <- "state op decoded as " + op.Key + ", want " + want.Method
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
