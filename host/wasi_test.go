package host_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage/memstore"
)

// By default a guest sees no environment and no file system; the grants
// of its type open exactly what they name.
func TestWASIGrants(t *testing.T) {
	t.Setenv("WACTOR_HOST_SECRET", "do not leak")
	files, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(files, "a.txt"), []byte("hello"), 0o644))

	closed := goType(t, "hostile")
	granted := goType(t, "hostile")
	granted.Name = "hostile-granted"
	granted.Env = map[string]string{"GREETING": "hi", "EMPTY": ""}
	granted.Dirs = []host.DirGrant{
		{HostPath: files, GuestPath: "/data", ReadOnly: true},
		{HostPath: out, GuestPath: "/out"},
	}
	h := newHost(t, memstore.New(), closed, granted)

	t.Run("closed by default", func(t *testing.T) {
		for _, name := range []string{"WACTOR_HOST_SECRET", "HOME", "PATH", "GREETING"} {
			assert.Equal(t, M{}, mustCall(t, h, "hostile/a", "env", M{"name": name}), "env %s", name)
		}
		for _, p := range []string{"/data/a.txt", "/etc/passwd", filepath.Join(files, "a.txt"), "a.txt"} {
			_, err := call(t, h, "hostile/a", "read_file", M{"path": p})
			require.Error(t, err, "read %s", p)
			assert.Contains(t, err.Error(), "io:", "read %s", p)
		}
		_, err := call(t, h, "hostile/a", "write_file", M{"path": "/out/x", "data": []byte("x")})
		require.Error(t, err)
		assert.NoFileExists(t, filepath.Join(out, "x"))
	})

	t.Run("granted", func(t *testing.T) {
		ref := "hostile-granted/a"
		assert.Equal(t, M{"value": "hi"}, mustCall(t, h, ref, "env", M{"name": "GREETING"}))
		assert.Equal(t, M{"value": ""}, mustCall(t, h, ref, "env", M{"name": "EMPTY"}))
		assert.Equal(t, M{}, mustCall(t, h, ref, "env", M{"name": "WACTOR_HOST_SECRET"}), "only what is granted")
		assert.Equal(t, M{"data": []byte("hello")}, mustCall(t, h, ref, "read_file", M{"path": "/data/a.txt"}))

		// A read-only mount refuses writes, and the host file is untouched.
		_, err := call(t, h, ref, "write_file", M{"path": "/data/a.txt", "data": []byte("bye")})
		require.Error(t, err)
		_, err = call(t, h, ref, "write_file", M{"path": "/data/new.txt", "data": []byte("new")})
		require.Error(t, err)
		got, _ := os.ReadFile(filepath.Join(files, "a.txt"))
		assert.Equal(t, "hello", string(got))
		assert.NoFileExists(t, filepath.Join(files, "new.txt"))

		// A read-write mount takes writes, visible on the host.
		mustCall(t, h, ref, "write_file", M{"path": "/out/report.txt", "data": []byte("done")})
		got, err = os.ReadFile(filepath.Join(out, "report.txt"))
		require.NoError(t, err)
		assert.Equal(t, "done", string(got))

		// Nothing outside the mounts: not even through "..".
		_, err = call(t, h, ref, "read_file", M{"path": "/data/../../etc/passwd"})
		require.Error(t, err)
		_, err = call(t, h, ref, "read_file", M{"path": "/etc/passwd"})
		require.Error(t, err)
	})
}

func TestDeployRefusesBadGrants(t *testing.T) {
	h := newHost(t, memstore.New())
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for name, tc := range map[string]host.TypeConfig{
		"missing folder": {Dirs: []host.DirGrant{{HostPath: filepath.Join(dir, "nope"), GuestPath: "/d"}}},
		"a file":         {Dirs: []host.DirGrant{{HostPath: file, GuestPath: "/d"}}},
		"relative guest": {Dirs: []host.DirGrant{{HostPath: dir, GuestPath: "d"}}},
		"twice":          {Dirs: []host.DirGrant{{HostPath: dir, GuestPath: "/d"}, {HostPath: dir, GuestPath: "/d"}}},
		"env name":       {Env: map[string]string{"A=B": "c"}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.Name, tc.Module = "granted", goType(t, "hostile").Module
			assert.Error(t, h.Deploy(t.Context(), tc))
		})
	}
}
