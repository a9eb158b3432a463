package abi

import (
	"strconv"
	"strings"
)

// Ref addresses a virtual actor: its type and its id, written "type/id".
type Ref struct {
	Type string
	ID   string
}

// Limits on the parts of a Ref.
const (
	MaxTypeLen = 64
	MaxIDLen   = 256
)

func (r Ref) String() string { return r.Type + "/" + r.ID }

// IsZero reports whether r is the zero Ref (used for "no sender").
func (r Ref) IsZero() bool { return r.Type == "" && r.ID == "" }

// ParseRef parses "type/id". The type is letters, digits, '.', '_' and '-',
// starting with a letter or digit; the id is any text without control
// characters and may itself contain '/'.
func ParseRef(s string) (Ref, error) {
	typ, id, ok := strings.Cut(s, "/")
	if !ok {
		return Ref{}, NewError(CodeBadRequest, "actor ref "+strconv.Quote(s)+" is not of the form type/id")
	}
	r := Ref{Type: typ, ID: id}
	return r, r.Validate()
}

// Validate reports whether r's type and id are well formed.
func (r Ref) Validate() error {
	if err := ValidateType(r.Type); err != nil {
		return err
	}
	if r.ID == "" {
		return NewError(CodeBadRequest, "actor ref "+strconv.Quote(r.String())+" has an empty id")
	}
	if len(r.ID) > MaxIDLen {
		return NewError(CodeBadRequest, "actor id is longer than 256 bytes")
	}
	for i := 0; i < len(r.ID); i++ {
		if c := r.ID[i]; c < 0x20 || c == 0x7f {
			return NewError(CodeBadRequest, "actor id "+strconv.Quote(r.ID)+" contains a control character")
		}
	}
	return nil
}

// ValidateType reports whether t is a well-formed actor type name.
func ValidateType(t string) error {
	if t == "" {
		return NewError(CodeBadRequest, "actor type is empty")
	}
	if len(t) > MaxTypeLen {
		return NewError(CodeBadRequest, "actor type "+strconv.Quote(t)+" is longer than 64 bytes")
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return NewError(CodeBadRequest, "actor type "+strconv.Quote(t)+
				" must be letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
	}
	return nil
}
