package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// startupTypes are standard-Go guests: each takes a second or more to
// compile, so that a cold start lasts long enough to be watched.
var startupTypes = []string{"counter", "greeter", "pingpong", "bank", "ticker", "alarm"}

// While wactor deploys its types, /healthz answers 200 and /readyz 503
// with the progress, which only grows, until /readyz turns 200; each type
// logs its compile time and a cache miss, and at the next start a hit.
func TestStartupHealthAndProgress(t *testing.T) {
	dir := t.TempDir()
	var manifest strings.Builder
	manifest.WriteString("version: 1\nactors:\n")
	for _, name := range startupTypes {
		write(t, filepath.Join(dir, name+".wasm"), testwasm.Go(t, name))
		fmt.Fprintf(&manifest, "  - type: %s\n    module: %s.wasm\n", name, name)
	}
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(manifest.String()))

	s := launch(t, a, nil, "--http-addr", "127.0.0.1:0")
	deadline := time.After(startTimeout)
	var url string
	select {
	case addr := <-s.starting:
		url = "http://" + addr
	case <-s.exited:
		t.Fatalf("wactor exited before starting (%v):\n%s", s.waitErr, s.log())
	case <-deadline:
		t.Fatalf("wactor did not log its start-up line in time:\n%s", s.log())
	}

	type readiness struct {
		Status   string `json:"status"`
		Deployed int    `json:"deployed"`
		Types    int    `json:"types"`
	}
	get := func(path string, into any) int {
		resp, err := http.Get(url + path)
		if strings.HasPrefix(path, "/v1/actors/") {
			resp, err = http.Post(url+path, "application/json", nil)
		}
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, s.log())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if into != nil {
			if err := json.Unmarshal(body, into); err != nil {
				t.Fatalf("GET %s: %v in %q", path, err, body)
			}
		}
		return resp.StatusCode
	}
	healthyWhileStarting, polls, last := false, 0, -1
	for ready := false; !ready; polls++ {
		var r readiness
		switch code := get("/readyz", &r); {
		case code == http.StatusOK:
			ready = true
			continue
		case code != http.StatusServiceUnavailable || r.Status != "starting" || r.Types != len(startupTypes):
			t.Fatalf("/readyz while starting: %d %+v; want 503, starting, %d types", code, r, len(startupTypes))
		case r.Deployed < last || r.Deployed > len(startupTypes):
			t.Fatalf("/readyz progress went from %d to %d of %d", last, r.Deployed, r.Types)
		}
		last = r.Deployed
		if get("/healthz", nil) == http.StatusOK {
			healthyWhileStarting = true
		}
		// An actor call (a POST) is refused until ready, unless it
		// turned ready in between.
		if code := get("/v1/actors/counter/x/get", nil); code != http.StatusServiceUnavailable && get("/readyz", nil) != http.StatusOK {
			t.Fatalf("an actor call while starting answered %d; want 503", code)
		}
		select {
		case <-deadline:
			t.Fatalf("not ready in time after %d polls:\n%s", polls, s.log())
		case <-s.exited:
			t.Fatalf("wactor exited while starting (%v):\n%s", s.waitErr, s.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !healthyWhileStarting {
		t.Fatalf("/healthz never answered 200 while /readyz said starting (%d polls)", polls)
	}
	t.Logf("%d polls while starting; last progress %d of %d", polls, last, len(startupTypes))
	s.waitReady(deadline)
	s.ask("/v1/actors/counter/x/add", `{"n":2}`, `{"n":2}`)
	s.stop(syscall.SIGTERM)
	checkDeployLog(t, s.log(), "miss")

	s = start(t, a)
	s.stop(syscall.SIGTERM)
	checkDeployLog(t, s.log(), "hit")
}

// checkDeployLog checks that log has one "deployed" line per startup type,
// with its compile time and the cache result want.
func checkDeployLog(t *testing.T, log, want string) {
	t.Helper()
	seen := map[string]bool{}
	for line := range strings.SplitSeq(log, "\n") {
		var rec struct {
			Msg       string
			Type      string
			Cache     string
			CompileMS *int64 `json:"compile_ms"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "deployed" {
			continue
		}
		if rec.CompileMS == nil || rec.Cache != want {
			t.Errorf("deploy line %s: want compile_ms and cache %q", line, want)
		}
		seen[rec.Type] = true
	}
	if len(seen) != len(startupTypes) {
		t.Errorf("deploy lines for %v; want one for each of %v:\n%s", seen, startupTypes, log)
	}
}
