// Package testwasm builds the example guest modules for tests, with the
// local toolchains, so that no test depends on a committed binary. Each
// module is built at most once per test binary.
package testwasm

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	mu     sync.Mutex
	built  = map[string][]byte{}
	outDir string
)

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Go builds examples/wasm/<name> with the standard Go toolchain
// (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared) and returns the module.
func Go(tb testing.TB, name string) []byte {
	tb.Helper()
	return build(tb, "go/"+name, func(out string) *exec.Cmd {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+name)
		cmd.Dir = filepath.Join(Root(), "examples", "wasm")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return cmd
	})
}

// C builds examples/wasm/c/<name>/<name>.c with the C guest SDK, using clang
// for wasm32-wasi (Debian packages clang, lld, wasi-libc,
// libclang-rt-14-dev-wasm32). A source that does not include "wactor.h"
// speaks the ABI by hand (examples/wasm/c/hostile) and is built without the
// SDK, as the Makefile does.
func C(tb testing.TB, name string) []byte {
	tb.Helper()
	return build(tb, "c/"+name, func(out string) *exec.Cmd {
		root := Root()
		src := filepath.Join(root, "examples", "wasm", "c", name, name+".c")
		args := []string{"--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-O2",
			"-I", filepath.Join(root, "guest-sdk", "c"), "-o", out, src}
		if text, err := os.ReadFile(src); err != nil || strings.Contains(string(text), `#include "wactor.h"`) {
			args = append(args, filepath.Join(root, "guest-sdk", "c", "wactor.c"))
		}
		return exec.Command("clang", args...)
	})
}

// Rust builds examples/wasm/rust/<name> with the Rust guest SDK's build
// script (Debian packages rustc, cargo, libstd-rust-dev-wasm32), which
// builds every Rust example at once.
func Rust(tb testing.TB, name string) []byte {
	tb.Helper()
	return build(tb, "rust/"+name, func(out string) *exec.Cmd {
		dir := filepath.Join(filepath.Dir(out), "rust")
		return exec.Command("sh", "-c", `"$0" "$1" && cp "$1/$2-rust.wasm" "$3"`,
			filepath.Join(Root(), "guest-sdk", "rust", "build.sh"), dir, name, out)
	})
}

// AS builds examples/wasm/assemblyscript/<name> with the AssemblyScript
// guest SDK's build script (node and npm; it installs the compiler with
// npm ci), which builds every AssemblyScript example at once.
func AS(tb testing.TB, name string) []byte {
	tb.Helper()
	return build(tb, "as/"+name, func(out string) *exec.Cmd {
		dir := filepath.Join(filepath.Dir(out), "as")
		return exec.Command("sh", "-c", `"$0" "$1" && cp "$1/$2-as.wasm" "$3"`,
			filepath.Join(Root(), "guest-sdk", "assemblyscript", "build.sh"), dir, name, out)
	})
}

func build(tb testing.TB, key string, command func(out string) *exec.Cmd) []byte {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if wasm, ok := built[key]; ok {
		return wasm
	}
	if outDir == "" {
		dir, err := os.MkdirTemp("", "wactor-testwasm-")
		if err != nil {
			tb.Fatal(err)
		}
		outDir = dir // left for the OS to clean; shared by every test of the binary
	}
	out := filepath.Join(outDir, strings.ReplaceAll(key, "/", "-")+".wasm")
	cmd := command(out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the %s guest failed (%s): %v\n%s\nInstall the toolchain (see README) or run make build.", key, strings.Join(cmd.Args, " "), err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	built[key] = wasm
	return wasm
}

// CacheDir returns a wazero compilation cache directory shared by every
// test binary on this machine, so that each guest is compiled once rather
// than once per package (a standard-Go guest takes seconds to compile, more
// under the race detector). wazero writes cache files atomically, so
// concurrent test binaries may share it.
func CacheDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "wactor-test-compile-cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
