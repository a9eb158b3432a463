package linmem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

const wasmPage = 64 << 10

// allocate makes a memory of a new allocator that keeps nothing for
// reuse.
func allocate(t *testing.T, img *Image, max uint64) *memory {
	t.Helper()
	a := New(img)
	a.Close()
	m := a.Allocate(0, max).(*memory)
	t.Cleanup(m.Free)
	if m.base == nil {
		t.Fatal("the reservation failed")
	}
	return m
}

func base(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// allZero reports whether b holds only zeros, and where it does not.
func allZero(b []byte) (int, bool) {
	for i, c := range b {
		if c != 0 {
			return i, false
		}
	}
	return 0, true
}

// Growth keeps the memory where it is, keeps its content and adds zeros;
// the slice never reaches past the size asked for.
func TestGrowInPlace(t *testing.T) {
	m := allocate(t, nil, 64*wasmPage)
	b := m.Reallocate(wasmPage)
	at := base(b)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	want := bytes.Clone(b)
	for pages := uint64(2); pages <= 64; pages *= 2 {
		b = m.Reallocate(pages * wasmPage)
		if b == nil {
			t.Fatalf("growing to %d pages failed", pages)
		}
		if base(b) != at {
			t.Fatalf("growing to %d pages moved the memory from %#x to %#x", pages, at, base(b))
		}
		if len(b) != int(pages*wasmPage) || cap(b) != len(b) {
			t.Fatalf("%d pages: len %d cap %d, want both %d", pages, len(b), cap(b), pages*wasmPage)
		}
		if !bytes.Equal(b[:len(want)], want) {
			t.Fatalf("growing to %d pages changed the content", pages)
		}
		if i, ok := allZero(b[len(want):]); !ok {
			t.Fatalf("growing to %d pages: byte %d of the new pages is not zero", pages, len(want)+i)
		}
		// The new pages are writable, then part of the content.
		for i := len(want); i < len(b); i += 4093 {
			b[i] = byte(i)
		}
		want = bytes.Clone(b)
	}
}

func TestGrowPastTheMaximumFails(t *testing.T) {
	m := allocate(t, nil, 4*wasmPage)
	if b := m.Reallocate(4 * wasmPage); len(b) != 4*wasmPage {
		t.Fatalf("growing to the maximum: len %d", len(b))
	}
	if b := m.Reallocate(5 * wasmPage); b != nil {
		t.Fatalf("growing past the maximum returned %d bytes, want nil", len(b))
	}
	if b := m.Reallocate(4 * wasmPage); len(b) != 4*wasmPage {
		t.Fatal("a refused growth broke the memory")
	}
}

// residentPages counts the resident pages of the reservation.
func residentPages(t *testing.T, m *memory) int {
	t.Helper()
	return residentIn(t, m.base, m.reserved)
}

// Only the pages a guest touches take memory: a 64 MiB maximum, grown to
// 16 MiB, with two bytes written, holds two pages.
func TestOnlyTouchedPagesAreResident(t *testing.T) {
	m := allocate(t, nil, 1024*wasmPage)
	b := m.Reallocate(256 * wasmPage)
	b[0], b[len(b)-1] = 1, 1
	if n := residentPages(t, m); n != 2 {
		t.Fatalf("%d pages resident, want 2", n)
	}
}

// perms returns the permissions of the mapping of /proc/self/maps that
// starts at addr, or "" when none does.
func perms(t *testing.T, addr uintptr) string {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%x-", addr)
	for _, line := range strings.Split(string(maps), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], prefix) {
			return f[1]
		}
	}
	return ""
}

func TestFreeReleasesTheReservation(t *testing.T) {
	a := New(nil)
	a.Close()
	m := a.Allocate(0, 16*wasmPage).(*memory)
	at := base(m.Reallocate(wasmPage))
	if p := perms(t, at); p != "rw-p" {
		t.Fatalf("the memory at %#x is mapped %q before Free, want rw-p", at, p)
	}
	if p := perms(t, at+wasmPage); p != "---p" {
		t.Fatalf("the reservation past the memory is mapped %q, want ---p", p)
	}
	m.Free()
	if perms(t, at) != "" {
		t.Fatalf("a mapping is still at %#x after Free", at)
	}
	m.Free() // a second Free does nothing
}

// A memory made after another was freed is zero, even where the kernel
// hands out the same addresses again, and two live memories never share a
// byte.
func TestFreshMemoryIsZeroAndPrivate(t *testing.T) {
	const size = 16 * wasmPage
	a := New(nil)
	a.Close() // nothing kept for reuse: every memory is a new mapping
	for i := range 20 {
		m := a.Allocate(0, size).(*memory)
		b := m.Reallocate(size)
		if at, ok := allZero(b); !ok {
			t.Fatalf("round %d: byte %d of a fresh memory is not zero", i, at)
		}
		other := allocate(t, nil, size)
		o := other.Reallocate(size)
		if base(o) < base(b)+size && base(b) < base(o)+size {
			t.Fatalf("round %d: two live memories overlap", i)
		}
		for j := range b {
			b[j] = 0xa5
		}
		if at, ok := allZero(o); !ok {
			t.Fatalf("round %d: a write to one memory shows at byte %d of another", i, at)
		}
		m.Free()
	}
}

// A freed memory is kept for the next one, which gets it zeroed, with
// only its own size accessible and none of its pages resident.
func TestReusedMemoryIsZero(t *testing.T) {
	a := New(nil)
	defer a.Close()
	for _, pages := range []uint64{4, 40} {
		m := a.Allocate(0, 64*wasmPage)
		b := m.Reallocate(pages * wasmPage)
		at := base(b)
		for i := range b {
			b[i] = 0xa5
		}
		m.Free()
		again := a.Allocate(0, 64*wasmPage)
		if n := residentPages(t, again.(*memory)); n != 0 {
			t.Fatalf("%d pages: a pooled reservation holds %d resident pages", pages, n)
		}
		b = again.Reallocate(wasmPage)
		if base(b) != at {
			t.Fatalf("%d pages: the freed reservation was not reused", pages)
		}
		if p := perms(t, at+wasmPage); p != "---p" {
			t.Fatalf("%d pages: a reused reservation is mapped %q past its new size, want ---p", pages, p)
		}
		b = again.Reallocate(64 * wasmPage)
		if i, ok := allZero(b); !ok {
			t.Fatalf("%d pages: byte %d of a reused memory is not zero", pages, i)
		}
		again.Free()
	}
}

// The pool keeps at most maxPooled reservations; Close releases them.
func TestPoolIsBounded(t *testing.T) {
	a := New(nil)
	var ms []experimental.LinearMemory
	for range maxPooled + 10 {
		m := a.Allocate(0, 8*wasmPage)
		b := m.Reallocate(4 * wasmPage)
		b[0] = 1
		ms = append(ms, m)
	}
	for _, m := range ms {
		m.Free()
	}
	if len(a.pool) != maxPooled {
		t.Fatalf("the pool holds %d reservations, want %d", len(a.pool), maxPooled)
	}
	bases := make([]uintptr, len(a.pool))
	for i, r := range a.pool {
		bases[i] = uintptr(r.base)
	}
	a.Close()
	for _, at := range bases {
		if perms(t, at) != "" {
			t.Fatalf("a pooled reservation at %#x is still mapped after Close", at)
		}
	}
	m := a.Allocate(0, 8*wasmPage)
	m.Reallocate(wasmPage)
	m.Free()
	if len(a.pool) != 0 {
		t.Fatal("a closed allocator kept a freed memory")
	}
}

func TestZeroMaximum(t *testing.T) {
	m := New(nil).Allocate(0, 0)
	defer m.Free()
	if b := m.Reallocate(0); b == nil || len(b) != 0 {
		t.Fatalf("Reallocate(0) = %v, want an empty slice", b)
	}
	if b := m.Reallocate(wasmPage); b != nil {
		t.Fatal("a memory of maximum 0 grew")
	}
}

// Where no reservation can be made the memory lives on the heap and
// behaves the same.
func TestHeapFallback(t *testing.T) {
	img, err := NewImage("t", []byte("snap"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	m := &memory{a: New(img), max: 4 * wasmPage}
	b := m.Reallocate(wasmPage)
	if string(b[:4]) != "snap" {
		t.Fatalf("a heap memory from an image starts %q", b[:4])
	}
	if at, ok := allZero(b[4:]); !ok {
		t.Fatalf("byte %d after the image is not zero", 4+at)
	}
	b[wasmPage-1] = 9
	b = m.Reallocate(3 * wasmPage)
	if string(b[:4]) != "snap" || b[wasmPage-1] != 9 || len(b) != 3*wasmPage {
		t.Fatal("growing a heap memory lost its content")
	}
	if m.Reallocate(5*wasmPage) != nil {
		t.Fatal("a heap memory grew past its maximum")
	}
	m.Free()
}

func TestImageIsSharedCopyOnWrite(t *testing.T) {
	data := bytes.Repeat([]byte("image!"), 3*wasmPage/6) // not a whole number of pages
	img, err := NewImage("t", data)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Len() != uint64(len(data)) {
		t.Fatalf("Len() = %d, want %d", img.Len(), len(data))
	}
	a, b := allocate(t, img, 16*wasmPage), allocate(t, img, 16*wasmPage)
	ma, mb := a.Reallocate(4*wasmPage), b.Reallocate(4*wasmPage)
	for _, m := range [][]byte{ma, mb} {
		if !bytes.Equal(m[:len(data)], data) {
			t.Fatal("a memory does not start with its image")
		}
		if at, ok := allZero(m[len(data):]); !ok {
			t.Fatalf("byte %d past the image is not zero", len(data)+at)
		}
	}
	// Pages read but not written are the image's own.
	if n := residentPages(t, a); n == 0 {
		t.Fatal("no page of the image is resident after reading it")
	}
	for i := range ma {
		ma[i] = 0xff
	}
	if !bytes.Equal(mb[:len(data)], data) {
		t.Fatal("a write to one memory reached another made from the same image")
	}
	got := make([]byte, len(data))
	if err := img.readAt(got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a write to a memory reached the image (err %v)", err)
	}
	// A memory made after the writes still starts from the image.
	c := allocate(t, img, 16*wasmPage)
	if !bytes.Equal(c.Reallocate(4 * wasmPage)[:len(data)], data) {
		t.Fatal("a later memory does not start from the image")
	}
	// Growing past the mapped image gives zero pages.
	g := b.Reallocate(16 * wasmPage)
	if at, ok := allZero(g[4*wasmPage:]); !ok {
		t.Fatalf("byte %d of pages grown after the image is not zero", 4*wasmPage+at)
	}
}

// A memory made from an image and written, once freed and reused, shows
// the image again and zeros past it.
func TestReusedImageMemoryIsTheImageAgain(t *testing.T) {
	data := bytes.Repeat([]byte{7}, wasmPage+100)
	img, err := NewImage("t", data)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	a := New(img)
	defer a.Close()
	m := a.Allocate(0, 16*wasmPage)
	b := m.Reallocate(8 * wasmPage)
	at := base(b)
	for i := range b {
		b[i] = 0xee
	}
	m.Free()
	again := a.Allocate(0, 16*wasmPage)
	b = again.Reallocate(2 * wasmPage)
	if base(b) != at {
		t.Fatal("the freed reservation was not reused")
	}
	if !bytes.Equal(b[:len(data)], data) {
		t.Fatal("a reused memory does not start with its image")
	}
	b = again.Reallocate(16 * wasmPage)
	if i, ok := allZero(b[len(data):]); !ok {
		t.Fatalf("byte %d past the image of a reused memory is not zero", len(data)+i)
	}
	again.Free()
}

func TestImageIsSealed(t *testing.T) {
	img, err := NewImage("t", []byte("sealed"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if _, err := unix.Pwrite(img.fd, []byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("writing to the image: %v, want EPERM", err)
	}
	if err := unix.Ftruncate(img.fd, 0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("truncating the image: %v, want EPERM", err)
	}
	if _, err := unix.MmapPtr(img.fd, 0, nil, uintptr(pageSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
		t.Fatal("the image could be mapped shared and writable")
	}
}

func TestImageMustFitTheInitialMemory(t *testing.T) {
	img, err := NewImage("t", make([]byte, 2*wasmPage))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if b := allocate(t, img, 16*wasmPage).Reallocate(wasmPage); b != nil {
		t.Fatal("a memory smaller than its image was made")
	}
	if b := allocate(t, img, wasmPage).Reallocate(wasmPage); b != nil {
		t.Fatal("an image larger than the reservation was mapped")
	}
}

// boundsWasm is, in the text format:
//
//	(module
//	  (memory (export "memory") 1 8)
//	  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
//	  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
//	  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
var boundsWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60,
	0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x03, 0x04, 0x03,
	0x00, 0x00, 0x01, 0x05, 0x04, 0x01, 0x01, 0x01, 0x08, 0x07, 0x20, 0x04,
	0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x67, 0x72,
	0x6f, 0x77, 0x00, 0x00, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x01, 0x05,
	0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x02, 0x0a, 0x1a, 0x03, 0x06, 0x00,
	0x20, 0x00, 0x40, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00,
	0x0b, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b,
}

// Under wazero, a guest reaches its memory's current size and no further,
// though the reservation behind it is its maximum: compiled code checks
// bounds against the length. Growth is in place.
func TestGuestSeesOnlyItsCurrentSize(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	a := New(nil)
	defer a.Close()
	mod, err := rt.InstantiateWithConfig(a.Context(ctx), boundsWasm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	call := func(name string, args ...uint64) ([]uint64, error) {
		return mod.ExportedFunction(name).Call(ctx, args...)
	}
	if _, err := call("load", wasmPage); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Fatalf("loading past the first page: %v, want out of bounds", err)
	}
	if _, err := call("store", wasmPage, 1); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Fatalf("storing past the first page: %v, want out of bounds", err)
	}
	mem, _ := mod.Memory().Read(0, 1)
	at := base(mem)
	if _, err := call("store", wasmPage-1, 7); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if res, err := call("grow", 1); err != nil || res[0] == 1<<32-1 {
			t.Fatalf("memory.grow: %v %v", res, err)
		}
	}
	if res, _ := call("grow", 1); uint32(res[0]) != 1<<32-1 {
		t.Fatalf("memory.grow past the maximum returned %d, want -1", int32(res[0]))
	}
	if res, err := call("load", wasmPage-1); err != nil || res[0] != 7 {
		t.Fatalf("after growing, byte %d = %v (%v), want 7", wasmPage-1, res, err)
	}
	if _, err := call("store", 8*wasmPage-1, 1); err != nil {
		t.Fatalf("storing in the last grown page: %v", err)
	}
	if _, err := call("load", 8*wasmPage); err == nil {
		t.Fatal("loading past the grown memory succeeded")
	}
	mem, _ = mod.Memory().Read(0, 1)
	if base(mem) != at {
		t.Fatal("growth moved the memory")
	}
}

// Resident counts the pages a memory wrote, its own copies of its
// image's pages included, and not the image's pages it only read.
func TestResidentCountsOnlyPrivatePages(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 4*wasmPage)
	img, err := NewImage("t", data)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	m := allocate(t, img, 16*wasmPage).Reallocate(8 * wasmPage)
	sum := 0
	for _, c := range m { // reads every page: the image's, then zero pages
		sum += int(c)
	}
	if sum != 7*len(data) {
		t.Fatalf("the memory does not hold its image")
	}
	want := func(pages int) {
		t.Helper()
		got, err := Resident(m)
		if err != nil {
			t.Fatal(err)
		}
		if got != int64(pages)*int64(pageSize) {
			t.Fatalf("Resident = %d bytes, want %d pages of %d", got, pages, pageSize)
		}
	}
	want(0)
	m[0], m[3*pageSize+1] = 1, 1 // two copies of image pages
	m[len(data)+5] = 1           // a page past the image
	m[len(m)-1] = 1              // the last page
	want(4)
	if got, err := Resident(m[:len(data)]); err != nil || got != 2*int64(pageSize) {
		t.Fatalf("Resident of the image part = %d (%v), want 2 pages", got, err)
	}
	if got, err := Resident(nil); err != nil || got != 0 {
		t.Fatalf("Resident(nil) = %d, %v", got, err)
	}
}

// Past the process's share of its mapping cap, memories live on the heap
// and work the same; a freed region gives its mappings back.
func TestRegionsStayUnderTheMappingCap(t *testing.T) {
	defer func(n int64) { mapBudget = n }(mapBudget)
	mapBudget = liveMaps.Load() + 2*2 // two regions without an image
	a := New(nil)
	defer a.Close()
	var ms []*memory
	for range 3 {
		m := a.Allocate(0, 4*wasmPage).(*memory)
		ms = append(ms, m)
	}
	if ms[0].base == nil || ms[1].base == nil {
		t.Fatal("a reservation under the cap failed")
	}
	if ms[2].base != nil {
		t.Fatal("a reservation past the cap was made")
	}
	b := ms[2].Reallocate(2 * wasmPage)
	if len(b) != 2*wasmPage {
		t.Fatalf("the heap memory past the cap has %d bytes, want %d", len(b), 2*wasmPage)
	}
	b[len(b)-1] = 7
	if b = ms[2].Reallocate(4 * wasmPage); b[2*wasmPage-1] != 7 {
		t.Fatal("growing the heap memory past the cap lost its content")
	}
	ms[2].Free()
	a.Close() // nothing pooled: freed regions are unmapped
	ms[0].Free()
	m := a.Allocate(0, 4*wasmPage).(*memory)
	defer m.Free()
	if m.base == nil {
		t.Fatal("a freed region did not give its mappings back")
	}
	ms[1].Free()

	// A region with an image costs three.
	img, err := NewImage("t", bytes.Repeat([]byte{1}, wasmPage))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	mapBudget = liveMaps.Load() + 2
	withImage := New(img)
	defer withImage.Close()
	im := withImage.Allocate(0, 4*wasmPage).(*memory)
	defer im.Free()
	if im.base != nil {
		t.Fatal("a region with an image took two mappings of the budget")
	}
	if b := im.Reallocate(wasmPage); len(b) != wasmPage || b[0] != 1 {
		t.Fatal("the heap memory past the cap does not start with the image")
	}
}

// The regions' budget leaves the rest of the process a quarter of the
// cap, and at least minHeadroom mappings.
func TestMappingBudget(t *testing.T) {
	for _, maps := range []int64{defaultMapCount, 262144, 1 << 20, 10000, 100} {
		n := mappingBudget(maps)
		if n < 0 || maps-n < min(maps, max(maps/headroomFraction, minHeadroom)) {
			t.Errorf("cap %d: a budget of %d mappings leaves too few", maps, n)
		}
	}
	if n := mappingBudget(defaultMapCount) / 3; n < 10000 {
		t.Errorf("the default cap allows only %d regions with an image", n)
	}
	if got := mappingBudget(readMaxMapCount()); got != mapBudget {
		t.Errorf("mapBudget is %d, want %d from the system's cap", mapBudget, got)
	}
}
