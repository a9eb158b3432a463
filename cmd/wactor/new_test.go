package main

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplatesRender renders every template: no placeholder is left, the
// Go files are gofmt'd, the project is named as asked, and the files are
// written where wactor new says. Building and testing the projects is
// e2e/new_test.go's job.
func TestTemplatesRender(t *testing.T) {
	p := project{Name: "my-actor", Ident: "my_actor", SDK: "/src/wactor", SDKModule: sdkModule, SDKVersion: SDKVersion}
	for _, lang := range languageNames() {
		t.Run(lang, func(t *testing.T) {
			files, err := renderProject(lang, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Makefile", "README.md", "wactor.yaml", ".gitignore"} {
				if _, ok := files[want]; !ok {
					t.Errorf("no %s among %v", want, sortedKeys(files))
				}
			}
			for name, text := range files {
				if bytes.Contains(text, []byte("[[")) || bytes.Contains(text, []byte("<no value>")) {
					t.Errorf("%s has a placeholder left", name)
				}
				if strings.HasSuffix(name, ".go") {
					if formatted, err := format.Source(text); err != nil || !bytes.Equal(formatted, text) {
						t.Errorf("%s is not gofmt'd Go (%v)", name, err)
					}
				}
			}
			if !bytes.Contains(files["wactor.yaml"], []byte("type: my-actor\n    module: my-actor.wasm")) {
				t.Errorf("wactor.yaml does not serve my-actor:\n%s", files["wactor.yaml"])
			}
		})
	}
}

func TestNewWritesTheProject(t *testing.T) {
	sdk := filepath.Join("..", "..")
	out := filepath.Join(t.TempDir(), "p")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"new", "--sdk", sdk, "-o", out, "c", "p"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"p.c", "test_p.c", "Makefile", "README.md", "wactor.yaml", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	mk, _ := os.ReadFile(filepath.Join(out, "Makefile"))
	abs, _ := filepath.Abs(sdk)
	if !bytes.Contains(mk, []byte("WACTOR_SDK ?= "+abs+"/guest-sdk/c")) {
		t.Errorf("the Makefile does not name the SDK of %s:\n%s", abs, mk)
	}
	if code := run([]string{"new", "--sdk", sdk, "-o", out, "c", "p"}, &stdout, &stderr); code != exitFail {
		t.Errorf("a second wactor new into %s: exit %d, want %d", out, code, exitFail)
	}
}
