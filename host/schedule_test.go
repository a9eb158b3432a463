package host

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func TestNewReminder(t *testing.T) {
	tests := []struct {
		name  string
		in    abi.Reminder
		due   time.Time
		every time.Duration
		cron  string
		bad   string // part of the error, "" for none
	}{
		{name: "in", in: abi.Reminder{Name: "r", Method: "m", InMS: 1500}, due: t0.Add(1500 * time.Millisecond)},
		{name: "now", in: abi.Reminder{Name: "r", Method: "m"}, due: t0},
		{name: "at", in: abi.Reminder{Name: "r", Method: "m", AtUnixMS: uint64(t0.Add(time.Hour).UnixMilli())}, due: t0.Add(time.Hour)},
		{name: "every", in: abi.Reminder{Name: "r", Method: "m", EveryMS: 60000}, due: t0.Add(time.Minute), every: time.Minute},
		{name: "every first", in: abi.Reminder{Name: "r", Method: "m", EveryMS: 60000, FirstMS: 1}, due: t0.Add(time.Millisecond), every: time.Minute},
		{name: "cron", in: abi.Reminder{Name: "r", Method: "m", Cron: " */5 * * * * "}, due: t0.Add(5 * time.Minute), cron: "*/5 * * * *"},
		{name: "cron macro", in: abi.Reminder{Name: "r", Method: "m", Cron: "@daily"}, due: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), cron: "@daily"},
		{name: "no name", in: abi.Reminder{Method: "m"}, bad: "no name"},
		{name: "no method", in: abi.Reminder{Name: "r"}, bad: "no method"},
		{name: "two schedules", in: abi.Reminder{Name: "r", Method: "m", InMS: 1, Cron: "* * * * *"}, bad: "more than one schedule"},
		{name: "first alone", in: abi.Reminder{Name: "r", Method: "m", FirstMS: 1}, bad: "first_ms applies to every_ms only"},
		{name: "bad cron", in: abi.Reminder{Name: "r", Method: "m", Cron: "61 * * * *"}, bad: "invalid cron expression"},
		{name: "cron never", in: abi.Reminder{Name: "r", Method: "m", Cron: "0 0 30 2 *"}, bad: "never fires"},
		{name: "missed", in: abi.Reminder{Name: "r", Method: "m", Missed: "sometimes"}, bad: "unknown missed-tick policy"},
		{name: "far", in: abi.Reminder{Name: "r", Method: "m", EveryMS: 1 << 62}, bad: "longer than 10 years"},
		{name: "year 10000", in: abi.Reminder{Name: "r", Method: "m", AtUnixMS: 1 << 60}, bad: "after the year 9999"},
		{name: "long name", in: abi.Reminder{Name: string(make([]byte, 257)), Method: "m"}, bad: "longer than 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newReminder(&tt.in, DefaultMaxMessage, t0)
			if tt.bad != "" {
				require.Error(t, err)
				assert.Equal(t, abi.CodeBadRequest, err.Code)
				assert.Contains(t, err.Message, tt.bad)
				return
			}
			require.Nil(t, err)
			assert.Equal(t, tt.due, r.Due)
			assert.Equal(t, abi.MissedCatchUp, r.Missed)
			s, derr := decodeSchedule(r.Schedule)
			require.NoError(t, derr)
			assert.Equal(t, tt.every, s.every)
			assert.Equal(t, tt.cron, s.cron)
		})
	}
}

func TestScheduleNext(t *testing.T) {
	every := schedule{every: 10 * time.Second}
	cron := schedule{cron: "*/5 * * * *"}
	tests := []struct {
		name     string
		s        schedule
		due, now time.Time
		want     time.Time // zero: no next
	}{
		{"once", schedule{}, t0, t0, time.Time{}},
		{"every on time", every, t0, t0, t0.Add(10 * time.Second)},
		{"every late", every, t0, t0.Add(35 * time.Second), t0.Add(40 * time.Second)},
		{"every late to the tick", every, t0, t0.Add(40 * time.Second), t0.Add(50 * time.Second)},
		{"every early", every, t0, t0.Add(-time.Second), t0.Add(10 * time.Second)},
		{"cron on time", cron, t0, t0, t0.Add(5 * time.Minute)},
		{"cron late", cron, t0, t0.Add(12 * time.Minute), t0.Add(15 * time.Minute)},
		{"cron ends", schedule{cron: "0 0 1 1 * 2030"}, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), t0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.s.next(tt.due, tt.now)
			assert.Equal(t, !tt.want.IsZero(), ok)
			if ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
	for _, s := range []schedule{{}, every, cron} {
		got, err := decodeSchedule(s.encode())
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
}
