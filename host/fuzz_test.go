package host

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage/memstore"
)

// fuzzHost starts a host with the C counter and the raw-ABI hostile actor
// (examples/wasm/c/hostile), closed when f ends.
func fuzzHost(f *testing.F, maxMessage int64) *Host {
	f.Helper()
	ctx := context.Background()
	h, err := New(ctx, Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(f)})
	if err != nil {
		f.Fatal(err)
	}
	for _, tc := range []TypeConfig{
		{Name: "counter", Module: testwasm.C(f, "counter"), MaxMessage: maxMessage, TurnTimeout: time.Second},
		{Name: "hostile-c", Module: testwasm.C(f, "hostile"), MaxMessage: maxMessage, TurnTimeout: time.Second},
	} {
		if err := h.Deploy(ctx, tc); err != nil {
			f.Fatal(err)
		}
	}
	if err := h.Start(ctx); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			f.Error(err)
		}
	})
	return h
}

// FuzzReplyEnvelope feeds random bytes to the host as a guest's reply
// envelope: the raw-ABI hostile actor returns whatever it is sent. The
// host must never panic, and must classify every outcome: the reply's
// payload when the bytes are a valid Reply, the guest's own code when they
// carry one, bad_reply when they are malformed.
func FuzzReplyEnvelope(f *testing.F) {
	const maxMessage = 2048
	h := fuzzHost(f, maxMessage)
	for _, seed := range [][]byte{
		{0xa0},                                   // {}: success, no payload
		{0xa1, 0x01, 0x41, 0xa0},                 // {1: h'a0'}
		{0xa2, 0x02, 0x61, 'x', 0x03, 0x61, 'y'}, // an application error
		{0xa1, 0x01, 0x58, 0x40, 0x00},           // a byte string cut short
		{0xff}, {}, {0xa1}, {0xbf, 0xff}, {0xa1, 0x02, 0x62, 0xff, 0xfe},
		(&abi.Reply{Payload: []byte{0x01}, Code: "", Message: "m"}).AppendTo(nil),
	} {
		f.Add(seed)
	}
	ref := abi.Ref{Type: "hostile-c", ID: "fuzz"}
	f.Fuzz(func(t *testing.T, env []byte) {
		if len(env) > maxMessage-16 {
			return // the request itself must fit the limit
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		got, err := h.Ask(ctx, ref, "echo_reply", abi.AppendBytes(nil, env))
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("reply %x took %v: %x, %v", env, d, got, err)
		}
		var want abi.Reply
		derr := want.Decode(env)
		var e *abi.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %T without a code: %v", err, err)
		}
		switch {
		case derr != nil:
			if e == nil || e.Code != abi.CodeBadReply {
				t.Fatalf("malformed reply %x (%v): got %x, %v; want bad_reply", env, derr, got, err)
			}
		case want.Code != "":
			if e == nil || e.Code != want.Code {
				t.Fatalf("reply %x with code %q: got %x, %v", env, want.Code, got, err)
			}
		default:
			if err != nil || !bytes.Equal(got, want.Payload) {
				t.Fatalf("reply %x: got %x, %v; want %x", env, got, err, want.Payload)
			}
		}
	})
}

// fuzzCalls are the host functions FuzzHostCall drives, by index.
var fuzzCalls = []struct {
	name string
	call hostCall
}{
	{abi.ImportTell, (*turn).tell},
	{abi.ImportAsk, (*turn).ask},
	{abi.ImportStateGet, (*turn).stateGet},
	{abi.ImportStateSet, (*turn).stateSet},
	{abi.ImportStateDelete, (*turn).stateDelete},
	{abi.ImportSelf, (*turn).self},
	{abi.ImportLog, (*turn).log},
	{abi.ImportDeactivate, (*turn).deactivateCall},
	{abi.ImportTimerSet, (*turn).timerSet},
	{abi.ImportTimerCancel, (*turn).timerCancel},
	{abi.ImportReminderSet, (*turn).reminderSet},
	{abi.ImportReminderCancel, (*turn).reminderCancel},
}

// FuzzHostCall feeds random bytes as the argument of each host function,
// on a turn of a real host. A host function may only return a status
// (with, for ERROR, a well-formed error envelope carrying a code) or abort
// the guest with a *violation, which fails the turn with bad_reply; any
// other panic is a bug.
func FuzzHostCall(f *testing.F) {
	h := fuzzHost(f, 4096)
	for i, seed := range [][]byte{
		(&abi.Call{Target: "counter/a", Method: "get"}).AppendTo(nil),
		(&abi.Call{Target: "counter/a", Method: "add", Payload: []byte{0xa1, 0x61, 'n', 0x01}, TimeoutMS: 50}).AppendTo(nil),
		(&abi.Call{Target: "hostile-c/x", Method: "unreachable"}).AppendTo(nil),
		(&abi.Call{Target: "nosuch/a", Method: "m"}).AppendTo(nil),
		(&abi.StateOp{Key: "k", Value: []byte{1}}).AppendTo(nil),
		(&abi.StateOp{Key: "k"}).AppendTo(nil),
		(&abi.LogRecord{Level: 9, Message: "hi"}).AppendTo(nil),
		(&abi.Timer{Name: "t", DueMS: 1, Method: "get"}).AppendTo(nil),
		(&abi.Cancel{Name: "t"}).AppendTo(nil),
		(&abi.Reminder{Name: "r", InMS: 1000, Method: "get"}).AppendTo(nil),
		{0xa2, 0x01}, {0xff}, {},
	} {
		for which := range fuzzCalls {
			if i < 12 || which%3 == 0 {
				f.Add(uint8(which), seed)
			}
		}
	}
	ref := abi.Ref{Type: "counter", ID: "fuzz"}
	f.Fuzz(func(t *testing.T, which uint8, arg []byte) {
		c := fuzzCalls[int(which)%len(fuzzCalls)]
		d := h.types["counter"].current()
		a := &activation{h: h, typ: h.types["counter"], ref: ref, state: map[string][]byte{"k": {0x01}}}
		tn := &turn{a: a, cfg: &d.cfg, msg: &scheduler.Message{ID: "m1", Target: ref, Method: "get"}, kind: abi.KindMessage,
			deadline: monotonic() + time.Minute}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tn.ctx = context.WithValue(ctx, turnKey{}, tn)

		status, res, v := callGuarded(tn, c.call, bytes.Clone(arg))
		if v != nil {
			if v.msg == "" {
				t.Fatalf("%s(%x): a violation without a message", c.name, arg)
			}
			return // the turn fails with bad_reply
		}
		switch status {
		case abi.StatusOK, abi.StatusNotFound:
		case abi.StatusError:
			e, err := abi.DecodeError(res)
			if err != nil || e.Code == "" {
				t.Fatalf("%s(%x): error result %x does not decode to a code: %v", c.name, arg, res, err)
			}
		default:
			t.Fatalf("%s(%x): unknown status %d", c.name, arg, status)
		}
	})
}

// callGuarded runs a host function as wrap does, returning the violation
// it aborted with, if any. Any other panic propagates and fails the fuzz.
func callGuarded(t *turn, call hostCall, arg []byte) (status abi.Status, res []byte, v *violation) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if v, ok = r.(*violation); !ok {
				panic(r)
			}
		}
	}()
	status, res = call(t, arg)
	return status, res, nil
}
