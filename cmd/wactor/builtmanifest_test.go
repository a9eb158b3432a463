package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wactor/wactor/manifest"
)

// scripts/built-manifest.sh, which make run uses, turns the example
// manifest into one that loads and lists exactly the types whose module
// exists, with their settings, and names the others.
func TestBuiltManifest(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The example's layout in a folder of its own: examples/ and bin/wasm/,
	// every module there for the example to load, then only the Go ones
	// (as if C, Rust and AssemblyScript had no toolchain).
	root := t.TempDir()
	for _, d := range []string{"examples", "bin/wasm"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join(repo, "examples", "wactor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(root, "examples", "wactor.yaml"), filepath.Join(root, "examples", "wactor.built.yaml")
	writeFile(t, in, src)
	for _, m := range regexp.MustCompile(`module: \.\./bin/wasm/(\S+)`).FindAllStringSubmatch(string(src), -1) {
		writeFile(t, filepath.Join(root, "bin", "wasm", m[1]), []byte("\x00asm\x01\x00\x00\x00"))
	}
	example, err := manifest.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	var kept, left []string
	for _, a := range example.Actors {
		name := filepath.Base(a.Module)
		if strings.HasSuffix(name, "-c.wasm") || strings.HasSuffix(name, "-rust.wasm") || strings.HasSuffix(name, "-as.wasm") {
			left = append(left, a.Type)
			if err := os.Remove(a.Module); err != nil {
				t.Fatal(err)
			}
			continue
		}
		kept = append(kept, a.Type)
	}
	if len(kept) == 0 || len(left) == 0 {
		t.Fatalf("the example manifest should have Go types and others: kept %v, left %v", kept, left)
	}

	cmd := exec.Command("sh", filepath.Join(repo, "scripts", "built-manifest.sh"), in, out)
	stderr, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("built-manifest.sh: %v\n%s", err, stderr)
	}
	if want := "left out, for want of their module (see the build messages above): " + strings.Join(left, " "); !strings.Contains(string(stderr), want) {
		t.Errorf("stderr %q; want %q", stderr, want)
	}
	built, err := manifest.Load(out)
	if err != nil {
		t.Fatalf("the written manifest does not load: %v", err)
	}
	var got []string
	for _, a := range built.Actors {
		got = append(got, a.Type)
		i := slices.IndexFunc(example.Actors, func(e manifest.Actor) bool { return e.Type == a.Type })
		want := example.Actors[i]
		if a.TurnTimeout != want.TurnTimeout || a.MaxMemory != want.MaxMemory || a.Module != want.Module {
			t.Errorf("type %s: %+v; want the settings of %+v", a.Type, a, want)
		}
	}
	if !slices.Equal(got, kept) {
		t.Errorf("types %v; want %v", got, kept)
	}
	if built.Storage.Path != filepath.Join(root, "examples", "data") || built.MaxActivations != example.MaxActivations {
		t.Errorf("storage %+v, max_activations %d: the rest of the manifest changed", built.Storage, built.MaxActivations)
	}
}
