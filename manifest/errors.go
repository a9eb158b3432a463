package manifest

import (
	"fmt"
	"strings"
)

// Error is one problem in a manifest: where it is and what to do about it.
// Its Error method gives the one-line form
//
//	wactor.yaml:7:5: actors[0].modul: unknown field "modul" (did you mean "module"?)
type Error struct {
	// File is the manifest's name, as given to Load or Parse.
	File string
	// Line and Column locate the problem, both counted from 1. They are 0
	// when the problem has no place in the file.
	Line, Column int
	// Path is the field, such as "actors[0].module"; empty for the file as
	// a whole.
	Path string
	// Msg says what is wrong and what to do.
	Msg string
}

// Error returns "file:line:column: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a manifest, in file order. It is never
// empty when returned. errors.As with a **Error target finds the first.
type ErrorList []*Error

// Error returns one line per problem.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}
