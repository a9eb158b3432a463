package main

import (
	"testing"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
)

// TestManifestAndHostDefaultsAgree ties the manifest's defaults and bounds
// of an actor type's limits to the host's, which a TypeConfig left zero
// gets: a type in a manifest and one deployed through the Go API, or
// inspected, must get the same limits.
func TestManifestAndHostDefaultsAgree(t *testing.T) {
	eq := func(what string, m, h int64) {
		t.Helper()
		if m != h {
			t.Errorf("%s: the manifest says %d, the host %d", what, m, h)
		}
	}
	eq("max_memory", int64(manifest.DefaultMaxMemory), host.DefaultMaxMemory)
	eq("max_message", int64(manifest.DefaultMaxMessage), host.DefaultMaxMessage)
	eq("turn_timeout", int64(manifest.DefaultTurnTimeout), int64(host.DefaultTurnTimeout))
	eq("ask_timeout", int64(manifest.DefaultAskTimeout), int64(host.DefaultAskTimeout))
	eq("table entry cost", manifest.TableEntryCost, host.TableEntryCost)
	eq("max_table_entries bound", manifest.MaxTableEntriesLimit, host.MaxTableEntriesLimit)
	for _, mem := range []manifest.Size{manifest.WasmPageSize, manifest.MiB, manifest.DefaultMaxMemory, manifest.MaxMemoryLimit} {
		eq("max_table_entries for max_memory "+mem.String(), int64(manifest.DefaultMaxTableEntries(mem)), host.DefaultMaxTableEntries(int64(mem)))
	}
	a := manifest.Actor{MaxMemory: manifest.DefaultMaxMemory, MaxTableEntries: manifest.DefaultMaxTableEntries(manifest.DefaultMaxMemory)}
	if tc := typeConfig(a, nil); tc.MaxTableEntries != host.DefaultMaxTableEntries(tc.MaxMemory) {
		t.Errorf("typeConfig: max_table_entries %d", tc.MaxTableEntries)
	}
}
