package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
)

func setupInspect(fs *flag.FlagSet) runner {
	file := fs.String("f", "wactor.yaml", "the manifest `FILE` that --type is read from")
	typ := fs.String("type", "", "apply the limits of actor type `TYPE` in the manifest")
	return func(args []string, stdout, stderr io.Writer) int {
		return runInspect(args, *file, *typ, stdout, stderr)
	}
}

// runInspect prints what the host sees in a module and exits with exitFail
// when the host would refuse it.
func runInspect(args []string, file, typ string, stdout, stderr io.Writer) int {
	if len(args) > 1 || (len(args) == 0 && typ == "") {
		return usageError(stderr, "inspect", "inspect takes one module file, as in: wactor inspect counter.wasm, or --type TYPE")
	}
	a := manifest.Actor{}
	if typ != "" {
		m, err := manifest.Load(file)
		if err != nil {
			fmt.Fprintf(stderr, "wactor: %v\n", err)
			return exitFail
		}
		var ok bool
		if a, ok = m.Actor(typ); !ok {
			fmt.Fprintf(stderr, "wactor: %s has no actor type %q\n", file, typ)
			return exitFail
		}
	}
	if len(args) == 1 {
		a.Module = args[0]
	}
	wasm, err := os.ReadFile(a.Module)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	info, err := host.Inspect(context.Background(), typeConfig(a, wasm))
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %s: %v\n", a.Module, err)
		return exitFail
	}
	fmt.Fprintf(stdout, "module:      %s (%d bytes)\n", a.Module, len(wasm))
	fmt.Fprintf(stdout, "limits:      %s\n", limits(info.Config))
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

// limits describes the limits a module was inspected with.
func limits(tc host.TypeConfig) string {
	return fmt.Sprintf("max_memory %s, max_table_entries %d, start-up %v",
		manifest.Size(tc.MaxMemory), tc.MaxTableEntries, tc.TurnTimeout)
}
