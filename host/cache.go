package host

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// diskCache keeps wazero's compilation cache in a folder trustworthy.
//
// wazero 1.12 writes one file per compiled module,
// <dir>/wazero-<version>-<arch>-<os>/<64 hex digits>, and reads it back
// checking only part of it: a CRC of the machine code, not the function
// offsets before it nor the tables after it, so a damaged file fails
// compilation ("compilationcache: checksum mismatch") or, worse, loads. So
// wactor seals each file: after a compilation it writes, beside every file
// that has none, a seal (<file>.wactor-seal) naming its size and CRC-32C.
// When a host opens the folder, and again if a compilation fails, every
// file whose seal is missing or does not match is deleted with a warning,
// before wazero reads it; the module is then compiled again. The seal
// detects damage (a disk, a crash, a careless hand), not tampering:
// whoever can write this folder can write machine code the host will run,
// so it must be protected like the binary.
type diskCache struct {
	dir string
	log *slog.Logger
	// mu is held shared by each compile and alone while damaged entries
	// are discarded (see Host.compile).
	mu sync.RWMutex
}

const sealSuffix = ".wactor-seal"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checked remembers, for the whole process, the files found to match
// their seals, with their size and time, so that the many hosts a test
// binary makes on one folder read each file once.
var checked sync.Map // path -> fileStamp

type fileStamp struct {
	size int64
	mod  time.Time
}

func stampOf(fi os.FileInfo) fileStamp { return fileStamp{fi.Size(), fi.ModTime()} }

// entries lists the paths of wazero's cache files, of every wazero
// version that wrote to dir.
func (c *diskCache) entries() []string {
	dirs, _ := filepath.Glob(filepath.Join(c.dir, "wazero-*"))
	var paths []string
	for _, d := range dirs {
		files, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, f := range files {
			if isEntryName(f.Name()) && f.Type().IsRegular() {
				paths = append(paths, filepath.Join(d, f.Name()))
			}
		}
	}
	return paths
}

// entrySet is the set of entries in the folder now.
func (c *diskCache) entrySet() pathSet {
	set := make(pathSet)
	for _, p := range c.entries() {
		set[p] = true
	}
	return set
}

// pathSet is a set of file paths.
type pathSet map[string]bool

// minus lists the paths of s not in t.
func (s pathSet) minus(t pathSet) []string {
	var out []string
	for p := range s {
		if !t[p] {
			out = append(out, p)
		}
	}
	return out
}

// CacheUsage describes a compile cache folder: its compiled modules and
// the bytes they take, seals and unfinished writes included.
type CacheUsage struct {
	Entries int
	Bytes   int64
}

// InspectCache reports what the compile cache folder dir holds; a folder
// that does not exist holds nothing.
func InspectCache(dir string) (CacheUsage, error) {
	var u CacheUsage
	files, err := cacheFiles(dir)
	for _, f := range files {
		u.Bytes += f.size
		if isEntryName(filepath.Base(f.path)) {
			u.Entries++
		}
	}
	return u, err
}

// CleanCache deletes what the compile cache folder dir holds: the compiled
// modules of every wazero version, their seals and unfinished writes; it
// leaves other files, and the folder itself, alone. A host using the folder
// meanwhile compiles its modules again at its next start. It returns what
// it deleted.
func CleanCache(dir string) (CacheUsage, error) {
	var done CacheUsage
	files, err := cacheFiles(dir)
	for _, f := range files {
		if rerr := os.Remove(f.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
			continue
		}
		done.Bytes += f.size
		if isEntryName(filepath.Base(f.path)) {
			done.Entries++
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(dir, "wazero-*"))
	for _, d := range dirs {
		_ = os.Remove(d) // only when empty: files wactor did not write stay
	}
	return done, err
}

type cacheFile struct {
	path string
	size int64
}

// cacheFiles lists the files wazero and wactor write in dir: entries,
// seals and temporary files of both, in wazero's per-version folders.
func cacheFiles(dir string) ([]cacheFile, error) {
	dirs, err := filepath.Glob(filepath.Join(dir, "wazero-*"))
	if err != nil {
		return nil, err
	}
	var files []cacheFile
	var errs error
	for _, d := range dirs {
		list, err := os.ReadDir(d)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = errors.Join(errs, err)
			}
			continue
		}
		for _, e := range list {
			name := e.Name()
			base, _, _ := strings.Cut(name, ".")
			if !e.Type().IsRegular() || !isEntryName(base) {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			files = append(files, cacheFile{filepath.Join(d, name), fi.Size()})
		}
	}
	return files, errs
}

// isEntryName reports whether name is a cache key as wazero names its
// files: a SHA-256 in hex.
func isEntryName(name string) bool {
	if len(name) != 64 {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}

// seal computes the seal of the file at path.
func seal(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, nil, err
	}
	return fmt.Appendf(nil, "wactor compile cache seal 1: size %d crc32c %08x\n", n, h.Sum32()), fi, nil
}

// verify deletes every entry that does not match its seal and reports how
// many it deleted.
func (c *diskCache) verify() int {
	discarded := 0
	for _, path := range c.entries() {
		problem := c.check(path)
		if problem == "" {
			continue
		}
		checked.Delete(path)
		err := os.Remove(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.Error("cannot delete a damaged compile cache entry; delete it by hand", "file", path, "problem", problem, "err", err)
			continue
		}
		_ = os.Remove(path + sealSuffix)
		discarded++
		c.log.Warn("discarded a compile cache entry; its module will be compiled again", "file", path, "problem", problem)
	}
	// Seals whose file wazero deleted (it deletes entries of another
	// version of itself) go too.
	orphans, _ := filepath.Glob(filepath.Join(c.dir, "wazero-*", "*"+sealSuffix))
	for _, s := range orphans {
		if _, err := os.Lstat(s[:len(s)-len(sealSuffix)]); errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(s)
		}
	}
	return discarded
}

// check returns why the entry at path cannot be trusted, or "".
func (c *diskCache) check(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if st, ok := checked.Load(path); ok && st.(fileStamp) == stampOf(fi) {
		return ""
	}
	want, err := os.ReadFile(path + sealSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return "no seal (written by an older wactor, or one stopped before sealing it)"
	} else if err != nil {
		return err.Error()
	}
	got, fi, err := seal(path)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(got, want) {
		return "does not match its seal (damaged)"
	}
	checked.Store(path, stampOf(fi))
	return ""
}

// sealNew seals the entries that have no seal yet: those wazero has just
// written.
func (c *diskCache) sealNew() {
	for _, path := range c.entries() {
		if _, err := os.Lstat(path + sealSuffix); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		s, fi, err := seal(path)
		if err == nil {
			err = writeFileAtomic(path+sealSuffix, s)
		}
		if err != nil {
			c.log.Warn("cannot seal a compile cache entry; it will be compiled again at the next start", "file", path, "err", err)
			continue
		}
		checked.Store(path, stampOf(fi))
	}
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so that a reader sees all of it or nothing.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
