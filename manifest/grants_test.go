package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/manifest"
)

func TestParseGrants(t *testing.T) {
	dir := fixture(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	m, err := parse(t, dir, `version: 1
actors:
  - type: a
    module: wasm/counter.wasm
    env: {REGION: eu-west, RETRIES: "3", EMPTY: ""}
    dirs:
      - {host: ./files, guest: /data}
      - host: out
        guest: /out
        mode: rw
  - type: b
    module: wasm/counter.wasm
`)
	require.NoError(t, err)
	a := m.Actors[0]
	assert.Equal(t, map[string]string{"REGION": "eu-west", "RETRIES": "3", "EMPTY": ""}, a.Env)
	assert.Equal(t, []manifest.Dir{
		{Host: filepath.Join(dir, "files"), Guest: "/data", Mode: manifest.DirReadOnly},
		{Host: filepath.Join(dir, "out"), Guest: "/out", Mode: manifest.DirReadWrite},
	}, a.Dirs)
	assert.Nil(t, m.Actors[1].Env, "no grants by default")
	assert.Nil(t, m.Actors[1].Dirs, "no grants by default")
}

func TestParseGrantErrors(t *testing.T) {
	dir := fixture(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	tests := []struct {
		name, grants, want string
	}{
		{"env not a mapping", "    env: [A]\n",
			"wactor.yaml:5:10: actors[0].env: want a mapping of environment variable names to values, e.g. {LOG_LEVEL: debug}, got a list"},
		{"env value not a string", "    env: {PORT: 8080}\n",
			`wactor.yaml:5:17: actors[0].env.PORT: want a string (the variable's value), got the integer 8080; quote it if you mean the text: "8080"`},
		{"env name with =", "    env: {\"A=B\": x}\n",
			`wactor.yaml:5:11: actors[0].env.A=B: environment variable name "A=B" must be non-empty without '=' or NUL`},
		{"dirs not a list", "    dirs: ./files\n",
			`wactor.yaml:5:11: actors[0].dirs: want a list of folders, e.g. [{host: ./files, guest: /data, mode: ro}], got the string "./files"`},
		{"host missing", "    dirs: [{host: ./nope, guest: /data}]\n",
			"wactor.yaml:5:19: actors[0].dirs[0].host: folder " + filepath.Join(dir, "nope") + " does not exist; create it or fix the path (relative paths start at the manifest's folder " + dir + ")"},
		{"host is a file", "    dirs: [{host: afile, guest: /data}]\n",
			"wactor.yaml:5:19: actors[0].dirs[0].host: " + filepath.Join(dir, "afile") + " is not a folder; dirs grants folders, not single files"},
		{"guest relative", "    dirs: [{host: files, guest: data}]\n",
			`wactor.yaml:5:33: actors[0].dirs[0].guest: guest path "data" must be absolute, e.g. /data`},
		{"guest root", "    dirs: [{host: files, guest: /}]\n",
			"wactor.yaml:5:33: actors[0].dirs[0].guest: guest path / would shadow every other path; mount the folder under a name such as /data"},
		{"guest unclean", "    dirs: [{host: files, guest: /data/../etc}]\n",
			`wactor.yaml:5:33: actors[0].dirs[0].guest: guest path "/data/../etc" is not clean; write /etc`},
		{"guest twice", "    dirs: [{host: files, guest: /d}, {host: files, guest: /d}]\n",
			"wactor.yaml:5:59: actors[0].dirs[1].guest: guest path /d is already granted at line 5; give each folder its own guest path"},
		{"bad mode", "    dirs: [{host: files, guest: /d, mode: rwx}]\n",
			`wactor.yaml:5:43: actors[0].dirs[0].mode: mode must be ro (read-only) or rw (read-write), got "rwx"`},
		{"guest missing", "    dirs: [{host: files}]\n",
			`wactor.yaml:5:12: actors[0].dirs[0].guest: missing required field "guest"; add guest: <absolute path the actor opens it as, e.g. /data>`},
		{"unknown key", "    dirs: [{host: files, guest: /d, readonly: true}]\n",
			`wactor.yaml:5:37: actors[0].dirs[0].readonly: unknown field "readonly"; the fields in a dirs entry are host, guest, mode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, dir, "version: 1\nactors:\n  - type: a\n    module: wasm/counter.wasm\n"+tt.grants)
			list := problems(t, err)
			assert.Equal(t, tt.want, list[0].Error(), "all: %v", err)
		})
	}
}

func TestSubscriptions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	m, err := manifest.Parse([]byte(`version: 1
actors:
  - type: room
    module: a.wasm
    subscriptions:
      - {topic: rooms.*.said, method: post}
      - {topic: audit.>, method: record, id: payload.room}
`), dir, "wactor.yaml")
	require.NoError(t, err)
	assert.Equal(t, []manifest.Subscription{{Topic: "rooms.*.said", Method: "post"}, {Topic: "audit.>", Method: "record", ID: "payload.room"}},
		m.Actors[0].Subscriptions)
	for body, want := range map[string]string{
		`{topic: rooms.x, method: post}`:              "has no wildcard",
		`{topic: "a..b", method: post}`:               "empty segment",
		`{topic: a.*, method: "wactor:x"}`:            "wactor:",
		`{topic: a.*, method: post, id: room}`:        "id must be topic",
		`{topic: a.*, method: post, ids: topic}`:      "unknown field",
		`{topic: a.>.b, method: post, id: payload.x}`: "segment is a name",
	} {
		_, err := manifest.Parse([]byte("version: 1\nactors:\n  - type: room\n    module: a.wasm\n    subscriptions:\n      - "+body+"\n"), dir, "wactor.yaml")
		assert.ErrorContains(t, err, want, body)
	}
}
