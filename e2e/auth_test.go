package e2e

import (
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// get sends a GET to path with the headers (name, value pairs) and returns
// the status.
func (s *server) get(path string, header ...string) int {
	s.t.Helper()
	status, _ := s.getBody(path, header...)
	return status
}

// getBody is get, and returns the body too (up to 16 MiB).
func (s *server) getBody(path string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: callTimeout}).Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		s.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// TestOpenControlPlaneRefused: a node that would listen on every interface
// without a token refuses to start, with a message that says what to do.
func TestOpenControlPlaneRefused(t *testing.T) {
	a := newApp(t)
	cmd := exec.Command(wactorBin(t), "run", "-f", a.manifest, "--data-dir", a.data, "--http-addr", "0.0.0.0:0")
	cmd.Dir = a.dir
	cmd.Env = environ()
	out, err := runBounded(cmd, startTimeout)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("wactor run --http-addr 0.0.0.0:0 without a token: %v; want exit code 2\n%s", err, out)
	}
	for _, want := range []string{"0.0.0.0:0 listens beyond this machine and no token is set", "--token-file", "WACTOR_TOKEN", "--insecure-no-token"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"listening"`) {
		t.Errorf("wactor listened before refusing:\n%s", out)
	}
}

// TestInsecureNoToken: --insecure-no-token starts the node open on every
// interface, and says so in a warning.
func TestInsecureNoToken(t *testing.T) {
	s := startWith(t, newApp(t), nil, "--http-addr", "0.0.0.0:0", "--insecure-no-token")
	if !strings.Contains(s.log(), `"level":"WARN","msg":"control plane open to the network`) {
		t.Errorf("no warning that the control plane is open:\n%s", s.log())
	}
	if status := s.get("/v1/deadletters"); status != http.StatusOK {
		t.Errorf("GET /v1/deadletters on an open node = %d; want 200", status)
	}
	// Open to the network on purpose: reached by any name.
	if status := s.get("/v1/deadletters", "Host", "wactor.internal"); status != http.StatusOK {
		t.Errorf("GET /v1/deadletters with Host wactor.internal on an open node = %d; want 200", status)
	}
	s.stop(syscall.SIGTERM)
}

// TestOpenLoopbackRefusesOtherNames: a node without a token on loopback
// serves its control plane and dashboard to 127.0.0.1 and localhost, not
// to a page whose name was made to resolve to 127.0.0.1 (DNS rebinding).
func TestOpenLoopbackRefusesOtherNames(t *testing.T) {
	s := startWith(t, newApp(t), nil)
	_, port, _ := strings.Cut(s.addr, ":")
	for _, path := range []string{"/v1/deadletters", "/v1/types", "/ui/"} {
		if status := s.get(path, "Host", "rebound.example:"+port); status != http.StatusForbidden {
			t.Errorf("GET %s with Host rebound.example = %d; want 403", path, status)
		}
		if status := s.get(path, "Host", "localhost:"+port); status != http.StatusOK {
			t.Errorf("GET %s with Host localhost = %d; want 200", path, status)
		}
	}
	if status := s.get("/healthz", "Host", "rebound.example:"+port); status != http.StatusOK {
		t.Errorf("GET /healthz with Host rebound.example = %d; want 200 (public)", status)
	}
	s.stop(syscall.SIGTERM)
}

// TestControlPlaneToken: a node given a token in $WACTOR_TOKEN serves
// every interface; actors answer anyone, the control plane only the token,
// through HTTP and through the CLI.
func TestControlPlaneToken(t *testing.T) {
	const token = "e2e-token-0123456789abcdef"
	s := startWith(t, newApp(t), []string{"WACTOR_TOKEN=" + token}, "--http-addr", "0.0.0.0:0")
	if strings.Contains(s.log(), token) {
		t.Errorf("the log shows the token:\n%s", s.log())
	}
	s.ask("/v1/actors/counter/tok/add", `{"n":2}`, `{"n":2}`)
	if status := s.get("/v1/types"); status != http.StatusUnauthorized {
		t.Errorf("GET /v1/types without the token = %d; want 401", status)
	}
	if status := s.get("/v1/types", "Authorization", "Bearer "+token); status != http.StatusOK {
		t.Errorf("GET /v1/types with the token = %d; want 200", status)
	}

	code, stdout, stderr := wactorEnv(t, []string{"WACTOR_TOKEN=" + token}, "deadletters", "list", "--addr", s.url)
	if code != 0 || !strings.Contains(stdout, "no dead letters") {
		t.Errorf("wactor deadletters list with $WACTOR_TOKEN = exit %d, stdout %q, stderr %q; want 0 and no dead letters", code, stdout, stderr)
	}
	code, stdout, stderr = wactorEnv(t, []string{"WACTOR_TOKEN=" + strings.Repeat("x", len(token))}, "deadletters", "list", "--addr", s.url)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "wactor: unauthorized: ") {
		t.Errorf("wactor deadletters list with a wrong $WACTOR_TOKEN = exit %d, stdout %q, stderr %q; want 1 and wactor: unauthorized: ...", code, stdout, stderr)
	}
	code, _, stderr = wactor(t, "reminders", "list", "--addr", s.url)
	if code != 1 || !strings.Contains(stderr, "set $WACTOR_TOKEN") {
		t.Errorf("wactor reminders list without a token = exit %d, stderr %q; want 1 and a hint to set $WACTOR_TOKEN", code, stderr)
	}
	// Calling actors needs no token.
	code, stdout, stderr = wactor(t, "call", "counter/tok", "get", "--addr", s.url)
	if code != 0 || !jsonEqual(stdout, `{"n":2}`) {
		t.Errorf("wactor call without a token = exit %d, stdout %q, stderr %q; want 0 and {\"n\":2}", code, stdout, stderr)
	}
	s.stop(syscall.SIGTERM)
}
