//go:build unix

package grantfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// layout makes, under a fresh folder:
//
//	secret.txt                 outside the grant
//	outside/o.txt, outside/sub outside the grant
//	g/in.txt, g/d/             the grant
//	g/esc -> ../secret.txt     links that point out
//	g/escdir -> ../outside
//	g/loop -> loop
//	g/ok -> in.txt             a link that stays inside
func layout(t testing.TB) (base string) {
	base = t.TempDir()
	for name, data := range map[string]string{"secret.txt": "secret", "outside/o.txt": "outside", "g/in.txt": "in"} {
		p := filepath.Join(base, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(base, "outside", "sub"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(base, "g", "d"), 0o755))
	for link, target := range map[string]string{"esc": "../secret.txt", "escdir": "../outside", "loop": "loop", "ok": "in.txt"} {
		require.NoError(t, os.Symlink(target, filepath.Join(base, "g", link)))
	}
	return base
}

func newFS(t testing.TB, dir string, readOnly bool) *FS {
	g, err := New(dir, readOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// outsideUntouched checks that nothing outside the grant changed.
func outsideUntouched(t *testing.T, base string, since time.Time) {
	t.Helper()
	for name, data := range map[string]string{"secret.txt": "secret", "outside/o.txt": "outside"} {
		p := filepath.Join(base, name)
		got, err := os.ReadFile(p)
		require.NoError(t, err, name)
		assert.Equal(t, data, string(got), name)
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o644), fi.Mode(), name)
		assert.True(t, fi.ModTime().Before(since), "%s modified", name)
		assert.EqualValues(t, 1, fi.Sys().(*syscall.Stat_t).Nlink, "%s linked", name)
	}
	entries, err := os.ReadDir(filepath.Join(base, "outside"))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "outside: only o.txt and sub")
	sub, err := os.ReadDir(filepath.Join(base, "outside", "sub"))
	require.NoError(t, err)
	assert.Empty(t, sub)
}

// Every operation of the FS refuses every name that leaves the root,
// however it leaves.
func TestEveryOperationStaysBeneath(t *testing.T) {
	base := layout(t)
	since := time.Now()
	g := newFS(t, filepath.Join(base, "g"), false)
	const (
		rd = experimentalsys.O_RDONLY
		wr = experimentalsys.O_RDWR | experimentalsys.O_CREAT
	)
	perm := experimentalsys.EPERM
	// Names of things outside, each reached a different way.
	outside := []string{"../secret.txt", "esc", "escdir/o.txt", "d/../../secret.txt", "/etc/hostname", "escdir/../secret.txt"}
	for _, name := range outside {
		t.Run(name, func(t *testing.T) {
			_, e := g.OpenFile(name, rd, 0)
			assert.Equal(t, perm, e, "open")
			_, e = g.OpenFile(name, wr, 0o644)
			assert.Equal(t, perm, e, "open to write")
			_, e = g.OpenFile(name, rd|experimentalsys.O_NOFOLLOW, 0)
			if name == "esc" {
				assert.Equal(t, experimentalsys.ELOOP, e, "open the link itself")
			} else {
				assert.Equal(t, perm, e, "open without following")
			}
			_, e = g.Stat(name)
			assert.Equal(t, perm, e, "stat")
			if name != "esc" { // lstat of the link itself is fine
				_, e = g.Lstat(name)
				assert.Equal(t, perm, e, "lstat")
				_, e = g.Readlink(name)
				assert.Equal(t, perm, e, "readlink")
				assert.Equal(t, perm, g.Unlink(name), "unlink")
				assert.Equal(t, perm, g.Rename(name, "got.txt"), "rename in")
				assert.Equal(t, perm, g.Link(name, "hard.txt"), "hard link in")
			}
			assert.Equal(t, perm, g.Chmod(name, 0o777), "chmod")
			assert.Equal(t, perm, g.Utimens(name, 0, 0), "utimens")
			if name != "esc" { // renaming over the link itself is fine
				assert.Equal(t, perm, g.Rename("in.txt", name), "rename out")
				assert.Equal(t, perm, g.Link("in.txt", name+"2"), "hard link out")
			}
		})
	}
	for _, dir := range []string{"escdir/sub", "../outside/sub", "escdir/new"} {
		assert.Equal(t, perm, g.Mkdir(dir+"/x", 0o755), "mkdir %s/x", dir)
		assert.Equal(t, perm, g.Rmdir(dir), "rmdir %s", dir)
		assert.Equal(t, perm, g.Symlink("x", dir+"/l"), "symlink in %s", dir)
	}
	_, e := g.OpenFile("escdir", rd|experimentalsys.O_DIRECTORY, 0)
	assert.Equal(t, perm, e, "list a folder outside")
	_, e = g.OpenFile("..", rd|experimentalsys.O_DIRECTORY, 0)
	assert.Equal(t, perm, e, "list the parent")
	assert.Equal(t, perm, g.Rmdir(".."))
	assert.Equal(t, perm, g.Unlink("../secret.txt"))

	_, e = g.OpenFile("loop", rd, 0)
	assert.Equal(t, experimentalsys.ELOOP, e)
	_, e = g.Stat("loop")
	assert.Equal(t, experimentalsys.ELOOP, e)

	outsideUntouched(t, base, since)
	_, err := os.Lstat(filepath.Join(base, "g", "got.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.FileExists(t, filepath.Join(base, "g", "in.txt"))
}

// A guest's symbolic link needs a relative target that stays beneath the
// root from the link's folder; one that is moved to point out is refused
// when followed all the same.
func TestSymlinksAGuestMakes(t *testing.T) {
	base := layout(t)
	since := time.Now()
	g := newFS(t, filepath.Join(base, "g"), false)
	for target, link := range map[string]string{
		"../secret.txt": "l1", "/etc/hostname": "l2", "d/../../secret.txt": "l3",
		"../../secret.txt": "d/l4", "": "l5", "../../../../../../etc": "etc", "..": "l6/",
	} {
		assert.Equal(t, experimentalsys.EPERM, g.Symlink(target, link), "%s -> %s", link, target)
	}
	require.Zero(t, g.Symlink("../in.txt", "d/up"))
	f, e := g.OpenFile("d/up", experimentalsys.O_RDONLY, 0)
	require.Zero(t, e)
	assert.Equal(t, "in", readAll(t, f))
	got, e := g.Readlink("d/up")
	require.Zero(t, e)
	assert.Equal(t, "../in.txt", got)

	require.Zero(t, g.Symlink("../secret.txt", "d/moved"))
	require.Zero(t, g.Rename("d/moved", "moved"))
	_, e = g.OpenFile("moved", experimentalsys.O_RDONLY, 0)
	assert.Equal(t, experimentalsys.EPERM, e)
	_, e = g.OpenFile("moved", experimentalsys.O_WRONLY|experimentalsys.O_TRUNC, 0)
	assert.Equal(t, experimentalsys.EPERM, e)

	// Hard-linking a link links the link: what it names stays out of reach.
	require.Zero(t, g.Link("esc", "esc2"))
	_, e = g.OpenFile("esc2", experimentalsys.O_RDONLY, 0)
	assert.Equal(t, experimentalsys.EPERM, e)
	outsideUntouched(t, base, since)
}

// A folder swapped for a link that points out while the guest works in it
// never lets a read through: each path is walked on descriptors.
func TestSwapRace(t *testing.T) {
	base := layout(t)
	gdir := filepath.Join(base, "g")
	require.NoError(t, os.WriteFile(filepath.Join(gdir, "d", "f"), []byte("inside"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "outside", "f"), []byte("secret"), 0o644))
	require.NoError(t, os.Symlink("../outside", filepath.Join(gdir, "swap")))
	g := newFS(t, gdir, false)

	done := make(chan struct{})
	go func() {
		defer close(done)
		// d and swap trade places, over and over: d is a folder inside one
		// moment and a link out the next.
		for i := 0; i < 2000; i++ {
			if i%2 == 0 {
				_ = os.Rename(filepath.Join(gdir, "d"), filepath.Join(gdir, "tmp"))
				_ = os.Rename(filepath.Join(gdir, "swap"), filepath.Join(gdir, "d"))
			} else {
				_ = os.Rename(filepath.Join(gdir, "d"), filepath.Join(gdir, "swap"))
				_ = os.Rename(filepath.Join(gdir, "tmp"), filepath.Join(gdir, "d"))
			}
		}
	}()
	reads := 0
	deadline := time.Now().Add(10 * time.Second)
	for running := true; running && time.Now().Before(deadline); {
		select {
		case <-done:
			running = false
		default:
		}
		f, e := g.OpenFile("d/f", experimentalsys.O_RDONLY, 0)
		if e != 0 {
			continue
		}
		got := readAll(t, f)
		require.NotEqual(t, "secret", got, "read outside the root")
		reads++
	}
	<-done
	t.Logf("%d reads inside while the folder was swapped", reads)
}

func TestReadOnly(t *testing.T) {
	base := layout(t)
	since := time.Now()
	g := newFS(t, filepath.Join(base, "g"), true)
	rofs := experimentalsys.EROFS
	for _, flag := range []experimentalsys.Oflag{
		experimentalsys.O_WRONLY, experimentalsys.O_RDWR, experimentalsys.O_RDONLY | experimentalsys.O_CREAT,
		experimentalsys.O_RDONLY | experimentalsys.O_TRUNC, experimentalsys.O_RDONLY | experimentalsys.O_APPEND,
	} {
		_, e := g.OpenFile("in.txt", flag, 0o644)
		assert.Equal(t, rofs, e, "open with %v", flag)
	}
	assert.Equal(t, rofs, g.Mkdir("new", 0o755))
	assert.Equal(t, rofs, g.Chmod("in.txt", 0o777))
	assert.Equal(t, rofs, g.Rename("in.txt", "x"))
	assert.Equal(t, rofs, g.Rmdir("d"))
	assert.Equal(t, rofs, g.Unlink("in.txt"))
	assert.Equal(t, rofs, g.Link("in.txt", "h"))
	assert.Equal(t, rofs, g.Symlink("in.txt", "l"))
	assert.Equal(t, rofs, g.Utimens("in.txt", 0, 0))

	f, e := g.OpenFile("in.txt", experimentalsys.O_RDONLY, 0)
	require.Zero(t, e)
	defer f.Close()
	_, e = f.Write([]byte("x"))
	assert.Equal(t, experimentalsys.EBADF, e)
	_, e = f.Pwrite([]byte("x"), 0)
	assert.Equal(t, experimentalsys.EBADF, e)
	assert.Equal(t, experimentalsys.EBADF, f.Truncate(0))
	assert.Equal(t, rofs, f.Utimens(0, 0))
	assert.Equal(t, "in", readAll(t, f))

	_, e = g.OpenFile("esc", experimentalsys.O_RDONLY, 0)
	assert.Equal(t, experimentalsys.EPERM, e)
	got, err := os.ReadFile(filepath.Join(base, "g", "in.txt"))
	require.NoError(t, err)
	assert.Equal(t, "in", string(got))
	outsideUntouched(t, base, since)
}

// Within the root the FS is an ordinary file system.
func TestOperationsInside(t *testing.T) {
	base := layout(t)
	gdir := filepath.Join(base, "g")
	g := newFS(t, gdir, false)
	const rw = experimentalsys.O_RDWR | experimentalsys.O_CREAT

	f, e := g.OpenFile("d/new.txt", rw|experimentalsys.O_EXCL, 0o4777)
	require.Zero(t, e)
	n, e := f.Write([]byte("hello world"))
	require.Zero(t, e)
	assert.Equal(t, 11, n)
	_, e = f.Pwrite([]byte("HELLO"), 0)
	require.Zero(t, e)
	buf := make([]byte, 5)
	n, e = f.Pread(buf, 6)
	require.Zero(t, e)
	assert.Equal(t, "world", string(buf[:n]))
	off, e := f.Seek(0, io.SeekStart)
	require.Zero(t, e)
	assert.Zero(t, off)
	assert.Equal(t, "HELLO world", readAll(t, f))
	require.Zero(t, f.Truncate(5))
	require.Zero(t, f.SetAppend(true))
	assert.True(t, f.IsAppend())
	_, e = f.Write([]byte("!"))
	require.Zero(t, e)
	require.Zero(t, f.Utimens(experimentalsys.UTIME_OMIT, time.Unix(1000, 0).UnixNano()))
	st, e := f.Stat()
	require.Zero(t, e)
	assert.EqualValues(t, 6, st.Size)
	assert.Equal(t, int64(1000), st.Mtim/1e9)
	assert.Equal(t, fs.FileMode(0o755)&^umask(), st.Mode.Perm()&0o755, "no setuid bit")
	assert.Zero(t, st.Mode&fs.ModeSetuid)
	ino, e := f.Ino()
	require.Zero(t, e)
	assert.NotZero(t, ino)
	isDir, e := f.IsDir()
	require.Zero(t, e)
	assert.False(t, isDir)
	require.Zero(t, f.Sync())
	require.Zero(t, f.Datasync())
	require.Zero(t, f.Close())
	assert.Equal(t, experimentalsys.EBADF, f.Close())
	got, err := os.ReadFile(filepath.Join(gdir, "d", "new.txt"))
	require.NoError(t, err)
	assert.Equal(t, "HELLO!", string(got))

	_, e = g.OpenFile("d/new.txt", rw|experimentalsys.O_EXCL, 0o644)
	assert.Equal(t, experimentalsys.EEXIST, e)
	_, e = g.OpenFile("ok", experimentalsys.O_RDONLY|experimentalsys.O_NOFOLLOW, 0)
	assert.Equal(t, experimentalsys.ELOOP, e, "O_NOFOLLOW on a link")
	f, e = g.OpenFile("ok", experimentalsys.O_RDONLY, 0)
	require.Zero(t, e)
	assert.Equal(t, "in", readAll(t, f))
	require.Zero(t, f.Close())

	require.Zero(t, g.Chmod("d/new.txt", fs.ModeSetuid|0o700))
	fi, err := os.Stat(filepath.Join(gdir, "d", "new.txt"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), fi.Mode(), "the setuid bit is dropped")
	require.Zero(t, g.Utimens("ok", time.Unix(2000, 0).UnixNano(), time.Unix(3000, 0).UnixNano()))
	fi, err = os.Stat(filepath.Join(gdir, "in.txt"))
	require.NoError(t, err)
	assert.Equal(t, int64(3000), fi.ModTime().Unix(), "utimens follows the link")

	require.Zero(t, g.Mkdir("d/sub", 0o755))
	assert.Equal(t, experimentalsys.EEXIST, g.Mkdir("d/sub", 0o755))
	require.Zero(t, g.Link("d/new.txt", "d/sub/hard"))
	require.Zero(t, g.Rename("d/sub/hard", "hard"))
	st, e = g.Lstat("hard")
	require.Zero(t, e)
	assert.EqualValues(t, 2, st.Nlink)
	st, e = g.Lstat("ok")
	require.Zero(t, e)
	assert.Equal(t, fs.ModeSymlink, st.Mode.Type())
	st, e = g.Stat("ok")
	require.Zero(t, e)
	assert.True(t, st.Mode.IsRegular())

	dir, e := g.OpenFile("d", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	require.Zero(t, e)
	names := func() map[string]fs.FileMode {
		got := map[string]fs.FileMode{}
		for {
			ents, e := dir.Readdir(1)
			require.Zero(t, e)
			if len(ents) == 0 {
				return got
			}
			assert.NotZero(t, ents[0].Ino, ents[0].Name)
			got[ents[0].Name] = ents[0].Type
		}
	}
	want := map[string]fs.FileMode{"new.txt": 0, "sub": fs.ModeDir}
	assert.Equal(t, want, names())
	_, e = dir.Seek(0, io.SeekStart)
	require.Zero(t, e)
	assert.Equal(t, want, names(), "again after rewinding")
	_, e = dir.Read(make([]byte, 1))
	assert.Equal(t, experimentalsys.EISDIR, e)
	assert.Equal(t, experimentalsys.EISDIR, dir.Truncate(0))
	require.Zero(t, dir.Close())

	assert.Equal(t, experimentalsys.ENOTEMPTY, g.Rmdir("d"))
	assert.Equal(t, experimentalsys.ENOTDIR, g.Rmdir("hard"))
	assert.Equal(t, experimentalsys.EISDIR, g.Unlink("d/sub"))
	require.Zero(t, g.Rmdir("d/sub"))
	require.Zero(t, g.Unlink("ok"), "unlink removes the link")
	assert.FileExists(t, filepath.Join(gdir, "in.txt"))
	assert.Equal(t, experimentalsys.ENOENT, g.Unlink("ok"))
	_, e = g.OpenFile("nope", experimentalsys.O_RDONLY, 0)
	assert.Equal(t, experimentalsys.ENOENT, e)
}

func readAll(t testing.TB, f experimentalsys.File) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 64)
	for i := 0; i < 1000; i++ {
		n, e := f.Read(buf)
		require.Zero(t, e)
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
	t.Fatal("readAll: no end")
	return ""
}

func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

// What resolving beneath the root costs against wazero's folder mount,
// which joins strings: open, read and close a file two folders down.
func BenchmarkOpenRead(b *testing.B) {
	dir := b.TempDir()
	require.NoError(b, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	require.NoError(b, os.WriteFile(filepath.Join(dir, "a", "b", "c.txt"), []byte("data"), 0o644))
	for _, bc := range []struct {
		name string
		fs   experimentalsys.FS
	}{{"dirfs", sysfs.DirFS(dir)}, {"grantfs", newFS(b, dir, false)}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 16)
			for b.Loop() {
				f, e := bc.fs.OpenFile("a/b/c.txt", experimentalsys.O_RDONLY, 0)
				if e != 0 {
					b.Fatal(e)
				}
				if _, e := f.Read(buf); e != 0 {
					b.Fatal(e)
				}
				f.Close()
			}
		})
		b.Run(bc.name+"/stat", func(b *testing.B) {
			for b.Loop() {
				if _, e := bc.fs.Stat("a/b/c.txt"); e != 0 {
					b.Fatal(e)
				}
			}
		})
	}
}
