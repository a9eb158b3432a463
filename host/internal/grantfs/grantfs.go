//go:build unix

package grantfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// FS is one granted folder. It is safe for concurrent use by the instances
// of a type; Close it when none is left.
type FS struct {
	experimentalsys.UnimplementedFS
	root     *os.Root
	readOnly bool
}

// New opens dir (which may itself be reached through a symbolic link) as
// the root of an FS.
func New(dir string, readOnly bool) (*FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &FS{root: root, readOnly: readOnly}, nil
}

// Close releases the folder's descriptor. Files still open stay usable.
func (g *FS) Close() error { return g.root.Close() }

// String names the folder, for wazero's debug output.
func (g *FS) String() string { return g.root.Name() }

// OpenFile implements sys.FS.
func (g *FS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	access := flag & (experimentalsys.O_RDONLY | experimentalsys.O_WRONLY | experimentalsys.O_RDWR)
	writes := access != experimentalsys.O_RDONLY ||
		flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0
	if g.readOnly && writes {
		return nil, experimentalsys.EROFS
	}
	oflag := osFlag(flag)
	perm &= fs.ModePerm
	var (
		f   *os.File
		err error
	)
	if flag&experimentalsys.O_NOFOLLOW == 0 {
		f, err = g.root.OpenFile(name, oflag, perm)
	} else {
		// os.Root follows a last component that is a link (beneath the
		// root); the guest asked for ELOOP instead.
		err = g.inParent(name, func(dir int, base string) error {
			fd, err := unix.Openat(dir, base, oflag|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm))
			if err == nil {
				f = os.NewFile(uintptr(fd), path.Join(g.root.Name(), name))
			}
			return err
		})
	}
	if err != nil {
		return nil, errno(err)
	}
	file := &file{seeker: seeker[int64]{f}, f: f, readOnly: g.readOnly}
	if flag&experimentalsys.O_APPEND != 0 {
		// Set on the descriptor rather than through os, whose WriteAt
		// refuses files opened with O_APPEND (pwrite is allowed to append).
		if e := file.SetAppend(true); e != 0 {
			_ = f.Close()
			return nil, e
		}
	}
	return file, 0
}

// osFlag translates wazero's open flags, less O_APPEND and O_NOFOLLOW,
// which OpenFile applies itself.
func osFlag(flag experimentalsys.Oflag) int {
	var o int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_WRONLY | experimentalsys.O_RDWR) {
	case experimentalsys.O_WRONLY:
		o = os.O_WRONLY
	case experimentalsys.O_RDWR:
		o = os.O_RDWR
	}
	for _, m := range [...]struct {
		from experimentalsys.Oflag
		to   int
	}{
		{experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL},
		{experimentalsys.O_TRUNC, os.O_TRUNC},
		// O_SYNC also stands for O_DSYNC and O_RSYNC, which not every
		// system has: it is the stronger.
		{experimentalsys.O_SYNC | experimentalsys.O_DSYNC | experimentalsys.O_RSYNC, os.O_SYNC},
		{experimentalsys.O_DIRECTORY, unix.O_DIRECTORY},
		{experimentalsys.O_NONBLOCK, unix.O_NONBLOCK},
	} {
		if flag&m.from != 0 {
			o |= m.to
		}
	}
	return o
}

// Lstat implements sys.FS.
func (g *FS) Lstat(name string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := g.root.Lstat(name)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Stat implements sys.FS.
func (g *FS) Stat(name string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := g.root.Stat(name)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Readlink implements sys.FS. The target is returned as it is written,
// even when it points out: reading it reaches nothing.
func (g *FS) Readlink(name string) (string, experimentalsys.Errno) {
	target, err := g.root.Readlink(name)
	return target, errno(err)
}

// Mkdir implements sys.FS.
func (g *FS) Mkdir(name string, perm fs.FileMode) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.root.Mkdir(name, perm&fs.ModePerm))
}

// Chmod implements sys.FS.
func (g *FS) Chmod(name string, perm fs.FileMode) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.root.Chmod(name, perm&fs.ModePerm))
}

// Rename implements sys.FS: both names are resolved beneath the root.
func (g *FS) Rename(from, to string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.root.Rename(from, to))
}

// Rmdir implements sys.FS.
func (g *FS) Rmdir(name string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.inParent(name, func(dir int, base string) error {
		return unix.Unlinkat(dir, base, unix.AT_REMOVEDIR)
	}))
}

// Unlink implements sys.FS. A symbolic link is removed, not its target.
func (g *FS) Unlink(name string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.inParent(name, func(dir int, base string) error {
		return unix.Unlinkat(dir, base, 0)
	}))
}

// Link implements sys.FS: both names are resolved beneath the root, and a
// symbolic link is linked itself, never its target.
func (g *FS) Link(oldName, newName string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.root.Link(oldName, newName))
}

// Symlink implements sys.FS. See the package comment for which targets
// are allowed.
func (g *FS) Symlink(target, link string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	from := path.Dir(strings.TrimRight(link, "/")) // the link's folder
	if target == "" || path.IsAbs(target) || leaves(path.Join(from, target)) {
		return experimentalsys.EPERM
	}
	return errno(g.root.Symlink(target, link))
}

// Utimens implements sys.FS; it follows a symbolic link (beneath the root).
func (g *FS) Utimens(name string, atim, mtim int64) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return errno(g.root.Chtimes(name, timeOf(atim), timeOf(mtim)))
}

// timeOf converts wazero's nanoseconds; the zero time leaves the time as
// it is, as UTIME_OMIT asks.
func timeOf(nanos int64) time.Time {
	if nanos == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, nanos)
}

// leaves reports whether a cleaned relative path climbs above its start.
func leaves(p string) bool {
	return p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p)
}

// inParent opens the folder that holds name, beneath the root, and runs do
// with its descriptor and name's last component, which do must not
// follow.
func (g *FS) inParent(name string, do func(dir int, base string) error) error {
	// Not path.Clean: "link/.." is not "." when link is a symbolic link.
	dir, base := path.Split(strings.TrimRight(name, "/"))
	switch base {
	case "..":
		return experimentalsys.EPERM // the parent's parent: maybe above the root
	case "":
		base = "."
	}
	if dir == "" {
		dir = "."
	}
	parent, err := g.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer parent.Close()
	rc, err := parent.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = do(int(fd), base) }); err != nil {
		return err
	}
	return opErr
}

// errno translates an error of os or the system into what the guest sees.
// os.Root refuses a name that leaves the root with an error of its own,
// not an errno: that is EPERM, as wazero answers a path with "..".
func errno(err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	var e experimentalsys.Errno
	if errors.As(err, &e) {
		return e
	}
	var se syscall.Errno
	switch {
	case errors.As(err, &se):
		return experimentalsys.UnwrapOSError(se)
	case errors.Is(err, fs.ErrClosed):
		return experimentalsys.EBADF
	}
	return experimentalsys.EPERM
}
