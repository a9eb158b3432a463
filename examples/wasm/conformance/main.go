// Command conformance is the Go SDK's ABI conformance actor. It implements
// the contract of docs/conformance.md, as the conformance actor of every
// other SDK does, and the test package conformance/ checks them all with
// the same scenarios.
//
//	echo                                        -> the payload, unchanged
//	fail {"code", "message"}                    -> that application error
//	set {"key", "value"}                        -> {}     stores value's CBOR
//	get {"key"}                                 -> {"value": v} or {}
//	delete {"key"}                              -> {}
//	set_then_fail {"key", "value"}              -> sets, then fails "refused"
//	tell {"to", "method", "payload"?}           -> {}
//	ask {"to", "method", "payload"?, "timeout_ms"?} -> {"reply": r}, or the callee's error
//	set_then_ask {"key", "value", "to", "method", "payload"?, "timeout_ms"?, "fail"?}
//	                                            -> sets, then as ask; fails with code "fail" if given
//	whoami                                      -> {"self", "sender", "id"}
//	log {"level", "message"}                    -> {}
//	deactivate                                  -> {}     and asks to be deactivated
//	sized {"size": n}                           -> {"data": n bytes, byte i being i mod 256}
//	timer {"name", "due_ms"?, "period_ms"?, "method", "payload"?}  -> {}
//	cancel_timer {"name"}                       -> {}
//	reminder {"name", one of "in_ms" | "at_unix_ms" | "every_ms" (+ "first_ms") | "cron",
//	          "method", "payload"?, "missed"?}  -> {}
//	cancel_reminder {"name"}                    -> {}
//	forward {"to", "method", "payload"?}        -> the reply of "to" to the forwarded ask
//
// Any other method is answered by the SDK with unknown_method.
package main

import (
	"time"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

// maxSized bounds sized's answer, so that a careless caller gets
// bad_request rather than a guest out of memory.
const maxSized = 16 << 20

func init() {
	wactor.Handle("echo", echo)
	wactor.Handle("fail", fail)
	wactor.Handle("set", set)
	wactor.Handle("get", get)
	wactor.Handle("delete", del)
	wactor.Handle("set_then_fail", setThenFail)
	wactor.Handle("tell", tell)
	wactor.Handle("ask", ask)
	wactor.Handle("set_then_ask", setThenAsk)
	wactor.Handle("whoami", whoami)
	wactor.Handle("log", logMsg)
	wactor.Handle("deactivate", deactivate)
	wactor.Handle("sized", sized)
	wactor.Handle("timer", timer)
	wactor.Handle("cancel_timer", cancelTimer)
	wactor.Handle("reminder", reminder)
	wactor.Handle("cancel_reminder", cancelReminder)
	wactor.Handle("forward", forward)
}

func main() {}

func empty() []byte { return wactor.NewMap().Encode() }

func badRequest(msg string) error { return wactor.NewError(wactor.CodeBadRequest, msg) }

// echo answers with the payload it got, byte for byte.
func echo(_ *wactor.Context, payload []byte) ([]byte, error) {
	if payload == nil {
		return nil, nil
	}
	return append([]byte{}, payload...), nil // payload is only valid during the call
}

func fail(_ *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	code, ok := doc.Text("code")
	if !ok || code == "" {
		return nil, badRequest(`fail needs a text "code"`)
	}
	msg, _ := doc.Text("message")
	return nil, wactor.NewError(code, msg)
}

// keyValue reads {"key": text, "value": any item}; value is nil when
// needValue is false.
func keyValue(method string, payload []byte, needValue bool) (string, []byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return "", nil, err
	}
	key, ok := doc.Text("key")
	if !ok {
		return "", nil, badRequest(method + ` needs a text "key"`)
	}
	if !needValue {
		return key, nil, nil
	}
	v := doc.Get("value")
	if !v.Exists() {
		return "", nil, badRequest(method + ` needs a "value"`)
	}
	return key, v.Raw(), nil
}

func set(ctx *wactor.Context, payload []byte) ([]byte, error) {
	key, value, err := keyValue("set", payload, true)
	if err != nil {
		return nil, err
	}
	ctx.Set(key, value)
	return empty(), nil
}

func get(ctx *wactor.Context, payload []byte) ([]byte, error) {
	key, _, err := keyValue("get", payload, false)
	if err != nil {
		return nil, err
	}
	v, ok := ctx.Get(key)
	if !ok {
		return empty(), nil
	}
	return wactor.NewMap().Raw("value", v).Encode(), nil
}

func del(ctx *wactor.Context, payload []byte) ([]byte, error) {
	key, _, err := keyValue("delete", payload, false)
	if err != nil {
		return nil, err
	}
	ctx.Delete(key)
	return empty(), nil
}

func setThenFail(ctx *wactor.Context, payload []byte) ([]byte, error) {
	key, value, err := keyValue("set_then_fail", payload, true)
	if err != nil {
		return nil, err
	}
	ctx.Set(key, value)
	return nil, wactor.NewError("refused", "set_then_fail wrote "+key+" and refused")
}

// addressed reads {key: text, "method": text, "payload": any item?}: the
// target of tell and ask (key "to"), the name of timer and reminder.
func addressed(method, key string, doc wactor.Doc) (to, m string, body []byte, err error) {
	to, ok := doc.Text(key)
	if !ok {
		return "", "", nil, badRequest(method + ` needs a text "` + key + `"`)
	}
	m, ok = doc.Text("method")
	if !ok {
		return "", "", nil, badRequest(method + ` needs a text "method"`)
	}
	return to, m, doc.Get("payload").Raw(), nil
}

func tell(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, method, body, err := addressed("tell", "to", doc)
	if err != nil {
		return nil, err
	}
	if err := ctx.Tell(to, method, body); err != nil {
		return nil, err
	}
	return empty(), nil
}

// forward passes the ask on: the reply of "to" answers the asker.
func forward(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, method, body, err := addressed("forward", "to", doc)
	if err != nil {
		return nil, err
	}
	if err := ctx.Forward(to, method, body); err != nil {
		return nil, err
	}
	return empty(), nil // dropped: the forward answers
}

func ask(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, method, body, err := addressed("ask", "to", doc)
	if err != nil {
		return nil, err
	}
	var timeout time.Duration
	if doc.Has("timeout_ms") {
		ms, ok := doc.Int("timeout_ms")
		if !ok || ms < 0 {
			return nil, badRequest(`ask's "timeout_ms" must be an integer >= 0`)
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	reply, err := ctx.Ask(to, method, body, timeout)
	if err != nil {
		return nil, err // the callee's or the host's error, code and message unchanged
	}
	if len(reply) == 0 {
		return wactor.NewMap().Null("reply").Encode(), nil
	}
	return wactor.NewMap().Raw("reply", reply).Encode(), nil
}

// setThenAsk stores "value" under "key", as set does, then asks as ask
// does; when the ask succeeded and "fail" is present, it fails with that
// code. (The Go SDK cannot be re-entered, so no ask on this turn's chain
// ever sees the stored item while the turn waits: a type of this module is
// never reentrant.)
func setThenAsk(ctx *wactor.Context, payload []byte) ([]byte, error) {
	key, value, err := keyValue("set_then_ask", payload, true)
	if err != nil {
		return nil, err
	}
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	code, failing := doc.Text("fail")
	if doc.Has("fail") && (!failing || code == "") {
		return nil, badRequest(`set_then_ask's "fail" must be a non-empty text, if any`)
	}
	ctx.Set(key, value)
	reply, err := ask(ctx, payload)
	if err != nil {
		return nil, err
	}
	if failing {
		return nil, wactor.NewError(code, "set_then_ask was told to fail after its ask")
	}
	return reply, nil
}

func whoami(ctx *wactor.Context, _ []byte) ([]byte, error) {
	return wactor.NewMap().
		Text("self", ctx.Self().String()).
		Text("sender", ctx.Sender()).
		Text("id", ctx.MessageID()).
		Encode(), nil
}

func logMsg(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	level, ok := doc.Int("level")
	if !ok {
		return nil, badRequest(`log needs an integer "level"`)
	}
	msg, ok := doc.Text("message")
	if !ok {
		return nil, badRequest(`log needs a text "message"`)
	}
	ctx.Log(wactor.Level(level), msg)
	return empty(), nil
}

func deactivate(ctx *wactor.Context, _ []byte) ([]byte, error) {
	ctx.Deactivate()
	return empty(), nil
}

func sized(_ *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	n, ok := doc.Int("size")
	if !ok || n < 0 || n > maxSized {
		return nil, badRequest(`sized needs an integer "size" from 0 to 16777216`)
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i)
	}
	return wactor.NewMap().Bytes("data", data).Encode(), nil
}

// millis reads the optional non-negative integer key as a duration.
func millis(doc wactor.Doc, key string) (time.Duration, error) {
	if !doc.Has(key) {
		return 0, nil
	}
	ms, ok := doc.Int(key)
	if !ok || ms < 0 {
		return 0, badRequest(`"` + key + `" must be an integer >= 0`)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func timer(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	name, method, body, err := addressed("timer", "name", doc)
	if err != nil {
		return nil, err
	}
	due, err := millis(doc, "due_ms")
	if err != nil {
		return nil, err
	}
	period, err := millis(doc, "period_ms")
	if err != nil {
		return nil, err
	}
	if err := ctx.SetTimer(name, due, period, method, body); err != nil {
		return nil, err
	}
	return empty(), nil
}

// nameOf reads the "name" of cancel_timer and cancel_reminder.
func nameOf(method string, payload []byte) (string, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return "", err
	}
	name, ok := doc.Text("name")
	if !ok {
		return "", badRequest(method + ` needs a text "name"`)
	}
	return name, nil
}

func cancelTimer(ctx *wactor.Context, payload []byte) ([]byte, error) {
	name, err := nameOf("cancel_timer", payload)
	if err != nil {
		return nil, err
	}
	if err := ctx.CancelTimer(name); err != nil {
		return nil, err
	}
	return empty(), nil
}

// schedule builds the reminder's schedule from its one schedule key; the
// Go SDK's API cannot express two, so two are refused here.
func schedule(doc wactor.Doc) (wactor.Schedule, error) {
	var s wactor.Schedule
	n := 0
	for _, key := range []string{"in_ms", "at_unix_ms", "every_ms", "cron"} {
		if doc.Has(key) {
			n++
		}
	}
	if n > 1 {
		return s, badRequest("reminder takes at most one of in_ms, at_unix_ms, every_ms and cron")
	}
	in, err := millis(doc, "in_ms")
	if err != nil {
		return s, err
	}
	at, err := millis(doc, "at_unix_ms")
	if err != nil {
		return s, err
	}
	every, err := millis(doc, "every_ms")
	if err != nil {
		return s, err
	}
	switch cron, isCron := doc.Text("cron"); {
	case isCron:
		s = wactor.Cron(cron)
	case doc.Has("cron"):
		return s, badRequest(`"cron" must be a text`)
	case doc.Has("at_unix_ms"):
		s = wactor.At(time.UnixMilli(at.Milliseconds()))
	case doc.Has("every_ms"):
		s = wactor.Every(every)
		if doc.Has("first_ms") {
			first, err := millis(doc, "first_ms")
			if err != nil {
				return s, err
			}
			s = s.StartingIn(first)
		}
	default:
		s = wactor.In(in)
	}
	if missed, ok := doc.Text("missed"); ok {
		s = s.OnMissed(wactor.MissedPolicy(missed))
	}
	return s, nil
}

func reminder(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	name, method, body, err := addressed("reminder", "name", doc)
	if err != nil {
		return nil, err
	}
	s, err := schedule(doc)
	if err != nil {
		return nil, err
	}
	if err := ctx.SetReminder(name, s, method, body); err != nil {
		return nil, err
	}
	return empty(), nil
}

func cancelReminder(ctx *wactor.Context, payload []byte) ([]byte, error) {
	name, err := nameOf("cancel_reminder", payload)
	if err != nil {
		return nil, err
	}
	if err := ctx.CancelReminder(name); err != nil {
		return nil, err
	}
	return empty(), nil
}
