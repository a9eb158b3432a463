package manifest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/manifest"
)

// wasmHeader is the smallest valid WebAssembly core module: magic and
// version 1.
const wasmHeader = "\x00asm\x01\x00\x00\x00"

// writeFile writes content to dir/rel, creating folders.
func writeFile(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// fixture makes a manifest folder holding good and bad module files.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "wasm/counter.wasm", wasmHeader+"rest of the module")
	writeFile(t, dir, "wasm/bank.wasm", wasmHeader)
	writeFile(t, dir, "wasm/text.wat", "(module)\n")
	writeFile(t, dir, "wasm/readme.txt", "hello")
	writeFile(t, dir, "wasm/empty.wasm", "")
	writeFile(t, dir, "wasm/short.wasm", "\x00asm")
	writeFile(t, dir, "wasm/component.wasm", "\x00asm\x0d\x00\x01\x00")
	writeFile(t, dir, "wasm/v2.wasm", "\x00asm\x02\x00\x00\x00")
	writeFile(t, dir, "afile", "x")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "wasm/folder.wasm"), 0o755))
	return dir
}

// parse parses src as wactor.yaml in dir.
func parse(t *testing.T, dir, src string) (*manifest.Manifest, error) {
	t.Helper()
	return manifest.Parse([]byte(src), dir, "wactor.yaml")
}

// problems returns the problems of err, failing the test when err is not
// an ErrorList.
func problems(t *testing.T, err error) manifest.ErrorList {
	t.Helper()
	require.Error(t, err)
	var list manifest.ErrorList
	require.True(t, errors.As(err, &list), "error %T is not an ErrorList: %v", err, err)
	require.NotEmpty(t, list)
	return list
}

func TestParseGood(t *testing.T) {
	dir := fixture(t)
	src := `version: 1
http:
  addr: 0.0.0.0:9000
  max_body: 4MiB
storage:
  kind: badger
  path: state/db
  sync: false
max_activations: 5000
dead_letters:
  max_count: 100
  max_bytes: 2MiB
max_guest_memory: 2GiB
metrics:
  enabled: false
tracing:
  exporter: otlp
  endpoint: http://127.0.0.1:4318
  sample_ratio: 0.25
actors:
  - type: counter
    module: wasm/counter.wasm
    mailbox: 10
    max_message: 64KiB
    max_memory: 32MiB
    max_table_entries: 5000
    turn_timeout: 250ms
    idle_timeout: 1m30s
    ask_timeout: 2s
  - type: bank.v2
    module: ./wasm/../wasm/bank.wasm
`
	m, err := parse(t, dir, src)
	require.NoError(t, err)
	quarter := 0.25
	want := &manifest.Manifest{
		Version:        1,
		HTTP:           manifest.HTTP{Addr: "0.0.0.0:9000", MaxBody: 4 << 20},
		Storage:        manifest.Storage{Kind: manifest.StorageBadger, Path: filepath.Join(dir, "state", "db"), Sync: false, IdempotencyRetention: manifest.DefaultIdempotencyRetention},
		MaxActivations: 5000,
		DeadLetters:    manifest.DeadLetters{MaxCount: 100, MaxBytes: 2 << 20},
		MaxGuestMemory: manifest.GuestMemory{Bytes: 2 << 30},
		Metrics:        manifest.Metrics{Enabled: false},
		Tracing:        manifest.Tracing{Exporter: manifest.TracingOTLP, Endpoint: "http://127.0.0.1:4318", SampleRatio: &quarter},
		Actors: []manifest.Actor{
			{
				Type:            "counter",
				Module:          filepath.Join(dir, "wasm", "counter.wasm"),
				Mailbox:         10,
				MaxMessage:      64 << 10,
				MaxMemory:       32 << 20,
				MaxTableEntries: 5000,
				TurnTimeout:     250 * time.Millisecond,
				IdleTimeout:     90 * time.Second,
				AskTimeout:      2 * time.Second,
			},
			{
				Type:            "bank.v2",
				Module:          filepath.Join(dir, "wasm", "bank.wasm"),
				Mailbox:         manifest.DefaultMailbox,
				MaxMessage:      manifest.DefaultMaxMessage,
				MaxMemory:       manifest.DefaultMaxMemory,
				MaxTableEntries: manifest.DefaultMaxTableEntries(manifest.DefaultMaxMemory),
				TurnTimeout:     manifest.DefaultTurnTimeout,
				IdleTimeout:     manifest.DefaultIdleTimeout,
				AskTimeout:      manifest.DefaultAskTimeout,
			},
		},
		File: "wactor.yaml",
		Dir:  dir,
	}
	assert.Equal(t, want, m)

	a, ok := m.Actor("bank.v2")
	assert.True(t, ok)
	assert.Equal(t, "bank.v2", a.Type)
	_, ok = m.Actor("nope")
	assert.False(t, ok)
}

func TestParseDefaults(t *testing.T) {
	dir := fixture(t)
	m, err := parse(t, dir, "version: 1\nactors:\n  - type: counter\n    module: wasm/counter.wasm\n")
	require.NoError(t, err)
	assert.Equal(t, manifest.Version, m.Version)
	assert.Equal(t, manifest.HTTP{Addr: manifest.DefaultHTTPAddr, MaxBody: manifest.DefaultMaxBody}, m.HTTP)
	assert.Equal(t, manifest.Storage{
		Kind: manifest.DefaultStorageKind,
		Path: filepath.Join(dir, manifest.DefaultStoragePath),
		Sync: manifest.DefaultStorageSync,

		IdempotencyRetention: manifest.DefaultIdempotencyRetention,
	}, m.Storage)
	assert.Equal(t, manifest.Metrics{Enabled: manifest.DefaultMetricsEnabled}, m.Metrics)
	assert.Equal(t, []manifest.Actor{{
		Type:            "counter",
		Module:          filepath.Join(dir, "wasm", "counter.wasm"),
		Mailbox:         manifest.DefaultMailbox,
		MaxMessage:      manifest.DefaultMaxMessage,
		MaxMemory:       manifest.DefaultMaxMemory,
		MaxTableEntries: 1 << 20, // 64MiB / 64
		TurnTimeout:     manifest.DefaultTurnTimeout,
		IdleTimeout:     manifest.DefaultIdleTimeout,
		AskTimeout:      manifest.DefaultAskTimeout,
	}}, m.Actors)
	assert.Equal(t, manifest.DeadLetters{MaxCount: manifest.DefaultDeadLetterCount, MaxBytes: manifest.DefaultDeadLetterBytes}, m.DeadLetters)
	assert.Equal(t, manifest.DefaultMaxActivations, m.MaxActivations)
	assert.Equal(t, manifest.GuestMemory{Percent: manifest.DefaultGuestMemoryPercent}, m.MaxGuestMemory)
	assert.Equal(t, "25%", m.MaxGuestMemory.String())

	// Empty sections (every key commented out) also mean the defaults.
	m2, err := parse(t, dir, "version: 1\nhttp:\nstorage: # nothing\ndead_letters:\nactors:\n  - type: counter\n    module: wasm/counter.wasm\n")
	require.NoError(t, err)
	assert.Equal(t, m.HTTP, m2.HTTP)
	assert.Equal(t, m.Storage, m2.Storage)
	assert.Equal(t, m.DeadLetters, m2.DeadLetters)
}

func TestParseToken(t *testing.T) {
	dir := fixture(t)
	m, err := parse(t, dir, "version: 1\nhttp: {token_file: afile}\nactors: [{type: a, module: wasm/counter.wasm}]\n")
	require.NoError(t, err)
	assert.Equal(t, manifest.HTTP{Addr: manifest.DefaultHTTPAddr, MaxBody: manifest.DefaultMaxBody, TokenFile: filepath.Join(dir, "afile")}, m.HTTP)

	m, err = parse(t, dir, "version: 1\nhttp: {token: 0123456789abcdef}\nactors: [{type: a, module: wasm/counter.wasm}]\n")
	require.NoError(t, err)
	assert.Equal(t, "0123456789abcdef", m.HTTP.Token)
}

func TestCheckToken(t *testing.T) {
	for tok, ok := range map[string]bool{
		"":                        false,
		"0123456789abcde":         false, // 15 bytes
		"0123456789abcdef":        true,
		"A-Za-z0-9._~+/=!#$%&*^?": true,
		"0123456789abcdef\n":      false,
		"0123456789abcdef\x00":    false,
		"0123456789abcdéf":        false,
		strings.Repeat("x", manifest.MaxTokenLen):   true,
		strings.Repeat("x", manifest.MaxTokenLen+1): false,
	} {
		msg := manifest.CheckToken(tok)
		assert.Equal(t, ok, msg == "", "CheckToken(%q) = %q", tok, msg)
		if tok != "" {
			assert.NotContains(t, msg, tok, "the explanation repeats the token")
		}
	}
}

func TestParseByteOrderMarkAndCRLF(t *testing.T) {
	dir := fixture(t)
	m, err := parse(t, dir, "\ufeffversion: 1\r\nactors:\r\n  - type: a\r\n    module: wasm/counter.wasm\r\n")
	require.NoError(t, err)
	assert.Equal(t, "a", m.Actors[0].Type)

	_, err = parse(t, dir, "\ufeffversion: 1\r\nactors:\r\n  - type: a\r\n    module: wasm/counter.wasm\r\n    mailbox: 0\r\n")
	assert.EqualError(t, err, "wactor.yaml:5:14: actors[0].mailbox: mailbox must be from 1 to 1000000 messages, got 0")
}

func TestParseMemoryStorage(t *testing.T) {
	dir := fixture(t)
	m, err := parse(t, dir, "version: 1\nstorage: {kind: memory}\nactors: [{type: a, module: wasm/bank.wasm}]\n")
	require.NoError(t, err)
	assert.Equal(t, manifest.Storage{Kind: manifest.StorageMemory, IdempotencyRetention: manifest.DefaultIdempotencyRetention}, m.Storage)
}

func TestParsePaths(t *testing.T) {
	dir := fixture(t)
	other := t.TempDir()
	abs := writeFile(t, other, "abs.wasm", wasmHeader)
	writeFile(t, filepath.Dir(dir), filepath.Base(dir)+"-sibling/up.wasm", wasmHeader)
	src := fmt.Sprintf(`version: 1
storage:
  path: %q
actors:
  - {type: rel, module: wasm/counter.wasm}
  - {type: dot, module: ./wasm/counter.wasm}
  - {type: abs, module: %q}
  - {type: up, module: ../%s-sibling/up.wasm}
`, other, abs, filepath.Base(dir))
	m, err := parse(t, dir, src)
	require.NoError(t, err)
	assert.Equal(t, other, m.Storage.Path)
	mods := map[string]string{}
	for _, a := range m.Actors {
		mods[a.Type] = a.Module
	}
	assert.Equal(t, map[string]string{
		"rel": filepath.Join(dir, "wasm", "counter.wasm"),
		"dot": filepath.Join(dir, "wasm", "counter.wasm"),
		"abs": abs,
		"up":  filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-sibling", "up.wasm"),
	}, mods)

	// Paths are relative to the manifest's folder, not the working folder.
	t.Chdir(other)
	m, err = manifest.Load(writeFile(t, dir, "conf/wactor.yaml", "version: 1\nstorage: {path: db}\nactors: [{type: a, module: ../wasm/bank.wasm}]\n"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "conf", "db"), m.Storage.Path)
	assert.Equal(t, filepath.Join(dir, "wasm", "bank.wasm"), m.Actors[0].Module)
	assert.Equal(t, filepath.Join(dir, "conf"), m.Dir)

	// Parse with a relative dir resolves it against the working folder.
	writeFile(t, other, "rel/wasm/x.wasm", wasmHeader)
	m, err = manifest.Parse([]byte("version: 1\nactors: [{type: a, module: wasm/x.wasm}]\n"), "rel", "")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(other, "rel", "wasm", "x.wasm"), m.Actors[0].Module)
	assert.Equal(t, "manifest", m.File)
}

func TestParseAnchorsAndMerge(t *testing.T) {
	dir := fixture(t)
	src := `version: 1
actors:
  - &limits
    type: counter
    module: wasm/counter.wasm
    mailbox: 7
    max_memory: 64MiB
  - <<: *limits
    type: other
    mailbox: 9
  - {type: third, module: *mod, <<: [*limits]}
  - type: fourth
    module: &mod wasm/bank.wasm
`
	_, err := parse(t, dir, src)
	list := problems(t, err)
	// *mod is used before &mod is defined.
	require.Len(t, list, 1)
	assert.Equal(t, "wactor.yaml:11:27: actors[2].module: alias *mod refers to no anchor; define &mod before this line", list[0].Error())

	src = strings.Replace(src, "module: *mod, ", "", 1)
	m, err := parse(t, dir, src)
	require.NoError(t, err)
	require.Len(t, m.Actors, 4)
	assert.Equal(t, 7, m.Actors[0].Mailbox)
	assert.Equal(t, "other", m.Actors[1].Type)
	assert.Equal(t, 9, m.Actors[1].Mailbox, "keys written in the mapping win over merged ones")
	assert.Equal(t, manifest.Size(64<<20), m.Actors[1].MaxMemory)
	assert.Equal(t, filepath.Join(dir, "wasm", "counter.wasm"), m.Actors[2].Module)
	assert.Equal(t, filepath.Join(dir, "wasm", "bank.wasm"), m.Actors[3].Module)
}

// want is one expected problem.
type want struct {
	line, col int
	path      string
	msg       string // a part of the message
}

func TestParseErrors(t *testing.T) {
	const ok = "version: 1\nactors:\n  - type: counter\n    module: wasm/counter.wasm\n"
	// actor makes a manifest whose only actor has the extra lines (at line
	// 5 on, column 5).
	actor := func(lines ...string) string {
		return ok + "    " + strings.Join(lines, "\n    ") + "\n"
	}
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{"empty file", "", []want{{1, 1, "", "the manifest is empty"}}},
		{"only comments", "# nothing\n\n", []want{{1, 1, "", "the manifest is empty"}}},
		{"not a mapping", "- a\n- b\n", []want{{1, 1, "", "must be a mapping with the fields version, http, storage and actors, not a list"}}},
		{"scalar document", "hello\n", []want{{1, 1, "", `not the string "hello"`}}},
		{"syntax error", "version: 1\nactors: [\n", []want{{2, 9, "", "invalid YAML: sequence end token ']' not found"}}},
		{"tab indent", "version: 1\nactors:\n\t- type: a\n", []want{{3, 1, "", `invalid YAML: found character '\t' that cannot start any token; indent with spaces, not tabs`}}},
		{"duplicate key", ok + "version: 1\n", []want{{5, 1, "", `invalid YAML: mapping key "version" already defined at [1:1]; remove one of the two`}}},
		{"two documents", ok + "---\nversion: 1\n", []want{{5, 1, "", "a manifest is a single YAML document and this is a second one"}}},

		{"missing version", "actors:\n  - type: a\n    module: wasm/counter.wasm\n", []want{{1, 1, "version", `missing required field "version"; add version: 1`}}},
		{"missing actors", "version: 1\n", []want{{1, 1, "actors", `missing required field "actors"; add an actors list`}}},
		{"version 2", "version: 2\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{1, 10, "version", "unsupported manifest version 2; supported versions: 1"}}},
		{"version string", "version: \"1\"\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{1, 10, "version", `want the integer 1, got the string "1"; remove the quotes: 1`}}},
		{"version float", "version: 1.0\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{1, 10, "version", "want the integer 1, got the number 1.0"}}},
		{"version null", "version:\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{1, 9, "version", "no value; want the integer 1: set one or remove the key"}}},

		{"dead_letters max_count 0", "version: 1\ndead_letters: {max_count: 0}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 27, "dead_letters.max_count", "max_count must be from 1 to 10000000, got 0"}}},
		{"dead_letters max_bytes small", "version: 1\ndead_letters:\n  max_bytes: 1KiB\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{3, 14, "dead_letters.max_bytes", "64KiB"}}},
		{"tracing exporter", "version: 1\ntracing: {exporter: zipkin}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 21, "tracing.exporter", `exporter must be otlp or none, got "zipkin"`}}},
		{"tracing endpoint no scheme", "version: 1\ntracing:\n  endpoint: 127.0.0.1:4318\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{3, 13, "tracing.endpoint", `"127.0.0.1:4318" is not a URL`}}},
		{"tracing endpoint grpc", "version: 1\ntracing:\n  endpoint: grpc://c:4317\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{3, 13, "tracing.endpoint", "must start with http:// or https://"}}},
		{"tracing endpoint query", "version: 1\ntracing:\n  endpoint: http://c:4318/?x=1\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{3, 13, "tracing.endpoint", "must have no query"}}},
		{"tracing endpoint password", "version: 1\ntracing:\n  endpoint: http://u:s3cr3t@c:4318\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{3, 13, "tracing.endpoint", `"http://xxxxx@c:4318" must have no query, fragment or user name`}}},
		{"tracing ratio high", "version: 1\ntracing: {sample_ratio: 1.5}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 25, "tracing.sample_ratio", "sample_ratio must be from 0 to 1"}}},
		{"tracing ratio negative", "version: 1\ntracing: {sample_ratio: -1}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 25, "tracing.sample_ratio", "got -1"}}},
		{"tracing ratio text", "version: 1\ntracing: {sample_ratio: half}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 25, "tracing.sample_ratio", "want a number from 0 to 1"}}},
		{"tracing unknown", "version: 1\ntracing: {service: x}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 11, "tracing.service", "exporter, endpoint, sample_ratio"}}},
		{"dead_letters unknown", "version: 1\ndead_letters: {max: 5}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 16, "dead_letters.max", "max_count, max_bytes"}}},
		{"unknown top-level", "version: 1\nfoo: 1\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 1, "foo", `unknown field "foo"; the fields at the top level are version, http, storage, max_activations, dead_letters, max_guest_memory, cluster, metrics, tracing, actors`}}},
		{"max_activations negative", "version: 1\nmax_activations: -1\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 18, "max_activations", "max_activations must be from 1 to 100000000, got -1"}}},
		{"max_activations zero", "version: 1\nmax_activations: 0\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 18, "max_activations", "max_activations must be from 1 to 100000000, got 0; for no practical cap give a large number"}}},
		{"max_activations text", "version: 1\nmax_activations: lots\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 18, "max_activations", "want a whole number of activations"}}},
		{"max_guest_memory 0%", "version: 1\nmax_guest_memory: 0%\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 19, "max_guest_memory", `"0%" is not a whole percentage from 1% to 100%; write e.g. 25%, or a size such as 2GiB`}}},
		{"max_guest_memory 150%", "version: 1\nmax_guest_memory: 150%\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 19, "max_guest_memory", `"150%" is not a whole percentage`}}},
		{"max_guest_memory 12.5%", "version: 1\nmax_guest_memory: 12.5%\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 19, "max_guest_memory", `"12.5%" is not a whole percentage`}}},
		{"max_guest_memory bytes by mistake", "version: 1\nmax_guest_memory: 512\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 19, "max_guest_memory", "512 bytes is too small; the minimum is 1MiB"}}},
		{"max_guest_memory text", "version: 1\nmax_guest_memory: lots\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 19, "max_guest_memory", `"lots" is not a size`}}},
		{"misplaced field", "version: 1\nmailbox: 1\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 1, "mailbox", `unknown field "mailbox" at the top level (mailbox belongs in an actors entry: move it there)`}}},
		{"camel case", actor("maxMemory: 32MiB"), []want{{5, 5, "actors[0].maxMemory", `unknown field "maxMemory" (did you mean "max_memory"?)`}}},
		{"prefix", actor("idle: 5m"), []want{{5, 5, "actors[0].idle", `unknown field "idle" (did you mean "idle_timeout"?)`}}},
		{"odd key", "version: 1\n\"a.b\\nc\": x\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 1, `"a.b\nc"`, `unknown field "a.b\nc"`}}},
		{"numeric key", "version: 1\n1: x\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 1, "1", `unknown field "1"`}}},
		{"http unknown", "version: 1\nhttp: {adr: \":80\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 8, "http.adr", `unknown field "adr" (did you mean "addr"?)`}}},

		{"http not a mapping", "version: 1\nhttp: [1]\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 7, "http", "want a mapping with addr, max_body and token_file, got a list"}}},
		{"addr without port", "version: 1\nhttp: {addr: localhost}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 14, "http.addr", `"localhost" is not host:port`}}},
		{"addr bad port", "version: 1\nhttp: {addr: \":70000\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 14, "http.addr", `port "70000" is not a number from 0 to 65535`}}},
		{"addr number", "version: 1\nhttp: {addr: 8080}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 14, "http.addr", `want a string (host:port, e.g. 127.0.0.1:8080), got the integer 8080; quote it if you mean the text: "8080"`}}},
		{"max_body zero", "version: 1\nhttp: {max_body: 0}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 18, "http.max_body", "0 bytes is too small; the minimum is 1B"}}},
		{"max_body huge", "version: 1\nhttp: {max_body: 2GiB}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 18, "http.max_body", "2GiB is too large; the maximum is 1GiB"}}},
		{"token short", "version: 1\nhttp: {token: abc}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 15, "http.token", "the token is 3 bytes, too short to resist guessing; use at least 16"}}},
		{"token empty", "version: 1\nhttp: {token: \"\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 15, "http.token", "the token is empty"}}},
		{"token with a space", "version: 1\nhttp: {token: \"0123456789 abcdef\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 15, "http.token", "byte 11 of the token is a space"}}},
		{"token number", "version: 1\nhttp: {token: 12345678901234567890}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 15, "http.token", "want a string (the control plane's bearer token), got the integer"}}},
		{"token_file missing", "version: 1\nhttp: {token_file: nope.token}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 20, "http.token_file", "nope.token does not exist; create it (e.g. openssl rand -hex 32 >"}}},
		{"token_file folder", "version: 1\nhttp: {token_file: wasm}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 20, "http.token_file", "is not a regular file"}}},
		{"token_file empty", "version: 1\nhttp: {token_file: \"\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 20, "http.token_file", "empty path"}}},
		{"token and token_file", "version: 1\nhttp:\n  token_file: afile\n  token: 0123456789abcdef\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{4, 3, "http.token", "give token_file or token, not both"}}},

		{"storage kind", "version: 1\nstorage: {kind: disk}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 17, "storage.kind", `unknown storage kind "disk"; use badger (durable, on disk) or memory (lost on exit)`}}},
		{"metrics enabled yes", "version: 1\nmetrics: {enabled: yes}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 20, "metrics.enabled", `want true or false, got the string "yes"`}}},
		{"metrics unknown field", "version: 1\nmetrics: {port: 9090}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 11, "metrics.port", `unknown field "port"; the fields under metrics are enabled`}}},
		{"storage sync yes", "version: 1\nstorage: {sync: yes}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 17, "storage.sync", `want true or false, got the string "yes"`}}},
		{"storage empty path", "version: 1\nstorage: {path: \"\"}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 17, "storage.path", "empty path"}}},
		{"storage path is a file", "version: 1\nstorage: {path: afile}\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{{2, 17, "storage.path", "afile exists and is not a folder"}}},
		{"memory with path", "version: 1\nstorage:\n  kind: memory\n  path: data\n  sync: true\nactors: [{type: a, module: wasm/counter.wasm}]\n", []want{
			{4, 3, "storage.path", "path is not used by kind memory, which keeps nothing on disk; remove it, or set kind: badger"},
			{5, 3, "storage.sync", "sync is not used by kind memory"},
		}},

		{"actors null", "version: 1\nactors:\n", []want{{2, 9, "actors", "no actor types; list at least one entry giving type and module"}}},
		{"actors empty", "version: 1\nactors: []\n", []want{{2, 9, "actors", "no actor types"}}},
		{"actors mapping", "version: 1\nactors: {type: a}\n", []want{{2, 9, "actors", "want a list of actor types (entries giving type and module), got a mapping"}}},
		{"actor null", "version: 1\nactors:\n  -\n", []want{{3, 3, "actors[0]", "empty entry; give at least type and module"}}},
		{"actor scalar", "version: 1\nactors:\n  - counter\n", []want{{3, 5, "actors[0]", `want a mapping giving type, module and optional limits, got the string "counter"`}}},
		{"missing type", "version: 1\nactors:\n  - module: wasm/counter.wasm\n", []want{{3, 5, "actors[0].type", `missing required field "type"; add type: <name>`}}},
		{"missing module", "version: 1\nactors:\n  - mailbox: 3\n    type: a\n", []want{{3, 5, "actors[0].module", `missing required field "module"; add module: <path of the .wasm file>`}}},
		{"missing both in flow", "version: 1\nactors: [{}]\n", []want{
			{2, 10, "actors[0].type", `missing required field "type"`},
			{2, 10, "actors[0].module", `missing required field "module"`},
		}},
		{"duplicate type", "version: 1\nactors:\n  - type: a\n    module: wasm/counter.wasm\n  - type: a\n    module: wasm/bank.wasm\n", []want{{5, 11, "actors[1].type", `duplicate actor type "a", first defined at line 3; give each type a unique name`}}},
		{"type with slash", "version: 1\nactors: [{type: bank/acct, module: wasm/counter.wasm}]\n", []want{{2, 17, "actors[0].type", `type name "bank/acct" contains '/' ('/' separates type and id in an actor ref); use letters, digits, '.', '_' and '-', starting with a letter or digit`}}},
		{"type leading dash", "version: 1\nactors: [{type: \"-a\", module: wasm/counter.wasm}]\n", []want{{2, 17, "actors[0].type", `type name "-a" starts with '-'`}}},
		{"type too long", "version: 1\nactors: [{type: " + strings.Repeat("a", 65) + ", module: wasm/counter.wasm}]\n", []want{{2, 17, "actors[0].type", "type name is 65 bytes long, over the limit of 64"}}},
		{"type number", "version: 1\nactors: [{type: 42, module: wasm/counter.wasm}]\n", []want{{2, 17, "actors[0].type", `got the integer 42; quote it if you mean the text: "42"`}}},

		{"module missing", "version: 1\nactors: [{type: a, module: wasm/nope.wasm}]\n", []want{{2, 28, "actors[0].module", "nope.wasm does not exist; build the actor or fix the path (relative paths start at the manifest's folder"}}},
		{"module folder", "version: 1\nactors: [{type: a, module: wasm/folder.wasm}]\n", []want{{2, 28, "actors[0].module", "folder.wasm is a folder; module must name a compiled .wasm file"}}},
		{"module not wasm", "version: 1\nactors: [{type: a, module: wasm/readme.txt}]\n", []want{{2, 28, "actors[0].module", `readme.txt is not a WebAssembly module: it does not start with the magic bytes \0asm`}}},
		{"module text", "version: 1\nactors: [{type: a, module: wasm/text.wat}]\n", []want{{2, 28, "actors[0].module", "text.wat looks like WebAssembly text (.wat), not a binary module"}}},
		{"module empty", "version: 1\nactors: [{type: a, module: wasm/empty.wasm}]\n", []want{{2, 28, "actors[0].module", "empty.wasm is empty, not a WebAssembly module"}}},
		{"module short", "version: 1\nactors: [{type: a, module: wasm/short.wasm}]\n", []want{{2, 28, "actors[0].module", "short.wasm is truncated"}}},
		{"module component", "version: 1\nactors: [{type: a, module: wasm/component.wasm}]\n", []want{{2, 28, "actors[0].module", "component.wasm is a WebAssembly component, not a core module"}}},
		{"module version 2", "version: 1\nactors: [{type: a, module: wasm/v2.wasm}]\n", []want{{2, 28, "actors[0].module", "v2.wasm has WebAssembly binary version 2; wactor reads version 1 only"}}},
		{"module empty path", "version: 1\nactors: [{type: a, module: ''}]\n", []want{{2, 28, "actors[0].module", "empty path"}}},

		{"mailbox zero", actor("mailbox: 0"), []want{{5, 14, "actors[0].mailbox", "mailbox must be from 1 to 1000000 messages, got 0"}}},
		{"mailbox huge", actor("mailbox: 1000001"), []want{{5, 14, "actors[0].mailbox", "got 1000001"}}},
		{"mailbox overflow", actor("mailbox: 99999999999999999999999"), []want{{5, 14, "actors[0].mailbox", "99999999999999999999999 is too large"}}},
		{"mailbox octal-looking", actor("mailbox: 010"), []want{{5, 14, "actors[0].mailbox", "010 starts with 0, which may be read as octal; write 10, or 0o10 if you mean octal"}}},
		{"mailbox float", actor("mailbox: 1.5"), []want{{5, 14, "actors[0].mailbox", "want a whole number of messages, got the number 1.5"}}},
		{"max_message fraction", actor("max_message: 1.5MiB"), []want{{5, 18, "actors[0].max_message", `"1.5MiB" is not a whole number; use a smaller unit instead of a fraction`}}},
		{"max_message float", actor("max_message: 1.5"), []want{{5, 18, "actors[0].max_message", "sizes are whole numbers"}}},
		{"max_message unit", actor("max_message: 16mb"), []want{{5, 18, "actors[0].max_message", `"16mb" has an unknown unit "mb"; units are case-sensitive: did you mean 16MB (powers of 1000) or 16MiB (powers of 1024)?`}}},
		{"max_message unknown unit", actor("max_message: 16TiB"), []want{{5, 18, "actors[0].max_message", `unknown unit "TiB"; use B, KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000)`}}},
		{"max_message negative", actor("max_message: -1"), []want{{5, 18, "actors[0].max_message", "-1 bytes is too small; the minimum is 1B"}}},
		{"max_message not a size", actor("max_message: big"), []want{{5, 18, "actors[0].max_message", `"big" is not a size`}}},
		{"max_message over memory", actor("max_message: 64MiB"), []want{{5, 5, "actors[0].max_message", "max_message (64MiB) must be smaller than max_memory (64MiB): a message has to fit in guest memory"}}},
		{"max_memory under message", actor("max_memory: 1MiB"), []want{{5, 5, "actors[0].max_memory", "max_message (1MiB) must be smaller than max_memory (1MiB)"}}},
		{"max_memory pages", actor("max_memory: 100KiB"), []want{{5, 17, "actors[0].max_memory", "102400 bytes is not a multiple of 64KiB, the WebAssembly page size; use e.g. 128KiB"}}},
		{"max_memory small", actor("max_memory: 32KiB"), []want{{5, 17, "actors[0].max_memory", "32768 bytes is too small; the minimum is 64KiB"}}},
		{"max_memory huge", actor("max_memory: 8GiB"), []want{{5, 17, "actors[0].max_memory", "8GiB is too large; the maximum is 4GiB"}}},
		{"max_table_entries zero", actor("max_table_entries: 0"), []want{{5, 24, "actors[0].max_table_entries", "max_table_entries must be from 1 to 134217728 table entries, got 0"}}},
		{"max_table_entries huge", actor("max_table_entries: 134217729"), []want{{5, 24, "actors[0].max_table_entries", "got 134217729"}}},
		{"duration no unit", actor("turn_timeout: 5"), []want{{5, 19, "actors[0].turn_timeout", "5 has no unit; write e.g. 5s for seconds or 5ms for milliseconds"}}},
		{"duration bad", actor("idle_timeout: 5 minutes"), []want{{5, 19, "actors[0].idle_timeout", `"5 minutes" is not a duration; write a number with a unit (ns, us, ms, s, m, h)`}}},
		{"duration negative", actor("ask_timeout: -1s"), []want{{5, 18, "actors[0].ask_timeout", "-1s is not positive"}}},
		{"duration zero", actor("ask_timeout: 0s"), []want{{5, 18, "actors[0].ask_timeout", "0s is not positive"}}},
		{"duration bool", actor("ask_timeout: true"), []want{{5, 18, "actors[0].ask_timeout", "want a duration such as 5s, 250ms or 2m, got the boolean true"}}},

		{"tag", actor("ask_timeout: !!str 5s"), []want{{5, 18, "actors[0].ask_timeout", "YAML tags such as !!str are not supported; remove the tag"}}},
		{"undefined alias", actor("<<: *defaults"), []want{{5, 9, "actors[0].<<", "alias *defaults refers to no anchor; define &defaults before this line"}}},
		{"merge scalar", actor("<<: 5"), []want{{5, 9, "actors[0].<<", "want a mapping or a list of mappings, e.g. <<: *defaults, got the integer 5"}}},
		{"merge cycle", "version: 1\nactors:\n  - &a {type: a, module: wasm/counter.wasm, <<: *a}\n", []want{{3, 8, "actors[0].<<", "merge keys (<<) form a cycle"}}},
		{"bad value under an alias", "version: 1\nactors:\n  - {type: a, module: wasm/counter.wasm, mailbox: &m 0}\n  - {type: b, module: wasm/counter.wasm, mailbox: *m}\n", []want{
			{3, 54, "actors[0].mailbox", "got 0"},
			{4, 51, "actors[1].mailbox", "got 0"},
		}},

		{"several problems", `version: 1
http:
  addr: localhost
storage:
  kind: memory
actors:
  - type: counter
    modul: wasm/counter.wasm
  - type: counter
    module: wasm/nope.wasm
    max_memory: 1000000
`, []want{
			{3, 9, "http.addr", "is not host:port"},
			{8, 5, "actors[0].modul", `unknown field "modul" (did you mean "module"?)`},
			{9, 11, "actors[1].type", `duplicate actor type "counter", first defined at line 7`},
			{10, 13, "actors[1].module", "does not exist"},
			{11, 17, "actors[1].max_memory", "not a multiple of 64KiB"},
		}},
	}
	dir := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parse(t, dir, tt.src)
			assert.Nil(t, m)
			list := problems(t, err)
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			require.Len(t, list, len(tt.want), "problems:\n%s", strings.Join(got, "\n"))
			for i, w := range tt.want {
				e := list[i]
				assert.Equal(t, "wactor.yaml", e.File)
				assert.Equal(t, fmt.Sprintf("%d:%d %s", w.line, w.col, w.path), fmt.Sprintf("%d:%d %s", e.Line, e.Column, e.Path), "problem %d: %s", i, e)
				assert.Contains(t, e.Msg, w.msg, "problem %d", i)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	dir := fixture(t)
	src := `version: 1
storage:
  kind: memory
actors:
  - type: counter
    mailbox: 8
    modul: wasm/counter.wasm
`
	_, err := parse(t, dir, src)
	require.Error(t, err)
	assert.Equal(t, `wactor.yaml:7:5: actors[0].modul: unknown field "modul" (did you mean "module"?)`, err.Error())

	var e *manifest.Error
	require.True(t, errors.As(err, &e), "errors.As finds the first *Error")
	assert.Equal(t, manifest.Error{File: "wactor.yaml", Line: 7, Column: 5, Path: "actors[0].modul", Msg: `unknown field "modul" (did you mean "module"?)`}, *e)

	// Several problems give one line each.
	_, err = parse(t, dir, "version: 3\nactors: []\n")
	assert.Equal(t, "wactor.yaml:1:10: version: unsupported manifest version 3; supported versions: 1 (write version: 1)\n"+
		"wactor.yaml:2:9: actors: no actor types; list at least one entry giving type and module", err.Error())

	// Without a place and without a path.
	assert.Equal(t, "m.yaml: bad", (&manifest.Error{File: "m.yaml", Msg: "bad"}).Error())
}

func TestLoad(t *testing.T) {
	dir := fixture(t)
	p := writeFile(t, dir, "wactor.yaml", "version: 1\nactors: [{type: a, module: wasm/counter.wasm}]\n")
	m, err := manifest.Load(p)
	require.NoError(t, err)
	assert.Equal(t, p, m.File)
	assert.Equal(t, dir, m.Dir)

	_, err = manifest.Load(filepath.Join(dir, "missing.yaml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var list manifest.ErrorList
	assert.False(t, errors.As(err, &list), "an unreadable file is not a manifest problem")

	// Errors name the file as it was given.
	t.Chdir(dir)
	writeFile(t, dir, "bad.yaml", "version: 1\nactors: [{type: a, module: wasm/counter.wasm, mailbox: 0}]\n")
	_, err = manifest.Load("bad.yaml")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "bad.yaml:2:"), err.Error())
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want manifest.Size
		err  string
	}{
		{"0", 0, ""},
		{"512", 512, ""},
		{"512B", 512, ""},
		{"64KiB", 64 << 10, ""},
		{"16MiB", 16 << 20, ""},
		{"16 MiB", 16 << 20, ""},
		{"1GiB", 1 << 30, ""},
		{"1KB", 1000, ""},
		{"10MB", 10_000_000, ""},
		{"2GB", 2_000_000_000, ""},
		{"8589934592GiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{"", 0, "is not a size"},
		{"MiB", 0, "is not a size"},
		{"-1", 0, "is not a size"},
		{" 1", 0, "is not a size"},
		{"1.5GiB", 0, "not a whole number"},
		{"16M", 0, "did you mean 16MB (powers of 1000) or 16MiB (powers of 1024)?"},
		{"16mib", 0, "did you mean 16MiB?"},
		{"16Mi", 0, "did you mean 16MiB?"},
		{"16b", 0, "did you mean 16B?"},
		{"16  MiB", 0, "unknown unit"},
		{"16MiB ", 0, "unknown unit"},
		{"16TB", 0, "unknown unit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := manifest.ParseSize(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSizeString(t *testing.T) {
	for in, want := range map[manifest.Size]string{
		0: "0B", 1: "1B", 1000: "1000B", 1024: "1KiB", 1536: "1536B",
		1536 << 10: "1536KiB", 16 << 20: "16MiB", 4 << 30: "4GiB", -1024: "-1KiB",
	} {
		assert.Equal(t, want, in.String(), "%d", int64(in))
	}
}

func TestParseSizesAndDurations(t *testing.T) {
	dir := fixture(t)
	tests := []struct {
		line string
		get  func(manifest.Actor) any
		want any
	}{
		{"max_message: 1048576", func(a manifest.Actor) any { return a.MaxMessage }, manifest.Size(1 << 20)},
		{"max_message: 0x1000", func(a manifest.Actor) any { return a.MaxMessage }, manifest.Size(4096)},
		{"max_message: 512B", func(a manifest.Actor) any { return a.MaxMessage }, manifest.Size(512)},
		{"max_message: \"2048\"", func(a manifest.Actor) any { return a.MaxMessage }, manifest.Size(2048)},
		{"max_message: 10KB", func(a manifest.Actor) any { return a.MaxMessage }, manifest.Size(10_000)},
		{"max_memory: 2097152", func(a manifest.Actor) any { return a.MaxMemory }, manifest.Size(2 << 20)},
		{"max_memory: 4GiB", func(a manifest.Actor) any { return a.MaxMemory }, manifest.Size(4 << 30)},
		{"max_memory: 1GB", func(a manifest.Actor) any { return a.MaxMemory }, nil},                                 // not a multiple of 64KiB
		{"max_memory: 1MiB\n    max_message: 1KiB", func(a manifest.Actor) any { return a.MaxTableEntries }, 16384}, // derived: 1MiB / 64
		{"max_table_entries: 100", func(a manifest.Actor) any { return a.MaxTableEntries }, 100},
		{"turn_timeout: 250ms", func(a manifest.Actor) any { return a.TurnTimeout }, 250 * time.Millisecond},
		{"turn_timeout: 1h2m3s", func(a manifest.Actor) any { return a.TurnTimeout }, time.Hour + 2*time.Minute + 3*time.Second},
		{"idle_timeout: 1.5s", func(a manifest.Actor) any { return a.IdleTimeout }, 1500 * time.Millisecond},
		{"ask_timeout: 100us", func(a manifest.Actor) any { return a.AskTimeout }, 100 * time.Microsecond},
		{"ask_timeout: 1ns", func(a manifest.Actor) any { return a.AskTimeout }, time.Nanosecond},
		{"mailbox: 0o10", func(a manifest.Actor) any { return a.Mailbox }, 8},
		{"mailbox: 0x10", func(a manifest.Actor) any { return a.Mailbox }, 16},
		{"mailbox: 1_000", func(a manifest.Actor) any { return a.Mailbox }, 1000},
		{"mailbox: 1000000", func(a manifest.Actor) any { return a.Mailbox }, 1_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			m, err := parse(t, dir, "version: 1\nactors:\n  - type: a\n    module: wasm/counter.wasm\n    "+tt.line+"\n")
			if tt.want == nil {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.get(m.Actors[0]))
		})
	}
}

func TestNoPanicOnOddInput(t *testing.T) {
	dir := fixture(t)
	for _, src := range []string{
		"\x00", "---\n---\n", "...\n", "%YAML 1.2\n---\n", "? [a]\n", "&a *a\n", "*a\n", "<<: *a\n",
		"version: 1\nactors: &x [*x]\n", "version: 1\nactors:\n  - &x {<<: [*x, *x, *x]}\n",
		"version: 1\nactors:\n  - !!map {}\n", "version: !!int 1\n", "[[[[[[[[[[]]]]]]]]]]", "{a: {b: {c: }}}",
		"version: 1\nactors:\n  - ? type\n    : a\n    module: wasm/counter.wasm\n",
		"version: 1\nactors:\n  - &k type: a\n    module: wasm/counter.wasm\n",
	} {
		_, err := parse(t, dir, src)
		if err != nil {
			assert.NotContains(t, err.Error(), "internal error", "input %q", src)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"version: 1\nactors:\n  - type: counter\n    module: wasm/counter.wasm\n",
		"version: 1\nhttp: {addr: ':8080', max_body: 1MiB}\nstorage: {kind: memory}\nactors: [{type: a, module: wasm/counter.wasm, mailbox: 3, max_memory: 64KiB, max_message: 1KiB}]\n",
		"version: 1\nstorage:\n  path: ./data\n  sync: false\nactors:\n  - &d {type: a, module: wasm/counter.wasm, turn_timeout: 5s}\n  - <<: *d\n    type: b\n",
		"version: 2\nactors: x\n",
		"a: [\n",
		"---\n---\n",
		"version: 1\nactors:\n  - &x {<<: [*x, *x]}\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "wasm"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm", "counter.wasm"), []byte(wasmHeader), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse(data, dir, "fuzz.yaml")
		if err != nil {
			if m != nil {
				t.Fatalf("manifest and error both returned")
			}
			var list manifest.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("malformed problem %#v", e)
				}
				if strings.ContainsAny(e.Error(), "\n\r") {
					t.Fatalf("problem spans lines: %q", e.Error())
				}
				if strings.Contains(e.Msg, "internal error") {
					t.Fatalf("the parser panicked: %v", e)
				}
			}
			return
		}
		if m.Version != manifest.Version || len(m.Actors) == 0 {
			t.Fatalf("accepted an incomplete manifest: %+v", m)
		}
		seen := map[string]bool{}
		for _, a := range m.Actors {
			if a.Type == "" || seen[a.Type] || !filepath.IsAbs(a.Module) || a.Mailbox < 1 ||
				a.MaxMemory%manifest.WasmPageSize != 0 || a.MaxMessage >= a.MaxMemory ||
				a.TurnTimeout <= 0 || a.IdleTimeout <= 0 || a.AskTimeout <= 0 {
				t.Fatalf("accepted an invalid actor: %+v", a)
			}
			seen[a.Type] = true
		}
	})
}

// TestDocErrorExample checks that the error example in docs/manifest.md is
// what Parse prints.
func TestDocErrorExample(t *testing.T) {
	dir := fixture(t)
	src := `version: 2
http:
  addr: 127.0.0.1:8080
  max_body: 16mb
actors:
  - type: counter
    modul: wasm/counter.wasm
    mailbox: 10
  - type: counter
    module: wasm/bank.wasm
    max_memory: 1000000
    turn_timeout: 5
`
	require.NoError(t, os.Remove(filepath.Join(dir, "wasm", "bank.wasm")))
	_, err := parse(t, dir, src)
	require.Error(t, err)
	got := strings.ReplaceAll(err.Error(), dir, "/srv/app")
	doc, rerr := os.ReadFile("../docs/manifest.md")
	require.NoError(t, rerr)
	assert.Contains(t, string(doc), "```\n"+got+"\n```", "update the example in docs/manifest.md to:\n%s", got)
}

func TestParseGuestMemory(t *testing.T) {
	dir := fixture(t)
	for src, want := range map[string]manifest.GuestMemory{
		"50%":       {Percent: 50},
		"100%":      {Percent: 100},
		"1%":        {Percent: 1},
		"512MiB":    {Bytes: 512 << 20},
		"1048576":   {Bytes: 1 << 20},
		"\"2 GiB\"": {Bytes: 2 << 30},
	} {
		m, err := parse(t, dir, "version: 1\nmax_guest_memory: "+src+"\nactors: [{type: a, module: wasm/counter.wasm}]\n")
		require.NoError(t, err, src)
		assert.Equal(t, want, m.MaxGuestMemory, src)
	}
}
