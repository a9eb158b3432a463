package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

// templates holds the projects wactor new writes: templates/LANG/FILE.tmpl
// (text/template with [[ and ]] as delimiters, since {{ is Go and Rust),
// where a NAME in a file's name becomes the project's name. Go files and
// go.mod carry .tmpl so that the Go tool does not take them for this
// module's packages.
//
//go:embed all:templates
var templates embed.FS

// languages are the templates wactor new knows, each a stack of template
// folders: a later folder's file replaces an earlier one's.
var languages = map[string][]string{
	"go":             {"go"},
	"tinygo":         {"go", "tinygo"},
	"rust":           {"rust"},
	"c":              {"c"},
	"assemblyscript": {"assemblyscript"},
}

// SDKVersion is the version of the Go SDK module that a new Go project
// requires: the version the SDK is to be published at. Until then a go.work
// file that uses a checkout of wactor stands in for the download (see
// the project's README).
const SDKVersion = "v0.1.0"

// sdkModule is the Go SDK's module path.
const sdkModule = "github.com/wactor/wactor/guest-sdk/go"

// project is what the templates are executed with.
type project struct {
	Name       string // the actor type, and the project's name
	Ident      string // Name with '-' as '_': a C, Rust or TypeScript identifier part
	SDK        string // absolute path of a wactor checkout (guest-sdk/ is in it)
	Lang       string
	SDKModule  string
	SDKVersion string
}

func setupNew(fs *flag.FlagSet) runner {
	sdk := fs.String("sdk", "", "the wactor checkout `DIR` whose guest SDKs the project uses (default: the one the current folder is in, else the one wactor was built in)")
	out := fs.String("o", "", "write the project into `DIR` (default: ./NAME); it must not exist or be empty")
	return func(args []string, stdout, stderr io.Writer) int {
		return runNew(args, *sdk, *out, stdout, stderr)
	}
}

// runNew writes a new project.
func runNew(args []string, sdk, out string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		return usageError(stderr, "new", "new takes a language and a name, as in: wactor new go hello")
	}
	lang, name := args[0], args[1]
	if _, ok := languages[lang]; !ok {
		return usageError(stderr, "new", "no template for language %q; choose one of %s", lang, strings.Join(languageNames(), ", "))
	}
	if err := checkProjectName(name); err != nil {
		return usageError(stderr, "new", "%v", err)
	}
	if out == "" {
		out = name
	}
	root, err := findSDK(sdk)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	p := project{Name: name, Ident: strings.ReplaceAll(name, "-", "_"), SDK: root, Lang: lang,
		SDKModule: sdkModule, SDKVersion: SDKVersion}
	files, err := renderProject(lang, p)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	if err := writeProject(out, files); err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "wrote a %s actor %q in %s (guest SDK: %s):\n", lang, name, out, root)
	for _, f := range sortedKeys(files) {
		fmt.Fprintf(stdout, "  %s\n", filepath.Join(out, f))
	}
	fmt.Fprintf(stdout, "next: cd %s && make test && make build && wactor run -f wactor.yaml (see README.md)\n", out)
	return exitOK
}

func languageNames() []string {
	names := make([]string, 0, len(languages))
	for l := range languages {
		names = append(names, l)
	}
	sort.Strings(names)
	return names
}

// checkProjectName accepts a name that is at once an actor type, a Go
// module path, a Rust crate, an npm package and part of a C identifier:
// lower-case letters, digits, '-' and '_', starting with a letter.
func checkProjectName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("project name %q must be 1 to 64 bytes", name)
	}
	for i, c := range name {
		letter := c >= 'a' && c <= 'z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_')) {
			return fmt.Errorf("project name %q must be lower-case letters, digits, '-' and '_', starting with a letter (it names the actor type, the module and the package)", name)
		}
	}
	return nil
}

// findSDK returns the absolute path of the wactor checkout whose guest
// SDKs a project uses: dir when given, else the first folder, from the
// current one up, then from the executable's up, that holds guest-sdk/.
func findSDK(dir string) (string, error) {
	isCheckout := func(d string) bool {
		st, err := os.Stat(filepath.Join(d, "guest-sdk", "go", "go.mod"))
		return err == nil && !st.IsDir()
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if !isCheckout(abs) {
			return "", fmt.Errorf("--sdk %s: not a wactor checkout (no guest-sdk/go/go.mod in it)", dir)
		}
		return abs, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, d := range starts {
		for i := 0; i < 64; i++ { // bounded: a path has fewer levels
			if isCheckout(d) {
				return d, nil
			}
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	return "", errors.New("no wactor checkout found above this folder or the wactor binary: the guest SDKs are not published yet, so pass the folder of a clone with --sdk DIR")
}

// renderProject returns the project's files by their path in it.
func renderProject(lang string, p project) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, layer := range languages[lang] {
		base := "templates/" + layer
		err := fs.WalkDir(templates, base, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			text, err := templates.ReadFile(name)
			if err != nil {
				return err
			}
			t, err := template.New(name).Delims("[[", "]]").Option("missingkey=error").Parse(string(text))
			if err != nil {
				return fmt.Errorf("template %s: %w", name, err)
			}
			var b bytes.Buffer
			if err := t.Execute(&b, p); err != nil {
				return fmt.Errorf("template %s: %w", name, err)
			}
			rel := strings.TrimSuffix(strings.TrimPrefix(name, base+"/"), ".tmpl")
			rel = path.Join(path.Dir(rel), strings.ReplaceAll(path.Base(rel), "NAME", p.Name))
			rel = strings.ReplaceAll(rel, "IDENT", p.Ident)
			// Dot files and folders are named without their dot here.
			if base := path.Base(rel); base == "gitignore" {
				rel = path.Join(path.Dir(rel), ".gitignore")
			}
			rel = strings.Replace(rel, "dotcargo/", ".cargo/", 1)
			files[rel] = b.Bytes()
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// writeProject writes files under dir, which must not exist or be empty.
func writeProject(dir string, files map[string][]byte) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty; choose another name or -o DIR", dir)
	}
	for _, rel := range sortedKeys(files) {
		file := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, files[rel], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
