// Package ruletest is the table of scenarios that holds the host and the
// native test kits to the same rules: each scenario is a few turns of the
// rules actor (examples/wasm/rules), each turn a script of host calls
// (state, tell, ask, timers, reminders) and the outcome the host must give,
// down to the call that is refused. The host's tests run the table against
// the real host and the actor compiled to WebAssembly; the actor's own
// tests run it against the Go SDK's native kit, wactortest. A rule that the
// two apply differently fails one of them.
//
// The rules actor has one method, "run", whose payload is a script
// (Turn.Payload): {"ops": [op, ...]}, each op a map with text keys. It runs
// the ops in order, each Repeat times, and stops at the first one refused,
// failing the turn with that error's code and the message "op I #R: ..."
// (I the op's index, R the repetition), the rest being the host's own
// message. Each op is one raw host call (wactor.Context.HostCall), so what
// the script says reaches the host unchecked by the SDK. It answers {} when
// every op succeeded.
package ruletest

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
)

// Self as an op's Target is the actor running the script.
const Self = "@self"

// Sink is the target of tells in the table: a rules actor, whose "noop"
// method accepts anything.
const Sink = "rules/sink"

// CodeRefused is the code of the "fail" op: the actor fails the turn on
// purpose, after the ops before it succeeded, so that nothing is committed.
const CodeRefused = "refused"

// CodeMismatch is the code of a "get" whose value is not what Want says.
const CodeMismatch = "mismatch"

// Op is one host call, or a check, of a script. Zero fields are left out of
// its encoding.
type Op struct {
	// Op is set, get, delete, tell, ask, log, timer, cancel_timer,
	// reminder, cancel_reminder, or fail.
	Op string
	// Key of a state op; KeyLen > 0 makes it that many 'k's instead.
	Key    string
	KeyLen int
	// Size is the length of the state value (raw bytes) or of the payload
	// (a CBOR byte string whose encoding is exactly Size bytes); 0: none.
	Size int
	// Want is what a get must find: -1 nothing, otherwise a value of Want
	// bytes.
	Want int
	// Target of a tell or ask (Self, Sink, or any text).
	Target string
	// Method to call or deliver; MethodLen > 0 makes it that many 'm's.
	Method    string
	MethodLen int
	// Name of a timer or reminder; NameLen > 0 makes it that many 'n's.
	Name    string
	NameLen int
	// Schedules, as in abi.Timer and abi.Reminder.
	DueMS, PeriodMS, InMS, AtUnixMS, EveryMS, FirstMS uint64
	Cron, Missed                                      string
	// Message of a log.
	Message string
	// Repeat runs the op this many times (0 or 1: once); the key or name
	// of repetition R gets "-R" appended when Repeat > 1.
	Repeat int
}

// Turn is one message to the rules actor and its outcome.
type Turn struct {
	Ops []Op
	// Code is the code the turn must fail with, "" when it must succeed.
	Code string
	// At is the op that must be refused ("op 0 #1000"); "" for any.
	At string
	// Says is text the error's message must contain ("" for any).
	Says string
}

// Scenario is a few turns of one actor, in order.
type Scenario struct {
	Name  string
	Turns []Turn
}

// Payload returns the turn's script, the payload of the actor's "run".
func (t Turn) Payload() []byte {
	b := abi.AppendMapHeader(nil, 1)
	b = abi.AppendText(b, "ops")
	b = abi.AppendArrayHeader(b, len(t.Ops))
	for _, op := range t.Ops {
		b = op.appendTo(b)
	}
	return b
}

func (o Op) appendTo(b []byte) []byte {
	type field struct {
		key  string
		text string
		n    uint64
		neg  bool
	}
	var fs []field
	text := func(k, v string) {
		if v != "" {
			fs = append(fs, field{key: k, text: v})
		}
	}
	num := func(k string, v uint64) {
		if v != 0 {
			fs = append(fs, field{key: k, n: v})
		}
	}
	text("op", o.Op)
	text("key", o.Key)
	num("key_len", uint64(o.KeyLen))
	num("size", uint64(o.Size))
	if o.Op == "get" {
		fs = append(fs, field{key: "want", n: uint64(o.Want), neg: o.Want < 0})
	}
	text("target", o.Target)
	text("method", o.Method)
	num("method_len", uint64(o.MethodLen))
	text("name", o.Name)
	num("name_len", uint64(o.NameLen))
	num("due_ms", o.DueMS)
	num("period_ms", o.PeriodMS)
	num("in_ms", o.InMS)
	num("at_unix_ms", o.AtUnixMS)
	num("every_ms", o.EveryMS)
	num("first_ms", o.FirstMS)
	text("cron", o.Cron)
	text("missed", o.Missed)
	text("message", o.Message)
	num("repeat", uint64(o.Repeat))
	b = abi.AppendMapHeader(b, len(fs))
	for _, f := range fs {
		b = abi.AppendText(b, f.key)
		switch {
		case f.text != "":
			b = abi.AppendText(b, f.text)
		case f.neg:
			b = abi.AppendInt(b, -1)
		default:
			b = abi.AppendUint(b, f.n)
		}
	}
	return b
}

// Check compares the outcome of a turn, the error its call returned (nil
// for success), with what the table says.
func (t Turn) Check(err error) error {
	if t.Code == "" {
		if err != nil {
			return errors.New("want success, got " + err.Error())
		}
		return nil
	}
	want := "want " + t.Code
	if t.At != "" {
		want += " at " + t.At
	}
	var e *abi.Error
	if !errors.As(err, &e) {
		if err == nil {
			return errors.New(want + ", got success")
		}
		return errors.New(want + ", got " + err.Error())
	}
	switch {
	case e.Code != t.Code,
		t.At != "" && !strings.HasPrefix(e.Message, t.At+": "),
		t.Says != "" && !strings.Contains(e.Message, t.Says):
		if t.Says != "" {
			want += " saying " + strconv.Quote(t.Says)
		}
		return errors.New(want + ", got " + e.Code + ": " + e.Message)
	}
	return nil
}

// at names repetition r of op i.
func at(i, r int) string { return "op " + strconv.Itoa(i) + " #" + strconv.Itoa(r) }

const hour = 3600 * 1000

// fail is the op that fails a turn on purpose.
var fail = Op{Op: "fail"}

// refused is the outcome of a turn whose ops up to its "fail", op i, all
// succeeded.
func refused(ops ...Op) Turn {
	return Turn{Ops: append(ops, fail), Code: CodeRefused, At: at(len(ops), 0)}
}

func ok(ops ...Op) Turn { return Turn{Ops: ops} }

// refuse is a turn whose op i (repetition r) is refused with code.
func refuse(code string, i, r int, says string, ops ...Op) Turn {
	return Turn{Ops: ops, Code: code, At: at(i, r), Says: says}
}

func tell(size int) Op { return Op{Op: "tell", Target: Sink, Method: "noop", Size: size} }

func timer(name string) Op { return Op{Op: "timer", Name: name, DueMS: hour, Method: "noop"} }

func reminder(name string) Op { return Op{Op: "reminder", Name: name, InMS: hour, Method: "noop"} }

// Scenarios returns the table, built anew (callers may change it).
func Scenarios() []Scenario {
	const max = abi.DefaultMaxMessage
	tooBig := abi.CodeTooLarge
	bad := abi.CodeBadRequest
	return []Scenario{
		{"state key at the limit", []Turn{
			ok(Op{Op: "set", KeyLen: abi.MaxKeyLen, Size: 3}),
			ok(Op{Op: "get", KeyLen: abi.MaxKeyLen, Want: 3}),
		}},
		{"state key over the limit", []Turn{
			refuse(tooBig, 0, 0, "state key is longer than 1024 bytes", Op{Op: "set", KeyLen: abi.MaxKeyLen + 1, Size: 3}),
			refuse(tooBig, 0, 0, "state key is longer than 1024 bytes", Op{Op: "get", KeyLen: abi.MaxKeyLen + 1, Want: -1}),
			refuse(tooBig, 0, 0, "state key is longer than 1024 bytes", Op{Op: "delete", KeyLen: abi.MaxKeyLen + 1}),
		}},
		{"the empty key is a key", []Turn{
			ok(Op{Op: "set", Size: 2}),
			ok(Op{Op: "get", Want: 2}, Op{Op: "delete"}, Op{Op: "get", Want: -1}),
		}},
		{"state value at the limit", []Turn{
			ok(Op{Op: "set", Key: "v", Size: max}),
			ok(Op{Op: "get", Key: "v", Want: max}),
		}},
		{"state value over the limit fails the turn and commits nothing", []Turn{
			refuse(tooBig, 1, 0, "state value for v is over the limit of 1048576 bytes",
				Op{Op: "set", Key: "a", Size: 1}, Op{Op: "set", Key: "v", Size: max + 1}),
			ok(Op{Op: "get", Key: "a", Want: -1}, Op{Op: "get", Key: "v", Want: -1}),
		}},
		{"a failed turn commits nothing", []Turn{
			refused(Op{Op: "set", Key: "a", Size: 4}),
			ok(Op{Op: "get", Key: "a", Want: -1}),
			ok(Op{Op: "set", Key: "a", Size: 4}, Op{Op: "get", Key: "a", Want: 4}),
			{Ops: []Op{{Op: "get", Key: "a", Want: 5}}, Code: CodeMismatch, At: at(0, 0)},
		}},
		{"tell targets", []Turn{
			refused(tell(1), Op{Op: "tell", Target: "rules/x/y", Method: "noop"}),
			refuse(bad, 0, 0, "is not of the form type/id", Op{Op: "tell", Target: "nope", Method: "noop"}),
			refuse(bad, 0, 0, "has an empty id", Op{Op: "tell", Target: "rules/", Method: "noop"}),
			refuse(bad, 0, 0, "starting with a letter or digit", Op{Op: "tell", Target: "-x/1", Method: "noop"}),
			refuse(bad, 0, 0, "contains a control character", Op{Op: "tell", Target: "rules/a\x01", Method: "noop"}),
			refuse(bad, 0, 0, "longer than 64 bytes", Op{Op: "tell", Target: strings.Repeat("t", abi.MaxTypeLen+1) + "/1", Method: "noop"}),
			refuse(bad, 0, 0, "longer than 256 bytes", Op{Op: "tell", Target: "rules/" + strings.Repeat("i", abi.MaxIDLen+1), Method: "noop"}),
		}},
		{"method names", []Turn{
			refused(Op{Op: "tell", Target: Sink, MethodLen: abi.MaxMethodLen}),
			refuse(bad, 0, 0, "has no method", Op{Op: "tell", Target: Sink}),
			refuse(bad, 1, 0, "method is longer than 256 bytes", tell(0), Op{Op: "tell", Target: Sink, MethodLen: abi.MaxMethodLen + 1}),
			refuse(bad, 0, 0, "method is longer than 256 bytes", Op{Op: "timer", Name: "t", DueMS: hour, MethodLen: abi.MaxMethodLen + 1}),
			refuse(bad, 0, 0, "has no method to deliver", Op{Op: "timer", Name: "t", DueMS: hour}),
			refuse(bad, 0, 0, "method is longer than 256 bytes", Op{Op: "reminder", Name: "r", InMS: hour, MethodLen: abi.MaxMethodLen + 1}),
			refuse(bad, 0, 0, "no method to deliver", Op{Op: "reminder", Name: "r", InMS: hour}),
		}},
		{"message sizes", []Turn{
			refused(tell(max)),
			refuse(tooBig, 0, 0, "is over the limit of 1048576 bytes", tell(max+1)),
			refuse(tooBig, 0, 0, "is over the limit", Op{Op: "ask", Target: Sink, Method: "noop", Size: max + 1}),
			refuse(tooBig, 0, 0, "argument of", tell(max+abi.ArgOverhead+1)),
		}},
		{"tells per turn", []Turn{
			refused(Op{Op: "tell", Target: Sink, Method: "noop", Repeat: abi.MaxSendsPerTurn}),
			refuse(tooBig, 0, abi.MaxSendsPerTurn, "at most 10000 tells", Op{Op: "tell", Target: Sink, Method: "noop", Repeat: abi.MaxSendsPerTurn + 1}),
		}},
		{"an ask to itself is a deadlock", []Turn{
			refuse(abi.CodeDeadlock, 0, 0, "", Op{Op: "ask", Target: Self, Method: "noop"}),
		}},
		{"timer fields", []Turn{
			refused(Op{Op: "timer", NameLen: abi.MaxScheduleName, DueMS: abi.MaxDelayMS, PeriodMS: abi.MaxDelayMS, Method: "noop", Size: max}),
			refuse(bad, 0, 0, "timer has no name", Op{Op: "timer", DueMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "name is longer than 256 bytes", Op{Op: "timer", NameLen: abi.MaxScheduleName + 1, DueMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "name is not valid UTF-8", Op{Op: "timer", Name: "t\xff", DueMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "at most 10 years", Op{Op: "timer", Name: "t", DueMS: abi.MaxDelayMS + 1, Method: "noop"}),
			refuse(bad, 0, 0, "at most 10 years", Op{Op: "timer", Name: "t", DueMS: hour, PeriodMS: abi.MaxDelayMS + 1, Method: "noop"}),
			refuse(tooBig, 0, 0, "payload is over the limit", Op{Op: "timer", Name: "t", DueMS: hour, Method: "noop", Size: max + 1}),
		}},
		{"timers of an activation", []Turn{
			ok(Op{Op: "timer", Name: "t", DueMS: hour, Method: "noop", Repeat: abi.MaxTimers}),
			refuse(tooBig, 0, 0, "at most 1000 timers", timer("one-more")),
			refuse(tooBig, 0, 0, "at most 1000 timers", timer("t-0")), // set again, but counted as the host counts
			ok(Op{Op: "cancel_timer", Name: "t-0"}),
			ok(timer("one-more")),
			refuse(tooBig, 0, 0, "at most 1000 timers", timer("two-more")),
		}},
		{"timer changes per turn", []Turn{
			ok(Op{Op: "cancel_timer", Name: "c", Repeat: abi.MaxTimerOps}),
			refuse(tooBig, 0, abi.MaxTimerOps, "at most 2000 timers", Op{Op: "cancel_timer", Name: "c", Repeat: abi.MaxTimerOps + 1}),
			refuse(tooBig, 1, abi.MaxTimers, "at most 2000 timers",
				Op{Op: "timer", Name: "t", DueMS: hour, Method: "noop", Repeat: abi.MaxTimers},
				Op{Op: "cancel_timer", Name: "t", Repeat: abi.MaxTimers + 1}),
			// Setting one name again and again counts every time.
			ok(slices.Repeat([]Op{timer("again")}, abi.MaxTimerOps)...),
			refuse(tooBig, abi.MaxTimerOps, 0, "at most 2000 timers", slices.Repeat([]Op{timer("again")}, abi.MaxTimerOps+1)...),
		}},
		{"reminder fields", []Turn{
			refused(Op{Op: "reminder", NameLen: abi.MaxScheduleName, Method: "noop", Size: max, Missed: abi.MissedSkip},
				Op{Op: "reminder", Name: "at", AtUnixMS: abi.MaxAtUnixMS, Method: "noop"},
				Op{Op: "reminder", Name: "every", EveryMS: abi.MaxDelayMS, FirstMS: abi.MaxDelayMS, Method: "noop", Missed: abi.MissedCatchUp},
				Op{Op: "reminder", Name: "in", InMS: abi.MaxDelayMS, Method: "noop"},
				Op{Op: "reminder", Name: "cron", Cron: "*/5 * * * *", Method: "noop"}),
			refuse(bad, 0, 0, "reminder has no name", Op{Op: "reminder", InMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "name is longer than 256 bytes", Op{Op: "reminder", NameLen: abi.MaxScheduleName + 1, InMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "more than one schedule", Op{Op: "reminder", Name: "r", InMS: hour, EveryMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "more than one schedule", Op{Op: "reminder", Name: "r", AtUnixMS: hour, Cron: "* * * * *", Method: "noop"}),
			refuse(bad, 0, 0, "first_ms applies to every_ms only", Op{Op: "reminder", Name: "r", InMS: hour, FirstMS: hour, Method: "noop"}),
			refuse(bad, 0, 0, "longer than 10 years", Op{Op: "reminder", Name: "r", EveryMS: abi.MaxDelayMS + 1, Method: "noop"}),
			refuse(bad, 0, 0, "longer than 10 years", Op{Op: "reminder", Name: "r", EveryMS: hour, FirstMS: abi.MaxDelayMS + 1, Method: "noop"}),
			refuse(bad, 0, 0, "longer than 10 years", Op{Op: "reminder", Name: "r", InMS: abi.MaxDelayMS + 1, Method: "noop"}),
			refuse(bad, 0, 0, "after the year 9999", Op{Op: "reminder", Name: "r", AtUnixMS: abi.MaxAtUnixMS + 1, Method: "noop"}),
			refuse(bad, 0, 0, "unknown missed-tick policy", Op{Op: "reminder", Name: "r", InMS: hour, Method: "noop", Missed: "later"}),
			refuse(bad, 0, 0, "cron expression is longer than 256 bytes", Op{Op: "reminder", Name: "r", Cron: "* * * * *" + strings.Repeat(" ", abi.MaxCronLen) + "*", Method: "noop"}),
			refuse(tooBig, 0, 0, "payload is over the limit", Op{Op: "reminder", Name: "r", InMS: hour, Method: "noop", Size: max + 1}),
		}},
		{"reminder changes per turn", []Turn{
			refused(Op{Op: "reminder", Name: "r", InMS: hour, Method: "noop", Repeat: abi.MaxReminderOps}),
			refuse(tooBig, 0, abi.MaxReminderOps, "at most 1000 reminders", Op{Op: "reminder", Name: "r", InMS: hour, Method: "noop", Repeat: abi.MaxReminderOps + 1}),
			refuse(tooBig, 0, abi.MaxReminderOps, "at most 1000 reminders", Op{Op: "cancel_reminder", Name: "r", Repeat: abi.MaxReminderOps + 1}),
			// A name set and cancelled in one turn is one change.
			refused(Op{Op: "reminder", Name: "r", InMS: hour, Method: "noop", Repeat: abi.MaxReminderOps},
				Op{Op: "cancel_reminder", Name: "r", Repeat: abi.MaxReminderOps}),
		}},
	}
}
