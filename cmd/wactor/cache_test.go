package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

// "wactor cache info" finds the folder the way run does and counts what a
// host compiled into it; "wactor cache clean" deletes it.
func TestCacheCommand(t *testing.T) {
	userCache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", userCache)
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "counter.wasm"), testwasm.C(t, "counter"))
	const actors = "actors:\n  - type: counter\n    module: counter.wasm\n"
	memory := filepath.Join(dir, "memory.yaml")
	writeFile(t, memory, []byte("version: 1\nstorage:\n  kind: memory\n"+actors))
	badger := filepath.Join(dir, "badger.yaml")
	writeFile(t, badger, []byte("version: 1\nstorage:\n  path: state\n"+actors))

	// A host fills the folder of the memory store, as wactor run would.
	folder := filepath.Join(userCache, "wactor")
	h, err := host.New(context.Background(), host.Config{Store: memstore.New(), CacheDir: folder})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"counter", "greeter"} {
		if err := h.Deploy(context.Background(), host.TypeConfig{Name: name, Module: testwasm.C(t, name)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	expect := func(wantCode int, want string, args ...string) {
		t.Helper()
		code, stdout, stderr := runCLI(t, args...)
		if code != wantCode || !strings.Contains(stdout+stderr, want) {
			t.Fatalf("wactor %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), code, stdout, stderr, wantCode, want)
		}
	}
	expect(exitOK, "folder:  "+folder+"\nmodules: 2\nsize:    ", "cache", "info", "-f", memory)
	expect(exitOK, "modules: 2", "cache", "info", "--cache-dir", folder)
	expect(exitOK, "folder:  "+filepath.Join(dir, "state", "cache")+"\nmodules: 0\nsize:    0 B", "cache", "info", "-f", badger)
	expect(exitOK, "folder:  "+filepath.Join(dir, "other", "cache")+"\n", "cache", "info", "-f", badger, "--data-dir", filepath.Join(dir, "other"))
	expect(exitUsage, "storage kind memory, which keeps the state in memory", "cache", "info", "-f", memory, "--data-dir", dir)
	expect(exitUsage, "cache takes info or clean", "cache")
	expect(exitUsage, "cache takes info or clean", "cache", "purge")

	expect(exitOK, "deleted 2 compiled modules (", "cache", "clean", "-f", memory)
	expect(exitOK, "modules: 0\nsize:    0 B", "cache", "info", "-f", memory)
	left, err := filepath.Glob(filepath.Join(folder, "*", "*"))
	if err != nil || len(left) != 0 {
		t.Fatalf("files left after clean: %v %v", left, err)
	}
	if _, err := os.Stat(folder); err != nil {
		t.Fatalf("clean removed the folder itself: %v", err)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 150 << 20: "150.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q; want %q", n, got, want)
		}
	}
}
