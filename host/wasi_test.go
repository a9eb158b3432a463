package host_test

import (
	"os"
	"path/filepath"
	"syscall"
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

// A guest with folder grants reaches nothing outside them: not through a
// symbolic link it makes, one already there, a loop, "..", a rename or a
// hard link. Each attempt fails with an error the guest sees, and the
// host's files outside are untouched.
func TestFolderGrantContainment(t *testing.T) {
	base := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(base, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(base, name), []byte(data), 0o644))
	}
	link := func(target, name string) {
		t.Helper()
		require.NoError(t, os.Symlink(target, filepath.Join(base, name)))
	}
	write("secret.txt", "host secret")
	write("outside/o.txt", "outside")
	write("rw/inside.txt", "in")
	write("ro/r.txt", "read only")
	link("../secret.txt", "rw/escape") // made by the host, pointing out
	link("../outside", "rw/outdir")
	link("loop2", "rw/loop1")
	link("loop1", "rw/loop2")
	link("self", "rw/self")
	link("inside.txt", "rw/ok") // a link that stays inside works
	link("../secret.txt", "ro/escape")

	tc := goType(t, "hostile")
	tc.Dirs = []host.DirGrant{
		{HostPath: filepath.Join(base, "rw"), GuestPath: "/out"},
		{HostPath: filepath.Join(base, "ro"), GuestPath: "/ro", ReadOnly: true},
	}
	h := newHost(t, memstore.New(), tc)
	const ref = "hostile/a"
	fsOp := func(op, path, to string) (map[string]any, error) {
		return call(t, h, ref, "fs", M{"op": op, "path": path, "to": to})
	}
	refused := func(t *testing.T, err error, want string) {
		t.Helper()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "io:")
		assert.Contains(t, err.Error(), want)
	}
	untouched := func(t *testing.T) {
		t.Helper()
		for name, data := range map[string]string{"secret.txt": "host secret", "outside/o.txt": "outside"} {
			got, err := os.ReadFile(filepath.Join(base, name))
			require.NoError(t, err)
			assert.Equal(t, data, string(got), name)
			fi, err := os.Stat(filepath.Join(base, name))
			require.NoError(t, err)
			assert.EqualValues(t, 1, fi.Sys().(*syscall.Stat_t).Nlink, "%s has no hard link from the grant", name)
		}
		entries, err := os.ReadDir(filepath.Join(base, "outside"))
		require.NoError(t, err)
		assert.Len(t, entries, 1, "nothing created outside")
	}
	const escapes = "Operation not permitted" // EPERM, as wasip1 Go spells it

	t.Run("inside works", func(t *testing.T) {
		assert.Equal(t, M{"data": []byte("in")}, mustCall(t, h, ref, "read_file", M{"path": "/out/ok"}))
		mustCall(t, h, ref, "fs", M{"op": "mkdir", "path": "/out/d"})
		mustCall(t, h, ref, "fs", M{"op": "symlink", "path": "../inside.txt", "to": "/out/d/up"})
		assert.Equal(t, M{"data": []byte("in")}, mustCall(t, h, ref, "read_file", M{"path": "/out/d/up"}))
		mustCall(t, h, ref, "fs", M{"op": "link", "path": "/out/inside.txt", "to": "/out/d/hard"})
		mustCall(t, h, ref, "fs", M{"op": "rename", "path": "/out/d/hard", "to": "/out/hard"})
		mustCall(t, h, ref, "fs", M{"op": "remove", "path": "/out/hard"})
		names := mustCall(t, h, ref, "fs", M{"op": "readdir", "path": "/out"})["value"]
		assert.Contains(t, names, "inside.txt\n")
		assert.Equal(t, M{"value": "../secret.txt"}, mustCall(t, h, ref, "fs", M{"op": "readlink", "path": "/out/escape"}),
			"a link's text is readable; what it points to is not")
	})

	t.Run("a symlink the guest makes", func(t *testing.T) {
		_, err := fsOp("symlink", "../../../../../../etc", "/out/etc")
		refused(t, err, escapes)
		_, err = call(t, h, ref, "read_file", M{"path": "/out/etc/hostname"})
		require.Error(t, err)
		_, err = os.Lstat(filepath.Join(base, "rw", "etc"))
		assert.ErrorIs(t, err, os.ErrNotExist)
		_, err = fsOp("symlink", "/etc", "/out/abs")
		refused(t, err, escapes)

		// A link that stays inside where it is made, moved to where it
		// points out: refused when followed, whatever the check at
		// creation let through.
		mustCall(t, h, ref, "fs", M{"op": "mkdir", "path": "/out/a"})
		mustCall(t, h, ref, "fs", M{"op": "symlink", "path": "../secret.txt", "to": "/out/a/l"})
		mustCall(t, h, ref, "fs", M{"op": "rename", "path": "/out/a/l", "to": "/out/l"})
		_, err = call(t, h, ref, "read_file", M{"path": "/out/l"})
		refused(t, err, escapes)
		_, err = call(t, h, ref, "write_file", M{"path": "/out/l", "data": []byte("overwritten")})
		refused(t, err, escapes)
		untouched(t)
	})

	t.Run("a symlink already there", func(t *testing.T) {
		for _, p := range []string{"/out/escape", "/out/outdir/o.txt", "/ro/escape"} {
			_, err := call(t, h, ref, "read_file", M{"path": p})
			refused(t, err, escapes)
		}
		_, err := call(t, h, ref, "write_file", M{"path": "/out/escape", "data": []byte("overwritten")})
		refused(t, err, escapes)
		_, err = call(t, h, ref, "write_file", M{"path": "/out/outdir/new.txt", "data": []byte("new")})
		refused(t, err, escapes)
		_, err = fsOp("readdir", "/out/outdir", "")
		refused(t, err, escapes)
		_, err = fsOp("mkdir", "/out/outdir/sub", "")
		refused(t, err, escapes)
		untouched(t)
	})

	t.Run("a symlink loop", func(t *testing.T) {
		for _, p := range []string{"/out/loop1", "/out/self"} {
			_, err := call(t, h, ref, "read_file", M{"path": p})
			refused(t, err, "Too many symbolic links") // ELOOP
		}
	})

	t.Run("dot dot", func(t *testing.T) {
		for _, p := range []string{"/out/../secret.txt", "/out/a/../../secret.txt", "/ro/../secret.txt"} {
			_, err := call(t, h, ref, "read_file", M{"path": p})
			require.Error(t, err, p)
		}
		_, err := call(t, h, ref, "write_file", M{"path": "/out/../outside/new.txt", "data": []byte("new")})
		require.Error(t, err)
		untouched(t)
	})

	t.Run("rename across the boundary", func(t *testing.T) {
		_, err := fsOp("rename", "/out/inside.txt", "/out/outdir/stolen.txt")
		refused(t, err, escapes)
		_, err = fsOp("rename", "/out/outdir/o.txt", "/out/got.txt")
		refused(t, err, escapes)
		_, err = fsOp("rename", "/out/inside.txt", "/ro/inside.txt")
		require.Error(t, err, "from one grant to another")
		assert.FileExists(t, filepath.Join(base, "rw", "inside.txt"))
		assert.NoFileExists(t, filepath.Join(base, "rw", "got.txt"))
		untouched(t)
	})

	t.Run("hard link to a file outside", func(t *testing.T) {
		_, err := fsOp("link", "/out/outdir/o.txt", "/out/hard")
		refused(t, err, escapes)
		// Linking the link that points out links the link, not the file.
		mustCall(t, h, ref, "fs", M{"op": "link", "path": "/out/escape", "to": "/out/hard2"})
		_, err = call(t, h, ref, "read_file", M{"path": "/out/hard2"})
		refused(t, err, escapes)
		_, err = fsOp("link", "/out/inside.txt", "/out/outdir/in.txt")
		refused(t, err, escapes)
		untouched(t)
	})

	t.Run("read only", func(t *testing.T) {
		for _, op := range [][3]string{
			{"mkdir", "/ro/d", ""}, {"remove", "/ro/r.txt", ""}, {"rename", "/ro/r.txt", "/ro/s.txt"},
			{"symlink", "r.txt", "/ro/l"}, {"link", "/ro/r.txt", "/ro/h"},
		} {
			_, err := fsOp(op[0], op[1], op[2])
			refused(t, err, "Read-only file system")
		}
		_, err := call(t, h, ref, "write_file", M{"path": "/ro/r.txt", "data": []byte("x")})
		refused(t, err, "Read-only file system")
		got, err := os.ReadFile(filepath.Join(base, "ro", "r.txt"))
		require.NoError(t, err)
		assert.Equal(t, "read only", string(got))
		entries, err := os.ReadDir(filepath.Join(base, "ro"))
		require.NoError(t, err)
		assert.Len(t, entries, 2)
	})
}
