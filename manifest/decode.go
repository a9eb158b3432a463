package manifest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The manifest is read by walking the YAML syntax tree rather than by
// unmarshalling into the structs: only the tree knows where each key and
// value is, and walking it lets every problem be reported at once, each at
// its own line and column.

// field is a key of a mapping in the format, with how to fix its absence
// when it is required.
type field struct {
	name string
	fix  string // non-empty for a required field
}

// section describes one mapping of the format. Its field names come from
// the yaml tags of the matching Go struct, so the two cannot drift.
type section struct {
	where  string // where its fields belong: "at the top level", "under http", ...
	fields []field
}

func (s *section) has(name string) bool {
	return slices.ContainsFunc(s.fields, func(f field) bool { return f.name == name })
}

func (s *section) names() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

var (
	topSection = newSection[Manifest]("at the top level", map[string]string{
		"version": "add version: 1 at the top of the file",
		"actors":  "add an actors list with at least one entry giving type and module",
	})
	httpSection    = newSection[HTTP]("under http", nil)
	storageSection = newSection[Storage]("under storage", nil)
	deadSection    = newSection[DeadLetters]("under dead_letters", nil)
	metricsSection = newSection[Metrics]("under metrics", nil)
	tracingSection = newSection[Tracing]("under tracing", nil)
	actorSection   = newSection[Actor]("in an actors entry", map[string]string{
		"type":   "add type: <name>, the name actors of this type are addressed by",
		"module": "add module: <path of the .wasm file>",
	})
	sections = []*section{topSection, httpSection, storageSection, deadSection, metricsSection, tracingSection, actorSection, dirSection, subscriptionSection, clusterSection, statelessSection}
)

// newSection builds a section from the yaml tags of T.
func newSection[T any](where string, required map[string]string) *section {
	s := &section{where: where}
	for _, name := range yamlFields(reflect.TypeFor[T]()) {
		s.fields = append(s.fields, field{name: name, fix: required[name]})
	}
	return s
}

// yamlFields returns the yaml key names of the fields of struct type t.
func yamlFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
	}
	return names
}

// Bounds on what a document can make the decoder do.
const (
	maxMergeDepth = 16     // merge keys (<<) merging mappings that merge mappings
	maxAliasChain = 64     // aliases of anchors whose value is an alias
	maxTreeDepth  = 10_000 // nesting searched for anchors
)

// decoder walks the syntax tree of one manifest and collects its problems.
type decoder struct {
	file string // name in error messages
	dir  string // absolute folder relative paths start from
	errs ErrorList

	anchors   map[string][]anchorDef
	expanded  map[*ast.MappingNode][]entry // mapping -> its entries, merges expanded
	expanding map[*ast.MappingNode]bool    // mappings being expanded, to catch cycles

	storagePath ast.Node // the storage.path value, to locate errors about it
}

// anchorDef is one &name in the document.
type anchorDef struct {
	line, col int
	value     ast.Node
}

// entry is one key: value of a mapping, merge keys expanded.
type entry struct {
	key     string
	keyNode ast.Node
	value   ast.Node
}

func (d *decoder) errAt(n ast.Node, path, format string, args ...any) {
	line, col := position(n)
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Path: path, Msg: oneLine(fmt.Sprintf(format, args...))})
}

// sortedErrors returns the problems in file order, without repeats (a bad
// value under an anchor is met once per alias).
func (d *decoder) sortedErrors() ErrorList {
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i], d.errs[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0 // errors without a place go last
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := ErrorList{}
	seen := map[Error]bool{}
	for _, e := range d.errs {
		if !seen[*e] {
			seen[*e] = true
			out = append(out, e)
		}
	}
	return out
}

// isNil reports whether n is nil or a typed nil pointer.
func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// position returns the 1-based line and column where n starts, or 0, 0.
func position(n ast.Node) (int, int) {
	if isNil(n) {
		return 0, 0
	}
	var tk *token.Token
	switch n := n.(type) {
	case *ast.DocumentNode:
		if !isNil(n.Body) {
			return position(n.Body)
		}
		tk = n.Start
	case *ast.MappingNode:
		if !n.IsFlowStyle && len(n.Values) > 0 {
			return position(n.Values[0])
		}
		tk = n.Start
	case *ast.MappingValueNode:
		if !isNil(n.Key) {
			return position(n.Key)
		}
		tk = n.Start
	default:
		tk = n.GetToken()
	}
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// before reports whether line:col a comes before b.
func before(al, ac, bl, bc int) bool {
	return al < bl || (al == bl && ac < bc)
}

// join appends key to a field path, quoting keys that would make the path
// ambiguous or span lines.
func join(path, key string) string {
	if key == "" || strings.ContainsFunc(key, func(r rune) bool {
		return !unicode.IsPrint(r) || r == ' ' || r == '.' || r == '"' || r == '[' || r == ']'
	}) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// oneLine escapes the control characters of s (a tab becomes \t), so that
// every problem prints on one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// decodeSafely is decode, with a panic of the YAML library (third-party
// code fed untrusted bytes) turned into a problem rather than a crash.
func (d *decoder) decodeSafely(data []byte) (m *Manifest) {
	defer func() {
		if r := recover(); r != nil {
			m = nil
			d.errs = append(d.errs, &Error{File: d.file,
				Msg: fmt.Sprintf("internal error while reading the manifest (%v); please report it with the file", r)})
		}
	}()
	return d.decode(data)
}

// decode parses data and returns the manifest, with defaults applied; the
// result is only meaningful when d.errs is empty.
func (d *decoder) decode(data []byte) *Manifest {
	m := &Manifest{
		HTTP: HTTP{Addr: DefaultHTTPAddr, MaxBody: DefaultMaxBody},
		Storage: Storage{
			Kind:                 DefaultStorageKind,
			Path:                 DefaultStoragePath,
			Sync:                 DefaultStorageSync,
			IdempotencyRetention: DefaultIdempotencyRetention,
		},
		DeadLetters:    DeadLetters{MaxCount: DefaultDeadLetterCount, MaxBytes: DefaultDeadLetterBytes},
		MaxActivations: DefaultMaxActivations,
		MaxGuestMemory: GuestMemory{Percent: DefaultGuestMemoryPercent},
		Metrics:        Metrics{Enabled: DefaultMetricsEnabled},
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.syntaxError(err)
		return m
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || isNil(doc.Body) {
			continue
		}
		switch doc.Body.(type) {
		case *ast.DirectiveNode, *ast.CommentNode, *ast.CommentGroupNode:
			continue
		}
		if body != nil {
			at := ast.Node(doc)
			if doc.Start != nil {
				at = ast.Null(doc.Start) // point at the --- that starts it
			}
			d.errAt(at, "", "a manifest is a single YAML document and this is a second one; remove the --- separator and what follows, or merge the two")
			continue
		}
		body = doc.Body
	}
	if body == nil {
		d.errs = append(d.errs, &Error{File: d.file, Line: 1, Column: 1,
			Msg: "the manifest is empty; it needs at least version: 1 and an actors list (see docs/manifest.md)"})
		return m
	}
	d.collectAnchors(body, 0)
	d.top(body, m)
	return m
}

// syntaxError records a YAML syntax error from the parser.
func (d *decoder) syntaxError(err error) {
	e := &Error{File: d.file, Msg: "invalid YAML: " + err.Error()}
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		e.Msg = "invalid YAML: " + yerr.GetMessage()
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
	}
	if strings.Contains(e.Msg, "\t") || strings.Contains(e.Msg, "tab character") {
		e.Msg += "; indent with spaces, not tabs"
	} else if strings.Contains(e.Msg, "already defined") {
		e.Msg += "; remove one of the two"
	}
	e.Msg = oneLine(e.Msg)
	d.errs = append(d.errs, e)
}

// collectAnchors records every &anchor of the document, in order.
func (d *decoder) collectAnchors(n ast.Node, depth int) {
	if isNil(n) || depth > maxTreeDepth {
		return
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			d.collectAnchors(v, depth+1)
		}
	case *ast.MappingValueNode:
		d.collectAnchors(n.Key, depth+1)
		d.collectAnchors(n.Value, depth+1)
	case *ast.MappingKeyNode:
		d.collectAnchors(n.Value, depth+1)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			d.collectAnchors(v, depth+1)
		}
	case *ast.TagNode:
		d.collectAnchors(n.Value, depth+1)
	case *ast.AnchorNode:
		if !isNil(n.Name) {
			if d.anchors == nil {
				d.anchors = map[string][]anchorDef{}
			}
			line, col := position(n)
			name := nodeText(n.Name)
			d.anchors[name] = append(d.anchors[name], anchorDef{line: line, col: col, value: n.Value})
		}
		d.collectAnchors(n.Value, depth+1)
	}
}

// nodeText returns the text of a scalar node.
func nodeText(n ast.Node) string {
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// lookupAnchor returns the value of the last &name defined before the
// alias at line:col.
func (d *decoder) lookupAnchor(name string, line, col int) (ast.Node, bool) {
	defs := d.anchors[name]
	for i := len(defs) - 1; i >= 0; i-- {
		if line == 0 || before(defs[i].line, defs[i].col, line, col) {
			return defs[i].value, true
		}
	}
	return nil, false
}

// resolve follows anchors and aliases from v to the node holding the value.
// A nil result means null. It reports undefined aliases and tags.
func (d *decoder) resolve(v ast.Node, path string) (ast.Node, bool) {
	for range maxAliasChain {
		if isNil(v) {
			return nil, true
		}
		switch n := v.(type) {
		case *ast.AnchorNode:
			v = n.Value
		case *ast.AliasNode:
			name := ""
			if !isNil(n.Value) {
				name = nodeText(n.Value)
			}
			line, col := position(n)
			target, ok := d.lookupAnchor(name, line, col)
			if !ok {
				d.errAt(n, path, "alias *%s refers to no anchor; define &%s before this line", name, name)
				return nil, false
			}
			v = target
		case *ast.TagNode:
			tag := ""
			if n.Start != nil {
				tag = n.Start.Value
			}
			d.errAt(n, path, "YAML tags such as %s are not supported; remove the tag (quote the value if it must be a string)", tag)
			return nil, false
		default:
			return v, true
		}
	}
	d.errAt(v, path, "aliases refer to each other more than %d times; simplify the anchors", maxAliasChain)
	return nil, false
}

// value resolves v and returns the value node (nil for null) and the node
// to blame in errors: the alias when v is one, so that errors point where
// the value is used.
func (d *decoder) value(v ast.Node, path string) (n, site ast.Node, ok bool) {
	n, ok = d.resolve(v, path)
	site = n
	if _, alias := v.(*ast.AliasNode); alias || isNil(n) {
		site = v
	}
	return n, site, ok
}

// describe names the kind of a value node for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return "nothing (null)"
	case *ast.BoolNode:
		return fmt.Sprintf("the boolean %v", n.Value)
	case *ast.IntegerNode:
		return "the integer " + nodeText(n)
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + nodeText(n)
	case *ast.StringNode:
		return "the string " + quote(n.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return "a " + n.Type().YAMLName()
}

// wrongType reports a value of the wrong kind.
func (d *decoder) wrongType(site ast.Node, path, want string, got ast.Node, hint string) {
	if _, null := got.(*ast.NullNode); null || isNil(got) {
		d.errAt(site, path, "no value; want %s: set one or remove the key", want)
		return
	}
	if hint != "" {
		hint = "; " + hint
	}
	d.errAt(site, path, "want %s, got %s%s", want, describe(got), hint)
}

// mapping resolves v to a mapping. A null value gives (nil, site, true).
func (d *decoder) mapping(v ast.Node, path, want string) (*ast.MappingNode, ast.Node, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return nil, site, false
	}
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return nil, site, true
	case *ast.MappingNode:
		return n, site, true
	}
	d.wrongType(site, path, want, n, "")
	return nil, site, false
}

// entries returns the keys of mapping m, with merge keys (<<) expanded:
// keys written in m win over merged ones, and earlier merged mappings win
// over later ones. Each mapping is expanded once, however often it is
// merged, so a document cannot make the work grow exponentially.
func (d *decoder) entries(m *ast.MappingNode, path string, depth int) []entry {
	if es, ok := d.expanded[m]; ok {
		return es
	}
	if d.expanding[m] {
		d.errAt(m, join(path, "<<"), "merge keys (<<) form a cycle: this mapping merges itself; remove the cycle")
		return nil
	}
	if depth > maxMergeDepth {
		d.errAt(m, join(path, "<<"), "merge keys (<<) are nested more than %d deep; simplify the anchors", maxMergeDepth)
		return nil
	}
	if d.expanding == nil {
		d.expanding = map[*ast.MappingNode]bool{}
		d.expanded = map[*ast.MappingNode][]entry{}
	}
	d.expanding[m] = true
	defer delete(d.expanding, m)

	var out, merged []entry
	seen := map[string]bool{}
	for _, mv := range m.Values {
		if mv == nil {
			continue
		}
		key := ast.Node(mv.Key)
		if k, ok := key.(*ast.MappingKeyNode); ok {
			key = k.Value
		}
		val := mv.Value
		if isNil(val) {
			val = ast.Null(mv.Start) // "key:" with nothing after
		}
		if mk, ok := key.(*ast.MergeKeyNode); ok {
			merged = append(merged, d.merge(mk, val, path, depth)...)
			continue
		}
		name, ok := d.keyName(key, path)
		if !ok {
			continue
		}
		if seen[name] {
			d.errAt(key, join(path, name), "duplicate key %s; remove one of the two", quote(name))
			continue
		}
		seen[name] = true
		out = append(out, entry{key: name, keyNode: key, value: val})
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	d.expanded[m] = out
	return out
}

// merge returns the entries a merge key brings in: from a mapping or a
// list of mappings.
func (d *decoder) merge(key, val ast.Node, path string, depth int) []entry {
	p := join(path, "<<")
	n, site, ok := d.value(val, p)
	if !ok {
		return nil
	}
	const want = "a mapping or a list of mappings, e.g. <<: *defaults"
	var maps []*ast.MappingNode
	switch n := n.(type) {
	case *ast.MappingNode:
		maps = append(maps, n)
	case *ast.SequenceNode:
		for _, item := range n.Values {
			in, isite, ok := d.value(item, p)
			if !ok {
				continue
			}
			im, isMap := in.(*ast.MappingNode)
			if !isMap {
				d.wrongType(isite, p, want, in, "")
				continue
			}
			maps = append(maps, im)
		}
	default:
		if isNil(n) {
			site = key
		}
		d.wrongType(site, p, want, n, "")
		return nil
	}
	var out []entry
	for _, m := range maps {
		out = append(out, d.entries(m, path, depth+1)...)
	}
	return out
}

// keyName returns the name of a mapping key.
func (d *decoder) keyName(key ast.Node, path string) (string, bool) {
	n, ok := d.resolve(key, path)
	if !ok {
		return "", false
	}
	switch n := n.(type) {
	case nil:
		d.errAt(key, path, "empty key; give the field a name")
		return "", false
	case *ast.StringNode:
		return n.Value, true
	case *ast.MappingNode, *ast.SequenceNode, *ast.LiteralNode:
		d.errAt(key, path, "a key must be a plain name, not %s", describe(n))
		return "", false
	}
	return nodeText(n), true
}

// fields walks the entries of mapping m against section sec: unknown keys
// and missing required keys are errors; set is called for each known key.
// It returns the entries present.
func (d *decoder) fields(m *ast.MappingNode, site ast.Node, path string, sec *section, set func(key string, value ast.Node, path string)) map[string]entry {
	present := map[string]entry{}
	suggested := map[string]bool{}
	for _, e := range d.entries(m, path, 0) {
		p := join(path, e.key)
		if !sec.has(e.key) {
			msg, guess := unknownField(e.key, sec)
			suggested[guess] = true
			d.errAt(e.keyNode, p, "%s", msg)
			continue
		}
		present[e.key] = e
		set(e.key, e.value, p)
	}
	for _, f := range sec.fields {
		if _, ok := present[f.name]; !ok && f.fix != "" && !suggested[f.name] {
			d.errAt(site, join(path, f.name), "missing required field %q; %s", f.name, f.fix)
		}
	}
	return present
}

// unknownField explains an unknown key, and returns the field it guessed
// was meant, if any.
func unknownField(key string, sec *section) (msg, guess string) {
	for _, other := range sections {
		if other != sec && other.has(key) {
			return fmt.Sprintf("unknown field %q %s (%s belongs %s: move it there)", key, sec.where, key, other.where), ""
		}
	}
	if s := suggest(key, sec.names()); s != "" {
		return fmt.Sprintf("unknown field %s (did you mean %q?)", quote(key), s), s
	}
	return fmt.Sprintf("unknown field %s; the fields %s are %s", quote(key), sec.where, strings.Join(sec.names(), ", ")), ""
}

// suggest returns the name in names that key most likely misspells, or "".
func suggest(key string, names []string) string {
	norm := normalizeKey(key)
	for _, n := range names {
		if n == norm {
			return n
		}
	}
	best, bestDist := "", math.MaxInt
	for _, n := range names {
		limit := 2
		if len(n) <= 4 {
			limit = 1
		}
		if dist := levenshtein(norm, n); dist <= limit && dist < bestDist {
			best, bestDist = n, dist
		}
	}
	if best != "" {
		return best
	}
	if len(norm) >= 3 {
		var match []string
		for _, n := range names {
			if strings.HasPrefix(n, norm) {
				match = append(match, n)
			}
		}
		if len(match) == 1 {
			return match[0]
		}
	}
	return ""
}

// normalizeKey turns MaxMemory, maxMemory and max-memory into max_memory.
func normalizeKey(key string) string {
	var b strings.Builder
	for i, r := range key {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(r - 'A' + 'a')
		case r == '-' || r == ' ':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// levenshtein returns the edit distance between a and b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// top walks the top-level mapping.
func (d *decoder) top(body ast.Node, m *Manifest) {
	n, site, ok := d.value(body, "")
	if !ok {
		return
	}
	mm, isMap := n.(*ast.MappingNode)
	if !isMap {
		if isNil(n) {
			d.errAt(site, "", "the manifest is empty; it needs at least version: 1 and an actors list (see docs/manifest.md)")
			return
		}
		d.errAt(site, "", "the manifest must be a mapping with the fields version, http, storage and actors, not %s", describe(n))
		return
	}
	d.fields(mm, site, "", topSection, func(key string, v ast.Node, p string) {
		switch key {
		case "version":
			d.version(v, p, m)
		case "http":
			d.http(v, p, &m.HTTP)
		case "storage":
			d.storage(v, p, &m.Storage)
		case "max_activations":
			if n, site, ok := d.integer(v, p, "a whole number of activations"); ok {
				if n < 1 || n > MaxMaxActivations {
					d.errAt(site, p, "max_activations must be from 1 to %d, got %d; for no practical cap give a large number: max_guest_memory still bounds memory", MaxMaxActivations, n)
				} else {
					m.MaxActivations = int(n)
				}
			}
		case "dead_letters":
			d.deadLetters(v, p, &m.DeadLetters)
		case "max_guest_memory":
			d.guestMemory(v, p, &m.MaxGuestMemory)
		case "cluster":
			d.cluster(v, p, m)
		case "metrics":
			d.metrics(v, p, &m.Metrics)
		case "tracing":
			d.tracing(v, p, &m.Tracing)
		case "actors":
			d.actors(v, p, m)
		}
	})
	d.resolveStorage(&m.Storage)
}

// abs resolves a path from the manifest against the manifest's folder.
func (d *decoder) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(d.dir, p)
}

// resolveStorage makes the badger path absolute and checks it is not a
// file.
func (d *decoder) resolveStorage(s *Storage) {
	if s.Kind != StorageBadger || s.Path == "" {
		return
	}
	s.Path = d.abs(s.Path)
	if fi, err := os.Stat(s.Path); err == nil && !fi.IsDir() {
		d.errAt(d.storagePath, "storage.path", "%s exists and is not a folder; badger keeps its data in a folder: choose another path", s.Path)
	}
}
