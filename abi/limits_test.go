package abi

import (
	"strings"
	"testing"
)

// The checks answer with the code and the words the host's callers rely
// on; abi/ruletest runs the same rules through the host and wactortest.
func TestChecks(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tt := range []struct {
		name string
		err  *Error
		code string
		says string
	}{
		{"key at the limit", CheckKey(long(MaxKeyLen)), "", ""},
		{"empty key", CheckKey(""), "", ""},
		{"key over", CheckKey(long(MaxKeyLen + 1)), CodeTooLarge, "longer than 1024"},
		{"value over", CheckValue("k", make([]byte, 11), 10), CodeTooLarge, "state value for k"},
		{"method empty", CheckMethod("message to a/b", ""), CodeBadRequest, "message to a/b has no method"},
		{"method over", CheckMethod("x", long(MaxMethodLen+1)), CodeBadRequest, "longer than 256"},
		{"arg over", CheckArgSize("tell", 10+ArgOverhead+1, 10), CodeTooLarge, "tell argument of"},
		{"sends", CheckSends(MaxSendsPerTurn), CodeTooLarge, "at most 10000 tells"},
		{"forward of a tell", CheckForward(false, 0), CodeBadRequest, "not an ask"},
		{"second forward", CheckForward(true, MaxForwardsPerTurn), CodeBadRequest, "at most 1 time"},
		{"timers", CheckTimerCount(MaxTimers), CodeTooLarge, "at most 1000 timers"},
		{"timer ops", CheckTimerOps(MaxTimerOps), CodeTooLarge, "at most 2000 timers"},
		{"reminder ops", CheckReminderOps(MaxReminderOps), CodeTooLarge, "at most 1000 reminders"},
		{"timer ok", CheckTimer(&Timer{Name: "t", Method: "m", DueMS: MaxDelayMS}, 10), "", ""},
		{"timer bad name", CheckTimer(&Timer{Name: "t\xff", Method: "m"}, 10), CodeBadRequest, "not valid UTF-8"},
		{"timer no method", CheckTimer(&Timer{Name: "t"}, 10), CodeBadRequest, "no method to deliver"},
		{"timer payload", CheckTimer(&Timer{Name: "t", Method: "m", Payload: make([]byte, 11)}, 10), CodeTooLarge, "payload"},
		{"reminder ok", CheckReminder(&Reminder{Name: "r", Method: "m", EveryMS: 5, FirstMS: 1, Missed: MissedSkip}, 10), "", ""},
		{"reminder two schedules", CheckReminder(&Reminder{Name: "r", Method: "m", InMS: 1, Cron: "* * * * *"}, 10), CodeBadRequest, "more than one schedule"},
		{"reminder first alone", CheckReminder(&Reminder{Name: "r", Method: "m", FirstMS: 1}, 10), CodeBadRequest, "first_ms"},
		{"reminder at", CheckReminder(&Reminder{Name: "r", Method: "m", AtUnixMS: MaxAtUnixMS + 1}, 10), CodeBadRequest, "9999"},
		{"reminder missed", CheckReminder(&Reminder{Name: "r", Method: "m", Missed: "later"}, 10), CodeBadRequest, "missed-tick"},
		{"reminder cron", CheckReminder(&Reminder{Name: "r", Method: "m", Cron: long(MaxCronLen + 1)}, 10), CodeBadRequest, "cron expression is longer"},
		{"reminder padded cron", CheckReminder(&Reminder{Name: "r", Method: "m", Cron: " " + long(MaxCronLen) + " "}, 10), "", ""},
	} {
		switch {
		case tt.code == "" && tt.err != nil:
			t.Errorf("%s: %v, want no error", tt.name, tt.err)
		case tt.code != "" && (tt.err == nil || tt.err.Code != tt.code || !strings.Contains(tt.err.Message, tt.says)):
			t.Errorf("%s: %v, want %s saying %q", tt.name, tt.err, tt.code, tt.says)
		}
	}
	if _, e := CheckCall(&Call{Target: "a/b", Method: "m", Payload: make([]byte, 11)}, 10); e == nil || e.Code != CodeTooLarge {
		t.Errorf("CheckCall with a payload over the limit: %v", e)
	}
	if got := TruncateLog(long(MaxLogLen + 5)); len(got) != MaxLogLen+len("…") {
		t.Errorf("TruncateLog kept %d bytes", len(got))
	}
}
