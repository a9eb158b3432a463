package wactor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

// setup registers a fresh actor and returns a host for it.
func setup(t *testing.T, self string) *wactortest.Host {
	t.Helper()
	wactor.Reset()
	t.Cleanup(wactor.Reset)
	return wactortest.New(t, self)
}

func wantCode(t *testing.T, err error, code string) *wactor.Error {
	t.Helper()
	var e *wactor.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want an *Error with code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %q (message %q), want %q", e.Code, e.Message, code)
	}
	return e
}

func TestHandlerReplies(t *testing.T) {
	h := setup(t, "echo/1")
	wactor.Handle("echo", func(ctx *wactor.Context, p []byte) ([]byte, error) { return p, nil })
	wactor.Handle("nothing", func(ctx *wactor.Context, p []byte) ([]byte, error) { return nil, nil })

	in := wactor.NewMap().Int("n", 7).Encode()
	out, err := h.Call("echo", in)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("echo = %x, %v; want %x", out, err, in)
	}
	out, err = h.Call("nothing", nil)
	if err != nil || out != nil {
		t.Fatalf("nothing = %x, %v; want no payload", out, err)
	}
}

func TestErrorReplies(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"application error", wactor.NewError("insufficient_funds", "balance 3 < 5"), "insufficient_funds", "balance 3 < 5"},
		{"bad request", wactor.NewError(wactor.CodeBadRequest, "n missing"), "bad_request", "n missing"},
		{"empty code", wactor.NewError("", "oops"), "error", "oops"},
		{"plain error", errors.New("disk on fire"), "error", "disk on fire"},
		{"wrapped *Error", wrap{"transfer: ", wactor.NewError("deadlock", "cycle")}, "deadlock", "transfer: deadlock: cycle"},
		{"wrapped plain error", wrap{"transfer: ", errors.New("x")}, "error", "transfer: x"},
		{"typed nil", (*wactor.Error)(nil), "error", "wactor: the handler returned a nil *wactor.Error as a non-nil error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := setup(t, "e/1")
			wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
				ctx.Set("k", []byte{1})
				if err := ctx.Tell("other/1", "x", nil); err != nil {
					t.Fatal(err)
				}
				return []byte{0xf6}, tt.err
			})
			_, err := h.Call("m", nil)
			e := wantCode(t, err, tt.code)
			if e.Message != tt.message {
				t.Errorf("message = %q, want %q", e.Message, tt.message)
			}
			if _, ok := h.State("k"); ok {
				t.Error("a failed turn committed its state write")
			}
			if len(h.Tells()) != 0 {
				t.Error("a failed turn committed its tell")
			}
		})
	}
}

type wrap struct {
	prefix string
	err    error
}

func (w wrap) Error() string { return w.prefix + w.err.Error() }
func (w wrap) Unwrap() error { return w.err }

func TestUnknownMethod(t *testing.T) {
	h := setup(t, "a/1")
	wactor.Handle("get", func(*wactor.Context, []byte) ([]byte, error) { return nil, nil })
	wactor.Handle("add", func(*wactor.Context, []byte) ([]byte, error) { return nil, nil })
	_, err := h.Call("sub", nil)
	e := wantCode(t, err, abi.CodeUnknownMethod)
	if !strings.Contains(e.Message, `"sub"`) || !strings.Contains(e.Message, "add, get") {
		t.Errorf("message %q should name the method and the known ones", e.Message)
	}
	if !errors.Is(err, wactor.ErrUnknownMethod) {
		t.Error("errors.Is(err, ErrUnknownMethod) = false")
	}
}

func TestHooks(t *testing.T) {
	h := setup(t, "a/1")
	// Without hooks, activation and deactivation succeed silently, and
	// wactor_activate_hook tells the host so.
	if got := wactor.ActivateHookAnswer(); got != abi.ActivateHookNone {
		t.Errorf("wactor_activate_hook = %d without an activate hook, want %d", got, abi.ActivateHookNone)
	}
	if err := h.Activate(); err != nil {
		t.Fatal(err)
	}
	if err := h.Deactivate(); err != nil {
		t.Fatal(err)
	}

	var calls []string
	wactor.OnActivate(func(ctx *wactor.Context) error {
		calls = append(calls, "activate "+ctx.Self().String())
		ctx.Set("activated", []byte{0xf5})
		return nil
	})
	wactor.OnDeactivate(func(ctx *wactor.Context) error {
		calls = append(calls, "deactivate")
		return wactor.NewError("busy", "not now")
	})
	if got := wactor.ActivateHookAnswer(); got == abi.ActivateHookNone {
		t.Errorf("wactor_activate_hook = %d with an activate hook", got)
	}
	if err := h.Activate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.State("activated"); !ok {
		t.Error("the activate hook's write was not committed")
	}
	wantCode(t, h.Deactivate(), "busy")
	if strings.Join(calls, ",") != "activate a/1,deactivate" {
		t.Errorf("calls = %q", calls)
	}
}

func TestStateIsTransactional(t *testing.T) {
	h := setup(t, "s/1")
	h.SetState("old", []byte{1})
	h.SetState("gone", []byte{2})
	wactor.Handle("write", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		ctx.Set("new", []byte{3})
		ctx.Set("empty", nil)
		ctx.Delete("gone")
		ctx.Delete("never-existed")
		if v, ok := ctx.Get("new"); !ok || !bytes.Equal(v, []byte{3}) {
			t.Errorf("Get(new) = %x, %v; the turn must read its own write", v, ok)
		}
		if _, ok := ctx.Get("gone"); ok {
			t.Error("Get(gone) found a key the turn deleted")
		}
		if v, ok := ctx.Get("old"); !ok || !bytes.Equal(v, []byte{1}) {
			t.Errorf("Get(old) = %x, %v", v, ok)
		}
		if v, ok := ctx.Get("empty"); !ok || len(v) != 0 {
			t.Errorf("Get(empty) = %x, %v; want an empty, present value", v, ok)
		}
		return nil, nil
	})
	if _, err := h.Call("write", nil); err != nil {
		t.Fatal(err)
	}
	if v, ok := h.State("new"); !ok || !bytes.Equal(v, []byte{3}) {
		t.Errorf("new = %x, %v", v, ok)
	}
	if _, ok := h.State("gone"); ok {
		t.Error("gone survived its delete")
	}
}

func TestRefusedStateOpFailsTheTurn(t *testing.T) {
	h := setup(t, "s/1")
	wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		ctx.Set("ok", []byte{1})
		ctx.Set(strings.Repeat("k", abi.MaxKeyLen+1), []byte{2}) // the host refuses a key this long
		if ctx.Err() == nil {
			t.Error("Err() = nil after a refused Set")
		}
		return []byte{0xa0}, nil // the handler claims success anyway
	})
	_, err := h.Call("m", nil)
	wantCode(t, err, abi.CodeTooLarge)
	if _, ok := h.State("ok"); ok {
		t.Error("a turn with a refused write committed the others")
	}
}

func TestTellAndAsk(t *testing.T) {
	h := setup(t, "caller/1")
	h.OnAsk(func(target, method string, p []byte) ([]byte, error) {
		switch target {
		case "bank/1":
			return wactor.NewMap().Int("balance", 3).Encode(), nil
		case "bank/2":
			return nil, wactor.NewError("insufficient_funds", "no")
		}
		return nil, errors.New("boom")
	})
	wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		if err := ctx.Tell("log/1", "note", []byte{0x01}); err != nil {
			return nil, err
		}
		if err := ctx.Tell("no-slash", "note", nil); !errors.Is(err, wactor.ErrBadRequest) {
			t.Errorf("Tell to a bad ref: err = %v, want bad_request", err)
		}
		out, err := ctx.Ask("bank/1", "balance", nil, 1500*time.Microsecond)
		if err != nil {
			return nil, err
		}
		if n, _ := mustDoc(t, out).Int("balance"); n != 3 {
			t.Errorf("balance = %d", n)
		}
		_, err = ctx.Ask("bank/2", "withdraw", nil, 0)
		if e := wantCode(t, err, "insufficient_funds"); e.Message != "no" {
			t.Errorf("message = %q", e.Message)
		}
		_, err = ctx.Ask("bank/3", "x", nil, 0)
		wantCode(t, err, "error")
		_, err = ctx.Ask(ctx.Self().String(), "m", nil, 0)
		if !errors.Is(err, wactor.ErrDeadlock) {
			t.Errorf("ask to self: err = %v, want deadlock", err)
		}
		return nil, nil
	})
	if _, err := h.Call("m", nil); err != nil {
		t.Fatal(err)
	}
	tells := h.Tells()
	if len(tells) != 1 || tells[0].Target != "log/1" || tells[0].Method != "note" || !bytes.Equal(tells[0].Payload, []byte{1}) {
		t.Errorf("tells = %+v", tells)
	}
	asks := h.Asks()
	if len(asks) != 4 || asks[0].TimeoutMS != 2 || asks[1].TimeoutMS != 0 {
		t.Errorf("asks = %+v; want 4, the first with a 2 ms timeout (rounded up)", asks)
	}
}

func mustDoc(t *testing.T, p []byte) wactor.Doc {
	t.Helper()
	d, err := wactor.ParseDoc(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContextIdentity(t *testing.T) {
	h := setup(t, "who/me")
	var saved *wactor.Context
	wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		saved = ctx
		return wactor.NewMap().
			Text("self", ctx.Self().String()).
			Text("sender", ctx.Sender()).
			Text("id", ctx.MessageID()).
			Text("method", ctx.Method()).
			Encode(), nil
	})
	out, err := h.CallFrom("other/x", "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := mustDoc(t, out)
	for key, want := range map[string]string{"self": "who/me", "sender": "other/x", "method": "m"} {
		if got, _ := d.Text(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if id, _ := d.Text("id"); id == "" {
		t.Error("empty message id")
	}

	// The Context dies with its turn.
	if err := saved.Tell("a/b", "m", nil); !errors.Is(err, wactor.ErrUnavailable) {
		t.Errorf("Tell after the turn: err = %v, want unavailable", err)
	}
}

func TestLogAndDeactivate(t *testing.T) {
	h := setup(t, "l/1")
	wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		ctx.Debug("d")
		ctx.Info("i")
		ctx.Warn("w")
		ctx.Error("e")
		ctx.Deactivate()
		return nil, nil
	})
	if _, err := h.Call("m", nil); err != nil {
		t.Fatal(err)
	}
	logs := h.Logs()
	if len(logs) != 4 || logs[0].Level != abi.LevelDebug || logs[3].Level != abi.LevelError || logs[3].Message != "e" {
		t.Errorf("logs = %+v", logs)
	}
	if !h.DeactivateRequested() {
		t.Error("Deactivate was not recorded")
	}
}

func TestReentrantTurnKeepsOuterPayload(t *testing.T) {
	h := setup(t, "r/1")
	wactor.Handle("outer", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		before := append([]byte{}, p...)
		if _, err := ctx.Ask("peer/1", "x", nil, 0); err != nil {
			return nil, err
		}
		if !bytes.Equal(p, before) {
			t.Errorf("payload changed during the ask: %x, was %x", p, before)
		}
		return p, nil
	})
	wactor.Handle("inner", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		return wactor.NewMap().Text("inner", "reply that is long enough to matter").Encode(), nil
	})
	// The peer calls back into this actor while its outer turn waits.
	h.OnAsk(func(target, method string, p []byte) ([]byte, error) {
		return h.CallFrom(target, "inner", wactor.NewMap().Text("x", strings.Repeat("z", 64)).Encode())
	})
	in := wactor.NewMap().Int("outer", 1).Encode()
	out, err := h.Call("outer", in)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("outer = %x, %v; want %x", out, err, in)
	}
}

func TestMalformedRequest(t *testing.T) {
	setup(t, "a/1")
	var reply abi.Reply
	if err := reply.Decode(hostlink.Handle([]byte{0xff})); err != nil {
		t.Fatal(err)
	}
	if reply.Code != abi.CodeBadRequest {
		t.Errorf("reply = %+v, want bad_request", reply)
	}
}

func TestNoHost(t *testing.T) {
	wactor.Reset()
	t.Cleanup(wactor.Reset)
	var err error
	wactor.Handle("m", func(ctx *wactor.Context, p []byte) ([]byte, error) {
		err = ctx.Tell("a/b", "m", nil)
		return nil, nil
	})
	req := abi.Request{Kind: abi.KindMessage, Method: "m"}
	hostlink.Handle(req.AppendTo(nil))
	if !errors.Is(err, wactor.ErrUnavailable) || !strings.Contains(err.Error(), "wactortest.New") {
		t.Errorf("err = %v, want unavailable pointing at wactortest.New", err)
	}
}

func TestHandlePanicsOnMisuse(t *testing.T) {
	wactor.Reset()
	t.Cleanup(wactor.Reset)
	fn := func(*wactor.Context, []byte) ([]byte, error) { return nil, nil }
	wactor.Handle("m", fn)
	for name, f := range map[string]func(){
		"duplicate":    func() { wactor.Handle("m", fn) },
		"empty method": func() { wactor.Handle("", fn) },
		"nil handler":  func() { wactor.Handle("x", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}
