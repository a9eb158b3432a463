//go:build !linux

package linmem

import "context"

// Image is an initial content for linear memories; it cannot be made
// here.
type Image struct{}

// NewImage fails: images need Linux.
func NewImage(name string, data []byte) (*Image, error) { return nil, ErrUnsupported }

// Len returns 0.
func (img *Image) Len() uint64 { return 0 }

// Close does nothing.
func (img *Image) Close() error { return nil }

// Allocator stands for the Linux allocator; only its nil value exists
// here, which leaves wazero's own memories in place.
type Allocator struct{}

// New returns nil: wazero's own memories.
func New(img *Image) *Allocator { return nil }

// Context returns ctx.
func (a *Allocator) Context(ctx context.Context) context.Context { return ctx }

// Close does nothing.
func (a *Allocator) Close() {}

// Resident fails: it needs Linux's page map.
func Resident(mem []byte) (int64, error) { return 0, ErrUnsupported }

// MaxHot is the most pages SetHot keeps.
const MaxHot = 64

// SetHot does nothing: there are no images here.
func (a *Allocator) SetHot(pages []uint32) {}

// Hot returns nil.
func (a *Allocator) Hot() []uint32 { return nil }

// Own fails: it needs Linux's page map.
func Own(mem []byte) ([]uint32, error) { return nil, ErrUnsupported }
