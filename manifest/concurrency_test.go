package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/manifest"
)

func TestParseStatelessWorker(t *testing.T) {
	dir := fixture(t)
	const head = "version: 1\nactors:\n  - type: hasher\n    module: wasm/counter.wasm\n"
	m, err := parse(t, dir, head+"    stateless_worker: {max_local: 8}\n  - type: counter\n    module: wasm/counter.wasm\n")
	require.NoError(t, err)
	assert.Equal(t, 8, m.Actors[0].StatelessWorker.MaxLocal)
	assert.Zero(t, m.Actors[1].StatelessWorker.MaxLocal, "a type without it runs one turn at a time")

	for _, c := range []struct{ name, src, want string }{
		{"no max_local", "    stateless_worker: {}\n", `actors[0].stateless_worker.max_local: missing required field "max_local"`},
		{"empty", "    stateless_worker:\n", "empty stateless_worker; add max_local"},
		{"zero", "    stateless_worker: {max_local: 0}\n", "max_local must be from 1 to 1024 instances, got 0"},
		{"too many", "    stateless_worker: {max_local: 5000}\n", "max_local must be from 1 to 1024 instances, got 5000"},
		{"not a number", "    stateless_worker: {max_local: many}\n", "a whole number of instances"},
		{"not a mapping", "    stateless_worker: 4\n", "a mapping with max_local"},
		{"unknown key", "    stateless_worker: {max_local: 2, max_locl: 3}\n", `max_locl`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, dir, head+c.src)
			list := problems(t, err)
			assert.Contains(t, list.Error(), c.want)
			assert.Contains(t, list.Error(), "wactor.yaml:5", "the error points at the line")
		})
	}
}

func TestParseReadOnly(t *testing.T) {
	dir := fixture(t)
	const head = "version: 1\nactors:\n  - type: account\n    module: wasm/counter.wasm\n"
	m, err := parse(t, dir, head+"    read_only: [get, balance]\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"get", "balance"}, m.Actors[0].ReadOnly)

	for _, c := range []struct{ name, src, want string }{
		{"not a list", "    read_only: get\n", "a list of method names"},
		{"twice", "    read_only: [get, get]\n", `actors[0].read_only[1]: method "get" is listed twice, first at line 5`},
		{"empty name", "    read_only: [\"\"]\n", "a method name is 1 to 256 bytes, got 0"},
		{"not a string", "    read_only: [{a: 1}]\n", "actors[0].read_only[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, dir, head+c.src)
			list := problems(t, err)
			assert.Contains(t, list.Error(), c.want)
		})
	}
}

func TestParseReentrant(t *testing.T) {
	dir := fixture(t)
	const head = "version: 1\nactors:\n  - type: account\n    module: wasm/counter.wasm\n"
	m, err := parse(t, dir, head+"    reentrant: call_chain\n  - type: counter\n    module: wasm/counter.wasm\n")
	require.NoError(t, err)
	assert.Equal(t, manifest.ReentrantCallChain, m.Actors[0].Reentrant)
	assert.Empty(t, m.Actors[1].Reentrant, "a type without it is not reentrant")

	for _, c := range []struct{ name, src, want string }{
		{"another kind", "    reentrant: full\n", `actors[0].reentrant: reentrant must be call_chain (the only kind of reentrancy), got "full"`},
		{"a boolean", "    reentrant: true\n", "actors[0].reentrant"},
		{"with stateless_worker", "    reentrant: call_chain\n    stateless_worker: {max_local: 2}\n",
			`actors[0].reentrant: type "account" is both reentrant and a stateless worker, which do not go together`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, dir, head+c.src)
			list := problems(t, err)
			assert.Contains(t, list.Error(), c.want)
			assert.Contains(t, list.Error(), "wactor.yaml:5", "the error points at the line")
		})
	}
}
