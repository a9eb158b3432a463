package main

import (
	"bytes"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testlog"
	"github.com/wactor/wactor/internal/testwasm"
)

// runCLI runs the CLI in process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring, or "" for empty output
		stderr string // likewise
	}{
		{name: "no arguments", args: nil, code: exitUsage, stderr: "Commands:"},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: "Commands:"},
		{name: "-h", args: []string{"-h"}, code: exitOK, stdout: "Commands:"},
		{name: "--help", args: []string{"--help"}, code: exitOK, stdout: "Commands:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{name: "help of a command", args: []string{"help", "call"}, code: exitOK, stdout: "-idempotency-key"},
		{name: "help of run", args: []string{"help", "run"}, code: exitOK, stdout: "-data-dir"},
		{name: "help of an unknown command", args: []string{"help", "nope"}, code: exitUsage, stderr: `unknown command "nope"`},
		{name: "-h of a command", args: []string{"call", "-h"}, code: exitOK, stdout: "Usage: wactor call TYPE/ID METHOD"},
		{name: "unknown flag", args: []string{"call", "--nope"}, code: exitUsage, stderr: "flag provided but not defined: -nope"},
		{name: "call without method", args: []string{"call", "counter/a"}, code: exitUsage, stderr: "call takes TYPE/ID METHOD [JSON]"},
		{name: "call with a bad ref", args: []string{"call", "counter", "get"}, code: exitUsage, stderr: "not of the form TYPE/ID"},
		{name: "call with bad JSON", args: []string{"call", "counter/a", "add", `{"n":`}, code: exitUsage, stderr: "not valid JSON"},
		{name: "call with a bad address", args: []string{"call", "--addr", "ftp://x", "counter/a", "get"}, code: exitUsage, stderr: "not an http URL"},
		{name: "inspect without module", args: []string{"inspect"}, code: exitUsage, stderr: "inspect takes one module file"},
		{name: "run with an argument", args: []string{"run", "wactor.yaml"}, code: exitUsage, stderr: "name the manifest with -f"},
		{name: "version", args: []string{"version"}, code: exitOK, stdout: "wactor dev"},
		{name: "--version", args: []string{"--version"}, code: exitOK, stdout: "wazero "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			check := func(name, got, want string) {
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s:\n%s\nwant it to contain %q", name, got, want)
				}
			}
			check("stdout", stdout, tt.stdout)
			check("stderr", stderr, tt.stderr)
		})
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		addr string
		code int
	}{
		{args: []string{"a/b", "m"}, pos: []string{"a/b", "m"}, addr: "default"},
		{args: []string{"--addr", "x", "a/b", "m"}, pos: []string{"a/b", "m"}, addr: "x"},
		{args: []string{"a/b", "--addr=x", "m", "{}"}, pos: []string{"a/b", "m", "{}"}, addr: "x"},
		{args: []string{"a/b", "m", "-addr", "x"}, pos: []string{"a/b", "m"}, addr: "x"},
		{args: []string{"a/b", "--", "-5", "--addr"}, pos: []string{"a/b", "-5", "--addr"}, addr: "default"},
		{args: []string{"a/b", "-h"}, code: exitOK},
		{args: []string{"a/b", "--bad"}, code: exitUsage},
		{args: []string{"a/b", "--addr"}, code: exitUsage},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		addr := fs.String("addr", "default", "")
		pos, code := parseArgs(fs, tt.args)
		if tt.code != 0 || code != -1 {
			if code != tt.code {
				t.Errorf("parseArgs(%q) code = %d; want %d", tt.args, code, tt.code)
			}
			continue
		}
		if !reflect.DeepEqual(pos, tt.pos) || *addr != tt.addr {
			t.Errorf("parseArgs(%q) = %q, addr %q; want %q, addr %q", tt.args, pos, *addr, tt.pos, tt.addr)
		}
	}
}

// fakeGateway records the last request and answers with status and body.
type fakeGateway struct {
	mu     sync.Mutex
	req    *http.Request
	body   string
	status int
	answer string
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.req, g.body = r, string(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(g.status)
	io.WriteString(w, g.answer)
}

func TestCall(t *testing.T) {
	g := &fakeGateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)

	tests := []struct {
		name     string
		args     []string
		status   int
		answer   string
		code     int
		stdout   string
		stderr   string
		wantPath string
		wantBody string
		header   map[string]string
	}{
		{
			name: "ask", args: []string{"call", "counter/a", "add", `{"n":7}`},
			status: 200, answer: "{\"n\":7}\n", code: 0, stdout: "{\"n\":7}\n",
			wantPath: "/v1/actors/counter/a/add", wantBody: `{"n":7}`,
			header: map[string]string{"Content-Type": "application/json", "Prefer": "", "Idempotency-Key": ""},
		},
		{
			name: "ask without payload, id with a slash", args: []string{"call", "counter/a/b c", "get"},
			status: 200, answer: `{"n":0}`, code: 0, stdout: "{\"n\":0}\n",
			wantPath: "/v1/actors/counter/a%2Fb%20c/get", wantBody: "",
		},
		{
			name: "ask with idempotency key", args: []string{"call", "counter/a", "add", `{"n":1}`, "--idempotency-key", "k1"},
			status: 200, answer: `{"n":8}`, code: 0, stdout: "{\"n\":8}\n",
			wantPath: "/v1/actors/counter/a/add", wantBody: `{"n":1}`,
			header: map[string]string{"Idempotency-Key": "k1"},
		},
		{
			name: "tell", args: []string{"tell", "counter/a", "add", `{"n":1}`},
			status: 202, answer: `{"status":"accepted"}`, code: 0, stdout: "accepted\n",
			wantPath: "/v1/actors/counter/a/add", wantBody: `{"n":1}`,
			header: map[string]string{"Prefer": "respond-async"},
		},
		{
			name: "error", args: []string{"call", "nosuch/a", "get"},
			status: 404, answer: `{"error":{"code":"unknown_type","message":"no actor type \"nosuch\""}}`,
			code: 1, stderr: "wactor: unknown_type: no actor type \"nosuch\"\n",
		},
		{
			name: "application error", args: []string{"call", "bank/a", "withdraw", `{"amount":5}`},
			status: 422, answer: `{"error":{"code":"insufficient_funds","message":"balance is 3"}}`,
			code: 1, stderr: "wactor: insufficient_funds: balance is 3\n",
		},
		{
			name: "error without an error body", args: []string{"call", "counter/a", "get"},
			status: 502, answer: `bad gateway`,
			code: 1, stderr: "answered 502 Bad Gateway: bad gateway",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.mu.Lock()
			g.status, g.answer, g.req = tt.status, tt.answer, nil
			g.mu.Unlock()
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code || stdout != tt.stdout || !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.req == nil {
				t.Fatal("no request reached the gateway")
			}
			if tt.wantPath != "" && (g.req.Method != http.MethodPost || g.req.URL.EscapedPath() != tt.wantPath || g.body != tt.wantBody) {
				t.Errorf("request %s %s %q; want POST %s %q", g.req.Method, g.req.URL.EscapedPath(), g.body, tt.wantPath, tt.wantBody)
			}
			for k, v := range tt.header {
				if got := g.req.Header.Get(k); got != v {
					t.Errorf("header %s = %q; want %q", k, got, v)
				}
			}
		})
	}
}

func TestCallNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, _, stderr := runCLI(t, "call", "--addr", addr, "counter/a", "get")
	if code != exitFail || !strings.Contains(stderr, "http://"+addr) || !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "wactor run") {
		t.Fatalf("exit %d, stderr %q; want 1, the address, connection refused and a hint to start wactor run", code, stderr)
	}
}

func TestCallTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	code, _, stderr := runCLI(t, "call", "--addr", srv.URL, "--timeout", "50ms", "counter/a", "get")
	if code != exitFail || !strings.Contains(stderr, "wactor: timeout: ") {
		t.Fatalf("exit %d, stderr %q; want 1 and a timeout", code, stderr)
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "counter.wasm")
	writeFile(t, good, testwasm.C(t, "counter"))
	code, stdout, stderr := runCLI(t, "inspect", good)
	if code != exitOK || !strings.Contains(stdout, "ABI version: 1") || !strings.Contains(stdout, "wactor_handle: (i32, i32) -> (i64)") ||
		!strings.Contains(stdout, "wactor.state_set") || !strings.Contains(stdout, "problems:    none") {
		t.Fatalf("inspect counter: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	if !strings.Contains(stdout, "limits:      max_memory 64MiB, max_table_entries 1048576, start-up 5s") {
		t.Fatalf("inspect counter does not show the default limits:\n%s", stdout)
	}

	// A type's limits apply with --type: the C counter's table (5 entries)
	// is over a max_table_entries of 4, as run would find.
	writeFile(t, filepath.Join(dir, "wactor.yaml"), []byte("version: 1\nactors:\n  - type: small\n    module: counter.wasm\n    max_table_entries: 4\n"))
	code, stdout, stderr = runCLI(t, "inspect", "--type", "small", "-f", filepath.Join(dir, "wactor.yaml"))
	if code != exitFail || !strings.Contains(stderr, "at most 4 are allowed; raise the type's max_table_entries") {
		t.Fatalf("inspect --type small: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// A memory of 4 GiB at least is refused, as run refuses it.
	huge := filepath.Join(dir, "huge.wasm")
	writeFile(t, huge, []byte("\x00asm\x01\x00\x00\x00\x05\x05\x01\x00\x80\x80\x04"))
	code, stdout, stderr = runCLI(t, "inspect", huge)
	if code != exitFail || !strings.Contains(stderr, "65536 memory pages") {
		t.Fatalf("inspect a 4 GiB memory: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	empty := filepath.Join(dir, "empty.wasm")
	writeFile(t, empty, []byte("\x00asm\x01\x00\x00\x00")) // a valid module with no exports
	code, stdout, stderr = runCLI(t, "inspect", empty)
	if code != exitFail || !strings.Contains(stdout, "problems (") || !strings.Contains(stdout, "wactor_handle") {
		t.Fatalf("inspect an empty module: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	text := filepath.Join(dir, "text.wasm")
	writeFile(t, text, []byte("(module)"))
	code, _, stderr = runCLI(t, "inspect", text)
	if code != exitFail || !strings.Contains(stderr, "text.wasm") {
		t.Fatalf("inspect a text file: exit %d, stderr %q", code, stderr)
	}

	code, _, stderr = runCLI(t, "inspect", filepath.Join(dir, "missing.wasm"))
	if code != exitFail || !strings.Contains(stderr, "no such file") {
		t.Fatalf("inspect a missing file: exit %d, stderr %q", code, stderr)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServe runs "wactor run" in process on a memory store, calls it with
// "wactor call" and stops it with a signal.
func TestServe(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the compiled-module cache of a memory store
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "counter.wasm"), testwasm.C(t, "counter"))
	manifest := filepath.Join(dir, "wactor.yaml")
	writeFile(t, manifest, []byte("version: 1\nstorage:\n  kind: memory\nactors:\n  - type: counter\n    module: counter.wasm\n"))

	f := &serveFlags{file: manifest, httpAddr: "127.0.0.1:0", logLevel: "debug"}
	sigs := make(chan os.Signal, 2)
	addrs := make(chan net.Addr, 1)
	var log testlog.Buffer
	exit := make(chan int, 1)
	go func() { exit <- f.serve(sigs, &log, func(a net.Addr) { addrs <- a }) }()

	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("serve returned %d before listening:\n%s", code, log.String())
	case <-time.After(time.Minute):
		t.Fatalf("serve did not listen within a minute:\n%s", log.String())
	}
	if !strings.Contains(log.String(), `"msg":"listening","addr":"`+addr.String()+`"`) {
		t.Errorf("the log has no listening line with the address %s:\n%s", addr, log.String())
	}
	code, stdout, stderr := runCLI(t, "call", "--addr", addr.String(), "counter/a", "add", `{"n":7}`)
	if code != 0 || stdout != "{\"n\":7}\n" {
		t.Errorf("call: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	sigs <- syscall.SIGTERM
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("serve returned %d after SIGTERM; want 0:\n%s", code, log.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("serve did not return within a minute of SIGTERM:\n%s", log.String())
	}
	if !strings.Contains(log.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line in the log:\n%s", log.String())
	}
}

func TestServeRefusals(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "counter.wasm"), []byte("\x00asm\x01\x00\x00\x00"))
	memory := filepath.Join(dir, "memory.yaml")
	writeFile(t, memory, []byte("version: 1\nstorage:\n  kind: memory\nactors:\n  - type: counter\n    module: counter.wasm\n"))
	typo := filepath.Join(dir, "typo.yaml")
	writeFile(t, typo, []byte("version: 1\nactors:\n  - type: counter\n    modul: counter.wasm\n"))
	wide := filepath.Join(dir, "wide.yaml")
	writeFile(t, wide, []byte("version: 1\nhttp:\n  addr: \":8080\"\nstorage:\n  kind: memory\nactors:\n  - type: counter\n    module: counter.wasm\n"))
	tests := []struct {
		name   string
		f      serveFlags
		token  string // $WACTOR_TOKEN; unset when empty
		code   int
		stderr string
	}{
		{name: "manifest typo", f: serveFlags{file: typo, logLevel: "info"}, code: exitUsage,
			stderr: typo + `:4:5: actors[0].modul: unknown field "modul"`},
		{name: "missing manifest", f: serveFlags{file: filepath.Join(dir, "none.yaml"), logLevel: "info"}, code: exitUsage,
			stderr: "no such file"},
		{name: "bad log level", f: serveFlags{file: memory, logLevel: "loud"}, code: exitUsage,
			stderr: `--log-level "loud"`},
		{name: "data dir with memory", f: serveFlags{file: memory, dataDir: dir, logLevel: "info"}, code: exitUsage,
			stderr: "says storage kind memory, which keeps the state in memory and nothing on disk, so the folder would go unused"},
		{name: "a module the host refuses", f: serveFlags{file: memory, httpAddr: "127.0.0.1:0", logLevel: "info"}, code: exitFail,
			stderr: "deploying"},

		// Without a token, no control plane open beyond loopback.
		{name: "0.0.0.0 without a token", f: serveFlags{file: memory, httpAddr: "0.0.0.0:0", logLevel: "info"}, code: exitUsage,
			stderr: "0.0.0.0:0 listens beyond this machine and no token is set"},
		{name: ":8080 from the manifest without a token", f: serveFlags{file: wide, logLevel: "info"}, code: exitUsage,
			stderr: ":8080 listens beyond this machine and no token is set"},
		{name: "insecure with a token", f: serveFlags{file: memory, httpAddr: "0.0.0.0:0", insecureNoToken: true, logLevel: "info"},
			token: tokEnvValue, code: exitUsage, stderr: "--insecure-no-token, yet a token is set by $WACTOR_TOKEN"},
		{name: "a short token", f: serveFlags{file: memory, httpAddr: "127.0.0.1:0", logLevel: "info"}, token: "x1y2z", code: exitUsage,
			stderr: "$WACTOR_TOKEN: the token is 5 bytes, too short"},
		// Past the check, the empty module fails to deploy: the check let
		// these through, with the right log line.
		{name: "insecure without a token", f: serveFlags{file: memory, httpAddr: "0.0.0.0:0", insecureNoToken: true, logLevel: "info"},
			code: exitFail, stderr: `"level":"WARN","msg":"control plane open to the network`},
		{name: "loopback without a token", f: serveFlags{file: memory, httpAddr: "127.0.0.1:0", logLevel: "info"}, code: exitFail,
			stderr: `"msg":"control plane open: no token set; it listens on loopback only"`},
		{name: "0.0.0.0 with a token", f: serveFlags{file: memory, httpAddr: "0.0.0.0:0", logLevel: "info"}, token: tokEnvValue, code: exitFail,
			stderr: `"msg":"control plane: bearer token required","token_from":"$WACTOR_TOKEN"`},
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, tokenEnv)
			if tt.token != "" {
				t.Setenv(tokenEnv, tt.token)
			}
			var stderr testlog.Buffer
			code := tt.f.serve(make(chan os.Signal), &stderr, nil)
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tt.code, tt.stderr)
			}
			if tt.token != "" && strings.Contains(stderr.String(), tt.token) {
				t.Fatalf("the log shows the token:\n%s", stderr.String())
			}
		})
	}
}
