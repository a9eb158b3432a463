package abi

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a guest may ask of the host. They are the host's own and
// the native test kits' (the Go SDK's wactortest, the Rust SDK's testing
// module) too: the kits call the Check functions below, or, in other
// languages, carry the same numbers, which a test compares with these.
const (
	// DefaultMaxMessage is the largest message, reply, state value or
	// timer and reminder payload of a type whose manifest sets no
	// max_message.
	DefaultMaxMessage = 1 << 20
	// ArgOverhead is how much larger than the message limit the argument
	// of one host call may be: room for the envelope around a payload.
	ArgOverhead = 4096

	MaxKeyLen       = 1024  // bytes of a state key
	MaxMethodLen    = 256   // bytes of a method name
	MaxLogLen       = 4096  // bytes of a log message; longer ones are cut
	MaxSendsPerTurn = 10000 // tells one turn may send
	// MaxForwardsPerTurn is how many times one turn may forward the ask
	// it handles: an ask has one reply.
	MaxForwardsPerTurn = 1
	// MaxNesting is how many nested turns may run at once in the waiting
	// turns of one activation of a reentrant type: an ask on the call
	// chain that would nest deeper fails with deadlock.
	MaxNesting = 16

	MaxScheduleName = 256  // bytes of a timer's or reminder's name
	MaxTimers       = 1000 // timers one activation may have set at once
	// MaxTimerOps is how many timer changes (sets and cancels) one turn
	// may buffer.
	MaxTimerOps    = 2 * MaxTimers
	MaxReminderOps = 1000 // reminders one turn may set or cancel (distinct names)
	MaxCronLen     = 256  // bytes of a cron expression

	// MaxDelayMS bounds every delay and period of a timer or reminder
	// (due_ms, period_ms, in_ms, every_ms, first_ms): 10 years.
	MaxDelayMS = 10 * 365 * 24 * 3600 * 1000
	// MaxAtUnixMS is the latest at_unix_ms: 9999-12-31T23:59:59.999Z.
	MaxAtUnixMS = 253402300799999

	// MaxWatches is how many actors one actor may watch at once.
	MaxWatches = 100
	// MaxWatchers is how many actors may watch one actor at once: the
	// lifecycle messages of one deactivation are committed together.
	MaxWatchers = 1000

	// MaxTopicLen bounds a topic's name, and a pattern of one.
	MaxTopicLen = 256
	// MaxSubscriptions is how many topics one actor may subscribe to.
	MaxSubscriptions = 100
)

// CheckArgSize refuses the argument of a host call of n bytes when the
// message limit is maxMessage.
func CheckArgSize(fn string, n int, maxMessage int64) *Error {
	if int64(n) > maxMessage+ArgOverhead {
		return NewError(CodeTooLarge, fn+" argument of "+strconv.Itoa(n)+" bytes is over the limit of "+
			strconv.FormatInt(maxMessage, 10)+" bytes")
	}
	return nil
}

// CheckMethod refuses a method name that is empty or longer than
// MaxMethodLen; where says what carries it ("message to counter/a").
func CheckMethod(where, method string) *Error {
	if method == "" {
		return NewError(CodeBadRequest, where+" has no method")
	}
	if len(method) > MaxMethodLen {
		return NewError(CodeBadRequest, where+": method is longer than "+strconv.Itoa(MaxMethodLen)+" bytes")
	}
	if reserved(method) {
		return NewError(CodeBadRequest, where+": method "+strconv.Quote(method)+" is reserved: names starting with "+
			strconv.Quote(ReservedMethodPrefix)+" are the host's own")
	}
	return nil
}

// CheckCall checks the argument of tell and ask: a well-formed target, a
// method and a payload within maxMessage. It returns the target. Whether
// the target's type exists is for the host to say.
func CheckCall(c *Call, maxMessage int64) (Ref, *Error) {
	ref, err := ParseRef(c.Target)
	if err != nil {
		return ref, err.(*Error)
	}
	if e := CheckMethod("message to "+c.Target, c.Method); e != nil {
		return ref, e
	}
	if int64(len(c.Payload)) > maxMessage {
		return ref, NewError(CodeTooLarge, "message to "+c.Target+" is over the limit of "+
			strconv.FormatInt(maxMessage, 10)+" bytes")
	}
	return ref, nil
}

// CheckSends refuses one more tell from a turn that has buffered sent.
func CheckSends(sent int) *Error {
	if sent >= MaxSendsPerTurn {
		return NewError(CodeTooLarge, "a turn may send at most "+strconv.Itoa(MaxSendsPerTurn)+" tells")
	}
	return nil
}

// CheckForward refuses a forward from a turn that does not handle an ask
// (isAsk false), or that has forwarded it forwarded times already.
func CheckForward(isAsk bool, forwarded int) *Error {
	if !isAsk {
		return NewError(CodeBadRequest, "forward: the message is not an ask, so there is no asker to answer; use tell")
	}
	if forwarded >= MaxForwardsPerTurn {
		return NewError(CodeBadRequest, "forward: a turn may forward its ask at most "+strconv.Itoa(MaxForwardsPerTurn)+" time")
	}
	return nil
}

// CheckKey refuses a state key longer than MaxKeyLen. The empty key is a
// key like any other.
func CheckKey(key string) *Error {
	if len(key) > MaxKeyLen {
		return NewError(CodeTooLarge, "state key is longer than "+strconv.Itoa(MaxKeyLen)+" bytes")
	}
	return nil
}

// CheckValue refuses a state value over maxMessage bytes.
func CheckValue(key string, value []byte, maxMessage int64) *Error {
	if int64(len(value)) > maxMessage {
		return NewError(CodeTooLarge, "state value for "+key+" is over the limit of "+
			strconv.FormatInt(maxMessage, 10)+" bytes")
	}
	return nil
}

// TruncateLog cuts a log message longer than MaxLogLen.
func TruncateLog(msg string) string {
	if len(msg) > MaxLogLen {
		return msg[:MaxLogLen] + "…"
	}
	return msg
}

// CheckName says what is wrong with the name of a timer or reminder (what
// is "timer" or "reminder").
func CheckName(what, name string) *Error {
	var msg string
	switch {
	case name == "":
		msg = what + " has no name"
	case len(name) > MaxScheduleName:
		msg = what + " name is longer than " + strconv.Itoa(MaxScheduleName) + " bytes"
	case !utf8.ValidString(name):
		msg = what + " name is not valid UTF-8"
	default:
		return nil
	}
	return NewError(CodeBadRequest, msg)
}

// CheckTimer checks the argument of timer_set, except how many timers the
// activation has (CheckTimerCount).
func CheckTimer(t *Timer, maxMessage int64) *Error {
	if e := CheckName("timer", t.Name); e != nil {
		return e
	}
	where := "timer " + strconv.Quote(t.Name)
	if t.Method == "" {
		return NewError(CodeBadRequest, where+" has no method to deliver")
	}
	if e := CheckMethod(where, t.Method); e != nil {
		return e
	}
	if t.DueMS > MaxDelayMS || t.PeriodMS > MaxDelayMS {
		return NewError(CodeBadRequest, where+": due_ms and period_ms must be at most 10 years")
	}
	if int64(len(t.Payload)) > maxMessage {
		return NewError(CodeTooLarge, where+" payload is over the limit of "+strconv.FormatInt(maxMessage, 10)+" bytes")
	}
	return nil
}

// CheckTimerCount refuses a new timer (a name not set yet) of an
// activation that has set timers already, counting the turn's own.
func CheckTimerCount(set int) *Error {
	if set >= MaxTimers {
		return NewError(CodeTooLarge, "an activation may have at most "+strconv.Itoa(MaxTimers)+" timers")
	}
	return nil
}

// CheckTimerOps refuses one more timer change of a turn that has buffered
// ops of them.
func CheckTimerOps(ops int) *Error {
	if ops >= MaxTimerOps {
		return NewError(CodeTooLarge, "a turn may set and cancel at most "+strconv.Itoa(MaxTimerOps)+" timers")
	}
	return nil
}

// CheckReminder checks the argument of reminder_set: every rule but the
// syntax of a cron expression, which the host checks when it computes the
// first time (the native kits do not parse cron expressions).
func CheckReminder(r *Reminder, maxMessage int64) *Error {
	if e := CheckName("reminder", r.Name); e != nil {
		return e
	}
	where := "reminder " + strconv.Quote(r.Name)
	bad := func(msg string) *Error { return NewError(CodeBadRequest, where+": "+msg) }
	if int64(len(r.Payload)) > maxMessage {
		return NewError(CodeTooLarge, where+" payload is over the limit of "+strconv.FormatInt(maxMessage, 10)+" bytes")
	}
	if r.Method == "" {
		return bad("no method to deliver")
	}
	if e := CheckMethod(where, r.Method); e != nil {
		return e
	}
	if count(r.InMS != 0, r.AtUnixMS != 0, r.EveryMS != 0, r.Cron != "") > 1 {
		return bad("more than one schedule; give one of in_ms, at_unix_ms, every_ms and cron")
	}
	if r.FirstMS != 0 && r.EveryMS == 0 {
		return bad("first_ms applies to every_ms only")
	}
	if r.InMS > MaxDelayMS || r.EveryMS > MaxDelayMS || r.FirstMS > MaxDelayMS {
		return bad("a delay or period is longer than 10 years")
	}
	if r.AtUnixMS > MaxAtUnixMS {
		return bad("at_unix_ms is after the year 9999")
	}
	switch r.Missed {
	case "", MissedCatchUp, MissedSkip:
	default:
		return bad("unknown missed-tick policy " + strconv.Quote(r.Missed) + "; use catch_up or skip")
	}
	if len(strings.TrimSpace(r.Cron)) > MaxCronLen {
		return bad("cron expression is longer than " + strconv.Itoa(MaxCronLen) + " bytes")
	}
	return nil
}

// CheckReminderOps refuses a reminder change (a name the turn has not
// changed yet) of a turn that has changed ops distinct reminders.
func CheckReminderOps(ops int) *Error {
	if ops >= MaxReminderOps {
		return NewError(CodeTooLarge, "a turn may set or cancel at most "+strconv.Itoa(MaxReminderOps)+" reminders")
	}
	return nil
}
