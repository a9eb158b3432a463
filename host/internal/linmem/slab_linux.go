package linmem

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Small memories without an image start in a slot of a slab: one mapping,
// readable and writable, shared by many memories of an allocator, each in
// a slot of its own. Making such a memory costs no system call (a region
// costs an mmap and an mprotect, and its unmapping more), the page tables
// of neighbouring slots are shared, and a whole slab is one of the
// process's mappings where a region is two. A slot is larger than the
// memory's initial size, so that a memory grows in place in it for a
// while; one that outgrows its slot moves once to a region of its own
// (its pages copied) and grows there in place.
const (
	// maxSlotStart is the largest initial size that starts in a slot;
	// larger memories get a region at once.
	maxSlotStart = 4 << 20
	// minSlot is the least a slot holds: room to grow, for the usual
	// small guest, without moving.
	minSlot = 1 << 20
	// slabBytes is the address space a slab maps, a whole number of slots
	// (at least one).
	slabBytes = 64 << 20
)

// slotSize returns the slot a memory of initial size capacity and maximum
// max starts in, or 0 when it gets a region: twice its initial size, at
// least minSlot, a power of two, and no more than its maximum.
func slotSize(capacity, max uint64) uint64 {
	if capacity == 0 || capacity > maxSlotStart {
		return 0 // unknown or large: a region of its own
	}
	s := uint64(minSlot)
	for s < 2*capacity {
		s *= 2
	}
	return min(s, roundUp(max))
}

// slab is one mapping of slots of one size. Its fields are guarded by the
// allocator's mu.
type slab struct {
	base    unsafe.Pointer
	bytes   uint64
	slot    uint64
	free    []uint32 // free slots, zero: never used, or their pages dropped
	used    int
	partial bool // listed in its class's partial
}

// slabClass holds an allocator's slabs of one slot size.
type slabClass struct {
	slabs   []*slab
	partial []*slab // with a free slot, possibly
	empty   int     // slabs with no slot in use
	// warm are freed slots whose written pages were zeroed in place and
	// kept in memory (at most maxPooled): the next memories start in them
	// without a page fault for the pages the last one wrote, which are
	// most often the pages the next one writes. They count as used in
	// their slabs.
	warm []warmSlot
	// mapping is closed once the slab being mapped for a memory that
	// found no slot is listed; nil when none is (takeSlot).
	mapping chan struct{}
}

type warmSlot struct {
	s   *slab
	idx uint32
}

// takeSlot finds a free slot of size bytes, mapping a new slab when none
// is left; ok is false when no slab can be mapped (the mapping budget, or
// address space, is exhausted). The new slab is mapped without a.mu held,
// so that its system calls do not hold up the memories of other sizes
// and those freed meanwhile; the memories of its size that find no slot
// meanwhile wait for it rather than map another (and take the last of
// the mapping budget, or leave a slab unused).
func (a *Allocator) takeSlot(size uint64) (s *slab, idx uint32, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.class(size)
	for {
		if s, idx, ok = c.takeFree(); ok {
			return s, idx, true
		}
		if c.mapping == nil {
			break
		}
		mapped := c.mapping
		a.mu.Unlock()
		<-mapped
		a.mu.Lock()
	}
	mapped := make(chan struct{})
	c.mapping = mapped
	a.mu.Unlock()
	s = newSlab(size)
	a.mu.Lock()
	c.mapping = nil
	close(mapped)
	if s == nil {
		return nil, 0, false
	}
	c.slabs = append(c.slabs, s)
	idx = s.take()
	if len(s.free) > 0 {
		c.partial = append(c.partial, s)
		s.partial = true
	}
	return s, idx, true
}

// takeFree takes a free slot from a slab of c already mapped, or
// reports that there is none; a.mu is held.
func (c *slabClass) takeFree() (s *slab, idx uint32, ok bool) {
	if n := len(c.warm); n > 0 {
		w := c.warm[n-1]
		c.warm = c.warm[:n-1]
		return w.s, w.idx, true
	}
	for len(c.partial) > 0 {
		s = c.partial[len(c.partial)-1]
		if len(s.free) > 0 {
			break
		}
		s.partial = false
		c.partial = c.partial[:len(c.partial)-1]
		s = nil
	}
	if s == nil {
		return nil, 0, false
	}
	if s.used == 0 {
		c.empty--
	}
	return s, s.take(), true
}

// class returns the slab class of slot size size, made if needed; a.mu
// is held.
func (a *Allocator) class(size uint64) *slabClass {
	if a.classes == nil {
		a.classes = map[uint64]*slabClass{}
	}
	c := a.classes[size]
	if c == nil {
		c = &slabClass{}
		a.classes[size] = c
	}
	return c
}

// take takes the slot of s at the lowest free address; a.mu is held.
func (s *slab) take() uint32 {
	idx := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	s.used++
	return idx
}

// newSlab maps a slab of slots of size bytes, or returns nil.
func newSlab(size uint64) *slab {
	n := max(slabBytes/size, 1)
	if !takeMaps(1) {
		return nil
	}
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(n*size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		liveMaps.Add(-1)
		return nil
	}
	// Where transparent huge pages are always on, a slab's first write in
	// each 2 MiB would take a huge page: 2 MiB resident for a few KiB
	// written, across several memories. Regions escape this because only
	// their committed pages, less than 2 MiB in a small memory, are
	// writable.
	_ = unix.Madvise(unsafe.Slice((*byte)(p), n*size), unix.MADV_NOHUGEPAGE)
	s := &slab{base: p, bytes: n * size, slot: size, free: make([]uint32, n)}
	for i := range s.free {
		s.free[i] = uint32(n) - 1 - uint32(i) // the lowest address first
	}
	return s
}

// at returns the address of slot idx.
func (s *slab) at(idx uint32) unsafe.Pointer {
	return unsafe.Add(s.base, uint64(idx)*s.slot)
}

// releaseSlot makes slot idx, whose memory is freed, zero and free
// again: warm (its written pages zeroed in place) while its class has
// room for one more, else with its pages dropped, so that it reads as zero
// and holds no memory. A slab with no slot in use is unmapped, but for one
// kept per slot size while the allocator is open.
func (a *Allocator) releaseSlot(s *slab, idx uint32) {
	if a.keepWarm(s, idx) {
		return
	}
	dropped := unix.Madvise(unsafe.Slice((*byte)(s.at(idx)), s.slot), unix.MADV_DONTNEED) == nil
	a.mu.Lock()
	defer a.mu.Unlock()
	a.freeSlot(s, idx, dropped)
}

// keepWarm zeroes the pages of slot idx that its memory wrote and keeps
// the slot among its class's warm ones, or reports that the class has no
// room (or the page map cannot be read).
func (a *Allocator) keepWarm(s *slab, idx uint32) bool {
	a.mu.Lock()
	c := a.classes[s.slot]
	room := !a.closed && len(c.warm) < maxPooled
	a.mu.Unlock()
	if !room || !zeroTouched(unsafe.Slice((*byte)(s.at(idx)), s.slot)) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || len(c.warm) >= maxPooled {
		return false
	}
	c.warm = append(c.warm, warmSlot{s, idx})
	return true
}

// freeSlot returns slot idx to its slab, if its pages were dropped, and
// unmaps the slab when nothing else is in use in it and it is not to be
// kept. a.mu is held.
func (a *Allocator) freeSlot(s *slab, idx uint32, dropped bool) {
	c := a.classes[s.slot]
	s.used--
	if dropped {
		// A slot whose pages could not be dropped is never handed out
		// again: it may hold another memory's bytes.
		s.free = append(s.free, idx)
		if !s.partial {
			s.partial = true
			c.partial = append(c.partial, s)
		}
	}
	if s.used > 0 {
		return
	}
	if !a.closed && c.empty == 0 {
		c.empty++ // kept for the next memories
		return
	}
	c.slabs = slices.DeleteFunc(c.slabs, func(x *slab) bool { return x == s })
	c.partial = slices.DeleteFunc(c.partial, func(x *slab) bool { return x == s })
	s.unmap()
}

func (s *slab) unmap() {
	_ = unix.MunmapPtr(s.base, uintptr(s.bytes))
	liveMaps.Add(-1)
	s.base = nil
}

// closeSlabs gives back the warm slots and unmaps the slabs with no slot
// in use; the others are unmapped when their last slot is released. a.mu
// is held.
func (a *Allocator) closeSlabs() {
	for _, c := range a.classes {
		for _, w := range c.warm {
			// Zero already; their pages are dropped, or unmapped with
			// their slab.
			_ = unix.Madvise(unsafe.Slice((*byte)(w.s.at(w.idx)), w.s.slot), unix.MADV_DONTNEED)
			a.freeSlot(w.s, w.idx, true)
		}
		c.warm = nil
		c.slabs = slices.DeleteFunc(c.slabs, func(s *slab) bool {
			if s.used > 0 {
				return false
			}
			s.unmap()
			return true
		})
		c.partial = slices.DeleteFunc(c.partial, func(s *slab) bool { return s.base == nil })
		c.empty = 0
	}
}

// leaveSlot moves a memory that outgrows its slot to a region of its own,
// or to the Go heap when none can be had, and returns it at size bytes.
func (m *memory) leaveSlot(size uint64) []byte {
	s, idx, old := m.slab, m.slot, m.length
	src := unsafe.Slice((*byte)(s.at(idx)), old)
	m.slab, m.length = nil, 0
	defer m.a.releaseSlot(s, idx)
	if r, reused, ok := m.a.reserve(roundUp(m.max)); ok {
		m.region, m.reused, m.started = r, reused, false
		if b := m.Reallocate(size); b != nil {
			copyTouched(b, src)
			return b
		}
		// The region could not be sized: Reallocate moved the memory to
		// the heap, empty, or failed before; start over there.
		if m.base != nil {
			m.region.unmap()
		}
		m.region, m.heap = region{}, nil
	}
	m.started = true
	m.heap = make([]byte, size)
	copyTouched(m.heap, src)
	return m.heap
}

// copyTouched copies into dst the pages of src that may hold anything but
// zeros, dst being zero: those in memory or swapped out, by the page map,
// and not all zero. Reading the others would only map the zero page in
// src; writing them would make dst's pages resident. Where the page map
// cannot be read, it copies all of src.
func copyTouched(dst, src []byte) {
	err := eachTouched(src, func(off uint64, page []byte) {
		if !isZero(page) {
			copy(dst[off:], page)
		}
	})
	if err != nil {
		copy(dst, src)
	}
}

// zeroTouched zeroes the pages of mem that are in memory, or swapped out,
// and not zero, by the page map, leaving the others untouched (they are
// zero: never written, or dropped). It reports false when the page map
// cannot be read: mem is then to be dropped.
func zeroTouched(mem []byte) bool {
	return eachTouched(mem, func(_ uint64, page []byte) {
		if !isZero(page) {
			clear(page)
		}
	}) == nil
}

// eachTouched calls fn with each page of mem that the page map says is in
// memory or swapped out, and its offset in mem.
func eachTouched(mem []byte, fn func(off uint64, page []byte)) error {
	return eachEntry(mem, func(p uint64, e uint64) {
		if e&(pmPresent|pmSwapped) != 0 {
			fn(p*pageSize, mem[p*pageSize:min((p+1)*pageSize, uint64(len(mem)))])
		}
	})
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
