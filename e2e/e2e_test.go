package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/nodeproc"
	"github.com/wactor/wactor/internal/testwasm"
)

// Bounds on every wait.
const (
	buildTimeout = 5 * time.Minute
	startTimeout = 2 * time.Minute // a cold start compiles standard-Go guests
	stopTimeout  = time.Minute
	callTimeout  = 30 * time.Second
)

var (
	binDir    string // holds the wactor binary; removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wactor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wactorBin builds cmd/wactor once for the test binary and returns its
// path. The binary is built without -race even when the tests run with it:
// under the race detector wazero takes 20 to 60 seconds to compile each
// standard-Go guest. The in-process tests of cmd/wactor and gateway run
// the same code with -race.
func wactorBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "wactor")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/wactor")
		cmd.Dir = testwasm.Root()
		out, err := runBounded(cmd, buildTimeout)
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/wactor: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runBounded runs cmd and kills it when it runs past limit.
func runBounded(cmd *exec.Cmd, limit time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

// app is a folder with a manifest, the modules it names and a data folder.
type app struct {
	dir      string
	manifest string // path of wactor.yaml
	data     string
}

// newApp writes the counter guest (Go), the counter-c guest (C) and a
// manifest naming them into a temporary folder.
func newApp(t *testing.T) *app {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "counter.wasm"), testwasm.Go(t, "counter"))
	write(t, filepath.Join(dir, "counter-c.wasm"), testwasm.C(t, "counter"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(`version: 1
http:
  addr: 127.0.0.1:8080 # overridden with --http-addr
storage:
  kind: badger
  path: elsewhere # overridden with --data-dir
actors:
  - type: counter
    module: counter.wasm
  - type: counter-c
    module: counter-c.wasm
    max_memory: 1MiB
    max_message: 4KiB
`))
	return a
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// server is a running "wactor run".
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string // host:port
	url  string // http://host:port

	mu     sync.Mutex
	stderr bytes.Buffer

	exited  chan struct{} // closed when the process has exited
	waitErr error
	// starting receives the address of the log line wactor writes when
	// its health checks answer, before it deploys the types.
	starting chan string
	// listening receives the address of the "listening" line: ready.
	listening chan string
}

// start runs wactor on a's manifest and data folder, on a free port of
// 127.0.0.1, and waits until it is ready.
func start(t *testing.T, a *app) *server {
	t.Helper()
	return startWith(t, a, nil, "--http-addr", "127.0.0.1:0")
}

// startWith is start with more variables in wactor's environment and more
// arguments to wactor run. When wactor listens on every interface, the
// tests still talk to it on 127.0.0.1 only.
func startWith(t *testing.T, a *app, env []string, args ...string) *server {
	t.Helper()
	s := launch(t, a, env, args...)
	s.waitReady(time.After(startTimeout))
	return s
}

// launch starts wactor as startWith does, without waiting for anything.
func launch(t *testing.T, a *app, env []string, args ...string) *server {
	t.Helper()
	return launchVia(t, nil, a, env, args...)
}

// launchVia is launch through a program that execs wactor with its own
// arguments after its first ones (via), such as a shell that sets limits.
func launchVia(t *testing.T, via []string, a *app, env []string, args ...string) *server {
	t.Helper()
	args = append([]string{"run", "-f", a.manifest, "--data-dir", a.data, "--log-level", "debug"}, args...)
	cmd := exec.Command(wactorBin(t), args...)
	if len(via) > 0 {
		cmd = exec.Command(via[0], slices.Concat(via[1:], []string{wactorBin(t)}, args)...)
	}
	cmd.Dir = a.dir
	cmd.Env = append(environ(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, exited: make(chan struct{}), starting: make(chan string, 1), listening: make(chan string, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logDone := make(chan struct{})
	go func() {
		s.readLog(pipe)
		close(logDone)
	}()
	go func() {
		<-logDone // Wait closes the pipe: read it to the end first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("wactor's log:\n%s", s.log())
		}
	})
	return s
}

// waitReady waits, until deadline, for wactor to log "listening" and then
// for its /readyz to answer 200.
func (s *server) waitReady(deadline <-chan time.Time) {
	t := s.t
	t.Helper()
	select {
	case s.addr = <-s.listening:
	case <-s.exited:
		t.Fatalf("wactor exited before listening (%v):\n%s", s.waitErr, s.log())
	case <-deadline:
		t.Fatalf("wactor did not log \"listening\" in time:\n%s", s.log())
	}
	host, port, err := net.SplitHostPort(s.addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsUnspecified() {
		s.addr, host = net.JoinHostPort("127.0.0.1", port), "127.0.0.1"
	}
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("wactor listens on %q; the tests talk to 127.0.0.1 only", s.addr)
	}
	s.url = "http://" + s.addr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // ends when waitReady returns
		select {
		case <-deadline:
			cancel()
		case <-ctx.Done():
		}
	}()
	switch err := nodeproc.WaitReady(ctx, s.url, s.exited); {
	case errors.Is(err, nodeproc.ErrExited):
		t.Fatalf("wactor exited before it was ready (%v):\n%s", s.waitErr, s.log())
	case err != nil:
		t.Fatalf("%v:\n%s", err, s.log())
	}
}

// readLog keeps wactor's log and sends the addresses of its start-up and
// "listening" lines.
func (s *server) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		s.mu.Lock()
		s.stderr.Write(line)
		s.stderr.WriteByte('\n')
		s.mu.Unlock()
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(line, &rec) != nil || rec.Addr == "" {
			continue
		}
		to := s.listening
		if strings.HasPrefix(rec.Msg, "starting") {
			to = s.starting
		} else if rec.Msg != "listening" {
			continue
		}
		select {
		case to <- rec.Addr:
		default:
		}
	}
	io.Copy(io.Discard, r)
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends sig and waits for wactor to exit with code 0.
func (s *server) stop(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.t.Fatalf("wactor did not exit within %s of %v:\n%s", stopTimeout, sig, s.log())
	}
	if s.waitErr != nil {
		s.t.Fatalf("wactor exited with %v after %v; want exit code 0:\n%s", s.waitErr, sig, s.log())
	}
}

// post sends body to path and returns the status and the response body.
func (s *server) post(path, body string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: callTimeout}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("POST %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// ask posts and wants 200 with a reply equal, as JSON, to want.
func (s *server) ask(path, body, want string) {
	s.t.Helper()
	status, got := s.post(path, body)
	if status != http.StatusOK || !jsonEqual(got, want) {
		s.t.Fatalf("POST %s %s = %d %s; want 200 %s", path, body, status, got, want)
	}
}

// askError posts and wants an error response with the given status and code
// and a message.
func (s *server) askError(path, body string, wantStatus int, wantCode string) {
	s.t.Helper()
	status, got := s.post(path, body)
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(got), &e); err != nil {
		s.t.Fatalf("POST %s %s = %d %q: not an error body: %v", path, body, status, got, err)
	}
	if status != wantStatus || e.Error.Code != wantCode || e.Error.Message == "" {
		s.t.Fatalf("POST %s %s = %d %s; want %d with code %s and a message", path, body, status, got, wantStatus, wantCode)
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// environ is the tests' environment without the variables that would
// point wactor elsewhere, give it a token or turn tracing on: each test
// sets its own.
func environ() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "WACTOR_ADDR=") || strings.HasPrefix(kv, "WACTOR_TOKEN=") ||
			strings.HasPrefix(kv, "WACTOR_NODE=") || strings.HasPrefix(kv, "WACTOR_NATS_") || strings.HasPrefix(kv, "OTEL_")
	})
}

// wactor runs the CLI with args and returns its exit code, stdout and stderr.
func wactor(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return wactorEnv(t, nil, args...)
}

// wactorEnv is wactor with more variables in the environment.
func wactorEnv(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(wactorBin(t), args...)
	cmd.Env = append(environ(), env...) // only --addr counts
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(callTimeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("wactor %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	return 0, "", ""
}

// TestStateSurvivesRestart is the operator's path: asks, a graceful stop, a
// restart on the same data folder, and the state is still there.
func TestStateSurvivesRestart(t *testing.T) {
	a := newApp(t)
	s := start(t, a)
	s.ask("/v1/actors/counter/a/add", `{"n":7}`, `{"n":7}`)
	s.ask("/v1/actors/counter/a/add", `{"n":7}`, `{"n":14}`)
	s.ask("/v1/actors/counter-c/a/add", `{"n":5}`, `{"n":5}`)
	s.stop(syscall.SIGTERM)

	s = start(t, a)
	s.ask("/v1/actors/counter/a/get", `{}`, `{"n":14}`)
	s.ask("/v1/actors/counter-c/a/get", `{}`, `{"n":5}`)
	s.stop(syscall.SIGINT)
}

// A compile cache damaged between two runs (here: one byte flipped in
// every file) does not stop wactor: it discards what does not verify,
// says so in its log and compiles again.
func TestDamagedCompileCache(t *testing.T) {
	a := newApp(t)
	s := start(t, a)
	s.ask("/v1/actors/counter-c/a/add", `{"n":5}`, `{"n":5}`)
	s.stop(syscall.SIGTERM)

	damaged := 0
	err := filepath.WalkDir(filepath.Join(a.data, "cache"), func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			return err
		}
		b[len(b)/2] ^= 0x40
		damaged++
		return os.WriteFile(p, b, 0o600)
	})
	if err != nil || damaged < 2 {
		t.Fatalf("damaging the cache: %d files, %v", damaged, err)
	}

	s = start(t, a)
	s.ask("/v1/actors/counter/a/add", `{"n":1}`, `{"n":1}`)
	s.ask("/v1/actors/counter-c/a/get", `{}`, `{"n":5}`)
	if n := strings.Count(s.log(), "discarded a compile cache entry"); n < 2 {
		t.Errorf("wactor logged %d discarded cache entries, want one per module at least:\n%s", n, s.log())
	}
	s.stop(syscall.SIGTERM)
}

func TestHTTPErrors(t *testing.T) {
	s := start(t, newApp(t))
	s.askError("/v1/actors/counter/a/add", `{"n":`, http.StatusBadRequest, "bad_request")
	s.askError("/v1/actors/nosuch/a/add", `{"n":1}`, http.StatusNotFound, "unknown_type")
	s.askError("/v1/actors/counter/a/nosuch", `{}`, http.StatusNotFound, "unknown_method")
	s.askError("/v1/actors/counter/a/add", `{"n":"seven"}`, http.StatusBadRequest, "bad_request")
	s.stop(syscall.SIGTERM)
}

func TestTell(t *testing.T) {
	s := start(t, newApp(t))
	status, body := s.post("/v1/actors/counter/t/add", `{"n":2}`, "Prefer", "respond-async")
	if status != http.StatusAccepted {
		t.Fatalf("tell = %d %s; want 202", status, body)
	}
	// The tell is processed after 202; a later ask from the same sender
	// may still overtake it, so poll.
	deadline := time.Now().Add(callTimeout)
	for {
		status, body = s.post("/v1/actors/counter/t/get", `{}`)
		if status == http.StatusOK && jsonEqual(body, `{"n":2}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get after a tell of add 2 = %d %s; want {\"n\":2} within %s", status, body, callTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop(syscall.SIGTERM)
}

func TestCLICall(t *testing.T) {
	s := start(t, newApp(t))

	code, stdout, stderr := wactor(t, "call", "counter/cli", "add", `{"n":3}`, "--addr", s.url)
	if code != 0 || !jsonEqual(stdout, `{"n":3}`) {
		t.Fatalf("wactor call add = exit %d, stdout %q, stderr %q; want 0 and {\"n\":3}", code, stdout, stderr)
	}
	code, stdout, stderr = wactor(t, "tell", "--addr", s.url, "counter/cli", "add", `{"n":1}`)
	if code != 0 || strings.TrimSpace(stdout) != "accepted" {
		t.Fatalf("wactor tell = exit %d, stdout %q, stderr %q; want 0 and accepted", code, stdout, stderr)
	}
	code, stdout, stderr = wactor(t, "call", "--addr", s.addr, "nosuch/a", "get") // host:port works too
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "wactor: unknown_type: ") {
		t.Fatalf("wactor call nosuch/a = exit %d, stdout %q, stderr %q; want 1 and \"wactor: unknown_type: ...\"", code, stdout, stderr)
	}
	code, _, stderr = wactor(t, "call", "--addr", s.url, "counter/cli", "add", `{"n":"x"}`)
	if code != 1 || !strings.HasPrefix(stderr, "wactor: bad_request: ") {
		t.Fatalf("wactor call with a bad payload = exit %d, stderr %q; want 1 and \"wactor: bad_request: ...\"", code, stderr)
	}
	s.stop(syscall.SIGTERM)

	// Nothing listens any more on the address.
	code, _, stderr = wactor(t, "call", "--addr", s.url, "counter/cli", "get")
	if code != 1 || !strings.Contains(stderr, s.url) || !strings.Contains(stderr, "wactor run") {
		t.Fatalf("wactor call with nothing listening = exit %d, stderr %q; want 1, the address and a hint to start wactor run", code, stderr)
	}
}

func TestManifestErrorPosition(t *testing.T) {
	a := newApp(t)
	write(t, a.manifest, []byte(`version: 1
storage:
  kind: memory
actors:
  - type: counter
    modul: counter.wasm
`))
	cmd := exec.Command(wactorBin(t), "run", "-f", "wactor.yaml", "--http-addr", "127.0.0.1:0")
	cmd.Dir = a.dir
	out, err := runBounded(cmd, startTimeout)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("wactor run with a typo in the manifest: %v; want exit code 2\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^wactor\.yaml:6:5: actors\[0\]\.modul: `).Match(out) {
		t.Fatalf("wactor run with a typo in the manifest printed:\n%s\nwant a line starting wactor.yaml:6:5: actors[0].modul:", out)
	}
}
