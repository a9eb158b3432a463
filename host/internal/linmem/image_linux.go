package linmem

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Image is an immutable initial content for linear memories: a sealed
// memfd that memories map copy-on-write, so that every memory made from it
// shares the pages it does not write. Its pages cannot change: the memfd
// is sealed against writes, growth and shrinking.
type Image struct {
	fd     int
	size   uint64 // bytes of content
	mapLen uint64 // size rounded up to whole OS pages: what is mapped
}

// NewImage makes an image holding a copy of data.
func NewImage(name string, data []byte) (*Image, error) {
	fd, err := unix.MemfdCreate("wactor-image-"+name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("linmem: creating a memfd: %w", err)
	}
	img := &Image{fd: fd, size: uint64(len(data)), mapLen: roundUp(uint64(len(data)))}
	if err := img.fill(data); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return img, nil
}

// fill writes the pages of data that are not all zeros, then seals the
// memfd. Its size is data's, rounded up to whole pages so that no mapped
// page lies past its end; the pages of zeros are left as holes, which
// read as zeros. A hole enters the memfd's page cache only when a memory
// reads or writes that very page (then as a page of zeros shared by all
// memories, as any other); fault-around, which maps the cached pages next
// to one a memory faults in, skips holes, so pages of zeros a memory
// never touches are not mapped into it, nor counted in its process's
// resident memory.
func (img *Image) fill(data []byte) error {
	if err := unix.Ftruncate(img.fd, int64(img.mapLen)); err != nil {
		return fmt.Errorf("linmem: sizing the image: %w", err)
	}
	for off := 0; off < len(data); off += int(pageSize) {
		page := data[off:min(off+int(pageSize), len(data))]
		if isZero(page) {
			continue
		}
		for done := 0; done < len(page); {
			n, err := unix.Pwrite(img.fd, page[done:], int64(off+done))
			if err != nil {
				return fmt.Errorf("linmem: writing the image: %w", err)
			}
			done += n
		}
	}
	const seals = unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(img.fd), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("linmem: sealing the image: %w", err)
	}
	return nil
}

// mapAt maps the image copy-on-write at base, replacing what was there.
func (img *Image) mapAt(base unsafe.Pointer) error {
	_, err := unix.MmapPtr(img.fd, 0, base, uintptr(img.mapLen), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("linmem: mapping the image: %w", err)
	}
	return nil
}

// Len returns the size of the image's content in bytes.
func (img *Image) Len() uint64 { return img.size }

// readAt fills p from the start of the image, for a memory that could not
// map it.
func (img *Image) readAt(p []byte) error {
	for off := 0; off < len(p); {
		n, err := unix.Pread(img.fd, p[off:], int64(off))
		if err != nil {
			return fmt.Errorf("linmem: reading the image: %w", err)
		}
		if n == 0 {
			return errors.New("linmem: image shorter than its size")
		}
		off += n
	}
	return nil
}

// Close releases the image's file descriptor. Memories already made from
// it keep their mappings; no memory may be allocated from it afterwards.
func (img *Image) Close() error {
	return unix.Close(img.fd)
}
