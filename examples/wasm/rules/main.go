// Command rules runs scripts of host calls, so that one table of scenarios
// (package github.com/wactor/wactor/abi/ruletest) checks that the real host
// and the native test kit wactortest apply the same rules. Its tests run
// the table natively; the host's tests run it against this actor compiled
// to WebAssembly.
//
//	run {"ops": [op, ...]} -> {}, or the first refusal as "op I #R: ..."
//	noop                   -> nothing; accepts any payload
package main

import (
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

// maxRepeat bounds an op's repetitions, so that a careless script gets
// bad_request rather than a turn that never ends.
const maxRepeat = 100_000

func init() {
	wactor.Handle("run", run)
	wactor.Handle("noop", func(*wactor.Context, []byte) ([]byte, error) { return nil, nil })
}

func main() {}

// op is one decoded op of a script.
type op struct {
	doc    wactor.Doc
	kind   string
	size   int
	repeat int
}

func run(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	ops, ok := doc.Array("ops")
	if !ok {
		return nil, wactor.NewError(wactor.CodeBadRequest, `run needs an array "ops"`)
	}
	for i, v := range ops.All() {
		d, ok := v.Map()
		if !ok {
			return nil, wactor.NewError(wactor.CodeBadRequest, "op "+strconv.Itoa(i)+" is not a map")
		}
		o := op{doc: d, kind: text(d, "op"), size: int(num(d, "size")), repeat: max(int(num(d, "repeat")), 1)}
		if o.repeat > maxRepeat || o.size > 64<<20 {
			return nil, wactor.NewError(wactor.CodeBadRequest, "op "+strconv.Itoa(i)+" repeats too often or is too large")
		}
		for r := range o.repeat {
			if err := o.do(ctx, r); err != nil {
				code := wactor.CodeError
				if e, ok := err.(*wactor.Error); ok {
					code = e.Code
				}
				return nil, wactor.NewError(code, "op "+strconv.Itoa(i)+" #"+strconv.Itoa(r)+": "+message(err))
			}
		}
	}
	return wactor.NewMap().Encode(), nil
}

// do runs repetition r of the op, as one raw host call: what the script
// says reaches the host as it is, with no check of the SDK in between.
func (o op) do(ctx *wactor.Context, r int) error {
	d := o.doc
	name := o.named(text(d, "name"), "name_len", 'n', r)
	method := o.named(text(d, "method"), "method_len", 'm', -1)
	key := o.named(text(d, "key"), "key_len", 'k', r)
	var fn string
	var arg []byte
	switch o.kind {
	case "set":
		fn, arg = abi.ImportStateSet, (&abi.StateOp{Key: key, Value: make([]byte, o.size)}).AppendTo(nil)
	case "get":
		v, found, err := ctx.HostCall(abi.ImportStateGet, (&abi.StateOp{Key: key}).AppendTo(nil))
		if err != nil {
			return err
		}
		want, _ := d.Int("want")
		if got := int64(len(v)); !found && want != -1 || found && got != want {
			return wactor.NewError("mismatch", "want a value of "+strconv.FormatInt(want, 10)+" bytes, found "+
				strconv.FormatBool(found)+" with "+strconv.FormatInt(got, 10))
		}
		return nil
	case "delete":
		fn, arg = abi.ImportStateDelete, (&abi.StateOp{Key: key}).AppendTo(nil)
	case "tell", "ask":
		fn = abi.ImportTell
		if o.kind == "ask" {
			fn = abi.ImportAsk
		}
		arg = (&abi.Call{Target: target(ctx, text(d, "target")), Method: method, Payload: sized(o.size)}).AppendTo(nil)
	case "log":
		fn, arg = abi.ImportLog, (&abi.LogRecord{Level: abi.LevelInfo, Message: text(d, "message")}).AppendTo(nil)
	case "timer":
		fn, arg = abi.ImportTimerSet, (&abi.Timer{Name: name, DueMS: num(d, "due_ms"), PeriodMS: num(d, "period_ms"),
			Method: method, Payload: sized(o.size)}).AppendTo(nil)
	case "cancel_timer":
		fn, arg = abi.ImportTimerCancel, (&abi.Cancel{Name: name}).AppendTo(nil)
	case "reminder":
		fn, arg = abi.ImportReminderSet, (&abi.Reminder{Name: name, InMS: num(d, "in_ms"), AtUnixMS: num(d, "at_unix_ms"),
			EveryMS: num(d, "every_ms"), FirstMS: num(d, "first_ms"), Cron: text(d, "cron"),
			Method: method, Payload: sized(o.size), Missed: text(d, "missed")}).AppendTo(nil)
	case "cancel_reminder":
		fn, arg = abi.ImportReminderCancel, (&abi.Cancel{Name: name}).AppendTo(nil)
	case "fail":
		return wactor.NewError("refused", "the script fails the turn here")
	default:
		return wactor.NewError(wactor.CodeBadRequest, "unknown op "+strconv.Quote(o.kind))
	}
	_, _, err := ctx.HostCall(fn, arg)
	return err
}

// named returns s, or that many c's when the op has a length field; a
// repeated op's repetition r gets "-r" appended (r < 0: never).
func (o op) named(s, lenKey string, c byte, r int) string {
	if n := num(o.doc, lenKey); n > 0 {
		s = strings.Repeat(string(c), int(min(n, 1<<20)))
	}
	if o.repeat > 1 && r >= 0 {
		s += "-" + strconv.Itoa(r)
	}
	return s
}

func target(ctx *wactor.Context, t string) string {
	if t == "@self" {
		return ctx.Self().String()
	}
	return t
}

// sized returns a CBOR byte string whose encoding is n bytes long (nil for
// 0).
func sized(n int) []byte {
	if n <= 0 {
		return nil
	}
	for _, head := range []int{1, 2, 3, 5, 9} {
		body := n - head
		if body < 0 {
			continue
		}
		b := abi.AppendBytes(nil, make([]byte, body))
		if len(b) == n {
			return b
		}
	}
	return make([]byte, n) // no byte string is exactly n bytes: raw bytes
}

func text(d wactor.Doc, key string) string {
	s, _ := d.Text(key)
	return s
}

func num(d wactor.Doc, key string) uint64 {
	n, _ := d.Int(key)
	return uint64(max(n, 0))
}

func message(err error) string {
	if e, ok := err.(*wactor.Error); ok {
		return e.Message
	}
	return err.Error()
}
