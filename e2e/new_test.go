package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wactor/wactor/internal/testwasm"
)

// newProjects are the languages of wactor new, the actor type each
// project is made for here, and the make targets that build its module.
var newProjects = []struct {
	lang, name string
	build      []string
}{
	{"go", "hello-go", []string{"build"}},
	// TinyGo is not installed where this test was written: the tinygo
	// project's source is built with Go's own wasip1 port (make build-go)
	// and its TinyGo build (make build) only when tinygo is on PATH.
	{"tinygo", "hello-tinygo", []string{"build-go"}},
	{"rust", "hello-rust", []string{"build"}},
	{"c", "hello-c", []string{"build"}},
	{"assemblyscript", "hello-as", []string{"build"}},
}

// TestNewProjects is a new author's path for every language: wactor new
// writes a project, its own make test passes and make build writes a
// module, wactor inspect accepts the module, and one wactor run serves
// every project's actor, which answers as the template says. The Go
// project's go.mod requires the SDK by module path and version; its
// go.work, which wactor new writes, points the Go tool at this checkout.
func TestNewProjects(t *testing.T) {
	root := testwasm.Root()
	dir := t.TempDir()
	var manifest strings.Builder
	manifest.WriteString("version: 1\nhttp:\n  addr: 127.0.0.1:8080\nstorage:\n  kind: badger\n  path: data\nactors:\n")
	for _, p := range newProjects {
		proj := filepath.Join(dir, p.name)
		code, out, errOut := wactor(t, "new", p.lang, p.name, "--sdk", root, "-o", proj)
		if code != 0 {
			t.Fatalf("wactor new %s %s: exit %d\n%s%s", p.lang, p.name, code, out, errOut)
		}
		targets := append([]string{"test"}, p.build...)
		if _, err := exec.LookPath("tinygo"); err == nil && p.lang == "tinygo" {
			targets = append(targets, "build")
		}
		for _, target := range targets {
			cmd := exec.Command("make", target)
			cmd.Dir = proj
			cmd.Env = append(environ(), "GOFLAGS=", "MAKEFLAGS=")
			if out, err := runBounded(cmd, buildTimeout); err != nil {
				t.Fatalf("%s project: make %s: %v\n%s", p.lang, target, err, out)
			}
		}
		if p.lang == "go" {
			checkCodecs(t, proj)
		}
		module := filepath.Join(proj, p.name+".wasm")
		if code, out, errOut := wactor(t, "inspect", module); code != 0 {
			t.Fatalf("wactor inspect %s: exit %d\n%s%s", module, code, out, errOut)
		}
		// The project's own manifest names its module; a wactor that
		// serves them all names each by its path.
		snippet, err := os.ReadFile(filepath.Join(proj, "wactor.yaml"))
		if err != nil || !strings.Contains(string(snippet), "module: "+p.name+".wasm") {
			t.Fatalf("%s project: wactor.yaml does not name %s.wasm (%v):\n%s", p.lang, p.name, err, snippet)
		}
		fmt.Fprintf(&manifest, "  - type: %s\n    module: %s\n", p.name, module)
	}
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(manifest.String()))
	s := start(t, a)
	for _, p := range newProjects {
		s.ask("/v1/actors/"+p.name+"/a/add", `{"n":5}`, `{"n":5}`)
		s.ask("/v1/actors/"+p.name+"/a/add", `{"n":-2}`, `{"n":3}`)
		s.ask("/v1/actors/"+p.name+"/a/get", `{}`, `{"n":3}`)
		s.askError("/v1/actors/"+p.name+"/a/add", `{"n":"five"}`, 400, "bad_request")
	}
}

// TestNewProjectRefusals checks that wactor new refuses to write over
// a folder that is not empty, and refuses an unknown language and a bad
// name with a usage error.
func TestNewProjectRefusals(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "taken", "file"), nil)
	for _, tt := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"new", "go", "x", "-o", filepath.Join(dir, "taken")}, 1, "is not empty"},
		{[]string{"new", "cobol", "x"}, 2, "no template for language"},
		{[]string{"new", "go", "Bad Name"}, 2, "lower-case letters"},
		{[]string{"new", "go"}, 2, "a language and a name"},
		{[]string{"new", "go", "x", "--sdk", dir}, 1, "not a wactor checkout"},
	} {
		code, _, errOut := wactor(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.says) {
			t.Errorf("wactor %s: exit %d %q; want %d saying %q", strings.Join(tt.args, " "), code, errOut, tt.code, tt.says)
		}
	}
}

// checkCodecs runs make codecs (go generate: wactorgen) in a Go project and
// checks that the codecs the template ships are what wactorgen writes.
func checkCodecs(t *testing.T, proj string) {
	t.Helper()
	file := filepath.Join(proj, "addrequest_cbor.go")
	shipped, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "codecs")
	cmd.Dir = proj
	cmd.Env = append(environ(), "GOFLAGS=", "MAKEFLAGS=")
	if out, err := runBounded(cmd, buildTimeout); err != nil {
		t.Fatalf("go project: make codecs: %v\n%s", err, out)
	}
	if now, err := os.ReadFile(file); err != nil || string(now) != string(shipped) {
		t.Fatalf("the go template's addrequest_cbor.go is not what wactorgen writes (%v); copy it from a fresh make codecs", err)
	}
}
