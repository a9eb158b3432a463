package linmem

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sink keeps the reads of tests from being optimised away.
var sink byte

// hotImage is an image of n whole OS pages, each page filled with its
// index plus one, and an allocator of it.
func hotImage(t *testing.T, n int) ([]byte, *Allocator) {
	t.Helper()
	data := make([]byte, n*int(pageSize))
	for p := range n {
		for i := p * int(pageSize); i < (p+1)*int(pageSize); i++ {
			data[i] = byte(p + 1)
		}
	}
	img, err := NewImage("hot", data)
	if err != nil {
		t.Fatal(err)
	}
	a := New(img)
	t.Cleanup(func() {
		a.Close()
		_ = img.Close()
	})
	return data, a
}

// start makes a memory of a, sized size bytes at once, as wazero does.
func start(t *testing.T, a *Allocator, size, max uint64) (*memory, []byte) {
	t.Helper()
	m := a.Allocate(size, max).(*memory)
	t.Cleanup(m.Free)
	b := m.Reallocate(size)
	if b == nil || m.base == nil {
		t.Fatal("the memory could not be made in a reservation")
	}
	return m, b
}

func ownPages(t *testing.T, b []byte) []uint32 {
	t.Helper()
	pages, err := Own(b)
	if err != nil {
		t.Skipf("the page map cannot be read here: %v", err)
	}
	return pages
}

// Hot pages are the memory's own copies from the start, before anything
// reads or writes them, and hold the image's bytes: the copy changes
// nothing a guest can see. Other pages stay shared with the image, and a
// write to a copied page stays in its memory.
func TestHotPagesAreCopiesOfTheImage(t *testing.T) {
	data, a := hotImage(t, 16)
	size := uint64(len(data)) + 4*pageSize // zero pages past the image
	a.SetHot([]uint32{5, 1, 3, 17, 5})
	if got, want := a.Hot(), []uint32{1, 3, 5, 17}; !slices.Equal(got, want) {
		t.Fatalf("Hot() = %v, want %v (sorted, without repeats)", got, want)
	}
	m1, b1 := start(t, a, size, 64*pageSize)
	if got := ownPages(t, b1); !slices.Equal(got, []uint32{1, 3, 5, 17}) {
		t.Fatalf("pages of a new memory that are its own = %v, want the hot ones", got)
	}
	if !bytes.Equal(b1[:len(data)], data) {
		t.Fatal("a memory with hot pages does not read as its image")
	}
	if at, ok := allZero(b1[len(data):]); !ok {
		t.Fatalf("byte %d past the image is not zero", len(data)+at)
	}
	if n, err := Resident(b1); err != nil || n != 4*int64(pageSize) {
		t.Fatalf("Resident = %d, %v; want the 4 hot pages", n, err)
	}
	_, b2 := start(t, a, size, 64*pageSize)
	b1[3*pageSize] = 0xee
	if b2[3*pageSize] != 4 {
		t.Fatal("a write to one memory's hot page reached another memory")
	}
	got := make([]byte, len(data))
	if err := a.image.readAt(got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a write to a hot page reached the image (err %v)", err)
	}
	// A reused reservation shows the image again, its hot pages copied
	// again.
	m1.Free()
	_, b3 := start(t, a, size, 64*pageSize)
	if !bytes.Equal(b3[:len(data)], data) {
		t.Fatal("a reused memory with hot pages does not read as its image")
	}
	if got := ownPages(t, b3); !slices.Equal(got, []uint32{1, 3, 5, 17}) {
		t.Fatalf("pages of a reused memory that are its own = %v, want the hot ones", got)
	}
}

// Hot pages past what a memory has committed are left alone (touching
// them would fault the host), and a memory grown over them later finds
// them zero and untouched.
func TestHotPagesPastTheMemoryAreSkipped(t *testing.T) {
	data, a := hotImage(t, 4)
	a.SetHot([]uint32{2, 6, 1 << 20})
	m, b := start(t, a, uint64(len(data)), 1<<30)
	if got := ownPages(t, b); !slices.Equal(got, []uint32{2}) {
		t.Fatalf("own pages = %v, want [2]", got)
	}
	g := m.Reallocate(16 * pageSize)
	if at, ok := allZero(g[len(data):]); !ok {
		t.Fatalf("byte %d grown past the image is not zero", len(data)+at)
	}
	if got := ownPages(t, g); !slices.Equal(got, []uint32{2}) {
		t.Fatalf("own pages after growing = %v, want [2]", got)
	}
}

// A guest that wrote every page cannot make every later memory copy
// them all: SetHot keeps the first MaxHot. Nil clears the set, and an
// allocator without an image keeps none.
func TestHotIsBounded(t *testing.T) {
	_, a := hotImage(t, 4)
	var many []uint32
	for p := 4 * MaxHot; p > 0; p-- {
		many = append(many, uint32(p), uint32(p))
	}
	a.SetHot(many)
	got := a.Hot()
	if len(got) != MaxHot || !slices.IsSorted(got) || got[0] != 1 {
		t.Fatalf("Hot() kept %d pages from %d (first %v); want the lowest %d, sorted", len(got), len(many), got[:1], MaxHot)
	}
	a.SetHot(nil)
	if got := a.Hot(); got != nil {
		t.Fatalf("Hot() after SetHot(nil) = %v", got)
	}
	plain := New(nil)
	defer plain.Close()
	plain.SetHot([]uint32{1})
	if got := plain.Hot(); got != nil {
		t.Fatalf("an allocator without an image keeps hot pages %v", got)
	}
	var none *Allocator
	none.SetHot([]uint32{1})
	if none.Hot() != nil {
		t.Fatal("the nil allocator keeps hot pages")
	}
}

// The set may change while memories are made (it is learnt from running
// instances): under the race detector, every memory still reads as its
// image.
func TestHotChangesWhileMemoriesStart(t *testing.T) {
	data, a := hotImage(t, 8)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
				a.SetHot([]uint32{i % 8, (i + 3) % 8})
			}
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 200 && time.Now().Before(deadline); i++ {
		m := a.Allocate(uint64(len(data)), 64*pageSize).(*memory)
		b := m.Reallocate(uint64(len(data)))
		if !bytes.Equal(b, data) {
			close(stop)
			wg.Wait()
			t.Fatalf("memory %d does not read as its image", i)
		}
		m.Free()
	}
	close(stop)
	wg.Wait()
}

// Own lists the pages Resident counts.
func TestOwnMatchesResident(t *testing.T) {
	data, a := hotImage(t, 8)
	_, b := start(t, a, uint64(len(data))+8*pageSize, 64*pageSize)
	_ = b[0]           // read: shared with the image
	b[2*pageSize] = 1  // a copy of an image page
	b[9*pageSize] = 1  // a fresh page past the image
	_ = b[10*pageSize] // the zero page
	got := ownPages(t, b)
	if !slices.Equal(got, []uint32{2, 9}) {
		t.Fatalf("Own = %v, want [2 9]", got)
	}
	if n, err := Resident(b); err != nil || n != int64(len(got))*int64(pageSize) {
		t.Fatalf("Resident = %d, %v; want %d pages", n, err, len(got))
	}
}

// Pages of zeros in an image are holes of its memfd: they read as zeros,
// and a read of the page next to one (whose fault maps its cached
// neighbours too) leaves the hole unmapped, so that it costs the memory
// nothing until it touches that very page.
func TestImageZeroPagesAreHoles(t *testing.T) {
	data := make([]byte, 8*pageSize)
	for _, p := range []int{0, 1, 3, 6} {
		for i := p * int(pageSize); i < (p+1)*int(pageSize); i++ {
			data[i] = byte(p + 1)
		}
	}
	img, err := NewImage("holes", data)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var st unix.Stat_t
	if err := unix.Fstat(img.fd, &st); err != nil {
		t.Fatal(err)
	}
	if got, want := st.Blocks*512, int64(4*pageSize); got != want {
		t.Fatalf("the memfd holds %d bytes, want %d (its 4 pages not zero)", got, want)
	}
	a := New(img)
	defer a.Close()
	_, b := start(t, a, uint64(len(data)), 64*pageSize)
	sink = b[0] // maps page 0 and the cached pages near it: 1, 3 and 6
	present := func(p int) bool {
		var e [8]byte
		if _, err := readPagemap(e[:], uint64(base(b))/pageSize+uint64(p)); err != nil {
			t.Skipf("the page map cannot be read here: %v", err)
		}
		return binary.LittleEndian.Uint64(e[:])&pmPresent != 0
	}
	if !present(0) {
		t.Fatal("the page read is not mapped")
	}
	for _, p := range []int{2, 4, 5, 7} {
		if present(p) {
			t.Fatalf("page %d, a hole, was mapped by a read of page 0", p)
		}
	}
	if !bytes.Equal(b, data) {
		t.Fatal("a memory of an image with holes does not read as the image")
	}
}
