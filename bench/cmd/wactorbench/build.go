package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// findRoot returns the repository's root: the nearest directory at or
// above dir that holds guest-sdk/c/wactor.h and examples/wasm.
func findRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, "guest-sdk", "c", "wactor.h")) && isFile(filepath.Join(d, "examples", "wasm", "go.mod")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no wactor repository at or above %s (looked for guest-sdk/c/wactor.h); run from the repository or pass -root", dir)
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// guest is one built guest module, or why it could not be built.
type guest struct {
	Path string
	Go   bool
	Err  error
}

// guestSet holds the modules the scenarios need, by name: counter,
// pingpong, ring, each as "NAME-c" and "NAME-go"; the counter also as
// "counter-rust" and "counter-as".
type guestSet map[string]*guest

// cFlags are the Makefile's CFLAGS_WASM.
var cFlags = []string{"--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-O2", "-Wl,--strip-debug"}

// buildGuests builds the guests into dir with the same commands as the
// Makefile's build-c and build-go targets. A guest that does not build is
// recorded with its error; the scenarios that need it say so.
func buildGuests(ctx context.Context, root, dir string, logf func(string, ...any)) guestSet {
	gs := guestSet{}
	sdk := filepath.Join(root, "guest-sdk", "c")
	cSources := map[string]string{
		"counter":  filepath.Join(root, "examples", "wasm", "c", "counter", "counter.c"),
		"pingpong": filepath.Join(root, "examples", "wasm", "c", "pingpong", "pingpong.c"),
		"ring":     filepath.Join(root, "bench", "guests", "c", "ring.c"),
	}
	_, clangErr := exec.LookPath("clang")
	if clangErr == nil {
		_, clangErr = exec.LookPath("wasm-ld")
	}
	for _, name := range []string{"counter", "pingpong", "ring"} {
		g := &guest{Path: filepath.Join(dir, name+"-c.wasm")}
		gs[name+"-c"] = g
		if clangErr != nil {
			g.Err = fmt.Errorf("%v: install clang lld wasi-libc libclang-rt-14-dev-wasm32", clangErr)
			continue
		}
		args := append(append([]string{}, cFlags...), "-I", sdk, "-o", g.Path, cSources[name], filepath.Join(sdk, "wactor.c"))
		g.Err = runBuild(ctx, g.Path, exec.CommandContext(ctx, "clang", args...), logf)
	}
	goDirs := map[string][2]string{ // module directory, package
		"counter":  {filepath.Join(root, "examples", "wasm"), "./counter"},
		"pingpong": {filepath.Join(root, "examples", "wasm"), "./pingpong"},
		"ring":     {filepath.Join(root, "bench", "guests", "ring"), "."},
	}
	for _, name := range []string{"counter", "pingpong", "ring"} {
		g := &guest{Path: filepath.Join(dir, name+"-go.wasm"), Go: true}
		gs[name+"-go"] = g
		d := goDirs[name]
		cmd := exec.CommandContext(ctx, goTool(), "build", "-buildmode=c-shared", "-o", g.Path, d[1])
		cmd.Dir = d[0]
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		g.Err = runBuild(ctx, g.Path, cmd, logf)
	}
	// Rust and AssemblyScript: their SDKs' build scripts (as the Makefile
	// runs them), each of which builds every example of its language.
	for lang, script := range map[string]string{"rust": "guest-sdk/rust/build.sh", "as": "guest-sdk/assemblyscript/build.sh"} {
		out := filepath.Join(dir, lang)
		g := &guest{Path: filepath.Join(out, "counter-"+lang+".wasm")}
		gs["counter-"+lang] = g
		g.Err = runBuild(ctx, g.Path, exec.CommandContext(ctx, filepath.Join(root, script), out), logf)
	}
	return gs
}

func runBuild(ctx context.Context, target string, cmd *exec.Cmd, logf func(string, ...any)) error {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, tail(string(out), 300))
	}
	logf("built %s in %v", filepath.Base(target), time.Since(start).Round(time.Millisecond))
	return nil
}

// goTool is the go command that built this program, or the one on PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// erlangEnv is the compiled Erlang peers, or why there are none.
type erlangEnv struct {
	Dir     string // the .beam files
	Release string // OTP release
	Err     error
}

// buildErlang compiles bench/erlang/*.erl into dir with erlc.
func buildErlang(ctx context.Context, root, dir string) erlangEnv {
	for _, tool := range []string{"erl", "erlc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return erlangEnv{Err: fmt.Errorf("%s not found: apt-get install -y erlang-base", tool)}
		}
	}
	srcs, err := filepath.Glob(filepath.Join(root, "bench", "erlang", "*.erl"))
	if err != nil || len(srcs) == 0 {
		return erlangEnv{Err: errors.New("no bench/erlang/*.erl")}
	}
	cmd := exec.CommandContext(ctx, "erlc", append([]string{"-o", dir}, srcs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return erlangEnv{Err: fmt.Errorf("erlc: %v: %s", err, tail(string(out), 300))}
	}
	rel, err := exec.CommandContext(ctx, "erl", "-noshell", "-eval",
		`io:format("OTP ~s, erts ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().`).Output()
	if err != nil {
		return erlangEnv{Dir: dir, Release: "unknown"}
	}
	return erlangEnv{Dir: dir, Release: strings.TrimSpace(string(rel))}
}

// runErlang runs module:main(args) and parses its RESULT line.
func runErlang(ctx context.Context, env erlangEnv, timeout time.Duration, module string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := append([]string{"-noshell", "-pa", env.Dir, "-s", module, "main"}, args...)
	argv = append(argv, "-s", "init", "stop")
	cmd := exec.CommandContext(ctx, "erl", argv...)
	cmd.WaitDelay = 5 * time.Second
	return runAndParse(ctx, cmd, timeout)
}

// toolVersion runs a tool to learn its version: the first line of its
// output, "" when it cannot be run.
func toolVersion(ctx context.Context, name string, args ...string) string {
	if _, err := exec.LookPath(name); err != nil {
		return ""
	}
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}
