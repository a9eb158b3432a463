package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

const wazeroPath = "github.com/tetratelabs/wazero"

// runVersion prints the versions of wactor, Go and wazero.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return usageError(stderr, "version", "version takes no arguments")
	}
	fmt.Fprintf(stdout, "wactor %s\ngo     %s\nwazero %s\n", version, runtime.Version(), moduleVersion(wazeroPath))
	return exitOK
}

// moduleVersion returns the version of the module path linked into the
// binary, or "unknown" when the binary carries no build information.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range info.Deps {
		if m.Path != path {
			continue
		}
		if m.Replace != nil {
			return m.Replace.Version + " (replacing " + m.Version + ")"
		}
		return m.Version
	}
	return "unknown"
}
