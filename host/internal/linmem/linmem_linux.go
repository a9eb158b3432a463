package linmem

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// pageSize is the granule of mmap and mprotect.
var pageSize = uint64(os.Getpagesize())

func roundUp(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// maxPooled is how many freed reservations an Allocator keeps for reuse.
// A freed memory has its pages dropped (MADV_DONTNEED: they read as zero
// again and hold no memory), which spares the next instance an mmap and
// the munmap its memory would cost; clearing the pages with zeros instead
// cost more, as it faults in every page the guest never touched.
const maxPooled = 16

// A region costs the process two memory mappings, its committed pages
// and the reserved pages past them (mprotect splits one mapping in two),
// and a third when an image is mapped over its start. The kernel caps the
// mappings of a process (vm.max_map_count, 65,530 by default); past the
// cap every mmap fails, the Go runtime's own included, and the runtime
// then dies with "out of memory". So regions may use the cap less a
// headroom left to the Go runtime, wazero's compiled code and everything
// else in the process; memories past that live on the Go heap.
const (
	defaultMapCount   = 65530 // the kernel's default vm.max_map_count
	minHeadroom       = 8192  // mappings left to the rest of the process
	headroomFraction  = 4     // or a quarter of the cap, if more
	maxMapCountSysctl = "/proc/sys/vm/max_map_count"
)

var (
	// mapBudget is how many mappings regions may hold at once, process
	// wide; tests lower it.
	mapBudget = mappingBudget(readMaxMapCount())
	// liveMaps counts the mappings of the regions mapped now, pooled ones
	// included.
	liveMaps atomic.Int64
)

// readMaxMapCount returns vm.max_map_count, or the kernel's default when
// it cannot be read.
func readMaxMapCount() int64 {
	b, err := os.ReadFile(maxMapCountSysctl)
	if err != nil {
		return defaultMapCount
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return defaultMapCount
	}
	return n
}

// mappingBudget is how many mappings regions may hold in a process capped
// at maps mappings.
func mappingBudget(maps int64) int64 {
	return max(maps-max(maps/headroomFraction, minHeadroom), 0)
}

// takeMaps takes n mappings of the budget, or reports that they are not
// left.
func takeMaps(n int64) bool {
	if liveMaps.Add(n) > mapBudget {
		liveMaps.Add(-n)
		return false
	}
	return true
}

// Allocator makes linear memories that grow in place (see the package
// documentation) and keeps freed reservations, zeroed, for reuse. It is
// safe for concurrent use; each memory it makes belongs to one instance.
// The nil *Allocator is valid and leaves wazero's own memories in place.
type Allocator struct {
	image *Image
	// hot are the pages of the image that each memory copies for itself
	// as soon as it starts (SetHot); nil: none.
	hot atomic.Pointer[[]uint32]

	mu      sync.Mutex
	pool    []region              // zeroed (or showing the image), ready for reuse
	classes map[uint64]*slabClass // slabs by slot size (slab_linux.go)
	closed  bool
}

// region is a reservation of which the first committed bytes are
// readable and writable.
type region struct {
	base                unsafe.Pointer
	reserved, committed uint64
	maps                int64 // mappings it may cost, taken from mapBudget
}

// New returns an allocator. A non-nil img is the initial content of every
// memory it makes; the memory's initial size must be at least img.Len().
// The image must stay open until the allocator is closed.
func New(img *Image) *Allocator {
	return &Allocator{image: img}
}

// MaxHot is the most pages SetHot keeps.
const MaxHot = 64

// SetHot names the pages, by index of OS page from the memory's start,
// that each memory a makes from an image copies for itself as soon as
// it is mapped, before the guest runs: those the guest is known to
// write first. The copy is a write of no change (an atomic add of 0 to
// the page's first word), so the memory's content stays the image's;
// what it saves is the guest's own page faults: a guest's first read of
// a page maps it and its neighbours read-only and shared with the image
// (fault-around), and its first write then faults again to copy the page
// and flush the mapping it replaces. Written first, the page is copied in
// one fault, and the guest's later reads map fewer shared pages. Pages
// past the memory's initial size are skipped; the first MaxHot of pages,
// sorted, are kept. It does nothing without an image, and nil clears.
func (a *Allocator) SetHot(pages []uint32) {
	if a == nil || a.image == nil {
		return
	}
	if len(pages) == 0 {
		a.hot.Store(nil)
		return
	}
	hot := slices.Clone(pages)
	slices.Sort(hot)
	hot = slices.Compact(hot)
	hot = hot[:min(len(hot), MaxHot)]
	a.hot.Store(&hot)
}

// Hot returns the pages SetHot set, or nil.
func (a *Allocator) Hot() []uint32 {
	if a == nil {
		return nil
	}
	if hot := a.hot.Load(); hot != nil {
		return slices.Clone(*hot)
	}
	return nil
}

// Context returns ctx set up for wazero to instantiate modules with a's
// memories.
func (a *Allocator) Context(ctx context.Context) context.Context {
	if a == nil {
		return ctx
	}
	return experimental.WithMemoryAllocator(ctx, a)
}

// Close releases the reservations kept for reuse; memories still in use
// are released when they are freed.
func (a *Allocator) Close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	pool := a.pool
	a.pool, a.closed = nil, true
	a.closeSlabs()
	a.mu.Unlock()
	for _, r := range pool {
		r.unmap()
	}
}

// Allocate makes one memory of initial size capacity (what wazero passes:
// the module's minimum) that never grows past max, its declared or
// configured maximum. A small memory without an image starts in a slot of
// a slab (slab_linux.go); any other reserves max bytes of address space,
// or reuses a freed reservation of that size. When the slab or the
// reservation cannot be mapped (address space or mappings exhausted), or
// the process holds as many mappings as its mapping cap allows (see
// mapBudget), the memory lives on the Go heap instead and grows by
// copying, as wazero's own memories do.
func (a *Allocator) Allocate(capacity, max uint64) experimental.LinearMemory {
	m := &memory{a: a, max: max}
	if max == 0 {
		return m
	}
	if a.image == nil || a.image.mapLen == 0 {
		if size := slotSize(capacity, max); size > 0 {
			if s, idx, ok := a.takeSlot(size); ok {
				m.slab, m.slot = s, idx
			}
			return m
		}
	}
	if r, reused, ok := a.reserve(roundUp(max)); ok {
		m.region, m.reused = r, reused
	}
	return m
}

// reserve returns a reservation of size bytes: a freed one (reused), or a
// new mapping; ok is false when none can be had.
func (a *Allocator) reserve(size uint64) (r region, reused, ok bool) {
	if r, ok := a.take(size); ok {
		return r, true, true
	}
	maps := a.mapsPerRegion()
	if !takeMaps(maps) {
		return region{}, false, false
	}
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		liveMaps.Add(-maps)
		return region{}, false, false
	}
	return region{base: p, reserved: size, maps: maps}, false, true
}

// mapsPerRegion is how many mappings a region of a may cost.
func (a *Allocator) mapsPerRegion() int64 {
	if a.image != nil && a.image.mapLen > 0 {
		return 3
	}
	return 2
}

// take removes a reservation of reserve bytes from the pool.
func (a *Allocator) take(reserve uint64) (region, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.pool) - 1; i >= 0; i-- {
		if r := a.pool[i]; r.reserved == reserve {
			a.pool = append(a.pool[:i], a.pool[i+1:]...)
			return r, true
		}
	}
	return region{}, false
}

// recycle zeroes r (restores the image over its start) and keeps it for
// the next memory, or reports that it does not fit the pool.
func (a *Allocator) recycle(r region) bool {
	a.mu.Lock()
	full := a.closed || len(a.pool) >= maxPooled
	a.mu.Unlock()
	if full {
		return false
	}
	start := uint64(0)
	if img := a.image; img != nil && img.mapLen > 0 {
		// Mapping the image again drops the pages the guest wrote.
		if img.mapAt(r.base) != nil {
			return false
		}
		start = img.mapLen
	}
	if r.committed > start {
		rest := unsafe.Slice((*byte)(unsafe.Add(r.base, start)), r.committed-start)
		if unix.Madvise(rest, unix.MADV_DONTNEED) != nil {
			return false
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || len(a.pool) >= maxPooled {
		return false
	}
	a.pool = append(a.pool, r)
	return true
}

func (r *region) unmap() {
	if r.base != nil {
		_ = unix.MunmapPtr(r.base, uintptr(r.reserved))
		liveMaps.Add(-r.maps)
		*r = region{}
	}
}

// memory is one linear memory: a slot of a slab, a region, or, once
// reserving or committing failed, a slice on the Go heap.
type memory struct {
	region  // base nil: in a slot, or heap-backed (or freed)
	a       *Allocator
	max     uint64
	reused  bool   // the region comes from the pool
	started bool   // sized once: the image, if any, is in place
	heap    []byte // the memory when base is nil and slab is nil
	// slab and slot hold the memory while it fits its slot; length is
	// its size there.
	slab   *slab
	slot   uint32
	length uint64
}

// Reallocate returns the memory at size bytes, its first bytes as they
// were. Over a region it is the same memory, longer; the slice's capacity
// is its length, so nothing can reach the pages not yet granted. It
// returns nil when size is over the maximum or the image does not fit.
func (m *memory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if m.slab != nil {
		if size > m.slab.slot {
			return m.leaveSlot(size)
		}
		m.started, m.length = true, size
		if size == 0 {
			return []byte{}
		}
		return unsafe.Slice((*byte)(m.slab.at(m.slot)), size)
	}
	if m.base == nil {
		return m.reallocateHeap(size)
	}
	first := !m.started
	if first {
		if err := m.start(size); err != nil {
			return nil
		}
	}
	if need := roundUp(size); need > m.committed {
		grow := unsafe.Slice((*byte)(unsafe.Add(m.base, m.committed)), need-m.committed)
		if err := unix.Mprotect(grow, unix.PROT_READ|unix.PROT_WRITE); err != nil {
			// Splitting the mapping fails when the process is out of
			// mappings (vm.max_map_count): go on in the heap.
			m.toHeap()
			return m.reallocateHeap(size)
		}
		m.committed = need
	}
	if first {
		m.prefault()
	}
	if size == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(m.base), size)
}

// prefault copies the allocator's hot pages (SetHot) into the memory,
// just sized for the first time, with a write that changes nothing.
// Only pages the memory has committed are touched.
func (m *memory) prefault() {
	hot := m.a.hot.Load()
	if hot == nil || m.a.image == nil {
		return
	}
	for _, p := range *hot {
		off := uint64(p) * pageSize
		if off+pageSize > m.committed {
			return // sorted: the rest lie further
		}
		atomic.AddUint32((*uint32)(unsafe.Add(m.base, off)), 0)
	}
}

// start prepares the region for its first size: the image mapped over
// its start, and, in a reused region, the pages past size closed again.
func (m *memory) start(size uint64) error {
	if img := m.a.image; img != nil {
		if img.size > size || img.mapLen > m.reserved {
			return fmt.Errorf("linmem: image of %d bytes does not fit a memory of %d bytes", img.size, size)
		}
		if !m.reused && img.mapLen > 0 {
			if err := img.mapAt(m.base); err != nil {
				return err
			}
			m.committed = img.mapLen
		}
	}
	if keep := max(roundUp(size), m.imageLen()); m.committed > keep {
		tail := unsafe.Slice((*byte)(unsafe.Add(m.base, keep)), m.committed-keep)
		if err := unix.Mprotect(tail, unix.PROT_NONE); err != nil {
			return err
		}
		m.committed = keep
	}
	m.started = true
	return nil
}

func (m *memory) imageLen() uint64 {
	if m.a.image == nil {
		return 0
	}
	return m.a.image.mapLen
}

// toHeap moves the memory's committed bytes to the Go heap and releases
// the region.
func (m *memory) toHeap() {
	m.heap = append([]byte(nil), unsafe.Slice((*byte)(m.base), m.committed)...)
	m.region.unmap()
}

// reallocateHeap grows a heap-backed memory the way wazero's default
// memories grow.
func (m *memory) reallocateHeap(size uint64) []byte {
	if img := m.a.image; !m.started && img != nil {
		if img.size > size {
			return nil
		}
		m.heap = make([]byte, img.size, size)
		if err := img.readAt(m.heap); err != nil {
			return nil
		}
	}
	m.started = true
	if size <= uint64(len(m.heap)) {
		if m.heap == nil {
			m.heap = []byte{} // nil would mean failure to wazero
		}
		return m.heap[:size:size]
	}
	// A new slice and one copy: the pages of the new slice past the old
	// content stay untouched (fresh pages from the system are zero), where
	// append(m.heap, make(...)...) would write them all.
	grown := make([]byte, size)
	copy(grown, m.heap)
	m.heap = grown
	return m.heap
}

// Free releases the memory, to the allocator's pool when it has room.
// wazero calls it when the instance is closed, once nothing runs in it.
func (m *memory) Free() {
	if m.slab != nil {
		m.a.releaseSlot(m.slab, m.slot)
		m.slab = nil
	}
	if m.base != nil && !m.a.recycle(m.region) {
		m.region.unmap()
	}
	m.region, m.heap = region{}, nil
}
