package linmem

import (
	"bytes"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// slotted makes a memory of a that starts in a slot.
func slotted(t *testing.T, a *Allocator, capacity, max uint64) *memory {
	t.Helper()
	m := a.Allocate(capacity, max).(*memory)
	if m.slab == nil {
		t.Fatalf("a memory of %d bytes (maximum %d) did not start in a slot", capacity, max)
	}
	return m
}

// residentIn counts the resident pages of n bytes at p.
func residentIn(t *testing.T, p unsafe.Pointer, n uint64) int {
	t.Helper()
	vec := make([]byte, (n+pageSize-1)/pageSize)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	c := 0
	for _, v := range vec {
		c += int(v & 1)
	}
	return c
}

func TestSlotSize(t *testing.T) {
	for _, c := range []struct{ capacity, max, want uint64 }{
		{0, 1 << 30, 0},                  // unknown initial size: a region
		{2 * wasmPage, 1 << 26, minSlot}, // a small guest: the least slot
		{3 << 20, 1 << 26, 8 << 20},      // twice the initial size, a power of two
		{maxSlotStart + 1, 1 << 30, 0},   // large: a region
		{wasmPage, 4 * wasmPage, 4 * wasmPage},
	} {
		if got := slotSize(c.capacity, c.max); got != c.want {
			t.Errorf("slotSize(%d, %d) = %d, want %d", c.capacity, c.max, got, c.want)
		}
	}
}

// Memories in slots are zero, never overlap, and a write to one reaches
// no other; a slot freed and used again is zero and holds no page.
func TestSlotsAreZeroAndPrivate(t *testing.T) {
	a := New(nil)
	defer a.Close()
	const size = 2 * wasmPage
	var ms []*memory
	var bs [][]byte
	for range 8 {
		m := slotted(t, a, size, 64*wasmPage)
		b := m.Reallocate(size)
		if at, ok := allZero(b); !ok {
			t.Fatalf("byte %d of a fresh slot is not zero", at)
		}
		ms, bs = append(ms, m), append(bs, b)
	}
	for i, b := range bs {
		for j := range b {
			b[j] = byte(i + 1)
		}
	}
	for i, b := range bs {
		if bytes.Count(b, []byte{byte(i + 1)}) != len(b) {
			t.Fatalf("memory %d holds another memory's bytes", i)
		}
		for j, o := range bs {
			if i != j && base(o) < base(b)+m64(ms[i].slab.slot) && base(b) < base(o)+m64(ms[j].slab.slot) {
				t.Fatalf("the slots of memories %d and %d overlap", i, j)
			}
		}
	}
	at, p := base(bs[3]), unsafe.Pointer(unsafe.SliceData(bs[3]))
	ms[3].Free()
	again := slotted(t, a, size, 64*wasmPage)
	b := again.Reallocate(size)
	if base(b) != at {
		t.Fatal("the freed slot was not used again")
	}
	if i, ok := allZero(unsafe.Slice((*byte)(p), minSlot)); !ok {
		t.Fatalf("byte %d of a slot used again is not zero", i)
	}
	again.Free()
	for _, m := range ms {
		m.Free()
	}
}

func m64(n uint64) uintptr { return uintptr(n) }

// A memory grows in place within its slot; past it, it moves once to a
// region of its own with its content, the new pages zero, and grows there
// in place, its slot given back.
func TestSlotGrowsThenMoves(t *testing.T) {
	a := New(nil)
	defer a.Close()
	m := slotted(t, a, wasmPage, 256*wasmPage)
	slot, p := m.slab.slot, m.slab.at(m.slot)
	b := m.Reallocate(wasmPage)
	at := base(b)
	b[0], b[wasmPage-1] = 1, 2
	b = m.Reallocate(slot) // the whole slot
	if base(b) != at || len(b) != int(slot) || cap(b) != len(b) {
		t.Fatalf("growing within the slot: moved %v, len %d cap %d", base(b) != at, len(b), cap(b))
	}
	b[slot-1] = 3
	b = m.Reallocate(slot + 2*wasmPage)
	if m.slab != nil || m.base == nil {
		t.Fatal("a memory that outgrew its slot is not in a region")
	}
	if len(b) != int(slot)+2*wasmPage || cap(b) != len(b) {
		t.Fatalf("after moving: len %d cap %d", len(b), cap(b))
	}
	if b[0] != 1 || b[wasmPage-1] != 2 || b[slot-1] != 3 {
		t.Fatal("moving lost the memory's content")
	}
	b[0], b[wasmPage-1], b[slot-1] = 0, 0, 0
	if i, ok := allZero(b); !ok {
		t.Fatalf("byte %d of the moved memory is neither its content nor zero", i)
	}
	// Only the pages written were copied (Resident leaves out the zero
	// page the reads above mapped).
	if n, err := Resident(b); err != nil || n != 3*int64(pageSize) {
		t.Fatalf("the moved memory holds %d resident bytes (%v), want 3 pages", n, err)
	}
	moved := base(b)
	b = m.Reallocate(256 * wasmPage)
	if base(b) != moved {
		t.Fatal("the region moved when it grew")
	}
	if m.Reallocate(257*wasmPage) != nil {
		t.Fatal("a memory grew past its maximum")
	}
	if i, ok := allZero(unsafe.Slice((*byte)(p), slot)); !ok {
		t.Fatalf("byte %d of the slot left is not zero", i)
	}
	m.Free()
}

// A slab is one mapping of the budget; past the budget memories live on
// the heap, and an empty slab is unmapped once the allocator is closed.
func TestSlabsUnderTheMappingCap(t *testing.T) {
	defer func(n int64) { mapBudget = n }(mapBudget)
	mapBudget = liveMaps.Load() + 1
	a := New(nil)
	n := int(slabBytes / minSlot)
	var ms []*memory
	for range n {
		ms = append(ms, slotted(t, a, wasmPage, 64*wasmPage))
	}
	over := a.Allocate(wasmPage, 64*wasmPage).(*memory)
	if over.slab != nil || over.base != nil {
		t.Fatal("a second slab was mapped past the budget")
	}
	b := over.Reallocate(wasmPage)
	b[0] = 5
	if b = over.Reallocate(3 * wasmPage); b[0] != 5 || len(b) != 3*wasmPage {
		t.Fatal("the heap memory past the cap does not grow")
	}
	over.Free()
	s := ms[0].slab
	at := uintptr(s.base)
	for _, m := range ms {
		m.Free()
	}
	if perms(t, at) != "rw-p" {
		t.Fatal("the open allocator's one empty slab was unmapped")
	}
	a.Close()
	if perms(t, at) != "" {
		t.Fatal("an empty slab is still mapped after Close")
	}
	if liveMaps.Load() >= mapBudget {
		t.Fatal("the unmapped slab did not give its mapping back")
	}
	// A slab with memories in use outlives Close until the last is freed.
	m := slotted(t, a, wasmPage, 64*wasmPage)
	at = uintptr(m.slab.base)
	m.Reallocate(wasmPage)[0] = 1
	a.Close()
	if perms(t, at) != "rw-p" {
		t.Fatal("a slab in use was unmapped")
	}
	m.Free()
	if perms(t, at) != "" {
		t.Fatal("a slab is still mapped after its last memory was freed")
	}
}

// Memories that start at once, with no free slot and one mapping left in
// the budget, all start in the one slab that can be mapped: those that
// lose the race for the mapping take slots of the winner's.
func TestSlabRaceAtTheMappingCap(t *testing.T) {
	defer func(n int64) { mapBudget = n }(mapBudget)
	for round := range 30 {
		mapBudget = liveMaps.Load() + 1
		a := New(nil)
		ms := make([]*memory, 8)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range ms {
			wg.Go(func() {
				<-start
				ms[i] = a.Allocate(wasmPage, 64*wasmPage).(*memory)
			})
		}
		close(start)
		wg.Wait()
		inHeap := 0
		for _, m := range ms {
			if m.slab == nil {
				inHeap++
			}
			m.Free()
		}
		a.Close()
		if inHeap > 0 {
			t.Fatalf("round %d: %d of %d memories started in the Go heap beside a slab with free slots", round, inHeap, len(ms))
		}
	}
}

// Memories larger than a slot starts, those with an image, and those whose
// initial size is not given get regions.
func TestRegionsForOtherMemories(t *testing.T) {
	a := New(nil)
	defer a.Close()
	for _, capacity := range []uint64{0, maxSlotStart + wasmPage} {
		m := a.Allocate(capacity, 1<<30).(*memory)
		if m.slab != nil || m.base == nil {
			t.Fatalf("a memory of initial size %d did not get a region", capacity)
		}
		m.Free()
	}
	img, err := NewImage("t", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	wi := New(img)
	defer wi.Close()
	m := wi.Allocate(wasmPage, 64*wasmPage).(*memory)
	if m.slab != nil {
		t.Fatal("a memory with an image started in a slot")
	}
	m.Free()
}

// A freed slot is kept warm, its written pages zeroed in place and still
// in memory, for the next memory, which finds it zero; past maxPooled
// warm slots, a freed slot's pages are dropped; Close gives them back.
func TestWarmSlots(t *testing.T) {
	a := New(nil)
	var ms []*memory
	for range maxPooled + 4 {
		m := slotted(t, a, 2*wasmPage, 64*wasmPage)
		b := m.Reallocate(2 * wasmPage)
		for i := 0; i < len(b); i += 4096 * 3 {
			b[i] = 0xa5
		}
		_ = b[len(b)-1] // a page only read: the zero page
		ms = append(ms, m)
	}
	var warm, cold []unsafe.Pointer
	sb := uintptr(ms[0].slab.base)
	for i, m := range ms {
		p := m.slab.at(m.slot)
		m.Free()
		if i < maxPooled {
			warm = append(warm, p)
		} else {
			cold = append(cold, p)
		}
	}
	if n := len(a.classes[minSlot].warm); n != maxPooled {
		t.Fatalf("%d warm slots, want %d", n, maxPooled)
	}
	for _, p := range warm {
		if n := residentIn(t, p, minSlot); n == 0 {
			t.Fatal("a warm slot's pages were dropped")
		}
		if i, ok := allZero(unsafe.Slice((*byte)(p), minSlot)); !ok {
			t.Fatalf("byte %d of a warm slot is not zero", i)
		}
	}
	for _, p := range cold {
		if n := residentIn(t, p, minSlot); n != 0 {
			t.Fatalf("a slot freed past the warm ones holds %d resident pages", n)
		}
	}
	// The next memories start in the warm slots, the last freed first.
	var again []*memory
	for i := len(warm) - 1; i >= len(warm)-3; i-- {
		m := slotted(t, a, 2*wasmPage, 64*wasmPage)
		if got := m.slab.at(m.slot); got != warm[i] {
			t.Fatalf("a new memory did not start in the last warm slot")
		}
		if i, ok := allZero(m.Reallocate(2 * wasmPage)); !ok {
			t.Fatalf("byte %d of a memory in a warm slot is not zero", i)
		}
		again = append(again, m)
	}
	for _, m := range again {
		m.Free()
	}
	a.Close()
	if len(a.classes[minSlot].warm) != 0 {
		t.Fatal("Close kept warm slots")
	}
	if perms(t, sb) != "" {
		t.Fatal("the slab of the warm slots is still mapped after Close")
	}
}
