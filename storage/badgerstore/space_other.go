//go:build !unix

package badgerstore

import (
	"io/fs"
	"math"
)

// freeSpace reports no limit: outside unix the store does not measure the
// disk, and a full disk may still stop the process.
func freeSpace(string) (int64, error) { return math.MaxInt64, nil }

// allocated returns fi's size.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }
