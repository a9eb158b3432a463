//go:build linux

// Package smalldisk gives tests a small file system of their own, to see
// what wactor does when its disk fills up: a tmpfs mounted on a temporary
// folder, and a filler file that takes its free space away and gives it
// back.
package smalldisk

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// Mount mounts a tmpfs of size bytes on a temporary folder and returns the
// folder; it is unmounted when tb ends, after the cleanups registered
// later (so a store opened in it is closed first). Mounting needs root:
// without it, or when the mount fails, the test is skipped with the reason.
func Mount(tb testing.TB, size int64) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("smalldisk: mounting a tmpfs needs root; run the test as root (CI does) to check what a full disk does")
	}
	dir := tb.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		tb.Skipf("smalldisk: mount -t tmpfs on %s: %v; this check needs a kernel and sandbox that allow tmpfs mounts", dir, err)
	}
	tb.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			tb.Errorf("smalldisk: unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Free returns the bytes an unprivileged writer may still allocate in the
// file system that holds dir.
func Free(tb testing.TB, dir string) int64 {
	tb.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		tb.Fatalf("smalldisk: statfs %s: %v", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// Filler is a file that holds on to a file system's free space.
type Filler struct {
	tb   testing.TB
	path string
}

// NewFiller makes a filler file in dir, empty until Leave.
func NewFiller(tb testing.TB, dir string) *Filler {
	tb.Helper()
	f := &Filler{tb: tb, path: filepath.Join(dir, "filler")}
	f.Leave(-1)
	return f
}

// Leave grows or shrinks the filler so that about free bytes of its file
// system stay free (as little as the file system allows when free is 0);
// a negative free empties the filler.
func (f *Filler) Leave(free int64) {
	f.tb.Helper()
	file, err := os.OpenFile(f.path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		f.tb.Fatalf("smalldisk: %v", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		f.tb.Fatalf("smalldisk: %v", err)
	}
	size := int64(0)
	if free >= 0 {
		size = max(fi.Size()+Free(f.tb, f.path)-free, 0)
	}
	// Truncating first gives back the blocks a shrink frees; fallocate
	// then takes real blocks (a truncate alone would only make a hole).
	if err := file.Truncate(min(size, fi.Size())); err != nil {
		f.tb.Fatalf("smalldisk: %v", err)
	}
	if size > fi.Size() {
		err := unix.Fallocate(int(file.Fd()), 0, 0, size)
		for errors.Is(err, unix.ENOSPC) && size > fi.Size() {
			size -= 4096 // metadata took a page or two: leave them
			err = unix.Fallocate(int(file.Fd()), 0, 0, size)
		}
		if err != nil {
			f.tb.Fatalf("smalldisk: fallocate %s to %d bytes: %v", f.path, size, err)
		}
	}
}
