//go:build unix

package grantfs

import (
	"io"
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// file is a file or folder opened beneath a root. It works on its
// descriptor only, so what it reaches was settled when it was opened.
type file struct {
	seeker[int64]
	f        *os.File
	readOnly bool
	appends  bool

	// stat caches the descriptor's device, inode and type, which wazero
	// asks for at most path operations relative to a folder.
	stat   sys.Stat_t
	statOK bool
}

func (f *file) cachedStat() (sys.Stat_t, experimentalsys.Errno) {
	if !f.statOK {
		st, e := f.Stat()
		if e != 0 {
			return st, e
		}
		f.stat, f.statOK = st, true
	}
	return f.stat, 0
}

// Dev implements sys.File.
func (f *file) Dev() (uint64, experimentalsys.Errno) {
	st, e := f.cachedStat()
	return st.Dev, e
}

// Ino implements sys.File.
func (f *file) Ino() (sys.Inode, experimentalsys.Errno) {
	st, e := f.cachedStat()
	return st.Ino, e
}

// IsDir implements sys.File.
func (f *file) IsDir() (bool, experimentalsys.Errno) {
	st, e := f.cachedStat()
	return st.Mode.IsDir(), e
}

// IsAppend implements sys.File.
func (f *file) IsAppend() bool { return f.appends }

// SetAppend implements sys.File, on the descriptor's status flags.
func (f *file) SetAppend(enable bool) experimentalsys.Errno {
	e := f.control(func(fd int) error {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			return err
		}
		if enable {
			flags |= unix.O_APPEND
		} else {
			flags &^= unix.O_APPEND
		}
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
		return err
	})
	if e == 0 {
		f.appends = enable
	}
	return e
}

// Stat implements sys.File.
func (f *file) Stat() (sys.Stat_t, experimentalsys.Errno) {
	fi, err := f.f.Stat()
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Read implements sys.File.
func (f *file) Read(buf []byte) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.f.Read(buf)
	return n, f.onDir(ioErrno(err))
}

// Pread implements sys.File.
func (f *file) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if off < 0 {
		return 0, experimentalsys.EINVAL
	}
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.f.ReadAt(buf, off)
	return n, f.onDir(ioErrno(err))
}

// seeker gives file its Seek (sys.File's; seeking a folder to 0 restarts
// Readdir). go vet's stdmethods check wants any method named Seek to be
// io.Seeker's, which returns an error, not an Errno; with the offset's type
// a parameter, vet sees no io.Seeker and lets it be.
type seeker[Off ~int64] struct{ f *os.File }

// Seek implements sys.File.
func (s seeker[Off]) Seek(offset Off, whence int) (int64, experimentalsys.Errno) {
	n, err := s.f.Seek(int64(offset), whence)
	return n, errno(err)
}

// Readdir implements sys.File. Each entry is read with fstatat on the
// folder's descriptor, which gives the inode numbers WASI needs.
func (f *file) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	infos, err := f.f.Readdir(n)
	if e := ioErrno(err); e != 0 {
		if e == experimentalsys.EINVAL || e == experimentalsys.ENOTDIR {
			e = experimentalsys.EBADF // what sys.File.Readdir documents
		}
		return nil, e
	}
	dirents := make([]experimentalsys.Dirent, len(infos))
	for i, fi := range infos {
		dirents[i] = experimentalsys.Dirent{Name: fi.Name(), Type: fi.Mode().Type(), Ino: sys.NewStat_t(fi).Ino}
	}
	return dirents, 0
}

// Write implements sys.File.
func (f *file) Write(buf []byte) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.f.Write(buf)
	return n, errno(err)
}

// Pwrite implements sys.File.
func (f *file) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if off < 0 {
		return 0, experimentalsys.EINVAL
	}
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.f.WriteAt(buf, off)
	return n, f.onDir(errno(err))
}

// Truncate implements sys.File.
func (f *file) Truncate(size int64) experimentalsys.Errno {
	if size < 0 {
		return experimentalsys.EINVAL
	}
	e := f.onDir(errno(f.f.Truncate(size)))
	if e == experimentalsys.EINVAL {
		return experimentalsys.EBADF // not open for writing
	}
	return e
}

// onDir turns a failure on a folder into EISDIR, which sys.File documents
// for reads, pwrite and truncate where the system may say EINVAL or EBADF.
func (f *file) onDir(e experimentalsys.Errno) experimentalsys.Errno {
	if e != 0 {
		if dir, _ := f.IsDir(); dir {
			return experimentalsys.EISDIR
		}
	}
	return e
}

// Sync implements sys.File.
func (f *file) Sync() experimentalsys.Errno { return errno(f.f.Sync()) }

// Datasync implements sys.File, as Sync.
func (f *file) Datasync() experimentalsys.Errno { return f.Sync() }

// Utimens implements sys.File.
func (f *file) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.readOnly {
		return experimentalsys.EROFS
	}
	return f.control(func(fd int) error { return futimens(fd, atim, mtim) })
}

// Close implements sys.File.
func (f *file) Close() experimentalsys.Errno { return errno(f.f.Close()) }

// control runs do with the descriptor, which stays open meanwhile.
func (f *file) control(do func(fd int) error) experimentalsys.Errno {
	rc, err := f.f.SyscallConn()
	if err != nil {
		return errno(err)
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = do(int(fd)) }); err != nil {
		return errno(err)
	}
	return errno(opErr)
}

// ioErrno is errno for reads, where io.EOF is not an error.
func ioErrno(err error) experimentalsys.Errno {
	if err == io.EOF {
		return 0
	}
	return errno(err)
}

var (
	_ experimentalsys.File = (*file)(nil)
	_ experimentalsys.FS   = (*FS)(nil)
)
