package abi

import (
	"math"
	"testing"
)

// TestNames pins the names of exports and imports: they are the wire
// contract, and a rename would break every compiled guest.
func TestNames(t *testing.T) {
	names := map[string]string{
		ExportMemory: "memory", ExportInitialize: "_initialize", ExportABIVersion: "wactor_abi_version",
		ExportAlloc: "wactor_alloc", ExportHandle: "wactor_handle", ImportModule: "wactor",
		ImportTell: "tell", ImportAsk: "ask", ImportStateGet: "state_get", ImportStateSet: "state_set",
		ImportStateDelete: "state_delete", ImportSelf: "self", ImportLog: "log",
		ImportDeactivate: "deactivate", ImportResult: "result",
		ImportTimerSet: "timer_set", ImportTimerCancel: "timer_cancel",
		ImportReminderSet: "reminder_set", ImportReminderCancel: "reminder_cancel",
		MissedCatchUp: "catch_up", MissedSkip: "skip",
	}
	for got, want := range names {
		if got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
	if Version != 1 {
		t.Errorf("Version = %d, want 1", Version)
	}
	if StatusOK != 0 || StatusNotFound != 1 || StatusError != 2 {
		t.Errorf("statuses = %d %d %d, want 0 1 2", StatusOK, StatusNotFound, StatusError)
	}
	if LevelDebug != 0 || LevelInfo != 1 || LevelWarn != 2 || LevelError != 3 {
		t.Errorf("log levels = %d %d %d %d, want 0 1 2 3", LevelDebug, LevelInfo, LevelWarn, LevelError)
	}
	if KindMessage != 0 || KindActivate != 1 || KindDeactivate != 2 {
		t.Errorf("request kinds = %d %d %d, want 0 1 2", KindMessage, KindActivate, KindDeactivate)
	}
}

func TestPackResult(t *testing.T) {
	tests := []struct {
		s    Status
		n    uint32
		want uint64
	}{
		{StatusOK, 0, 0},
		{StatusOK, 5, 5},
		{StatusNotFound, 0, 0x1_0000_0000},
		{StatusError, 42, 0x2_0000_002a},
		{StatusOK, math.MaxUint32, 0xffff_ffff},
		{Status(math.MaxUint32), math.MaxUint32, math.MaxUint64},
	}
	for _, tt := range tests {
		got := PackResult(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("PackResult(%d, %d) = %#x, want %#x", tt.s, tt.n, got, tt.want)
		}
		s, n := UnpackResult(got)
		if s != tt.s || n != tt.n {
			t.Errorf("UnpackResult(%#x) = %d, %d, want %d, %d", got, s, n, tt.s, tt.n)
		}
		// A wasm i64 travels as a signed value; the round trip through
		// int64 must not change it.
		if s, n := UnpackResult(uint64(int64(got))); s != tt.s || n != tt.n {
			t.Errorf("UnpackResult(int64 %#x) = %d, %d", got, s, n)
		}
	}
}

func TestPackPointer(t *testing.T) {
	tests := []struct {
		ptr, n uint32
		want   uint64
	}{
		{0, 0, 0},
		{0x10000, 42, 0x0001_0000_0000_002a},
		{8, 0, 0x8_0000_0000},
		{math.MaxUint32, math.MaxUint32, math.MaxUint64},
		{0x8000_0000, 1, 0x8000_0000_0000_0001}, // negative as an i64
	}
	for _, tt := range tests {
		got := PackPointer(tt.ptr, tt.n)
		if got != tt.want {
			t.Errorf("PackPointer(%#x, %d) = %#x, want %#x", tt.ptr, tt.n, got, tt.want)
		}
		if p, n := UnpackPointer(got); p != tt.ptr || n != tt.n {
			t.Errorf("UnpackPointer(%#x) = %#x, %d", got, p, n)
		}
	}
}
