//go:build !unix

package grantfs

import (
	"errors"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// FS is a granted folder; on this system there are none.
type FS struct {
	experimentalsys.UnimplementedFS
}

// New refuses: containment rests on the *at system calls of Unix.
func New(string, bool) (*FS, error) {
	return nil, errors.New("folder grants need a Unix system (Linux, macOS, BSD)")
}

// Close does nothing.
func (*FS) Close() error { return nil }
