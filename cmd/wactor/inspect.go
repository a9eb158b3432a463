package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wactor/wactor/host"
)

// runInspect prints what the host sees in a module and exits with exitFail
// when the host would refuse it.
func runInspect(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		return usageError(stderr, "inspect", "inspect takes one module file, as in: wactor inspect counter.wasm")
	}
	path := args[0]
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	info, err := host.Inspect(context.Background(), host.TypeConfig{Module: wasm})
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %s: %v\n", path, err)
		return exitFail
	}
	fmt.Fprintf(stdout, "module:      %s (%d bytes)\n", path, len(wasm))
	if info.ABIVersion > 0 {
		fmt.Fprintf(stdout, "ABI version: %d\n", info.ABIVersion)
	} else {
		fmt.Fprintln(stdout, "ABI version: unknown")
	}
	list := func(title string, items []string) {
		fmt.Fprintf(stdout, "%s (%d):\n", title, len(items))
		for _, it := range items {
			fmt.Fprintf(stdout, "  %s\n", it)
		}
	}
	list("exports", info.Exports)
	list("imports", info.Imports)
	if len(info.Problems) == 0 {
		fmt.Fprintln(stdout, "problems:    none; the host would load this module")
		return exitOK
	}
	list("problems", info.Problems)
	return exitFail
}
