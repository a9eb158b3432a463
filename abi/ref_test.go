package abi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    Ref
		wantErr string // a fragment of the error message; empty for success
	}{
		{"counter/1", Ref{"counter", "1"}, ""},
		{"Account.v2_x-y/alice", Ref{"Account.v2_x-y", "alice"}, ""},
		{"9lives/x", Ref{"9lives", "x"}, ""},
		{"files/a/b/c", Ref{"files", "a/b/c"}, ""}, // the id may hold '/'
		{"t/ id with spaces ", Ref{"t", " id with spaces "}, ""},
		{"t/\u00fc\u2603", Ref{"t", "\u00fc\u2603"}, ""},
		{"t//", Ref{"t", "/"}, ""},
		{strings.Repeat("a", 64) + "/x", Ref{strings.Repeat("a", 64), "x"}, ""},
		{"t/" + strings.Repeat("i", 256), Ref{"t", strings.Repeat("i", 256)}, ""},

		{"", Ref{}, "not of the form type/id"},
		{"counter", Ref{}, "not of the form type/id"},
		{"/1", Ref{}, "actor type is empty"},
		{"counter/", Ref{}, "has an empty id"},
		{"/", Ref{}, "actor type is empty"},
		{strings.Repeat("a", 65) + "/x", Ref{}, "longer than 64 bytes"},
		{"t/" + strings.Repeat("i", 257), Ref{}, "longer than 256 bytes"},
		{"-t/x", Ref{}, "starting with a letter or digit"},
		{".t/x", Ref{}, "starting with a letter or digit"},
		{"_t/x", Ref{}, "starting with a letter or digit"},
		{"t y/x", Ref{}, "must be letters, digits"},
		{"t:y/x", Ref{}, "must be letters, digits"},
		{"\u00fc/x", Ref{}, "must be letters, digits"},
		{"t/a\x00b", Ref{}, "control character"},
		{"t/a\nb", Ref{}, "control character"},
		{"t/\t", Ref{}, "control character"},
		{"t/\x7f", Ref{}, "control character"},
		{"t/\x1f", Ref{}, "control character"},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseRef(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
				continue
			}
			if got.String() != tt.in {
				t.Errorf("ParseRef(%q).String() = %q", tt.in, got.String())
			}
			if err := got.Validate(); err != nil {
				t.Errorf("ParseRef(%q).Validate() = %v", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error containing %q", tt.in, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseRef(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
		}
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("ParseRef(%q) error %q is not a bad_request", tt.in, err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadRequest {
			t.Errorf("ParseRef(%q) error %#v is not an *Error with code bad_request", tt.in, err)
		}
	}
}

func TestRefValidate(t *testing.T) {
	tests := []struct {
		ref Ref
		ok  bool
	}{
		{Ref{"t", "i"}, true},
		{Ref{"t", "a/b"}, true},
		{Ref{}, false},
		{Ref{"t", ""}, false},
		{Ref{"", "i"}, false},
		{Ref{"t/x", "i"}, false}, // a type cannot hold '/'
		{Ref{"t", "\x00"}, false},
	}
	for _, tt := range tests {
		if err := tt.ref.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tt.ref, err, tt.ok)
		}
	}
}

func TestValidateType(t *testing.T) {
	for _, ok := range []string{"a", "Z", "0", "a.b", "a_b", "a-b", "a--", strings.Repeat("x", MaxTypeLen)} {
		if err := ValidateType(ok); err != nil {
			t.Errorf("ValidateType(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", ".", "a b", "a/b", "a\x00", strings.Repeat("x", MaxTypeLen+1)} {
		if err := ValidateType(bad); !errors.Is(err, ErrBadRequest) {
			t.Errorf("ValidateType(%q) = %v, want a bad_request", bad, err)
		}
	}
}

func TestRefStringAndIsZero(t *testing.T) {
	if !(Ref{}).IsZero() {
		t.Errorf("Ref{}.IsZero() = false")
	}
	for _, r := range []Ref{{Type: "t"}, {ID: "i"}, {"t", "i"}} {
		if r.IsZero() {
			t.Errorf("%+v.IsZero() = true", r)
		}
	}
	if s := (Ref{"bank", "alice/savings"}).String(); s != "bank/alice/savings" {
		t.Errorf("String() = %q", s)
	}
}
