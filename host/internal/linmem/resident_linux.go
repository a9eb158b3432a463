package linmem

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pagemap is the process's /proc/self/pagemap, opened once: a 64-bit entry
// per virtual page saying whether the page is in memory and whether it is
// the process's own or shared with a file (Documentation/admin-guide/mm/
// pagemap.rst in the Linux sources).
var pagemap struct {
	once sync.Once
	f    *os.File
	err  error
}

// Bits of a pagemap entry.
const (
	pmPresent    = 1 << 63
	pmSwapped    = 1 << 62
	pmFileShared = 1 << 61 // a page of a file or shared memory, not a private copy
	pmExclusive  = 1 << 56 // mapped once: not the shared zero page, nor a page of another mapping
)

// pagemapPath is the page map's file (a test points it elsewhere).
var pagemapPath = "/proc/self/pagemap"

// openPagemap opens the page map at name and checks that it shows a page
// just written as in memory. A page map that says less (one emulated as
// all zeros, say) is not used: freed slots are zeroed by what it shows, so
// one that hid written pages would hand a guest's bytes to the next.
func openPagemap(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	probe, err := unix.Mmap(-1, 0, int(pageSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("checking the page map: %w", err)
	}
	defer func() { _ = unix.Munmap(probe) }()
	probe[0] = 1
	var e [8]byte
	n, err := unix.Pread(int(f.Fd()), e[:], int64(uint64(uintptr(unsafe.Pointer(&probe[0])))/pageSize*8))
	if err != nil || n != len(e) || binary.LittleEndian.Uint64(e[:])&pmPresent == 0 {
		_ = f.Close()
		return nil, fmt.Errorf("%s does not show a page just written as in memory: not used", name)
	}
	return f, nil
}

// pmBatch is how many entries Resident reads at once.
const pmBatch = 512

// Resident returns how many bytes of mem, a linear memory (or any memory
// of this process), are in memory, or swapped out, and belong to mem
// alone: its anonymous pages and its private copies of an image's pages.
// Pages of an image the memory has only read are shared with every other
// memory made from it, and pages only read of a fresh memory are the
// kernel's one zero page: neither is counted. It reads the process's page
// map, about 8 bytes per 4 KiB page of mem.
func Resident(mem []byte) (int64, error) {
	var pages int64
	err := eachEntry(mem, func(_ uint64, e uint64) {
		if own(e) {
			pages++
		}
	})
	return pages * int64(pageSize), err
}

// Own returns the indices of the pages of mem, from its first whole page,
// that belong to it alone (as Resident counts them), in order. A page
// of an image that the memory holds a copy of has been written since the
// image was mapped (or copied by SetHot).
func Own(mem []byte) ([]uint32, error) {
	var pages []uint32
	err := eachEntry(mem, func(i uint64, e uint64) {
		if own(e) {
			pages = append(pages, uint32(i))
		}
	})
	return pages, err
}

// own says whether a page map entry is of a page that belongs to its
// mapping alone: swapped out, or in memory, mapped once and not a page
// of a file.
func own(e uint64) bool {
	return e&pmSwapped != 0 || e&(pmPresent|pmExclusive|pmFileShared) == pmPresent|pmExclusive
}

// eachEntry calls fn with the index, from the first, of each page that
// mem covers, and the page's page map entry.
func eachEntry(mem []byte, fn func(i uint64, e uint64)) error {
	if len(mem) == 0 {
		return nil
	}
	first := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem)))) / pageSize
	last := (uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem)))) + uint64(len(mem)) - 1) / pageSize
	var buf [pmBatch * 8]byte
	for p := first; p <= last; {
		n := min(last-p+1, pmBatch)
		got, err := readPagemap(buf[:n*8], p)
		if err != nil {
			return err
		}
		if got < 8 {
			return fmt.Errorf("linmem: the page map ended at page %d", p)
		}
		for i := 0; i+8 <= got; i, p = i+8, p+1 {
			fn(p-first, binary.LittleEndian.Uint64(buf[i:]))
		}
	}
	return nil
}

// readPagemap reads the page map's entries from virtual page first on
// into buf, and returns how many bytes it read.
func readPagemap(buf []byte, first uint64) (int, error) {
	pagemap.once.Do(func() { pagemap.f, pagemap.err = openPagemap(pagemapPath) })
	if pagemap.err != nil {
		return 0, fmt.Errorf("linmem: %w", pagemap.err)
	}
	n, err := unix.Pread(int(pagemap.f.Fd()), buf, int64(first*8))
	if err != nil {
		return 0, fmt.Errorf("linmem: reading the page map: %w", err)
	}
	return n, nil
}
