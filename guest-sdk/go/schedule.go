package wactor

import (
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// SetTimer sets a volatile timer: method is delivered to this activation
// with payload after due, and then every period (0: once). The tick is a
// message like any other, processed as a turn of its own (with no sender);
// the next tick of a periodic timer is set when the previous one's turn has
// ended. Setting a name that is set replaces that timer.
//
// Timers are buffered with the turn, like state writes: the timer exists
// only once the turn has committed, and a failed turn sets nothing. They
// die with the activation: when it is deactivated (idle, evicted, asked to,
// or the host stops) its timers are gone. Use a reminder for anything that
// must survive.
func (c *Context) SetTimer(name string, due, period time.Duration, method string, payload []byte) error {
	t := abi.Timer{Name: name, DueMS: millis(due), PeriodMS: millis(period), Method: method, Payload: payload}
	_, _, err := c.call(hostlink.TimerSet, keepArg(t.AppendTo(argBuf[:0])))
	return err
}

// CancelTimer cancels the timer name when the turn commits. A tick already
// waiting in the mailbox is dropped. Cancelling a timer that is not set is
// not an error.
func (c *Context) CancelTimer(name string) error {
	arg := abi.Cancel{Name: name}
	_, _, err := c.call(hostlink.TimerCancel, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}

// SetReminder sets a durable reminder: method is delivered to this actor
// with payload when s says. Reminders are stored with the turn's commit,
// survive restarts and crashes, and activate the actor when it is not
// active. The firing is a turn of its own (with no sender); when it
// commits, the reminder moves to its next time, or is deleted if it fires
// once. A firing whose turn fails is tried again with backoff. Setting a
// name that is set replaces that reminder.
//
// Like timers, reminders are buffered with the turn: a failed turn sets and
// cancels nothing.
func (c *Context) SetReminder(name string, s Schedule, method string, payload []byte) error {
	if s.err != "" {
		return &Error{Code: CodeBadRequest, Message: "wactor: reminder " + name + ": " + s.err}
	}
	r := abi.Reminder{Name: name, InMS: s.in, AtUnixMS: s.at, EveryMS: s.every, FirstMS: s.first, Cron: s.cron,
		Method: method, Payload: payload, Missed: string(s.missed)}
	_, _, err := c.call(hostlink.ReminderSet, keepArg(r.AppendTo(argBuf[:0])))
	return err
}

// CancelReminder deletes the reminder name when the turn commits.
// Cancelling a reminder that is not set is not an error.
func (c *Context) CancelReminder(name string) error {
	arg := abi.Cancel{Name: name}
	_, _, err := c.call(hostlink.ReminderCancel, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}

// Schedule says when a reminder fires: once (In, At), at a fixed period
// (Every) or at the times of a cron expression (Cron). Times are the
// host's: In and Every count from the host's clock when the turn runs.
type Schedule struct {
	in, at, every, first uint64 // milliseconds
	cron                 string
	missed               MissedPolicy
	err                  string
}

// MissedPolicy says what happens to the ticks of a reminder that came due
// while no host was running (the process was down, say).
type MissedPolicy string

// Missed-tick policies.
const (
	// CatchUp fires once, as soon as the host is back, however many ticks
	// were missed, then continues on schedule. The default.
	CatchUp MissedPolicy = abi.MissedCatchUp
	// Skip drops the missed ticks and waits for the next one on schedule. A
	// once reminder whose time passed while no host ran is deleted
	// without firing.
	Skip MissedPolicy = abi.MissedSkip
)

// In fires once, d from now (0: as soon as possible).
func In(d time.Duration) Schedule { return Schedule{in: millis(d)} }

// At fires once, at t. A time in the past fires as soon as possible.
func At(t time.Time) Schedule {
	ms := t.UnixMilli()
	if ms < 1 {
		ms = 1 // key 3 must be present: 1970-01-01T00:00:00.001Z, long past
	}
	return Schedule{at: uint64(ms)}
}

// Every fires every d (at least a millisecond), the first time d from now;
// see StartingIn.
func Every(d time.Duration) Schedule {
	if d < time.Millisecond {
		return Schedule{err: "Every needs a period of at least 1ms, not " + d.String()}
	}
	return Schedule{every: millis(d)}
}

// Cron fires at the times of a cron expression, evaluated in UTC: five
// fields (minute hour day-of-month month day-of-week, as in crontab(5)),
// or six with a leading seconds field, or seven with a trailing year; the
// macros @yearly, @monthly, @weekly, @daily and @hourly work too.
func Cron(expr string) Schedule { return Schedule{cron: expr} }

// StartingIn makes an Every schedule fire the first time d from now
// instead of one period from now (at least 1ms; use 1ms for "at once").
func (s Schedule) StartingIn(d time.Duration) Schedule {
	if s.every == 0 && s.err == "" {
		s.err = "StartingIn applies to an Every schedule only"
	}
	s.first = max(millis(d), 1)
	return s
}

// OnMissed sets the missed-tick policy (default CatchUp).
func (s Schedule) OnMissed(p MissedPolicy) Schedule {
	s.missed = p
	return s
}

// millis converts d to whole milliseconds, rounding up; negative is 0.
func millis(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64((d + time.Millisecond - 1) / time.Millisecond)
}
