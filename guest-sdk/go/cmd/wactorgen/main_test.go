package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden regenerates internal/sample's codecs and compares them with
// the file checked in, which that package's tests compile and run: after a
// change to the generator, run go generate ./... and review the diff.
func TestGolden(t *testing.T) {
	dir := filepath.Join("internal", "sample")
	got, err := generate(dir, "order_cbor.go", []string{"Order", "Empty"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "order_cbor.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("generated code differs from %s/order_cbor.go; run go generate ./... there.\n%s", dir, got)
	}
}

// TestImports checks that the generated file imports the packages of the
// field types it names, under the names the package's files use.
func TestImports(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.go", `package a

import (
	w "github.com/wactor/wactor/guest-sdk/go"
	"example.com/money"
)

type A struct {
	Who  w.Ref       `+"`cbor:\"who\"`"+`
	Cost money.Cents `+"`cbor:\"cost\"`"+`
}
`)
	got, err := generate(dir, "a_cbor.go", []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`money "example.com/money"`, `w "github.com/wactor/wactor/guest-sdk/go"`,
		`d.Unmarshal("cost", &v.Cost)`, `dst = v.Who.MarshalCBOR(dst)`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("generated code lacks %s:\n%s", want, got)
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct{ src, types, want string }{
		{"type A struct{ B }\ntype B struct{}", "A", "embedded fields are not supported"},
		{"type A struct{ X [4]int }", "A", "arrays are not supported"},
		{"type A struct{ X map[int]string }", "A", "map keys must be string"},
		{"type A struct{ X chan int }", "A", "unsupported type chan int"},
		{"type A struct{ X Missing }", "A", "unknown type Missing"},
		{"type A struct{ X q.T }", "A", "no import for q.T"},
		{"type A int", "A", "A is not a struct"},
		{"type A struct{}", "B", "no type B"},
	} {
		dir := t.TempDir()
		write(t, dir, "a.go", "package a\n\n"+tc.src+"\n")
		_, err := generate(dir, "a_cbor.go", strings.Split(tc.types, ","))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func write(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
