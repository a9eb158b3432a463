// Package doccheck holds tests of the repository's documents: the project
// stands on its own, so it cites only files it contains.
package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wactor/wactor/internal/testwasm"
)

// skipDirs are folders of built or downloaded files, not of the project.
var skipDirs = map[string]bool{".git": true, "bin": true, "node_modules": true, "target": true, "data": true}

// walkText calls fn for every Go, Markdown, YAML, shell and Make file of
// the repository.
func walkText(t *testing.T, fn func(rel string, text string)) {
	t.Helper()
	root := testwasm.Root()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".md", ".yaml", ".yml", ".sh", ".json", ".ts", ".rs", ".c", ".h":
		default:
			if d.Name() != "Makefile" {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fn(rel, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoOutsideReferences fails when a file cites a design document that is
// not in the repository, or a path beside it: a reader of the project must
// find everything it refers to in the project.
func TestNoOutsideReferences(t *testing.T) {
	outside := regexp.MustCompile(`\bDESIGN\.md\b|\.\./shared\b|STYLE\.md\b`)
	walkText(t, func(rel, text string) {
		if rel == filepath.Join("internal", "doccheck", "doccheck_test.go") {
			return
		}
		for i, line := range strings.Split(text, "\n") {
			if outside.MatchString(line) {
				t.Errorf("%s:%d cites a document outside the repository (the design is docs/design.md): %s", rel, i+1, strings.TrimSpace(line))
			}
		}
	})
}

// TestMarkdownLinksResolve fails when a Markdown file links to a file of
// the repository that does not exist.
func TestMarkdownLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// Code, fenced or inline, is not prose: Go's State[T]("n") is no link.
	code := regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")
	root := testwasm.Root()
	walkText(t, func(rel, text string) {
		if filepath.Ext(rel) != ".md" {
			return
		}
		for _, m := range link.FindAllStringSubmatch(code.ReplaceAllString(text, ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(root, filepath.Dir(rel), filepath.FromSlash(target))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", rel, m[1])
			}
		}
	})
}
