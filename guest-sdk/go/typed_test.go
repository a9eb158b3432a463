package wactor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

// point is a hand-written codec type, as cmd/wactorgen would write it: a
// map {"x": int, "y": int}.
type point struct{ X, Y int64 }

func (p point) MarshalCBOR(dst []byte) []byte {
	dst = wactor.AppendMapHeader(dst, 2)
	dst = wactor.AppendInt(wactor.AppendText(dst, "x"), p.X)
	return wactor.AppendInt(wactor.AppendText(dst, "y"), p.Y)
}

func (p *point) UnmarshalCBOR(b []byte) error {
	var d wactor.Decoder
	d.Reset(b)
	*p = point{}
	for n := d.Map(); n > 0; n-- {
		switch string(d.Key()) {
		case "x":
			p.X = d.Int("x", 64)
		case "y":
			p.Y = d.Int("y", 64)
		default:
			d.Skip()
		}
	}
	return d.Finish()
}

// positive is a point that validates itself.
type positive struct{ point }

func (p *positive) UnmarshalCBOR(b []byte) error { return p.point.UnmarshalCBOR(b) }

func (p positive) Validate() error {
	if p.X <= 0 || p.Y <= 0 {
		return errors.New(`need positive integers "x" and "y"`)
	}
	return nil
}

func TestHandleTypedBuiltins(t *testing.T) {
	h := setup(t, "calc/1")
	wactor.HandleTyped("double", func(_ *wactor.Context, n wactor.Int) (wactor.Int, error) { return 2 * n, nil })
	wactor.HandleTyped("shout", func(_ *wactor.Context, s wactor.Text) (wactor.Text, error) {
		return wactor.Text(strings.ToUpper(string(s))), nil
	})
	wactor.HandleTyped("nothing", func(*wactor.Context, wactor.Empty) (wactor.Empty, error) { return wactor.Empty{}, nil })

	out, err := h.Call("double", abi.AppendInt(nil, 21))
	if err != nil || !bytes.Equal(out, abi.AppendInt(nil, 42)) {
		t.Errorf("double 21 = %x, %v", out, err)
	}
	out, err = h.Call("double", abi.AppendFloat(nil, 4)) // JSON 4.0
	if err != nil || !bytes.Equal(out, abi.AppendInt(nil, 8)) {
		t.Errorf("double 4.0 = %x, %v", out, err)
	}
	_, err = h.Call("double", abi.AppendText(nil, "x"))
	if e := wantCode(t, err, "bad_request"); e.Message != "double: expected an integer, found text string" {
		t.Errorf("message = %q", e.Message)
	}
	out, err = h.Call("shout", abi.AppendText(nil, "hi"))
	if err != nil || !bytes.Equal(out, abi.AppendText(nil, "HI")) {
		t.Errorf("shout = %x, %v", out, err)
	}
	if n, err := wactortest.Call[wactor.Int](h, "double", wactor.Int(5)); err != nil || n != 10 {
		t.Errorf("wactortest.Call double 5 = %d, %v", n, err)
	}
	out, err = h.Call("nothing", abi.AppendInt(nil, 1))
	if err != nil || out != nil {
		t.Errorf("nothing = %x, %v; want no payload", out, err)
	}
}

func TestHandleTypedStruct(t *testing.T) {
	h := setup(t, "geo/1")
	calls := 0
	wactor.HandleTyped("sum", func(_ *wactor.Context, p point) (wactor.Int, error) {
		calls++
		return wactor.Int(p.X + p.Y), nil
	})
	wactor.HandleTyped("area", func(_ *wactor.Context, p positive) (wactor.Int, error) {
		calls++
		return wactor.Int(p.X * p.Y), nil
	})
	wactor.HandleTyped("fail", func(*wactor.Context, wactor.Empty) (point, error) {
		return point{X: 1}, wactor.NewError("nope", "refused")
	})

	out, err := h.Call("sum", wactor.NewMap().Int("x", 2).Int("y", 3).Text("extra", "ignored").Encode())
	if err != nil || !bytes.Equal(out, abi.AppendInt(nil, 5)) {
		t.Errorf("sum = %x, %v", out, err)
	}
	if out, err := h.Call("sum", nil); err != nil || !bytes.Equal(out, abi.AppendInt(nil, 0)) {
		t.Errorf("sum of no payload = %x, %v; want 0 (an empty payload is {})", out, err)
	}
	for _, tc := range []struct {
		method  string
		payload []byte
		message string
	}{
		{"sum", wactor.NewMap().Text("x", "two").Encode(), `sum: field "x": expected an integer, found text string`},
		{"sum", abi.AppendInt(nil, 1), "payload is not a CBOR map with text keys: cbor: expected map, found unsigned integer at byte 0"},
		{"sum", append(wactor.NewMap().Int("x", 1).Encode(), 0), "trailing bytes after the payload"},
		{"area", wactor.NewMap().Int("x", 2).Encode(), `need positive integers "x" and "y"`},
		// A wrong type counts as absent: Validate's message wins.
		{"area", wactor.NewMap().Int("x", 2).Text("y", "3").Encode(), `need positive integers "x" and "y"`},
	} {
		calls = 0
		_, err := h.Call(tc.method, tc.payload)
		if e := wantCode(t, err, "bad_request"); e.Message != tc.message {
			t.Errorf("%s %x: message %q, want %q", tc.method, tc.payload, e.Message, tc.message)
		}
		if calls != 0 {
			t.Errorf("%s %x: the handler ran on a bad request", tc.method, tc.payload)
		}
	}
	if out, err := h.Call("area", wactor.NewMap().Int("x", 2).Int("y", 3).Encode()); err != nil || !bytes.Equal(out, abi.AppendInt(nil, 6)) {
		t.Errorf("area = %x, %v", out, err)
	}
	_, err = h.Call("fail", nil)
	wantCode(t, err, "nope")
}

func TestStateCell(t *testing.T) {
	h := setup(t, "counter/1")
	total := wactor.NewState[wactor.Int]("n")
	where := wactor.NewState[point]("where")
	wactor.HandleTyped("add", func(ctx *wactor.Context, n wactor.Int) (wactor.Int, error) {
		return total.Update(ctx, func(v wactor.Int) wactor.Int { return v + n })
	})
	wactor.HandleTyped("add_then_fail", func(ctx *wactor.Context, n wactor.Int) (wactor.Empty, error) {
		if _, err := total.Update(ctx, func(v wactor.Int) wactor.Int { return v + n }); err != nil {
			return wactor.Empty{}, err
		}
		return wactor.Empty{}, errors.New("after the write")
	})
	wactor.HandleTyped("move", func(ctx *wactor.Context, p point) (wactor.Bool, error) {
		_, had, err := where.Lookup(ctx)
		where.Set(ctx, p)
		return wactor.Bool(had), err
	})
	wactor.HandleTyped("reset", func(ctx *wactor.Context, _ wactor.Empty) (wactor.Empty, error) {
		total.Delete(ctx)
		where.Delete(ctx)
		return wactor.Empty{}, nil
	})

	for i, want := range []int64{2, 5} {
		out, err := h.Call("add", abi.AppendInt(nil, int64(2+i)))
		if err != nil || !bytes.Equal(out, abi.AppendInt(nil, want)) {
			t.Fatalf("add #%d = %x, %v; want %d", i, out, err, want)
		}
	}
	if _, err := h.Call("add_then_fail", abi.AppendInt(nil, 100)); err == nil {
		t.Fatal("add_then_fail succeeded")
	}
	if v, _ := h.State("n"); !bytes.Equal(v, abi.AppendInt(nil, 5)) {
		t.Errorf("state n = %x, want the integer 5: a failed turn commits nothing", v)
	}
	for i, want := range []bool{false, true} {
		out, err := h.Call("move", point{X: 1, Y: 2}.MarshalCBOR(nil))
		if err != nil || !bytes.Equal(out, abi.AppendBool(nil, want)) {
			t.Errorf("move #%d = %x, %v; want had=%v", i, out, err, want)
		}
	}
	if v, _ := h.State("where"); !bytes.Equal(v, point{X: 1, Y: 2}.MarshalCBOR(nil)) {
		t.Errorf("state where = %x", v)
	}

	// A stored value that does not decode is an error, not a zero.
	h.SetState("n", abi.AppendText(nil, "seven"))
	_, err := h.Call("add", abi.AppendInt(nil, 1))
	if e := wantCode(t, err, wactor.CodeError); !strings.Contains(e.Message, "state n does not decode") {
		t.Errorf("message = %q", e.Message)
	}

	if _, err := h.Call("reset", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.State("n"); ok {
		t.Error("n still set after Delete")
	}
	if _, ok := h.State("where"); ok {
		t.Error("where still set after Delete")
	}
}

func TestRef(t *testing.T) {
	r, err := wactor.ParseRef("account/a/b")
	if err != nil || r != (wactor.Ref{Type: "account", ID: "a/b"}) || r.String() != "account/a/b" {
		t.Errorf("ParseRef = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "noslash", "/id", "bad type/x"} {
		if _, err := wactor.ParseRef(bad); !errors.Is(err, wactor.ErrBadRequest) {
			t.Errorf("ParseRef(%q) err = %v, want bad_request", bad, err)
		}
	}
	if (wactor.Ref{}).String() != "" || !(wactor.Ref{}).IsZero() {
		t.Error("the zero Ref is not empty")
	}
	var back wactor.Ref
	if err := back.UnmarshalCBOR(r.MarshalCBOR(nil)); err != nil || back != r {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if err := back.UnmarshalCBOR(abi.AppendText(nil, "noslash")); err == nil {
		t.Error("a malformed ref decoded")
	}

	h := setup(t, "counter/a/b")
	wactor.HandleTyped("self", func(ctx *wactor.Context, _ wactor.Empty) (wactor.Ref, error) { return ctx.Self(), nil })
	out, err := h.Call("self", nil)
	if err != nil || !bytes.Equal(out, abi.AppendText(nil, "counter/a/b")) {
		t.Errorf("self = %q, %v", out, err)
	}
}

func TestTypedAskAndTell(t *testing.T) {
	h := setup(t, "caller/1")
	h.OnAsk(func(target, method string, p []byte) ([]byte, error) {
		if target == "geo/bad" {
			return abi.AppendText(nil, "not a point"), nil
		}
		var q point
		if err := q.UnmarshalCBOR(p); err != nil {
			return nil, err
		}
		return point{X: q.Y, Y: q.X}.MarshalCBOR(nil), nil
	})
	geo := wactor.Ref{Type: "geo", ID: "1"}
	wactor.HandleTyped("go", func(ctx *wactor.Context, _ wactor.Empty) (point, error) {
		if err := wactor.Tell(ctx, wactor.Ref{Type: "log", ID: "1"}, "note", wactor.Text("hi")); err != nil {
			return point{}, err
		}
		if err := wactor.Tell(ctx, geo, "ping", wactor.Empty{}); err != nil {
			return point{}, err
		}
		_, err := wactor.Ask[point](ctx, wactor.Ref{Type: "geo", ID: "bad"}, "swap", point{})
		if !errors.Is(err, wactor.ErrBadReply) {
			t.Errorf("ask with an undecodable reply: err = %v, want bad_reply", err)
		}
		return wactor.Ask[point](ctx, geo, "swap", point{X: 1, Y: 2})
	})
	out, err := h.Call("go", nil)
	if err != nil || !bytes.Equal(out, point{X: 2, Y: 1}.MarshalCBOR(nil)) {
		t.Fatalf("go = %x, %v", out, err)
	}
	tells := h.Tells()
	if len(tells) != 2 || tells[0].Target != "log/1" || !bytes.Equal(tells[0].Payload, abi.AppendText(nil, "hi")) ||
		tells[1].Target != "geo/1" || tells[1].Payload != nil {
		t.Errorf("tells = %+v; want a text to log/1 and no payload to geo/1", tells)
	}
}
