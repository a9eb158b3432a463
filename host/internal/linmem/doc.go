// Package linmem backs WebAssembly linear memories with reserved virtual
// address space that grows in place.
//
// wazero's default linear memory is a Go slice: each memory.grow past its
// capacity allocates a larger slice and copies the whole memory, and the
// garbage collector counts every byte of it as heap. On Linux, an
// Allocator instead reserves the memory's maximum size at once
// (mmap PROT_NONE, MAP_NORESERVE: address space, no memory) and makes pages
// readable and writable (mprotect) as the memory grows: the memory never
// moves, growth never copies, new pages are zero because they are fresh
// anonymous pages, and only the pages a guest touches are resident. Free
// drops the pages of a reservation before it serves another memory, so no
// memory ever sees another's bytes.
//
// A small memory without an image (an initial size of at most 4 MiB)
// starts instead in a slot of a slab: one readable and writable mapping
// holding many memories of an allocator side by side, each slot twice the
// memory's initial size and at least 1 MiB. Starting one costs no system
// call, and a whole slab is one of the process's mappings. The memory
// grows in place within its slot; one that outgrows it moves once to a
// reservation of its own, its written pages copied, and grows there.
// A freed slot is made zero before the next memory starts in it: the
// pages its memory wrote are cleared in place and kept for the next
// memory (up to 16 slots per slot size, found by the page map), or
// dropped (MADV_DONTNEED).
//
// An Image is an initial memory content kept in a sealed memfd: a memory
// allocated with it maps the image copy-on-write over its first bytes, so
// pages a guest only reads are shared between all memories made from the
// image and its writes stay private. The image's pages of zeros are holes
// of the memfd: the kernel, which maps the cached pages around one a
// memory faults in (fault-around), skips them, so they are mapped into a
// memory, and counted in the process's resident memory, only when it
// touches them. The pages an allocator is told are written first
// (SetHot: the host learns them from an instance it measures) are copied
// into each new memory as soon as it is mapped, by a write that changes
// nothing: one fault each, where the guest's first read of a page and of
// its neighbours, then its write, would fault twice and map more of the
// image. Own lists the pages of a memory that are its alone.
//
// Elsewhere than Linux, New returns nil, which leaves wazero's default
// allocator in place, and NewImage fails with ErrUnsupported.
package linmem

import "errors"

// ErrUnsupported is NewImage's error where images cannot be made.
var ErrUnsupported = errors.New("linmem: memory images need Linux")
