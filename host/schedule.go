package host

import (
	"strconv"
	"strings"
	"time"

	"github.com/adhocore/gronx"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// schedule is when a reminder fires after its first time, as the host
// stores it in storage.Reminder.Schedule: a CBOR map with the keys of
// abi.Reminder, {4: every_ms} for a periodic reminder, {6: cron} for a cron
// reminder, {} for a reminder that fires once.
type schedule struct {
	every time.Duration
	cron  string
}

func (s schedule) once() bool { return s.every <= 0 && s.cron == "" }

func (s schedule) encode() []byte {
	switch {
	case s.every > 0:
		return abi.AppendUint(abi.AppendUint(abi.AppendMapHeader(nil, 1), 4), uint64(s.every/time.Millisecond))
	case s.cron != "":
		return abi.AppendText(abi.AppendUint(abi.AppendMapHeader(nil, 1), 6), s.cron)
	}
	return abi.AppendMapHeader(nil, 0)
}

func decodeSchedule(p []byte) (schedule, error) {
	var r abi.Reminder
	if err := r.Decode(p); err != nil {
		return schedule{}, err
	}
	return schedule{every: time.Duration(min(r.EveryMS, abi.MaxDelayMS)) * time.Millisecond, cron: r.Cron}, nil
}

// next returns when a reminder that came due at due fires next: the first
// time on its schedule after both due and now, so that the ticks a late
// firing missed are not fired one after another. ok is false when it
// fires no more.
func (s schedule) next(due, now time.Time) (next time.Time, ok bool) {
	switch {
	case s.every > 0:
		next = due.Add(s.every)
		if !next.After(now) {
			k := now.Sub(due)/s.every + 1
			next = due.Add(k * s.every)
		}
		return next, true
	case s.cron != "":
		after := due
		if now.After(after) {
			after = now
		}
		next, err := cronNext(s.cron, after)
		return next, err == nil
	}
	return time.Time{}, false
}

// cronNext returns the first time after t that the cron expression names,
// in UTC.
func cronNext(expr string, t time.Time) (time.Time, error) {
	next, err := gronx.NextTickAfter(expr, t.UTC(), false)
	if err != nil {
		return time.Time{}, err
	}
	return next.UTC(), nil
}

// newReminder checks the argument of reminder_set (abi.CheckReminder's
// rules, and the syntax of a cron expression) and returns the reminder it
// sets (its Actor left empty), first due from now.
func newReminder(r *abi.Reminder, maxMessage int64, now time.Time) (storage.Reminder, *abi.Error) {
	if e := abi.CheckReminder(r, maxMessage); e != nil {
		return storage.Reminder{}, e
	}
	bad := func(msg string) (storage.Reminder, *abi.Error) {
		return storage.Reminder{}, abi.NewError(abi.CodeBadRequest, "reminder "+strconv.Quote(r.Name)+": "+msg)
	}
	missed := r.Missed
	if missed == "" {
		missed = abi.MissedCatchUp
	}
	now = now.Round(0)
	var s schedule
	var due time.Time
	switch {
	case r.AtUnixMS != 0:
		due = time.UnixMilli(int64(r.AtUnixMS)).UTC()
	case r.EveryMS != 0:
		s.every = time.Duration(r.EveryMS) * time.Millisecond
		first := s.every
		if r.FirstMS != 0 {
			first = time.Duration(r.FirstMS) * time.Millisecond
		}
		due = now.Add(first)
	case r.Cron != "":
		expr := strings.TrimSpace(r.Cron)
		if !gronx.IsValid(expr) {
			return bad("invalid cron expression " + strconv.Quote(r.Cron) +
				"; use five fields (minute hour day-of-month month day-of-week), as in \"*/5 * * * *\"")
		}
		next, err := cronNext(expr, now)
		if err != nil {
			return bad("cron expression " + strconv.Quote(r.Cron) + " never fires")
		}
		s.cron, due = expr, next
	default:
		due = now.Add(time.Duration(r.InMS) * time.Millisecond)
	}
	return storage.Reminder{Name: r.Name, Method: r.Method, Payload: r.Payload, Schedule: s.encode(), Due: due, Missed: missed}, nil
}
