package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// hup sends SIGHUP and waits for the log line the reload ends with, after
// the ones already there.
func (s *server) hup(want string) {
	s.t.Helper()
	before := strings.Count(s.log(), want)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(startTimeout)
	for strings.Count(s.log(), want) == before {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q in wactor's log within %s of SIGHUP:\n%s", want, startTimeout, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// moduleSHA reads the module's SHA-256 GET /v1/types reports for typ.
func (s *server) moduleSHA(typ string) string {
	s.t.Helper()
	resp, err := http.Get(s.url + "/v1/types")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var list struct {
		Types []struct {
			Name         string
			ModuleSHA256 string `json:"module_sha256"`
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		s.t.Fatalf("GET /v1/types: %v: %s", err, body)
	}
	for _, ty := range list.Types {
		if ty.Name == typ {
			return ty.ModuleSHA256
		}
	}
	s.t.Fatalf("GET /v1/types has no type %s: %s", typ, body)
	return ""
}

// SIGHUP rereads the manifest and deploys what changed, live, keeping
// state; a manifest with errors or a module that does not load changes
// nothing.
func TestReloadOnSIGHUP(t *testing.T) {
	a := newApp(t)
	write(t, filepath.Join(a.dir, "greeter-c.wasm"), testwasm.C(t, "greeter"))
	good, err := os.ReadFile(a.manifest)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, a)
	s.ask("/v1/actors/counter-c/x/add", `{"n":5}`, `{"n":5}`)
	cSHA := s.moduleSHA("counter-c")

	// A manifest with an error: nothing changes.
	write(t, a.manifest, []byte(strings.Replace(string(good), "module: counter-c.wasm", "modul: counter-c.wasm", 1)))
	s.hup("reload: the manifest has errors; nothing changed")
	s.ask("/v1/actors/counter-c/x/add", `{"n":1}`, `{"n":6}`)

	// A module that does not load: its type keeps the running version.
	write(t, a.manifest, good)
	write(t, filepath.Join(a.dir, "counter-c.wasm"), []byte("\x00asm\x01\x00\x00\x00 and then junk")) // passes the manifest's check
	s.hup("reload: the type keeps its running version")
	s.ask("/v1/actors/counter-c/x/add", `{"n":1}`, `{"n":7}`)
	if got := s.moduleSHA("counter-c"); got != cSHA {
		t.Fatalf("counter-c's module is %s after a failed reload; want the running %s", got, cSHA)
	}

	// A new module for a type and a new type: deployed live; the actor
	// keeps its state; the unchanged type is left alone.
	write(t, filepath.Join(a.dir, "counter-c.wasm"), testwasm.AS(t, "counter")) // fits counter-c's 1 MiB
	write(t, a.manifest, []byte(string(good)+"  - type: greeter\n    module: greeter-c.wasm\n"))
	s.hup(`"msg":"reloaded"`)
	if !strings.Contains(s.log(), `"msg":"reloaded","deployed":2,"failed":0,"unchanged":1`) {
		t.Fatalf("want 2 types deployed and 1 unchanged:\n%s", s.log())
	}
	s.ask("/v1/actors/counter-c/x/add", `{"n":1}`, `{"n":8}`)
	as := sha256.Sum256(testwasm.AS(t, "counter"))
	if got := s.moduleSHA("counter-c"); got != hex.EncodeToString(as[:]) {
		t.Fatalf("counter-c runs module %s, not the AssemblyScript one", got)
	}
	s.ask("/v1/actors/greeter/x/hello", `{"name":"reload"}`, `{"greeting":"Hello, reload!"}`)
	s.stop(syscall.SIGTERM)
}
