package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// browserTimeout bounds the whole browser script.
const browserTimeout = 5 * time.Minute

// chromiumPath is Debian's Chromium, which scripts/setup-toolchains.sh
// installs.
const chromiumPath = "/usr/bin/chromium"

// browserTools returns node and the browser test's folder, or fails the
// test saying what to install. WACTOR_SKIP_BROWSER=1 skips it instead, for
// a machine that cannot have Chromium; CI never sets it.
func browserTools(t *testing.T) (node, dir string) {
	t.Helper()
	dir = filepath.Join(testwasm.Root(), "e2e", "browser")
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (apt-get install chromium chromium-driver)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (Node.js)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "e2e/browser/node_modules (cd e2e/browser && npm ci)")
	}
	if len(missing) == 0 {
		return node, dir
	}
	msg := "the dashboard's browser test needs " + strings.Join(missing, ", ") + "; scripts/setup-toolchains.sh installs them (make test runs it)"
	if os.Getenv("WACTOR_SKIP_BROWSER") == "1" {
		t.Skip("WACTOR_SKIP_BROWSER=1: " + msg)
	}
	t.Fatal(msg)
	return "", ""
}

// getAuth sends a GET with the token and returns the status and body.
func (s *server) getAuth(path, token string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: callTimeout}).Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

// clusterAuth returns s's GET /v1/cluster, sent with the token.
func (s *server) clusterAuth(token string) clusterView {
	s.t.Helper()
	status, body := s.getAuth("/v1/cluster", token)
	var v clusterView
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil {
		s.t.Fatalf("GET /v1/cluster: %d %s", status, body)
	}
	return v
}

type deadLetterRow struct {
	ID, Target, Method, Error string
}

func (s *server) deadLetters(token string) []deadLetterRow {
	s.t.Helper()
	status, body := s.getAuth("/v1/deadletters", token)
	var page struct{ Deadletters []deadLetterRow }
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil {
		s.t.Fatalf("GET /v1/deadletters = %d %s", status, body)
	}
	return page.Deadletters
}

// waitDeadLetter waits for a dead letter to target and returns it.
func (s *server) waitDeadLetter(token, target string) deadLetterRow {
	s.t.Helper()
	deadline := time.Now().Add(callTimeout)
	for {
		for _, d := range s.deadLetters(token) {
			if d.Target == target {
				return d
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no dead letter to %s within %s:\n%s", target, callTimeout, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDashboardInBrowser runs the dashboard in headless Chromium against
// the real binary with a token: e2e/browser/dashboard.mjs checks that
// every page is refused without the token, logs in, reads the overview,
// an actor's state and reminders, the reminders and the members, replays
// and deletes dead letters through their confirmations and sees them go,
// and sees a new one appear without a reload.
func TestDashboardInBrowser(t *testing.T) {
	node, dir := browserTools(t)
	const token = "e2e-dashboard-token-0123456789"
	a := dashboardApp(t, []string{"counter", "alarm", "bank"}, `version: 1
storage:
  kind: badger
actors:
  - type: counter
    module: counter.wasm
  - type: alarm
    module: alarm.wasm
  - type: account
    module: bank.wasm
`)
	s := startWith(t, a, []string{"WACTOR_TOKEN=" + token}, "--http-addr", "127.0.0.1:0")

	// The data the pages must show: an actor's state, a reminder, and two
	// dead letters (transfers the account cannot cover: the actor refuses
	// them with insufficient_funds).
	s.ask("/v1/actors/counter/dash-1/add", `{"n":7}`, `{"n":7}`)
	s.ask("/v1/actors/alarm/dash-2/set", `{"in_ms":3600000}`, `{"fired":0}`)
	tell := func(path, body string) {
		t.Helper()
		if status, got := s.post(path, body, "Prefer", "respond-async"); status != http.StatusAccepted {
			t.Fatalf("POST %s = %d %s; want 202", path, status, got)
		}
	}
	tell("/v1/actors/account/poor/transfer", `{"to":"rich","amount":50}`)
	replay := s.waitDeadLetter(token, "account/poor")
	tell("/v1/actors/account/poorer/transfer", `{"to":"rich","amount":60}`)
	remove := s.waitDeadLetter(token, "account/poorer")
	if !strings.HasPrefix(replay.Error, "insufficient_funds:") {
		t.Fatalf("the dead letter's error is %q; want insufficient_funds", replay.Error)
	}
	// Now the replayed transfer can be covered.
	s.ask("/v1/actors/account/poor/deposit", `{"amount":100}`, `{"balance":100}`)

	// What the node serves beyond this branch's routes decides what the
	// pages must show.
	metricsStatus, _ := s.getAuth("/metrics", token)
	if v := s.clusterAuth(token); v.Clustered {
		t.Fatalf("a node without a cluster section: %+v", v)
	}
	if metricsStatus != http.StatusOK && metricsStatus != http.StatusNotFound {
		t.Fatalf("GET /metrics = %d; want 200 or 404", metricsStatus)
	}
	shots := os.Getenv("WACTOR_E2E_SHOTS") // a folder for screenshots, to look at
	want := map[string]any{
		"url": s.url, "token": token, "chromium": chromiumPath,
		"types":      []string{"account", "alarm", "counter"},
		"counter":    map[string]any{"type": "counter", "id": "dash-1", "n": 7},
		"alarm":      map[string]any{"type": "alarm", "id": "dash-2", "name": "alarm"},
		"replay":     map[string]any{"id": replay.ID, "target": replay.Target},
		"remove":     map[string]any{"id": remove.ID, "target": remove.Target},
		"live":       map[string]any{"path": "/v1/actors/account/poorest/transfer", "body": `{"to":"rich","amount":70}`, "target": "account/poorest"},
		"metrics":    metricsStatus == http.StatusOK,
		"metricsRow": map[string]any{"type": "counter", "method": "add", "path": "/v1/actors/counter/dash-3/add", "body": `{"n":1}`},
		"cluster":    nil,
		"shots":      shots,
	}
	runBrowser(t, node, dir, want)

	// What the clicks did, seen from the API: the replayed transfer went
	// through, the deleted letter is gone, the live one is kept.
	s.ask("/v1/actors/account/poor/balance", ``, `{"balance":50,"sent":1,"received":0}`)
	var targets []string
	for _, d := range s.deadLetters(token) {
		targets = append(targets, d.Target)
	}
	if !slices.Equal(targets, []string{"account/poorest"}) {
		t.Errorf("dead letters after the browser test: %v; want only account/poorest's", targets)
	}
	s.stop(syscall.SIGTERM)
}

// dashboardApp writes the Go example modules named (as NAME.wasm) and the
// manifest into a temporary folder.
func dashboardApp(t *testing.T, modules []string, manifest string) *app {
	t.Helper()
	dir := t.TempDir()
	for _, name := range modules {
		write(t, filepath.Join(dir, name+".wasm"), testwasm.Go(t, name))
	}
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(manifest))
	return a
}

// runBrowser runs e2e/browser/dashboard.mjs with what it must find.
func runBrowser(t *testing.T, node, dir string, want map[string]any) {
	t.Helper()
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "dashboard.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WACTOR_E2E="+string(wantJSON))
	out, err := runBounded(cmd, browserTimeout)
	t.Logf("node dashboard.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed (%v); its output is above", err)
	}
}

// TestDashboardScripts runs the unit tests of the dashboard's Prometheus
// parser and rate computation (e2e/browser/prom.test.mjs) with node.
func TestDashboardScripts(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the dashboard's script tests need node (Node.js), which make test requires")
	}
	cmd := exec.Command(node, "--test", "prom.test.mjs")
	cmd.Dir = filepath.Join(testwasm.Root(), "e2e", "browser")
	out, err := runBounded(cmd, time.Minute)
	if err != nil {
		t.Fatalf("node --test prom.test.mjs: %v\n%s", err, out)
	}
	t.Logf("node --test prom.test.mjs:\n%s", out)
}

// TestDashboardWithoutMetrics: on a node whose metrics are turned off
// (GET /metrics answers 404) the overview says "metrics unavailable" and
// still lists the types and activations.
func TestDashboardWithoutMetrics(t *testing.T) {
	node, dir := browserTools(t)
	const token = "e2e-dashboard-token-0123456789"
	a := dashboardApp(t, []string{"counter"}, `version: 1
metrics:
  enabled: false
actors:
  - type: counter
    module: counter.wasm
`)
	s := startWith(t, a, []string{"WACTOR_TOKEN=" + token}, "--http-addr", "127.0.0.1:0")
	s.ask("/v1/actors/counter/dash-1/add", `{"n":7}`, `{"n":7}`)
	if status, body := s.getAuth("/metrics", token); status != http.StatusNotFound {
		t.Fatalf("GET /metrics with metrics off = %d %s; want 404", status, body)
	}
	runBrowser(t, node, dir, map[string]any{
		"url": s.url, "token": token, "chromium": chromiumPath, "overviewOnly": true,
		"types":   []string{"counter"},
		"counter": map[string]any{"type": "counter", "id": "dash-1", "n": 7},
		"metrics": false, "shots": os.Getenv("WACTOR_E2E_SHOTS"),
	})
	s.stop(syscall.SIGTERM)
}

// TestDashboardMembers: the members page of a node in a cluster (of one,
// with its own NATS server) lists it, marked as this node.
func TestDashboardMembers(t *testing.T) {
	node, dir := browserTools(t)
	const token = "e2e-dashboard-token-0123456789"
	addrs := freeAddrs(t, 2)
	a := dashboardApp(t, []string{"counter"}, "version: 1\ncluster:\n  name: dash\n  routes:\n    - nats-route://"+addrs[1]+
		"\nactors:\n  - type: counter\n    module: counter.wasm\n")
	s := startWith(t, a, []string{"WACTOR_TOKEN=" + token}, "--http-addr", "127.0.0.1:0", "--node", "n1",
		"--nats-addr", addrs[0], "--nats-cluster-addr", addrs[1])
	waitUntil(t, 30*time.Second, "n1 listed active", func() bool {
		v := s.clusterAuth(token)
		return v.Clustered && slices.Equal(v.active(), []string{"n1"})
	})
	runBrowser(t, node, dir, map[string]any{
		"url": s.url, "token": token, "chromium": chromiumPath, "membersOnly": true,
		"types": []string{"counter"}, "counter": map[string]any{"type": "counter", "id": "none"},
		"cluster": map[string]any{"name": "dash", "node": "n1"}, "shots": os.Getenv("WACTOR_E2E_SHOTS"),
	})
	s.stop(syscall.SIGTERM)
}
