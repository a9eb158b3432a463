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
// unmaps the reservation, so no region ever serves two instances.
//
// An Image is an initial memory content kept in a sealed memfd: a memory
// allocated with it maps the image copy-on-write over its first bytes, so
// pages a guest only reads are shared between all memories made from the
// image and its writes stay private.
//
// Elsewhere than Linux, New returns nil, which leaves wazero's default
// allocator in place, and NewImage fails with ErrUnsupported.
package linmem

import "errors"

// ErrUnsupported is NewImage's error where images cannot be made.
var ErrUnsupported = errors.New("linmem: memory images need Linux")
