package linmem

import (
	"errors"
	"sync"
	"testing"
	"unsafe"
)

// withoutPagemap makes the page map unreadable until the test ends.
func withoutPagemap(t *testing.T) {
	t.Helper()
	var b [8]byte
	_, _ = readPagemap(b[:], 0) // opened once, before the test takes it away
	saved := pagemap.err
	pagemap.err = errors.New("no page map in this test")
	t.Cleanup(func() { pagemap.err = saved })
}

// A slot freed while the page map cannot be read (it cannot tell which
// pages were written) is not kept warm: its pages are dropped, and the
// memories that start in it next read only zeros, every byte written by
// the one before included.
func TestSlotsFreedWithoutThePageMapAreDropped(t *testing.T) {
	withoutPagemap(t)
	a := New(nil)
	defer a.Close()
	for round := range maxPooled + 4 {
		m := slotted(t, a, wasmPage, 64*wasmPage)
		b := m.Reallocate(minSlot) // the whole slot
		for i := range b {
			b[i] = 0x5a
		}
		p := m.slab.at(m.slot)
		m.Free()
		if n := len(a.classes[minSlot].warm); n != 0 {
			t.Fatalf("round %d: %d warm slots kept without the page map", round, n)
		}
		if n := residentIn(t, p, minSlot); n != 0 {
			t.Fatalf("round %d: the freed slot holds %d resident pages", round, n)
		}
		next := slotted(t, a, wasmPage, 64*wasmPage)
		if i, ok := allZero(next.Reallocate(minSlot)); !ok {
			t.Fatalf("round %d: byte %d of the next memory is not zero", round, i)
		}
		next.Free()
	}
}

// A memory that fills its whole slot, up to its last byte, then grows one
// page (moving out) keeps every byte, and the slot it left reads zero for
// the next memory, while the page map cannot be read (the move copies
// everything) and while it can.
func TestSlotFullThenMovedLeavesNothing(t *testing.T) {
	for _, readable := range []bool{true, false} {
		t.Run(map[bool]string{true: "page-map", false: "no-page-map"}[readable], func(t *testing.T) {
			if !readable {
				withoutPagemap(t)
			}
			a := New(nil)
			defer a.Close()
			m := slotted(t, a, wasmPage, 64*wasmPage)
			b := m.Reallocate(minSlot)
			for i := range b {
				b[i] = byte(i*7 + 1)
			}
			old := unsafe.Pointer(unsafe.SliceData(b))
			b = m.Reallocate(minSlot + wasmPage)
			if m.slab != nil || unsafe.Pointer(unsafe.SliceData(b)) == old {
				t.Fatal("the memory did not move out of its slot")
			}
			for i := range minSlot {
				if b[i] != byte(i*7+1) {
					t.Fatalf("byte %d was not moved", i)
				}
			}
			if i, ok := allZero(b[minSlot:]); !ok {
				t.Fatalf("byte %d of the page grown is not zero", minSlot+i)
			}
			next := slotted(t, a, wasmPage, 64*wasmPage)
			if i, ok := allZero(next.Reallocate(minSlot)); !ok {
				t.Fatalf("byte %d of the next memory in a slot is not zero", i)
			}
			next.Free()
			m.Free()
		})
	}
}

// A page map that hides written pages (here one that reads as all zeros,
// as an emulated one might) is not believed: were it, a freed slot would
// be kept warm with none of its pages cleared, and the next memory would
// start with the last one's bytes. The slot is dropped instead.
func TestLyingPageMapIsNotBelieved(t *testing.T) {
	var b [8]byte
	_, _ = readPagemap(b[:], 0) // the real one, opened
	savedF, savedErr, savedPath := pagemap.f, pagemap.err, pagemapPath
	pagemapPath = "/dev/zero"
	pagemap.once, pagemap.f, pagemap.err = sync.Once{}, nil, nil
	t.Cleanup(func() {
		if pagemap.f != nil {
			pagemap.f.Close()
		}
		pagemapPath = savedPath
		pagemap.once, pagemap.f, pagemap.err = sync.Once{}, savedF, savedErr
		pagemap.once.Do(func() {})
	})

	a := New(nil)
	defer a.Close()
	for round := range 3 {
		m := slotted(t, a, wasmPage, 64*wasmPage)
		buf := m.Reallocate(wasmPage)
		for i := range buf {
			buf[i] = 0x5a
		}
		m.Free()
		next := slotted(t, a, wasmPage, 64*wasmPage)
		if i, ok := allZero(next.Reallocate(wasmPage)); !ok {
			t.Fatalf("round %d: byte %d of the next memory is the last one's", round, i)
		}
		next.Free()
	}
	if pagemap.err == nil {
		t.Fatal("a page map of zeros was used")
	}
	t.Log(pagemap.err)
}
