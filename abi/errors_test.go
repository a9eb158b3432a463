package abi

import (
	"errors"
	"fmt"
	"testing"
)

// sentinels lists every sentinel with the code it stands for.
var sentinels = []struct {
	err  *Error
	code string
}{
	{ErrBadRequest, CodeBadRequest},
	{ErrUnknownType, CodeUnknownType},
	{ErrUnknownMethod, CodeUnknownMethod},
	{ErrTooLarge, CodeTooLarge},
	{ErrMailboxFull, CodeMailboxFull},
	{ErrTimeout, CodeTimeout},
	{ErrTurnTimeout, CodeTurnTimeout},
	{ErrMemoryExhausted, CodeMemoryExhausted},
	{ErrTrapped, CodeTrapped},
	{ErrBadReply, CodeBadReply},
	{ErrDeadlock, CodeDeadlock},
	{ErrUnavailable, CodeUnavailable},
	{ErrUnauthorized, CodeUnauthorized},
}

func TestErrorIs(t *testing.T) {
	if !errors.Is(NewError("mailbox_full", "x"), ErrMailboxFull) {
		t.Errorf(`errors.Is(NewError("mailbox_full", "x"), ErrMailboxFull) = false`)
	}
	for _, s := range sentinels {
		if s.err.Code != s.code {
			t.Errorf("sentinel for %s has code %q", s.code, s.err.Code)
		}
		err := NewError(s.code, "some message")
		if !errors.Is(err, s.err) {
			t.Errorf("errors.Is(NewError(%q), its sentinel) = false", s.code)
		}
		wrapped := fmt.Errorf("calling bank/alice: %w", err)
		if !errors.Is(wrapped, s.err) {
			t.Errorf("errors.Is(wrapped %q, its sentinel) = false", s.code)
		}
		var e *Error
		if !errors.As(wrapped, &e) || e.Code != s.code || e.Message != "some message" {
			t.Errorf("errors.As(wrapped %q) = %+v", s.code, e)
		}
		for _, other := range sentinels {
			if other.code != s.code && errors.Is(err, other.err) {
				t.Errorf("errors.Is(NewError(%q), sentinel %q) = true", s.code, other.code)
			}
		}
		if errors.Is(errors.New(s.code), s.err) {
			t.Errorf("a plain error with the text %q matches the sentinel", s.code)
		}
	}
	// Application codes match each other by code, and no sentinel.
	app := NewError("insufficient_funds", "balance 5")
	if !errors.Is(app, NewError("insufficient_funds", "")) {
		t.Errorf("application errors with the same code do not match")
	}
	for _, s := range sentinels {
		if errors.Is(app, s.err) {
			t.Errorf("application error matches sentinel %q", s.code)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{NewError(CodeTimeout, "ask bank/alice: no reply in 5s"), "timeout: ask bank/alice: no reply in 5s"},
		{NewError(CodeTimeout, ""), "timeout"},
		{ErrMailboxFull, "mailbox_full"},
		{NewError("insufficient_funds", "balance 5"), "insufficient_funds: balance 5"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestIsSystemCode(t *testing.T) {
	for _, s := range sentinels {
		if !IsSystemCode(s.code) {
			t.Errorf("IsSystemCode(%q) = false", s.code)
		}
	}
	for _, code := range []string{"", "insufficient_funds", "Timeout", "not_found"} {
		if IsSystemCode(code) {
			t.Errorf("IsSystemCode(%q) = true", code)
		}
	}
}
